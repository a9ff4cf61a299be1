import Bots
import Core
import Desk
import Foundation
import Store
import Testing

/// `!wait`, `!close` and removing an on-call override (SPEC "Agent commands").
@Suite struct LifecycleCommandTests {
    @Test func waitTellsTheCustomerAndTheirAnswerBringsTheTicketBack() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.say("!take 1", from: h.agent("anna"), in: "#agents")
        var out = await h.say("!wait 1 Welche Firmware-Version läuft?", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["#1 wartet auf den Kunden (anna): Welche Firmware-Version läuft?"])
        #expect(out.to("alice") == [
            "Zu Ihrem Ticket #1 braucht anna Ihre Rückmeldung: Welche Firmware-Version läuft? – antworten Sie einfach hier.",
        ])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .waitingForCustomer)

        out = await h.say("Version 4.2.1", from: h.customer("alice", account: "alice"))
        #expect(out.to("anna") == ["[#1] Speicherstadt Logistik GmbH: Version 4.2.1"])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .inProgress)
    }

    @Test func waitNeedsANoteAndTheTicketInHand() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        var out = await h.say("!wait 1", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["So geht's: !wait N Notiz"])
        out = await h.say("!wait 1 Rückfrage", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["!wait geht bei #1 nicht: es ist „new“."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state != .waitingForCustomer)
        #expect(out.to("alice").isEmpty)
    }

    @Test func closeEndsAResolvedTicketAndRefusesAnOpenOne() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.say("!take 1", from: h.agent("anna"), in: "#agents")
        var out = await h.say("!close 1", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["!close geht bei #1 nicht: es ist „in_progress“."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .inProgress)

        await h.say("!resolve 1 Tunnel neu aufgebaut", from: h.agent("anna"), in: "#agents")
        out = await h.say("!close 1 bestätigt", from: h.agent("anna"), in: "#agents")
        #expect(out.in("#agents") == ["#1 geschlossen von anna."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .closed)
        // The customer's next line is a new request, not a reopened ticket.
        out = await h.say("Hallo, noch etwas anderes", from: h.customer("alice", account: "alice"))
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .closed)
        #expect(out.to("anna").isEmpty)
        #expect(out.to("alice").first?.hasPrefix("Guten Tag!") == true)
    }

    @Test func anOverrideCanBeRemovedAndStaysRemovedAfterARestart() async throws {
        let h = try await Harness()
        await h.say("!oncall override chris until 18:00", from: h.agent("anna"), in: "#agents")
        var out = await h.say("!oncall override chris off", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschafts-Vertretung für chris entfernt (1, von ben). Bereitschaft jetzt: anna."])
        out = await h.say("!oncall", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschaft jetzt: anna (bis 2026-03-09 09:00), danach ben. Vertretung: emil."])
        #expect(try await h.store.rosterOverrides(endingAfter: h.clock.date).isEmpty)

        try await h.restart()
        _ = h.demo.takeNew()
        out = await h.say("!oncall", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Bereitschaft jetzt: anna (bis 2026-03-09 09:00), danach ben. Vertretung: emil."])
        out = await h.say("!oncall override chris aus", from: h.agent("ben"), in: "#agents")
        #expect(out.in("#agents") == ["Für chris ist keine Vertretung eingetragen."])
        out = await h.say("!oncall override chris off", from: h.customer("mallory"), in: "#agents")
        #expect(out.in("#agents") == ["!oncall ist ein Befehl für Support-Mitarbeitende; Sie sind nicht als solche angemeldet."])
    }
}
