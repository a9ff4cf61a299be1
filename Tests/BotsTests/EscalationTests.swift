import Bots
import Core
import Desk
import Foundation
import Store
import Testing

/// Pages, their repetition and widening, coverage and SLA (SPEC "Escalation").
@Suite struct EscalationTests {
    @Test func anUnacknowledgedPageIsRepeatedAfterFiveMinutesAndWidenedAfterFifteen() async throws {
        let h = try await Harness()
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: alice)
        let first = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)
        #expect(first.pages.count == 2)
        await h.confirm(first)

        #expect(await h.advance(minutes: 4.9).pages.isEmpty)
        let repeated = await h.advance(minutes: 0.1)
        #expect(repeated.to("anna") == ["ERNEUTER PAGE #1 P2, seit 5 min unbestätigt – Speicherstadt Logistik GmbH: Der "
            + "VPN-Tunnel zum Lager ist komplett ausgefallen – bitte „!ack 1“ oder „!take 1“"])
        #expect(repeated.to("emil").count == 1) // the backup
        #expect(repeated.in("#agents") == ["anna, emil: ERNEUTER PAGE #1 P2, seit 5 min unbestätigt – Speicherstadt Logistik "
            + "GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen (!ack 1 / !take 1)"])
        #expect(repeated.pages.count == 3 && repeated.pages.allSatisfy { $0.lane == .urgent })
        await h.confirm(repeated)

        #expect(await h.advance(minutes: 9.9).pages.isEmpty)
        let everyone = await h.advance(minutes: 0.1)
        #expect(everyone.in("#agents") == ["ALLE (anna, ben, chris, dana, emil): #1 P2 seit 15 min unbestätigt – "
            + "Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen – wer kann? (!take 1)"])
        await h.confirm(everyone)
        #expect(try await h.store.escalationSteps(of: TicketNumber(1)) == [0, 1, 2])
        #expect(try await h.store.events(of: TicketNumber(1)).filter { $0.kind == .paged }.count == 3)
        // The policy has no more steps.
        #expect(await h.advance(minutes: 60).pages.isEmpty)
    }

    @Test func anOnDutyAgentWhoIsNotOnlineBringsTheNextStepForwardAndTheCustomerIsToldSo() async throws {
        let h = try await Harness()
        h.demo.setPresence("anna", false)
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: alice)
        let out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)
        // The first page goes out as always; the backup follows at once, not after 5 minutes.
        #expect(out.to("anna").count == 1)
        #expect(out.to("emil") == ["PAGE #1 P2 – Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett "
            + "ausgefallen – bitte „!ack 1“ oder „!take 1“"])
        #expect(out.in("#agents").last == "anna, emil: PAGE #1 P2 – anna hat Bereitschaft, ist aber nicht online – "
            + "Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen (!ack 1 / !take 1)")
        #expect(out.to("alice").last == "Nachtrag zu #1: anna ist gerade nicht online. Ich habe deshalb zusätzlich emil "
            + "benachrichtigt; wer zuerst da ist, meldet sich hier bei Ihnen.")
        #expect(try await h.store.escalationSteps(of: TicketNumber(1)) == [0, 1])
        await h.confirm(out)
        // The 5-minute step is done; the whole channel follows at 15 minutes as usual.
        #expect(await h.advance(minutes: 14.9).pages.isEmpty)
        #expect(await h.advance(minutes: 0.1).in("#agents").count == 1)
    }

    @Test func anOnDutyAgentWhoIsOnlineIsPagedAlone() async throws {
        let h = try await Harness()
        h.demo.setPresence("anna", true)
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: alice)
        let out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)
        #expect(out.to("emil").isEmpty)
        #expect(out.pages.count == 2)
        #expect(try await h.store.escalationSteps(of: TicketNumber(1)) == [0])
    }

    @Test func ackBetweenStepsStopsTheEscalation() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.confirm(h.demo.all)
        await h.advance(minutes: 3)
        await h.say("!ack 1", from: h.agent("anna"), in: "#agents")
        #expect(await h.advance(minutes: 30).pages.isEmpty)
        #expect(try await h.store.escalationSteps(of: TicketNumber(1)) == [0])
    }

    @Test func noOneOnDutyPagesTheBackupSaysSoAndTellsTheCustomerHonestly() async throws {
        let h = try await Harness(agentsEdit: { text in
            text.replacingOccurrences(of: "  overrides: [\n", with: """
                  overrides: [
                    { agent: null, from: "2026-03-02 00:00", until: "2026-03-09 09:00", reason: "test: rota gap" },

                """)
        })
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 1", from: alice)
        let out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)
        #expect(out.to("emil").count == 1)
        #expect(out.to("anna").isEmpty)
        #expect(out.in("#agents") == ["Niemand ist gerade im Bereitschaftsdienst eingeteilt! emil, bitte übernehmen: PAGE #1 "
            + "P1 – Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen (!ack 1 / !take 1)"])
        #expect(out.to("alice").last == "Ihr Ticket #1 (P1) ist gespeichert. Im Moment ist niemand für den "
            + "Bereitschaftsdienst eingeteilt – ich habe deshalb emil als Vertretung benachrichtigt; emil meldet sich hier bei Ihnen.")
    }

    @Test func afterHoursABasicContractGetsAnHonestAnswerAndThePageAtOpening() async throws {
        // Saturday 2026-03-07 12:00 in Berlin: closed until Monday 08:00.
        let saturday = Date(timeIntervalSince1970: 1_772_881_200)
        let h = try await Harness(start: saturday)
        let hansen = h.customer("hansen", account: "hansen-it")
        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: hansen)
        let out = await h.say("1", from: hansen)
        #expect(out.pages.isEmpty)
        #expect(out.to("anna").isEmpty)
        #expect(out.to("hansen").last == "Ihr Ticket #1 (P1) ist gespeichert. Ihr Basic-Vertrag umfasst für diesen "
            + "Schweregrad Support zu unseren Geschäftszeiten; wir sind ab Montag, 09.03.2026, 08:00 Uhr wieder für Sie "
            + "da, und dann wird sofort jemand benachrichtigt.")
        #expect(out.in("#agents") == ["Neues Ticket #1 P1 außerhalb der Geschäftszeiten (Basic) – Page ab 2026-03-09 08:00 – "
            + "Bäckerei Hansen GmbH: Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot (!take 1)"])
        #expect(await h.runtime.nextDeadline() != nil)

        // Sunday evening: still nothing. Monday 08:00: the on-duty agent is paged.
        #expect(await h.advance(minutes: 30 * 60).pages.isEmpty)
        let monday = await h.advance(minutes: 14 * 60)
        #expect(monday.to("anna").first?.hasPrefix("PAGE #1 P1 – Bäckerei Hansen GmbH") == true)
        #expect(monday.in("#agents").first?.hasPrefix("anna: PAGE #1 P1") == true)
    }

    @Test func theSLAWarnsAtEightyPercentAndAtBreachOnce() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice", severity: 1) // premium P1: 1h, 24/7
        await h.confirm(h.demo.all)
        var out = await h.advance(minutes: 47.9)
        #expect(!out.text.contains("SLA"))
        out = await h.advance(minutes: 0.1)
        #expect(out.in("#agents") == ["SLA-Warnung #1 P1 (Premium): 80 % der Reaktionszeit von 1h verbraucht, noch 12m – "
            + "Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen (!ack 1)"])
        #expect(out.first { $0.text.hasPrefix("SLA") }?.lane == .urgent)
        out = await h.advance(minutes: 12)
        #expect(out.in("#agents").contains("SLA VERLETZT #1 P1 (Premium): Reaktionszeit von 1h überschritten, noch keine "
            + "Antwort – Speicherstadt Logistik GmbH: Der VPN-Tunnel zum Lager ist komplett ausgefallen (!ack 1)"))
        let kinds = try await h.store.events(of: TicketNumber(1)).map(\.kind)
        #expect(kinds.filter { $0 == .slaWarning }.count == 1 && kinds.filter { $0 == .slaBreach }.count == 1)
        // Not posted again, also not after a restart.
        try await h.restart()
        #expect(!h.demo.takeNew().text.contains("SLA"))
        #expect(!(await h.advance(minutes: 60)).text.contains("SLA"))
    }

    @Test func aResponseInTimeMeansNoSLAWarning() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice", severity: 1)
        await h.advance(minutes: 10)
        await h.say("!take 1", from: h.agent("anna"), in: "#agents")
        #expect(!(await h.advance(minutes: 120)).text.contains("SLA"))
    }

    @Test func theTimerLoopSleepsUntilTheEarliestDeadlineAndWakesForNewOnes() async throws {
        let h = try await Harness()
        let timers = Task { await h.runtime.runTimers() }
        defer { timers.cancel() }
        #expect(await h.clock.waitForSleepers(1))
        // Nothing to do: it sleeps (at most a day), it does not poll.
        #expect(h.clock.nextDeadline == WallInstant(Harness.monday.addingTimeInterval(86_400)))

        try await h.contractTicket("alice")
        await h.confirm(h.demo.all)
        // The lines just sent armed the send-queue watch (5 s on): it looks
        // once, finds nothing waiting and is not armed again.
        let watch = WallInstant(Harness.monday.addingTimeInterval(5))
        var watching = false
        for _ in 0..<1_000_000 where !watching {
            watching = h.clock.nextDeadline == watch && h.clock.sleeperCount == 1
            if !watching { await Task.yield() }
        }
        #expect(watching)
        h.clock.advance(to: watch)
        // Re-armed for the first escalation step, five minutes on.
        let step = WallInstant(Harness.monday.addingTimeInterval(300))
        // The loop re-arms after its own turn, whose store calls finish on
        // the store's thread: yield (never sleep) until it has.
        var rearmed = false
        for _ in 0..<1_000_000 where !rearmed {
            rearmed = h.clock.nextDeadline == step && h.clock.sleeperCount == 1
            if !rearmed { await Task.yield() }
        }
        #expect(rearmed)

        h.clock.advance(to: step)
        // The step's three pages may reach the network in more than one
        // look (the runtime runs on an executor of its own): gather them.
        var repaged: [ChatAction] = []
        for _ in 0..<1_000_000 where repaged.count < 3 {
            repaged += h.demo.takeNew().pages
            if repaged.count < 3 { await Task.yield() }
        }
        #expect(repaged.count == 3)
    }

    @Test func aFailedPageIsRetried() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        let pages = h.demo.all.pages
        let channel = try #require(pages.first { $0.recipient == .channel("#agents") })
        await h.runtime.handle(.failed(id: channel.deliveryID!, reason: "not connected"))
        await h.confirm(pages.filter { $0 != channel })
        #expect(await h.advance(minutes: 0.4).pages.isEmpty)
        let retried = await h.advance(minutes: 0.1)
        #expect(retried.pages.map(\.text) == [channel.text])
        await h.confirm(retried)
        let record = try #require(try await h.store.pages(of: TicketNumber(1)).first { $0.id.rawValue == channel.deliveryID })
        #expect(record.sentAt != nil && record.attempts == 2 && record.lastError == "not connected")
    }

    @Test func aPageTheNetworkNeverConfirmsIsSentAgainAfterTheDeliveryTimeout() async throws {
        let h = try await Harness()
        try await h.ticketWithoutContract("nora")
        let announcement = try #require(h.demo.all.pages.first)
        #expect(await h.advance(minutes: 9.9).pages.isEmpty)
        let again = await h.advance(minutes: 0.1)
        #expect(again.pages.map(\.deliveryID) == [announcement.deliveryID])
        await h.confirm(again)
        #expect(await h.advance(minutes: 30).pages.isEmpty)
    }

    @Test func aNewStepReplacesTheUnsentPagesOfTheLastOne() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice", severity: 1)
        let pages = h.demo.all.pages
        let channelLine = try #require(pages.first { $0.recipient == .channel("#agents") })
        await h.confirm(pages.filter { $0 != channelLine })
        let step1 = await h.advance(minutes: 5)
        #expect(step1.pages.count == 3)
        let record = try #require(try await h.store.pages(of: TicketNumber(1)).first { $0.id.rawValue == channelLine.deliveryID })
        #expect(record.cancelledAt != nil && record.sentAt == nil)
    }
}

/// A page the network keeps refusing is not retried forever.
@Suite struct PageRetryCapTests {
    /// Steps far enough apart that five refusals happen within the first.
    static let slowSteps = """
        {
          steps: [
            { after: "0m", page: ["on-duty"] },
            { after: "60m", page: ["on-duty", "backup"] },
            { after: "120m", page: ["channel"] },
          ],
          sla: { warnAtPercent: 80 },
          nonContract: { offerMessageAfter: "3m" },
        }
        """

    @Test func aRefusedPageIsGivenUpThenTheNextStepIsPagedAndTheChannelWarned() async throws {
        let h = try await Harness(escalation: Self.slowSteps)
        try await h.contractTicket("alice", severity: 1)
        let first = h.demo.all.pages
        let toAnna = try #require(first.first { $0.recipient == .user("anna") })
        await h.confirm(first.filter { $0 != toAnna })
        var refused = toAnna
        var out: [ChatAction] = []
        for attempt in 1...5 {
            await h.runtime.handle(.failed(id: refused.deliveryID!, reason: "401 anna :No such nick/channel"))
            out = h.demo.takeNew()
            if attempt == 5 { break }
            // The retry comes after 30 s, 60 s, 120 s, 240 s.
            let retried = await h.advance(minutes: 4.1).pages
            refused = try #require(retried.first { $0.deliveryID == toAnna.deliveryID })
        }
        // Given up: the backup and anna are paged at once (step 1), the channel is warned.
        let paged = out.pages
        #expect(Set(paged.compactMap { if case .user(let nick) = $0.recipient { nick } else { nil } }) == ["anna", "emil"])
        #expect(paged.allSatisfy { $0.deliveryID != toAnna.deliveryID })
        let warning = try #require(out.in("#agents").first { $0.hasPrefix("Page zu #1 an anna") })
        #expect(warning == "Page zu #1 an anna nach 5 Versuchen aufgegeben (401 anna :No such nick/channel) – die nächste Eskalationsstufe ist gepaged.")
        #expect(await h.runtime.metrics().pagesGivenUp == 1)
        let record = try #require(try await h.store.pages(of: TicketNumber(1)).first { $0.id.rawValue == toAnna.deliveryID })
        #expect(GivenUpPage.isGivenUp(record) && record.attempts == 5)
        #expect(record.lastError == "given up after 5 attempts: 401 anna :No such nick/channel")
        // Never sent again, also not after a restart.
        await h.confirm(out)
        #expect(await h.advance(minutes: 30).pages.allSatisfy { $0.deliveryID != toAnna.deliveryID })
        try await h.restart()
        #expect(h.demo.takeNew().pages.allSatisfy { $0.deliveryID != toAnna.deliveryID })
    }

    @Test func pagesSentCountsOnlyPagesTheStoreMarkedAsSent() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        let pages = h.demo.all.pages
        await h.confirm(pages)
        await h.runtime.handle(.delivered(id: Int64.max, at: h.clock.date)) // no such page
        let metrics = await h.runtime.metrics()
        #expect(metrics.pagesSent == pages.count)
        #expect(metrics.storeErrors == 1)
    }
}
