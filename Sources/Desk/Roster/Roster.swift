import Foundation
import Synchronization

/// A weekly on-call rotation: the duty passes to the next agent in `order`
/// every week, on `weekday` at `time` on the wall clock of the roster's
/// zone (Europe/Berlin by default), so the handover is at 09:00 local time
/// in summer and in winter alike.
public struct Rotation: Sendable, Hashable {
    /// A handover day on which `order[0]` takes over. The rotation repeats
    /// before and after it; the date only fixes whose week is whose.
    public var start: CalendarDate
    /// The handover time.
    public var time: LocalTime
    /// Agent ids, one per week, in turn. `nil` is a week no one covers.
    public var order: [String?]

    public init(start: CalendarDate, time: LocalTime, order: [String?]) {
        self.start = start
        self.time = time
        self.order = order
    }

    public var weekday: Weekday { start.weekday }
}

/// Someone else on duty for a while (holiday cover, a swap, a sick day), or
/// — with `agent == nil` — no one. Overrides win over the rotation; where
/// several cover an instant, the one that started last wins (the same start:
/// the one added last).
public struct RosterOverride: Sendable, Hashable, Codable, Identifiable {
    public var id: Int
    /// The agent id on duty, or nil for "no one".
    public var agent: String?
    /// Start, included.
    public var from: Date
    /// End, excluded.
    public var until: Date
    public var reason: String
    /// The agent id who set it at run time, nil when it comes from the configuration.
    public var createdBy: String?

    public init(id: Int, agent: String?, from: Date, until: Date, reason: String, createdBy: String? = nil) {
        self.id = id
        self.agent = agent
        self.from = from
        self.until = until
        self.reason = reason
        self.createdBy = createdBy
    }

    public func covers(_ instant: Date) -> Bool { from <= instant && instant < until }
}

/// Who is on duty at an instant, and why.
public struct DutySlot: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// The rotation's week `week` (0 = the week beginning at `start`).
        case rotation(week: Int)
        /// An override, by id.
        case override(Int)
    }

    /// The agent id, or nil: an empty slot — no one on duty. The escalation
    /// then pages the backup and says so.
    public var agent: String?
    public var source: Source

    public init(agent: String?, source: Source) {
        self.agent = agent
        self.source = source
    }
}

/// A change of duty: from `at`, `agent` is on duty.
public struct DutyChange: Sendable, Hashable {
    public var agent: String?
    public var at: Date
    public var source: DutySlot.Source

    public init(agent: String?, at: Date, source: DutySlot.Source) {
        self.agent = agent
        self.at = at
        self.source = source
    }
}

/// Why an override was refused.
public enum RosterError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownAgent(String)
    case endsBeforeStart(from: Date, until: Date)
    case tooLong(maximumDays: Int)

    public var description: String {
        switch self {
        case .unknownAgent(let id): "there is no agent '\(id)' in the configuration"
        case .endsBeforeStart: "the override would end before it starts"
        case .tooLong(let days): "an override may last at most \(days) days; change the rotation in the configuration for longer"
        }
    }
}

/// The on-call roster: the rotation, overrides, and the backup, in one time
/// zone. Answers "who is on duty at T" and "who is next, from when" exactly
/// at handovers and across daylight-saving changes: weeks are counted in
/// calendar days and handovers placed on the local wall clock, never by
/// adding 7 × 86,400 seconds.
public struct Roster: Sendable {
    public let zone: ZonedCalendar
    public let agents: AgentDirectory
    public let rotation: Rotation
    /// Paged at the second escalation step, and at once when no one is on duty.
    public let backup: String?
    public private(set) var overrides: [RosterOverride]
    /// Shared by copies of this roster: the week depends only on ``zone`` and
    /// ``rotation``, which no copy can change.
    private let weekCache = RotationWeekCache()

    public init(zone: ZonedCalendar, agents: AgentDirectory, rotation: Rotation, backup: String?,
                overrides: [RosterOverride] = []) {
        self.zone = zone
        self.agents = agents
        self.rotation = rotation
        self.backup = backup
        self.overrides = overrides
    }

    // MARK: - Rotation

    /// The instant week `week` of the rotation begins.
    public func handover(week: Int) -> Date {
        zone.instant(on: rotation.start.adding(days: 7 * week), at: rotation.time)
    }

    /// The rotation week that contains `instant`. The week last asked for is
    /// remembered with its handovers (``RotationWeekCache``): every page asks
    /// who is on duty, and working the week out on the calendar (local date,
    /// then the handover's instant) was half of a page's CPU before its commit.
    public func rotationWeek(at instant: Date) -> Int {
        if let week = weekCache.week(containing: instant) { return week }
        let days = rotation.start.days(until: zone.date(of: instant))
        var week = days >= 0 ? days / 7 : -((-days + 6) / 7)
        if instant < handover(week: week) { week -= 1 }
        weekCache.remember(week: week, from: handover(week: week), until: handover(week: week + 1))
        return week
    }

    private func rotationAgent(week: Int) -> String? {
        guard !rotation.order.isEmpty else { return nil }
        let count = rotation.order.count
        return rotation.order[((week % count) + count) % count]
    }

    // MARK: - Questions

    /// Who is on duty at `instant`.
    public func onDuty(at instant: Date) -> DutySlot {
        var winner: RosterOverride?
        for candidate in overrides where candidate.covers(instant) {
            if let current = winner, (current.from, current.id) > (candidate.from, candidate.id) { continue }
            winner = candidate
        }
        if let winner { return DutySlot(agent: winner.agent, source: .override(winner.id)) }
        let week = rotationWeek(at: instant)
        return DutySlot(agent: rotationAgent(week: week), source: .rotation(week: week))
    }

    /// The agent on duty at `instant`, or nil for an empty slot.
    public func onDutyAgent(at instant: Date) -> Agent? {
        onDuty(at: instant).agent.flatMap { agents.agent(id: $0) }
    }

    /// The next time after `instant` at which someone else (or no one) takes
    /// over, and who. Nil if that never happens (a rotation of one agent
    /// and no overrides ahead).
    public func next(after instant: Date) -> DutyChange? {
        let current = onDuty(at: instant).agent
        let week = rotationWeek(at: instant)
        var candidates: [Date] = (1...(rotation.order.count + 1)).map { handover(week: week + $0) }
        for entry in overrides {
            if entry.from > instant { candidates.append(entry.from) }
            if entry.until > instant { candidates.append(entry.until) }
        }
        for candidate in Set(candidates).sorted() {
            let slot = onDuty(at: candidate)
            if slot.agent != current { return DutyChange(agent: slot.agent, at: candidate, source: slot.source) }
        }
        return nil
    }

    // MARK: - Overrides

    /// Adds an override (`!oncall override NICK until TIME` makes one from
    /// now). Returns it with its id. At most `maximumDays` long.
    @discardableResult
    public mutating func addOverride(agent: String?, from: Date, until: Date, reason: String,
                                     createdBy: String?, maximumDays: Int = 31) throws(RosterError) -> RosterOverride {
        if let agent, agents.agent(id: agent) == nil { throw .unknownAgent(agent) }
        guard until > from else { throw .endsBeforeStart(from: from, until: until) }
        guard until.timeIntervalSince(from) <= Double(maximumDays) * 86_400 + 3600 else {
            throw .tooLong(maximumDays: maximumDays)
        }
        let entry = RosterOverride(id: (overrides.map(\.id).max() ?? 0) + 1, agent: agent, from: from, until: until,
                                   reason: reason, createdBy: createdBy)
        overrides.append(entry)
        return entry
    }

    /// Puts back an override made at run time — into the roster of a freshly
    /// (re)loaded configuration, or after a restart from the store. It is
    /// checked like a new one (the agent may have been removed from the
    /// configuration) and gets a fresh id if its own is taken. Overrides that
    /// have already ended are not worth restoring: filter them first.
    @discardableResult
    public mutating func restoreOverride(_ entry: RosterOverride) throws(RosterError) -> RosterOverride {
        if let agent = entry.agent, agents.agent(id: agent) == nil { throw .unknownAgent(agent) }
        guard entry.until > entry.from else { throw .endsBeforeStart(from: entry.from, until: entry.until) }
        var restored = entry
        if overrides.contains(where: { $0.id == entry.id }) { restored.id = (overrides.map(\.id).max() ?? 0) + 1 }
        overrides.append(restored)
        return restored
    }

    /// The overrides agents made at run time (`createdBy` set), for keeping
    /// them across a reload: `for o in old.runtimeOverrides { try? new.restoreOverride(o) }`.
    public var runtimeOverrides: [RosterOverride] { overrides.filter { $0.createdBy != nil } }

    /// Removes the override with this id; returns it, or nil if there is none.
    @discardableResult
    public mutating func removeOverride(id: Int) -> RosterOverride? {
        guard let index = overrides.firstIndex(where: { $0.id == id }) else { return nil }
        return overrides.remove(at: index)
    }

    /// Drops overrides that ended at or before `instant`.
    public mutating func removeOverrides(endedBy instant: Date) {
        overrides.removeAll { $0.until <= instant }
    }

    /// Parses the TIME of `!oncall override NICK until TIME` in the roster's
    /// zone; see ``UntilParser``.
    public func parseUntil(_ text: String, now: Date) throws(UntilParser.Failure) -> Date {
        try UntilParser(zone: zone).parse(text, now: now)
    }
}

/// The rotation week a roster last worked out, with the instants it runs
/// from (its handover) and until (the next one): an instant in that span is
/// in that week, without a calendar. Weeks are told apart by instants, so
/// daylight-saving changes inside a week change nothing.
final class RotationWeekCache: Sendable {
    private struct Entry {
        var week: Int
        var from: Date
        var until: Date
    }

    private let entry = Mutex<Entry?>(nil)

    func week(containing instant: Date) -> Int? {
        entry.withLock { entry in
            guard let entry, entry.from <= instant, instant < entry.until else { return nil }
            return entry.week
        }
    }

    func remember(week: Int, from: Date, until: Date) {
        entry.withLock { $0 = Entry(week: week, from: from, until: until) }
    }
}
