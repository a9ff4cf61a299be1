import Desk
import Foundation
import Testing

@Suite struct ZonedCalendarTests {
    /// The times asked each day: the edges of the skipped (spring) and
    /// repeated (autumn) hours in Berlin, usual opening hours and `24:00`.
    static let times = ["00:00", "01:59", "02:00", "02:30", "02:59", "03:00", "08:00", "09:15", "12:00",
                        "17:59", "18:00", "24:00"].map { LocalTime(text: $0)! }

    /// One calendar remembers what it worked out (issue 12: the SLA and
    /// escalation deadlines of every ticket ask the same days again). Asked
    /// in shuffled order, twice, for every day of 2026 (more answers than
    /// the memo holds, so it also starts over on the way), it answers as a
    /// fresh calendar does each time, the daylight-saving days included.
    @Test func aCalendarAskedInAnyOrderAnswersLikeAFreshOne() {
        let first = CalendarDate(year: 2026, month: 1, day: 1)!
        var questions: [(CalendarDate, LocalTime)] = []
        for offset in 0..<365 {
            for time in Self.times { questions.append((first.adding(days: offset), time)) }
        }
        var generator = SystemRandomNumberGenerator()
        let shared = ZonedCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        var wrong: [String] = []
        for _ in 0..<2 {
            for (date, time) in questions.shuffled(using: &generator) {
                let fresh = ZonedCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
                let expected = fresh.instant(on: date, at: time)
                let answer = shared.instant(on: date, at: time)
                if answer != expected { wrong.append("\(date) \(time): \(answer) instead of \(expected)") }
            }
        }
        let wrongAnswers = wrong.count
        #expect(wrongAnswers == 0, "for example \(wrong.prefix(5))")
    }

    /// The remembered answers keep the calendar's rules at the switches:
    /// 02:30 on the spring day does not exist and moves on to 03:30 (UTC
    /// 01:30); 02:30 on the autumn day happens twice and is the first
    /// (UTC 00:30); `24:00` is the next day's midnight.
    @Test func rememberedAnswersAtTheSwitches() {
        let zone = ZonedCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let half = LocalTime(text: "02:30")!
        for _ in 0..<2 {
            #expect(zone.instant(on: CalendarDate(year: 2026, month: 3, day: 29)!, at: half)
                == Date(timeIntervalSince1970: 1_774_747_800))  // 2026-03-29T01:30:00Z
            #expect(zone.instant(on: CalendarDate(year: 2026, month: 10, day: 25)!, at: half)
                == Date(timeIntervalSince1970: 1_792_888_200))  // 2026-10-25T00:30:00Z
            #expect(zone.instant(on: CalendarDate(year: 2026, month: 12, day: 6)!, at: .endOfDay)
                == zone.startOfDay(CalendarDate(year: 2026, month: 12, day: 7)!))
        }
    }
}
