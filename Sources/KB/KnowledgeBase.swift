import Foundation

/// A search hit: the article, its relevance score, and how confident the
/// knowledge base is that the article is about the query.
public struct KBHit: Sendable, Hashable {
    /// The article found.
    public let article: Article
    /// BM25 relevance over weighted fields; comparable only between hits of one query.
    public let score: Double
    /// 0…1: how sure the knowledge base is that the article is about the
    /// query. The product of two measures: how much of the query the article
    /// covers (the idf-weighted share of the query's informative words it
    /// contains; a typo counts less, a translation too unless the article
    /// has no version in the other language; a word the knowledge base does
    /// not know not at all), and how much evidence points at this
    /// article (the informative words found in its title or tags, or
    /// standing together in one paragraph or step of its body, against a
    /// fixed amount: one common word such as "System" or "NordBox" is not
    /// enough). Compare it with ``KnowledgeBase/defaultSuggestionThreshold``;
    /// the scale is calibrated on a labelled set of customer messages
    /// (`Tests/KBTests/Evaluation`).
    public let confidence: Double

    /// A hit (the knowledge base makes these; public for tests of callers).
    public init(article: Article, score: Double, confidence: Double) {
        self.article = article
        self.score = score
        self.confidence = confidence
    }
}

/// The knowledge base: an immutable set of articles with their search index.
///
/// A value: build one with ``load(from:previous:)`` (or ``init(articles:)``)
/// and share it freely across tasks; a reload builds a new value (see
/// ``ReloadableKnowledgeBase`` for the swap).
///
/// Search handles German and English text alike: case, umlauts and ß
/// ("Größe" = "groesse" = "GROSSE"), simple word endings, German compounds
/// ("Dateiwiederherstellung" finds "Datei wiederherstellen"), one typo per
/// word, and the other language's words for the same concept (a bilingual
/// vocabulary, ``Vocabulary``, plus terms aligned from translated article
/// pairs, ``TranslationAlignment``). Ranking is BM25 over title, tags and body
/// with field weights; see ``SearchIndex``.
///
/// Its only stored property is a reference (``Storage``), so its size and
/// layout, which the modules using it compile in, stay the same whatever
/// the index holds. SwiftPM's incremental build does not recompile a
/// module that never names the changed type (the gateway's tests see it
/// only inside `LoadedConfiguration`): when `SearchIndex` gained a field,
/// the stale objects wrote a larger value into a smaller slot and crashed
/// (signal 11 while loading the KB) until a clean build.
public struct KnowledgeBase: Sendable {
    /// Everything the knowledge base holds, behind one reference (see above).
    private final class Storage: Sendable {
        let articles: [Article]
        let positionOfID: [String: Int]
        let index: SearchIndex
        let questions: QuestionIndex
        let vocabulary: Vocabulary
        /// The word pairs learnt from translated articles, which joined the
        /// vocabulary in the index's lexicon.
        let aligned: [[(String, Article.Language)]]

        init(articles: [Article], positionOfID: [String: Int], index: SearchIndex, questions: QuestionIndex,
             vocabulary: Vocabulary, aligned: [[(String, Article.Language)]]) {
            self.articles = articles
            self.positionOfID = positionOfID
            self.index = index
            self.questions = questions
            self.vocabulary = vocabulary
            self.aligned = aligned
        }
    }

    private let storage: Storage

    /// The articles, in the order of their files' paths.
    public var articles: [Article] { storage.articles }
    private var positionOfID: [String: Int] { storage.positionOfID }
    var index: SearchIndex { storage.index }
    /// The questions customers ask for the articles (``Article/questions``).
    var questions: QuestionIndex { storage.questions }
    /// The vocabulary the index expands query words with.
    public var vocabulary: Vocabulary { storage.vocabulary }

    /// Why the vocabulary's general dictionary (``Vocabulary/dictionary``)
    /// could not be read for this index, or nil.
    public var dictionaryProblem: String? { index.dictionary.problem }

    /// What the general dictionary adds to this knowledge base, for the
    /// start-up and reload log; nil without one.
    public var dictionarySummary: String? {
        guard let dictionary = vocabulary.dictionary, index.dictionary.problem == nil else { return nil }
        let t = index.dictionary
        return "\(dictionary.path): \(t.count) words translate into the articles' words; \(t.counts.lines) lines read"
            + (t.counts.malformed == 0 ? "" : ", \(t.counts.malformed) malformed lines skipped")
    }

    /// The default confidence threshold for ``suggestions(for:limit:threshold:)``.
    public static let defaultSuggestionThreshold: Double = Tuning.suggestionThreshold

    /// Builds the index over `articles`, expanding query words with
    /// `vocabulary` and with the terms of translated pairs. Ids must be
    /// unique (case-insensitive); an article whose id is already taken is
    /// left out. ``load(from:vocabulary:previous:)`` reports such duplicates
    /// as errors instead.
    public init(articles: [Article], vocabulary: Vocabulary = .empty) {
        self.init(articles: articles, vocabulary: vocabulary, previous: nil)
    }

    /// ``init(articles:vocabulary:)``, keeping what `previous` (the
    /// knowledge base a reload replaces) built that cannot differ (see
    /// ``SearchIndex/init(articles:lexicon:previous:)``).
    init(articles: [Article], vocabulary: Vocabulary, previous: KnowledgeBase?) {
        var unique: [Article] = []
        var positions: [String: Int] = [:]
        for article in articles where positions[article.id.lowercased()] == nil {
            positions[article.id.lowercased()] = unique.count
            unique.append(article)
        }
        let aligned = TranslationAlignment.concepts(unique)
        let lexicon = previous.flatMap { $0.reusableLexicon(vocabulary: vocabulary, aligned: aligned) }
            ?? Lexicon(vocabulary: vocabulary, aligned: aligned)
        let index = SearchIndex(articles: unique, lexicon: lexicon, previous: previous?.index)
        let questions = unique.contains { !$0.questions.isEmpty } ? QuestionIndex(articles: unique, index: index) : .empty
        storage = Storage(articles: unique, positionOfID: positions, index: index, questions: questions,
                          vocabulary: vocabulary, aligned: aligned)
    }

    /// This knowledge base's lexicon, when one built from `vocabulary` and
    /// `aligned` would be the same: the same vocabulary (a SIGHUP reads
    /// the files again, mostly unchanged) and the same pairs learnt from
    /// translated articles. Stemming the whole vocabulary again took about
    /// half of a reload of the shipped KB.
    private func reusableLexicon(vocabulary: Vocabulary, aligned: [[(String, Article.Language)]]) -> Lexicon? {
        guard storage.aligned.count == aligned.count,
              zip(storage.aligned, aligned).allSatisfy({ $0.count == $1.count && zip($0, $1).allSatisfy { $0 == $1 } }),
              storage.vocabulary == vocabulary else { return nil }
        return index.lexicon
    }

    /// An empty knowledge base.
    public static let empty = KnowledgeBase(articles: [])

    /// The number of articles.
    public var count: Int { articles.count }

    /// The article with this id (case-insensitive: `kb-1001` finds `KB-1001`).
    public func article(id: String) -> Article? {
        positionOfID[id.trimmingCharacters(in: .whitespaces).lowercased()].map { articles[$0] }
    }

    /// The best `limit` articles for `query`, most relevant first (what
    /// `!kb <words>` shows): of the best-scoring few, the most confident
    /// first, as the conversation orders its suggestions, so that an
    /// article one word of a chat sentence names many times ("new" in its
    /// title) does not push down the one that most of the sentence points
    /// at. Hits that contain less than 30 % of the query's
    /// informative words (idf-weighted, a word only in the body counting
    /// half; a stray typo match for one word of several) are left out, so a query about something the KB does not
    /// cover finds nothing. A search is not a suggestion: `!kb Firewall`
    /// lists articles even though one word is too little to offer them to a
    /// customer unasked.
    public func search(_ query: String, limit: Int = 3) -> [KBHit] {
        guard limit > 0 else { return [] }
        return index.evaluate(plan(query), limit: min(limit, count) + 5)
            .filter { $0.searchCoverage >= Tuning.searchMinimumCoverage }
            .prefix(limit).map(hit)
    }

    /// Articles to offer a customer for a problem description, for step 4
    /// of the conversation: at most `limit` hits whose ``KBHit/confidence``
    /// is at least `threshold`, whose score — except for the most
    /// confident — is at least half the best such hit's (a hit below the
    /// threshold never hides one above it, and a high score never hides the
    /// most confident article),
    /// and whose confidence is at least 80 % of the first one's (a near miss
    /// is not a second answer). They come in rank order, and rank agrees
    /// with confidence (see ``SearchIndex/evaluate(_:limit:)``): the first
    /// offered is the best-ranked article above the threshold. Offering an
    /// unrelated article to a customer with an urgent problem is worse than
    /// offering none, so an empty result is the normal answer to a problem
    /// the KB does not cover.
    public func suggestions(for problem: String, limit: Int = 3,
                            threshold: Double = KnowledgeBase.defaultSuggestionThreshold) -> [KBHit] {
        guard limit > 0 else { return [] }
        let ranked = index.evaluate(plan(problem), limit: max(min(limit, count) * 3, 10),
                                    language: Self.language(of: problem))
        // Half the best score among the confident ones: an article that
        // scores high without being confident (a word of the query many
        // times in its title, nothing else) does not hide a confident one.
        let confident = ranked.filter { Double($0.confidence) >= threshold }
        guard let bestScore = confident.map(\.score).max() else { return [] }
        let floor = bestScore * Tuning.suggestionRelativeScore
        // The most confident article is always offered; the others only
        // when they also score at least half the best.
        let offered = confident.enumerated().filter { $0.offset == 0 || $0.element.score >= floor }.map(\.element)
        guard let first = offered.first else { return [] }
        let confidenceFloor = Double(first.confidence) * Tuning.suggestionRelativeConfidence
        // An article and its translation are one answer: the first of the
        // two (the customer's language, when it tells) takes one place of
        // `limit`, and the other leaves its place to the next article.
        var chosen: [RankedDocument] = []
        for candidate in offered where Double(candidate.confidence) >= confidenceFloor {
            let twin = Int(index.documentTwin[candidate.document])
            if twin >= 0, chosen.contains(where: { $0.document == twin }) { continue }
            chosen.append(candidate)
            if chosen.count == limit { break }
        }
        return chosen.map(hit)
    }

    /// How the search understood `query`, for an operator wondering why an
    /// article was or was not offered (`switchboard kb explain`, `KBBench
    /// --explain`): the normalised query (folded words; stop words in
    /// brackets), each word's stems and what it was resolved to (the terms
    /// searched, with their weights: the word itself, vocabulary relatives,
    /// typo corrections, compound parts), then the best candidates (at most
    /// eight) with their score, the score each query word contributed, the
    /// two factors of the confidence, the query words it lacks with what
    /// each costs its coverage (a cross-language article often lacks the
    /// customer's verbs: "Dienstplan erstellen" against "planning shifts"),
    /// and whether the conversation would offer it at `threshold`. The
    /// format is for people, not for parsing.
    public func explain(_ query: String, threshold: Double = KnowledgeBase.defaultSuggestionThreshold) -> [String] {
        let tokens = TextAnalysis.tokens(query)
        var lines: [String] = []
        lines.append("query: " + tokens.map { StopWords.contains($0) ? "[\($0.key)]" : $0.key }.joined(separator: " "))
        let plan = plan(query)
        lines.append("words:")
        var described = Set<String>()
        for clause in plan {
            let terms = clause.alternatives.map { alternative -> String in
                let weight = alternative.weight > 0 ? alternative.weight.formatted2 : "cover \(alternative.match.formatted2)"
                return "\(index.terms[Int(alternative.term)])×\(weight)"
            }
            var stems = ""
            if described.insert(clause.word).inserted, let token = tokens.first(where: { $0.key == clause.word }) {
                stems = " stems " + TextAnalysis.queryStems(token).joined(separator: "/") + ";"
            }
            var missing = clause.missingShare < 1 && clause.informativeness > 0
                ? " (\((clause.informativeness * clause.missingShare).formatted2) if missing)" : ""
            if !clause.literalWords.isEmpty {
                missing += " (not against an article with "
                    + clause.literalWords.map { plan[$0].word }.joined(separator: ", ") + " in its title or tags)"
            }
            lines.append("  \(clause.word):\(stems) \(clause.resolution), counts \(clause.informativeness.formatted2)\(missing): "
                + (!terms.isEmpty ? terms.joined(separator: " ")
                    : clause.resolution == .uncoveredTopic
                    ? "(nothing: a vocabulary topic no article has; counts as missing for every article)"
                    : clause.resolution == .questionWord
                    ? "(a word of customers' questions only: counts for their article, against the others)"
                    : clause.informativeness > 0 ? "(nothing: a part of the word no article has; counts as missing for every article)"
                    : "(nothing: not in the KB, neither helps nor hurts)"))
        }
        var questionLines: [Int32: (fraction: Float, question: Int32, words: [String])] = [:]
        for clause in plan {
            for hit in clause.questionHits where hit.evidence > 0 || hit.score > 0 {
                var entry = questionLines[hit.document] ?? (hit.fraction, hit.question, [])
                if !entry.words.contains(clause.word) { entry.words.append(clause.word) }
                questionLines[hit.document] = entry
            }
        }
        if !questionLines.isEmpty {
            lines.append("customers' questions matched (as title words, for their article only):")
            for (document, entry) in questionLines.sorted(by: { $0.value.fraction > $1.value.fraction
                || ($0.value.fraction == $1.value.fraction && $0.key < $1.key) }) {
                lines.append("  \(articles[Int(document)].id) \"\(questions.questions[Int(entry.question)].text)\": "
                    + "\(Int((entry.fraction * 100).rounded())) % of its words, by "
                    + entry.words.joined(separator: " "))
            }
        }
        let ranked = index.evaluate(plan, limit: min(8, count), language: Self.language(of: query))
        let offered = Set(suggestions(for: query, limit: 3, threshold: threshold).map(\.article.id))
        lines.append("threshold \(threshold.formatted2); query language: "
            + (Self.language(of: query).map(\.rawValue) ?? "not clear")
            + "; candidates, best first (by confidence, then the query's language, then score):")
        if ranked.isEmpty { lines.append("  none") }
        for (rank, candidate) in ranked.enumerated() {
            let article = articles[candidate.document]
            let parts = index.scoreParts(plan, document: candidate.document)
                .map { "\($0.word) \($0.score.formatted2)\($0.inHeadline ? "*" : "")" }
            lines.append("  \(rank + 1). \(article.id) \(article.title)")
            lines.append("     score \(candidate.score.formatted2) = " + (parts.isEmpty ? "-" : parts.joined(separator: " + "))
                + "  (* title/tags)")
            let together = candidate.togetherBlock == 0 ? ""
                : " (words together in one paragraph or step: "
                + index.words(plan, document: candidate.document, block: candidate.togetherBlock).joined(separator: ", ") + ")"
            lines.append("     coverage \(candidate.coverage.formatted2) × evidence \(candidate.evidence.formatted2)\(together)"
                + " → confidence \(candidate.confidence.formatted2)"
                + (offered.contains(article.id) ? "  OFFERED" : Double(candidate.confidence) >= threshold
                    ? "  not offered (a higher-ranked article is offered, or its score is under half the best)"
                    : "  not offered (below the threshold)"))
            let missing = index.missingWords(plan, document: candidate.document)
            if !missing.isEmpty {
                lines.append("     lacks (what each costs its coverage): "
                    + missing.map { "\($0.word) \($0.weight.formatted2)" }.joined(separator: ", "))
            }
        }
        return lines
    }

    /// `query`'s words resolved against the index (``SearchIndex/plan(_:)``),
    /// with the articles whose customers' questions they match
    /// (``QuestionIndex/match(_:clauses:index:)``).
    func plan(_ query: String) -> [QueryClause] {
        var clauses = index.plan(query)
        questions.match(query, clauses: &clauses, index: index)
        return clauses
    }

    /// The query's language as its function words suggest, or nil.
    static func language(of query: String) -> Article.Language? {
        StopWords.language(of: TextAnalysis.tokens(query))
    }

    private func hit(_ ranked: RankedDocument) -> KBHit {
        KBHit(article: articles[ranked.document], score: Double(ranked.score), confidence: Double(ranked.confidence))
    }

    // MARK: Loading

    /// Loads every article file under `folder` (recursively; `*.md`, except
    /// `README.md` and names starting with `.` or `_`) in path order.
    ///
    /// A bad file is skipped with an error naming the file and line, and the
    /// rest loads; of two files with the same id, the first in path order
    /// wins. With `previous` (a reload), a file that now fails keeps the
    /// article it had in `previous`, and its error says so; and when the
    /// articles' terms and the dictionary file are unchanged, the general
    /// dictionary's translations are kept rather than read again.
    ///
    /// `vocabulary` expands query words (``Vocabulary``); an article whose
    /// `translation:` names no article of the other language is loaded and
    /// reported (its pair aligns no terms).
    public static func load(from folder: URL, vocabulary: Vocabulary = .empty,
                            previous: KnowledgeBase? = nil) -> (KnowledgeBase, [KBLoadError]) {
        let files: [String]
        var errors: [KBLoadError]
        do {
            (files, errors) = try articleFiles(in: folder)
        } catch {
            return (previous ?? .empty, [error])
        }
        var previousBySource: [String: Article] = [:]
        for article in previous?.articles ?? [] { previousBySource[article.source] = article }

        var articles: [Article] = []
        var idOwner: [String: (file: String, line: Int)] = [:]
        for file in files {
            var parsed: ArticleParser.Parsed?
            var fileErrors: [KBLoadError] = []
            do {
                let data = try readFile(folder.appendingPathComponent(file).path)
                (parsed, fileErrors) = ArticleParser.parse(data, file: file)
            } catch {
                fileErrors = [KBLoadError(kind: .unreadable, file: file, line: nil, message: error.message)]
            }
            if let candidate = parsed {
                let key = candidate.article.id.lowercased()
                if let owner = idOwner[key] {
                    fileErrors.append(KBLoadError(
                        kind: .duplicateID, file: file, line: candidate.idLine, field: "id",
                        message: "id '\(candidate.article.id)' is already used by \(owner.file):\(owner.line)"))
                    parsed = nil
                }
            }
            if let parsed {
                idOwner[parsed.article.id.lowercased()] = (file, parsed.idLine)
                articles.append(parsed.article)
                continue
            }
            if let kept = previousBySource[file], idOwner[kept.id.lowercased()] == nil {
                idOwner[kept.id.lowercased()] = (file, 0)
                articles.append(kept)
                errors += fileErrors.map { var e = $0; e.keptPreviousVersion = true; return e }
            } else {
                errors += fileErrors
            }
        }
        let base = KnowledgeBase(articles: articles, vocabulary: vocabulary, previous: previous)
        for article in base.articles {
            guard let target = article.translation else { continue }
            if let other = base.article(id: target), other.language != article.language { continue }
            let reason = base.article(id: target) == nil ? "no article has the id '\(target)'"
                : "'\(target)' is in the same language"
            errors.append(KBLoadError(kind: .unpairedTranslation, file: article.source, line: nil, field: "translation",
                                      message: "\(reason); the article is loaded, but no terms are aligned"))
        }
        for weak in base.questions.oneWordQuestions {
            errors.append(KBLoadError(
                kind: .oneWordQuestion, file: base.articles[Int(weak.document)].source, line: nil, field: "questions",
                message: "\"\(weak.question)\" has one word that counts, '\(weak.word)': every message with that word "
                    + "matches the question in full; the article is loaded (add what customers say beside the word)"))
        }
        return (base, errors)
    }

    /// Relative paths of the article files under `folder`, sorted, and an
    /// error for each subfolder that could not be listed. Throws when
    /// `folder` itself cannot be read.
    static func articleFiles(in folder: URL) throws(KBLoadError) -> ([String], [KBLoadError]) {
        let root = folder.standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw KBLoadError(kind: .unreadable, file: root, line: nil, message: "folder does not exist")
        }
        guard isDirectory.boolValue else {
            throw KBLoadError(kind: .unreadable, file: root, line: nil, message: "not a folder")
        }
        if access(root, R_OK | X_OK) != 0 {
            throw KBLoadError(kind: .unreadable, file: root, line: nil,
                              message: "cannot read folder: \(String(cString: strerror(errno)))")
        }
        var files: [String] = []
        var errors: [KBLoadError] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let path = relative.isEmpty ? root : root + "/" + relative
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                let failure = KBLoadError(kind: .unreadable, file: relative.isEmpty ? root : relative, line: nil,
                                          message: "cannot list folder: \(error.localizedDescription)")
                if relative.isEmpty { throw failure }
                errors.append(failure)
                continue
            }
            for name in names where !name.hasPrefix(".") && !name.hasPrefix("_") {
                let child = relative.isEmpty ? name : relative + "/" + name
                var childIsDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root + "/" + child, isDirectory: &childIsDirectory)
                else { continue }
                if childIsDirectory.boolValue {
                    pending.append(child)
                } else if name.lowercased().hasSuffix(".md"), name.lowercased() != "readme.md" {
                    files.append(child)
                }
            }
        }
        return (files.sorted(), errors)
    }

    struct ReadError: Error {
        var message: String
    }

    /// Reads a whole file; errors carry the errno text.
    static func readFile(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError(message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { _ = close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(message: "cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }
}

extension Error {
    fileprivate var message: String {
        (self as? KnowledgeBase.ReadError)?.message ?? "\(self)"
    }
}

extension Float {
    fileprivate var formatted2: String { Double(self).formatted2 }
}

extension Double {
    fileprivate var formatted2: String { String(format: "%.2f", self) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
