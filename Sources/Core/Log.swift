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
