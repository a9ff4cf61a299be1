import Foundation

/// Reads one article file.
///
/// ## Format
/// A UTF-8 Markdown file that starts with a header between two `---` lines,
/// one `key: value` per line (blank lines and lines starting with `#` are
/// ignored), followed by the article's Markdown text:
///
/// ```
/// ---
/// id: KB-1001
/// title: Einzelne Dateien und Ordner wiederherstellen
/// url: https://docs.nordlicht.example/kb/KB-1001
/// tags: Wiederherstellung, Restore, Datei, Ordner
/// language: de
/// ---
/// Mit der Dateiwiederherstellung holen Sie einzelne Dateien … (summary)
///
/// ## Schritte
/// 1. …
/// ```
///
/// | key        | required | value |
/// |------------|----------|-------|
/// | `id`       | yes | letters, digits, `-`, `_`, `.`; unique across the folder (case-insensitive) |
/// | `title`    | yes | one line |
/// | `url`      | yes | absolute `http`/`https` URL |
/// | `language` | yes | `de` or `en` |
/// | `tags`     | no  | comma-separated list (`[a, b]` also accepted) |
/// | `summary`  | no  | one line; default: the first paragraph of the text |
/// | `translation` | no | the id of the same article in the other language (see ``TranslationAlignment``) |
/// | `questions` | no | questions customers ask for the article, separated by `|`; the key may be repeated, each line adds its questions (see ``QuestionIndex``) |
///
/// A value may be wrapped in double quotes. Unknown keys are errors (a
/// misspelt `titel:` should not silently drop the title).
enum ArticleParser {
    /// The result of parsing a file: the article, and the line of its `id:`
    /// (for duplicate-id messages).
    struct Parsed {
        var article: Article
        var idLine: Int
    }

    static let knownFields: Set<String> = ["id", "title", "url", "language", "tags", "summary", "translation", "questions"]

    /// Header keys that may be given on several lines, each adding to the list.
    static let repeatableFields: Set<String> = ["questions"]

    /// At most this many `questions:` per article, each at most
    /// ``maximumQuestionLength`` characters: a question is how a customer
    /// asks, not a second article text.
    static let maximumQuestions = 12
    static let maximumQuestionLength = 160

    /// Parses `data` read from `file` (a path relative to the KB folder).
    /// Returns every problem found; an article only if there is none.
    static func parse(_ data: Data, file: String) -> (Parsed?, [KBLoadError]) {
        let bytes = [UInt8](data)
        if let (offset, line) = firstInvalidUTF8(bytes) {
            return (nil, [KBLoadError(kind: .invalidUTF8, file: file, line: line,
                                      message: "not valid UTF-8 (byte offset \(offset)); save the file as UTF-8")])
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        // "\r\n" is one Character in Swift, so split on both forms.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })

        func error(_ kind: KBLoadError.Kind, _ line: Int?, _ field: String? = nil, _ message: String) -> KBLoadError {
            KBLoadError(kind: kind, file: file, line: line, field: field, message: message)
        }

        guard let first = lines.first, first.trimmingCharacters(in: .whitespaces) == "---" else {
            return (nil, [error(.missingHeader, 1, nil,
                                "the file must start with a '---' line that opens the header (id, title, url, tags, language)")])
        }
        guard let closing = lines.indices.dropFirst().first(where: {
            lines[$0].trimmingCharacters(in: .whitespaces) == "---"
        }) else {
            return (nil, [error(.missingHeader, 1, nil, "the header opened here is not closed by a '---' line")])
        }

        var errors: [KBLoadError] = []
        var values: [String: (value: String, line: Int)] = [:]
        var repeated: [String: [(value: String, line: Int)]] = [:]
        for index in 1..<closing {
            let lineNumber = index + 1
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                errors.append(error(.malformedLine, lineNumber, nil, "expected 'key: value', found '\(line)'"))
                continue
            }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            guard knownFields.contains(key) else {
                let known = knownFields.sorted().joined(separator: ", ")
                errors.append(error(.unknownField, lineNumber, key, "unknown header field (known: \(known))"))
                continue
            }
            if repeatableFields.contains(key) {
                repeated[key, default: []].append((value, lineNumber))
                continue
            }
            if let earlier = values[key] {
                errors.append(error(.duplicateField, lineNumber, key, "given twice (first on line \(earlier.line))"))
                continue
            }
            values[key] = (value, lineNumber)
        }

        func required(_ key: String) -> (value: String, line: Int)? {
            guard let entry = values[key] else {
                errors.append(error(.missingField, closing + 1, key, "required field is missing from the header"))
                return nil
            }
            guard !entry.value.isEmpty else {
                errors.append(error(.missingField, entry.line, key, "required field is empty"))
                return nil
            }
            return entry
        }

        let id = required("id")
        if let id, !isValidID(id.value) {
            errors.append(error(.invalidValue, id.line, "id",
                                "'\(id.value)' is not a valid id (letters, digits, '-', '_', '.'; at most 64)"))
        }
        let title = required("title")
        let urlEntry = required("url")
        var url: URL?
        if let urlEntry {
            if let parsed = URL(string: urlEntry.value), let scheme = parsed.scheme?.lowercased(),
               scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty {
                url = parsed
            } else {
                errors.append(error(.invalidValue, urlEntry.line, "url",
                                    "'\(urlEntry.value)' is not an absolute http(s) URL"))
            }
        }
        let languageEntry = required("language")
        var language: Article.Language?
        if let languageEntry {
            language = Article.Language(rawValue: languageEntry.value.lowercased())
            if language == nil {
                errors.append(error(.unknownLanguage, languageEntry.line, "language",
                                    "unknown language '\(languageEntry.value)' (expected de or en)"))
            }
        }
        var tags: [String] = []
        if let tagsEntry = values["tags"] {
            var list = tagsEntry.value
            if list.hasPrefix("["), list.hasSuffix("]") { list = String(list.dropFirst().dropLast()) }
            tags = list.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }.filter { !$0.isEmpty }
        }

        var translation: String?
        if let entry = values["translation"], !entry.value.isEmpty {
            if isValidID(entry.value) {
                translation = entry.value
            } else {
                errors.append(error(.invalidValue, entry.line, "translation",
                                    "'\(entry.value)' is not an article id (letters, digits, '-', '_', '.')"))
            }
        }

        var questions: [String] = []
        for entry in repeated["questions"] ?? [] {
            let parts = entry.value.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for (n, question) in parts.enumerated() {
                let place = parts.count > 1 ? "question \(n + 1) of this line" : "the question"
                if !question.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) {
                    errors.append(error(.invalidValue, entry.line, "questions",
                                        "\(place) is empty (separate questions with '|', e.g. 'questions: Wie …? | How …?')"))
                } else if question.count > maximumQuestionLength {
                    errors.append(error(.invalidValue, entry.line, "questions",
                                        "\(place) has \(question.count) characters (at most \(maximumQuestionLength))"))
                } else {
                    questions.append(question)
                }
            }
        }
        if questions.count > maximumQuestions, let last = repeated["questions"]?.last {
            errors.append(error(.invalidValue, last.line, "questions",
                                "\(questions.count) questions (at most \(maximumQuestions) per article)"))
        }

        let body = lines[(closing + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        var summary = values["summary"]?.value ?? ""
        if summary.isEmpty { summary = firstParagraph(of: body) }
        if summary.isEmpty {
            errors.append(error(.missingSummary, closing + 1, "summary",
                                "no 'summary:' field and no paragraph of text after the header"))
        }

        guard errors.isEmpty, let id, let title, let url, let language else { return (nil, errors) }
        let article = Article(id: id.value, title: title.value, url: url, tags: tags, language: language,
                              summary: summary, body: body, source: file, translation: translation,
                              questions: questions)
        return (Parsed(article: article, idLine: id.line), [])
    }

    static func isValidID(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 64 else { return false }
        return id.unicodeScalars.allSatisfy { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "-" || s == "_" || s == ".")
        }
    }

    /// The first paragraph of Markdown text that is not a heading, rule or
    /// code fence, as plain text on one line.
    static func firstParagraph(of markdown: String) -> String {
        var paragraph: [String] = []
        var inFence = false
        // Line by line, stopping at the paragraph's end (the index build
        // calls this for every article: splitting whole bodies cost a third
        // of it).
        var rest = Substring(markdown)
        while !rest.isEmpty {
            let end = rest.firstIndex(of: "\n") ?? rest.endIndex
            let raw = rest[..<end]
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            let line = trimmingSpaces(raw)
            if line.hasPrefix("```") || line.hasPrefix("~~~") { inFence.toggle(); continue }
            if inFence { continue }
            if line.isEmpty {
                if !paragraph.isEmpty { break }
                continue
            }
            if paragraph.isEmpty, line.hasPrefix("#") || line.allSatisfy({ $0 == "-" || $0 == "*" || $0 == "_" }) {
                continue
            }
            paragraph.append(String(line))
        }
        return plainText(paragraph.joined(separator: " "))
    }

    /// `line` without leading and trailing spaces and tabs (the scalars of
    /// Foundation's `CharacterSet.whitespaces`: tab and Unicode's space
    /// separators), without Foundation's bridging (the index build trims
    /// every line of every article's first paragraph).
    static func trimmingSpaces(_ line: Substring) -> Substring {
        func isSpace(_ s: Unicode.Scalar) -> Bool {
            s == " " || s == "\t" || (!s.isASCII && s.properties.generalCategory == .spaceSeparator)
        }
        let scalars = line.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return Substring(scalars[first...last])
    }

    /// Removes inline Markdown: `*` emphasis, code backticks, and link
    /// targets (`[text](url)` → `text`).
    static func plainText(_ markdown: String) -> String {
        // Most paragraphs have no markup and single spaces: nothing to do.
        let utf8 = markdown.utf8
        if !utf8.contains(where: { $0 == 0x5B || $0 == 0x2A || $0 == 0x60 }),  // [ * `
           utf8.first != 0x20, utf8.last != 0x20,
           !zip(utf8, utf8.dropFirst()).contains(where: { $0 == 0x20 && $1 == 0x20 }) {
            return markdown
        }
        var out = ""
        var chars = Substring(markdown)
        while let c = chars.first {
            if c == "[", let close = chars.firstIndex(of: "]"),
               chars.index(after: close) < chars.endIndex, chars[chars.index(after: close)] == "(",
               let paren = chars[close...].firstIndex(of: ")") {
                out += chars[chars.index(after: chars.startIndex)..<close]
                chars = chars[chars.index(after: paren)...]
                continue
            }
            if c == "*" || c == "`" {
                chars = chars.dropFirst()
                continue
            }
            out.append(c)
            chars = chars.dropFirst()
        }
        return out.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The byte offset and 1-based line of the first invalid UTF-8 sequence, or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, line: Int)? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 0x0A { line += 1 }
                offset += encoded.count
            case .emptyInput:
                return nil
            case .error:
                return (offset, line)
            }
        }
    }
}
