import Desk
import Foundation

// What the status page shows, as plain values: the gateway reads them from
// the store and the running desk (`StatusPageSource` in Gateway), the
// renderers here turn them into HTML and SVG. Nothing in this target reads
// a file, a socket or the clock.

/// Everything the live part of the status page shows at one instant.
public struct StatusSnapshot: Sendable {
    /// The instant the data were read; ages and SLA times count from it.
    public var now: Date
    /// The desk's zone: every time on the page is on its wall clock.
    public var zone: ZonedCalendar
    public var duty: DutyOverview
    /// Open tickets in `!next` order (``StatusSnapshot/ordered(_:)``).
    public var tickets: [TicketRow]
    /// Pages neither sent nor cancelled (due, being retried) and pages given up.
    public var pages: [PageRow]
    /// The chat networks of the instance that answers (pages go out through them).
    public var networks: [NetworkRow]

    public init(now: Date, zone: ZonedCalendar, duty: DutyOverview, tickets: [TicketRow], pages: [PageRow],
                networks: [NetworkRow] = []) {
        self.now = now
        self.zone = zone
        self.duty = duty
        self.tickets = tickets
        self.pages = pages
        self.networks = networks
    }

    /// Open tickets in the order `!next` hands them out (contract group,
    /// severity, age, number: ``TicketQueue``'s key), each with its SLA at
    /// `now` and, when no agent holds it, its place in the queue.
    public static func ordered(_ tickets: [Ticket], sla: SLAPolicy, now: Date) -> [TicketRow] {
        let queue = TicketQueue(tickets: tickets)
        return tickets.filter(\.state.isOpen).sorted { a, b in
            if a.priority.rank != b.priority.rank { return a.priority.rank < b.priority.rank }
            if a.createdAt != b.createdAt { return a.createdAt < b.createdAt }
            return a.number < b.number
        }.map { TicketRow(ticket: $0, sla: sla.status(of: $0, at: now), queuePosition: queue.position(of: $0.number)) }
    }
}

/// Who is on duty now, the backup, and the handovers of the coming days.
public struct DutyOverview: Sendable, Hashable {
    /// An agent as the page names them: display name and chat nick.
    public struct Person: Sendable, Hashable {
        public var name: String
        public var nick: String
        public init(name: String, nick: String) {
            self.name = name
            self.nick = nick
        }
    }

    /// One change of duty.
    public struct Handover: Sendable, Hashable {
        public var at: Date
        /// Nil: no one is on duty from then (an empty slot).
        public var agent: Person?
        /// Set when an override (configured or `!oncall override`) causes it.
        public var overrideReason: String?
        public init(at: Date, agent: Person?, overrideReason: String?) {
            self.at = at
            self.agent = agent
            self.overrideReason = overrideReason
        }
    }

    /// Nil: no one on duty now (pages go to the backup).
    public var onDuty: Person?
    /// Set when an override puts `onDuty` there, with its reason.
    public var onDutyOverride: String?
    public var backup: Person?
    public var handovers: [Handover]
    /// A public holiday of the desk's calendar.
    public struct Holiday: Sendable, Hashable {
        public var date: CalendarDate
        public var name: String
        public init(date: CalendarDate, name: String) {
            self.date = date
            self.name = name
        }
    }

    /// Holidays in the same days (no business hours; business-hours SLAs pause).
    public var holidays: [Holiday]

    public init(onDuty: Person?, onDutyOverride: String?, backup: Person?, handovers: [Handover],
                holidays: [Holiday]) {
        self.onDuty = onDuty
        self.onDutyOverride = onDutyOverride
        self.backup = backup
        self.handovers = handovers
        self.holidays = holidays
    }

    /// The roster at `now` and its handovers until `now + days`: who, from
    /// when, and whether an override causes it; holidays of those days.
    /// `roster` must already hold the overrides made at run time (from the
    /// store, so every instance shows the same).
    public static func make(roster: Roster, calendar: BusinessCalendar, now: Date, days: Int = 7) -> DutyOverview {
        func person(_ id: String?) -> Person? {
            guard let id else { return nil }
            guard let agent = roster.agents.agent(id: id) else { return Person(name: id, nick: id) }
            return Person(name: agent.name, nick: agent.nick)
        }
        func reason(_ source: DutySlot.Source) -> String? {
            guard case .override(let id) = source else { return nil }
            let entry = roster.overrides.first { $0.id == id }
            return entry.map { $0.reason.isEmpty ? "override" : $0.reason } ?? "override"
        }
        let slot = roster.onDuty(at: now)
        let end = now.addingTimeInterval(Double(days) * 86_400)
        var handovers: [Handover] = []
        var cursor = now
        while handovers.count < 64, let change = roster.next(after: cursor), change.at < end {
            handovers.append(Handover(at: change.at, agent: person(change.agent), overrideReason: reason(change.source)))
            cursor = change.at
        }
        let today = roster.zone.date(of: now)
        let holidays = (0...days).compactMap { offset -> Holiday? in
            let date = today.adding(days: offset)
            return calendar.holiday(on: date).map { Holiday(date: date, name: $0) }
        }
        return DutyOverview(onDuty: person(slot.agent), onDutyOverride: reason(slot.source), backup: person(roster.backup),
                            handovers: handovers, holidays: holidays)
    }
}

/// One open ticket as the page lists it.
public struct TicketRow: Sendable, Hashable {
    public var ticket: Ticket
    /// Nil for tickets without an SLA (no contract, unknown tier).
    public var sla: SLAStatus?
    /// 1-based place in the queue when no agent holds it.
    public var queuePosition: Int?

    public init(ticket: Ticket, sla: SLAStatus?, queuePosition: Int? = nil) {
        self.ticket = ticket
        self.sla = sla
        self.queuePosition = queuePosition
    }
}

/// A page of the outbox that has not gone out.
public struct PageRow: Sendable, Hashable {
    /// Where the page stands.
    public enum Status: Sendable, Hashable {
        /// Due (or due later), not yet confirmed sent; `attempts` failed so far.
        case inFlight
        /// Given up after the configured attempts; the next escalation step was paged.
        case givenUp
    }

    public var page: PageRecord
    public var status: Status

    public init(page: PageRecord, status: Status) {
        self.page = page
        self.status = status
    }
}

/// A chat network as the running gateway sees it: whether pages can go out
/// now, and how far its send queue is behind.
public struct NetworkRow: Sendable, Hashable {
    public var name: String
    /// Registered and sending.
    public var isReady: Bool
    /// For people: `connected (irc.example:6697)`, `not connected (…)`.
    public var status: String
    public var queuedTexts: Int
    /// How long the oldest queued text has waited, in seconds.
    public var oldestWait: TimeInterval?

    public init(name: String, isReady: Bool, status: String, queuedTexts: Int, oldestWait: TimeInterval?) {
        self.name = name
        self.isReady = isReady
        self.status = status
        self.queuedTexts = queuedTexts
        self.oldestWait = oldestWait
    }
}
