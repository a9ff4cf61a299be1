import Core
import Foundation
import Transport

/// A minimal HTTP/1.1 endpoint on loopback for `/healthz` and `/metrics`
/// (Prometheus text format). It answers GET and HEAD of known paths, one
/// request per connection, and refuses everything else; a request head over
/// 8 KiB or slower than 5 s is dropped. It is not a general web server and
/// must only listen on loopback (the configuration refuses anything else).
public final class HTTPEndpoint: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String

        public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// Answers a path (`/healthz`); nil is 404.
    public typealias Handler = @Sendable (String) async -> Response?

    private let listener: Listener
    private let handler: Handler
    private let logger: Logger

    public var port: UInt16 { listener.port }

    public init(host: String, port: UInt16, logger: Logger, handler: @escaping Handler) throws {
        listener = try Listener.bind(host: host, port: port, logger: logger)
        self.handler = handler
        self.logger = logger
    }

    /// Accepts and answers requests until cancelled or closed.
    public func run() async {
        logger.info("http endpoint listening", ["address": listener.address])
        await withTaskGroup(of: Void.self) { group in
            while !Task.isCancelled {
                let connection: Connection
                do {
                    connection = try await listener.accept()
                } catch {
                    if !Task.isCancelled { logger.warning("http accept failed", ["error": error]) }
                    break
                }
                group.addTask { [handler, logger] in
                    await Self.serve(connection, handler: handler, logger: logger)
                }
            }
            group.cancelAll()
        }
    }

    public func close() { listener.close() }

    static func serve(_ connection: Connection, handler: Handler, logger: Logger) async {
        defer { connection.close() }
        let head: [UInt8]
        do {
            head = try await withTimeout(.seconds(5)) { try await readHead(connection) }
        } catch {
            return
        }
        let response = await respond(to: head, handler: handler)
        var text = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        text += "Content-Type: \(response.contentType)\r\n"
        text += "Content-Length: \(response.body.utf8.count)\r\n"
        text += "Connection: close\r\n\r\n"
        var bytes = Array(text.utf8)
        if !String(decoding: head.prefix(5), as: UTF8.self).hasPrefix("HEAD ") {
            bytes += Array(response.body.utf8)
        }
        try? await connection.write(bytes)
    }

    /// Parses the request line of `head` and asks the handler.
    static func respond(to head: [UInt8], handler: Handler) async -> Response {
        guard let lineEnd = head.firstIndex(of: 0x0A) else {
            return Response(status: 400, body: "bad request\n")
        }
        let requestLine = String(decoding: head[..<lineEnd], as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return Response(status: 400, body: "bad request\n")
        }
        guard parts[0] == "GET" || parts[0] == "HEAD" else {
            return Response(status: 405, body: "only GET and HEAD\n")
        }
        let path = String(parts[1].prefix { $0 != "?" })
        return await handler(path) ?? Response(status: 404, body: "not found; try /healthz or /metrics\n")
    }

    /// Reads until the blank line that ends the request head (8 KiB at most).
    static func readHead(_ connection: Connection) async throws -> [UInt8] {
        var head: [UInt8] = []
        while head.count < 8192 {
            let chunk = try await connection.read(maxBytes: 8192 - head.count)
            if chunk.isEmpty { break }
            head += chunk
            if head.count >= 4, containsBlankLine(head) { return head }
        }
        return head
    }

    static func containsBlankLine(_ bytes: [UInt8]) -> Bool {
        for i in 1..<bytes.count where bytes[i] == 0x0A {
            if bytes[i - 1] == 0x0A { return true }
            if i >= 3, bytes[i - 1] == 0x0D, bytes[i - 2] == 0x0A { return true }
        }
        return false
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// Runs `body`, throwing `CancellationError` if it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw CancellationError()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}

/// Prometheus text exposition format (version 0.0.4).
public struct PrometheusText: Sendable {
    private(set) var text = ""

    public init() {}

    /// Adds a metric family with its samples (`labels` → value).
    public mutating func add(_ name: String, type: String, help: String,
                             samples: [(labels: [(String, String)], value: Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples {
            let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map {
                "\($0.0)=\"\(Self.escapeLabel($0.1))\""
            }.joined(separator: ",") + "}"
            text += "\(name)\(labels) \(Self.format(sample.value))\n"
        }
    }

    public mutating func add(_ name: String, type: String, help: String, value: Double) {
        add(name, type: type, help: help, samples: [([], value)])
    }

    public var rendered: String { text }

    static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
