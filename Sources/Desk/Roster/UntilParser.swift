import Config
import Foundation

/// Reads the end of an override as an agent types it in chat, relative to
/// `now` in the roster's zone:
///
/// | text                                   | means                                              |
/// |----------------------------------------|----------------------------------------------------|
/// | `18:00`                                | today at 18:00, or tomorrow if 18:00 has passed    |
/// | `today 18:00`, `heute 18:00`           | today at 18:00 (an error if it has passed)         |
/// | `tomorrow 09:00`, `morgen 09:00`       | tomorrow at 09:00                                  |
/// | `monday 09:00`, `Mo 09:00`, `montag 9:00` | the next Monday (today if still ahead) at 09:00 |
/// | `2026-12-24 12:00`, `2026-12-24T12:00` | that day and time                                  |
/// | `24.12.2026 12:00`                     | the same, written the German way                   |
/// | `4h`, `+90m`, `in 1h30m`               | that long from now                                 |
///
/// A time that has passed is refused, and so is a date without a time
/// ("until 2026-12-24" could mean its start or its end).
public struct UntilParser: Sendable {
    public let zone: ZonedCalendar

    public init(zone: ZonedCalendar) { self.zone = zone }

    /// Why a time was not understood.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var text: String
        public var reason: String

        public var description: String { "cannot read \"\(text)\" as a time: \(reason)" }

        static let forms = "write e.g. 18:00, tomorrow 09:00, monday 09:00, 2026-12-24 12:00 or 4h"
    }

    public func parse(_ text: String, now: Date) throws(Failure) -> Date {
        let words = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        func fail(_ reason: String) -> Failure { Failure(text: text, reason: reason) }
        guard !words.isEmpty else { throw fail(Failure.forms) }
        let today = zone.date(of: now)

        func time(_ word: String) throws(Failure) -> LocalTime {
            guard let value = LocalTime(text: word), value.minutes < 1440 else {
                throw fail("'\(word)' is not a time of day (\(Failure.forms))")
            }
            return value
        }
        func future(_ instant: Date) throws(Failure) -> Date {
            guard instant > now else { throw fail("that time has already passed (it is \(zone.format(now)) now)") }
            return instant
        }

        // Durations: 4h, +90m, in 1h30m
        var durationWords = words
        if durationWords.first == "in" { durationWords.removeFirst() }
        if durationWords.count == 1 {
            var word = durationWords[0]
            if word.hasPrefix("+") { word.removeFirst() }
            if let duration = ConfigDuration(text: word), duration.seconds > 0 {
                return now.addingTimeInterval(duration.timeInterval)
            }
        }

        switch words.count {
        case 1:
            let word = words[0]
            if let only = LocalTime(text: word), only.minutes < 1440 {
                let candidate = zone.instant(on: today, at: only)
                return candidate > now ? candidate : zone.instant(on: today.adding(days: 1), at: only)
            }
            if Self.date(word) != nil || ["today", "heute", "tomorrow", "morgen"].contains(word)
                || Weekday(text: word) != nil {
                throw fail("give a time of day too, e.g. \"\(word) 18:00\"")
            }
            if let split = Self.splitDateTime(word) {
                guard let date = Self.date(split.0) else { throw fail("'\(split.0)' is not a date") }
                return try future(zone.instant(on: date, at: try time(split.1)))
            }
            throw fail(Failure.forms)
        case 2:
            let (day, clock) = (words[0], words[1])
            let at = try time(clock)
            switch day {
            case "today", "heute":
                return try future(zone.instant(on: today, at: at))
            case "tomorrow", "morgen":
                return try future(zone.instant(on: today.adding(days: 1), at: at))
            default:
                if let date = Self.date(day) { return try future(zone.instant(on: date, at: at)) }
                if let weekday = Weekday(text: day) {
                    var offset = (weekday.rawValue - today.weekday.rawValue + 7) % 7
                    if offset == 0, zone.instant(on: today, at: at) <= now { offset = 7 }
                    return zone.instant(on: today.adding(days: offset), at: at)
                }
                throw fail("'\(day)' is not a day (\(Failure.forms))")
            }
        default:
            throw fail(Failure.forms)
        }
    }

    /// `2026-12-24` or `24.12.2026`.
    static func date(_ word: String) -> CalendarDate? {
        if let iso = CalendarDate(text: word) { return iso }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let d = Int(parts[0]), let m = Int(parts[1]), let y = Int(parts[2]), parts[2].count == 4
        else { return nil }
        return CalendarDate(year: y, month: m, day: d)
    }

    /// `2026-12-24t12:00` (lowercased) → ("2026-12-24", "12:00").
    static func splitDateTime(_ word: String) -> (String, String)? {
        guard let t = word.firstIndex(of: "t"), word[..<t].contains("-") else { return nil }
        return (String(word[..<t]), String(word[word.index(after: t)...]))
    }
}
