import Foundation

/// A position in a text: 1-based line and column (column in Unicode scalars).
public struct TextPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A JSON5 value with the position it starts at, as read by ``JSON5Parser``.
///
/// ``TreeDecoder`` decodes configuration into our types from this tree; it
/// maps a coding path back to a line so every error can name it, and lets
/// the strict loader see keys the decoder never read.
struct JSON5Node: Sendable {
    indirect enum Value: Sendable {
        /// Members in source order. `id` is unique within one document.
        case object(id: Int, members: [JSON5Member])
        case array([JSON5Node])
        case string(String)
        case number(JSON5Number)
        case bool(Bool)
        case null
    }

    var value: Value
    var position: TextPosition

    /// The member named `key`, if this is an object that has it.
    func member(_ key: String) -> JSON5Member? {
        guard case .object(_, let members) = value else { return nil }
        return members.first { $0.key == key }
    }

    /// A short description of this value for "found …" in messages.
    var foundDescription: String {
        switch value {
        case .object: return "an object"
        case .array: return "a list"
        case .string(let text):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "\"" + shown.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .number(let number): return "the number \(number.text)"
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// One `key: value` of an object.
struct JSON5Member: Sendable {
    var key: String
    var keyPosition: TextPosition
    var value: JSON5Node
}

/// A JSON5 number, kept as written so integers stay exact.
struct JSON5Number: Sendable {
    /// The literal as written (`0x1F`, `-.5`, `Infinity`).
    var text: String
    var double: Double
    /// Set when the literal is an integer that fits (decimal without
    /// fraction or exponent, or hexadecimal).
    var integer: Int64?
    /// Unsigned value, for integers above `Int64.max`.
    var unsigned: UInt64?
}

/// A syntax error, with where it was found.
struct JSON5SyntaxError: Error, Sendable {
    var position: TextPosition
    var message: String
}

/// Reads JSON5 (https://spec.json5.org, version 1.0.0) into ``JSON5Node``s:
/// comments, unquoted (ECMAScript identifier) keys, single-quoted strings,
/// trailing commas, hexadecimal, `Infinity`/`NaN`, leading/trailing decimal
/// points, explicit `+`, escaped line continuations.
///
/// It is stricter than JSON5 in two ways: a key repeated within one object
/// is an error (JSON5 lets the last one win, Foundation keeps the first —
/// in a configuration either silently drops what someone wrote), and so is
/// a NUL character in a string.
struct JSON5Parser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var nextObjectID = 0
    private var depth = 0
    private static let maxDepth = 200

    init(text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// Parses one document: a single value, then only whitespace and comments.
    static func parse(_ text: String) throws(JSON5SyntaxError) -> JSON5Node {
        var parser = JSON5Parser(text: text)
        if parser.peek == "\u{FEFF}" { parser.index += 1; parser.lineStart = 1 }
        try parser.skipTrivia()
        guard parser.peek != nil else { throw parser.error("the file is empty: expected a value such as { … }") }
        let node = try parser.parseValue()
        try parser.skipTrivia()
        if let extra = parser.peek {
            throw parser.error("unexpected \(Self.describe(extra)) after the end of the document")
        }
        return node
    }

    // MARK: - Positions and errors

    private var position: TextPosition { TextPosition(line: line, column: index - lineStart + 1) }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func peek(at offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private func error(_ message: String, at where_: TextPosition? = nil) -> JSON5SyntaxError {
        JSON5SyntaxError(position: where_ ?? position, message: message)
    }

    static func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "end of file" }
        switch scalar {
        case "\n", "\r", "\u{2028}", "\u{2029}": return "end of line"
        case "'": return "\"'\""
        default:
            if scalar.properties.generalCategory == .control || scalar.value < 0x20 {
                return String(format: "control character U+%04X", scalar.value)
            }
            return "'\(scalar)'"
        }
    }

    /// Consumes one scalar, keeping line numbers (CRLF is one line break).
    private mutating func advance() {
        let scalar = scalars[index]
        index += 1
        if Self.isLineTerminator(scalar) {
            if scalar == "\r", peek == "\n" { index += 1 }
            line += 1
            lineStart = index
        }
    }

    private static func isLineTerminator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\n" || scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0B}", "\u{0C}", "\r", " ", "\u{A0}", "\u{2028}", "\u{2029}", "\u{FEFF}": return true
        default: return scalar.properties.generalCategory == .spaceSeparator
        }
    }

    // MARK: - Trivia

    private mutating func skipTrivia() throws(JSON5SyntaxError) {
        while let scalar = peek {
            if Self.isWhitespace(scalar) {
                advance()
            } else if scalar == "/", peek(at: 1) == "/" {
                while let c = peek, !Self.isLineTerminator(c) { advance() }
            } else if scalar == "/", peek(at: 1) == "*" {
                let start = position
                index += 2
                var closed = false
                while let c = peek {
                    if c == "*", peek(at: 1) == "/" { index += 2; closed = true; break }
                    advance()
                }
                if !closed { throw error("unterminated /* comment", at: start) }
            } else {
                return
            }
        }
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSON5SyntaxError) -> JSON5Node {
        let start = position
        guard let scalar = peek else { throw error("expected a value, found end of file") }
        switch scalar {
        case "{": return JSON5Node(value: try parseObject(), position: start)
        case "[": return JSON5Node(value: try parseArray(), position: start)
        case "\"", "'": return JSON5Node(value: .string(try parseString()), position: start)
        case "-", "+", ".", "0"..."9": return JSON5Node(value: .number(try parseNumber()), position: start)
        default:
            if Self.isIdentifierStart(scalar) || scalar == "\\" {
                let word = try parseIdentifier()
                switch word {
                case "true": return JSON5Node(value: .bool(true), position: start)
                case "false": return JSON5Node(value: .bool(false), position: start)
                case "null": return JSON5Node(value: .null, position: start)
                case "Infinity": return JSON5Node(value: .number(JSON5Number(text: word, double: .infinity)), position: start)
                case "NaN": return JSON5Node(value: .number(JSON5Number(text: word, double: .nan)), position: start)
                default:
                    throw error("unexpected word '\(word)': a text value needs quotes (\"\(word)\")", at: start)
                }
            }
            throw error("expected a value, found \(Self.describe(scalar))")
        }
    }

    private mutating func enter() throws(JSON5SyntaxError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nested more than \(Self.maxDepth) levels deep") }
    }

    private mutating func parseObject() throws(JSON5SyntaxError) -> JSON5Node.Value {
        try enter()
        defer { depth -= 1 }
        let id = nextObjectID
        nextObjectID += 1
        index += 1  // {
        var members: [JSON5Member] = []
        var seen: [String: TextPosition] = [:]
        while true {
            try skipTrivia()
            guard let scalar = peek else { throw error("unterminated object: expected '}' before the end of file") }
            if scalar == "}" { index += 1; return .object(id: id, members: members) }
            let keyPosition = position
            let key: String
            if scalar == "\"" || scalar == "'" {
                key = try parseString()
            } else if Self.isIdentifierStart(scalar) || scalar == "\\" {
                key = try parseIdentifier()
            } else {
                throw error("expected a key or '}', found \(Self.describe(scalar))")
            }
            if let first = seen[key] {
                throw error("the key '\(key)' appears twice in this object (first on line \(first.line))",
                            at: keyPosition)
            }
            seen[key] = keyPosition
            try skipTrivia()
            guard peek == ":" else { throw error("expected ':' after the key '\(key)', found \(Self.describe(peek))") }
            index += 1
            try skipTrivia()
            let value = try parseValue()
            members.append(JSON5Member(key: key, keyPosition: keyPosition, value: value))
            try skipTrivia()
            switch peek {
            case ",": index += 1
            case "}": index += 1; return .object(id: id, members: members)
            default: throw error("expected ',' or '}' after the value of '\(key)', found \(Self.describe(peek))")
            }
        }
    }

    private mutating func parseArray() throws(JSON5SyntaxError) -> JSON5Node.Value {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSON5Node] = []
        while true {
            try skipTrivia()
            guard let scalar = peek else { throw error("unterminated list: expected ']' before the end of file") }
            if scalar == "]" { index += 1; return .array(elements) }
            elements.append(try parseValue())
            try skipTrivia()
            switch peek {
            case ",": index += 1
            case "]": index += 1; return .array(elements)
            default: throw error("expected ',' or ']' after a list element, found \(Self.describe(peek))")
            }
        }
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSON5SyntaxError) -> String {
        let start = position
        let quote = scalars[index]
        index += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let scalar = peek else { throw error("unterminated string (it starts here)", at: start) }
            if scalar == quote {
                index += 1
                // JSON5 allows NUL (`\0`, `\u0000`); no setting needs one and a
                // NUL in a nick or channel is dangerous — so refuse it, clearly.
                if out.contains("\0") {
                    throw error("a NUL character is not allowed in configuration text", at: start)
                }
                return String(out)
            }
            if scalar == "\n" || scalar == "\r" {
                throw error("unterminated string: it runs to the end of the line (close it with \(quote), or write \\n for a line break)", at: start)
            }
            if scalar != "\\" {
                out.append(scalar)
                index += 1
                continue
            }
            let escapePosition = position
            index += 1
            guard let escaped = peek else { throw error("unterminated string (it starts here)", at: start) }
            switch escaped {
            case "b": out.append("\u{08}"); index += 1
            case "f": out.append("\u{0C}"); index += 1
            case "n": out.append("\n"); index += 1
            case "r": out.append("\r"); index += 1
            case "t": out.append("\t"); index += 1
            case "v": out.append("\u{0B}"); index += 1
            case "0":
                if let next = peek(at: 1), ("0"..."9").contains(next) {
                    throw error("octal escapes are not allowed in JSON5", at: escapePosition)
                }
                out.append("\0"); index += 1
            case "1"..."9":
                throw error("'\\\(escaped)' is not a valid escape", at: escapePosition)
            case "x":
                index += 1
                let value = try hexDigits(2, escapeAt: escapePosition)
                out.append(Unicode.Scalar(UInt8(value)))
            case "u":
                index += 1
                out.append(try unicodeEscape(escapeAt: escapePosition))
            case "\n", "\r", "\u{2028}", "\u{2029}":
                advance()  // line continuation: the escaped line break is dropped
            default:
                out.append(escaped); index += 1
            }
        }
    }

    private mutating func hexDigits(_ count: Int, escapeAt: TextPosition) throws(JSON5SyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let scalar = peek, let digit = Self.hexValue(scalar) else {
                throw error("expected \(count) hexadecimal digits in this escape", at: escapeAt)
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    /// `\uXXXX`, combining a UTF-16 surrogate pair written as two escapes.
    private mutating func unicodeEscape(escapeAt: TextPosition) throws(JSON5SyntaxError) -> Unicode.Scalar {
        let first = try hexDigits(4, escapeAt: escapeAt)
        if (0xD800...0xDBFF).contains(first), peek == "\\", peek(at: 1) == "u" {
            index += 2
            let second = try hexDigits(4, escapeAt: escapeAt)
            if (0xDC00...0xDFFF).contains(second),
               let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)) {
                return scalar
            }
            throw error("invalid UTF-16 surrogate pair in \\u escapes", at: escapeAt)
        }
        guard let scalar = Unicode.Scalar(first) else {
            throw error("\\u escape of a lone UTF-16 surrogate", at: escapeAt)
        }
        return scalar
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 48
        case "a"..."f": scalar.value - 87
        case "A"..."F": scalar.value - 55
        default: nil
        }
    }

    // MARK: - Identifiers

    private static func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "$" || scalar == "_" || scalar.properties.isIDStart
    }

    private static func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "$" || scalar == "_" || scalar == "\u{200C}" || scalar == "\u{200D}" || scalar.properties.isIDContinue
    }

    /// An ECMAScript IdentifierName, with `\uXXXX` escapes.
    private mutating func parseIdentifier() throws(JSON5SyntaxError) -> String {
        var out = String.UnicodeScalarView()
        while let scalar = peek {
            var resolved = scalar
            if scalar == "\\" {
                let escapeAt = position
                guard peek(at: 1) == "u" else { throw error("only \\u escapes are allowed in a key", at: escapeAt) }
                index += 2
                resolved = try unicodeEscape(escapeAt: escapeAt)
                index -= 1  // balanced by the += 1 below
            }
            let valid = out.isEmpty ? Self.isIdentifierStart(resolved) : Self.isIdentifierPart(resolved)
            if !valid {
                if scalar == "\\" { throw error("this escape does not make an identifier character") }
                break
            }
            out.append(resolved)
            index += 1
        }
        return String(out)
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSON5SyntaxError) -> JSON5Number {
        let start = index
        let startPosition = position
        var negative = false
        if peek == "+" || peek == "-" {
            negative = peek == "-"
            index += 1
        }
        func text(_ parser: JSON5Parser) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: parser.scalars[start..<parser.index])
            return String(view)
        }
        if let scalar = peek, Self.isIdentifierStart(scalar) {
            let word = try parseIdentifier()
            switch word {
            case "Infinity": return JSON5Number(text: text(self), double: negative ? -.infinity : .infinity)
            case "NaN": return JSON5Number(text: text(self), double: .nan)
            default: throw error("expected a number, found '\(text(self))'", at: startPosition)
            }
        }
        if peek == "0", peek(at: 1) == "x" || peek(at: 1) == "X" {
            index += 2
            var magnitude: UInt64 = 0
            var overflow = false
            var digits = 0
            while let scalar = peek, let digit = Self.hexValue(scalar) {
                let (times, o1) = magnitude.multipliedReportingOverflow(by: 16)
                let (plus, o2) = times.addingReportingOverflow(UInt64(digit))
                overflow = overflow || o1 || o2
                magnitude = plus
                digits += 1
                index += 1
            }
            guard digits > 0 else { throw error("expected hexadecimal digits after 0x", at: startPosition) }
            try expectNumberEnd(startPosition)
            let literal = text(self)
            if overflow { throw error("the number \(literal) is too large", at: startPosition) }
            let integer: Int64? = negative
                ? (magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil)
                : (magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil)
            return JSON5Number(text: literal, double: negative ? -Double(magnitude) : Double(magnitude),
                               integer: integer, unsigned: negative ? nil : magnitude)
        }
        var integral = true
        var intDigits = 0
        if peek == "0" {
            index += 1
            intDigits = 1
            if let next = peek, ("0"..."9").contains(next) {
                throw error("a number cannot start with 0 (leading zeros are not allowed)", at: startPosition)
            }
        } else {
            while let scalar = peek, ("0"..."9").contains(scalar) { index += 1; intDigits += 1 }
        }
        var fractionDigits = 0
        if peek == "." {
            integral = false
            index += 1
            while let scalar = peek, ("0"..."9").contains(scalar) { index += 1; fractionDigits += 1 }
        }
        guard intDigits + fractionDigits > 0 else { throw error("expected a number", at: startPosition) }
        if peek == "e" || peek == "E" {
            integral = false
            index += 1
            if peek == "+" || peek == "-" { index += 1 }
            var expDigits = 0
            while let scalar = peek, ("0"..."9").contains(scalar) { index += 1; expDigits += 1 }
            guard expDigits > 0 else { throw error("expected digits in the exponent", at: startPosition) }
        }
        try expectNumberEnd(startPosition)
        let literal = text(self)
        let plain = literal.hasPrefix("+") ? String(literal.dropFirst()) : literal
        guard let double = Double(plain) else { throw error("'\(literal)' is not a number", at: startPosition) }
        var number = JSON5Number(text: literal, double: double)
        if integral {
            number.integer = Int64(plain)
            number.unsigned = UInt64(plain)
        }
        return number
    }

    /// A number must not run into letters (`12px`).
    private func expectNumberEnd(_ start: TextPosition) throws(JSON5SyntaxError) {
        if let scalar = peek, Self.isIdentifierPart(scalar) || scalar == "." {
            throw error("unexpected \(Self.describe(scalar)) in a number: a text value needs quotes", at: start)
        }
    }
}
