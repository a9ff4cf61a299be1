import Foundation

/// Where a ticket stands against its response-time promise.
public enum SLAState: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Less than 80 % of the response time used.
    case ok
    /// 80 % or more used, no response yet: the agents' channel is warned.
    case warning
    /// The response time has passed with no response.
    case breached
    /// Responded in time.
    case met
    /// Responded, but after the response time.
    case missed

    public var description: String { rawValue }
}

/// A contract ticket's SLA at one instant.
public struct SLAStatus: Sendable, Hashable {
    public var tier: String
    public var severity: Severity
    public var coverage: Coverage
    /// The promised response time (counted on `coverage`'s clock).
    public var target: TimeInterval
    /// Counted time since the ticket was opened, up to the response or `now`.
    public var elapsed: TimeInterval
    /// `target - elapsed`: negative once breached.
    public var remaining: TimeInterval
    public var state: SLAState
    /// When 80 % is used (nil if the calendar never gets there).
    public var warningAt: Date?
    /// When the response time is used up.
    public var breachAt: Date?
    /// The next instant the state changes by itself (ok → warning →
    /// breached), for a timer; nil when it will not.
    public var nextChange: Date?
}

/// Response times per tier and severity (SPEC "Escalation": "each contract
/// tier sets response times per severity. The agents' channel is warned at
/// 80 % of the time and at breach").
///
/// The clock starts when the ticket is opened and stops at the first
/// response (acknowledge, take or reply: `Ticket.respondedAt`). For a
/// business-hours tier only open time counts — evenings, weekends and
/// holidays do not — so a 4-hour ticket opened Friday at 17:30 has used 30
/// minutes when the desk closes, and reaches 80 % on Monday at 10:42.
/// The target follows the ticket's *current* severity: raising a ticket
/// from 4 to 1 may put it in breach at once, which is what its new severity
/// says.
public struct SLAPolicy: Sendable {
    public let tiers: TierCatalog
    public let calendar: BusinessCalendar
    /// 0.8: warn at 80 %.
    public let warningFraction: Double

    public init(tiers: TierCatalog, calendar: BusinessCalendar, warningFraction: Double = 0.8) {
        self.tiers = tiers
        self.calendar = calendar
        self.warningFraction = warningFraction
    }

    /// The SLA of `ticket` at `now`; nil when it has none (non-contract,
    /// unknown tier, or cancelled).
    public func status(of ticket: Ticket, at now: Date) -> SLAStatus? {
        guard ticket.group == .contract, ticket.state != .cancelled, let tier = ticket.tier,
              let terms = tiers.terms(tier: tier, severity: ticket.severity) else { return nil }
        let warningAt: Date?, breachAt: Date?
        let end = min(now, ticket.respondedAt ?? now)
        let elapsed: TimeInterval
        switch terms.coverage {
        case .allDay:
            warningAt = ticket.createdAt.addingTimeInterval(terms.responseTime * warningFraction)
            breachAt = ticket.createdAt.addingTimeInterval(terms.responseTime)
            elapsed = max(0, end.timeIntervalSince(ticket.createdAt))
        case .businessHours:
            warningAt = calendar.instant(afterOpenTime: terms.responseTime * warningFraction, from: ticket.createdAt)
            breachAt = calendar.instant(afterOpenTime: terms.responseTime, from: ticket.createdAt)
            elapsed = calendar.openTime(from: ticket.createdAt, to: end)
        }
        let state: SLAState
        var nextChange: Date?
        if let responded = ticket.respondedAt, responded <= now {
            state = (breachAt.map { responded < $0 } ?? true) ? .met : .missed
        } else if let breachAt, now >= breachAt {
            state = .breached
        } else if let warningAt, now >= warningAt {
            state = .warning
            nextChange = breachAt
        } else {
            state = .ok
            nextChange = warningAt
        }
        return SLAStatus(tier: tier, severity: ticket.severity, coverage: terms.coverage, target: terms.responseTime,
                         elapsed: elapsed, remaining: terms.responseTime - elapsed, state: state,
                         warningAt: warningAt, breachAt: breachAt, nextChange: nextChange)
    }
}
