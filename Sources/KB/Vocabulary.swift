import Config
import Foundation

/// The search vocabulary: concepts whose words expand each other, so that an
/// English query finds German articles on the same topic and the other way
/// round, and synonyms meet ("Kennwort" and "Passwort", "licence" and
/// "license"). Data, not code: read from the JSON5 files that `kb.json5`
/// names in `settings.vocabulary` (a general IT-support vocabulary and the
/// operator's own terms), reloaded with the articles.
///
/// File format (strict JSON5 like the other bot files; errors name
/// file:line:column):
///
/// ```json5
/// { concepts: [ { de: ["Rechnung", "Abrechnung"], en: ["invoice", "bill"] }, … ] }
/// ```
///
/// Each concept lists German and/or English single words, in any inflected
/// form (each is stemmed with its language's stemmer). A query word that
/// belongs to a concept also searches every other word of the concept
/// (synonyms in one language, translations across), weighted
/// ``Tuning/lexicon`` below the word itself. A concept needs at least two
/// words; stop words are ignored. See `bots/vocabulary/README.md`.
public struct Vocabulary: Sendable, Hashable {
    /// One concept: words that mean the same thing in this domain.
    public struct Concept: Sendable, Hashable, Decodable {
        /// German words.
        public var de: [String]
        /// English words.
        public var en: [String]

        public init(de: [String] = [], en: [String] = []) {
            self.de = de
            self.en = en
        }

        enum CodingKeys: String, CodingKey { case de, en }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            de = try container.decodeIfPresent([String].self, forKey: .de) ?? []
            en = try container.decodeIfPresent([String].self, forKey: .en) ?? []
        }
    }

    /// The concepts of all files, in file order.
    public let concepts: [Concept]

    /// Common words of German and English (folded as the search folds
    /// text): real words of the language, which the search never "corrects"
    /// as typos into an article's word ("Urlaub" is not a misspelt
    /// "erlaubt", "zwei" not "zweit"). Read from the plain-text lists a
    /// vocabulary file names under `commonWords`.
    public let commonWords: WordSet

    /// A vocabulary of `concepts`, with `commonWords` as written (they are folded here).
    public init(concepts: [Concept], commonWords: [String] = []) {
        self.concepts = concepts
        var folded: [String] = []
        for word in commonWords {
            for token in TextAnalysis.tokens(word) where !token.isNumber { folded.append(token.key) }
        }
        self.commonWords = WordSet(folded)
    }

    /// No concepts: words only find themselves.
    public static let empty = Vocabulary(concepts: [])

    private struct File: Decodable {
        var concepts: [Concept]
        /// Plain-text word lists (paths relative to this file): one word a
        /// line, `#` starts a comment line.
        var commonWords: [String]?
    }

    /// Reads and checks the vocabulary files, in order. Every problem of
    /// every file is reported in one error; nothing is returned then (the
    /// caller keeps its previous vocabulary). `displayName` names a file in
    /// messages (default: its path).
    public static func load(_ files: [URL], displayName: (URL) -> String = { $0.path }) throws(ConfigError)
        -> Vocabulary {
        var concepts: [Concept] = []
        var commonWords: [String] = []
        var issues: [ConfigIssue] = []
        for url in files {
            do {
                let document = try ConfigDocument(contentsOf: url, displayName: displayName(url))
                let file = try document.decode(File.self)
                for (index, concept) in file.concepts.enumerated() {
                    let problems = check(concept)
                    issues += problems.map { document.issue($0.message, at: ConfigPath("concepts", .index(index), $0.key)) }
                    if problems.isEmpty { concepts.append(concept) }
                }
                for (index, path) in (file.commonWords ?? []).enumerated() {
                    let list = path.hasPrefix("/") ? URL(fileURLWithPath: path)
                        : url.deletingLastPathComponent().appendingPathComponent(path)
                    do {
                        commonWords += try wordList(list)
                    } catch {
                        issues.append(document.issue("cannot read the word list '\(path)': \((error as? KnowledgeBase.ReadError)?.message ?? "\(error)")",
                                                     at: ConfigPath("commonWords", .index(index))))
                    }
                }
            } catch {
                issues += error.issues
            }
        }
        guard issues.isEmpty else { throw ConfigError(issues) }
        return Vocabulary(concepts: concepts, commonWords: commonWords)
    }

    /// The words of a plain-text list: one a line, blank lines and lines
    /// starting with `#` skipped.
    static func wordList(_ url: URL) throws -> [String] {
        let data = try KnowledgeBase.readFile(url.path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw KnowledgeBase.ReadError(message: "not valid UTF-8")
        }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let word = line.trimmingCharacters(in: .whitespaces)
            return word.isEmpty || word.hasPrefix("#") ? nil : word
        }
    }

    /// What is wrong with one concept, each with the key (`de`/`en`) it is about.
    static func check(_ concept: Concept) -> [(key: ConfigPath.Component, message: String)] {
        var problems: [(key: ConfigPath.Component, message: String)] = []
        var words = 0
        for (key, list) in [("de", concept.de), ("en", concept.en)] {
            for word in list {
                let trimmed = word.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty {
                    problems.append((.key(key), "an empty word"))
                } else if trimmed.contains(where: { $0.isWhitespace }) {
                    problems.append((.key(key), "'\(word)' is more than one word: a concept lists single words"))
                } else if TextAnalysis.tokens(trimmed).isEmpty {
                    problems.append((.key(key), "'\(word)' has no letters or digits"))
                } else {
                    words += 1
                }
            }
        }
        if problems.isEmpty, words < 2 {
            problems.append((.key(concept.de.isEmpty ? "en" : "de"),
                             "a concept needs at least two words (synonyms or a translation); this one has \(words)"))
        }
        return problems
    }
}

/// The vocabulary stemmed for search: stem → the other stems of its concepts.
///
/// Built from a ``Vocabulary`` plus the terms aligned from translated
/// article pairs (``TranslationAlignment``).
struct Lexicon: Sendable {
    /// Stem → indices of the concepts it belongs to.
    private let conceptsOfStem: [String: [Int32]]
    /// Concept → its stems (German and English), distinct.
    private let stemsOfConcept: [[String]]
    /// Folded common words of German and English (``Vocabulary/commonWords``).
    let commonWords: WordSet
    /// The concepts' words as written (folded), for splitting a query's
    /// compound into words of the vocabulary (``isVocabularyWord(_:)``).
    private let surfaceWords: WordSet

    static let empty = Lexicon(concepts: [])

    /// `concepts`: each a list of (word, language) to stem.
    init(concepts: [[(String, Article.Language)]], commonWords: WordSet = []) {
        self.commonWords = commonWords
        var conceptsOfStem: [String: [Int32]] = [:]
        var stemsOfConcept: [[String]] = []
        var surface: [String] = []
        for words in concepts {
            for (word, _) in words { surface += TextAnalysis.tokens(word).map(\.key) }
            var stems: [String] = []
            for (word, language) in words {
                for token in TextAnalysis.indexTerms(word, language: language) {
                    for term in [token.term] + (token.alternate.map { [$0] } ?? []) where !stems.contains(term) {
                        stems.append(term)
                    }
                }
            }
            guard stems.count >= 2 else { continue }
            let index = Int32(stemsOfConcept.count)
            for stem in stems { conceptsOfStem[stem, default: []].append(index) }
            stemsOfConcept.append(stems)
        }
        self.conceptsOfStem = conceptsOfStem
        self.stemsOfConcept = stemsOfConcept
        surfaceWords = WordSet(surface)
    }

    /// Whether `key` (folded) is written as one of the concepts' words.
    func isVocabularyWord(_ key: String) -> Bool { surfaceWords.contains(key) }

    init(vocabulary: Vocabulary, aligned: [[(String, Article.Language)]] = []) {
        self.init(concepts: vocabulary.concepts.map { concept in
            concept.de.map { ($0, Article.Language.de) } + concept.en.map { ($0, Article.Language.en) }
        } + aligned, commonWords: vocabulary.commonWords)
    }

    /// Whether `key` (a folded word) is a common word of German or English:
    /// a real word, not a typo.
    func isCommonWord(_ key: String) -> Bool { commonWords.contains(key) }

    /// Whether `stem` belongs to some concept.
    func contains(_ stem: String) -> Bool { conceptsOfStem[stem] != nil }

    /// The number of concepts.
    var count: Int { stemsOfConcept.count }

    /// The other stems of every concept `stem` belongs to (never `stem` itself).
    func related(to stem: String) -> [String] {
        guard let concepts = conceptsOfStem[stem] else { return [] }
        var out: [String] = []
        for concept in concepts {
            for other in stemsOfConcept[Int(concept)] where other != stem && !out.contains(other) {
                out.append(other)
            }
        }
        return out
    }
}
