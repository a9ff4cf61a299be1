import Core
import Foundation
@testable import Gateway
import Testing
import Transport

@Suite struct HTTPEndpointTests {
    func request(_ port: UInt16, _ text: String) async throws -> String {
        let connection = try await Connection.connect(host: "127.0.0.1", port: port, logger: .disabled)
        defer { connection.close() }
        try await connection.write(Array(text.utf8))
        var reply: [UInt8] = []
        while true {
            let chunk = try await connection.read()
            if chunk.isEmpty { break }
            reply += chunk
        }
        return String(decoding: reply, as: UTF8.self)
    }

    @Test func answersKnownPathsAndRefusesTheRest() async throws {
        let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0, limits: .patient, logger: .disabled) { path in
            path == "/healthz" ? .init(body: "ok\n") : nil
        }
        let server = Task { await endpoint.run() }
        defer {
            endpoint.close()
            server.cancel()
        }
        let ok = try await request(endpoint.port, "GET /healthz?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(ok.contains("Content-Length: 3\r\n"))
        #expect(ok.hasSuffix("\r\n\r\nok\n"))
        let head = try await request(endpoint.port, "HEAD /healthz HTTP/1.0\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK") && head.hasSuffix("\r\n\r\n"), "HEAD has no body")
        #expect(try await request(endpoint.port, "GET /secret HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        let post = try await request(endpoint.port, "POST /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405") && post.contains("Allow: GET, HEAD\r\n"))
        #expect(try await request(endpoint.port, "\u{1}\u{2}garbage\r\n\r\n").hasPrefix("HTTP/1.1 400"))
    }

    @Test func prometheusTextEscapesLabels() {
        var text = PrometheusText()
        text.add("switchboard_tickets_open", type: "gauge", help: "Open tickets by priority.",
                 samples: [([("priority", "P1")], 2), ([("network", "a\"b\\c\nd")], 0.5)])
        #expect(text.rendered == """
            # HELP switchboard_tickets_open Open tickets by priority.
            # TYPE switchboard_tickets_open gauge
            switchboard_tickets_open{priority="P1"} 2
            switchboard_tickets_open{network="a\\"b\\\\c\\nd"} 0.5

            """)
    }
}

extension HTTPServerLimits {
    /// The defaults, but deadlines no loaded test machine reaches, for wire
    /// tests on the system clock that are not about deadlines. With the 5 s
    /// request deadline, a run that starves the server's task for longer has
    /// the request cut off unread, and closing with unread bytes resets the
    /// connection: the likely cause of one "read: Connection reset by peer" in
    /// `StatusPageAccessTests` under a load of 14 on 2 cores.
    static let patient = HTTPServerLimits(requestTimeout: .seconds(300), idleTimeout: .seconds(300),
                                          writeTimeout: .seconds(300))
}
