/// What the parser found in the bytes fed so far, in order.
public enum HTTPResponsePart: Sendable, Equatable {
    /// An interim 1xx response (RFC 9110 §15.2), e.g. `100 Continue`: the
    /// final response follows on the same connection.
    case informational(HTTPResponseHead)
    /// The final response's status line and header fields.
    case head(HTTPResponseHead)
    /// The next bytes of the body (transfer coding removed).
    case body([UInt8])
    /// The response is complete; `trailers` are the fields after a chunked body.
    case end(trailers: HTTPHeaders)
}

/// Limits on what a response may make the client hold in memory.
public struct HTTPResponseLimits: Sendable, Equatable {
    /// The status line plus header fields (and, separately, a trailer
    /// section), line ends included. Default 64 KiB.
    public var maxHeaderBytes: Int
    /// The body after transfer decoding. Default 8 MiB; a `Content-Length`
    /// above it is refused before any body byte is read.
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 8 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }
}

/// An HTTP/1.x response parser (RFC 9112) with no I/O: bytes in, parts out.
/// The client feeds it what each read returns, however the stream was split,
/// and calls `finish()` when the stream ends; the parts are the same for any
/// split.
///
/// Framing follows RFC 9112 §6.3: no body for a response to HEAD and for
/// 1xx, 204 and 304; `Transfer-Encoding` ending in `chunked` (§7.1: chunk
/// extensions ignored, trailer fields returned); else `Content-Length`
/// (several values must agree); else the body runs until the server closes.
/// A stream that ends before the framing says the response is complete is an
/// error (`connectionClosedMidResponse`), never a truncated success.
///
/// Tolerated: a bare LF as line end (§2.2), a status line without reason
/// phrase. Refused as malformed: anything but `HTTP/1.x` plus three digits,
/// obsolete line folding (§5.2), whitespace before a field's colon (§5.1),
/// control characters in field values, a bad or conflicting
/// `Content-Length`, a bad chunk size, `101 Switching Protocols` (the client
/// never asks to upgrade). After an error every call throws it again.
public struct HTTPResponseParser: Sendable {
    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case bodyUntilClose
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case done
    }

    /// The longest chunk-size line (size plus extensions) accepted.
    static let maxChunkLineBytes = 4096

    /// What the response may make the parser hold (see `HTTPResponseLimits`).
    public let limits: HTTPResponseLimits
    /// Whether the request was HEAD (whose response never has a body).
    public let isResponseToHead: Bool

    private var state = State.head
    private var buffer: [UInt8] = []
    /// The first byte of `buffer` not yet consumed.
    private var position = 0
    /// How far past `position` a search for a line end already looked.
    private var scanOffset = 0
    /// Where the current line of a header section starts, relative to `position`.
    private var lineOffset = 0
    private var receivedByteCount = 0
    private var bodyByteCount = 0
    private var announcedLength: Int?
    private var persistent = true
    private var failure: HTTPClientError?

    /// The final response's head, once parsed.
    public private(set) var head: HTTPResponseHead?

    public init(limits: HTTPResponseLimits = HTTPResponseLimits(), isResponseToHead: Bool = false) {
        self.limits = limits
        self.isResponseToHead = isResponseToHead
    }

    /// Whether the response is complete (`.end` was returned).
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether the connection may carry another request after this response:
    /// complete, framed by length or chunks (not by closing), no
    /// `Connection: close` (HTTP/1.1) or an explicit `keep-alive` (HTTP/1.0),
    /// and no stray bytes after the response.
    public var isReusable: Bool { isComplete && persistent }

    /// Takes the next bytes of the stream. Throws `HTTPClientError`
    /// (`.malformedResponse`, `.headersTooLarge`, `.bodyTooLarge`).
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [HTTPResponsePart] {
        if let failure { throw failure }
        if isComplete {
            // Bytes nobody asked for: the connection is out of step.
            if !bytes.isEmpty { persistent = false }
            return []
        }
        receivedByteCount += bytes.count
        buffer.append(contentsOf: bytes)
        var parts: [HTTPResponsePart] = []
        do {
            try advance(&parts)
        } catch let error as HTTPClientError {
            failure = error
            throw error
        }
        if position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        } else if position > 65536 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        return parts
    }

    /// The stream ended. Completes a body delimited by the end of the stream;
    /// anywhere else before the end of the response it throws
    /// `.connectionClosedBeforeResponse` (not one byte came) or
    /// `.connectionClosedMidResponse` saying where it stopped.
    public mutating func finish() throws -> [HTTPResponsePart] {
        if let failure { throw failure }
        let error: HTTPClientError
        switch state {
        case .done:
            return []
        case .bodyUntilClose:
            state = .done
            persistent = false
            return [.end(trailers: [:])]
        case .head where receivedByteCount == 0:
            error = .connectionClosedBeforeResponse("no byte of the response arrived")
        case .head:
            error = .connectionClosedMidResponse("in the header section, after \(receivedByteCount) bytes")
        case .fixedBody:
            error = .connectionClosedMidResponse(
                "after \(bodyByteCount) of \(announcedLength ?? 0) body bytes (Content-Length)")
        case .chunkSize, .chunkData, .chunkDataEnd:
            error = .connectionClosedMidResponse("in a chunked body, after \(bodyByteCount) body bytes")
        case .trailers:
            error = .connectionClosedMidResponse("in the trailer section of a chunked body")
        }
        failure = error
        throw error
    }

    private var available: Int { buffer.count - position }

    private mutating func advance(_ parts: inout [HTTPResponsePart]) throws {
        while true {
            switch state {
            case .head:
                guard let lines = try takeSection(trailers: false) else { return }
                let head = try Self.parseHead(lines)
                if (100..<200).contains(head.status) {
                    guard head.status != 101 else {
                        throw HTTPClientError.malformedResponse("101 Switching Protocols, but no upgrade was requested")
                    }
                    parts.append(.informational(head))
                    continue
                }
                try begin(head, &parts)
            case .fixedBody(let remaining):
                guard available > 0 else { return }
                let count = min(remaining, available)
                parts.append(.body(Array(buffer[position..<position + count])))
                position += count
                bodyByteCount += count
                if count == remaining {
                    end(trailers: [:], &parts)
                } else {
                    state = .fixedBody(remaining: remaining - count)
                }
            case .bodyUntilClose:
                guard available > 0 else { return }
                guard bodyByteCount + available <= limits.maxBodyBytes else {
                    throw HTTPClientError.bodyTooLarge(limit: limits.maxBodyBytes, announced: nil)
                }
                parts.append(.body(Array(buffer[position...])))
                bodyByteCount += available
                position = buffer.count
                return
            case .chunkSize:
                guard let line = try takeChunkSizeLine() else { return }
                let size = try Self.parseChunkSize(line)
                if size == 0 {
                    state = .trailers
                } else {
                    guard bodyByteCount + size <= limits.maxBodyBytes else {
                        throw HTTPClientError.bodyTooLarge(limit: limits.maxBodyBytes, announced: nil)
                    }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                guard available > 0 else { return }
                let count = min(remaining, available)
                parts.append(.body(Array(buffer[position..<position + count])))
                position += count
                bodyByteCount += count
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkDataEnd:
                guard available > 0 else { return }
                if buffer[position] == lf {
                    position += 1
                } else if buffer[position] == cr {
                    guard available >= 2 else { return }
                    guard buffer[position + 1] == lf else {
                        throw HTTPClientError.malformedResponse("no line end after a chunk's data")
                    }
                    position += 2
                } else {
                    throw HTTPClientError.malformedResponse("a chunk is longer than its size line says")
                }
                state = .chunkSize
            case .trailers:
                guard let lines = try takeSection(trailers: true) else { return }
                end(trailers: try Self.parseFields(lines), &parts)
            case .done:
                if available > 0 {
                    persistent = false
                    position = buffer.count
                }
                return
            }
        }
    }

    /// Chooses the body's framing for a final response (RFC 9112 §6.3).
    private mutating func begin(_ head: HTTPResponseHead, _ parts: inout [HTTPResponsePart]) throws {
        self.head = head
        let connection = head.headers.tokens(for: "Connection")
        persistent = head.minorVersion >= 1 ? !connection.contains("close") : connection.contains("keep-alive")
        parts.append(.head(head))
        if isResponseToHead || head.status == 204 || head.status == 304 {
            end(trailers: [:], &parts)
            return
        }
        let codings = head.headers.tokens(for: "Transfer-Encoding")
        if !codings.isEmpty {
            // §6.3 item 3: Transfer-Encoding overrides Content-Length, and the
            // connection must not be reused after such a message.
            if head.headers.contains("Content-Length") { persistent = false }
            if codings.last == "chunked" {
                state = .chunkSize
            } else {
                state = .bodyUntilClose
                persistent = false
            }
            return
        }
        let lengths = head.headers.values(for: "Content-Length")
        guard !lengths.isEmpty else {
            state = .bodyUntilClose
            persistent = false
            return
        }
        let items = lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { String($0.trimmingWhitespace()) }
        guard let first = items.first, items.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
              first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let length = Int(first)
        else {
            throw HTTPClientError.malformedResponse("invalid Content-Length \(lengths.joined(separator: ", ").debugDescription)")
        }
        guard length <= limits.maxBodyBytes else {
            throw HTTPClientError.bodyTooLarge(limit: limits.maxBodyBytes, announced: length)
        }
        announcedLength = length
        if length == 0 {
            end(trailers: [:], &parts)
        } else {
            state = .fixedBody(remaining: length)
        }
    }

    private mutating func end(trailers: HTTPHeaders, _ parts: inout [HTTPResponsePart]) {
        state = .done
        parts.append(.end(trailers: trailers))
    }

    /// The lines of a header or trailer section (without line ends) once its
    /// blank line has arrived, consuming it; nil while it is incomplete.
    private mutating func takeSection(trailers: Bool) throws -> [ArraySlice<UInt8>]? {
        var index = position + scanOffset
        while index < buffer.count {
            defer { index += 1 }
            guard buffer[index] == lf else { continue }
            let lineStart = position + lineOffset
            let lineEnd = index > lineStart && buffer[index - 1] == cr ? index - 1 : index
            lineOffset = index + 1 - position
            guard lineEnd == lineStart else { continue }
            // The blank line.
            let sectionEnd = index + 1
            guard sectionEnd - position <= limits.maxHeaderBytes else {
                throw HTTPClientError.headersTooLarge(limit: limits.maxHeaderBytes)
            }
            let section = buffer[position..<lineStart]
            if lineStart == position && !trailers {
                throw HTTPClientError.malformedResponse("an empty line where the status line should be")
            }
            position = sectionEnd
            scanOffset = 0
            lineOffset = 0
            // Every line of the section ends with LF, so the split's last piece is empty.
            guard !section.isEmpty else { return [] }
            return section.split(separator: lf, omittingEmptySubsequences: false).dropLast().map { line in
                line.last == cr ? line.dropLast() : line
            }
        }
        scanOffset = buffer.count - position
        guard available <= limits.maxHeaderBytes else {
            throw HTTPClientError.headersTooLarge(limit: limits.maxHeaderBytes)
        }
        return nil
    }

    /// The chunk-size line without its line end, consumed; nil while incomplete.
    private mutating func takeChunkSizeLine() throws -> ArraySlice<UInt8>? {
        let start = position + scanOffset
        guard let index = buffer[start...].firstIndex(of: lf) else {
            scanOffset = available
            guard available <= Self.maxChunkLineBytes else {
                throw HTTPClientError.malformedResponse("a chunk size line longer than \(Self.maxChunkLineBytes) bytes")
            }
            return nil
        }
        var line = buffer[position..<index]
        if line.last == cr { line = line.dropLast() }
        guard line.count <= Self.maxChunkLineBytes else {
            throw HTTPClientError.malformedResponse("a chunk size line longer than \(Self.maxChunkLineBytes) bytes")
        }
        position = index + 1
        scanOffset = 0
        return line
    }

    /// RFC 9112 §7.1: `chunk-size [ chunk-ext ]`, the size in hex.
    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws -> Int {
        let digits = line.prefix { hexValue($0) != nil }
        guard !digits.isEmpty else {
            throw HTTPClientError.malformedResponse("the chunk size line \(shown(line)) has no hexadecimal size")
        }
        guard digits.count <= 15 else {
            throw HTTPClientError.malformedResponse("the chunk size \(shown(digits)) is too large")
        }
        let rest = line.dropFirst(digits.count).drop { $0 == space || $0 == tab }
        guard rest.isEmpty || rest.first == UInt8(ascii: ";"),
              rest.allSatisfy({ $0 == tab || ($0 >= 0x20 && $0 != 0x7F) })
        else {
            throw HTTPClientError.malformedResponse("the chunk size line \(shown(line)) is not a size and extensions")
        }
        return digits.reduce(0) { $0 * 16 + hexValue($1)! }
    }

    /// RFC 9112 §4: `HTTP-version SP status-code SP [ reason-phrase ]`, then fields.
    static func parseHead(_ lines: [ArraySlice<UInt8>]) throws -> HTTPResponseHead {
        let line = lines[0]
        let prefix = Array("HTTP/1.".utf8)
        let bytes = Array(line)
        guard bytes.count >= 12, Array(bytes[0..<7]) == prefix, isDigit(bytes[7]), bytes[8] == space,
              isDigit(bytes[9]), isDigit(bytes[10]), isDigit(bytes[11]),
              bytes.count == 12 || bytes[12] == space
        else {
            if bytes.starts(with: Array("HTTP/".utf8)) && bytes.count > 5 && bytes[5] != UInt8(ascii: "1") {
                throw HTTPClientError.malformedResponse("unsupported version in status line \(shown(line))")
            }
            throw HTTPClientError.malformedResponse("the status line \(shown(line)) is not HTTP/1.x with a status code")
        }
        let reasonBytes = bytes.count > 13 ? bytes[13...] : []
        guard reasonBytes.allSatisfy({ $0 == tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPClientError.malformedResponse("control characters in the status line \(shown(line))")
        }
        let status = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
        guard status >= 100 else {
            throw HTTPClientError.malformedResponse("the status line \(shown(line)) has status code \(status), below 100")
        }
        return HTTPResponseHead(
            minorVersion: Int(bytes[7] - 48), status: status,
            reason: String(decoding: reasonBytes, as: UTF8.self),
            headers: try parseFields(lines.dropFirst()))
    }

    /// RFC 9112 §5: `field-name ":" OWS field-value OWS` per line.
    static func parseFields(_ lines: some Collection<ArraySlice<UInt8>>) throws -> HTTPHeaders {
        var headers = HTTPHeaders()
        for line in lines {
            if line.first == space || line.first == tab {
                throw HTTPClientError.malformedResponse("obsolete line folding in the header line \(shown(line))")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw HTTPClientError.malformedResponse("the header line \(shown(line)) has no colon")
            }
            let name = line[..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                throw HTTPClientError.malformedResponse("the header name \(shown(name)) is not a token")
            }
            let value = line[(colon + 1)...].drop { $0 == space || $0 == tab }
            let trimmed = value.reversed().drop { $0 == space || $0 == tab }.reversed()
            guard trimmed.allSatisfy({ $0 == tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPClientError.malformedResponse("control characters in the value of header \(shown(name))")
            }
            headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: trimmed, as: UTF8.self))
        }
        return headers
    }

    /// Up to 80 bytes of `bytes`, quoted, control characters escaped.
    static func shown(_ bytes: some Collection<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return text.debugDescription + (bytes.count > 80 ? "…" : "")
    }
}

private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")

private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

private func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: return Int(byte - 0x30)
    case 0x41...0x46: return Int(byte - 0x41 + 10)
    case 0x61...0x66: return Int(byte - 0x61 + 10)
    default: return nil
    }
}
