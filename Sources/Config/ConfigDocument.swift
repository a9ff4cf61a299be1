import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One JSON5 configuration file, read and checked, ready to decode strictly.
///
/// The strict loader every part of Switchboard uses for its configuration
/// (desk, gateway, bots):
///
/// ```swift
/// let document = try ConfigDocument(contentsOf: url)          // syntax errors with line:column
/// let file = try document.decode(GatewayFile.self)           // types, missing and unknown keys
/// if file.port == 0 { throw ConfigError(document.issue("must not be 0", at: ConfigPath("port"))) }
/// ```
///
/// `decode` makes **one** pass, over our own JSON5 tree (``TreeDecoder``),
/// and returns the value it built. That pass knows every value's line, gives
/// messages a person can act on ("expected a date like 2026-12-31, found
/// "31.12.2026""), and records which keys the type asked for — any other key
/// in the file is an **error** ("unknown key 'untill' — did you mean
/// 'until'?"), because a `Decodable` type silently ignores keys it does not
/// declare. Its rules are `JSONDecoder`'s defaults (exact integers, `Date`
/// as seconds since 2001, `Data` as Base64, `URL` as a string), so a type
/// decodes the same as it would from JSON. Syntax is decided by
/// ``JSON5Parser``, which follows the JSON5 spec and reports line:column
/// (Foundation's JSON5 reader in Swift 6.3 rejects `\v`, `\0` and identity
/// escapes like `\q` without a position).
///
/// Everything is a pure function of the text: loading again after an edit
/// gives a new value or errors, never half a configuration.
public struct ConfigDocument: Sendable {
    /// The file's name as given to the loader (used in every message).
    public let file: String
    /// The text, without a byte order mark.
    public let text: String
    let root: JSON5Node

    /// Parses `text` (named `file` in messages).
    public init(file: String, text: String) throws(ConfigError) {
        self.file = file
        var body = text
        if body.unicodeScalars.first == "\u{FEFF}" { body.unicodeScalars.removeFirst() }
        self.text = body
        do {
            root = try JSON5Parser.parse(body)
        } catch {
            throw ConfigError(ConfigIssue(file: file, line: error.position.line, column: error.position.column,
                                          message: error.message))
        }
    }

    /// Reads and parses the file at `url`; `displayName` (default: the path)
    /// names it in messages.
    public init(contentsOf url: URL, displayName: String? = nil) throws(ConfigError) {
        let name = displayName ?? url.path
        let data = try Self.readFile(url.path, displayName: name)
        try self.init(file: name, text: try Self.utf8Text(data, file: name))
    }

    // MARK: - Decoding

    /// Decodes `T` strictly: see the type's documentation.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws(ConfigError) -> T {
        let recorder = KeyRecorder()
        let value: T
        do {
            value = try TreeDecoder.decode(type, from: root, path: [], recorder: recorder)
        } catch let error as DecodingError {
            throw ConfigError(issue(for: error))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(self.issue("\(error)", at: .root))
        }
        let unknown = recorder.unknownKeys(in: root)
        if !unknown.isEmpty {
            throw ConfigError(unknown.map { path, member, known in
                var message = "unknown key '\(member.key)'"
                if let guess = Self.closest(to: member.key, in: known) {
                    message += " — did you mean '\(guess)'?"
                } else if !known.isEmpty {
                    message += " (known here: \(known.sorted().joined(separator: ", ")))"
                }
                return ConfigIssue(file: file, line: member.keyPosition.line, column: member.keyPosition.column,
                                   field: path.description, message: message)
            })
        }
        return value
    }

    // MARK: - Issues with positions

    /// Where the value at `path` starts. When the path goes further than the
    /// file does (a missing field), the position of the deepest value that
    /// exists, e.g. the object that lacks the field.
    public func position(of path: ConfigPath) -> TextPosition? {
        var node = root
        for component in path.components {
            switch (component, node.value) {
            case (.key(let key), .object(_, let members)):
                guard let member = members.first(where: { $0.key == key }) else { return node.position }
                node = member.value
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return node.position }
                node = elements[index]
            default:
                return node.position
            }
        }
        return node.position
    }

    /// The keys present in the object at `path` (empty if it is not one).
    public func keys(at path: ConfigPath) -> [String] {
        var node = root
        for component in path.components {
            switch (component, node.value) {
            case (.key(let key), .object(_, let members)):
                guard let member = members.first(where: { $0.key == key }) else { return [] }
                node = member.value
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return [] }
                node = elements[index]
            default:
                return []
            }
        }
        guard case .object(_, let members) = node.value else { return [] }
        return members.map(\.key)
    }

    /// An issue about the value at `path`, with its line and column.
    public func issue(_ message: String, at path: ConfigPath) -> ConfigIssue {
        let place = position(of: path)
        return ConfigIssue(file: file, line: place?.line, column: place?.column, field: path.description,
                           message: message)
    }

    /// Turns a `DecodingError` into an issue with
    /// the file, line and field path.
    public func issue(for error: DecodingError) -> ConfigIssue {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = ConfigPath(codingPath: context.codingPath)
            var message = "missing field '\(key.stringValue)'"
            let present = Set(keys(at: parent))
            if let guess = Self.closest(to: key.stringValue, in: present) {
                message += " (the file has '\(guess)' — a typo?)"
            }
            return issue(message, at: parent).with(field: parent.appending(.key(key.stringValue)).description)
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            var message = context.debugDescription
            if let underlying = context.underlyingError, message.isEmpty { message = "\(underlying)" }
            return issue(message, at: ConfigPath(codingPath: context.codingPath))
        @unknown default:
            return issue("\(error)", at: .root)
        }
    }

    // MARK: - Helpers

    /// The known word closest to `key` (case-insensitively equal, or at most
    /// two edits away for words longer than three characters) — for "did
    /// you mean …" in messages about keys, names and ids.
    public static func closest(to key: String, in known: Set<String>) -> String? {
        let lowered = key.lowercased()
        if let same = known.first(where: { $0.lowercased() == lowered }) { return same }
        let limit = key.count > 3 ? 2 : 1
        let scored = known.map { ($0, editDistance(lowered, $0.lowercased())) }.filter { $0.1 <= limit }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// Levenshtein distance (insert, delete, substitute; adjacent swaps count 1).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }

    /// Reads a whole file; errors carry the `errno` text.
    public static func readFile(_ path: String, displayName: String? = nil) throws(ConfigError) -> Data {
        let name = displayName ?? path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigError(ConfigIssue(file: name, message: "cannot open: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigError(ConfigIssue(file: name, message: "cannot read: \(String(cString: strerror(errno)))"))
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// The file's text; invalid UTF-8 is an error naming the line.
    public static func utf8Text(_ data: Data, file: String) throws(ConfigError) -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        var line = 1
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            if String(validating: data[start..<end], as: UTF8.self) == nil {
                throw ConfigError(ConfigIssue(file: file, line: line,
                                              message: "the file is not valid UTF-8 (save it as UTF-8)"))
            }
            line += 1
            start = end < data.endIndex ? data.index(after: end) : end
        }
        throw ConfigError(ConfigIssue(file: file, message: "the file is not valid UTF-8 (save it as UTF-8)"))
    }
}

extension ConfigIssue {
    /// This issue naming another field.
    public func with(field: String) -> ConfigIssue {
        var copy = self
        copy.field = field
        return copy
    }
}
