import Core
import Foundation
import HTTPClient
import Synchronization
import Transport

/// A tiny HTTP/1.1 server on 127.0.0.1 for the client's tests, on the
/// Transport target's listener: it reads each request (head plus
/// `Content-Length` body), records it with the number of the connection it
/// came on, and does what the test's handler says — send raw bytes (so a test
/// can send any framing, or a broken one), close, or hold the request
/// unanswered.
final class TestHTTPServer: Sendable {
    /// One request as the server read it.
    struct Request: Sendable {
        /// 1 for the first connection that carried a request, 2 for the
        /// second, ... A connection that never sends a whole request gets no
        /// number: all test targets share one process, and a connect from
        /// elsewhere (a gateway reconnecting to a port that was an IRC
        /// server's a moment ago) can land on this listener.
        let connection: Int
        let method: String
        let target: String
        let headers: HTTPHeaders
        let body: [UInt8]
        /// The request head exactly as received.
        let head: String
    }

    /// What the server does with a request.
    enum Reply: Sendable {
        /// Sends these bytes and waits for the next request on the connection.
        case send([UInt8])
        /// Sends these bytes and closes the connection.
        case sendAndClose([UInt8])
        /// Closes the connection without answering.
        case close
        /// Sends nothing; the connection stays open until the client closes it.
        case hold
    }

    typealias Handler = @Sendable (Request) async -> Reply

    private struct State {
        var connections = 0
        var requests: [Request] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<[Request], Never>)] = []
        var open: [Connection] = []
        var closed = 0
        var closeWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var tasks: [Task<Void, Never>] = []
    }

    let listener: Listener
    private let handler: Handler
    private let state = Mutex(State())

    init(handler: @escaping Handler) throws {
        listener = try Listener.bind(host: "127.0.0.1", port: 0)
        self.handler = handler
        let task = Task { [self] in await acceptLoop() }
        state.withLock { $0.tasks.append(task) }
    }

    var port: UInt16 { listener.port }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    /// Connections that carried at least one request so far.
    var connectionCount: Int { state.withLock { $0.connections } }

    /// Every request so far.
    var requests: [Request] { state.withLock { $0.requests } }

    /// Waits until at least `count` requests arrived; returns all so far.
    func waitForRequests(_ count: Int) async -> [Request] {
        await withCheckedContinuation { continuation in
            let ready: [Request]? = state.withLock { s in
                if s.requests.count >= count { return s.requests }
                s.waiters.append((count, continuation))
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Waits until the server has closed at least `count` of the connections
    /// that carried a request.
    func waitForClosedConnections(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Bool in
                if s.closed >= count { return true }
                s.closeWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func stop() {
        listener.close()
        let (open, tasks) = state.withLock { ($0.open, $0.tasks) }
        for connection in open { connection.close() }
        for task in tasks { task.cancel() }
    }

    deinit { stop() }

    private func acceptLoop() async {
        while let connection = try? await listener.accept() {
            state.withLock { $0.open.append(connection) }
            let task = Task { [self] in
                let numbered = await serve(connection)
                connection.close()
                guard numbered else { return }
                let due = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                    s.closed += 1
                    let due = s.closeWaiters.filter { $0.count <= s.closed }.map(\.continuation)
                    s.closeWaiters.removeAll { $0.count <= s.closed }
                    return due
                }
                for waiter in due { waiter.resume() }
            }
            state.withLock { $0.tasks.append(task) }
        }
    }

    /// Serves requests until the connection ends; true when it carried one.
    private func serve(_ connection: Connection) async -> Bool {
        var buffer: [UInt8] = []
        var number: Int?
        while true {
            guard let parsed = await readRequest(connection, buffer: &buffer) else { return number != nil }
            let connectionNumber = number ?? state.withLock { s in
                s.connections += 1
                return s.connections
            }
            number = connectionNumber
            let request = parsed(connectionNumber)
            let waiters: [CheckedContinuation<[Request], Never>]
            let all: [Request]
            (waiters, all) = state.withLock { s in
                s.requests.append(request)
                let due = s.waiters.filter { $0.count <= s.requests.count }.map(\.continuation)
                s.waiters.removeAll { $0.count <= s.requests.count }
                return (due, s.requests)
            }
            for waiter in waiters { waiter.resume(returning: all) }
            switch await handler(request) {
            case .send(let bytes):
                guard (try? await connection.write(bytes)) != nil else { return true }
            case .sendAndClose(let bytes):
                try? await connection.write(bytes)
                return true
            case .close:
                return true
            case .hold:
                // Until the client goes away.
                while let bytes = try? await connection.read(), !bytes.isEmpty {}
                return true
            }
        }
    }

    /// The next request on `connection`, waiting for its connection number;
    /// nil when the connection ends first (or sends no HTTP request line).
    private func readRequest(_ connection: Connection, buffer: inout [UInt8]) async -> (@Sendable (Int) -> Request)? {
        let blank = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if headEnd == nil, let range = buffer.firstRange(of: blank) { headEnd = range.upperBound }
            if let end = headEnd {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                guard !lines.isEmpty else { return nil }
                let requestLine = lines.removeFirst().split(separator: " ")
                guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/") else { return nil }
                var headers = HTTPHeaders()
                for line in lines {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard let name = parts.first else { continue }
                    headers.add(name: String(name), value: parts.count > 1 ? String(parts[1].trimmingCharacters(in: .whitespaces)) : "")
                }
                let length = headers["Content-Length"].flatMap { Int($0) } ?? 0
                if buffer.count >= end + length {
                    let body = Array(buffer[end..<end + length])
                    buffer.removeFirst(end + length)
                    let (method, target) = (String(requestLine[0]), String(requestLine[1]))
                    return { [headers] number in
                        Request(connection: number, method: method, target: target, headers: headers, body: body,
                                head: head)
                    }
                }
            }
            guard let bytes = try? await connection.read(maxBytes: 65536), !bytes.isEmpty else { return nil }
            buffer += bytes
        }
    }
}

/// An HTTP/1.1 response with `Content-Length`.
func response(_ status: Int = 200, _ body: String = "", headers: [String] = []) -> [UInt8] {
    let reason = status == 200 ? "OK" : "Status"
    let head = (["HTTP/1.1 \(status) \(reason)", "Content-Length: \(body.utf8.count)"] + headers).joined(separator: "\r\n")
    return Array((head + "\r\n\r\n" + body).utf8)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
