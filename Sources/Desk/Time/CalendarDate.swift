import Config
import Foundation
import Synchronization

/// A day of the calendar (`2026-12-31`), with no time and no zone: contract
/// validity, holidays and the rotation's first week are days. Which instants
/// belong to a day is decided by a ``ZonedCalendar``.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, ConfigValue, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil unless the three numbers name a day of the proleptic Gregorian
    /// calendar between years 1 and 9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Self.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days since 1970-01-01 (negative before), for arithmetic.
    public var dayNumber: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The day `dayNumber` days after 1970-01-01.
    public init(dayNumber: Int) {
        // Howard Hinnant's civil_from_days.
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    public func adding(days: Int) -> CalendarDate { CalendarDate(dayNumber: dayNumber + days) }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(until other: CalendarDate) -> Int { other.dayNumber - dayNumber }

    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        let index = ((dayNumber % 7) + 7 + 3) % 7  // 0 = Monday
        return Weekday(rawValue: index + 1)!
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: - Text

    /// Parses exactly `YYYY-MM-DD` (ISO 8601).
    public init?(text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              let date = CalendarDate(year: y, month: m, day: d) else { return nil }
        self = date
    }

    /// `2026-12-31`
    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static var configExpectation: String { "a date like 2026-12-31" }

    /// Why `text` is not a date, in words a person can act on.
    public static func problem(with text: String) -> String {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
           parts[0].count == 4, parts[1].count == 2, parts[2].count == 2 {
            if !(1...12).contains(m) { return "\"\(text)\" has no month \(m)" }
            return "\"\(text)\" is not a day of the calendar (\(String(format: "%04d-%02d", y, m)) has \(daysIn(month: m, year: y)) days, not \(d))"
        }
        return "expected \(configExpectation), found \"\(text)\""
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: Self.problem(with: text)))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// A day of the week, Monday first (ISO 8601 numbering: Monday = 1).
public enum Weekday: Int, Sendable, Hashable, Codable, CaseIterable, Comparable, ConfigValue, CustomStringConvertible {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    /// `monday` … `sunday`: the form in configuration files.
    public var name: String {
        switch self {
        case .monday: "monday"
        case .tuesday: "tuesday"
        case .wednesday: "wednesday"
        case .thursday: "thursday"
        case .friday: "friday"
        case .saturday: "saturday"
        case .sunday: "sunday"
        }
    }

    /// The German name (`Montag`), for texts the bots write.
    public var germanName: String {
        ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"][rawValue - 1]
    }

    public var description: String { name }

    public static var configExpectation: String { "a weekday like \"monday\"" }

    /// Parses a weekday as a person types it: English or German, full or
    /// abbreviated, any case (`Mon`, `monday`, `Mo`, `Montag`, `mittwoch`).
    public init?(text: String) {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        let names: [(Weekday, [String])] = [
            (.monday, ["monday", "mon", "montag", "mo"]),
            (.tuesday, ["tuesday", "tue", "tues", "dienstag", "di"]),
            (.wednesday, ["wednesday", "wed", "mittwoch", "mi"]),
            (.thursday, ["thursday", "thu", "thurs", "donnerstag", "do"]),
            (.friday, ["friday", "fri", "freitag", "fr"]),
            (.saturday, ["saturday", "sat", "samstag", "sonnabend", "sa"]),
            (.sunday, ["sunday", "sun", "sonntag", "so"]),
        ]
        guard let match = names.first(where: { $0.1.contains(word) }) else { return nil }
        self = match.0
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = Weekday.allCases.first(where: { $0.name == text.lowercased() }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation) (monday … sunday), found \"\(text)\""))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A time of day on the wall clock, to the minute: `09:00`. `24:00` is
/// allowed as the end of a range (the end of the day).
public struct LocalTime: Sendable, Hashable, Comparable, Codable, ConfigValue, CustomStringConvertible {
    /// Minutes since midnight, 0…1440.
    public let minutes: Int

    public init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0 else { return nil }
        minutes = hour * 60 + minute
    }

    public init?(minutes: Int) {
        guard (0...1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    public var hour: Int { minutes / 60 }
    public var minute: Int { minutes % 60 }

    public static let midnight = LocalTime(minutes: 0)!
    public static let endOfDay = LocalTime(minutes: 1440)!

    /// Parses `HH:MM` or `H:MM` (24-hour clock; `24:00` allowed).
    public init?(text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(parts[0]), let m = Int(parts[1]), let time = LocalTime(hour: h, minute: m) else { return nil }
        self = time
    }

    /// `09:00`
    public var description: String { String(format: "%02d:%02d", hour, minute) }

    public static var configExpectation: String { "a time like 09:00" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let time = LocalTime(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation) (24-hour clock), found \"\(text)\""))
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutes < rhs.minutes }
}

/// A stretch of a day on the wall clock, `08:00-18:00`: start included, end
/// excluded. The end is after the start (`24:00` ends at midnight); hours
/// past midnight are two ranges on two days.
public struct TimeRange: Sendable, Hashable, Codable, ConfigValue, CustomStringConvertible {
    public let start: LocalTime
    public let end: LocalTime

    public init?(start: LocalTime, end: LocalTime) {
        guard start < end, start.minutes < 1440 else { return nil }
        self.start = start
        self.end = end
    }

    public static var configExpectation: String { "a range of times like \"08:00-18:00\"" }

    public var description: String { "\(start)-\(end)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let start = LocalTime(text: parts[0]), let end = LocalTime(text: parts[1]) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation), found \"\(text)\""))
        }
        guard let range = TimeRange(start: start, end: end) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "\"\(text)\" ends before it starts: the end must be later the same day "
                    + "(for hours past midnight write two ranges, e.g. \"22:00-24:00\" and \"00:00-06:00\" on the next day)"))
        }
        self = range
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Converts between instants and the wall clock of one time zone.
///
/// Days are counted on the calendar, never as 86,400 seconds, so a week is
/// seven calendar days also across a daylight-saving change (168 or 167 or
/// 169 hours). Local times that do not exist (the hour skipped in spring)
/// move forward by the length of the gap (`02:30` → `03:30`); local times
/// that happen twice (the hour repeated in autumn) take the first.
public struct ZonedCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar
    /// Local wall-clock times already turned into instants (shared by the
    /// copies of this calendar; see ``instant(on:at:)``).
    private let instants = WallTimeMemo()

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.locale = Locale(identifier: "en_US_POSIX")
        self.calendar = calendar
    }

    /// Europe/Berlin, the default zone of the desk.
    public static let berlin = ZonedCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)

    /// The local calendar day `instant` falls on.
    public func date(of instant: Date) -> CalendarDate {
        let local = instant.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: instant))
        return CalendarDate(dayNumber: Int((local / 86_400).rounded(.down)))
    }

    /// Seconds since local midnight at `instant` (0 ..< 86,400 on most days).
    public func secondsIntoDay(of instant: Date) -> TimeInterval {
        let local = instant.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: instant))
        return local - (local / 86_400).rounded(.down) * 86_400
    }

    /// The instant the wall clock shows `time` on `date` (see the type's
    /// notes for skipped and repeated hours). `24:00` is the next midnight.
    ///
    /// Foundation's calendar arithmetic costs microseconds and is asked for
    /// the same few days again and again (every ticket's SLA and escalation
    /// deadlines on a business-hours calendar, on its page path): each
    /// answer is remembered, so a day's opening hours are worked out once.
    public func instant(on date: CalendarDate, at time: LocalTime) -> Date {
        var day = date
        var minutes = time.minutes
        if minutes >= 1440 {
            day = date.adding(days: 1)
            minutes -= 1440
        }
        let key = day.dayNumber &* 1440 &+ minutes
        if let known = instants.instant(for: key) { return known }
        let instant = Self.instant(of: day, minutes: minutes, calendar: calendar, timeZone: timeZone)
        instants.remember(instant, for: key)
        return instant
    }

    /// ``instant(on:at:)`` worked out by Foundation (`minutes` < 1440).
    private static func instant(of day: CalendarDate, minutes: Int, calendar: Calendar, timeZone: TimeZone) -> Date {
        let components = DateComponents(year: day.year, month: day.month, day: day.day,
                                        hour: minutes / 60, minute: minutes % 60, second: 0)
        if let instant = calendar.date(from: components) { return instant }
        // Not expected from Foundation; fall back to the zone's offset at noon.
        let noonUTC = Date(timeIntervalSince1970: Double(day.dayNumber) * 86_400 + 43_200)
        let offset = Double(timeZone.secondsFromGMT(for: noonUTC))
        return Date(timeIntervalSince1970: Double(day.dayNumber) * 86_400 + Double(minutes) * 60 - offset)
    }

    /// The first instant of `date`.
    public func startOfDay(_ date: CalendarDate) -> Date { instant(on: date, at: .midnight) }

    /// `2026-03-30 09:00` in this zone, for messages.
    public func format(_ instant: Date) -> String {
        let seconds = Int(secondsIntoDay(of: instant))
        return "\(date(of: instant)) " + String(format: "%02d:%02d", seconds / 3600, seconds % 3600 / 60)
    }
}

/// A date and a time on the wall clock, `2026-12-24 09:00` (or with a `T`),
/// for configured instants such as overrides; the zone is the roster's.
public struct LocalDateTime: Sendable, Hashable, Codable, ConfigValue, CustomStringConvertible {
    public var date: CalendarDate
    public var time: LocalTime

    public init(date: CalendarDate, time: LocalTime) {
        self.date = date
        self.time = time
    }

    public static var configExpectation: String { "a date and time like \"2026-12-24 09:00\"" }

    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 2, let date = CalendarDate(text: String(parts[0])),
              let time = LocalTime(text: String(parts[1])), time.minutes < 1440 else { return nil }
        self.date = date
        self.time = time
    }

    public var description: String { "\(date) \(time)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = LocalDateTime(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation), found \"\(text)\""))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The instants a ``ZonedCalendar`` worked out, by local day and minute
/// (`dayNumber * 1440 + minute`). A zone's rules do not change while the
/// process runs, so an answer stays right; the memo forgets everything
/// when it holds ``limit`` answers (a bound, not an eviction policy: a
/// desk asks about a handful of days at a time).
final class WallTimeMemo: Sendable {
    static let limit = 4096
    private let known = Mutex<[Int: Date]>([:])

    func instant(for key: Int) -> Date? {
        known.withLock { $0[key] }
    }

    func remember(_ instant: Date, for key: Int) {
        known.withLock { known in
            if known.count >= Self.limit { known.removeAll(keepingCapacity: true) }
            known[key] = instant
        }
    }
}
