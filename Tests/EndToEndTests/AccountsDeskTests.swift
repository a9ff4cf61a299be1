import Foundation
import Testing
import TestSupport

/// The gateway on a network with services (InspIRCd + Atheme): it logs in
/// with SASL, and agents and linked customers are recognised by their
/// account — never by their nick (SPEC.md "Roles").
@Suite(.serialized) struct AccountsDeskTests {
    @Test func anAgentsNickWithoutTheAgentsAccountGetsNoAgentRights() async throws {
        try await AccountsNetwork.with { network in
            try await network.registerAccounts([
                ("sbdesk", "desk-pass-1"), ("anna", "anna-pass-1"), ("mallory", "mallory-pass-1"),
                ("reederei", "reederei-pass-1"),
            ])
            let gateway = try await GatewayProcess.start(network: .init(
                port: network.port, identifyAgentsByAccount: true, sasl: ("sbdesk", "desk-pass-1"), nick: "sbdesk"))
            do {
                let caps = ["account-tag", "extended-join"]
                // The impostor takes the nick "anna" but is logged in as mallory;
                // the real anna is logged in as anna under another nick.
                async let impostorUser = IRCTestClient(port: network.port, nick: "anna", caps: caps,
                                                       sasl: ("mallory", "mallory-pass-1"), timeout: .seconds(15))
                async let realUser = IRCTestClient(port: network.port, nick: "anna_b", caps: caps,
                                                   sasl: ("anna", "anna-pass-1"), timeout: .seconds(15))
                async let unloggedUser = IRCTestClient(port: network.port, nick: "ben", caps: caps, timeout: .seconds(15))
                async let customerUser = IRCTestClient(port: network.port, nick: "kapitaen", caps: caps,
                                                       sasl: ("reederei", "reederei-pass-1"), timeout: .seconds(15))
                let (impostor, real, unlogged, customer) = try await (impostorUser, realUser, unloggedUser,
                                                                      customerUser)

                impostor.privmsg("sbdesk", "!queue")
                let refused = try await impostor.expectMessage(from: "sbdesk", containing: "command for support staff")
                #expect(refused.params.first == "anna")
                // "ben" is an agent's nick too, and not logged in at all.
                unlogged.privmsg("sbdesk", "!next")
                try await unlogged.expectMessage(from: "sbdesk", containing: "command for support staff")
                // The account decides: anna under another nick is the agent.
                real.privmsg("sbdesk", "!queue")
                let queue = try await real.expect("queue") {
                    $0.nick == "sbdesk" && ($0.text.contains("The queue is empty") || $0.text.hasPrefix("Queue:"))
                }
                #expect(queue.params.first == "anna_b")

                // A customer logged in to an account linked to a contract needs no number and no PIN.
                customer.privmsg("sbdesk", "hello, the radar backup of our fleet office fails")
                let recognised = try await customer.expectMessage(from: "sbdesk", containing: "recognised you by your chat account")
                #expect(recognised.text.contains("Flensburg Reederei GmbH"))
                await gateway.stop()
            } catch {
                print("--- gateway output ---\n\(gateway.output.suffix(6000))\n\(network.logs)")
                await gateway.stop()
                throw error
            }
        }
    }
}
