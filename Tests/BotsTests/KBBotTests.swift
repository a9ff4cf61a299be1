import Bots
import Core
import Desk
import Foundation
import Testing

/// `!kb` (SPEC "Knowledge base").
@Suite struct KBBotTests {
    @Test func wordsListTheBestArticlesOnTheBulkLaneWithAnExpiry() async throws {
        let h = try await Harness()
        let out = await h.say("!kb vpn bricht ständig ab", from: h.customer("gast"), in: "#random", addressed: false)
        let answer = try #require(out.first)
        #expect(answer.recipient == .channel("#random"))
        #expect(answer.lane == .bulk)
        #expect(answer.expiresAt == Harness.monday.addingTimeInterval(60))
        let lines = answer.text.split(separator: "\n")
        #expect(lines.first == "Artikel zu „vpn bricht ständig ab“:")
        #expect(lines.count >= 2 && lines.count <= 4)
        #expect(lines[1] == "KB-1011 VPN-Verbindung bricht ab – https://docs.nordlicht.example/kb/KB-1011"
            || lines.dropFirst().contains { $0.hasPrefix("KB-1011 ") })
    }

    @Test func anIDGivesTheSummaryPrivately() async throws {
        let h = try await Harness()
        let out = await h.say("!kb kb-1012", from: h.customer("gast"))
        let text = try #require(out.to("gast").first)
        #expect(text.hasPrefix("KB-1012 VPN connection keeps dropping: If the VPN connection with NordBox Connect drops"))
        #expect(text.hasSuffix("– https://docs.nordlicht.example/kb/KB-1012"))
        #expect(!text.contains("\n"))
    }

    @Test func nothingFoundAndUsage() async throws {
        let h = try await Harness()
        var out = await h.say("!kb Kaffeemaschine", from: h.customer("gast"))
        #expect(out.to("gast") == ["Zu „Kaffeemaschine“ habe ich keinen passenden Artikel gefunden. Die ganze Dokumentation: "
            + "https://docs.nordlicht.example/kb"])
        out = await h.say("!kb", from: h.customer("gast"))
        #expect(out.to("gast").first?.hasPrefix("So geht's: !kb Suchwörter") == true)
    }

    @Test func anEnglishNetworksChannelIsAnsweredInEnglish() async throws {
        let h = try await Harness()
        let out = await h.say("!kb password reset", from: h.customer("guest", network: "oftc"), in: "#nordbox",
                              addressed: false)
        let text = try #require(out.in("#nordbox").first)
        #expect(text.hasPrefix("Articles for “password reset”:"))
        #expect(text.contains("KB-1023"))
    }
}
