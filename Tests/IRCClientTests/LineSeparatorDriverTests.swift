import Core
import Foundation
import IRC
@testable import IRCClient
import TestSupport
import Testing
import Transport

/// Issue 15 over a socketpair: U+0085 and U+2028 in a customer's message
/// and in the bot's answer are text, not line breaks (only CR/LF frames).
@Suite("Line separators through the client: only CR/LF frames lines")
struct LineSeparatorDriverTests {
    @Test("A message with U+2028 and U+0085 arrives as one message; an answer with them goes out as one line")
    func separatorsAreText() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let client = DriverTests.makeClient(connector, clock: clock)
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        defer { run.cancel() }

        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await server.expect("JOIN #help")

        let customerText = "VPN down\u{2028}PRIVMSG agent :fake\u{0085}third part"
        try await server.send(":alice!a@alice.host PRIVMSG bot :\(customerText)")
        let event = try await log.wait("message") { if case .message = $0 { true } else { false } }
        guard case .message(let message) = event else { return }
        #expect(message.text == customerText)

        try await client.send("Ticket #7\u{2028}P1\u{0085}paged", to: "alice", id: 7)
        #expect(try await server.expect("PRIVMSG") == "PRIVMSG alice :Ticket #7\u{2028}P1\u{0085}paged")
        try await log.wait("delivery report") { $0 == .delivered(id: 7, at: clock.date) }
        let count = await log.all.filter { if case .message = $0 { true } else { false } }.count
        #expect(count == 1)
    }
}
