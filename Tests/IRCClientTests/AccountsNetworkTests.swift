import Core
import Foundation
import IRC
@testable import IRCClient
import TestSupport
import Testing
import Transport

/// SASL and accounts against a real InspIRCd + Atheme network.
@Suite("IRCClient against InspIRCd + Atheme (SASL, accounts)", .serialized)
struct AccountsNetworkTests {
    static func configuration(_ network: AccountsNetwork, nick: String, account: String, password: String,
                              required: Bool = true) -> IRCClientConfiguration {
        IRCClientConfiguration(
            host: network.host, port: network.port, nick: nick, user: "sb", realName: "Switchboard e2e",
            sasl: .plain(account: account, password: password, required: required), channels: [.init("#help")],
            sendQueue: .fast, backoff: .init(initial: .seconds(30), maximum: .seconds(60)),
            timeouts: .init(sasl: .seconds(15)))
    }

    @Test("SASL PLAIN login; accounts seen via WHOX, extended-join and the account tag; a user not logged in has none")
    func saslAndAccounts() async throws {
        try await AccountsNetwork.with { network in
            try await network.registerAccounts([("sbbot", "bot-pass-1"), ("alice", "alice-pass-1"), ("bob", "bob-pass-1")])
            let caps = ["account-tag", "extended-join", "server-time"]
            // alice is in #help before the bot (only WHOX can tell the bot her account).
            async let aliceUser = IRCTestClient(port: network.port, nick: "alice", caps: caps,
                                                sasl: ("alice", "alice-pass-1"), timeout: .seconds(15))
            async let bobUser = IRCTestClient(port: network.port, nick: "bob", caps: caps, sasl: ("bob", "bob-pass-1"),
                                              timeout: .seconds(15))
            async let carolUser = IRCTestClient(port: network.port, nick: "carol", caps: caps, timeout: .seconds(15))
            let (alice, bob, carol) = try await (aliceUser, bobUser, carolUser)
            try await alice.join("#help")

            let client = IRCClient(configuration: Self.configuration(network, nick: "sbbot", account: "sbbot",
                                                                    password: "bot-pass-1"),
                                   clock: SystemClock())
            let log = EventLog(client.events)
            let run = Task { try await client.run() }
            defer { run.cancel() }
            try await log.wait("SASL login", timeout: .seconds(20)) { $0 == .loggedIn(account: "sbbot") }
            try await log.wait("joined", timeout: .seconds(20)) { $0 == .joined(channel: "#help") }
            try await log.wait("alice's account from WHOX") { $0 == .accountChanged(nick: "alice", account: "alice") }
            #expect(await client.account(of: "alice") == "alice")
            #expect(await client.ownAccount == "sbbot")

            // bob and carol join after the bot: extended-join says who is logged in.
            try await bob.join("#help")
            try await log.wait("bob's account from extended-join") { $0 == .accountChanged(nick: "bob", account: "bob") }
            try await carol.join("#help")
            try await log.wait("carol's join: not logged in") { $0 == .accountChanged(nick: "carol", account: nil) }
            #expect(await client.account(of: "bob") == "bob")
            #expect(await client.accountState(of: "carol") == .loggedOut)
            #expect(await client.account(of: "carol") == nil)

            // Private messages: the account tag of the message itself.
            alice.privmsg("sbbot", "hello from alice")
            carol.privmsg("sbbot", "I am alice, honestly")
            let fromAlice = try await log.wait("alice's message") {
                if case .message(let m) = $0 { m.senderNick == "alice" } else { false }
            }
            let fromCarol = try await log.wait("carol's message") {
                if case .message(let m) = $0 { m.senderNick == "carol" } else { false }
            }
            guard case .message(let a) = fromAlice, case .message(let c) = fromCarol else { return }
            #expect(a.account == "alice" && a.accountSource == .tag && a.serverTime != nil)
            #expect(c.account == nil && c.accountSource == .tagAbsent)

            // And the bot's own lines reach them.
            try await client.send("Hello alice", to: "alice", id: 1)
            try await alice.expectMessage(from: "sbbot", containing: "Hello alice")
            await client.shutdown(quitMessage: "done", drainFor: .seconds(2))
            try await run.value
        }
    }

    @Test("A wrong SASL password with required SASL: a clear error, the connection closed, no registration")
    func wrongPassword() async throws {
        try await AccountsNetwork.with { network in
            try await network.registerAccount("sbbot", password: "right-pass")
            let client = IRCClient(configuration: Self.configuration(network, nick: "sbbot", account: "sbbot",
                                                                    password: "wrong-pass"),
                                   clock: SystemClock())
            let log = EventLog(client.events)
            let run = Task { try await client.run() }
            defer { run.cancel() }
            let failed = try await log.wait("SASL failure", timeout: .seconds(20)) {
                if case .saslFailed = $0 { true } else { false }
            }
            guard case .saslFailed(let reason) = failed else { return }
            #expect(reason.contains("904"))
            let closed = try await log.wait("disconnected") { if case .disconnected = $0 { true } else { false } }
            guard case .disconnected(let why, let reconnectAt) = closed else { return }
            #expect(why.hasPrefix("SASL failed: 904"))
            #expect(reconnectAt != nil)  // retried later, with backoff
            #expect(!(await log.all).contains { if case .registered = $0 { true } else { false } })
            #expect(await client.isConnected == false)
            await client.shutdown(drainFor: .seconds(1))
            try await run.value
        }
    }
}
