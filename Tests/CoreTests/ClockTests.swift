import Core
import Foundation
import Testing

@Suite struct ManualClockTests {
    @Test func sleeperWakesOnlyWhenItsDeadlineComes() async throws {
        let clock = ManualClock()
        let start = clock.now
        let woke = Task { try await clock.sleep(until: start.advanced(by: .seconds(300))); return clock.now }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(299))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        let at = try await woke.value
        #expect(start.duration(to: at) == .seconds(300))
        #expect(clock.sleeperCount == 0)
    }

    @Test func pastDeadlineReturnsAtOnce() async throws {
        let clock = ManualClock()
        try await clock.sleep(until: clock.now.advanced(by: .seconds(-1)))
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingASleeperThrowsAndRemovesIt() async throws {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(until: clock.now.advanced(by: .seconds(10))) }
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func wallInstantArithmeticMatchesDates() {
        let a = WallInstant(Date(timeIntervalSince1970: 1000))
        let b = a.advanced(by: .milliseconds(1500))
        #expect(b.date.timeIntervalSince1970 == 1001.5)
        #expect(a.duration(to: b) == .milliseconds(1500))
        #expect(a < b)
    }
}

@Suite struct LoggerTests {
    @Test func logfmtEscapesUserTextOntoOneLine() {
        let sink = MemoryLogSink()
        let log = Logger(sink: sink, clock: { Date(timeIntervalSince1970: 0) })
        log.info("customer said", ["text": "hi\r\nlevel=error msg=\"forged\"", "nick": "alice"])
        #expect(sink.lines.count == 1)
        let line = sink.lines[0]
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(line.contains(#"text="hi\r\nlevel=error msg=\"forged\"""#))
        #expect(line.contains(" nick=alice"))
        #expect(line.hasPrefix("time=1970-01-01T00:00:00.000Z level=info msg=\"customer said\""))
    }

    @Test func jsonLinesAreValidJSON() throws {
        let sink = MemoryLogSink()
        let log = Logger(sink: sink, format: .json)
        log.warning("odd \u{7}bell", ["k": "v\u{2028}\"q\""])
        let object = try JSONSerialization.jsonObject(with: Data(sink.lines[0].utf8)) as? [String: String]
        #expect(object?["msg"] == "odd \u{7}bell")
        #expect(object?["k"] == "v\u{2028}\"q\"")
        #expect(object?["level"] == "warning")
    }

    @Test func levelsBelowTheMinimumAreDropped() {
        let sink = MemoryLogSink()
        let log = Logger(sink: sink, minimumLevel: .warning)
        log.info("quiet")
        log.error("loud")
        #expect(sink.lines.count == 1)
    }
}
