import Testing
@testable import HTTPClient

/// The response parser alone: bytes in, parts out (RFC 9112).
@Suite struct HTTPResponseParserTests {
    @Test func aContentLengthResponseParses() throws {
        let response = try parseWhole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        #expect(response.status == 200)
        #expect(response.bodyText == "hello")
    }
}

/// Feeds `text` in one piece and finishes; returns the assembled response.
func parseWhole(_ text: String, head: Bool = false) throws -> HTTPResponse {
    var parser = HTTPResponseParser(isResponseToHead: head)
    var parts = try parser.feed(Array(text.utf8))
    if !parser.isComplete { parts += try parser.finish() }
    return assemble(parts)
}

func assemble(_ parts: [HTTPResponsePart]) -> HTTPResponse {
    var response = HTTPResponse(status: 0)
    for part in parts {
        switch part {
        case .informational: break
        case .head(let head):
            response.status = head.status
            response.reason = head.reason
            response.headers = head.headers
        case .body(let bytes): response.body += bytes
        case .end(let trailers): response.trailers = trailers
        }
    }
    return response
}
