import Desk
import Foundation
import Testing

/// Mon–Fri 08:00–18:00 in Berlin; Easter Monday 2026-04-06 a holiday.
let officeHours: BusinessCalendar = {
    let day = [TimeRange(start: LocalTime(text: "08:00")!, end: LocalTime(text: "18:00")!)!]
    return BusinessCalendar(zone: berlin,
                            hours: [.monday: day, .tuesday: day, .wednesday: day, .thursday: day, .friday: day],
                            holidays: [CalendarDate(text: "2026-04-06")!: "Ostermontag"])
}()

func terms(_ response: TimeInterval, _ coverage: Coverage) -> TierTerms {
    TierTerms(responseTime: response, coverage: coverage)
}

let testTiers = TierCatalog([
    Tier(id: "basic", name: "Basic", terms: [.critical: terms(4 * 3600, .businessHours), .major: terms(8 * 3600, .businessHours),
                                             .minor: terms(16 * 3600, .businessHours), .question: terms(40 * 3600, .businessHours)]),
    Tier(id: "premium", name: "Premium", terms: [.critical: terms(3600, .allDay), .major: terms(2 * 3600, .allDay),
                                                 .minor: terms(8 * 3600, .businessHours), .question: terms(16 * 3600, .businessHours)]),
])

@Suite struct BusinessCalendarTests {
    @Test func openAtTheStartClosedAtTheEnd() {
        #expect(!officeHours.isOpen(at: at("2026-03-06 07:59:59")))
        #expect(officeHours.isOpen(at: at("2026-03-06 08:00")))
        #expect(officeHours.isOpen(at: at("2026-03-06 17:59:59")))
        #expect(!officeHours.isOpen(at: at("2026-03-06 18:00")))
        #expect(!officeHours.isOpen(at: at("2026-03-07 12:00")))  // Saturday
        #expect(!officeHours.isOpen(at: at("2026-04-06 12:00")))  // Easter Monday
        #expect(officeHours.closing(after: at("2026-03-06 12:00")) == at("2026-03-06 18:00"))
        #expect(officeHours.closing(after: at("2026-03-07 12:00")) == nil)
    }

    @Test func nextOpeningSkipsWeekendsAndHolidays() {
        #expect(officeHours.nextOpening(atOrAfter: at("2026-03-06 12:00")) == at("2026-03-06 12:00"))
        #expect(officeHours.nextOpening(atOrAfter: at("2026-03-06 18:00")) == at("2026-03-09 08:00"))
        #expect(officeHours.nextOpening(atOrAfter: at("2026-04-03 18:30")) == at("2026-04-07 08:00"))
        let closed = BusinessCalendar(zone: berlin, hours: [:])
        #expect(closed.nextOpening(atOrAfter: at("2026-03-06 12:00")) == nil)
        #expect(closed.instant(afterOpenTime: 60, from: at("2026-03-06 12:00")) == nil)
    }

    @Test func openTimeCountsOnlyBusinessHours() {
        #expect(officeHours.openTime(from: at("2026-03-06 17:30"), to: at("2026-03-09 08:30")) == 3600)
        #expect(officeHours.openTime(from: at("2026-03-09 08:30"), to: at("2026-03-06 17:30")) == 0)
        // A 24/7 calendar counts real time: the spring Sunday has 23 hours.
        let always = BusinessCalendar.always(berlin)
        #expect(always.openTime(from: at("2026-03-29 00:00"), to: at("2026-03-30 00:00")) == 23 * 3600)
        #expect(always.isOpen(at: at("2026-03-29 03:00")))
    }
}

@Suite struct SLATests {
    let sla = SLAPolicy(tiers: testTiers, calendar: officeHours)

    /// The task's example: basic tier, 4 business hours, opened Friday 17:30.
    @Test func aBasicTicketOpenedFridayAtHalfPastFiveWarnsOnMondayAt1042() throws {
        let ticket = makeTicket(1, created: at("2026-03-06 17:30"), tier: "basic", severity: .critical)
        let friday = try #require(sla.status(of: ticket, at: at("2026-03-06 17:45")))
        #expect(friday.state == .ok && friday.coverage == .businessHours)
        #expect(friday.elapsed == 15 * 60 && friday.remaining == 225 * 60)
        // 80 % of 4 h = 192 min: 30 on Friday, 162 on Monday from 08:00 → 10:42; breach at 11:30.
        #expect(friday.warningAt == at("2026-03-09 10:42"))
        #expect(friday.breachAt == at("2026-03-09 11:30"))
        #expect(friday.nextChange == at("2026-03-09 10:42"))
        // Over the weekend the clock stands still.
        let sunday = try #require(sla.status(of: ticket, at: at("2026-03-08 23:00")))
        #expect(sunday.state == .ok && sunday.elapsed == 30 * 60 && sunday.nextChange == at("2026-03-09 10:42"))
        let before = try #require(sla.status(of: ticket, at: at("2026-03-09 10:41:59")))
        #expect(before.state == .ok)
        let warning = try #require(sla.status(of: ticket, at: at("2026-03-09 10:42")))
        #expect(warning.state == .warning && warning.remaining == 48 * 60 && warning.nextChange == at("2026-03-09 11:30"))
        let breached = try #require(sla.status(of: ticket, at: at("2026-03-09 11:30")))
        #expect(breached.state == .breached && breached.remaining == 0 && breached.nextChange == nil)
        let later = try #require(sla.status(of: ticket, at: at("2026-03-09 12:00")))
        #expect(later.remaining == -30 * 60)
    }

    @Test func holidaysDoNotCount() throws {
        // Opened Thursday before Easter 17:00: Good Friday is not a holiday in this
        // calendar, Easter Monday is. 4 h = 1 h Thu + 3 h Fri → breach Fri 11:00.
        let ticket = makeTicket(2, created: at("2026-04-02 17:00"), tier: "basic", severity: .critical)
        #expect(sla.status(of: ticket, at: at("2026-04-02 17:00"))?.breachAt == at("2026-04-03 11:00"))
        // Opened the Friday before at 17:00: 1 h Friday, Easter Monday closed → Tuesday 11:00.
        let late = makeTicket(3, created: at("2026-04-03 17:00"), tier: "basic", severity: .critical)
        #expect(sla.status(of: late, at: at("2026-04-03 17:00"))?.breachAt == at("2026-04-07 11:00"))
    }

    @Test func twentyFourSevenCountsEveryMinute() throws {
        let ticket = makeTicket(4, created: at("2026-03-07 23:00"), tier: "premium", severity: .critical)
        let status = try #require(sla.status(of: ticket, at: at("2026-03-07 23:30")))
        #expect(status.coverage == .allDay && status.warningAt == at("2026-03-07 23:48") && status.breachAt == at("2026-03-08 00:00"))
        #expect(status.remaining == 30 * 60)
    }

    @Test func aResponseStopsTheClock() throws {
        var ticket = makeTicket(5, created: at("2026-03-09 09:00"), tier: "premium", severity: .critical)
        ticket.respondedAt = at("2026-03-09 09:55")
        let met = try #require(sla.status(of: ticket, at: at("2026-03-09 12:00")))
        #expect(met.state == .met && met.elapsed == 55 * 60 && met.nextChange == nil)
        ticket.respondedAt = at("2026-03-09 10:05")
        #expect(sla.status(of: ticket, at: at("2026-03-09 12:00"))?.state == .missed)
        // Before the response happened, it was breached.
        #expect(sla.status(of: ticket, at: at("2026-03-09 10:01"))?.state == .breached)
    }

    @Test func theTargetFollowsTheCurrentSeverity() throws {
        var ticket = makeTicket(6, created: at("2026-03-09 09:00"), tier: "premium", severity: .minor)
        #expect(sla.status(of: ticket, at: at("2026-03-09 10:30"))?.state == .ok)
        ticket.severity = .critical
        #expect(sla.status(of: ticket, at: at("2026-03-09 10:30"))?.state == .breached)
    }

    @Test func noSLAWithoutAContract() {
        #expect(sla.status(of: makeTicket(7, created: at("2026-03-09 09:00"), group: .noContract), at: at("2026-03-09 10:00")) == nil)
        #expect(sla.status(of: makeTicket(8, created: at("2026-03-09 09:00"), tier: "gold"), at: at("2026-03-09 10:00")) == nil)
        #expect(sla.status(of: makeTicket(9, created: at("2026-03-09 09:00"), state: .cancelled), at: at("2026-03-09 10:00")) == nil)
    }
}

@Suite struct EscalationTests {
    let policy = EscalationPolicy.standard
    let roster = RosterTests.roster()  // week of 2026-03-09: week 9 → ben; backup emil

    func plan(_ ticket: Ticket, done: Set<Int> = [], _ now: Date, roster: Roster? = nil) -> EscalationPlan {
        policy.plan(for: ticket, stepsDone: done, now: now, roster: roster ?? self.roster, tiers: testTiers, calendar: officeHours)
    }

    func page(_ plan: EscalationPlan) -> PageRequest? {
        guard case .page(let request)? = plan.actions.first else { return nil }
        return request
    }

    @Test func pagesOnDutyAtOnceThenWithTheBackupThenTheWholeChannel() {
        let t0 = at("2026-03-09 10:00")
        let ticket = makeTicket(1, created: t0, tier: "premium", severity: .critical)
        var done: Set<Int> = []

        let first = plan(ticket, done: done, t0)
        #expect(first.status == .active)
        #expect(page(first) == PageRequest(steps: [0], privateMessage: ["ben"], mention: ["ben"], wholeChannel: false,
                                           noOneOnDuty: false, coalesced: false))
        #expect(first.completes == [0] && first.nextEvaluation == at("2026-03-09 10:05"))
        done.formUnion(first.completes)

        let idle = plan(ticket, done: done, at("2026-03-09 10:04:59"))
        #expect(idle.actions.isEmpty && idle.nextEvaluation == at("2026-03-09 10:05"))

        let second = plan(ticket, done: done, at("2026-03-09 10:05"))
        #expect(page(second)?.privateMessage == ["ben", "emil"] && page(second)?.wholeChannel == false)
        #expect(second.nextEvaluation == at("2026-03-09 10:15"))
        done.formUnion(second.completes)

        let third = plan(ticket, done: done, at("2026-03-09 10:15"))
        #expect(page(third)?.wholeChannel == true && page(third)?.privateMessage == [])
        #expect(page(third)?.mention == ["anna", "ben", "chris", "dana", "emil"])
        #expect(third.nextEvaluation == nil)
        done.formUnion(third.completes)
        #expect(plan(ticket, done: done, at("2026-03-09 11:00")).actions.isEmpty)
    }

    @Test func acknowledgingTakingOrAnsweringStopsIt() {
        let t0 = at("2026-03-09 10:00")
        for ticket in [
            makeTicket(2, created: t0, state: .acknowledged, respondedAt: t0),
            makeTicket(3, created: t0, state: .inProgress, assignee: "ben", respondedAt: t0),
            makeTicket(4, created: t0, state: .paged, respondedAt: t0.addingTimeInterval(60)),  // replied
            makeTicket(5, created: t0, state: .cancelled),
        ] {
            let p = plan(ticket, done: [0], at("2026-03-09 10:30"))
            #expect(p.status == .stopped && p.actions.isEmpty && p.nextEvaluation == nil)
        }
    }

    @Test func afterDowntimeMissedStepsGoOutAsOnePage() {
        // Step 0 went out at 10:00, then the gateway was down until 10:20:
        // steps 1 and 2 are both due; one page reaches on-duty, backup and channel.
        let ticket = makeTicket(6, created: at("2026-03-09 10:00"), tier: "premium", severity: .critical, state: .paged)
        let p = plan(ticket, done: [0], at("2026-03-09 10:20"))
        #expect(p.completes == [1, 2])
        #expect(page(p) == PageRequest(steps: [1, 2], privateMessage: ["ben", "emil"],
                                       mention: ["ben", "emil", "anna", "chris", "dana"], wholeChannel: true,
                                       noOneOnDuty: false, coalesced: true))
        #expect(p.nextEvaluation == nil)
        // Down before anything was sent: the first page is due at once.
        let fresh = makeTicket(7, created: at("2026-03-09 10:00"), tier: "premium", severity: .critical)
        #expect(plan(fresh, at("2026-03-09 10:03")).completes == [0])
    }

    @Test func nonContractTicketsAreAnnouncedOnceNeverPaged() {
        let ticket = makeTicket(8, created: at("2026-03-09 10:00"), group: .noContract, severity: .critical)
        let first = plan(ticket, at("2026-03-09 10:00"))
        #expect(first.status == .announceOnly && first.actions == [.announce] && first.completes == [0])
        #expect(first.nextEvaluation == nil)
        let again = plan(ticket, done: [0], at("2026-03-09 10:30"))
        #expect(again.actions.isEmpty && again.status == .announceOnly)
    }

    @Test func outsideBusinessHoursABasicTicketGetsAnHonestAnswerAndIsPagedAtOpening() {
        // Friday 19:00: closed until Monday 08:00.
        let ticket = makeTicket(9, created: at("2026-03-06 19:00"), tier: "basic", severity: .critical)
        let night = plan(ticket, at("2026-03-06 19:00"))
        #expect(night.status == .outsideCoverage(resumesAt: at("2026-03-09 08:00")))
        #expect(night.actions.isEmpty && night.nextEvaluation == at("2026-03-09 08:00"))
        let monday = plan(ticket, at("2026-03-09 08:00"))
        #expect(monday.status == .active && page(monday)?.steps == [0])
        #expect(monday.nextEvaluation == at("2026-03-09 08:05"))
        // Opened at 17:58: paged at once, the repeat counts business minutes → Monday 08:03.
        let late = makeTicket(10, created: at("2026-03-06 17:58"), tier: "basic", severity: .critical)
        #expect(plan(late, at("2026-03-06 17:58")).completes == [0])
        let evening = plan(late, done: [0], at("2026-03-06 18:30"))
        #expect(evening.status == .outsideCoverage(resumesAt: at("2026-03-09 08:00")))
        #expect(evening.actions.isEmpty && evening.nextEvaluation == at("2026-03-09 08:03"))
    }

    @Test func premiumSeverityOneIsPagedAtNightButSeverityThreeWaits() {
        let night = at("2026-03-07 03:00")  // Saturday
        let critical = plan(makeTicket(11, created: night, tier: "premium", severity: .critical), night)
        #expect(critical.status == .active && critical.completes == [0])
        let minor = plan(makeTicket(12, created: night, tier: "premium", severity: .minor), night)
        #expect(minor.status == .outsideCoverage(resumesAt: at("2026-03-09 08:00")) && minor.actions.isEmpty)
    }

    @Test func noOneOnDutyPagesTheBackupAndSaysSo() {
        let empty = RosterTests.roster(order: [nil])
        let t0 = at("2026-03-09 10:00")
        let p = plan(makeTicket(13, created: t0, tier: "premium", severity: .critical), t0, roster: empty)
        #expect(page(p) == PageRequest(steps: [0], privateMessage: ["emil"], mention: ["emil"], wholeChannel: false,
                                       noOneOnDuty: true, coalesced: false))
        // No backup either: the whole channel.
        let bare = RosterTests.roster(order: [nil], backup: nil)
        let q = plan(makeTicket(14, created: t0, tier: "premium", severity: .critical), t0, roster: bare)
        #expect(page(q)?.noOneOnDuty == true && page(q)?.wholeChannel == true && page(q)?.privateMessage == [])
    }

    @Test func anUnknownTierIsPagedAroundTheClock() {
        let night = at("2026-03-07 03:00")
        let p = plan(makeTicket(15, created: night, tier: "legacy-gold", severity: .minor), night)
        #expect(p.status == .active && p.completes == [0])
    }
}
