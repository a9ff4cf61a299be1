import Core
import Foundation
import IRC
@testable import IRCClient
import TestSupport
import Testing
import Transport

/// Holds connection attempts until opened (to order the test's steps
/// without racing the client's reconnect).
actor Gate {
    private var isOpen = true
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func close() { isOpen = false }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func pass() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

@Suite("IRCClient against a real ngIRCd", .serialized)
struct NgircdTests {
    static func configuration(_ server: NgircdServer, nick: String = "switchboard",
                              sendQueue: IRCClientConfiguration.SendQueueSettings = .fast) -> IRCClientConfiguration {
        IRCClientConfiguration(
            host: server.host, port: server.port, nick: nick, user: "sb", realName: "Switchboard e2e",
            channels: [.init("#help")], sendQueue: sendQueue,
            backoff: .init(initial: .milliseconds(300), maximum: .seconds(2)))
    }

    /// How long the reconnect test waits for a registration or a join. The
    /// client retries within 2 s (backoff maximum); the rest is headroom for
    /// a loaded CI machine, where the full suite's parallel servers delayed
    /// the first join past 10 s (seen in `.ci/run` and in helpers' full runs).
    /// The test is about coming back at all, not about how fast.
    static let joinTimeout: Duration = .seconds(30)

    @Test("Connects, joins, talks with another user; after the server is killed and restarted it reconnects, rejoins and sends what was queued")
    func reconnectAfterServerRestart() async throws {
        let server = try await NgircdServer.start()
        let gate = Gate()
        let connector: IRCConnector = { configuration, logger in
            await gate.pass()
            return try await IRCConnectors.tcp(configuration, logger)
        }
        let client = IRCClient(configuration: Self.configuration(server), clock: SystemClock(), connector: connector)
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        do {
            let alice = try await IRCTestClient(port: server.port, nick: "alice", timeout: .seconds(15))
            try await alice.join("#help")
            try await log.wait("joined #help", timeout: Self.joinTimeout) { $0 == .joined(channel: "#help") }
            _ = try await alice.expect("switchboard's JOIN") { $0.command == "JOIN" && $0.nick == "switchboard" }

            try await client.send("Hello alice, ticket #1 is open.", to: "alice", priority: .urgent, id: 1)
            try await alice.expectMessage(from: "switchboard", containing: "ticket #1 is open")
            try await log.wait("delivery of 1") { if case .delivered(1, _) = $0 { true } else { false } }

            alice.privmsg("switchboard", "\u{2}hi\u{2} bot")
            let event = try await log.wait("alice's message") { if case .message = $0 { true } else { false } }
            guard case .message(let message) = event else { return }
            #expect(message.senderNick == "alice" && message.plainText == "hi bot" && message.isPrivate)
            #expect(message.account == nil)  // ngircd has no accounts

            // The server dies. The client must notice, keep the text queued, and come back by itself.
            await gate.close()
            await server.kill()
            try await log.wait("disconnected") { if case .disconnected = $0 { true } else { false } }
            try await client.send("Queued during the outage.", to: "#help", id: 2)
            try await server.restart()
            let bob = try await IRCTestClient(port: server.port, nick: "bob", timeout: .seconds(15))
            try await bob.join("#help")
            await gate.open()

            try await log.wait("registered again", timeout: Self.joinTimeout) { if case .registered = $0 { true } else { false } }
            try await log.wait("rejoined #help", timeout: Self.joinTimeout) { $0 == .joined(channel: "#help") }
            let line = try await bob.expectMessage(from: "switchboard", containing: "Queued during the outage")
            #expect(line.params.first == "#help")
            try await log.wait("delivery of 2") { if case .delivered(2, _) = $0 { true } else { false } }
            #expect(await client.isConnected)
        } catch {
            // What the client did before the failure (a join that never came
            // has shown up only on loaded CI machines so far).
            print("reconnect test failed; client events: \(await log.all)")
            run.cancel()
            await server.stop()
            throw error
        }
        await client.shutdown(quitMessage: "test over", drainFor: .seconds(2))
        try await run.value
        await server.stop()
    }

    @Test("Measured: a page queued behind 200 KB lines (fast setting, through ngIRCd) goes out next")
    func pageBehindBulkThroughServer() async throws {
        try await NgircdServer.with { server in
            async let customerUser = IRCTestClient(port: server.port, nick: "customer", timeout: .seconds(15))
            async let agentUser = IRCTestClient(port: server.port, nick: "agent", timeout: .seconds(15))
            let (customer, agent) = try await (customerUser, agentUser)
            let client = IRCClient(configuration: Self.configuration(server), clock: SystemClock())
            let log = EventLog(client.events)
            let run = Task { try await client.run() }
            defer { run.cancel() }
            try await log.wait("joined") { $0 == .joined(channel: "#help") }
            for i in 0..<200 {
                try await client.send("KB answer line \(i): " + String(repeating: "x", count: 300), to: "customer",
                                      priority: .bulk, id: Int64(1000 + i))
            }
            let queuedBehind = await client.queuedTextCount
            let pageSentAt = Date()
            let pageSentInstant = ContinuousClock.now
            try await client.send("PAGE #42 P1 VPN down at ACME", to: "agent", priority: .urgent, id: 42)
            let delivered = try await log.wait("page written") { if case .delivered(42, _) = $0 { true } else { false } }
            guard case .delivered(_, let writtenAt) = delivered else { return }
            let page = try await agent.expectMessage(from: "switchboard", containing: "PAGE #42")
            for i in 0..<200 { try await customer.expectMessage(from: "switchboard", containing: "line \(i):") }
            let hold = writtenAt.timeIntervalSince(pageSentAt)
            let arrival = pageSentInstant.duration(to: page.receivedAt)
            print("measured: page queued behind \(queuedBehind) of 200 KB texts (fast setting, ngIRCd): held in the "
                  + "send queue \(String(format: "%.3f", hold * 1000)) ms, read by the agent \(arrival) after send()")
            // Which KB lines were still queued at that instant is a race with the
            // writer (the order itself is asserted in SendQueueTests); here: it went at once.
            #expect(hold < 1)
        }
    }

    @Test("Nick taken on a real server: registers as the alternative, regains the nick when its holder quits")
    func nickCollisionAndRegain() async throws {
        try await NgircdServer.with { server in
            let holder = try await IRCTestClient(port: server.port, nick: "switchboard", timeout: .seconds(15))
            try await holder.join("#help")
            let client = IRCClient(configuration: Self.configuration(server), clock: SystemClock())
            let log = EventLog(client.events)
            let run = Task { try await client.run() }
            defer { run.cancel() }
            try await log.wait("registered") { $0 == .registered(nick: "switchboard_") }
            try await log.wait("joined") { $0 == .joined(channel: "#help") }
            holder.close()
            try await log.wait("nick regained") { $0 == .nickChanged(old: "switchboard_", new: "switchboard", isSelf: true) }
            #expect(await client.currentNick == "switchboard")
        }
    }
}
