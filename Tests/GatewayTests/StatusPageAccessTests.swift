import Core
import Foundation
@testable import Gateway
import Testing
import Transport

/// Who may read the status page (issue 13): the token as a bearer header or
/// a login session, compared in constant time; the headers every answer
/// carries; the login form's small body.
@Suite struct StatusPageAccessTests {
    func request(_ path: String, _ headers: [HTTPHeader] = [], method: String = "GET", body: String = "") -> HTTPRequest {
        HTTPRequest(method: method, target: path, path: path, query: nil, minorVersion: 1, headers: headers,
                    body: Array(body.utf8))
    }

    @Test func theBearerTokenMustMatchExactly() {
        let access = HTTPAccess(token: "s3cret-token", clock: ManualClock())
        #expect(access.authorizes(request("/", [HTTPHeader("Authorization", "Bearer s3cret-token")])))
        #expect(access.authorizes(request("/", [HTTPHeader("authorization", "bearer s3cret-token")])))
        for wrong in ["Bearer s3cret", "Bearer s3cret-token2", "Bearer ", "Basic s3cret-token", "s3cret-token"] {
            #expect(!access.authorizes(request("/", [HTTPHeader("Authorization", wrong)])), "\(wrong)")
        }
        #expect(!access.authorizes(request("/")))
        #expect(HTTPAccess(token: nil).authorizes(request("/")), "no token configured: loopback, open")
        #expect(HTTPAccess.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!HTTPAccess.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!HTTPAccess.constantTimeEquals(Array("abc".utf8), Array("abc\0".utf8)))
        #expect(!HTTPAccess.constantTimeEquals([], Array("a".utf8)))
    }

    @Test func theLoginSetsAnHttpOnlyStrictSessionThatExpires() {
        let clock = ManualClock()
        let access = HTTPAccess(token: "s3cret-token", clock: clock)
        #expect(access.logIn(with: "s3cret-toke") == nil)
        let cookie = try! #require(access.logIn(with: "s3cret-token"))
        #expect(cookie.hasPrefix("switchboard_session=") && cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"))
        #expect(!cookie.contains("s3cret"), "the cookie is a session id, never the token")
        let session = String(cookie.prefix { $0 != ";" })
        #expect(access.authorizes(request("/", [HTTPHeader("Cookie", "theme=dark; \(session)")])))
        #expect(!access.authorizes(request("/", [HTTPHeader("Cookie", "switchboard_session=0000")])))
        clock.advance(by: .seconds(12 * 3600))
        #expect(!access.authorizes(request("/", [HTTPHeader("Cookie", session)])), "sessions end after 12 hours")
        #expect(HTTPAccess.formValue("token", in: Array("a=1&token=x%2By+z&b=2".utf8)) == "x+y z")
    }

    @Test func everyAnswerCarriesTheSecurityHeadersAndTheLoginFormWorksOverTheWire() async throws {
        let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0, limits: .patient, logger: .disabled,
                                        access: HTTPAccess(token: "s3cret-token"),
                                        pages: { $0.path == "/" ? HTTPResponse(body: "the page") : nil }) { path in
            path == "/healthz" ? .init(body: "ok\n") : nil
        }
        let server = Task { await endpoint.run() }
        defer {
            endpoint.close()
            server.cancel()
        }
        func send(_ text: String) async throws -> String {
            let connection = try await Connection.connect(host: "127.0.0.1", port: endpoint.port, logger: .disabled)
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
        let denied = try await send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(denied.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        #expect(denied.contains("WWW-Authenticate: Bearer realm=\"switchboard\"\r\n"))
        #expect(!denied.contains("the page"))
        for reply in [denied,
                      try await send("GET /nothing HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\nConnection: close\r\n\r\n"),
                      try await send("GET /static/status.js HTTP/1.1\r\nConnection: close\r\n\r\n")] {
            #expect(reply.contains("\r\nContent-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';"),
                    "\(reply.prefix(300))")
            #expect(reply.contains("\r\nX-Content-Type-Options: nosniff\r\n"))
        }
        let ok = try await send("GET / HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\nConnection: close\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK") && ok.hasSuffix("the page"))

        // The form's body, sent in the same packet as the head or after it.
        let login = try await send("POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: 18\r\nConnection: close\r\n\r\ntoken=s3cret-token")
        #expect(login.hasPrefix("HTTP/1.1 303 See Other\r\n") && login.contains("\r\nLocation: /\r\n"), "\(login)")
        let cookie = try #require(login.split(separator: "\r\n").first { $0.hasPrefix("Set-Cookie: ") })
        let session = cookie.dropFirst("Set-Cookie: ".count).prefix { $0 != ";" }
        #expect(try await send("GET / HTTP/1.1\r\nCookie: \(session)\r\nConnection: close\r\n\r\n").hasSuffix("the page"))
        let wrong = try await send("POST /login HTTP/1.1\r\nContent-Length: 11\r\nConnection: close\r\n\r\ntoken=guess")
        #expect(wrong.hasPrefix("HTTP/1.1 401") && !wrong.contains("Set-Cookie"))
        let huge = try await send("POST /login HTTP/1.1\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
        #expect(huge.hasPrefix("HTTP/1.1 413 Content Too Large"), "a body beyond the bound is refused before it is read")
        let elsewhere = try await send("POST / HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\nContent-Length: 1\r\n"
            + "Connection: close\r\n\r\nx")
        #expect(elsewhere.hasPrefix("HTTP/1.1 405"), "POST only for the login form")
    }

    @Test func requestBodiesAreParsedOnlyWithinTheirBound() {
        func status(_ head: String, max: Int) -> Int {
            switch HTTPServer.parse(Array(head.utf8), maxBodyBytes: max) {
            case .success: 200
            case .failure(let refusal): refusal.response.status
            }
        }
        #expect(status("POST /login HTTP/1.1\r\nContent-Length: 5\r\n\r\n", max: 0) == 400)
        #expect(status("POST /login HTTP/1.1\r\nContent-Length: 5\r\n\r\n", max: 16) == 200)
        #expect(status("POST /login HTTP/1.1\r\nContent-Length: 17\r\n\r\n", max: 16) == 413)
        #expect(status("POST /login HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", max: 16) == 400)
        #expect(status("POST /login HTTP/1.1\r\nContent-Length: -1\r\n\r\n", max: 16) == 400)
        #expect(status("POST /login HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", max: 16) == 400)
    }
}
