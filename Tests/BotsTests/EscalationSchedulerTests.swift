@testable import Bots
import Core
import Desk
import Foundation
import Testing

/// The escalation and SLA scheduler on its own: events in, effects out, on a
/// `ManualClock`, with no runtime, store or network. `World` stands in for
/// the runtime: it keeps the ticket and the steps written, performs the
/// effects the way the runtime does and reports back.
@Suite struct EscalationSchedulerTests {
    /// A contract ticket of the demo desk (Monday 10:00 Berlin: anna on
    /// duty, emil the backup; default policy 0 / 5 / 15 minutes).
    final class World {
        let clock = ManualClock()
        let context: EscalationContext
        var part = EscalationScheduler()
        var ticket: Ticket
        var steps: Set<Int> = []
        var pagesWritten: [EscalationPage] = []
        /// Effects other than pages and SLA records, in order.
        var said: [EscalationEffect] = []
        /// The store refuses writes while set.
        var storeDown = false

        init(severity: Severity = .major) throws {
            let desk = try deskFixture()
            context = EscalationContext(desk: desk, roster: desk.roster)
            ticket = Ticket(number: TicketNumber(1), createdAt: clock.date, customerNumber: "10042",
                            customerName: "Speicherstadt Logistik GmbH",
                            contact: ChatIdentity(network: "demo", nick: "alice", account: "alice"), group: .contract,
                            tier: "premium", severity: severity, summary: "VPN down", description: "VPN down",
                            language: "de")
        }

        var now: Date { clock.date }

        /// The ticket is stored with its first page (step 0), as the runtime does.
        @discardableResult
        func create() -> PageRequest? {
            let plan = context.plan(for: ticket, stepsDone: [], now: now)
            let request = EscalationScheduler.firstPage(in: plan)
            if request != nil { steps.insert(0) }
            part.ticketCreated(ticket, plan: plan, request: request, network: "demo", now: now, context)
            return request
        }

        /// Moves the clock and handles what falls due, as the timer loop does.
        func advance(minutes: Double) {
            clock.advance(by: .seconds(minutes * 60))
            for (check, _) in part.popDue(now) {
                switch check {
                case .escalation(let number):
                    perform(part.escalationDue(number, ticket: ticket, stepsDone: steps, now: now, context))
                case .sla(let number):
                    perform(part.slaDue(number, ticket: ticket, now: now, context))
                }
            }
        }

        func perform(_ effects: [EscalationEffect]) {
            for effect in effects {
                switch effect {
                case .page(let page):
                    let outcome: EscalationPageOutcome
                    if storeDown {
                        outcome = .failed
                    } else if !ticket.state.isOpen {
                        outcome = .gone
                    } else {
                        pagesWritten.append(page)
                        steps.formUnion(page.request.steps)
                        ticket.state = .paged
                        outcome = .written(ticket)
                    }
                    perform(part.paged(page, outcome: outcome, now: now))
                case .recordSLA(let mark):
                    if !storeDown { perform(part.slaRecorded(mark)) }
                default:
                    said.append(effect)
                }
            }
        }

        func respond() {
            ticket.state = .acknowledged
            ticket.respondedAt = now
        }
    }

    @Test func anUnansweredPageIsRepeatedAtFiveMinutesAndWidenedAtFifteenThenStops() throws {
        let world = try World()
        #expect(world.create()?.privateMessage == ["anna"])
        #expect(world.part.earliest() == world.now.addingTimeInterval(5 * 60))

        world.advance(minutes: 4.9)
        #expect(world.pagesWritten.isEmpty)
        world.advance(minutes: 0.1)
        let repeated = try #require(world.pagesWritten.last)
        #expect(repeated.request.steps == [1] && repeated.request.privateMessage == ["anna", "emil"])
        #expect(repeated.note == "step 1: anna, emil" && repeated.cancelUnsentPages)

        world.advance(minutes: 10)
        let everyone = try #require(world.pagesWritten.last)
        #expect(everyone.request.steps == [2] && everyone.request.wholeChannel)
        #expect(everyone.note == "step 2: channel")
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == nil)
        world.advance(minutes: 60)
        #expect(world.pagesWritten.count == 2)
    }

    @Test func stepsMissedWhileDownArePagedAsOneWhenResumed() throws {
        let world = try World()
        world.steps = [0]
        world.clock.advance(by: .seconds(20 * 60))
        world.part.resumed(TicketNumber(1), warned: false, breached: false, now: world.now)
        world.advance(minutes: 0)
        #expect(world.pagesWritten.map(\.request.steps) == [[1, 2]])
        #expect(world.pagesWritten.first?.request.coalesced == true)
    }

    @Test func anAcknowledgementStopsTheEscalationAndLetsTheSLASeeTheResponse() throws {
        let world = try World()
        world.create()
        world.advance(minutes: 3)
        world.respond()
        world.part.acknowledged(TicketNumber(1), now: world.now)
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == nil)
        #expect(world.part.deadline(of: .sla(TicketNumber(1))) == world.now)
        world.advance(minutes: 120)
        #expect(world.pagesWritten.isEmpty && world.said.isEmpty)
    }

    @Test func theSLAIsWarnedAtEightyPercentAndAtBreachOnceEach() throws {
        let world = try World(severity: .critical) // premium P1: 1h, 24/7
        world.create()
        #expect(world.part.deadline(of: .sla(TicketNumber(1))) == world.now.addingTimeInterval(48 * 60))
        world.advance(minutes: 47.9)
        #expect(world.said.isEmpty)
        world.advance(minutes: 0.1)
        guard case .postToAgents(_, .slaWarning, let values, _)? = world.said.last else {
            Issue.record("no SLA warning: \(world.said)")
            return
        }
        #expect(values["percent"] == "80" && values["left"] == "12m" && values["target"] == "1h")
        #expect(values["tier"] == "Premium")
        #expect(world.said.first == .countSLA(.warning))

        world.advance(minutes: 12)
        guard case .postToAgents(_, .slaBreach, _, _)? = world.said.last else {
            Issue.record("no SLA breach: \(world.said)")
            return
        }
        #expect(world.said.filter { $0 == .countSLA(.breach) }.count == 1)
        #expect(world.part.slaPosted[TicketNumber(1)] == .init(warned: true, breached: true))
        // Re-evaluated (a reload): nothing is posted again.
        let before = world.said.count
        world.part.reloaded(now: world.now)
        world.advance(minutes: 0)
        #expect(world.said.count == before)
    }

    @Test func marksPostedBeforeARestartAreNotPostedAgain() throws {
        let world = try World(severity: .critical)
        world.ticket.state = .paged
        world.clock.advance(by: .seconds(50 * 60))
        world.part.resumed(TicketNumber(1), warned: true, breached: false, now: world.now)
        world.steps = [0, 1, 2]
        world.advance(minutes: 0)
        #expect(world.said.isEmpty)
        world.advance(minutes: 10)
        #expect(world.said.contains(.countSLA(.breach)) && !world.said.contains(.countSLA(.warning)))
    }

    @Test func anSLAMarkTheStoreCouldNotWriteIsNeitherCountedNorPosted() throws {
        let world = try World(severity: .critical)
        world.create()
        world.part.acknowledged(TicketNumber(1), now: world.now)
        world.storeDown = true
        world.advance(minutes: 48)
        #expect(world.said.isEmpty)
        #expect(world.part.slaPosted[TicketNumber(1)] == .init(warned: false, breached: false))
        world.storeDown = false
        world.advance(minutes: 12)
        #expect(world.said.contains(.countSLA(.breach)))
    }

    @Test func anOnDutyAgentWhoIsNotOnlineBringsTheNextStepForward() throws {
        let world = try World()
        world.create()
        let checks = world.part.takePresenceChecks()
        #expect(checks == [PresenceCheck(number: TicketNumber(1), agents: ["anna"], network: "demo")])
        #expect(world.part.takePresenceChecks().isEmpty) // asked once
        #expect(!world.part.presenceAnswered(checks[0], absent: []))
        #expect(world.part.presenceAnswered(checks[0], absent: ["anna"]))

        world.perform(world.part.agentsAbsent(world.ticket, stepsDone: world.steps, absent: ["anna"], now: world.now,
                                            world.context))
        let early = try #require(world.pagesWritten.last)
        #expect(early.request.steps == [1] && early.absent == ["anna"] && !early.cancelUnsentPages)
        #expect(early.note == "step 1 early: anna not online; paged emil")
        guard case .tellCustomerInConversation(_, .onDutyNotOnline, let values)? = world.said.last else {
            Issue.record("the customer was not told: \(world.said)")
            return
        }
        #expect(values["agent"] == "anna" && values["paged"] == "emil")
        // The 5-minute step is done; the whole channel follows at 15 minutes.
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == world.now.addingTimeInterval(15 * 60))
        world.advance(minutes: 14.9)
        #expect(world.pagesWritten.count == 1)
        world.advance(minutes: 0.1)
        #expect(world.pagesWritten.last?.request.wholeChannel == true)
    }

    @Test func noEarlyPageOnceTheNextStepIsOutOrSomeoneAnswered() throws {
        let world = try World()
        world.create()
        #expect(world.part.agentsAbsent(world.ticket, stepsDone: [0, 1], absent: ["anna"], now: world.now,
                                       world.context).isEmpty)
        world.respond()
        #expect(world.part.agentsAbsent(world.ticket, stepsDone: [0], absent: ["anna"], now: world.now,
                                       world.context).isEmpty)
        // Absent too: the backup is the only one left to page early.
        world.ticket.state = .paged
        world.ticket.respondedAt = nil
        #expect(world.part.agentsAbsent(world.ticket, stepsDone: [0], absent: ["anna", "emil"], now: world.now,
                                       world.context) == [.noOneToPageEarly(TicketNumber(1), absent: ["anna", "emil"])])
    }

    @Test func aGivenUpPageBringsTheNextStepForwardAndTheChannelIsToldWhetherItDid() throws {
        let world = try World()
        world.create()
        world.advance(minutes: 1)
        world.perform(world.part.pageGivenUp(world.ticket, step: 0, target: "anna", attempts: 5, reason: "401 No such nick",
                                           stepsDone: world.steps, now: world.now, world.context))
        #expect(world.pagesWritten.map(\.note) == ["step 1 early: page to anna given up"])
        guard case .postToAgents(_, .pageGivenUp, let values, let include)? = world.said.last else {
            Issue.record("the channel was not warned: \(world.said)")
            return
        }
        #expect(include == ["next": .pageGivenUpNextStep])
        #expect(values["target"] == "anna" && values["attempts"] == "5" && values["error"] == "401 No such nick")
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == world.ticket.createdAt.addingTimeInterval(15 * 60))

        // The store fails: the warning says no step followed.
        world.storeDown = true
        world.perform(world.part.pageGivenUp(world.ticket, step: 1, target: "emil", attempts: 5, reason: "gone",
                                           stepsDone: world.steps, now: world.now, world.context))
        guard case .postToAgents(_, .pageGivenUp, _, let failed)? = world.said.last else { return }
        #expect(failed == ["next": .pageGivenUpNoStep])

        // Answered tickets get only the warning.
        world.storeDown = false
        world.respond()
        let effects = world.part.pageGivenUp(world.ticket, step: 1, target: "emil", attempts: 5, reason: "gone",
                                            stepsDone: world.steps, now: world.now, world.context)
        #expect(effects.count == 1)
        if case .postToAgents(_, .pageGivenUp, _, ["next": .pageGivenUpNoStep])? = effects.first {} else {
            Issue.record("expected only the warning: \(effects)")
        }
    }

    @Test func aStoreFailureTriesAgainInAMinuteAndAClosedTicketNeedsNoTimers() throws {
        let world = try World()
        world.create()
        world.clock.advance(by: .seconds(5 * 60))
        #expect(world.part.popDue(world.now).map(\.check) == [.escalation(TicketNumber(1))])
        world.part.readFailed(.escalation(TicketNumber(1)), now: world.now)
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == world.now.addingTimeInterval(60))

        world.storeDown = true
        world.advance(minutes: 1)
        #expect(world.pagesWritten.isEmpty)
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == world.now.addingTimeInterval(60))
        world.storeDown = false
        world.advance(minutes: 1)
        #expect(world.pagesWritten.map(\.request.steps) == [[1]])

        world.ticket.state = .resolved
        world.part.ticketChanged(world.ticket)
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == nil)
        #expect(world.part.deadline(of: .sla(TicketNumber(1))) != nil)
        world.part.forget(TicketNumber(1))
        #expect(world.part.earliest() == nil && world.part.slaPosted.isEmpty)
    }

    @Test func aSeverityChangeReevaluatesContractTicketsOnly() throws {
        let world = try World()
        world.create()
        world.part.severityChanged(world.ticket, now: world.now)
        #expect(world.part.deadline(of: .escalation(TicketNumber(1))) == world.now)
        var other = world.ticket
        other.number = TicketNumber(2)
        other.group = .noContract
        world.part.severityChanged(other, now: world.now)
        #expect(world.part.deadline(of: .escalation(TicketNumber(2))) == nil)
        // A reply re-evaluates the SLA of tracked tickets only.
        world.part.responded(TicketNumber(2), now: world.now)
        #expect(world.part.deadline(of: .sla(TicketNumber(2))) == nil)
    }

    @Test func dueChecksComeEarliestFirstWithTheirDeadlines() {
        var part = EscalationScheduler()
        let start = Date(timeIntervalSince1970: 1_772_442_000)
        part.resumed(TicketNumber(2), warned: false, breached: false, now: start.addingTimeInterval(10))
        part.resumed(TicketNumber(1), warned: false, breached: false, now: start)
        let due = part.popDue(start.addingTimeInterval(30))
        #expect(due.map(\.check) == [.escalation(TicketNumber(1)), .sla(TicketNumber(1)), .escalation(TicketNumber(2)),
                                     .sla(TicketNumber(2))])
        #expect(due.map(\.at) == [start, start, start.addingTimeInterval(10), start.addingTimeInterval(10)])
        #expect(part.earliest() == nil)
    }
}

/// The runtime routes events to the scheduler and performs its effects.
@Suite struct EscalationRoutingTests {
    @Test func aReloadWithShorterStepsPagesTheStepThatIsNowDueAtOnce() async throws {
        let h = try await Harness(escalation: PageRetryCapTests.slowSteps) // the second step after 60 minutes
        try await h.contractTicket("alice")
        await h.confirm(h.demo.all)
        #expect(await h.advance(minutes: 10).pages.isEmpty)
        // The shipped policy pages the backup after 5 minutes: that is past.
        await h.runtime.reload(desk: try deskFixture(), definitions: shippedDefinitions)
        let now = await h.advance(minutes: 0)
        #expect(now.to("emil").count == 1)
        #expect(now.in("#agents").first?.hasPrefix("anna, emil: ERNEUTER PAGE #1 P2, seit 10 min") == true)
        #expect(try await h.store.escalationSteps(of: TicketNumber(1)) == [0, 1])
    }

    @Test func aSeverityChangeBringsTheSLAWarningForward() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice") // premium P2: 2h
        await h.confirm(h.demo.all)
        await h.advance(minutes: 50)
        _ = h.demo.takeNew()
        // Now P1: 1h, of which 50 minutes are gone — past 80 %.
        await h.say("!sev 1 1 Produktion steht", from: h.agent("ben"), in: "#agents")
        let out = await h.advance(minutes: 0)
        #expect(out.in("#agents").contains { $0.hasPrefix("SLA-Warnung #1 P1 (Premium)") })
        #expect(await h.runtime.metrics().slaWarnings == 1)
    }
}
