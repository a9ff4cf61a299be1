import Core
import Foundation
import IRC
@testable import IRCClient
import TestSupport
import Testing
import Transport

/// The client over a socketpair, with a scripted server on the other end and
/// a manual clock: no network, no sleeping.
@Suite("IRCClient over a socketpair")
struct DriverTests {
    static func makeClient(_ connector: PairConnector, clock: ManualClock,
                           channels: [IRCClientConfiguration.Channel] = [.init("#help")])
        -> IRCClient<ManualClock>
    {
        let configuration = IRCClientConfiguration(
            host: "127.0.0.1", port: 6667, nick: "bot", user: "sb", channels: channels, sendQueue: .fast)
        return IRCClient(configuration: configuration, clock: clock, seed: 1, connector: connector.connector)
    }

    @Test("Registers, joins, and a text sent arrives, with a delivery report")
    func registerAndSend() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = Self.makeClient(connector, clock: clock)
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        defer { run.cancel() }

        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await server.expect("JOIN #help")
        try await server.send(":bot!sb@client.host JOIN #help", ":srv 353 bot = #help :bot @alice",
                              ":srv 366 bot #help :End of NAMES")
        try await log.wait("joined") { $0 == .joined(channel: "#help") }
        #expect(await client.isConnected)
        #expect(await client.members(of: "#help") == ["alice", "bot"])

        try await client.send("Ticket #42 is open.\nAn agent will reply.", to: "alice", priority: .urgent, id: 42)
        #expect(try await server.expect("PRIVMSG") == "PRIVMSG alice :Ticket #42 is open.")
        #expect(try await server.expect("PRIVMSG") == "PRIVMSG alice :An agent will reply.")
        try await log.wait("delivery report") { $0 == .delivered(id: 42, at: clock.date) }

        try await server.send(":alice!a@alice.host PRIVMSG bot :hello there")
        let event = try await log.wait("message") { if case .message = $0 { true } else { false } }
        guard case .message(let message) = event else { return }
        #expect(message.senderNick == "alice" && message.text == "hello there" && message.isPrivate)
    }

    @Test("The server drops the connection: the client reconnects after the backoff, re-registers, rejoins, and sends what was queued")
    func reconnect() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = Self.makeClient(connector, clock: clock)
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        defer { run.cancel() }

        let first = try await ScriptedServer.next(from: connector)
        try await first.register()
        try await first.expect("JOIN #help")
        try await first.send(":bot!sb@client.host JOIN #help")
        try await log.wait("joined") { $0 == .joined(channel: "#help") }

        first.close()
        let event = try await log.wait("disconnected") { if case .disconnected = $0 { true } else { false } }
        guard case .disconnected(_, let reconnectAt?) = event else {
            Issue.record("no reconnect scheduled: \(event)")
            return
        }
        // Queued while disconnected: kept for the next connection.
        try await client.send("queued during the outage", to: "#help", id: 7)
        // One refused attempt first: the backoff grows, and the client keeps trying.
        connector.refuse(next: 1)
        clock.advance(to: WallInstant(reconnectAt))
        let refused = try await log.wait("second disconnected") { if case .disconnected = $0 { true } else { false } }
        guard case .disconnected(let reason, let retryAt?) = refused else { return }
        #expect(reason.contains("Connection refused"))
        #expect(retryAt.timeIntervalSince(reconnectAt) >= 3.2)
        clock.advance(to: WallInstant(retryAt))

        let second = try await ScriptedServer.next(from: connector)
        try await second.register()
        try await second.expect("JOIN #help")
        #expect(try await second.expect("PRIVMSG") == "PRIVMSG #help :queued during the outage")
        try await log.wait("delivery") { if case .delivered(7, _) = $0 { true } else { false } }
    }

    @Test("Shutdown sends what is queued, then QUIT, and run() returns when the server closes")
    func shutdownDrains() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = Self.makeClient(connector, clock: clock, channels: [])
        let log = EventLog(client.events)
        let run = Task { try await client.run() }

        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await log.wait("registered") { if case .registered = $0 { true } else { false } }
        for i in 1...3 { try await client.send("line \(i)", to: "#help", priority: .bulk, id: Int64(i)) }
        let shutdown = Task { await client.shutdown(quitMessage: "maintenance", drainFor: .seconds(5)) }
        for i in 1...3 { #expect(try await server.expect("PRIVMSG") == "PRIVMSG #help :line \(i)") }
        #expect(try await server.expect("QUIT") == "QUIT maintenance")
        try await server.send("ERROR :Closing Link: bot (Quit: maintenance)")
        server.close()
        await shutdown.value
        try await run.value
        #expect(await client.state == .stopped)
        let events = await log.all
        #expect(events.filter { if case .delivered = $0 { true } else { false } }.count == 3)
        #expect(!events.contains { if case .error = $0 { true } else { false } })
    }

    @Test("Keep-alive through the driver: PING after 90 s of silence, reconnect 60 s later when nothing comes back")
    func keepAliveDead() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = Self.makeClient(connector, clock: clock, channels: [])
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        defer { run.cancel() }

        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await log.wait("registered") { if case .registered = $0 { true } else { false } }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(90))
        try await server.expect("PING switchboard-1")
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(60))
        try await server.expectClosed()
        let event = try await log.wait("disconnected") { if case .disconnected = $0 { true } else { false } }
        guard case .disconnected(let reason, _) = event else { return }
        #expect(reason.contains("keep-alive"))
    }

    @Test("A PONG is written before 200 queued bulk lines")
    func pongFirst() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let configuration = IRCClientConfiguration(host: "127.0.0.1", nick: "bot", sendQueue: .standard)
        let client = IRCClient(configuration: configuration, clock: clock, seed: 1, connector: connector.connector)
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        defer { run.cancel() }
        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await log.wait("registered") { if case .registered = $0 { true } else { false } }
        for i in 0..<200 { try await client.send("KB line \(i)", to: "customer", priority: .bulk) }
        #expect(try await server.expect("PRIVMSG") == "PRIVMSG customer :KB line 0")
        // The burst is used up and the manual clock stands still: the rest wait.
        try await server.send("PING :are-you-there")
        var next = try await server.expect("P")
        while next.hasPrefix("PRIVMSG") { next = try await server.expect("P") }  // what the burst allowed
        #expect(next == "PONG are-you-there")
        #expect(await client.queuedTextCount > 190)
    }

    @Test("run() refuses a second call; cancelling run() closes the connection")
    func cancellation() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = Self.makeClient(connector, clock: clock, channels: [])
        let run = Task { try await client.run() }
        let server = try await ScriptedServer.next(from: connector)
        await #expect(throws: IRCClientError.alreadyRunning) { try await client.run() }
        run.cancel()
        try await server.expectClosed()
        await #expect(throws: CancellationError.self) { try await run.value }
    }
}
