import Desk
import Foundation

/// How times and durations read on the status page: durations short
/// (`2h05m`, `3d4h`), instants on the desk's wall clock.
public enum StatusFormat {
    /// A duration rounded down to minutes: `0m`, `45m`, `2h05m`, `3d4h`.
    public static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(max(0, seconds) / 60)
        let days = total / 1440, hours = total % 1440 / 60, minutes = total % 60
        if days > 0 { return hours > 0 ? "\(days)d\(hours)h" : "\(days)d" }
        if hours > 0 { return String(format: "%dh%02dm", hours, minutes) }
        return "\(minutes)m"
    }

    /// `2026-12-05 14:03` in `zone`.
    public static func time(_ instant: Date, zone: ZonedCalendar) -> String { zone.format(instant) }

    /// `Sat 05.12. 09:00` in `zone`: handovers within the next week.
    public static func weekdayTime(_ instant: Date, zone: ZonedCalendar) -> String {
        let date = zone.date(of: instant)
        let seconds = Int(zone.secondsIntoDay(of: instant))
        return String(date.weekday.name.prefix(3)).capitalized
            + String(format: " %02d.%02d. %02d:%02d", date.day, date.month, seconds / 3600, seconds % 3600 / 60)
    }

    /// `14:03:07` in `zone`: when the live part was read.
    public static func clock(_ instant: Date, zone: ZonedCalendar) -> String {
        let seconds = Int(zone.secondsIntoDay(of: instant))
        return String(format: "%02d:%02d:%02d", seconds / 3600, seconds % 3600 / 60, seconds % 60)
    }
}
