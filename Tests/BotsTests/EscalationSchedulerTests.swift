@testable import Bots
import Core
import Desk
import Foundation
import Testing

/// The escalation and SLA scheduler on its own: events in, effects out, on a
/// `ManualClock`, with no runtime, store or network. `Desk` stands in for
/// the runtime: it keeps the ticket and the steps written, performs the
/// effects the way the runtime does and reports back.
@Suite struct EscalationSchedulerTests {
    /// A contract ticket of the demo desk (Monday 10:00 Berlin: anna on
    /// duty, emil the backup; default policy 0 / 5 / 15 minutes).
    final class Desk {
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
            part.ticketCreated(ticket, plan: plan, request: request, network: "demo", sla: context.desk.sla, now: now)
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
        let desk = try Desk()
        #expect(desk.create()?.privateMessage == ["anna"])
        #expect(desk.part.earliest() == desk.now.addingTimeInterval(5 * 60))

        desk.advance(minutes: 4.9)
        #expect(desk.pagesWritten.isEmpty)
        desk.advance(minutes: 0.1)
        let repeated = try #require(desk.pagesWritten.last)
        #expect(repeated.request.steps == [1] && repeated.request.privateMessage == ["anna", "emil"])
        #expect(repeated.note == "step 1: anna, emil" && repeated.cancelUnsentPages)

        desk.advance(minutes: 10)
        let everyone = try #require(desk.pagesWritten.last)
        #expect(everyone.request.steps == [2] && everyone.request.wholeChannel)
        #expect(everyone.note == "step 2: channel")
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == nil)
        desk.advance(minutes: 60)
        #expect(desk.pagesWritten.count == 2)
    }

    @Test func stepsMissedWhileDownArePagedAsOneWhenResumed() throws {
        let desk = try Desk()
        desk.steps = [0]
        desk.clock.advance(by: .seconds(20 * 60))
        desk.part.resumed(TicketNumber(1), warned: false, breached: false, now: desk.now)
        desk.advance(minutes: 0)
        #expect(desk.pagesWritten.map(\.request.steps) == [[1, 2]])
        #expect(desk.pagesWritten.first?.request.coalesced == true)
    }

    @Test func anAcknowledgementStopsTheEscalationAndLetsTheSLASeeTheResponse() throws {
        let desk = try Desk()
        desk.create()
        desk.advance(minutes: 3)
        desk.respond()
        desk.part.acknowledged(TicketNumber(1), now: desk.now)
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == nil)
        #expect(desk.part.deadline(of: .sla(TicketNumber(1))) == desk.now)
        desk.advance(minutes: 120)
        #expect(desk.pagesWritten.isEmpty && desk.said.isEmpty)
    }

    @Test func theSLAIsWarnedAtEightyPercentAndAtBreachOnceEach() throws {
        let desk = try Desk(severity: .critical) // premium P1: 1h, 24/7
        desk.create()
        #expect(desk.part.deadline(of: .sla(TicketNumber(1))) == desk.now.addingTimeInterval(48 * 60))
        desk.advance(minutes: 47.9)
        #expect(desk.said.isEmpty)
        desk.advance(minutes: 0.1)
        guard case .postToAgents(_, .slaWarning, let values, _)? = desk.said.last else {
            Issue.record("no SLA warning: \(desk.said)")
            return
        }
        #expect(values["percent"] == "80" && values["left"] == "12m" && values["target"] == "1h")
        #expect(values["tier"] == "Premium")
        #expect(desk.said.first == .countSLA(.warning))

        desk.advance(minutes: 12)
        guard case .postToAgents(_, .slaBreach, _, _)? = desk.said.last else {
            Issue.record("no SLA breach: \(desk.said)")
            return
        }
        #expect(desk.said.filter { $0 == .countSLA(.breach) }.count == 1)
        #expect(desk.part.slaPosted[TicketNumber(1)] == .init(warned: true, breached: true))
        // Re-evaluated (a reload): nothing is posted again.
        let before = desk.said.count
        desk.part.reloaded(now: desk.now)
        desk.advance(minutes: 0)
        #expect(desk.said.count == before)
    }

    @Test func marksPostedBeforeARestartAreNotPostedAgain() throws {
        let desk = try Desk(severity: .critical)
        desk.ticket.state = .paged
        desk.clock.advance(by: .seconds(50 * 60))
        desk.part.resumed(TicketNumber(1), warned: true, breached: false, now: desk.now)
        desk.steps = [0, 1, 2]
        desk.advance(minutes: 0)
        #expect(desk.said.isEmpty)
        desk.advance(minutes: 10)
        #expect(desk.said.contains(.countSLA(.breach)) && !desk.said.contains(.countSLA(.warning)))
    }

    @Test func anSLAMarkTheStoreCouldNotWriteIsNeitherCountedNorPosted() throws {
        let desk = try Desk(severity: .critical)
        desk.create()
        desk.part.acknowledged(TicketNumber(1), now: desk.now)
        desk.storeDown = true
        desk.advance(minutes: 48)
        #expect(desk.said.isEmpty)
        #expect(desk.part.slaPosted[TicketNumber(1)] == .init(warned: false, breached: false))
        desk.storeDown = false
        desk.advance(minutes: 12)
        #expect(desk.said.contains(.countSLA(.breach)))
    }

    @Test func anOnDutyAgentWhoIsNotOnlineBringsTheNextStepForward() throws {
        let desk = try Desk()
        desk.create()
        let checks = desk.part.takePresenceChecks()
        #expect(checks == [PresenceCheck(number: TicketNumber(1), agents: ["anna"], network: "demo")])
        #expect(desk.part.takePresenceChecks().isEmpty) // asked once
        #expect(!desk.part.presenceAnswered(checks[0], absent: []))
        #expect(desk.part.presenceAnswered(checks[0], absent: ["anna"]))

        desk.perform(desk.part.agentsAbsent(desk.ticket, stepsDone: desk.steps, absent: ["anna"], now: desk.now,
                                            desk.context))
        let early = try #require(desk.pagesWritten.last)
        #expect(early.request.steps == [1] && early.absent == ["anna"] && !early.cancelUnsentPages)
        #expect(early.note == "step 1 early: anna not online; paged emil")
        guard case .tellCustomerInConversation(_, .onDutyNotOnline, let values)? = desk.said.last else {
            Issue.record("the customer was not told: \(desk.said)")
            return
        }
        #expect(values["agent"] == "anna" && values["paged"] == "emil")
        // The 5-minute step is done; the whole channel follows at 15 minutes.
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == desk.now.addingTimeInterval(15 * 60))
        desk.advance(minutes: 14.9)
        #expect(desk.pagesWritten.count == 1)
        desk.advance(minutes: 0.1)
        #expect(desk.pagesWritten.last?.request.wholeChannel == true)
    }

    @Test func noEarlyPageOnceTheNextStepIsOutOrSomeoneAnswered() throws {
        let desk = try Desk()
        desk.create()
        #expect(desk.part.agentsAbsent(desk.ticket, stepsDone: [0, 1], absent: ["anna"], now: desk.now,
                                       desk.context).isEmpty)
        desk.respond()
        #expect(desk.part.agentsAbsent(desk.ticket, stepsDone: [0], absent: ["anna"], now: desk.now,
                                       desk.context).isEmpty)
        // Absent too: the backup is the only one left to page early.
        desk.ticket.state = .paged
        desk.ticket.respondedAt = nil
        #expect(desk.part.agentsAbsent(desk.ticket, stepsDone: [0], absent: ["anna", "emil"], now: desk.now,
                                       desk.context) == [.noOneToPageEarly(TicketNumber(1), absent: ["anna", "emil"])])
    }

    @Test func aGivenUpPageBringsTheNextStepForwardAndTheChannelIsToldWhetherItDid() throws {
        let desk = try Desk()
        desk.create()
        desk.advance(minutes: 1)
        desk.perform(desk.part.pageGivenUp(desk.ticket, step: 0, target: "anna", attempts: 5, reason: "401 No such nick",
                                           stepsDone: desk.steps, now: desk.now, desk.context))
        #expect(desk.pagesWritten.map(\.note) == ["step 1 early: page to anna given up"])
        guard case .postToAgents(_, .pageGivenUp, let values, let include)? = desk.said.last else {
            Issue.record("the channel was not warned: \(desk.said)")
            return
        }
        #expect(include == ["next": .pageGivenUpNextStep])
        #expect(values["target"] == "anna" && values["attempts"] == "5" && values["error"] == "401 No such nick")
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == desk.ticket.createdAt.addingTimeInterval(15 * 60))

        // The store fails: the warning says no step followed.
        desk.storeDown = true
        desk.perform(desk.part.pageGivenUp(desk.ticket, step: 1, target: "emil", attempts: 5, reason: "gone",
                                           stepsDone: desk.steps, now: desk.now, desk.context))
        guard case .postToAgents(_, .pageGivenUp, _, let failed)? = desk.said.last else { return }
        #expect(failed == ["next": .pageGivenUpNoStep])

        // Answered tickets get only the warning.
        desk.storeDown = false
        desk.respond()
        let effects = desk.part.pageGivenUp(desk.ticket, step: 1, target: "emil", attempts: 5, reason: "gone",
                                            stepsDone: desk.steps, now: desk.now, desk.context)
        #expect(effects.count == 1)
        if case .postToAgents(_, .pageGivenUp, _, ["next": .pageGivenUpNoStep])? = effects.first {} else {
            Issue.record("expected only the warning: \(effects)")
        }
    }

    @Test func aStoreFailureTriesAgainInAMinuteAndAClosedTicketNeedsNoTimers() throws {
        let desk = try Desk()
        desk.create()
        desk.clock.advance(by: .seconds(5 * 60))
        #expect(desk.part.popDue(desk.now).map(\.check) == [.escalation(TicketNumber(1))])
        desk.part.readFailed(.escalation(TicketNumber(1)), now: desk.now)
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == desk.now.addingTimeInterval(60))

        desk.storeDown = true
        desk.advance(minutes: 1)
        #expect(desk.pagesWritten.isEmpty)
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == desk.now.addingTimeInterval(60))
        desk.storeDown = false
        desk.advance(minutes: 1)
        #expect(desk.pagesWritten.map(\.request.steps) == [[1]])

        desk.ticket.state = .resolved
        desk.part.ticketChanged(desk.ticket)
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == nil)
        #expect(desk.part.deadline(of: .sla(TicketNumber(1))) != nil)
        desk.part.forget(TicketNumber(1))
        #expect(desk.part.earliest() == nil && desk.part.slaPosted.isEmpty)
    }

    @Test func aSeverityChangeReevaluatesContractTicketsOnly() throws {
        let desk = try Desk()
        desk.create()
        desk.part.severityChanged(desk.ticket, now: desk.now)
        #expect(desk.part.deadline(of: .escalation(TicketNumber(1))) == desk.now)
        var other = desk.ticket
        other.number = TicketNumber(2)
        other.group = .noContract
        desk.part.severityChanged(other, now: desk.now)
        #expect(desk.part.deadline(of: .escalation(TicketNumber(2))) == nil)
        // A reply re-evaluates the SLA of tracked tickets only.
        desk.part.responded(TicketNumber(2), now: desk.now)
        #expect(desk.part.deadline(of: .sla(TicketNumber(2))) == nil)
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
