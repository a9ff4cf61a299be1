import Foundation

/// One knowledge-base article, as loaded from its Markdown file.
///
/// The file format is described in ``ArticleParser``.
public struct Article: Sendable, Hashable, Identifiable {
    /// The language an article is written in; it selects the stemmer.
    public enum Language: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
        case de, en
        public var description: String { rawValue }
    }

    /// The article's identifier as written in its header, e.g. `KB-1001`.
    /// ``KnowledgeBase/article(id:)`` finds it regardless of case.
    public let id: String
    /// The title, one line; what `!kb <words>` lists with the URL.
    public let title: String
    /// Where the article is published (an absolute `http`/`https` URL).
    public let url: URL
    /// Free-form tags from the header, in their written form.
    public let tags: [String]
    /// The language of the text (from the header's `language:`).
    public let language: Language
    /// One paragraph for `!kb <id>`: the header's `summary:` field, or else
    /// the body's first paragraph with Markdown markup removed.
    public let summary: String
    /// The Markdown text after the header.
    public let body: String
    /// The file the article came from, relative to the KB folder.
    public let source: String

    /// The id of the same article in the other language (header
    /// `translation:`), or nil. A translated pair teaches the search which
    /// words of one language stand for which of the other (``TranslationAlignment``).
    public let translation: String?

    /// The questions customers ask for this article, in their own words
    /// (header `questions:`, German and English alike). A message that says
    /// what one of them says is strong evidence for this article — and only
    /// for it: their words are not article text (see ``QuestionIndex``).
    public let questions: [String]

    /// An article from its parts (for tests and generated knowledge bases;
    /// files go through ``KnowledgeBase/load(from:previous:)``).
    public init(id: String, title: String, url: URL, tags: [String], language: Language,
                summary: String, body: String, source: String, translation: String? = nil,
                questions: [String] = []) {
        self.translation = translation
        self.questions = questions
        self.id = id
        self.title = title
        self.url = url
        self.tags = tags
        self.language = language
        self.summary = summary
        self.body = body
        self.source = source
    }
}

/// A problem with one file (or the folder) found while loading the KB.
///
/// A file with an error is skipped and the rest loads; on a reload, a file
/// that fails keeps its previously loaded version (``keptPreviousVersion``).
public struct KBLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers that react to the kind.
    public enum Kind: String, Sendable, Hashable {
        /// The folder, or a file in it, could not be read (errno text in the message).
        case unreadable
        /// The file is not valid UTF-8.
        case invalidUTF8
        /// The file does not start with a `---` header, or the header is not closed.
        case missingHeader
        /// A header line is not `key: value`.
        case malformedLine
        /// A header key that the format does not define (often a typo).
        case unknownField
        /// A header key given twice.
        case duplicateField
        /// A required header field is absent or empty.
        case missingField
        /// A field's value is not acceptable (bad id, URL, …).
        case invalidValue
        /// `language:` is neither `de` nor `en`.
        case unknownLanguage
        /// Another file already defines this id.
        case duplicateID
        /// No `summary:` field and no paragraph of text after the header.
        case missingSummary
        /// `translation:` names no article of the other language. Not a
        /// skip: the article loads, its pair just aligns no terms.
        case unpairedTranslation
        /// A `questions:` question has one informative word: any message
        /// with that word matches it in full. Not a skip: the article loads.
        case oneWordQuestion
    }

    /// What kind of problem this is.
    public var kind: Kind
    /// The file, relative to the KB folder (or the folder itself for a folder error).
    public var file: String
    /// 1-based line number, when the problem has one.
    public var line: Int?
    /// The header field concerned, when there is one.
    public var field: String?
    /// What was wrong, for people.
    public var message: String
    /// True when a reload kept this file's previous article in place of the bad file.
    public var keptPreviousVersion: Bool

    /// An error about `file` (relative to the KB folder).
    public init(kind: Kind, file: String, line: Int?, field: String? = nil, message: String,
                keptPreviousVersion: Bool = false) {
        self.kind = kind
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        self.keptPreviousVersion = keptPreviousVersion
    }

    /// `file:line: field 'x': message`, the form compilers use.
    /// Whether the file was skipped (or kept its previous version); false
    /// for the notes on a loaded article (``Kind/unpairedTranslation``,
    /// ``Kind/oneWordQuestion``).
    public var skipsFile: Bool { kind != .unpairedTranslation && kind != .oneWordQuestion }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let field { text += "field '\(field)': " }
        text += message
        if keptPreviousVersion { text += " (keeping the previously loaded version)" }
        return text
    }
}
