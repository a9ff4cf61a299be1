import Desk
import Foundation

/// The last days of the desk in numbers, for the page's charts: tickets per
/// day by group, first-response times against each tier's SLA, and KB
/// suggestions accepted (conversations that ended without a ticket).
public struct StatusHistory: Sendable, Hashable {
    /// One local day of the desk's zone.
    public struct Day: Sendable, Hashable {
        public var date: CalendarDate
        public var contractTickets: Int
        public var noContractTickets: Int
        /// Conversations a suggested KB article solved that day.
        public var kbAccepted: Int

        public init(date: CalendarDate, contractTickets: Int, noContractTickets: Int, kbAccepted: Int) {
            self.date = date
            self.contractTickets = contractTickets
            self.noContractTickets = noContractTickets
            self.kbAccepted = kbAccepted
        }

        public var tickets: Int { contractTickets + noContractTickets }
    }

    /// First responses of one tier's tickets, as the share of the SLA
    /// response time they used (1.0 = exactly at the promised time), so
    /// severities with different targets fit on one scale.
    public struct TierResponses: Sendable, Hashable {
        public struct Day: Sendable, Hashable {
            public var date: CalendarDate
            /// Tickets of the day that had a first response.
            public var responded: Int
            /// Median and 90th percentile (nearest rank) of the used share; nil without responses.
            public var median: Double?
            public var p90: Double?
        }

        public var tier: String
        public var tierName: String
        public var days: [Day]
        /// Over all days: median and p90 in seconds of counted time (business
        /// hours only for a business-hours tier), and how many responded.
        public var medianSeconds: Double?
        public var p90Seconds: Double?
        public var responded: Int
        /// Contract tickets of the tier in these days still without a response.
        public var unanswered: Int
        /// The tier's promised response times, most severe first.
        public var targets: [Target]

        /// One promised response time.
        public struct Target: Sendable, Hashable {
            public var severity: Severity
            public var seconds: TimeInterval
        }
    }

    /// Oldest first, ending today.
    public var days: [Day]
    /// One per configured tier, in the catalogue's order.
    public var tiers: [TierResponses]

    public init(days: [Day], tiers: [TierResponses]) {
        self.days = days
        self.tiers = tiers
    }

    /// The figures of the `dayCount` local days ending with today (`now`'s
    /// day in `zone`) from the tickets created in them (others are ignored)
    /// and the accepted KB suggestions counted per day.
    public static func make(tickets: [Ticket], kbAcceptedByDay: [CalendarDate: Int], sla: SLAPolicy,
                            zone: ZonedCalendar, now: Date, dayCount: Int = 14) -> StatusHistory {
        let today = zone.date(of: now)
        let first = today.adding(days: -(dayCount - 1))
        let dates = (0..<dayCount).map { first.adding(days: $0) }
        var contract: [CalendarDate: Int] = [:], noContract: [CalendarDate: Int] = [:]
        var shares: [String: [CalendarDate: [Double]]] = [:]
        var seconds: [String: [Double]] = [:]
        var unanswered: [String: Int] = [:]
        for ticket in tickets {
            let date = zone.date(of: ticket.createdAt)
            guard date >= first, date <= today else { continue }
            switch ticket.group {
            case .contract: contract[date, default: 0] += 1
            case .noContract: noContract[date, default: 0] += 1
            }
            guard let status = sla.status(of: ticket, at: now) else { continue }
            if ticket.respondedAt != nil, status.state == .met || status.state == .missed {
                if status.target > 0 { shares[status.tier, default: [:]][date, default: []].append(status.elapsed / status.target) }
                seconds[status.tier, default: []].append(status.elapsed)
            } else if ticket.state.isOpen {
                unanswered[status.tier, default: 0] += 1
            }
        }
        let days = dates.map {
            Day(date: $0, contractTickets: contract[$0] ?? 0, noContractTickets: noContract[$0] ?? 0,
                kbAccepted: kbAcceptedByDay[$0] ?? 0)
        }
        let tiers = sla.tiers.all.map { tier in
            let byDay = shares[tier.id] ?? [:]
            let all = (seconds[tier.id] ?? []).sorted()
            return TierResponses(
                tier: tier.id, tierName: tier.name,
                days: dates.map { date in
                    let values = (byDay[date] ?? []).sorted()
                    return TierResponses.Day(date: date, responded: values.count, median: median(values),
                                             p90: percentile(values, 0.9))
                },
                medianSeconds: median(all), p90Seconds: percentile(all, 0.9), responded: all.count,
                unanswered: unanswered[tier.id] ?? 0,
                targets: Severity.allCases.compactMap { severity in
                    tier.terms[severity].map { TierResponses.Target(severity: severity, seconds: $0.responseTime) }
                })
        }
        return StatusHistory(days: days, tiers: tiers)
    }

    /// The middle of `sorted` (the mean of the two middle values for an even count).
    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile of `sorted` (`fraction` 0.9 → p90).
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
