import Testing
@testable import HTTPClient

/// The response parser alone: bytes in, parts out (RFC 9112). Every
/// well-formed response is also fed split at every byte position and one byte
/// at a time, and must give the same response.
@Suite struct HTTPResponseParserTests {
    static let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        + "5;name=value\r\n{\"a\":\r\n"
        + "A ; ext\t\r\n1234567890\r\n"
        + "3\r\n}\r\n\r\n"
        + "0;last\r\nX-Checksum: abc\r\nX-Other:  two words \r\n\r\n"

    @Test func aContentLengthBodyIsReadExactlyAtEverySplit() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
        let outcome = try parseAtEverySplit(text)
        #expect(outcome.response.status == 200)
        #expect(outcome.response.reason == "OK")
        #expect(outcome.response.headers["content-type"] == "text/plain")
        #expect(outcome.response.bodyText == "hello world")
        #expect(outcome.reusable)
    }

    @Test func aChunkedBodyWithExtensionsAndTrailersIsJoinedAtEverySplit() throws {
        let outcome = try parseAtEverySplit(Self.chunked)
        #expect(outcome.response.bodyText == "{\"a\":1234567890}\r\n")
        #expect(outcome.response.trailers["x-checksum"] == "abc")
        #expect(outcome.response.trailers["X-OTHER"] == "two words")
        #expect(outcome.response.headers["Transfer-Encoding"] == "chunked")
        #expect(outcome.reusable)
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let text = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n"
        let outcome = try parseAtEverySplit(text)
        #expect(outcome.response.bodyText == "ok")
        #expect(outcome.reusable)
    }

    @Test func interimResponsesAreReportedAndTheFinalOneFollows() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"
        let outcome = try parseAtEverySplit(text)
        #expect(outcome.response.status == 201)
        #expect(outcome.response.bodyText == "{}")
        var parser = HTTPResponseParser()
        let parts = try parser.feed(Array(text.utf8))
        #expect(parts.first == .informational(HTTPResponseHead(status: 100, reason: "Continue")))
        #expect(parts.filter { if case .informational = $0 { true } else { false } }.count == 2)
    }

    @Test func responsesWithoutBodyEndAtTheirHead() throws {
        // RFC 9112 §6.3: 204 and 304 never have a body, whatever the headers say;
        // nor does the response to HEAD.
        for text in ["HTTP/1.1 204 No Content\r\nContent-Length: 42\r\n\r\n",
                     "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n",
                     "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"] {
            var parser = HTTPResponseParser()
            let parts = try parser.feed(Array(text.utf8))
            #expect(parser.isComplete && parser.isReusable, "\(text)")
            #expect(assemble(parts).body.isEmpty)
        }
        var head = HTTPResponseParser(isResponseToHead: true)
        _ = try head.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".utf8))
        #expect(head.isComplete && head.isReusable)
        // Without HEAD, the same response waits for its 1000 bytes.
        var get = HTTPResponseParser()
        _ = try get.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".utf8))
        #expect(!get.isComplete)
    }

    @Test func aBodyUntilTheEndOfTheStreamIsCompleteOnlyAtTheEnd() throws {
        let text = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>all of it</p>"
        let outcome = try parseAtEverySplit(text)
        #expect(outcome.response.bodyText == "<p>all of it</p>")
        #expect(!outcome.reusable)
    }

    @Test func aServerClosingMidBodyIsAnErrorNotATruncatedResponse() throws {
        let cases = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "after 5 of 10 body bytes"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "in a chunked body, after 3 body bytes"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "in a chunked body"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: b\r\n", "trailer section"),
            ("HTTP/1.1 200 OK\r\nContent-Le", "in the header section"),
        ]
        for (text, detail) in cases {
            var parser = HTTPResponseParser()
            _ = try parser.feed(Array(text.utf8))
            #expect(!parser.isComplete)
            do {
                _ = try parser.finish()
                Issue.record("a stream ending in the response was accepted: \(text.debugDescription)")
            } catch let error as HTTPClientError {
                guard case .connectionClosedMidResponse(let text) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(text.contains(detail), "\(text)")
                #expect(error.description.contains("closed the connection in the middle of the response"))
            }
        }
    }

    @Test func aStreamEndingBeforeAnyByteSaysSo() throws {
        var parser = HTTPResponseParser()
        #expect(throws: HTTPClientError.connectionClosedBeforeResponse("no byte of the response arrived")) {
            try parser.finish()
        }
    }

    @Test(arguments: [
        "HTTP/1.1 OK\r\n\r\n",
        "SSH-2.0-OpenSSH_9.6\r\n\r\n",
        "<html><body>hello</body></html>\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\u{1}\r\n\r\n",
    ])
    func garbageStatusLinesAreMalformed(_ text: String) throws {
        try expectMalformed(text, containing: "status line")
    }

    @Test func otherVersionsAreRefusedByName() throws {
        try expectMalformed("HTTP/2.0 200 OK\r\n\r\n", containing: "unsupported version")
        try expectMalformed("HTTP/3 200\r\n\r\n", containing: "unsupported version")
    }

    @Test func aStatusLineWithoutReasonIsAccepted() throws {
        let outcome = try parseAtEverySplit("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        #expect(outcome.response.status == 200 && outcome.response.reason == "")
    }

    @Test func badHeaderLinesAreMalformed() throws {
        try expectMalformed("HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\n\r\n", containing: "obsolete line folding")
        try expectMalformed("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", containing: "not a token")
        try expectMalformed("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", containing: "has no colon")
        try expectMalformed("HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\n\r\n", containing: "control characters")
        try expectMalformed("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", containing: "control characters")
        try expectMalformed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", containing: "101")
    }

    @Test func badOrConflictingContentLengthsAreMalformed() throws {
        for value in ["abc", "-1", "1e3", "", "5, 6", "99999999999999999999", "+5"] {
            try expectMalformed("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\nhello", containing: "Content-Length")
        }
        try expectMalformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                            containing: "Content-Length")
        // The same value twice is one length (RFC 9110 §8.6).
        let outcome = try parseAtEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello")
        #expect(outcome.response.bodyText == "hello")
    }

    @Test func badChunksAreMalformed() throws {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        try expectMalformed(head + "zz\r\nhello\r\n0\r\n\r\n", containing: "no hexadecimal size")
        try expectMalformed(head + "5 x\r\nhello\r\n0\r\n\r\n", containing: "not a size and extensions")
        try expectMalformed(head + "1000000000000000\r\n", containing: "too large")
        try expectMalformed(head + "3\r\nhello\r\n0\r\n\r\n", containing: "longer than its size")
        try expectMalformed(head + "5\r\nhello\rX0\r\n\r\n", containing: "no line end after a chunk")
        try expectMalformed(head + String(repeating: "1", count: 5000), containing: "chunk size line longer")
    }

    @Test func transferEncodingWinsOverContentLengthAndTheConnectionIsNotReused() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        let outcome = try parseAtEverySplit(text)
        #expect(outcome.response.bodyText == "ok")
        #expect(!outcome.reusable)
    }

    @Test func connectionReuseFollowsVersionAndConnectionHeader() throws {
        #expect(try parseAtEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").reusable)
        #expect(try !parseAtEverySplit("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").reusable)
        #expect(try !parseAtEverySplit("HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\nContent-Length: 0\r\n\r\n").reusable)
        #expect(try !parseAtEverySplit("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reusable)
        #expect(try parseAtEverySplit("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").reusable)
        // Bytes after the response: the stream is out of step.
        var parser = HTTPResponseParser()
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n".utf8))
        #expect(parser.isComplete && !parser.isReusable)
        var later = HTTPResponseParser()
        _ = try later.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
        #expect(later.isReusable)
        _ = try later.feed([0x48])
        #expect(!later.isReusable)
    }

    @Test func aHeaderSectionAboveTheLimitIsRefusedAtEverySplit() throws {
        let limits = HTTPResponseLimits(maxHeaderBytes: 200, maxBodyBytes: 1000)
        let big = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 300) + "\r\nContent-Length: 0\r\n\r\n"
        try expectErrorAtEverySplit(big, limits: limits, .headersTooLarge(limit: 200))
        // Just below the limit passes, also when the body follows in the same bytes.
        let fits = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 130) + "\r\nContent-Length: 300\r\n\r\n"
        #expect(fits.utf8.count <= 200)
        let outcome = try parseAtEverySplit(fits + String(repeating: "b", count: 300), limits: limits)
        #expect(outcome.response.body.count == 300)
        // The trailer section has the same limit.
        let trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + String(repeating: "t", count: 250) + "\r\n\r\n"
        try expectErrorAtEverySplit(trailers, limits: limits, .headersTooLarge(limit: 200))
    }

    @Test func aBodyAboveTheLimitIsRefused() throws {
        let limits = HTTPResponseLimits(maxHeaderBytes: 1000, maxBodyBytes: 100)
        // Announced: refused at the head, before any body byte.
        var announced = HTTPResponseParser(limits: limits)
        #expect(throws: HTTPClientError.bodyTooLarge(limit: 100, announced: 10_485_760)) {
            try announced.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n".utf8))
        }
        // Chunked: refused at the chunk that crosses the limit.
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n" + String(repeating: "a", count: 50)
            + "\r\n33\r\n" + String(repeating: "b", count: 51) + "\r\n0\r\n\r\n"
        try expectErrorAtEverySplit(chunked, limits: limits, .bodyTooLarge(limit: 100, announced: nil))
        // Until the end of the stream.
        let open = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + String(repeating: "c", count: 101)
        try expectErrorAtEverySplit(open, limits: limits, .bodyTooLarge(limit: 100, announced: nil))
        // Exactly the limit passes.
        let exact = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "d", count: 100)
        #expect(try parseAtEverySplit(exact, limits: limits).response.body.count == 100)
    }

    @Test func theDefaultLimitRefusesATenMegabyteBody() throws {
        var parser = HTTPResponseParser()
        #expect(parser.limits.maxBodyBytes == 8 * 1024 * 1024)
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        let chunk = Array("100000\r\n".utf8) + [UInt8](repeating: 0x61, count: 0x100000) + Array("\r\n".utf8)
        var fed = 0
        do {
            for _ in 0..<10 {
                _ = try parser.feed(chunk)
                fed += 1
            }
            Issue.record("10 MiB were accepted")
        } catch let error as HTTPClientError {
            #expect(error == .bodyTooLarge(limit: 8 * 1024 * 1024, announced: nil))
            #expect(fed == 8)
            #expect(error.description == "the response body is larger than the limit of 8388608 bytes")
        }
        // And after the error, every call says it again.
        #expect(throws: HTTPClientError.bodyTooLarge(limit: 8 * 1024 * 1024, announced: nil)) { try parser.feed([1]) }
    }

    @Test func headerLookupIgnoresCaseAndKeepsEveryValue() throws {
        let text = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nCONTENT-length: 0\r\n\r\n"
        let response = try parseWhole(text)
        #expect(response.headers["SET-COOKIE"] == "a=1")
        #expect(response.headers.values(for: "Set-Cookie") == ["a=1", "b=2"])
        #expect(response.headers.fields.map(\.name) == ["Set-Cookie", "set-cookie", "CONTENT-length"])
    }
}

/// The outcome of a complete parse.
struct ParseOutcome: Equatable {
    var response: HTTPResponse
    var reusable: Bool
}

/// Feeds `text` in one piece and finishes; returns the assembled response.
func parseWhole(_ text: String, head: Bool = false) throws -> HTTPResponse {
    var parser = HTTPResponseParser(isResponseToHead: head)
    var parts = try parser.feed(Array(text.utf8))
    if !parser.isComplete { parts += try parser.finish() }
    return assemble(parts)
}

/// Feeds `bytes` in pieces cut at `cuts`, then finishes if incomplete.
func parse(_ bytes: [UInt8], cuts: [Int], limits: HTTPResponseLimits = HTTPResponseLimits()) throws -> ParseOutcome {
    var parser = HTTPResponseParser(limits: limits)
    var parts: [HTTPResponsePart] = []
    var start = 0
    for cut in cuts + [bytes.count] {
        parts += try parser.feed(bytes[start..<cut])
        start = cut
    }
    if !parser.isComplete { parts += try parser.finish() }
    return ParseOutcome(response: assemble(parts), reusable: parser.isReusable)
}

/// Parses `text` whole, split in two at every position, and byte by byte;
/// every way must give the same outcome, which is returned.
func parseAtEverySplit(_ text: String, limits: HTTPResponseLimits = HTTPResponseLimits(),
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> ParseOutcome {
    let bytes = Array(text.utf8)
    let whole = try parse(bytes, cuts: [], limits: limits)
    for cut in 1..<bytes.count {
        let split = try parse(bytes, cuts: [cut], limits: limits)
        #expect(split == whole, "split at \(cut)", sourceLocation: sourceLocation)
    }
    let single = try parse(bytes, cuts: Array(1..<bytes.count), limits: limits)
    #expect(single == whole, "byte by byte", sourceLocation: sourceLocation)
    return whole
}

/// Every split of `text` must fail with `expected`.
func expectErrorAtEverySplit(_ text: String, limits: HTTPResponseLimits, _ expected: HTTPClientError,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
    let bytes = Array(text.utf8)
    for cuts in [[]] + (1..<bytes.count).map({ [$0] }) + [Array(1..<bytes.count)] {
        #expect(throws: expected, "cuts \(cuts.prefix(2))", sourceLocation: sourceLocation) {
            try parse(bytes, cuts: cuts, limits: limits)
        }
    }
}

/// `text` must fail as malformed, with `fragment` in the reason, whole and byte by byte.
func expectMalformed(_ text: String, containing fragment: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    let bytes = Array(text.utf8)
    for cuts in [[], Array(1..<max(1, bytes.count))] {
        do {
            let outcome = try parse(bytes, cuts: cuts)
            Issue.record("accepted \(text.debugDescription) as \(outcome)", sourceLocation: sourceLocation)
        } catch HTTPClientError.malformedResponse(let reason) {
            #expect(reason.contains(fragment), "\(reason)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(text.debugDescription): \(error)", sourceLocation: sourceLocation)
        }
    }
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
