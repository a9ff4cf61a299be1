import Foundation
import Synchronization

/// Structured logging, as logfmt (default) or JSON lines.
///
/// A library takes a `Logger` as a parameter and never makes a global one
/// (swift-log's rule). Field values are escaped so that text from a chat user
/// can never forge a log line: control characters, quotes and newlines are
/// escaped in both formats.
public struct Logger: Sendable {
    public enum Level: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
        case debug, info, notice, warning, error

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .notice: "notice"
            case .warning: "warning"
            case .error: "error"
            }
        }

        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.description == name.lowercased() }) else {
                return nil
            }
            self = level
        }
    }

    public enum Format: String, Sendable {
        case logfmt, json
    }

    public let sink: any LogSink
    public var minimumLevel: Level
    public var format: Format
    /// Fields added to every line of this logger (e.g. `network=libera`).
    public var metadata: [(String, String)]
    private let clock: @Sendable () -> Date

    public init(
        sink: any LogSink = StandardErrorSink(),
        minimumLevel: Level = .info,
        format: Format = .logfmt,
        metadata: [(String, String)] = [],
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.sink = sink
        self.minimumLevel = minimumLevel
        self.format = format
        self.metadata = metadata
        self.clock = clock
    }

    /// A logger that writes nothing (for tests and benchmarks that do not look).
    public static let disabled = Logger(sink: DiscardSink(), minimumLevel: .error)

    /// This logger with more fields on every line.
    public func with(_ fields: KeyValuePairs<String, any Sendable>) -> Logger {
        var copy = self
        copy.metadata += fields.map { ($0.key, String(describing: $0.value)) }
        return copy
    }

    public func log(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        guard level >= minimumLevel else { return }
        var all: [(String, String)] = [
            ("time", clock().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))),
            ("level", level.description),
            ("msg", message),
        ]
        all += metadata
        all += fields.map { ($0.key, String(describing: $0.value)) }
        sink.write(Self.render(all, format: format), level: level)
    }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.debug, message, fields)
    }
    public func info(_ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.info, message, fields)
    }
    public func notice(_ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.notice, message, fields)
    }
    public func warning(_ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.warning, message, fields)
    }
    public func error(_ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.error, message, fields)
    }

    /// Renders fields as one logfmt or JSON line (no trailing newline).
    public static func render(_ fields: [(String, String)], format: Format) -> String {
        switch format {
        case .logfmt:
            return fields.map { "\(logfmtKey($0.0))=\(logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            return "{" + fields.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",") + "}"
        }
    }

    static func logfmtKey(_ key: String) -> String {
        let cleaned = key.unicodeScalars.map { scalar -> String in
            let v = scalar.value
            return v > 0x20 && v != 0x3D && v != 0x22 && v != 0x7F ? String(scalar) : "_"
        }.joined()
        return cleaned.isEmpty ? "_" : cleaned
    }

    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
            scalar.value <= 0x20 || scalar == "=" || scalar == "\"" || scalar == "\\" || scalar.value == 0x7F
                || scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .lineSeparator
                || scalar.properties.generalCategory == .paragraphSeparator
        }
        guard needsQuotes else { return value }
        return "\"" + escaped(value) + "\""
    }

    static func jsonString(_ value: String) -> String {
        "\"" + escaped(value) + "\""
    }

    /// Escapes quotes, backslashes and every control or line-breaking
    /// character, so the result is one line in both logfmt and JSON.
    static func escaped(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let category = scalar.properties.generalCategory
                if scalar.value < 0x20 || scalar.value == 0x7F || category == .control
                    || category == .lineSeparator || category == .paragraphSeparator {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Where log lines go.
public protocol LogSink: Sendable {
    func write(_ line: String, level: Logger.Level)
}

/// Writes each line to standard error, whole lines only.
public struct StandardErrorSink: LogSink {
    public init() {}
    public func write(_ line: String, level: Logger.Level) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Drops every line.
public struct DiscardSink: LogSink {
    public init() {}
    public func write(_ line: String, level: Logger.Level) {}
}

/// Keeps lines in memory, for tests that assert on what was logged.
public final class MemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])
    public init() {}
    public func write(_ line: String, level: Logger.Level) {
        storage.withLock { $0.append(line) }
    }
    public var lines: [String] { storage.withLock { $0 } }
}

/// Which repeated log lines go out: per key, the first line of each interval
/// goes out and the rest are counted, to be reported as one summary line.
///
/// A pure state machine on instants the caller passes (no clock, no I/O), so
/// it is tested by feeding instants. ``RateLimitedLogger`` drives it with an
/// injected clock. A flood — an `accept()` failing with EMFILE thousands of
/// times a second, a "cannot send" per queued line at shutdown — becomes one
/// line per key and interval plus one "N more like this suppressed".
public struct LogRateLimit: Sendable {
    /// What to do with one line.
    public enum Decision: Equatable, Sendable {
        /// Write the line. `suppressedBefore` lines of this key were held back
        /// in the interval that just ended; report them first if not zero.
        case emit(suppressedBefore: Int)
        /// Hold the line back (it is counted).
        case suppress
    }

    /// A key whose interval ended with lines held back.
    public struct Expired: Equatable, Sendable {
        public var key: String
        public var suppressed: Int

        public init(key: String, suppressed: Int) {
            self.key = key
            self.suppressed = suppressed
        }
    }

    private struct Window {
        var start: WallInstant
        var suppressed: Int
    }

    /// How long after a key's line further lines of that key are held back.
    public let interval: Duration
    /// At most this many keys are tracked; beyond it the oldest window is
    /// forgotten (its held-back count is reported by `sweep`), so keys made
    /// from outside data cannot grow memory without bound.
    public let maxKeys: Int
    private var windows: [String: Window] = [:]

    public init(interval: Duration = .seconds(60), maxKeys: Int = 1024) {
        precondition(interval > .zero, "the interval must be positive")
        self.interval = interval
        self.maxKeys = max(1, maxKeys)
    }

    /// Decides about a line of `key` at `now`.
    public mutating func record(_ key: String, at now: WallInstant) -> Decision {
        if var window = windows[key], now < window.start.advanced(by: interval) {
            window.suppressed += 1
            windows[key] = window
            return .suppress
        }
        let before = windows[key]?.suppressed ?? 0
        if windows[key] == nil, windows.count >= maxKeys,
           let oldest = windows.min(by: { $0.value.start < $1.value.start })?.key {
            windows.removeValue(forKey: oldest)
        }
        windows[key] = Window(start: now, suppressed: 0)
        return .emit(suppressedBefore: before)
    }

    /// Ends every window that is over at `now` (or every window when `all`)
    /// and returns those keys with the number of lines each held back (0
    /// included), so a summary is written even when the key stays quiet
    /// afterwards. Sorted by key.
    public mutating func sweep(at now: WallInstant, all: Bool = false) -> [Expired] {
        var expired: [Expired] = []
        for (key, window) in windows where all || now >= window.start.advanced(by: interval) {
            windows.removeValue(forKey: key)
            expired.append(Expired(key: key, suppressed: window.suppressed))
        }
        return expired.sorted { $0.key < $1.key }
    }

    /// Whether `key` has an open window (its next line would be held back
    /// until the interval is over).
    public func isTracking(_ key: String) -> Bool { windows[key] != nil }

    /// Keys being tracked now.
    public var trackedKeys: Int { windows.count }
}

/// A `Logger` that writes each repeated line (same key) at most once per
/// interval, and then one summary line
/// `msg="N more like this suppressed" key=K first="…"` at the level of the
/// held-back lines.
///
/// The summary of a key is written when that key logs again after its
/// interval, when any line passes through this logger after the interval,
/// or at `flush()` (call it before exiting, so no count is lost). Times come
/// from the injected clock. `Sendable`; share one per concern (the accept
/// loop, one IRC connection's send errors).
///
///     let limited = RateLimitedLogger(logger, interval: .seconds(60))
///     limited.warning(key: "cannot send", "cannot send", ["error": error])
public final class RateLimitedLogger: Sendable {
    private struct State {
        var limit: LogRateLimit
        /// Level and message of the first line of each key's window, for the summary.
        var firsts: [String: (Logger.Level, String)] = [:]
    }

    public let logger: Logger
    private let clock: any WallClock
    private let state: Mutex<State>

    public init(_ logger: Logger, interval: Duration = .seconds(60), maxKeys: Int = 1024,
                clock: any WallClock = SystemClock()) {
        self.logger = logger
        self.clock = clock
        state = Mutex(State(limit: LogRateLimit(interval: interval, maxKeys: maxKeys)))
    }

    /// Logs `message` unless a line with the same `key` went out less than
    /// the interval ago (then it is only counted).
    public func log(_ level: Logger.Level, key: String, _ message: String,
                    _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        guard level >= logger.minimumLevel else { return }
        let now = clock.now
        let (decision, summaries) = state.withLock { state -> (LogRateLimit.Decision, [(Logger.Level, String, String, Int)]) in
            let decision = state.limit.record(key, at: now)
            var summaries: [(Logger.Level, String, String, Int)] = []
            if case .emit(let before) = decision, before > 0, let first = state.firsts[key] {
                summaries.append((first.0, key, first.1, before))
            }
            for expired in state.limit.sweep(at: now) {
                if let first = state.firsts.removeValue(forKey: expired.key), expired.suppressed > 0 {
                    summaries.append((first.0, expired.key, first.1, expired.suppressed))
                }
            }
            if case .emit = decision { state.firsts[key] = (level, message) }
            // A key the limiter evicted (more than maxKeys) is forgotten here too.
            if state.firsts.count > state.limit.trackedKeys {
                let limit = state.limit
                state.firsts = state.firsts.filter { limit.isTracking($0.key) }
            }
            return (decision, summaries)
        }
        for summary in summaries { writeSummary(summary) }
        if case .emit = decision { logger.log(level, message, fields) }
    }

    public func notice(key: String, _ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.notice, key: key, message, fields)
    }
    public func warning(key: String, _ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.warning, key: key, message, fields)
    }
    public func error(key: String, _ message: String, _ fields: KeyValuePairs<String, any Sendable> = [:]) {
        log(.error, key: key, message, fields)
    }

    /// Writes the summary of every key that held lines back, whether or not
    /// its interval is over, and starts afresh. Call before exiting.
    public func flush() {
        let summaries = state.withLock { state -> [(Logger.Level, String, String, Int)] in
            let expired = state.limit.sweep(at: clock.now, all: true)
            defer { state.firsts.removeAll() }
            return expired.compactMap { entry in
                guard entry.suppressed > 0 else { return nil }
                return state.firsts[entry.key].map { ($0.0, entry.key, $0.1, entry.suppressed) }
            }
        }
        for summary in summaries { writeSummary(summary) }
    }

    private func writeSummary(_ summary: (level: Logger.Level, key: String, first: String, count: Int)) {
        logger.log(summary.level, "\(summary.count) more like this suppressed",
                   ["key": summary.key, "first": summary.first])
    }
}
