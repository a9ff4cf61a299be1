import Bots
import Core
import Desk
import Foundation
import Store
import Testing

/// The runtime's seams: reload, metrics, accounts, the console's agent ids.
@Suite struct RuntimeTests {
    @Test func reloadKeepsTheOverridesAgentsMadeAndUsesTheNewTexts() async throws {
        let h = try await Harness()
        await h.say("!oncall override dana until 4h", from: h.agent("anna"), in: "#agents")
        await h.runtime.reload(desk: try deskFixture(), definitions: shippedDefinitions)
        let out = await h.say("!oncall", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents").first?.hasPrefix("Bereitschaft jetzt: dana (bis 2026-03-02 14:00)") == true)
    }

    @Test func metricsCountWhatHappened() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        try await h.ticketWithoutContract("nora")
        await h.confirm(h.demo.all)
        await h.say("!queue", from: h.agent("anna"), in: "#agents")
        await h.say("!queue", from: h.customer("mallory"), in: "#agents")
        await h.say("!kb vpn", from: h.customer("gast"))
        let metrics = await h.runtime.metrics()
        #expect(metrics.ticketsCreatedContract == 1 && metrics.ticketsCreatedNoContract == 1)
        #expect(metrics.pagesSent == 3 && metrics.pagesInFlight == 0)
        #expect(metrics.agentCommands == 1 && metrics.agentCommandsRefused == 1)
        #expect(metrics.kbQueries == 1)
        #expect(metrics.queueLength == 2)
        #expect(metrics.conversationsActive == 2) // alice and nora; a !kb question is no conversation
        #expect(metrics.storeErrors == 0)
    }

    @Test func aNickConversationContinuesUnderTheAccountAfterLogin() async throws {
        let h = try await Harness()
        await h.say("Kundennummer 10042", from: h.customer("lina"))
        await h.runtime.handle(.accountChanged(network: "demo", nick: "lina", account: "lina"))
        let out = await h.say("4711", from: h.customer("lina", account: "lina"))
        #expect(out.to("lina").joined().contains("Ihr Vertrag ist bestätigt"))
    }

    @Test func aRelayedReplyFindsTheCustomerUnderTheirNewNick() async throws {
        let h = try await Harness()
        let paul = h.customer("paul")
        await h.say("keine Kundennummer, Schweregrad 3", from: paul)
        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: paul)
        await h.runtime.handle(.nickChanged(network: "demo", from: "paul", to: "paul_"))
        await h.say("!take 1", from: h.agent("ben"), in: "#agents")
        let out = await h.say("!reply 1 Welche Firmware-Version?", from: h.agent("ben"))
        #expect(out.to("paul_") == ["[#1] ben: Welche Firmware-Version?"])
    }

    @Test func theConsoleTrustsAgentIDsAsAccounts() async throws {
        let h = try await Harness()
        let console = FakeNetwork(name: "console")
        await h.runtime.attach(console, settings: NetworkBotSettings(name: "console", agentsChannel: "#agents",
                                                                      hasAccounts: false, trustsAgentIDs: true, language: "en"))
        let message = ChatMessage(sender: ChatIdentity(network: "console", nick: "you", account: "ben"), place: .direct,
                                  text: "!oncall", addressedToBot: true, time: h.clock.date)
        await h.runtime.handle(.message(message))
        #expect(console.takeNew().to("you") == ["On duty now: anna (until 2026-03-09 09:00), then ben. Backup: emil."])
        let stranger = ChatMessage(sender: ChatIdentity(network: "console", nick: "you", account: "customer"),
                                   place: .direct, text: "!queue", addressedToBot: true, time: h.clock.date)
        await h.runtime.handle(.message(stranger))
        #expect(console.takeNew().to("you") == ["!queue is a command for support staff; you are not signed in as one."])
    }

    @Test func anUnknownCommandIsExplained() async throws {
        let h = try await Harness()
        let out = await h.say("!frobnicate", from: h.customer("zoe"))
        #expect(out.to("zoe") == ["Den Befehl !frobnicate kenne ich nicht; „!help“ zeigt, was ich kann."])
    }

    @Test func pagesGoToTheFirstNetworkWithAnAgentsChannel() async throws {
        let h = try await Harness()
        // A customer on oftc (no agents' channel): pages go to demo's #agents.
        let olaf = h.customer("olaf", network: "oftc")
        await h.say("Customer number 10042, PIN 4711, severity 2", from: olaf)
        let out = await h.say("Our NordBox L does not boot anymore, all LEDs are red", from: olaf)
        #expect(out.to("olaf").last?.hasPrefix("Your ticket #1 (P2) is saved. I've just paged anna") == true)
        let pages = h.demo.takeNew().pages
        #expect(pages.count == 2 && pages.allSatisfy { $0.network == "demo" })
    }
}
