import Foundation
import Testing
@testable import HTTPClient

/// Requests as they go on the wire (RFC 9112 §3): request line, Host,
/// framing, and what is refused before anything is sent.
@Suite struct PreparedRequestTests {
    func wire(_ request: HTTPRequest, userAgent: String? = nil) throws -> String {
        String(decoding: try PreparedRequest(request, userAgent: userAgent).bytes, as: UTF8.self)
    }

    @Test func aPutWithBodyIsFramedByContentLength() throws {
        let request = HTTPRequest(
            method: .put, url: URL(string: "https://matrix.example/_matrix/client/v3/rooms/%21r%3Ax/send/m.room.message/t1")!,
            headers: ["Authorization": "Bearer tok", "Content-Type": "application/json"], body: Array("{\"a\":1}".utf8))
        #expect(try wire(request, userAgent: "Switchboard") == """
            PUT /_matrix/client/v3/rooms/%21r%3Ax/send/m.room.message/t1 HTTP/1.1\r
            Host: matrix.example\r
            User-Agent: Switchboard\r
            Authorization: Bearer tok\r
            Content-Type: application/json\r
            Content-Length: 7\r
            \r
            {"a":1}
            """)
    }

    @Test func theQueryIsSentTheFragmentIsNotAndAnOtherPortIsInHost() throws {
        let request = HTTPRequest(url: URL(string: "http://127.0.0.1:8008/_matrix/client/v3/sync?since=s72&timeout=30000#frag")!)
        #expect(try wire(request) == "GET /_matrix/client/v3/sync?since=s72&timeout=30000 HTTP/1.1\r\nHost: 127.0.0.1:8008\r\n\r\n")
        let origin = try PreparedRequest(request, userAgent: nil).origin
        #expect(origin == Origin(secure: false, host: "127.0.0.1", port: 8008))
    }

    @Test func anIPv6HostIsBracketedInHostAndBareForConnecting() throws {
        let prepared = try PreparedRequest(HTTPRequest(url: URL(string: "https://[::1]:8448/")!), userAgent: nil)
        #expect(prepared.origin == Origin(secure: true, host: "::1", port: 8448))
        #expect(String(decoding: prepared.bytes, as: UTF8.self) == "GET / HTTP/1.1\r\nHost: [::1]:8448\r\n\r\n")
    }

    @Test func anEmptyPathIsTheRootAndTheDefaultPortIsNotShown() throws {
        #expect(try wire(HTTPRequest(url: URL(string: "https://matrix.example:443")!)) ==
            "GET / HTTP/1.1\r\nHost: matrix.example\r\n\r\n")
        #expect(try wire(HTTPRequest(method: .delete, url: URL(string: "http://h")!)) ==
            "DELETE / HTTP/1.1\r\nHost: h\r\n\r\n")
    }

    @Test func aRequestsOwnUserAgentWins() throws {
        let request = HTTPRequest(url: URL(string: "http://h/")!, headers: ["user-agent": "Mine/1"])
        #expect(try wire(request, userAgent: "Switchboard") == "GET / HTTP/1.1\r\nHost: h\r\nuser-agent: Mine/1\r\n\r\n")
    }

    @Test func framingHeadersAreTheClientsAlone() throws {
        for name in ["Host", "content-length", "Transfer-Encoding", "CONNECTION"] {
            #expect(throws: HTTPClientError.self) {
                try PreparedRequest(HTTPRequest(url: URL(string: "http://h/")!, headers: [name: "x"]), userAgent: nil)
            }
        }
    }

    @Test func credentialsInTheURLAreRefusedAndNotRepeatedInTheError() throws {
        let url = URL(string: "https://bot:hunter2@matrix.example/_matrix/client/v3/login?access_token=abc")!
        do {
            _ = try PreparedRequest(HTTPRequest(url: url), userAgent: nil)
            Issue.record("credentials in the URL were accepted")
        } catch let error as HTTPClientError {
            #expect(error == .invalidURL("https://matrix.example/_matrix/client/v3/login (credentials removed)",
                                         reason: "credentials in the URL are not sent; use an Authorization header"))
            #expect(!error.description.contains("hunter2") && !error.description.contains("abc"))
        }
    }

    @Test func theSummaryLeavesOutTheQuery() {
        let request = HTTPRequest(url: URL(string: "https://m.example/_matrix/client/v3/sync?access_token=secret")!)
        #expect(request.summary == "GET https://m.example/_matrix/client/v3/sync")
    }
}
