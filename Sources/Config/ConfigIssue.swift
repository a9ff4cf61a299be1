import Foundation

/// Where a value sits in a configuration file: `customers[3].contract.until`.
///
/// Built from a `Decoder`'s coding path or by hand for the checks that run
/// after decoding (`ConfigPath("customers", 3, "number")`).
public struct ConfigPath: Sendable, Hashable, CustomStringConvertible {
    /// One step: a key of an object or an index into a list.
    public enum Component: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        public init(stringLiteral value: String) { self = .key(value) }
        public init(integerLiteral value: Int) { self = .index(value) }
    }

    public var components: [Component]

    /// The whole file.
    public static let root = ConfigPath(components: [])

    public init(components: [Component]) { self.components = components }

    /// `ConfigPath("customers", 3, "contract", "until")`.
    public init(_ components: Component...) { self.components = components }

    /// The path a `Decoder` reports. Array positions are the keys whose
    /// `intValue` is set and whose `stringValue` is `Index <n>` (the form
    /// `JSONDecoder` and ``ConfigDocument`` use); any other key is a name, so
    /// a dictionary key `"1"` stays a key.
    public init(codingPath: [any CodingKey]) {
        components = codingPath.map { key in
            if let index = key.intValue, key.stringValue == "Index \(index)" { return .index(index) }
            return .key(key.stringValue)
        }
    }

    public func appending(_ component: Component) -> ConfigPath {
        ConfigPath(components: components + [component])
    }

    public func appending(_ other: ConfigPath) -> ConfigPath {
        ConfigPath(components: components + other.components)
    }

    /// `customers[3].contract.until`; keys that are not plain identifiers are
    /// quoted (`severities["1"]`); the empty path is `(top level)`.
    public var description: String {
        if components.isEmpty { return "(top level)" }
        var out = ""
        for component in components {
            switch component {
            case .index(let index):
                out += "[\(index)]"
            case .key(let key):
                if Self.isPlainKey(key) {
                    if !out.isEmpty { out += "." }
                    out += key
                } else {
                    out += "[\"" + key.replacingOccurrences(of: "\\", with: "\\\\")
                        .replacingOccurrences(of: "\"", with: "\\\"") + "\"]"
                }
            }
        }
        return out
    }

    private static func isPlainKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || first == "$" || first.properties.isAlphabetic
        else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || $0 == "$" || $0 == "-" || $0.properties.isAlphabetic
            || ("0"..."9").contains($0) }
    }
}

/// One thing wrong with a configuration file, said so that a person can fix
/// it: which file, which line (where known), which field, and what is wrong.
///
/// `description` reads like a compiler message:
/// `config/customers.json5:42:17: customers[3].contract.until: expected a date like 2026-12-31, found "31.12.2026"`.
public struct ConfigIssue: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as it was named to the loader.
    public var file: String
    /// 1-based line, when the place could be found in the text.
    public var line: Int?
    /// 1-based column (in characters), when known.
    public var column: Int?
    /// The field: a ``ConfigPath`` description, a CSV column name, or empty
    /// for problems of the file as a whole (e.g. it cannot be read).
    public var field: String
    /// What is wrong and, where we can tell, how to fix it.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String = "", message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var out = file
        if let line {
            out += ":\(line)"
            if let column { out += ":\(column)" }
        }
        out += ": "
        if !field.isEmpty { out += field + ": " }
        return out + message
    }
}

/// Everything wrong with a configuration, as a list: a loader reports all it
/// found (one problem per file that fails to decode, every problem of the
/// checks across files), not just the first.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ConfigIssue]

    public init(_ issues: [ConfigIssue]) { self.issues = issues }
    public init(_ issue: ConfigIssue) { self.issues = [issue] }

    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// A value type that decodes itself from configuration text (a date, a
/// duration, a time zone) and can say what it expects, so a wrong type is
/// reported as "expected a date like 2026-12-31, found the number 2026"
/// rather than "expected String".
public protocol ConfigValue {
    /// What a correct value looks like, e.g. `a date like 2026-12-31`.
    static var configExpectation: String { get }
}
