import Foundation

/// A command-line usage error: what was wrong, shown to the user with the
/// command's usage (swift-argument-parser's `ValidationError`, in small).
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The arguments of one subcommand: `--name value`, `--flag`, positionals.
///
/// Every option a command reads is declared by reading it; `finish()` then
/// refuses anything left over, so a typo (`--confg`) is an error, never
/// silently ignored.
public struct Arguments {
    private var options: [String: [String]] = [:]
    private var flags: Set<String> = []
    public private(set) var positionals: [String] = []
    private var consumed: Set<String> = []

    /// Parses `words` (without the program and subcommand names). Options
    /// named in `flagNames` take no value; every other `--name` takes one,
    /// given as `--name value` or `--name=value`. `--` ends the options.
    public init(_ words: [String], flagNames: Set<String> = []) throws {
        var index = 0
        var onlyPositionals = false
        while index < words.count {
            let word = words[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("--") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            var name = String(word.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if flagNames.contains(name) {
                guard value == nil else { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
                continue
            }
            if value == nil {
                guard index < words.count else { throw UsageError("--\(name) needs a value") }
                value = words[index]
                index += 1
            }
            options[name, default: []].append(value!)
        }
    }

    /// The value of `--name`, or nil; given twice is an error.
    public mutating func option(_ name: String) throws -> String? {
        consumed.insert(name)
        guard let values = options[name] else { return nil }
        guard values.count == 1 else { throw UsageError("--\(name) given \(values.count) times") }
        return values[0]
    }

    /// Every value of a repeatable `--name`.
    public mutating func options(_ name: String) -> [String] {
        consumed.insert(name)
        return options[name] ?? []
    }

    /// Whether `--name` was given.
    public mutating func flag(_ name: String) -> Bool {
        consumed.insert(name)
        return flags.contains(name)
    }

    /// Refuses options that no one read and more positionals than `maxPositionals`.
    public func finish(maxPositionals: Int = 0) throws {
        let unknown = Set(options.keys).union(flags).subtracting(consumed).sorted()
        if let first = unknown.first {
            throw UsageError("unknown option --\(first)")
        }
        if positionals.count > maxPositionals {
            throw UsageError("unexpected argument \"\(positionals[maxPositionals])\"")
        }
    }
}
