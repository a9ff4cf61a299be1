@testable import Bots
import Foundation
import Testing

/// The small parts the runtime is built from.
@Suite struct PartsTests {
    @Test func theScheduleHandsOutDeadlinesInOrderAndForgetsMovedOnes() {
        var schedule = DeadlineSchedule<String>()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        schedule.set("escalation", at: t0.addingTimeInterval(300))
        schedule.set("sla", at: t0.addingTimeInterval(120))
        schedule.set("idle", at: t0.addingTimeInterval(1800))
        #expect(schedule.earliest() == t0.addingTimeInterval(120))
        schedule.set("sla", at: t0.addingTimeInterval(600))   // moved later
        schedule.remove("idle")
        #expect(schedule.earliest() == t0.addingTimeInterval(300))
        #expect(schedule.popDue(t0.addingTimeInterval(299)).isEmpty)
        #expect(schedule.popDue(t0.addingTimeInterval(3600)) == ["escalation", "sla"])
        #expect(schedule.earliest() == nil && schedule.count == 0)
        // Many re-sets of one key do not make the heap grow without bound.
        for i in 0..<10_000 { schedule.set("idle", at: t0.addingTimeInterval(Double(i))) }
        #expect(schedule.count == 1)
        #expect(schedule.popDue(.distantFuture) == ["idle"])
        schedule.setIfEarlier("x", at: t0.addingTimeInterval(10))
        schedule.setIfEarlier("x", at: t0.addingTimeInterval(20))
        #expect(schedule.deadline(of: "x") == t0.addingTimeInterval(10))
    }

    @Test func sanitizedValuesAreOneLineWithoutControlCharacters() {
        #expect(Sanitizer.inline("a\r\nb\tc\u{0}d\u{1B}[31me\u{2028}f") == "a b cd[31me f")
        #expect(Sanitizer.inline("  viele   Leerzeichen  ") == "viele Leerzeichen")
        #expect(Sanitizer.inline("abcdefghij", limit: 5) == "abcd…")
        #expect(Sanitizer.inline("\u{202E}evil\u{202C}") == "evil")
        #expect(Sanitizer.lines("eins\r\nzwei\n\ndrei\nvier", maxLines: 2) == ["eins", "zwei", "… (+2)"])
    }

    @Test func templatesFillPlaceholdersAndKeepLiteralBraces() throws {
        let template = try TextTemplate.parse("{{json}} {ticket}: {text}").get()
        #expect(template.placeholders == ["ticket", "text"])
        #expect(template.render(["ticket": "#1", "text": "a\nb"]) == "{json} #1: a b")
        #expect(throws: TextTemplate.TemplateError.unclosed) { try TextTemplate.parse("{ticket").get() }
        #expect(throws: TextTemplate.TemplateError.strayClose) { try TextTemplate.parse("ticket}").get() }
    }

    @Test func durations() {
        #expect(Format.duration(30) == "0m")
        #expect(Format.duration(45 * 60) == "45m")
        #expect(Format.duration(2 * 3600 + 5 * 60) == "2h05m")
        #expect(Format.duration(3 * 86_400 + 4 * 3600) == "3d4h")
        #expect(Format.duration(-100) == "0m")
    }
}
