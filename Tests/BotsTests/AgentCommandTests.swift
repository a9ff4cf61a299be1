import Bots
import Core
import Desk
import Foundation
import Store
import Synchronization
import Testing

/// The agent bot's commands (SPEC "Agent commands").
@Suite struct AgentCommandTests {
    @Test func nextHandsOutContractTicketsFirstThenBySeverityThenAge() async throws {
        let h = try await Harness()
        try await h.ticketWithoutContract("nora", severity: 1)     // #1 P5
        try await h.contractTicket("carl", severity: 3)            // #2 P3
        try await h.ticketWithoutContract("olga", severity: 2)     // #3 P6
        try await h.contractTicket("bert", severity: 1)            // #4 P1
        await h.advance(minutes: 1)
        try await h.contractTicket("cora", severity: 3)            // #5 P3, younger than #2
        let order = await h.say("!queue", from: h.agent("anna"), in: "#agents").in("#agents")
        let lines = try #require(order.first).split(separator: "\n")
        #expect(lines.first == "Warteschlange: 5 Ticket(s), die ersten 5:")
        #expect(lines.dropFirst().map { String($0.prefix(6)) } == ["#4 P1 ", "#2 P3 ", "#5 P3 ", "#1 P5 ", "#3 P6 "])

        var handedOut: [String] = []
        for agent in ["anna", "ben", "chris", "dana", "emil"] {
            let out = await h.say("!next", from: h.agent(agent), in: "#agents")
            handedOut.append(try #require(out.in("#agents").first))
        }
        #expect(handedOut.map { String($0.split(separator: " ")[2]) } == ["#4", "#2", "#5", "#1", "#3"])
        #expect(handedOut[0] == "anna übernimmt #4 P1 – Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen")
        let none = await h.say("!next", from: h.agent("anna"), in: "#agents")
        #expect(none.in("#agents") == ["Kein Ticket wartet auf Bearbeitung."])
    }

    @Test func theCustomerIsToldWhoTookTheTicket() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        let out = await h.say("!take 1", from: h.agent("ben"), in: "#agents")
        #expect(out.to("alice") == ["ben hat Ihr Ticket #1 übernommen und antwortet Ihnen hier."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.assignee == "ben")
        // IRC delivers no message twice: the command's lines are said, not kept in the outbox (issue 9).
        #expect(try await h.store.pages(of: TicketNumber(1)).allSatisfy { !$0.isNotice })
        // Taking it stops the escalation: no re-page at 5 minutes.
        #expect(await h.advance(minutes: 6).pages.isEmpty)
    }

    @Test func twoAgentsTakingOneTicketAtOnceOneWinsAndTheOtherIsToldWho() async throws {
        let stores = InterleavingStores()
        let h = try await Harness(wrapStore: stores.wrap)
        try await h.contractTicket("alice")
        let store = try stores.current()
        // Ben's take (another instance) lands between anna's read and her write.
        store.interleaveBeforeNextUpdate { base in
            let stored = try! await base.ticket(TicketNumber(1))!
            let (taken, events) = try! TicketLifecycle.apply(.take, to: stored.ticket, by: .agent("ben"), at: Harness.monday)
            _ = try! await base.update(stored, to: taken, events: events)
        }
        let out = await h.say("!take 1", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["#1 hat bereits ben."])
        let ticket = try #require(try await h.store.ticket(TicketNumber(1))?.ticket)
        #expect(ticket.assignee == "ben")
        #expect(try await h.store.events(of: ticket.number).filter { $0.kind == .assigned }.count == 1)
        // And sequentially, in one instance, the second is refused the same way.
        let again = await h.say("!take 1", from: h.agent("chris"), in: "#agents")
        #expect(again.in("#agents") == ["#1 hat bereits ben."])
    }

    @Test func repliesAndCustomerMessagesAreRelayedBothWaysWithTheTicketNumber() async throws {
        let h = try await Harness()
        let alice = h.customer("alice", account: "alice")
        try await h.contractTicket("alice")
        await h.say("!take 1", from: h.agent("ben"), in: "#agents")

        var out = await h.say("!reply 1 Hallo, ich schaue mir das an. Ist die NordBox per Web erreichbar?", from: h.agent("ben"))
        #expect(out.to("alice") == ["[#1] ben: Hallo, ich schaue mir das an. Ist die NordBox per Web erreichbar?"])
        #expect(out.to("ben") == ["Antwort zu #1 an alice geschickt."])

        out = await h.say("Nein, \u{3}4die Weboberfläche\u{3} lädt nicht", from: alice)
        #expect(out.to("ben") == ["[#1] Speicherstadt Logistik GmbH: Nein, 4die Weboberfläche lädt nicht"])
        #expect(out.to("alice") == ["An ben weitergeleitet (#1)."])
        out = await h.say("Und die Lampen blinken rot", from: alice)
        #expect(out.to("ben").isEmpty) // within the burst window: relayed together
        out = await h.say("seit 6 Uhr", from: alice)
        out = await h.advance(minutes: 0.1)
        #expect(out.to("ben") == ["[#1] Speicherstadt Logistik GmbH: Und die Lampen blinken rot\n[#1] Speicherstadt Logistik GmbH: seit 6 Uhr"])
        let kinds = try await h.store.events(of: TicketNumber(1)).map(\.kind)
        #expect(kinds.filter { $0 == .agentReply }.count == 1)
        #expect(kinds.filter { $0 == .customerMessage }.count == 2)
    }

    @Test func severityChangesReorderTheQueueAndAreLoggedWithWhoAndWhy() async throws {
        let h = try await Harness()
        try await h.contractTicket("carl", severity: 3)   // #1 P3
        try await h.contractTicket("bert", severity: 2)   // #2 P2
        var out = await h.say("!sev 1 1 Lager steht komplett, 40 Leute ohne Arbeit", from: h.agent("dana"), in: "#agents")
        #expect(out.in("#agents") == ["#1 ist jetzt P1 (Schweregrad 3 → 1, dana: Lager steht komplett, 40 Leute ohne Arbeit)"])
        let event = try #require(try await h.store.events(of: TicketNumber(1)).last)
        #expect(event.kind == .severityChanged && event.actor == .agent("dana") && event.from == "3" && event.to == "1")
        #expect(event.note == "Lager steht komplett, 40 Leute ohne Arbeit")
        #expect(h.logs.lines.contains { $0.contains("severity changed") && $0.contains("agent=dana") })
        out = await h.say("!next", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents").first?.hasPrefix("anna übernimmt #1 P1") == true)
        // A reason is required.
        out = await h.say("!sev 2 4", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["So geht's: !sev N 1-4 Begründung"])
    }

    @Test func someoneWhoIsNotAnAgentIsRefusedAndLogged() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        let out = await h.say("!take 1", from: h.customer("mallory", account: "mallory"), in: "#agents")
        #expect(out.in("#agents") == ["!take ist ein Befehl für Support-Mitarbeitende; Sie sind nicht als solche angemeldet."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.assignee == nil)
        #expect(h.logs.lines.contains { $0.contains("agent command refused") && $0.contains("nick=mallory") })
        #expect(await h.runtime.metrics().agentCommandsRefused == 1)
        // Privately too.
        let direct = await h.say("!queue", from: h.customer("mallory", account: "mallory"))
        #expect(direct.to("mallory") == ["!queue ist ein Befehl für Support-Mitarbeitende; Sie sind nicht als solche angemeldet."])
    }

    @Test func anAgentsNickWithoutTheAgentsAccountIsRefused() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        // Someone took the nick "anna" but is not logged in as anna, or is logged in as someone else.
        for account in [nil, "annabell"] as [String?] {
            let impostor = Person(identity: ChatIdentity(network: "demo", nick: "anna", account: account),
                                  hostmask: "anna!anna@staff.nordlicht.example")
            let out = await h.say("!ack 1", from: impostor, in: "#agents")
            #expect(out.in("#agents").first?.contains("Befehl für Support-Mitarbeitende") == true)
        }
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.respondedAt == nil)
    }

    @Test func onANetworkWithoutAccountsAnAgentIsRecognisedByMaskOnly() async throws {
        let h = try await Harness()
        let real = Person(identity: ChatIdentity(network: "oftc", nick: "anna"), hostmask: "anna!anna@pc1.staff.nordlicht.example")
        let fake = Person(identity: ChatIdentity(network: "oftc", nick: "anna"), hostmask: "anna!anna@dsl.example.net")
        // The network's matcher decides (the IRC one is tested with its adapter).
        h.oftc.accept("anna!anna@pc1.staff.nordlicht.example", mask: "anna!*@*.staff.nordlicht.example")
        let ok = await h.say("!queue", from: real)
        #expect(ok.to("anna") == ["The queue is empty."])
        let refused = await h.say("!queue", from: fake)
        #expect(refused.to("anna") == ["!queue is a command for support staff; you are not signed in as one."])
    }

    @Test func ackStopsTheEscalationAndTellsTheCustomer() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        let out = await h.say("!ack 1", from: h.agent("anna"))
        #expect(out.to("anna") == ["anna hat #1 bestätigt; die Eskalation ist gestoppt."])
        #expect(out.in("#agents") == ["anna hat #1 bestätigt; die Eskalation ist gestoppt."])
        #expect(out.to("alice") == ["anna hat Ihr Ticket #1 gesehen und meldet sich in Kürze."])
        // The pages not yet confirmed are cancelled, and nothing follows.
        #expect(try await h.store.pendingPages(dueBy: .distantFuture, limit: 10).isEmpty)
        #expect(await h.advance(minutes: 20).pages.isEmpty)
        let again = await h.say("!ack 1", from: h.agent("ben"), in: "#agents")
        #expect(again.in("#agents") == ["#1 ist bereits „acknowledged“ – nichts zu bestätigen."])
    }

    @Test func showResolveAndUnknownTickets() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.advance(minutes: 2)
        var out = await h.say("!show 1", from: h.agent("anna"), in: "#agents")
        let shown = try #require(out.in("#agents").first)
        #expect(shown.hasPrefix("""
            #1 P2 · new · seit 2m · nicht zugewiesen
            Kunde: Speicherstadt Logistik GmbH (demo:alice) · Vertrag: Premium · SLA: noch 1h58m
            Betreff: Der VPN-Tunnel zum Lager ist komplett ausgefallen
            | Der VPN-Tunnel zum Lager ist komplett ausgefallen
            """))
        #expect(shown.contains("customer: created P2: Der VPN-Tunnel zum Lager ist komplett ausgefallen"))

        out = await h.say("!resolve 1 Firmware 4.2 eingespielt, Tunnel läuft wieder", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["#1 gelöst von anna: Firmware 4.2 eingespielt, Tunnel läuft wieder – der Kunde ist informiert."])
        #expect(out.to("alice") == ["anna hat Ihr Ticket #1 als gelöst markiert: Firmware 4.2 eingespielt, Tunnel läuft wieder – "
            + "Ist noch etwas offen? Schreiben Sie mir einfach, dann öffne ich es wieder."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .resolved)

        out = await h.say("!show 99", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["Ein Ticket #99 gibt es nicht."])
        out = await h.say("!take", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["So geht's: !take N"])
    }

    @Test func oncallShowsNowAndNextAndAnOverrideSurvivesARestart() async throws {
        let h = try await Harness()
        var out = await h.say("!oncall", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschaft jetzt: anna (bis 2026-03-09 09:00), danach ben. Vertretung: emil."])
        out = await h.say("!oncall override chris until 18:00", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschaft: chris bis 2026-03-02 18:00 (eingetragen von anna)."])
        out = await h.say("!oncall", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschaft jetzt: chris (bis 2026-03-02 18:00), danach anna. Vertretung: emil."])

        try await h.restart()
        _ = h.demo.takeNew()
        out = await h.say("!oncall", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschaft jetzt: chris (bis 2026-03-02 18:00), danach anna. Vertretung: emil."])
        // Pages follow the override.
        out = await h.say("Kundennummer 10042, PIN 4711, Prio 1", from: h.customer("alice", account: "alice"))
        out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: h.customer("alice", account: "alice"))
        #expect(out.to("chris").count == 1)

        out = await h.say("!oncall override zorro until 18:00", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["zorro ist kein eingetragener Support-Mitarbeiter."])
        out = await h.say("!oncall override ben until gestern", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents").first?.hasPrefix("„gestern“ verstehe ich nicht als Zeitpunkt") == true)
    }

    @Test func statsCountWhatIsCheapAndHonest() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice", severity: 1)
        try await h.ticketWithoutContract("nora", severity: 3)
        await h.advance(minutes: 4)
        await h.say("!take 1", from: h.agent("anna"), in: "#agents")
        let carla = h.customer("carla")
        await h.say("keine Kundennummer", from: carla)
        await h.say("Ich habe mein Passwort für die Verwaltungsoberfläche vergessen", from: carla)
        await h.say("ja", from: carla)
        let out = await h.say("!stats", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Offen: 2 (P1 1, P7 1) · heute angelegt: 2 · per KB gelöst: 1 · Median erste Reaktion (heute): 4m"])
    }

    @Test func helpListsTheCommandsFromTheDefinitions() async throws {
        let h = try await Harness()
        let agentHelp = await h.say("!help", from: h.agent("anna"))
        #expect(agentHelp.to("anna").first?.contains("!reply N Text – schickt dem Kunden von Ticket N eine Antwort") == true)
        let customerHelp = await h.say("!help", from: h.customer("zoe"))
        let text = try #require(customerHelp.to("zoe").first)
        #expect(text.contains("!status – Ihre offenen Tickets"))
        #expect(!text.contains("!reply"))
    }
}
