import Foundation

/// When the desk is open: business hours per weekday in a time zone, minus
/// public holidays. The SLA clock of a business-hours tier runs only while
/// it is open, and such a tier is paged only then.
///
/// All answers are exact at the edges: a range `08:00-18:00` is open at
/// 08:00:00 and closed at 18:00:00, on the wall clock of `zone` (so also on
/// the days the clocks change).
public struct BusinessCalendar: Sendable {
    public let zone: ZonedCalendar
    /// Open ranges per weekday, sorted, not overlapping. A missing weekday is closed.
    public let hours: [Weekday: [TimeRange]]
    /// Closed all day, with the holiday's name.
    public let holidays: [CalendarDate: String]

    /// How far ahead to look for the next opening before giving up (a
    /// calendar with no open hours at all never opens).
    static let searchDays = 400

    public init(zone: ZonedCalendar, hours: [Weekday: [TimeRange]], holidays: [CalendarDate: String] = [:]) {
        self.zone = zone
        self.hours = hours.mapValues { $0.sorted { $0.start < $1.start } }
        self.holidays = holidays
    }

    /// Open around the clock, every day (for 24/7 coverage).
    public static func always(_ zone: ZonedCalendar) -> BusinessCalendar {
        let allDay = TimeRange(start: .midnight, end: .endOfDay)!
        return BusinessCalendar(zone: zone, hours: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, [allDay]) }))
    }

    /// The holiday's name, if `date` is one.
    public func holiday(on date: CalendarDate) -> String? { holidays[date] }

    /// The open intervals of one local day (none on holidays).
    public func openIntervals(on date: CalendarDate) -> [DateInterval] {
        if holidays[date] != nil { return [] }
        return (hours[date.weekday] ?? []).compactMap { range in
            let start = zone.instant(on: date, at: range.start)
            let end = zone.instant(on: date, at: range.end)
            return end > start ? DateInterval(start: start, end: end) : nil
        }
    }

    /// Whether the desk is open at `instant`.
    public func isOpen(at instant: Date) -> Bool {
        let today = zone.date(of: instant)
        // An interval of the day before can reach into today only via `24:00`,
        // which ends exactly at today's midnight (excluded), so today suffices.
        return openIntervals(on: today).contains { $0.start <= instant && instant < $0.end }
    }

    /// `instant` itself when open, else the next moment the desk opens; nil
    /// if it does not open within `searchDays`.
    public func nextOpening(atOrAfter instant: Date) -> Date? {
        let first = zone.date(of: instant)
        for offset in 0...Self.searchDays {
            for interval in openIntervals(on: first.adding(days: offset)) where interval.end > instant {
                return max(interval.start, instant)
            }
        }
        return nil
    }

    /// The next moment the desk closes after `instant` while open; nil when
    /// it is closed at `instant`.
    public func closing(after instant: Date) -> Date? {
        guard isOpen(at: instant) else { return nil }
        var end = instant
        var day = zone.date(of: instant)
        // Adjacent ranges (…-24:00 then 00:00-…) join into one stretch.
        for _ in 0...Self.searchDays {
            var extended = false
            for interval in openIntervals(on: day) where interval.start <= end && interval.end > end {
                end = interval.end
                extended = true
            }
            if !extended || zone.date(of: end) == day { return end }
            day = day.adding(days: 1)
        }
        return end
    }

    /// Open time between `start` and `end` (zero when `end <= start`).
    public func openTime(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        var total: TimeInterval = 0
        var day = zone.date(of: start)
        let last = zone.date(of: end)
        while day <= last {
            for interval in openIntervals(on: day) {
                let from = max(interval.start, start), to = min(interval.end, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            day = day.adding(days: 1)
        }
        return total
    }

    /// The earliest instant at which `seconds` of open time have passed since
    /// `start` (for `seconds == 0`: the next opening at or after `start`).
    /// Nil if that is not within `searchDays`.
    public func instant(afterOpenTime seconds: TimeInterval, from start: Date) -> Date? {
        var left = max(0, seconds)
        let first = zone.date(of: start)
        for offset in 0...Self.searchDays {
            for interval in openIntervals(on: first.adding(days: offset)) where interval.end > start {
                let from = max(interval.start, start)
                let available = interval.end.timeIntervalSince(from)
                if left <= available { return from.addingTimeInterval(left) }
                left -= available
            }
        }
        return nil
    }
}
