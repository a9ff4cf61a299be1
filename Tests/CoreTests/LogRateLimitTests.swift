import Core
import Foundation
import Testing

/// Repeated log lines (issue 15: 102,000 "cannot send" lines at SIGTERM):
/// the first of each key per interval goes out, the rest become one summary.
@Suite struct LogRateLimitTests {
    func limited(interval: Duration = .seconds(60), maxKeys: Int = 1024)
        -> (RateLimitedLogger, MemoryLogSink, ManualClock)
    {
        let sink = MemoryLogSink()
        let clock = ManualClock()
        let logger = Logger(sink: sink, minimumLevel: .info, clock: { clock.date })
        return (RateLimitedLogger(logger, interval: interval, maxKeys: maxKeys, clock: clock), sink, clock)
    }

    @Test func aFloodBecomesOneLineAndOneSummaryPerInterval() {
        let (log, sink, clock) = limited()
        for index in 0..<100_000 {
            log.warning(key: "cannot send", "cannot send", ["line": index])
        }
        #expect(sink.lines.count == 1)
        #expect(sink.lines[0].contains("msg=\"cannot send\"") && sink.lines[0].contains("line=0"))

        clock.advance(by: .seconds(60))
        log.warning(key: "cannot send", "cannot send", ["line": 100_000])
        #expect(sink.lines.count == 3)
        #expect(sink.lines[1].contains("level=warning")
                && sink.lines[1].contains("msg=\"99999 more like this suppressed\"")
                && sink.lines[1].contains("key=\"cannot send\"") && sink.lines[1].contains("first=\"cannot send\""))
        #expect(sink.lines[2].contains("line=100000"), "the first line of the new interval goes out")
    }

    @Test func keysAreLimitedSeparately() {
        let (log, sink, _) = limited()
        log.warning(key: "errno 24", "accept failed")
        log.warning(key: "errno 23", "accept failed")
        log.warning(key: "errno 24", "accept failed")
        #expect(sink.lines.count == 2)
    }

    @Test func aQuietKeysSummaryComesWithTheNextLineAfterItsInterval() {
        let (log, sink, clock) = limited(interval: .seconds(10))
        log.warning(key: "a", "first")
        log.warning(key: "a", "first again")
        log.warning(key: "a", "and again")
        clock.advance(by: .seconds(9))
        log.notice(key: "b", "other")
        #expect(sink.lines.count == 2, "a's interval is not over yet")
        clock.advance(by: .seconds(1))
        log.notice(key: "b", "other again")  // b is still within its own interval: held back
        #expect(sink.lines.count == 3)
        #expect(sink.lines[2].contains("msg=\"2 more like this suppressed\" key=a first=first"))
    }

    @Test func flushReportsWhatIsHeldBackBeforeTheIntervalEnds() {
        let (log, sink, _) = limited()
        log.error(key: "k", "boom")
        log.error(key: "k", "boom")
        log.error(key: "other", "once")
        log.flush()
        #expect(sink.lines.count == 3)
        #expect(sink.lines[2].contains("level=error") && sink.lines[2].contains("1 more like this suppressed"))
        log.flush()
        #expect(sink.lines.count == 3, "nothing left to report")
        log.error(key: "k", "boom")
        #expect(sink.lines.count == 4, "a flush starts afresh")
    }

    @Test func linesBelowTheLoggersLevelAreNeitherWrittenNorCounted() {
        let (log, sink, _) = limited()
        log.log(.debug, key: "k", "noise")
        log.warning(key: "k", "real")
        #expect(sink.lines.count == 1 && sink.lines[0].contains("real"))
    }

    @Test func theStateMachineDecidesByInstant() {
        var limit = LogRateLimit(interval: .seconds(60), maxKeys: 2)
        let start = WallInstant(Date(timeIntervalSince1970: 0))
        #expect(limit.record("a", at: start) == .emit(suppressedBefore: 0))
        #expect(limit.record("a", at: start.advanced(by: .seconds(59))) == .suppress)
        #expect(limit.record("a", at: start.advanced(by: .seconds(60))) == .emit(suppressedBefore: 1))
        // More keys than maxKeys: the oldest window is forgotten.
        #expect(limit.record("b", at: start.advanced(by: .seconds(61))) == .emit(suppressedBefore: 0))
        #expect(limit.record("c", at: start.advanced(by: .seconds(62))) == .emit(suppressedBefore: 0))
        #expect(limit.trackedKeys == 2 && !limit.isTracking("a"))
        #expect(limit.sweep(at: start.advanced(by: .seconds(121))) == [.init(key: "b", suppressed: 0)])
        #expect(limit.sweep(at: start, all: true) == [.init(key: "c", suppressed: 0)])
    }
}
