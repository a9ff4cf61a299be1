import Core
import Foundation
import IRC
@testable import IRCClient
import Synchronization
import TestSupport
import Testing
import Transport

/// `IRCClient.run(handlingEventsWith:)`: the read loop hands a line's events
/// to the handler itself; what arises elsewhere goes through a delivery task.
@Suite("IRCClient with an event handler")
struct EventHandlerTests {
    /// Holds the handler on one event until the test opens it.
    actor Gate {
        private var open = false
        private var waiters: [CheckedContinuation<Void, Never>] = []
        private(set) var reached = false
        private var watchers: [CheckedContinuation<Void, Never>] = []

        func pass() async {
            reached = true
            for watcher in watchers { watcher.resume() }
            watchers = []
            if open { return }
            await withCheckedContinuation { waiters.append($0) }
        }

        /// Returns once the handler is at the gate.
        func waitUntilReached() async {
            if reached { return }
            await withCheckedContinuation { watchers.append($0) }
        }

        func release() {
            open = true
            for waiter in waiters { waiter.resume() }
            waiters = []
        }
    }

    /// What the handler saw, and how many calls of it ran at once at most.
    final class Handled: Sendable {
        let inbox = Inbox<IRCClientEvent>()
        private let running = Mutex((now: 0, most: 0))

        func begin() { running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func end() { running.withLock { $0.now -= 1 } }
        var mostAtOnce: Int { running.withLock { $0.most } }
    }

    static func message(_ event: IRCClientEvent) -> String? {
        if case .message(let message) = event { return message.text }
        return nil
    }

    @Test("Events reach the handler one at a time in the stream's order; the client keeps sending while it waits")
    func orderedOneAtATime() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = DriverTests.makeClient(connector, clock: clock)
        let handled = Handled()
        let gate = Gate()
        let run = Task {
            try await client.run { event in
                handled.begin()
                if Self.message(event) == "first" {
                    // The bots answer from inside the handler, as the adapter's do.
                    try? await client.send("answer to first", to: "alice", id: 1)
                    await gate.pass()
                }
                handled.end()
                await handled.inbox.append(event)
            }
        }
        defer { run.cancel() }

        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await server.expect("JOIN #help")
        // Two lines in one write, a third later: all three in order.
        try await server.send(":alice!a@alice.host PRIVMSG bot :first\r\n:alice!a@alice.host PRIVMSG bot :second")
        #expect(try await server.expect("PRIVMSG alice") == "PRIVMSG alice :answer to first")
        try await server.send(":alice!a@alice.host PRIVMSG bot :third")
        // The handler waits on "first": a text sent meanwhile still goes out,
        // and nothing after "first" is handed over yet.
        try await client.send("sent while the handler waits", to: "bob", id: 2)
        #expect(try await server.expect("PRIVMSG bob") == "PRIVMSG bob :sent while the handler waits")
        #expect(await gate.reached)
        #expect(await handled.inbox.items.compactMap(Self.message).isEmpty)
        await gate.release()

        for text in ["first", "second", "third"] {
            _ = try await handled.inbox.first("message \(text)") { Self.message($0) == text }
        }
        _ = try await handled.inbox.first("delivery 1") { $0 == .delivered(id: 1, at: clock.date) }
        _ = try await handled.inbox.first("delivery 2") { $0 == .delivered(id: 2, at: clock.date) }
        let all = await handled.inbox.items
        #expect(all.compactMap(Self.message) == ["first", "second", "third"])
        // The stream's order: both lines of the first write were read before
        // the answer to the first was delivered.
        let order = all.compactMap { event -> String? in
            if case .delivered(let id, _) = event { return "delivered \(id)" }
            return Self.message(event)
        }
        #expect(order.firstIndex(of: "second")! < order.firstIndex(of: "delivered 1")!)
        #expect(order.firstIndex(of: "first")! < order.firstIndex(of: "delivered 2")!)
        #expect(handled.mostAtOnce == 1)
        #expect(all.contains { if case .registered = $0 { true } else { false } })
    }

    @Test("run(handlingEventsWith:) returns after the last event, the disconnect included, was handled")
    func returnsAfterTheLastEvent() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = DriverTests.makeClient(connector, clock: clock)
        let handled = Handled()
        let run = Task {
            try await client.run { event in await handled.inbox.append(event) }
        }
        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await server.expect("JOIN #help")
        try await server.send(":alice!a@alice.host PRIVMSG bot :bye")
        _ = try await handled.inbox.first("message") { Self.message($0) == "bye" }
        let stopping = Task { await client.shutdown(quitMessage: "done", drainFor: .seconds(1)) }
        try await server.expect("QUIT")
        server.close()
        try await within(.seconds(10), "run to return") { try await run.value }
        await stopping.value
        let all = await handled.inbox.items
        #expect(all.contains { if case .disconnected = $0 { true } else { false } })
        #expect(await client.events.first { _ in true } == nil)  // the stream stays empty
    }

    @Test("A line's events reach the handler on the client's event loop, with no hop to the cooperative pool (issue 12)")
    func handlerRunsOnTheEventLoop() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = DriverTests.makeClient(connector, clock: clock)
        #expect(client.executor === EventLoop.shared)
        let handled = Handled()
        let onLoop = Mutex<[Bool]>([])
        let run = Task {
            try await client.run { event in
                // The handler is nonisolated code: it runs where the read
                // loop's task prefers to run, the loop's own thread.
                if Self.message(event) != nil { onLoop.withLock { $0.append(EventLoop.shared.isCurrent) } }
                await handled.inbox.append(event)
            }
        }
        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await server.expect("JOIN #help")
        try await server.send(":alice!a@alice.host PRIVMSG bot :one")
        try await server.send(":alice!a@alice.host PRIVMSG bot :two")
        _ = try await handled.inbox.first("message") { Self.message($0) == "two" }
        #expect(onLoop.withLock { $0 } == [true, true])
        let stopping = Task { await client.shutdown(quitMessage: "done", drainFor: .seconds(1)) }
        try await server.expect("QUIT")
        server.close()
        try await within(.seconds(10), "run to return") { try await run.value }
        await stopping.value
    }

    @Test("A handler that does not return (a store that hangs) does not keep the client from stopping")
    func stuckHandlerDoesNotBlockShutdown() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = DriverTests.makeClient(connector, clock: clock)
        let gate = Gate()
        let run = Task {
            try await client.run { event in
                if Self.message(event) == "stuck" { await gate.pass() }
            }
        }
        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await server.expect("JOIN #help")
        try await server.send(":alice!a@alice.host PRIVMSG bot :stuck")
        try await within(.seconds(10), "the handler to be reached") { await gate.waitUntilReached() }
        let stopping = Task { await client.shutdown(quitMessage: "done", drainFor: .seconds(1)) }
        try await server.expect("QUIT")
        server.close()
        // The read loop is still inside the handler and cannot see the close:
        // the client gives up waiting for it after its few seconds and stops.
        clock.advance(by: .seconds(30))
        try await within(.seconds(10), "run to return") { try await run.value }
        try await within(.seconds(10), "shutdown to return") { await stopping.value }
        #expect(await client.state == .stopped)
        await gate.release()
    }
}
