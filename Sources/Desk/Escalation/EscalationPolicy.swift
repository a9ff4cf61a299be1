import Config
import Foundation

/// Whom an escalation step pages.
public enum PageTarget: String, Sendable, Hashable, Codable, CaseIterable, ConfigValue, CustomStringConvertible {
    /// The agent on duty now: a private message and a mention in the agents' channel.
    case onDuty = "on-duty"
    /// The backup agent: a private message and a mention.
    case backup
    /// The whole agents' channel: a line that mentions every agent.
    case channel

    public static var configExpectation: String { "\"on-duty\", \"backup\" or \"channel\"" }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = PageTarget(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation), found \"\(text)\""))
        }
        self = value
    }
}

/// One step: after `after` without a response, page `targets`.
public struct EscalationStep: Sendable, Hashable {
    /// Time since the ticket was opened, on the clock of the ticket's
    /// coverage (business time for a business-hours tier).
    public var after: TimeInterval
    public var targets: [PageTarget]

    public init(after: TimeInterval, targets: [PageTarget]) {
        self.after = after
        self.targets = targets
    }
}

/// One page to send now: private messages to some agents and a line in the
/// agents' channel that mentions them (or everyone).
public struct PageRequest: Sendable, Hashable {
    /// The step indices this page carries out (more than one after downtime).
    public var steps: [Int]
    /// Agent ids to message privately, in order (on-duty first).
    public var privateMessage: [String]
    /// Agent ids whose nicks the channel line mentions.
    public var mention: [String]
    /// The channel line addresses the whole agents' channel.
    public var wholeChannel: Bool
    /// No one is on duty: the backup (or the channel) is paged instead, and
    /// the channel line and the customer are told so.
    public var noOneOnDuty: Bool
    /// Several steps fell due at once (the gateway was down): they are sent
    /// as this one page, not as a burst of stale ones.
    public var coalesced: Bool

    public init(steps: [Int], privateMessage: [String], mention: [String], wholeChannel: Bool, noOneOnDuty: Bool,
                coalesced: Bool) {
        self.steps = steps
        self.privateMessage = privateMessage
        self.mention = mention
        self.wholeChannel = wholeChannel
        self.noOneOnDuty = noOneOnDuty
        self.coalesced = coalesced
    }
}

/// What the escalation driver does now.
public enum EscalationAction: Sendable, Hashable {
    case page(PageRequest)
    /// Announce a non-contract ticket in the agents' channel (no page).
    case announce
}

/// The escalation's answer for one ticket at one instant.
public struct EscalationPlan: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// Paging as the policy says.
        case active
        /// Outside business hours for a tier and severity without 24/7
        /// support: no page now. The bots tell the customer honestly that
        /// support resumes at `resumesAt` (nil: the calendar never opens).
        case outsideCoverage(resumesAt: Date?)
        /// A non-contract ticket: announced in the agents' channel, never paged.
        case announceOnly
        /// Acknowledged, taken, answered, or closed: the escalation is over.
        case stopped
    }

    public var status: Status
    /// What to do now (empty when nothing is due).
    public var actions: [EscalationAction]
    /// Step indices to record as done once `actions` are carried out, so a
    /// restart neither repeats nor forgets them.
    public var completes: [Int]
    /// When to ask again (the next step's due time, or when coverage
    /// begins); nil when nothing more will happen by itself.
    public var nextEvaluation: Date?
}

/// The escalation policy (SPEC "Escalation"): steps of "after X, page
/// whom". The default pages the on-duty agent at once, after 5 minutes the
/// on-duty agent again and the backup, after 15 minutes the whole agents'
/// channel. Acknowledging, taking or answering the ticket stops it.
///
/// ``plan(for:stepsDone:now:roster:tiers:calendar:)`` is pure: the driver
/// keeps the set of done steps durably (the store's outbox), asks for a
/// plan whenever it wakes, carries out `actions`, records `completes`, and
/// sleeps until `nextEvaluation`. After a restart it asks again with what
/// it recorded and the escalation continues where it was.
///
/// Steps missed while the gateway was down are due at once, but several
/// due steps are sent as **one** page to the union of their recipients
/// (flagged `coalesced`), not as a burst of stale pages: the person who
/// should have been reached by the latest step is reached, and everyone
/// the earlier ones would have reached is included, once.
///
/// A ticket of a tier and severity whose coverage is business hours is
/// paged only while the desk is open: outside, the plan says so
/// (`outsideCoverage`) and its steps count business time, so the first page
/// goes out at the next opening. An unknown tier (removed from the
/// configuration since the ticket was opened) is treated as 24/7: a page
/// too many is better than a missed one.
public struct EscalationPolicy: Sendable, Hashable {
    public var steps: [EscalationStep]

    public init(steps: [EscalationStep]) { self.steps = steps }

    /// SPEC's default.
    public static let standard = EscalationPolicy(steps: [
        EscalationStep(after: 0, targets: [.onDuty]),
        EscalationStep(after: 5 * 60, targets: [.onDuty, .backup]),
        EscalationStep(after: 15 * 60, targets: [.channel]),
    ])

    /// The step index that records a non-contract ticket's announcement.
    public static let announcementStep = 0

    /// When each step is due for `ticket` (nil: never, e.g. a business-hours
    /// calendar with no open hours).
    public func dueTimes(for ticket: Ticket, tiers: TierCatalog, calendar: BusinessCalendar) -> [Date?] {
        let coverage = ticket.tier.flatMap { tiers.terms(tier: $0, severity: ticket.severity) }?.coverage ?? .allDay
        return steps.map { step in
            switch coverage {
            case .allDay: ticket.createdAt.addingTimeInterval(step.after)
            case .businessHours: calendar.instant(afterOpenTime: step.after, from: ticket.createdAt)
            }
        }
    }

    /// What to do for `ticket` at `now`, given the steps already done.
    public func plan(for ticket: Ticket, stepsDone: Set<Int>, now: Date, roster: Roster, tiers: TierCatalog,
                     calendar: BusinessCalendar) -> EscalationPlan {
        let stopped = ticket.respondedAt != nil || !(ticket.state == .new || ticket.state == .paged)
        if stopped {
            return EscalationPlan(status: .stopped, actions: [], completes: [], nextEvaluation: nil)
        }
        guard ticket.group == .contract else {
            let done = stepsDone.contains(Self.announcementStep)
            return EscalationPlan(status: .announceOnly, actions: done ? [] : [.announce],
                                  completes: done ? [] : [Self.announcementStep], nextEvaluation: nil)
        }
        let coverage = ticket.tier.flatMap { tiers.terms(tier: $0, severity: ticket.severity) }?.coverage ?? .allDay
        let times = dueTimes(for: ticket, tiers: tiers, calendar: calendar)
        var due: [Int] = []
        var next: Date?
        for (index, time) in times.enumerated() where !stepsDone.contains(index) {
            guard let time else { continue }
            if time <= now {
                due.append(index)
            } else if next == nil || time < next! {
                next = time
            }
        }
        var status = EscalationPlan.Status.active
        if coverage == .businessHours, !calendar.isOpen(at: now) {
            status = .outsideCoverage(resumesAt: calendar.nextOpening(atOrAfter: now))
        }
        guard !due.isEmpty else {
            return EscalationPlan(status: status, actions: [], completes: [], nextEvaluation: next)
        }
        let page = pageRequest(steps: due, now: now, roster: roster)
        return EscalationPlan(status: status, actions: [.page(page)], completes: due, nextEvaluation: next)
    }

    /// Resolves the targets of `steps` to agents at `now`.
    func pageRequest(steps indices: [Int], now: Date, roster: Roster) -> PageRequest {
        var targets: [PageTarget] = []
        for index in indices {
            for target in steps[index].targets where !targets.contains(target) { targets.append(target) }
        }
        let onDuty = roster.onDuty(at: now).agent
        var direct: [String] = []
        var whole = false
        var noOne = false
        for target in targets {
            switch target {
            case .onDuty:
                if let onDuty {
                    direct.append(onDuty)
                } else {
                    noOne = true
                    if let backup = roster.backup { direct.append(backup) } else { whole = true }
                }
            case .backup:
                if let backup = roster.backup { direct.append(backup) } else if onDuty == nil { whole = true }
            case .channel:
                whole = true
            }
        }
        var seen = Set<String>()
        direct = direct.filter { seen.insert($0).inserted }
        var mention = direct
        if whole {
            for agent in roster.agents.all where !seen.contains(agent.id) { mention.append(agent.id) }
        }
        return PageRequest(steps: indices, privateMessage: direct, mention: mention, wholeChannel: whole,
                           noOneOnDuty: noOne, coalesced: indices.count > 1)
    }
}
