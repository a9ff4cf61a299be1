import Core
import Foundation
import Synchronization
import Transport

/// What one `HTTPServer` lets a client hold, so that no client — a slow one
/// (slowloris), a flood of idle connections, an endless header — can stop
/// `/healthz` from answering others.
public struct HTTPServerLimits: Sendable, Equatable {
    /// Connections served at once; a connection beyond it gets
    /// `503 Service Unavailable` and is closed at once.
    public var maxConnections: Int
    /// Connections getting their 503 at one time (the answer's write and
    /// lingering close take up to `writeTimeout` and `lingerTimeout`); one
    /// beyond them is closed without an answer, so a flood of connections
    /// holds at most `maxConnections + maxRefusals` descriptors (unbounded,
    /// a flood ran the process out of them). The default, 256, answers the
    /// end-to-end test's flood of 200 idle connections with 503s and keeps
    /// the endpoint under 300 of the usual 1,024 descriptors.
    public var maxRefusals: Int
    /// Bytes of one request head (request line and headers, with the blank
    /// line); a longer head gets `431 Request Header Fields Too Large`.
    public var maxHeaderBytes: Int
    /// Time from accepting a connection (or from the end of the previous
    /// response) until the whole request head has arrived for the first
    /// request; the connection is closed without an answer when it runs out.
    public var requestTimeout: Duration
    /// Time a kept-alive connection may sit idle and then send its next
    /// complete head.
    public var idleTimeout: Duration
    /// Time to hand one response to a client that does not read.
    public var writeTimeout: Duration
    /// Requests on one connection; the last one is answered with
    /// `Connection: close`.
    public var maxRequestsPerConnection: Int
    /// After a final answer, how long the server keeps reading (and
    /// dropping) what the client still sends before it closes, so the
    /// answer is not destroyed by a reset (see `Connection.shutdownWrite`).
    public var lingerTimeout: Duration
    /// Bytes of a request body (`Content-Length`; head and body together
    /// must arrive within `requestTimeout`, or `idleTimeout` on a kept-alive
    /// connection); 0 refuses every body. The status page's login form
    /// is the only request with one.
    public var maxBodyBytes: Int

    public init(maxConnections: Int = 32, maxRefusals: Int = 256, maxHeaderBytes: Int = 8192, requestTimeout: Duration = .seconds(5),
                idleTimeout: Duration = .seconds(15), writeTimeout: Duration = .seconds(5),
                maxRequestsPerConnection: Int = 100, lingerTimeout: Duration = .seconds(1), maxBodyBytes: Int = 0) {
        self.maxConnections = max(1, maxConnections)
        self.maxRefusals = max(1, maxRefusals)
        self.maxHeaderBytes = max(64, maxHeaderBytes)
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.maxRequestsPerConnection = max(1, maxRequestsPerConnection)
        self.lingerTimeout = lingerTimeout
        self.maxBodyBytes = max(0, maxBodyBytes)
    }
}

/// One parsed HTTP/1.x request (RFC 9112 sections 3, 5 and 6): its head,
/// and a body only where `HTTPServerLimits.maxBodyBytes` allows one.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The request target as sent (`/healthz?x=1`).
    public var target: String
    /// The target's path (`/healthz`), without the query.
    public var path: String
    /// The query after `?`, nil without one.
    public var query: String?
    /// `1.0` or `1.1`: the minor version decides the keep-alive default.
    public var minorVersion: Int
    /// Header fields in the order received, names as sent.
    public var headers: [HTTPHeader]
    /// The body (`Content-Length` bytes); empty without one.
    public var body: [UInt8] = []

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The declared body length (`Content-Length`), nil without one.
    public var contentLength: Int? { header("Content-Length").flatMap { Int($0) } }

    /// Whether the client wants the connection kept open after the answer
    /// (RFC 9112 section 9.3: HTTP/1.1 persists unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`).
    public var wantsKeepAlive: Bool {
        let tokens = (header("Connection") ?? "").lowercased().split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if minorVersion >= 1 { return !tokens.contains("close") }
        return tokens.contains("keep-alive")
    }
}

/// One header field.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An answer. The server adds `Content-Length` and `Connection`, and leaves
/// the body out for HEAD.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: String
    /// More header fields (`Allow`, `Retry-After`, …). CR, LF and NUL are
    /// removed from names and values when written.
    public var headers: [HTTPHeader]

    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String,
                headers: [HTTPHeader] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// The bytes on the wire: status line, headers, and the body unless
    /// `includeBody` is false (HEAD).
    func serialized(keepAlive: Bool, includeBody: Bool) -> [UInt8] {
        func clean(_ text: String) -> String {
            String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" }.map(Character.init))
        }
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        text += "Content-Type: \(clean(contentType))\r\n"
        text += "Content-Length: \(body.utf8.count)\r\n"
        for header in headers { text += "\(clean(header.name)): \(clean(header.value))\r\n" }
        text += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        var bytes = Array(text.utf8)
        if includeBody { bytes += Array(body.utf8) }
        return bytes
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 303: "See Other"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}

/// A small HTTP/1.1 server for the gateway's loopback endpoints: keep-alive,
/// pipelined requests, no request bodies, no TLS. Every resource a client
/// can hold is bounded by `HTTPServerLimits`, and every timer runs on the
/// injected clock, so a flood of slow or idle clients is cut off while
/// others are answered, and the tests of it never sleep.
///
/// Accepting survives descriptor exhaustion (`Listener.accept` backs off and
/// recovers); rejections and timeouts are logged at most once a minute each.
public final class HTTPServer: Sendable {
    /// Answers one request. Runs on the connection's task; may suspend.
    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    private let listener: Listener
    private let handler: Handler
    private let logger: Logger
    private let limitedLog: RateLimitedLogger
    private let clock: any WallClock
    public let limits: HTTPServerLimits
    private let counters = Mutex(HTTPServerStatistics())

    /// The bound port (the kernel's choice when bound to port 0).
    public var port: UInt16 { listener.port }
    /// The bound address, `127.0.0.1:9464`.
    public var address: String { listener.address }

    /// Binds `host:port` (numeric; the caller decides it is loopback).
    public init(host: String, port: UInt16, limits: HTTPServerLimits = HTTPServerLimits(), logger: Logger,
                clock: any WallClock = SystemClock(), handler: @escaping Handler) throws {
        listener = try Listener.bind(host: host, port: port, logger: logger, clock: clock)
        self.limits = limits
        self.handler = handler
        self.logger = logger
        self.clock = clock
        limitedLog = RateLimitedLogger(logger, interval: .seconds(60), clock: clock)
    }

    /// Counts since start, and the connections open now.
    public var statistics: HTTPServerStatistics { counters.withLock { $0 } }

    /// Accepts and serves connections until the task is cancelled or
    /// `close()` is called; returns after every connection has ended.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let connection: Connection
                do {
                    connection = try await listener.accept()
                } catch {
                    // Only a broken listening socket gets here (or close/cancel).
                    if !Task.isCancelled, !(error is CancellationError), !isClosedError(error) {
                        logger.error("http endpoint stopped accepting", ["error": error])
                    }
                    break
                }
                let admission = counters.withLock { counters -> Admission in
                    counters.accepted += 1
                    if counters.open < limits.maxConnections {
                        counters.open += 1
                        return .serve
                    }
                    if counters.refusing < limits.maxRefusals {
                        counters.rejected += 1
                        counters.refusing += 1
                        return .refuse
                    }
                    counters.dropped += 1
                    return .drop
                }
                switch admission {
                case .serve:
                    group.addTask { [self] in
                        await serve(connection)
                        counters.withLock { $0.open -= 1 }
                    }
                case .refuse:
                    limitedLog.notice(key: "http connection limit", "http connection refused: too many open",
                                      ["limit": limits.maxConnections, "remote": connection.remoteAddress])
                    group.addTask { [self] in
                        await reject(connection)
                        counters.withLock { $0.refusing -= 1 }
                    }
                case .drop:
                    limitedLog.notice(key: "http connection flood", "http connection closed unanswered: too many refused at once",
                                      ["limit": limits.maxRefusals, "remote": connection.remoteAddress])
                    connection.close()
                }
            }
            group.cancelAll()
        }
        limitedLog.flush()
    }

    /// Stops accepting; connections being served finish their request.
    public func close() { listener.close() }

    /// What becomes of an accepted connection.
    private enum Admission { case serve, refuse, drop }

    private func isClosedError(_ error: any Error) -> Bool {
        if case .closed = error as? TransportError { return true }
        return false
    }

    /// Answers 503 and closes, within the write timeout.
    private func reject(_ connection: Connection) async {
        let response = HTTPResponse(status: 503, body: "too many connections; try again\n",
                                    headers: [HTTPHeader("Retry-After", "1")])
        let bytes = response.serialized(keepAlive: false, includeBody: true)
        _ = await withDeadline(limits.writeTimeout) { () -> Bool in
            (try? await connection.write(bytes)) != nil
        }
        await closeGracefully(connection)
    }

    /// Half-closes, reads and drops what the client still sends (its request,
    /// a pipelined one) until it closes too — at most 64 KiB and the linger
    /// timeout — then closes. Closing with unread bytes would send a reset
    /// that can destroy the answer before the client reads it.
    private func closeGracefully(_ connection: Connection) async {
        connection.shutdownWrite()
        _ = await withDeadline(limits.lingerTimeout) { () -> Bool in
            var drained = 0
            while drained < 65536 {
                guard let chunk = try? await connection.read(), !chunk.isEmpty else { return true }
                drained += chunk.count
            }
            return false
        }
        connection.close()
    }

    /// Serves one connection: requests in turn until the client closes or
    /// asks to, a limit is reached, or a deadline passes.
    func serve(_ connection: Connection) async {
        // After a final answer the close is graceful (`closeGracefully`);
        // after a timeout or the client's own close it is immediate.
        defer { connection.close() }
        var buffered: [UInt8] = []
        for index in 0..<limits.maxRequestsPerConnection {
            let limit = index == 0 ? limits.requestTimeout : limits.idleTimeout
            let maxHeaderBytes = limits.maxHeaderBytes
            let start = buffered
            // One deadline for the whole request: its head and its body.
            let deadline = clock.now.advanced(by: limit)
            let outcome = await withDeadline(until: deadline) { () -> HeadRead in
                await Self.readHead(connection, buffered: start, maxBytes: maxHeaderBytes)
            }
            let head: [UInt8]
            switch outcome {
            case .timedOut:
                counters.withLock { $0.timedOut += 1 }
                limitedLog.notice(key: "http timeout", "http connection closed: request not complete in time",
                                  ["remote": connection.remoteAddress, "limit": limit])
                return
            case .finished(.ended):
                return
            case .finished(.tooLarge):
                counters.withLock { $0.refused += 1 }
                let response = HTTPResponse(status: 431, body: "request head larger than \(maxHeaderBytes) bytes\n")
                await send(response, to: connection, keepAlive: false, includeBody: true)
                await closeGracefully(connection)
                return
            case .finished(.head(let bytes, let rest)):
                head = bytes
                buffered = rest
            }
            var request: HTTPRequest
            switch Self.parse(head, maxBodyBytes: limits.maxBodyBytes) {
            case .failure(let refusal):
                counters.withLock { $0.refused += 1 }
                await send(refusal.response, to: connection, keepAlive: false, includeBody: true)
                await closeGracefully(connection)
                return
            case .success(let parsed):
                request = parsed
            }
            if let length = request.contentLength, length > 0 {
                let start = buffered
                let outcome = await withDeadline(until: deadline) { () -> BodyRead in
                    await Self.readBody(connection, buffered: start, length: length)
                }
                guard case .finished(.body(let body, let rest)) = outcome else {
                    if case .timedOut = outcome { counters.withLock { $0.timedOut += 1 } }
                    return
                }
                request.body = body
                buffered = rest
            }
            counters.withLock { $0.requests += 1 }
            let response = await handler(request)
            let keepAlive = request.wantsKeepAlive && index + 1 < limits.maxRequestsPerConnection
            let sent = await send(response, to: connection, keepAlive: keepAlive, includeBody: request.method != "HEAD")
            guard sent else { return }
            guard keepAlive else {
                await closeGracefully(connection)
                return
            }
        }
    }

    /// Writes a response within the write timeout; false when it failed or
    /// timed out (the connection is then done).
    @discardableResult
    private func send(_ response: HTTPResponse, to connection: Connection, keepAlive: Bool, includeBody: Bool)
        async -> Bool
    {
        let bytes = response.serialized(keepAlive: keepAlive, includeBody: includeBody)
        let outcome = await withDeadline(limits.writeTimeout) { () -> Bool in
            (try? await connection.write(bytes)) != nil
        }
        if case .finished(true) = outcome { return true }
        if case .timedOut = outcome { counters.withLock { $0.timedOut += 1 } }
        return false
    }

    /// How reading one request head ended.
    enum HeadRead: Sendable, Equatable {
        /// The head up to and including its blank line, and any bytes after
        /// it (the start of a pipelined request).
        case head([UInt8], rest: [UInt8])
        /// `maxBytes` arrived without the blank line.
        case tooLarge
        /// The client closed (or the read failed) before a whole head.
        case ended
    }

    /// How reading a request body ended.
    enum BodyRead: Sendable, Equatable {
        /// The body, and any bytes after it (a pipelined request).
        case body([UInt8], rest: [UInt8])
        /// The client closed before the whole body arrived.
        case ended
    }

    /// Reads `length` body bytes after what is already `buffered`.
    static func readBody(_ connection: Connection, buffered: [UInt8], length: Int) async -> BodyRead {
        var bytes = buffered
        while bytes.count < length {
            guard let chunk = try? await connection.read(maxBytes: length - bytes.count), !chunk.isEmpty else {
                return .ended
            }
            bytes += chunk
        }
        return .body(Array(bytes[..<length]), rest: Array(bytes[length...]))
    }

    /// Reads until the blank line that ends a request head.
    static func readHead(_ connection: Connection, buffered: [UInt8], maxBytes: Int) async -> HeadRead {
        var bytes = buffered
        var searchedUpTo = 0
        while true {
            if let end = headEnd(bytes, from: searchedUpTo) {
                if end > maxBytes { return .tooLarge }
                return .head(Array(bytes[..<end]), rest: Array(bytes[end...]))
            }
            if bytes.count >= maxBytes { return .tooLarge }
            searchedUpTo = max(0, bytes.count - 3)
            guard let chunk = try? await connection.read(maxBytes: max(1, maxBytes - bytes.count + 4)),
                  !chunk.isEmpty
            else { return .ended }
            bytes += chunk
        }
    }

    /// The index just past the blank line (CRLF CRLF, or bare LF LF, which
    /// RFC 9112 section 2.2 lets a server accept), nil when not there yet.
    static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = max(start, 1)
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if bytes[i - 1] == 0x0A { return i + 1 }
                if i >= 2, bytes[i - 1] == 0x0D, bytes[i - 2] == 0x0A { return i + 1 }
            }
            i += 1
        }
        return nil
    }

    /// Why a head was refused, with the answer to give.
    struct Refusal: Error {
        let response: HTTPResponse
        init(_ status: Int, _ text: String) { response = HTTPResponse(status: status, body: text + "\n") }
    }

    /// Parses a request head (RFC 9112 sections 3 and 5). Refuses what this
    /// server cannot answer safely: a malformed line, obsolete line folding,
    /// control characters, a version other than 1.x, `Transfer-Encoding`, and
    /// a body (`Content-Length` other than 0) when `maxBodyBytes` is 0 — it
    /// would be taken for the next request — or larger than it (413); two
    /// different lengths are refused (RFC 9112 section 6.3).
    static func parse(_ head: [UInt8], maxBodyBytes: Int = 0) -> Result<HTTPRequest, Refusal> {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0D ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { return .failure(Refusal(400, "bad request: empty")) }
        let requestLine = String(decoding: first, as: UTF8.self)
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, isToken(parts[0]), parts[1].first == "/",
              !parts[1].unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F })
        else { return .failure(Refusal(400, "bad request line")) }
        let version = parts[2]
        guard version.hasPrefix("HTTP/") else { return .failure(Refusal(400, "bad request line")) }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .failure(Refusal(505, "only HTTP/1.0 and HTTP/1.1"))
        }
        var headers: [HTTPHeader] = []
        for line in lines.dropFirst() {
            if line.first == 0x20 || line.first == 0x09 {
                return .failure(Refusal(400, "bad request: obsolete line folding"))
            }
            guard let colon = line.firstIndex(of: 0x3A) else {
                return .failure(Refusal(400, "bad request: header line without a colon"))
            }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let rawValue = line[(colon + 1)...]
            guard isToken(Substring(name)),
                  !rawValue.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F })
            else { return .failure(Refusal(400, "bad request: malformed header field")) }
            let value = String(decoding: rawValue, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers.append(HTTPHeader(name, value))
        }
        let target = String(parts[1])
        let question = target.firstIndex(of: "?")
        let request = HTTPRequest(
            method: String(parts[0]), target: target,
            path: question.map { String(target[..<$0]) } ?? target,
            query: question.map { String(target[target.index(after: $0)...]) },
            minorVersion: version == "HTTP/1.1" ? 1 : 0, headers: headers)
        if request.header("Transfer-Encoding") != nil {
            return .failure(Refusal(400, "request bodies are not accepted"))
        }
        let lengths = Set(headers.filter { $0.name.caseInsensitiveCompare("Content-Length") == .orderedSame }.map(\.value))
        guard lengths.count <= 1 else { return .failure(Refusal(400, "bad request: conflicting Content-Length")) }
        if let value = lengths.first, value != "0" {
            guard maxBodyBytes > 0 else { return .failure(Refusal(400, "request bodies are not accepted")) }
            guard value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), value.utf8.count <= 9, let length = Int(value)
            else { return .failure(Refusal(400, "bad request: malformed Content-Length")) }
            guard length <= maxBodyBytes else {
                return .failure(Refusal(413, "request body larger than \(maxBodyBytes) bytes"))
            }
        }
        return .success(request)
    }

    /// RFC 9110 section 5.6.2: `token = 1*tchar`.
    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
            }
        }
    }

    /// How `withDeadline` ended.
    enum DeadlineOutcome<Value: Sendable>: Sendable {
        case finished(Value)
        case timedOut
    }

    /// Runs `body`, cancelling it when `limit` passes on the clock first.
    /// (An enum, not an optional: Swift 6.3's release optimiser crashed on a
    /// closure returning a nested optional.)
    func withDeadline<Value: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> Value)
        async -> DeadlineOutcome<Value>
    {
        await withDeadline(until: clock.now.advanced(by: limit), body)
    }

    /// Runs `body`, cancelling it when the clock reaches `deadline` first.
    func withDeadline<Value: Sendable>(until deadline: WallInstant, _ body: @escaping @Sendable () async -> Value)
        async -> DeadlineOutcome<Value>
    {
        let clock = self.clock
        return await withTaskGroup(of: DeadlineRace<Value>.self) { group in
            group.addTask { .finished(await body()) }
            group.addTask {
                do {
                    try await clock.sleep(until: deadline, tolerance: nil)
                    return .timedOut
                } catch {
                    return .abandoned  // cancelled: the body finished first, or the server stops
                }
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                switch next {
                case .finished(let value): return .finished(value)
                case .timedOut: return .timedOut
                case .abandoned: continue
                }
            }
            return .timedOut
        }
    }

    private enum DeadlineRace<Value: Sendable>: Sendable {
        case finished(Value)
        case timedOut
        case abandoned
    }
}

/// What an `HTTPServer` has done since it started.
public struct HTTPServerStatistics: Sendable, Equatable {
    /// Connections accepted (admitted or not).
    public var accepted = 0
    /// Connections answered 503 because `maxConnections` were open.
    public var rejected = 0
    /// Connections closed unanswered because `maxConnections` were open
    /// and `maxRefusals` were getting their 503.
    public var dropped = 0
    /// Connections getting their 503 now.
    public var refusing = 0
    /// Connections open now.
    public var open = 0
    /// Requests handed to the handler.
    public var requests = 0
    /// Heads refused (too large, malformed, with a body).
    public var refused = 0
    /// Connections closed because a deadline passed.
    public var timedOut = 0
}
