import Desk
import Foundation

/// What the scheduler decides with, at one instant: the desk's escalation
/// and SLA terms and the roster as it stands (with the overrides agents
/// made at run time).
struct EscalationContext {
    var desk: DeskConfiguration
    var roster: Roster

    /// The nick of an agent id (the id itself if the agent was removed).
    func nick(_ id: String) -> String { desk.agents.agent(id: id)?.nick ?? id }

    func plan(for ticket: Ticket, stepsDone: Set<Int>, now: Date) -> EscalationPlan {
        desk.escalation.plan(for: ticket, stepsDone: stepsDone, now: now, roster: roster, tiers: desk.tiers,
                             calendar: desk.calendar)
    }

    func dueTimes(for ticket: Ticket) -> [Date?] {
        desk.escalation.dueTimes(for: ticket, tiers: desk.tiers, calendar: desk.calendar)
    }
}

/// What the scheduler waits for, per contract ticket.
enum EscalationCheck: Hashable, Sendable {
    /// The next escalation step (or coverage opening).
    case escalation(TicketNumber)
    /// The next SLA mark (80 %, breach).
    case sla(TicketNumber)

    var ticket: TicketNumber {
        switch self {
        case .escalation(let number), .sla(let number): number
        }
    }
}

/// A ticket whose first page went privately to agents the network may not
/// see online; the runtime asks the network right after the page was
/// handed over and reports with ``EscalationScheduler/presenceAnswered(_:absent:)``.
struct PresenceCheck: Equatable {
    var number: TicketNumber
    /// Agent ids paged privately.
    var agents: [String]
    /// The network the page went to.
    var network: String
}

/// An escalation step to page: the runtime writes the pages (``Pager``)
/// with the ticket's `paged` event (`note`) in one transaction, hands them
/// to the network, and reports how it went with
/// ``EscalationScheduler/paged(_:outcome:now:)``.
struct EscalationPage: Equatable {
    /// Why the step is paged now.
    enum Reason: Equatable {
        /// It fell due (`to`: the nicks paged, and `channel` for the whole channel).
        case due(to: [String])
        /// Early: the paged agents are not online (`reached`: nicks paged instead).
        case agentsAbsent(reached: [String])
        /// Early: a page of the step before was given up; the agents'
        /// channel warning about `ticket` (`values`) follows.
        case pageGivenUp(ticket: Ticket, values: [String: String])
    }

    var number: TicketNumber
    var request: PageRequest
    /// The `paged` event's note (audit trail).
    var note: String
    /// The network of the customer (whose agents' place is paged).
    var network: String
    /// Nicks of on-duty agents not online: they get no private page and the
    /// channel line says so.
    var absent: [String]
    /// A new step replaces the pages of the last one not sent yet.
    var cancelUnsentPages: Bool
    var reason: Reason
    /// An early page, once written, sleeps the escalation until this step.
    var nextEvaluation: Date?
}

/// How writing an ``EscalationPage`` went.
enum EscalationPageOutcome {
    /// Committed; the ticket as stored now.
    case written(Ticket)
    /// The store already had this step (written before a restart).
    case stepExists
    /// The store failed.
    case failed
    /// The ticket is gone or the lifecycle refused the page (no longer open).
    case gone
}

/// An SLA mark to write to the audit trail; once stored
/// (``EscalationScheduler/slaRecorded(_:)``) it is counted and posted.
struct SLAMark: Equatable {
    enum Kind: Equatable { case warning, breach }
    var kind: Kind
    var ticket: Ticket
    /// The audit event's note.
    var note: String
    /// The values of the agents' channel line.
    var values: [String: String]

    var command: TicketCommand {
        switch kind {
        case .warning: .slaWarning(note: note)
        case .breach: .slaBreach(note: note)
        }
    }
}

/// Something the scheduler wants done; the runtime does it and, where the
/// store has the last word, reports back.
enum EscalationEffect: Equatable {
    /// Write and send these pages (report with ``EscalationScheduler/paged(_:outcome:now:)``).
    case page(EscalationPage)
    /// Write this SLA event (report success with ``EscalationScheduler/slaRecorded(_:)``).
    case recordSLA(SLAMark)
    /// An urgent line in the agents' channel (or to the on-duty agent);
    /// `include` renders more texts into `values` first (key → text).
    case postToAgents(Ticket, AgentText, [String: String], include: [String: AgentText] = [:])
    /// An urgent line to the customer of the ticket, if they are still in
    /// a conversation with the bot.
    case tellCustomerInConversation(Ticket, SupportText, [String: String])
    /// Count an SLA mark for `/metrics`.
    case countSLA(SLAMark.Kind)
    /// The on-duty agent is not online and no one else can be paged early
    /// (a warning in the log).
    case noOneToPageEarly(TicketNumber, absent: [String])
}

/// The escalation and SLA scheduler (SPEC "Escalation"): for every open
/// contract ticket, when its next escalation step and SLA mark are due,
/// which SLA marks were posted, and which first pages still wait for the
/// network's word on whether the paged agents are online. A value with no
/// I/O: the runtime reads tickets from the store, feeds them in with the
/// events below, and performs the ``EscalationEffect``s that come out.
///
/// Events: a ticket created (``ticketCreated(_:plan:request:network:now:_:)``)
/// or found open at start (``resumed(_:warned:breached:now:)``), changed
/// (``ticketChanged(_:)``), acknowledged or answered (``acknowledged(_:now:)``,
/// ``responded(_:now:)``), re-prioritised (``severityChanged(_:now:)``),
/// done with (``forget(_:)``); a deadline due (``popDue(_:)`` then
/// ``escalationDue(_:ticket:stepsDone:now:_:)`` / ``slaDue(_:ticket:now:_:)``, or
/// ``readFailed(_:now:)``); a presence answer; a page given up
/// (``pageGivenUp(_:step:target:attempts:reason:stepsDone:now:_:)``); a
/// reload (``reloaded(now:)``).
struct EscalationScheduler {
    /// Which SLA marks were posted for a tracked ticket.
    struct SLAPosted: Equatable {
        var warned = false
        var breached = false
    }

    /// The contract tickets tracked, with their posted SLA marks (rebuilt
    /// from the audit trail at start).
    private(set) var slaPosted: [TicketNumber: SLAPosted] = [:]
    /// First pages whose agents' presence is still to be asked.
    private(set) var presenceChecks: [PresenceCheck] = []
    private var deadlines = DeadlineSchedule<EscalationCheck>()

    /// How long a check waits after the store failed to answer it.
    static let retryAfterStoreFailure: TimeInterval = 60

    // MARK: - Deadlines

    /// The earliest deadline, if any.
    mutating func earliest() -> Date? { deadlines.earliest() }

    /// The deadline of `check`, if it has one.
    func deadline(of check: EscalationCheck) -> Date? { deadlines.deadline(of: check) }

    /// Takes the checks due at `now`, earliest first, with their deadlines
    /// (so the runtime can interleave them with its other timers).
    mutating func popDue(_ now: Date) -> [(check: EscalationCheck, at: Date)] {
        deadlines.popDueWithDates(now).map { ($0.key, $0.at) }
    }

    /// A due check the runtime left for its next turn: due again at `at`.
    mutating func requeue(_ check: EscalationCheck, at: Date) {
        deadlines.set(check, at: at)
    }

    /// The store could not give the ticket for `check`: ask again in a minute.
    mutating func readFailed(_ check: EscalationCheck, now: Date) {
        deadlines.set(check, at: now.addingTimeInterval(Self.retryAfterStoreFailure))
    }

    // MARK: - Tickets coming and going

    /// A contract ticket open in the store at start: its escalation resumes
    /// where it stands and its SLA marks not yet posted follow.
    mutating func resumed(_ number: TicketNumber, warned: Bool, breached: Bool, now: Date) {
        slaPosted[number] = SLAPosted(warned: warned, breached: breached)
        deadlines.set(.escalation(number), at: now)
        deadlines.set(.sla(number), at: now)
    }

    /// A contract ticket was created with the first page of `plan`
    /// (`request`, already written with the ticket): the next step and the
    /// first SLA mark are scheduled, and agents paged privately are checked
    /// for presence.
    mutating func ticketCreated(_ ticket: Ticket, plan: EscalationPlan, request: PageRequest?, network: String,
                                now: Date, _ context: EscalationContext) {
        guard ticket.group == .contract else { return }
        slaPosted[ticket.number] = SLAPosted()
        if let request, !request.noOneOnDuty, !request.privateMessage.isEmpty {
            presenceChecks.append(PresenceCheck(number: ticket.number, agents: request.privateMessage, network: network))
        }
        if let next = plan.nextEvaluation { deadlines.set(.escalation(ticket.number), at: next) }
        if let next = context.desk.sla.status(of: ticket, at: now)?.nextChange { deadlines.set(.sla(ticket.number), at: next) }
    }

    /// Any committed change: a ticket no longer open needs no escalation.
    mutating func ticketChanged(_ ticket: Ticket) {
        if !ticket.state.isOpen { deadlines.remove(.escalation(ticket.number)) }
    }

    /// `!ack`: the escalation stops; the SLA sees the response now.
    mutating func acknowledged(_ number: TicketNumber, now: Date) {
        deadlines.remove(.escalation(number))
        deadlines.set(.sla(number), at: now)
    }

    /// An agent answered the customer: the escalation stops; a tracked
    /// ticket's SLA sees the response now.
    mutating func responded(_ number: TicketNumber, now: Date) {
        deadlines.remove(.escalation(number))
        if slaPosted[number] != nil { deadlines.set(.sla(number), at: now) }
    }

    /// `!sev`: coverage and response time follow the severity, so a
    /// contract ticket's escalation and SLA are evaluated again now.
    mutating func severityChanged(_ ticket: Ticket, now: Date) {
        guard ticket.group == .contract else { return }
        deadlines.set(.escalation(ticket.number), at: now)
        deadlines.set(.sla(ticket.number), at: now)
    }

    /// The ticket was taken, resolved, closed or withdrawn: no more timers.
    mutating func forget(_ number: TicketNumber) {
        deadlines.remove(.escalation(number))
        deadlines.remove(.sla(number))
        slaPosted.removeValue(forKey: number)
    }

    /// New desk terms: every tracked ticket is evaluated again now.
    mutating func reloaded(now: Date) {
        for number in slaPosted.keys.sorted() {
            deadlines.set(.escalation(number), at: now)
            deadlines.set(.sla(number), at: now)
        }
    }

    // MARK: - Escalation

    /// The escalation deadline of ticket `number` (`ticket`: as stored, nil: gone) fell
    /// due; `stepsDone` are the steps the store has written. Pages what the
    /// policy says is due and sleeps until the next step.
    mutating func escalationDue(_ number: TicketNumber, ticket: Ticket?, stepsDone recorded: Set<Int>, now: Date,
                                _ context: EscalationContext) -> [EscalationEffect] {
        guard let ticket, ticket.group == .contract, ticket.state.isOpen else {
            deadlines.remove(.escalation(number))
            return []
        }
        // Steps are in time order; a step written means the earlier ones are
        // done too (they were coalesced into it after downtime).
        let done: Set<Int> = recorded.max().map { Set(0...$0) } ?? []
        let plan = context.plan(for: ticket, stepsDone: done, now: now)
        if case .stopped = plan.status {
            deadlines.remove(.escalation(number))
            return []
        }
        if let next = plan.nextEvaluation {
            deadlines.set(.escalation(number), at: next)
        } else {
            deadlines.remove(.escalation(number))
        }
        guard let request = Self.firstPage(in: plan) else { return [] }
        let whom = request.privateMessage.map(context.nick) + (request.wholeChannel ? ["channel"] : [])
        let note = "step \(Self.steps(request)): " + whom.joined(separator: ", ")
            + (request.noOneOnDuty ? " (no one on duty)" : "")
        return [.page(EscalationPage(number: number, request: request, note: note, network: ticket.contact.network,
                                     absent: [], cancelUnsentPages: true, reason: .due(to: whom),
                                     nextEvaluation: plan.nextEvaluation))]
    }

    /// The network's answer for a ``PresenceCheck`` (taken with
    /// ``takePresenceChecks()``): `absent` are the paged agents' nicks it
    /// does not see. True when every one is absent, so the next step
    /// should be paged early (``agentsAbsent(_:stepsDone:absent:now:_:)``).
    func presenceAnswered(_ check: PresenceCheck, absent: [String]) -> Bool {
        !absent.isEmpty && absent.count == check.agents.count
    }

    /// The presence checks to ask the networks about now (each once).
    mutating func takePresenceChecks() -> [PresenceCheck] {
        defer { presenceChecks = [] }
        return presenceChecks
    }

    /// The agents paged first (`absent`, nicks) are not online: the next
    /// escalation step is paged at once, as the policy would page it when
    /// due — only while just the first page is out and no one has answered.
    mutating func agentsAbsent(_ ticket: Ticket?, stepsDone recorded: Set<Int>, absent: [String], now: Date,
                               _ context: EscalationContext) -> [EscalationEffect] {
        guard let ticket, ticket.group == .contract, ticket.respondedAt == nil,
              [.new, .paged].contains(ticket.state), recorded == [0] else { return [] }
        let dueTimes = context.dueTimes(for: ticket)
        guard dueTimes.count > 1, let due = dueTimes[1] else { return [] }
        let plan = context.plan(for: ticket, stepsDone: [0], now: max(due, now))
        guard let request = Self.firstPage(in: plan) else { return [] }
        let reached = (request.wholeChannel ? request.mention : request.privateMessage).map(context.nick)
            .filter { !absent.contains($0) }
        guard !reached.isEmpty else { return [.noOneToPageEarly(ticket.number, absent: absent)] }
        let note = "step \(Self.steps(request)) early: "
            + "\(absent.joined(separator: ", ")) not online; paged \(reached.joined(separator: ", "))"
        return [.page(EscalationPage(number: ticket.number, request: request, note: note,
                                     network: ticket.contact.network, absent: absent, cancelUnsentPages: false,
                                     reason: .agentsAbsent(reached: reached), nextEvaluation: plan.nextEvaluation))]
    }

    /// A page of `step` was given up after `attempts` refusals: the next
    /// escalation step of an unanswered contract ticket is paged at once,
    /// and the agents' channel is warned (saying whether it was).
    /// `stepsDone`: the steps the store has written (nil: it could not say).
    mutating func pageGivenUp(_ ticket: Ticket, step: Int, target: String, attempts: Int, reason: String,
                              stepsDone recorded: Set<Int>?, now: Date,
                              _ context: EscalationContext) -> [EscalationEffect] {
        var values = Pager.values(ticket)
        values["target"] = target
        values["attempts"] = String(attempts)
        values["error"] = Sanitizer.inline(reason, limit: 120)
        let noStep = EscalationEffect.postToAgents(ticket, .pageGivenUp, values, include: ["next": .pageGivenUpNoStep])
        guard ticket.group == .contract, ticket.respondedAt == nil, [.new, .paged].contains(ticket.state),
              let recorded else { return [noStep] }
        let done = Set(0...max(step, recorded.max() ?? step))
        let dueTimes = context.dueTimes(for: ticket)
        let nextIndex = done.max()! + 1
        guard nextIndex < dueTimes.count, let due = dueTimes[nextIndex] else { return [noStep] }
        let plan = context.plan(for: ticket, stepsDone: done, now: max(due, now))
        guard let request = Self.firstPage(in: plan) else { return [noStep] }
        let note = "step \(Self.steps(request)) early: page to \(target) given up"
        return [.page(EscalationPage(number: ticket.number, request: request, note: note,
                                     network: ticket.contact.network, absent: [], cancelUnsentPages: false,
                                     reason: .pageGivenUp(ticket: ticket, values: values),
                                     nextEvaluation: plan.nextEvaluation))]
    }

    /// How writing `page` went: a failed regular step is tried again in a
    /// minute, a ticket gone needs no timer; an early page written tells
    /// the customer (agents absent) or completes the channel warning (page
    /// given up).
    mutating func paged(_ page: EscalationPage, outcome: EscalationPageOutcome, now: Date) -> [EscalationEffect] {
        let number = page.number
        let next = page.nextEvaluation
        switch (page.reason, outcome) {
        case (.due, .written), (.due, .stepExists):
            return []
        case (.due, .failed):
            deadlines.set(.escalation(number), at: now.addingTimeInterval(Self.retryAfterStoreFailure))
            return []
        case (.due, .gone):
            deadlines.remove(.escalation(number))
            return []
        case (.agentsAbsent(let reached), .written(let ticket)):
            if let next { deadlines.set(.escalation(number), at: next) }
            var values = Pager.values(ticket)
            values["agent"] = page.absent.joined(separator: ", ")
            values["paged"] = reached.joined(separator: ", ")
            return [.tellCustomerInConversation(ticket, .onDutyNotOnline, values)]
        case (.agentsAbsent, _):
            return []
        case (.pageGivenUp(let ticket, let values), .written):
            if let next { deadlines.set(.escalation(number), at: next) }
            return [.postToAgents(ticket, .pageGivenUp, values, include: ["next": .pageGivenUpNextStep])]
        case (.pageGivenUp(let ticket, let values), _):
            return [.postToAgents(ticket, .pageGivenUp, values, include: ["next": .pageGivenUpNoStep])]
        }
    }

    // MARK: - SLA

    /// The SLA deadline of ticket `number` (`ticket`: as stored, nil: gone) fell due: the warning (80 %)
    /// and the breach are recorded and posted once each (recorded in the
    /// audit trail, so not again after a restart).
    mutating func slaDue(_ number: TicketNumber, ticket: Ticket?, now: Date,
                         _ context: EscalationContext) -> [EscalationEffect] {
        guard let ticket, ticket.state.isOpen, let status = context.desk.sla.status(of: ticket, at: now) else {
            deadlines.remove(.sla(number))
            return []
        }
        let posted = slaPosted[number] ?? SLAPosted()
        slaPosted[number] = posted
        if let next = status.nextChange {
            deadlines.set(.sla(number), at: next)
        } else {
            deadlines.remove(.sla(number))
        }
        var values = Pager.values(ticket)
        values["tier"] = context.desk.tiers.tier(status.tier)?.name ?? status.tier
        values["target"] = Format.duration(status.target)
        values["left"] = Format.duration(status.remaining)
        let percent = String(Int((context.desk.sla.warningFraction * 100).rounded()))
        values["percent"] = percent
        switch status.state {
        case .breached where !posted.breached:
            return [.recordSLA(SLAMark(kind: .breach, ticket: ticket,
                                       note: "response time \(Format.duration(status.target)) passed", values: values))]
        case .warning where !posted.warned:
            return [.recordSLA(SLAMark(kind: .warning, ticket: ticket,
                                       note: "\(percent) % of \(Format.duration(status.target)) used", values: values))]
        default:
            return []
        }
    }

    /// `mark` is in the audit trail: it is counted and posted, and not again.
    mutating func slaRecorded(_ mark: SLAMark) -> [EscalationEffect] {
        let number = mark.ticket.number
        var posted = slaPosted[number] ?? SLAPosted()
        switch mark.kind {
        case .breach:
            posted.breached = true
            posted.warned = true
        case .warning:
            posted.warned = true
        }
        slaPosted[number] = posted
        return [.countSLA(mark.kind),
                .postToAgents(mark.ticket, mark.kind == .breach ? .slaBreach : .slaWarning, mark.values)]
    }

    // MARK: - Helpers

    /// The page request of an escalation plan, if it has one (a plain
    /// function: a closure here crashed Swift 6.3's optimiser).
    static func firstPage(in plan: EscalationPlan) -> PageRequest? {
        for action in plan.actions {
            if case .page(let request) = action { return request }
        }
        return nil
    }

    static func steps(_ request: PageRequest) -> String {
        request.steps.map(String.init).joined(separator: "+")
    }
}
