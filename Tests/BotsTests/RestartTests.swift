import Bots
import Core
import Desk
import Foundation
import Store
import Synchronization
import Testing

/// A crash and a restart lose nothing and page nothing twice.
@Suite struct RestartTests {
    @Test func aPageNotSentBeforeACrashIsSentAfterTheRestartAndNotTwice() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        let before = h.demo.all.pages
        #expect(before.count == 2)
        // Crash: the network never confirmed the pages.
        try await h.restart()
        let resent = h.demo.takeNew()
        #expect(resent.pages.map(\.text).sorted() == before.map(\.text).sorted())
        let resentIDs: [Int64] = resent.pages.compactMap(\.deliveryID).sorted()
        let beforeIDs: [Int64] = before.compactMap(\.deliveryID).sorted()
        #expect(resentIDs == beforeIDs)
        await h.confirm(resent)
        #expect(try await h.store.pendingPages(dueBy: .distantFuture, limit: 10).isEmpty)

        // The escalation continues where it stood: one re-page at 5 minutes.
        #expect(await h.advance(minutes: 4).pages.isEmpty)
        let step1 = await h.advance(minutes: 1)
        #expect(step1.pages.count == 3)
        #expect(try await h.store.escalationSteps(of: TicketNumber(1)) == [0, 1])
    }

    @Test func aRestartAfterDowntimeSendsTheMissedStepsAsOnePage() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.confirm(h.demo.all)
        h.clock.advance(by: .seconds(20 * 60)) // down for 20 minutes
        try await h.restart()
        let out = h.demo.takeNew()
        // Steps 1 and 2 coalesced: on-duty and backup privately, everyone in the channel — once.
        #expect(out.to("anna").count == 1 && out.to("emil").count == 1)
        #expect(out.in("#agents").count == 1)
        #expect(out.in("#agents").first?.hasPrefix("ALLE (anna, emil, ben, chris, dana)") == true)
        await h.confirm(out)
        #expect(await h.advance(minutes: 30).pages.isEmpty)
    }

    @Test func theQueueIsRebuiltFromTheStore() async throws {
        let h = try await Harness()
        try await h.ticketWithoutContract("nora", severity: 1)
        try await h.contractTicket("carl", severity: 4)
        try await h.restart()
        _ = h.demo.takeNew() // the pages not confirmed before the restart, sent again
        let out = await h.say("!queue", from: h.agent("anna"), in: "#agents")
        let lines = try #require(out.in("#agents").first).split(separator: "\n")
        #expect(lines.dropFirst().map { String($0.prefix(6)) } == ["#2 P4 ", "#1 P5 "])
        // The customer's conversation went on through the restart: the line goes to their ticket.
        let back = await h.say("Ist schon jemand dran?", from: h.customer("nora", account: "nora"))
        #expect(back.to("nora") == ["Ich habe das an Ihr Ticket #1 angehängt."])
        #expect(try await h.store.events(of: TicketNumber(1)).last?.note == "Ist schon jemand dran?")
    }
}

/// A takeover's backlog (every open contract ticket's escalation and SLA
/// check falls due at once) does not hold live lines until it is worked off.
@Suite struct BacklogTests {
    @Test func aCustomerWhoWritesDuringARestartsBacklogIsAnsweredBetweenItsTurns() async throws {
        let stores = InterleavingStores()
        let h = try await Harness(wrapStore: stores.wrap)
        let open = 12
        for index in 0..<open { try await h.contractTicket("kunde\(index)") }
        await h.confirm(h.demo.all)
        // Restarted as the gateway starts: the due checks are left to the timers.
        try await h.restart(firingDueTimers: false)
        let store = try stores.current()
        #expect(store.ticketReadCount == 0)

        // While the first check reads its ticket, a new customer writes.
        let runtime = h.runtime
        let hello = ChatMessage(sender: h.customer("neu", account: "neu").identity,
                                principal: h.customer("neu", account: "neu").principal, place: .direct,
                                text: "Hallo", addressedToBot: true, time: h.clock.date)
        let line = Mutex<Task<Void, Never>?>(nil)
        store.beforeEachTicketRead { read in
            guard read == 1 else { return }
            line.withLock { $0 = Task { await runtime.handle(.message(hello)) } }
            while await runtime.waitingInputs == 0 { await Task.yield() }
        }
        await runtime.fireDueTimers()
        await line.withLock { $0 }?.value
        let answered = h.demo.takeNew().to("neu")
        let readsBeforeTheAnswer = store.ticketReadCount
        #expect(!answered.isEmpty, "the customer was answered")
        // Each ticket's escalation and SLA check reads it: 2 × 12 reads in all.
        #expect(readsBeforeTheAnswer < 2 * open && readsBeforeTheAnswer <= BotRuntime<ManualClock>.dueTimersPerTurn,
                "the line waited for \(readsBeforeTheAnswer) of \(2 * open) checks")

        // The rest is still done, by the next turns.
        var turns = 1
        while store.ticketReadCount < 2 * open && turns < 2 * open {
            await runtime.fireDueTimers()
            turns += 1
        }
        #expect(store.ticketReadCount == 2 * open)
        #expect(try await h.openTickets().count == open)
        #expect(try await h.store.pendingPages(dueBy: h.clock.date, limit: 100).isEmpty, "nothing was due to page")
    }
}

/// A customer who comes back later, after the conversation ended.
@Suite struct ComingBackTests {
    @Test func aCustomerWhoseTicketAnAgentHasIsRelayedStraightAway() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.say("!take 1", from: h.agent("ben"), in: "#agents")
        await h.say("!reply 1 Können Sie die NordBox neu starten?", from: h.agent("ben"))
        await h.advance(minutes: 45) // the conversation has ended meanwhile
        let out = await h.say("Neu gestartet, jetzt geht es wieder!", from: h.customer("alice", account: "alice"))
        #expect(out.to("ben") == ["[#1] Speicherstadt Logistik GmbH: Neu gestartet, jetzt geht es wieder!"])
        #expect(out.to("alice") == ["An ben weitergeleitet (#1)."])
    }

    @Test func aResolvedTicketIsReopenedByTheCustomersNextMessage() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice")
        await h.say("!take 1", from: h.agent("ben"), in: "#agents")
        await h.say("!resolve 1 Neustart hat geholfen", from: h.agent("ben"), in: "#agents")
        let out = await h.say("Leider ist der Tunnel wieder weg", from: h.customer("alice", account: "alice"))
        #expect(out.to("ben") == ["[#1] Speicherstadt Logistik GmbH: Leider ist der Tunnel wieder weg"])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .inProgress)
    }
}
