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
        /// Whether a word of this concept that no article contains counts as
        /// a topic the knowledge base lacks (it lowers every article's
        /// confidence). Set per file by `uncoveredTopics` (default true):
        /// false for a large everyday vocabulary, whose words translate and
        /// split compounds but would otherwise count most of a chat sentence
        /// against every article.
        public var namesTopic: Bool

        public init(de: [String] = [], en: [String] = [], namesTopic: Bool = true) {
            self.de = de
            self.en = en
            self.namesTopic = namesTopic
        }

        enum CodingKeys: String, CodingKey { case de, en }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            de = try container.decodeIfPresent([String].self, forKey: .de) ?? []
            en = try container.decodeIfPresent([String].self, forKey: .en) ?? []
            namesTopic = true
        }
    }

    /// A symptom as customers put it in several words, and the words
    /// articles use for it: "I hear myself twice" is an echo, "can't get
    /// in" a login problem. A query containing all the words of one of the
    /// phrasings (in any order, close together) also searches the meaning's
    /// words, below the weight of the customer's own words
    /// (``Tuning/phrase``), and the phrasing's words no longer count against
    /// an article that lacks them: the article's word for the symptom covers
    /// them.
    public struct Phrase: Sendable, Hashable, Decodable {
        /// German phrasings, each of two or more words.
        public var de: [String]
        /// English phrasings, each of two or more words.
        public var en: [String]
        /// The words articles use for the symptom (German or English, single
        /// words; their vocabulary concepts translate them).
        public var means: [String]

        public init(de: [String] = [], en: [String] = [], means: [String]) {
            self.de = de
            self.en = en
            self.means = means
        }

        enum CodingKeys: String, CodingKey { case de, en, means }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            de = try container.decodeIfPresent([String].self, forKey: .de) ?? []
            en = try container.decodeIfPresent([String].self, forKey: .en) ?? []
            means = try container.decodeIfPresent([String].self, forKey: .means) ?? []
        }
    }

    /// The concepts of all files, in file order.
    public let concepts: [Concept]

    /// The phrases of all files, in file order.
    public let phrases: [Phrase]

    /// Common words of German and English (folded as the search folds
    /// text): real words of the language, which the search never "corrects"
    /// as typos into an article's word ("Urlaub" is not a misspelt
    /// "erlaubt", "zwei" not "zweit"). Read from the plain-text lists a
    /// vocabulary file names under `commonWords`.
    public let commonWords: WordSet

    /// German and English words that look like a word of the other
    /// language but mean something else ("Kaution" is a deposit, not
    /// "caution"): the search never takes them, or any word spelt like them
    /// across the languages, for cognates (see ``Cognates``). Written as
    /// in the files.
    public let falseFriends: [String]

    /// The general German–English dictionary `kb.json5` names
    /// (``BilingualDictionary``), behind the concepts: nil without one, or
    /// when it is missing.
    public var dictionary: BilingualDictionary?

    /// A vocabulary of `concepts`, with `commonWords` as written (they are folded here).
    public init(concepts: [Concept], commonWords: [String] = [], phrases: [Phrase] = [], falseFriends: [String] = []) {
        self.concepts = concepts
        self.phrases = phrases
        self.falseFriends = falseFriends
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
        /// Symptom phrasings and the words articles use for them.
        var phrases: [Phrase]?
        /// Words never matched as cognates across the languages.
        var falseFriends: [String]?
        /// Whether this file's words count as uncovered topics when no
        /// article has them (``Concept/namesTopic``); default true.
        var uncoveredTopics: Bool?
    }

    /// Reads and checks the vocabulary files, in order. Every problem of
    /// every file is reported in one error; nothing is returned then (the
    /// caller keeps its previous vocabulary). `displayName` names a file in
    /// messages (default: its path).
    public static func load(_ files: [URL], displayName: (URL) -> String = { $0.path }) throws(ConfigError)
        -> Vocabulary {
        var concepts: [Concept] = []
        var commonWords: [String] = []
        var phrases: [Phrase] = []
        var falseFriends: [String] = []
        var issues: [ConfigIssue] = []
        for url in files {
            do {
                let document = try ConfigDocument(contentsOf: url, displayName: displayName(url))
                let file = try document.decode(File.self)
                for (index, var concept) in file.concepts.enumerated() {
                    let problems = check(concept)
                    issues += problems.map { document.issue($0.message, at: ConfigPath("concepts", .index(index), $0.key)) }
                    concept.namesTopic = file.uncoveredTopics ?? true
                    if problems.isEmpty { concepts.append(concept) }
                }
                for (index, phrase) in (file.phrases ?? []).enumerated() {
                    let problems = check(phrase)
                    issues += problems.map { document.issue($0.message, at: ConfigPath("phrases", .index(index), $0.key)) }
                    if problems.isEmpty { phrases.append(phrase) }
                }
                for (index, word) in (file.falseFriends ?? []).enumerated() {
                    let tokens = TextAnalysis.tokens(word)
                    if tokens.count == 1, !tokens[0].isNumber {
                        falseFriends.append(word)
                    } else {
                        issues.append(document.issue("'\(word)' is not one word: a false friend is a single word",
                                                     at: ConfigPath("falseFriends", .index(index))))
                    }
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
        return Vocabulary(concepts: concepts, commonWords: commonWords, phrases: phrases, falseFriends: falseFriends)
    }

    /// The most words a phrasing may have: a longer one would hardly ever
    /// be found whole in a chat message.
    static let maximumPhrasingWords = 5

    /// What is wrong with one phrase, each with the key it is about.
    static func check(_ phrase: Phrase) -> [(key: ConfigPath.Component, message: String)] {
        var problems: [(key: ConfigPath.Component, message: String)] = []
        for (key, list) in [("de", phrase.de), ("en", phrase.en)] {
            for phrasing in list {
                let words = TextAnalysis.tokens(phrasing).count
                if words < 2 {
                    problems.append((.key(key), "'\(phrasing)' has \(words) word(s): a phrasing has two or more "
                        + "(a single word belongs in a concept)"))
                } else if words > maximumPhrasingWords {
                    problems.append((.key(key), "'\(phrasing)' has \(words) words: at most \(maximumPhrasingWords)"))
                }
            }
        }
        if phrase.de.isEmpty, phrase.en.isEmpty {
            problems.append((.key("de"), "a phrase needs at least one phrasing (de or en)"))
        }
        if phrase.means.isEmpty { problems.append((.key("means"), "a phrase needs at least one word it means")) }
        for word in phrase.means {
            let trimmed = word.trimmingCharacters(in: .whitespaces)
            if trimmed.contains(where: { $0.isWhitespace }) || TextAnalysis.tokens(trimmed).count != 1 {
                problems.append((.key("means"), "'\(word)' is not one word: a phrase means single words"))
            }
        }
        return problems
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
    /// The stems of the concepts that name a topic (``Vocabulary/Concept/namesTopic``).
    private let topicStems: Set<String>
    /// Folded common words of German and English (``Vocabulary/commonWords``).
    let commonWords: WordSet
    /// The concepts' words as written (folded), for splitting a query's
    /// compound into words of the vocabulary (``isVocabularyWord(_:)``).
    private let surfaceWords: WordSet

    /// One phrasing of a ``Vocabulary/Phrase``, stemmed: per word, the
    /// stems a query token may share with it to match it.
    struct Phrasing: Sendable {
        /// The anchor word first, then the others in their order.
        var words: [[String]]
        /// Index into ``meanings``.
        var meaning: Int
        /// Whether every word is a stop word ("komme nicht rein", "can't
        /// get in"): anchored on its first word and found only in its
        /// order, since such words occur in any message.
        var ofStopWords = false
    }

    /// Every phrasing of every phrase.
    let phrasings: [Phrasing]
    /// Per phrase: the stems of the words it means (stemmed both ways).
    let meanings: [[String]]
    /// A stem of a phrasing's anchor (its first word that is not a stop
    /// word, ``Phrasing/words``' first) → the phrasings (indices).
    private let phrasingsByStem: [String: [Int32]]
    /// The first word (folded) of a phrasing of stop words only → the
    /// phrasings (indices); see ``Phrasing/ofStopWords``.
    private let stopPhrasingsByWord: [String: [Int32]]

    /// The cognate keys (``Cognates/keys(_:language:)``, read as either
    /// language) of the vocabulary's false friends: never matched.
    let falseFriendKeys: Set<String>

    /// The general dictionary behind the concepts (``Vocabulary/dictionary``);
    /// each index keeps the part of it that leads to its articles' words
    /// (``DictionaryTranslations``).
    let dictionary: BilingualDictionary?

    static let empty = Lexicon(concepts: [])

    /// `concepts`: each a list of (word, language) to stem; `nonTopics`:
    /// the indices of those whose words do not name a topic
    /// (``Vocabulary/Concept/namesTopic``).
    init(dictionary: BilingualDictionary? = nil, concepts: [[(String, Article.Language)]], nonTopics: Set<Int> = [],
         commonWords: WordSet = [], phrases: [Vocabulary.Phrase] = [], falseFriends: [String] = []) {
        self.dictionary = dictionary
        self.commonWords = commonWords
        var falseFriendKeys = Set<String>()
        for word in falseFriends {
            for token in TextAnalysis.tokens(word) {
                for language in [Article.Language.de, .en] {
                    falseFriendKeys.formUnion(Cognates.keys(token.key, language: language))
                }
            }
        }
        self.falseFriendKeys = falseFriendKeys
        var phrasings: [Phrasing] = []
        var meanings: [[String]] = []
        var byStem: [String: [Int32]] = [:]
        var byStopWord: [String: [Int32]] = [:]
        var verbFormStems: [String: [String]] = [:]
        for phrase in phrases {
            var meaning: [String] = []
            for word in phrase.means {
                for token in TextAnalysis.tokens(word) {
                    for stem in TextAnalysis.queryStems(token) where !meaning.contains(stem) { meaning.append(stem) }
                }
            }
            guard !meaning.isEmpty else { continue }
            let index = meanings.count
            meanings.append(meaning)
            for (list, language) in [(phrase.de, Article.Language.de), (phrase.en, .en)] {
                for written in list {
                    let text = Self.spellingOutNegations(written)
                    let lowercase = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).filter { $0.count > 1 }
                        .map { $0.first?.isLowercase ?? false }
                    let tokens = TextAnalysis.tokens(text)
                    let words = tokens.enumerated().map { i, token -> [String] in
                        let indexed = TextAnalysis.indexTerm(token, language: language)
                        var stems = [indexed.term] + (indexed.alternate.map { [$0] } ?? [])
                        // "E-Mails kommen nicht an" matches "Mails kommen nicht an" too.
                        if let head = token.head { stems.append(TextAnalysis.indexTerm(head, language: language).term) }
                        if StopWords.contains(token) { return [token.key] }
                        if language == .de, tokens.count == lowercase.count, lowercase[i] {
                            let formStems = verbFormStems[token.key] ?? Self.verbForms(token.key).map(GermanStemmer.stem)
                            verbFormStems[token.key] = formStems
                            for stem in formStems where !stems.contains(stem) { stems.append(stem) }
                        }
                        return stems
                    }
                    guard words.count >= 2 else { continue }
                    // Found by its first word that is not a stop word (the
                    // rarer one); one of stop words only by its first word.
                    guard let anchor = tokens.firstIndex(where: { !StopWords.contains($0) }) else {
                        byStopWord[tokens[0].key, default: []].append(Int32(phrasings.count))
                        phrasings.append(Phrasing(words: words, meaning: index, ofStopWords: true))
                        continue
                    }
                    for stem in words[anchor] { byStem[stem, default: []].append(Int32(phrasings.count)) }
                    phrasings.append(Phrasing(words: [words[anchor]] + words.enumerated().filter { $0.offset != anchor }.map(\.element),
                                              meaning: index))
                }
            }
        }
        self.phrasings = phrasings
        self.meanings = meanings
        phrasingsByStem = byStem
        stopPhrasingsByWord = byStopWord
        var conceptsOfStem: [String: [Int32]] = [:]
        var stemsOfConcept: [[String]] = []
        var topicStems = Set<String>()
        var surface: [String] = []
        for (conceptIndex, words) in concepts.enumerated() {
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
            if !nonTopics.contains(conceptIndex) { topicStems.formUnion(stems) }
            let index = Int32(stemsOfConcept.count)
            for stem in stems { conceptsOfStem[stem, default: []].append(index) }
            stemsOfConcept.append(stems)
        }
        self.conceptsOfStem = conceptsOfStem
        self.stemsOfConcept = stemsOfConcept
        self.topicStems = topicStems
        surfaceWords = WordSet(surface)
    }

    /// Whether `key` (folded) is written as one of the concepts' words.
    func isVocabularyWord(_ key: String) -> Bool { surfaceWords.contains(key) }

    init(vocabulary: Vocabulary, aligned: [[(String, Article.Language)]] = []) {
        self.init(dictionary: vocabulary.dictionary, concepts: vocabulary.concepts.map { concept in
            concept.de.map { ($0, Article.Language.de) } + concept.en.map { ($0, Article.Language.en) }
        } + aligned, nonTopics: Set(vocabulary.concepts.indices.filter { !vocabulary.concepts[$0].namesTopic }),
                  commonWords: vocabulary.commonWords, phrases: vocabulary.phrases, falseFriends: vocabulary.falseFriends)
    }

    /// `text` with English negations written out, for finding phrasings:
    /// "can't", "cannot" and "cant" are "can not", "won't" and "wont" "will
    /// not", "doesn't" and "doesnt" "does not". The search drops a token of
    /// one letter, so "can't get in" would otherwise be "can get in" (as in
    /// "how can I get in touch"), and a customer who types "cant" or
    /// "cannot" would miss a phrasing written "can't".
    static func spellingOutNegations(_ text: String) -> String {
        let bytes = Array(text.utf8)
        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || (b >= 0x80 && b != 0xE2) }
        var written: [(range: Range<Int>, words: String)] = []
        var i = 0
        while i < bytes.count {
            guard isLetter(bytes[i]) else { i += 1; continue }
            var j = i
            while j < bytes.count {
                if isLetter(bytes[j]) { j += 1; continue }
                // An apostrophe (' or U+2019) between letters is part of the word.
                if bytes[j] == 0x27, j + 1 < bytes.count, isLetter(bytes[j + 1]) { j += 1; continue }
                if bytes[j] == 0xE2, j + 3 < bytes.count, bytes[j + 1] == 0x80, bytes[j + 2] == 0x99, isLetter(bytes[j + 3]) {
                    j += 3
                    continue
                }
                break
            }
            if j - i >= 4, j - i <= 12, bytes[j - 1] | 0x20 == 0x74, let words = negationWrittenOut(bytes[i..<j]) {
                written.append((i..<j, words))
            }
            i = j
        }
        guard !written.isEmpty else { return text }
        var out: [UInt8] = []
        var last = 0
        for (range, words) in written {
            out += bytes[last..<range.lowerBound]
            out += words.utf8
            last = range.upperBound
        }
        out += bytes[last...]
        return String(decoding: out, as: UTF8.self)
    }

    /// "can not" for "can't", "cant" or "cannot", "does not" for "doesn't"
    /// or "doesnt", …; nil for any other word (`word`: UTF-8, ends in "t").
    private static func negationWrittenOut(_ word: ArraySlice<UInt8>) -> String? {
        let lower = String(decoding: word, as: UTF8.self).lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        if let whole = negations[lower] { return whole }
        if lower.hasSuffix("n't") { return String(lower.dropLast(3)) + " not" }
        if negatedWithoutApostrophe.contains(lower) { return String(lower.dropLast(2)) + " not" }
        return nil
    }

    private static let negations: [String: String] = [
        "can't": "can not", "cant": "can not", "cannot": "can not", "won't": "will not", "wont": "will not",
        "shan't": "shall not", "ain't": "is not",
    ]

    /// "dont", "doesnt", …: negations typed without the apostrophe.
    private static let negatedWithoutApostrophe: Set<String> = [
        "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "couldnt", "wouldnt", "shouldnt",
        "havent", "hasnt", "hadnt", "mustnt", "neednt",
    ]

    /// The present and past forms of a German verb written in lower case
    /// in a phrasing ("hören", "höre", "hört" → "höre", "hörst", "hört",
    /// "hörte", …), so that a phrasing matches the customer's form of it:
    /// Snowball leaves "hört" apart from "hören", and the query side would
    /// have to guess verb forms for every word of every message.
    static func verbForms(_ key: String) -> [String] {
        guard key.utf8.count >= 4 else { return [] }
        var base = key
        for ending in ["en", "st", "e", "t", "n"] where base.utf8.count > ending.utf8.count + 2 && base.hasSuffix(ending) {
            base = String(base.dropLast(ending.count))
            break
        }
        return ["", "e", "en", "n", "st", "est", "t", "et", "te", "ten", "tet"].map { base + $0 }
    }

    /// The phrases whose phrasing the query's tokens contain: every word of
    /// the phrasing, in any order, within ``Tuning/phraseSpan`` tokens of
    /// its anchor word; a phrasing of stop words only in its own order
    /// after its first word. `stems`: per query token (stop words
    /// included, as written), the stems it may have; `stopWord`: per
    /// token, whether it is a stop word (the anchor only of a phrasing of
    /// stop words). Each phrase once, with the positions of the tokens
    /// that matched any of its phrasings.
    func phrases(in stems: [[String]], stopWord: [Bool]) -> [(meaning: Int, positions: [Int])] {
        guard !phrasings.isEmpty else { return [] }
        var found: [(meaning: Int, positions: [Int])] = []
        for (i, first) in stems.enumerated() {
            for stem in first {
                for p in (stopWord[i] ? stopPhrasingsByWord[stem] : phrasingsByStem[stem]) ?? [] {
                    let phrasing = phrasings[Int(p)]
                    let high = Swift.min(stems.count - 1, i + Tuning.phraseSpan)
                    let low = phrasing.ofStopWords ? i + 1 : Swift.max(0, i - Tuning.phraseSpan)
                    var positions = [i]
                    for word in phrasing.words.dropFirst() {
                        let from = phrasing.ofStopWords ? positions[positions.count - 1] + 1 : low
                        guard from <= high, let j = (from...high).first(where: { j in
                            !positions.contains(j) && stems[j].contains(where: word.contains)
                        }) else { positions = []; break }
                        positions.append(j)
                    }
                    guard !positions.isEmpty else { continue }
                    if let k = found.firstIndex(where: { $0.meaning == phrasing.meaning }) {
                        for j in positions where !found[k].positions.contains(j) { found[k].positions.append(j) }
                    } else {
                        found.append((phrasing.meaning, positions))
                    }
                }
            }
        }
        return found
    }

    /// Whether `key` (a folded word) is a common word of German or English:
    /// a real word, not a typo.
    func isCommonWord(_ key: String) -> Bool { commonWords.contains(key) }

    /// Whether `stem` belongs to some concept.
    func contains(_ stem: String) -> Bool { conceptsOfStem[stem] != nil }

    /// Whether `stem` belongs to a concept that names a topic
    /// (``Vocabulary/Concept/namesTopic``): found in no article, it is a
    /// topic the knowledge base does not cover.
    func namesTopic(_ stem: String) -> Bool { topicStems.contains(stem) }

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
