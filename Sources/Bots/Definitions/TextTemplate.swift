import Foundation

/// A text from the bot definitions with `{placeholders}`, parsed once at
/// load time. `{{` and `}}` stand for literal braces.
public struct TextTemplate: Sendable, Hashable {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case placeholder(String)
    }

    let segments: [Segment]
    /// The placeholder names the text uses.
    public let placeholders: Set<String>

    /// Parses `text`; the error says what is wrong (for the loader's issue).
    static func parse(_ text: String) -> Result<TextTemplate, TemplateError> {
        var segments: [Segment] = []
        var literal = ""
        var names = Set<String>()
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "{" {
                if next < text.endIndex, text[next] == "{" {
                    literal.append("{")
                    index = text.index(after: next)
                    continue
                }
                guard let close = text[next...].firstIndex(of: "}") else {
                    return .failure(.unclosed)
                }
                let name = String(text[next..<close])
                guard isName(name) else { return .failure(.badName(name)) }
                if !literal.isEmpty { segments.append(.literal(literal)) }
                literal = ""
                segments.append(.placeholder(name))
                names.insert(name)
                index = text.index(after: close)
            } else if character == "}" {
                guard next < text.endIndex, text[next] == "}" else { return .failure(.strayClose) }
                literal.append("}")
                index = text.index(after: next)
            } else {
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        return .success(TextTemplate(segments: segments, placeholders: names))
    }

    static func isName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    /// The text with each placeholder replaced by its value, made safe for
    /// one line (``Sanitizer/inline(_:limit:)``): a value never brings a line
    /// break or a control character into a reply. A placeholder without a
    /// value (a bug) is left visible as `{name}` rather than crashing.
    public func render(_ values: [String: String]) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text): out += text
            case .placeholder(let name):
                if let value = values[name] {
                    out += Sanitizer.inline(value, limit: 2000)
                } else {
                    out += "{\(name)}"
                }
            }
        }
        return out
    }

    /// Why a text could not be parsed.
    enum TemplateError: Error, Equatable, CustomStringConvertible {
        case unclosed
        case strayClose
        case badName(String)

        var description: String {
            switch self {
            case .unclosed: "a '{' has no matching '}' (write '{{' for a literal brace)"
            case .strayClose: "a '}' without a '{' (write '}}' for a literal brace)"
            case .badName(let name): "'{\(name)}' is not a placeholder name (letters, digits, '_')"
            }
        }
    }
}

/// One text in every language.
public struct LocalizedTemplate: Sendable, Hashable {
    let templates: [Language: TextTemplate]

    public func template(_ language: Language) -> TextTemplate {
        templates[language] ?? templates[.en] ?? templates.values.first!
    }
}

/// The texts of one bot, by key, checked at load time: every key the code
/// needs is there, in every language, with the right placeholders.
public struct TextTable<Key: BotTextKey>: Sendable {
    let entries: [Key: LocalizedTemplate]

    /// The text `key` in `language` with `values` filled in.
    public func render(_ key: Key, _ language: Language, _ values: [String: String] = [:]) -> String {
        guard let entry = entries[key] else { return "" }
        return entry.template(language).render(values)
    }
}

/// A command as the definitions name and explain it.
public struct CommandDefinition: Sendable, Hashable {
    /// The code's name for it (`reply`).
    public let id: String
    /// What users type after `!` (`reply`, `antwort`), lowercased; the first
    /// is the one help shows.
    public let names: [String]
    let usage: [Language: String]
    let help: [Language: String]

    /// `N text` — what follows the name (empty for none).
    public func usage(_ language: Language) -> String { usage[language] ?? "" }
    /// One line saying what it does.
    public func help(_ language: Language) -> String { help[language] ?? "" }
    /// `!reply`
    public var display: String { "!" + (names.first ?? id) }
}

/// One bot's commands, looked up by what the user typed.
public struct CommandSet<ID: RawRepresentable<String> & CaseIterable & Hashable & Sendable>: Sendable {
    let byID: [ID: CommandDefinition]
    let byName: [String: ID]

    /// The command a typed name (without `!`, any case) means.
    public func command(named name: String) -> ID? { byName[name.lowercased()] }

    public func definition(_ id: ID) -> CommandDefinition { byID[id]! }

    /// Every command, in the code's order (for help).
    public var all: [CommandDefinition] { ID.allCases.compactMap { byID[$0] } }
}
