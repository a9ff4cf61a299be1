import Bots
import Core
import Desk
import Foundation
import Testing

/// The bots compare names only by the network's own rule, and take a `/me`
/// line for what it is.
@Suite struct NetworkSeamTests {
    /// Two users whose ids differ only in case write at the same time.
    func conversations(on network: FakeNetwork, _ h: Harness) async throws -> Int {
        await h.runtime.attach(network, settings: NetworkBotSettings(name: network.name, hasAccounts: true, language: "en"))
        for id in ["@Alice:example.org", "@alice:example.org"] {
            let message = ChatMessage(sender: ChatIdentity(network: network.name, nick: id), principal: .account(id),
                                      place: .direct, text: "Hello, our VPN is down since this morning",
                                      addressedToBot: true, time: h.clock.date)
            await h.runtime.handle(.message(message))
        }
        await h.runtime.waitUntilIdle()
        return await h.runtime.metrics().conversationsActive
    }

    /// Whom the bots answered on `network`.
    func answered(_ network: FakeNetwork) -> Set<String> {
        Set(network.all.compactMap { if case .user(let to) = $0.recipient { to } else { nil } })
    }

    @Test func aCaseSensitiveNetworkKeepsTwoUsersApart() async throws {
        let h = try await Harness()
        let matrix = FakeNetwork(name: "matrix", naming: { name, _ in name })
        #expect(try await conversations(on: matrix, h) == 2)
        #expect(answered(matrix) == ["@Alice:example.org", "@alice:example.org"], "each is answered under their own id")
    }

    /// The contrast: under a folding rule the two ids are one person (so the
    /// test above fails if the bots fold by themselves).
    @Test func aCaseFoldingNetworkTakesThemForOne() async throws {
        let h = try await Harness()
        let folding = FakeNetwork(name: "folding")
        #expect(try await conversations(on: folding, h) == 1)
        #expect(answered(folding) == ["@Alice:example.org"])
    }

    @Test func aMeLineIsNeverACommand() async throws {
        let h = try await Harness()
        let anna = h.agent("anna")
        let action = ChatMessage(sender: anna.identity, principal: anna.principal, place: .channel("#agents"),
                                 text: "!queue", addressedToBot: false, time: h.clock.date, isAction: true)
        await h.runtime.handle(.message(action))
        await h.runtime.waitUntilIdle()
        #expect(h.demo.takeNew().isEmpty)
        // The same words said are the command.
        let out = await h.say("!queue", from: anna, in: "#agents")
        #expect(!out.in("#agents").isEmpty)
    }

    @Test func channelsCompareByTheNetworksRule() async throws {
        let h = try await Harness()
        // demo folds case like IRC: "#AGENTS" is the agents' channel.
        let out = await h.say("!queue", from: h.agent("anna"), in: "#AGENTS")
        #expect(!out.in("#AGENTS").isEmpty)
    }
}
