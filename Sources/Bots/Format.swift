import Desk
import Foundation

/// How the bots write times, dates and durations.
enum Format {
    /// `45m`, `2h05m`, `3d4h` (language-neutral, for agents); under a minute `0m`.
    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(max(0, seconds) / 60)
        let days = total / 1440, hours = total % 1440 / 60, minutes = total % 60
        if days > 0 { return hours > 0 ? "\(days)d\(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h" + String(format: "%02dm", minutes) : "\(hours)h" }
        return "\(minutes)m"
    }

    /// A calendar day for a customer: `31.12.2025` / `2025-12-31`.
    static func day(_ date: CalendarDate, _ language: Language) -> String {
        switch language {
        case .de: String(format: "%02d.%02d.%04d", date.day, date.month, date.year)
        case .en: date.description
        }
    }

    /// An instant for a customer, on the desk's wall clock:
    /// `Montag, 02.03.2026, 08:00 Uhr` / `Monday 2026-03-02 08:00`.
    static func instant(_ instant: Date, zone: ZonedCalendar, _ language: Language) -> String {
        let date = zone.date(of: instant)
        let seconds = Int(zone.secondsIntoDay(of: instant))
        let clock = String(format: "%02d:%02d", seconds / 3600, seconds % 3600 / 60)
        switch language {
        case .de: return "\(date.weekday.germanName), \(day(date, .de)), \(clock) Uhr"
        case .en: return "\(date.weekday.name.capitalized) \(date) \(clock)"
        }
    }

    /// An instant for agents: `2026-03-09 09:00` in the roster's zone.
    static func agentTime(_ instant: Date, zone: ZonedCalendar) -> String { zone.format(instant) }

    /// `12:34` in the zone (for event lines of `!show`).
    static func clock(_ instant: Date, zone: ZonedCalendar) -> String {
        let seconds = Int(zone.secondsIntoDay(of: instant))
        return String(format: "%02d:%02d", seconds / 3600, seconds % 3600 / 60)
    }

    /// `8 KB` for a byte limit.
    static func bytes(_ count: Int) -> String {
        count % 1024 == 0 ? "\(count / 1024) KB" : "\(count) bytes"
    }
}
