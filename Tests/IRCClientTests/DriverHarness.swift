import Core
import Foundation
import IRC
@testable import IRCClient
import Synchronization
import TestSupport
import Transport

/// Hands the client one end of a fresh socketpair per connection attempt
/// and the test the other end, as a scripted server.
final class PairConnector: Sendable {
    let servers: AsyncStream<Connection>
    private let continuation: AsyncStream<Connection>.Continuation
    private let refusals = Mutex(0)

    init() {
        (servers, continuation) = AsyncStream.makeStream(of: Connection.self)
    }

    /// The next `count` attempts fail as if the server were down.
    func refuse(next count: Int) { refusals.withLock { $0 = count } }

    var connector: IRCConnector {
        { [self] _, _ in
            let refuse = refusals.withLock { n -> Bool in
                guard n > 0 else { return false }
                n -= 1
                return true
            }
            if refuse {
                throw TransportError.system(operation: "connect to 127.0.0.1:6667", errno: 111,
                                            message: "Connection refused")
            }
            let (a, b) = try SocketPair.make()
            let server = try Connection(adopting: a)
            let client = try Connection(adopting: b)
            self.continuation.yield(server)
            return client
        }
    }
}

struct HarnessTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body`, failing after `timeout` (a guard against a hang, not a timing).
func within<T: Sendable>(_ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let result = try await group.next(), let value = result else {
            throw HarnessTimeout(description: "no \(what) within \(timeout)")
        }
        return value
    }
}

/// Items arriving from another task, awaited in order with a deadline (a
/// guard against a hang, not a timing). One consumer.
actor Inbox<T: Sendable> {
    private(set) var items: [T] = []
    private var consumed: Set<Int> = []
    private var finished = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var nextID = 0

    func append(_ item: T) {
        items.append(item)
        resumeWaiter()
    }

    func finish() {
        finished = true
        resumeWaiter()
    }

    /// The earliest item not returned yet for which `predicate` holds; nil
    /// when the inbox finished without one.
    func first(_ what: String, timeout: Duration = .seconds(10), where predicate: @Sendable (T) -> Bool)
        async throws -> T?
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let index = items.indices.first(where: { !consumed.contains($0) && predicate(items[$0]) }) {
                consumed.insert(index)
                return items[index]
            }
            if finished { return nil }
            if ContinuousClock.now >= deadline { throw HarnessTimeout(description: "no \(what) within \(timeout)") }
            await waitForChange(until: deadline)
        }
    }

    private func waitForChange(until deadline: ContinuousClock.Instant) async {
        nextID += 1
        let id = nextID
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.expire(id)
        }
        await withCheckedContinuation { waiter = (id, $0) }
        timer.cancel()
    }

    private func expire(_ id: Int) {
        if waiter?.id == id { resumeWaiter() }
    }

    private func resumeWaiter() {
        let continuation = waiter?.continuation
        waiter = nil
        continuation?.resume()
    }
}

/// The server end of a socketpair, scripted line by line.
final class ScriptedServer: Sendable {
    let connection: Connection
    let lines = Inbox<String>()

    init(_ connection: Connection) {
        self.connection = connection
        Task { [lines] in
            do {
                for try await line in connection.lines() { await lines.append(String(decoding: line, as: UTF8.self)) }
            } catch {}
            await lines.finish()
        }
    }

    static func next(from connector: PairConnector) async throws -> ScriptedServer {
        let servers = connector.servers
        let connection = try await within(.seconds(10), "connection from the client") {
            var iterator = servers.makeAsyncIterator()
            guard let next = await iterator.next() else { throw HarnessTimeout(description: "connector gone") }
            return next
        }
        return ScriptedServer(connection)
    }

    /// Reads lines until one starts with `prefix`; returns it.
    @discardableResult
    func expect(_ prefix: String, timeout: Duration = .seconds(10)) async throws -> String {
        guard let line = try await lines.first("line starting \"\(prefix)\"", timeout: timeout,
                                               where: { $0.hasPrefix(prefix) })
        else {
            throw HarnessTimeout(description: "the client closed before \"\(prefix)\"; got \(await lines.items)")
        }
        return line
    }

    /// Waits until the client closes the connection.
    func expectClosed(timeout: Duration = .seconds(10)) async throws {
        _ = try await lines.first("end of stream", timeout: timeout, where: { _ in false })
    }

    func send(_ lines: String...) async throws {
        for line in lines { try await connection.write(Array((line + "\r\n").utf8)) }
    }

    /// Registers the client: answers CAP LS with no caps, welcomes, ends the MOTD.
    func register(nick: String = "bot") async throws {
        try await expect("CAP LS 302")
        try await expect("USER ")
        try await send(":srv CAP * LS :", ":srv 001 \(nick) :Welcome \(nick)!sb@client.host",
                       ":srv 005 \(nick) CASEMAPPING=rfc1459 :are supported", ":srv 376 \(nick) :End of MOTD")
        try await expect("CAP END")
    }

    func close() { connection.close() }
}

/// Collects a client's events and lets a test wait for one.
final class EventLog: Sendable {
    let inbox = Inbox<IRCClientEvent>()

    init(_ stream: AsyncStream<IRCClientEvent>) {
        Task { [inbox] in
            for await event in stream { await inbox.append(event) }
            await inbox.finish()
        }
    }

    /// The next event (after the last one waited for) matching `predicate`.
    @discardableResult
    func wait(_ what: String, timeout: Duration = .seconds(10),
              _ predicate: @escaping @Sendable (IRCClientEvent) -> Bool) async throws -> IRCClientEvent {
        guard let event = try await inbox.first(what, timeout: timeout, where: predicate) else {
            throw HarnessTimeout(description: "the event stream ended before \(what)")
        }
        return event
    }

    var all: [IRCClientEvent] { get async { await inbox.items } }
}
