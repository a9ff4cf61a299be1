import Desk
import Foundation

/// The Berlin wall clock, as the tests speak of times.
let berlin = ZonedCalendar.berlin

/// `at("2026-03-30 09:00")`: that wall-clock time in Berlin.
func at(_ text: String, in zone: ZonedCalendar = berlin) -> Date {
    let parts = text.split(separator: " ")
    let date = CalendarDate(text: String(parts[0]))!
    let clock = parts[1].split(separator: ":").map { Int($0)! }
    let base = zone.instant(on: date, at: LocalTime(hour: clock[0], minute: clock[1])!)
    return base.addingTimeInterval(TimeInterval(clock.count > 2 ? clock[2] : 0))
}

/// The repository's root (for the shipped `config/`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Writes files into a fresh temporary directory; returns its path.
func temporaryConfig(_ files: [String: String]) throws -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("desk-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in files {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }
    return directory.path
}
