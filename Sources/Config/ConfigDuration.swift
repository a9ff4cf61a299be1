import Foundation

/// A length of time in a configuration file: `30s`, `5m`, `4h`, `1h30m`, or
/// `0` — always with a unit, because a bare `300` could mean seconds or
/// minutes and the wrong guess pages someone at the wrong time.
public struct ConfigDuration: Sendable, Hashable, Comparable, Codable, ConfigValue, CustomStringConvertible {
    /// Whole seconds.
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static var configExpectation: String { "a duration like 30s, 5m, 4h or 1h30m" }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }
    public var duration: Duration { .seconds(seconds) }

    /// Parses `1h30m`, `90s`, `0`; units `h`, `m`, `s` in that order, each
    /// once. Nil for anything else.
    public init?(text: String) {
        let body = text.trimmingCharacters(in: .whitespaces).lowercased()
        if body == "0" { seconds = 0; return }
        var total: Int64 = 0
        var digits = ""
        var lastUnit = 0  // 0 none, 1 h, 2 m, 3 s: units must come in this order
        for character in body {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int, factor: Int64
            switch character {
            case "h": (unit, factor) = (1, 3600)
            case "m": (unit, factor) = (2, 60)
            case "s": (unit, factor) = (3, 1)
            default: return nil
            }
            guard !digits.isEmpty, unit > lastUnit, let value = Int64(digits), value <= 10_000_000 else { return nil }
            total += value * factor
            digits = ""
            lastUnit = unit
        }
        guard digits.isEmpty, lastUnit > 0 else { return nil }
        seconds = total
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation), found the number \(number.formatted(.number.grouping(.never))) — add a unit, e.g. \"\(Int(number))s\" or \"\(Int(number))m\""))
        }
        let text = try container.decode(String.self)
        guard let value = ConfigDuration(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected \(Self.configExpectation), found \"\(text)\""))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool { lhs.seconds < rhs.seconds }

    /// `1h30m`, `5m`, `0s`.
    public var description: String {
        if seconds == 0 { return "0s" }
        var out = ""
        let h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 { out += "\(s)s" }
        return out
    }
}
