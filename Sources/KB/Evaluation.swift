import Foundation

/// A labelled set of customer problem descriptions, for measuring how well
/// ``KnowledgeBase/suggestions(for:limit:threshold:)`` and
/// ``KnowledgeBase/search(_:limit:)`` serve real chat messages.
///
/// ## File format
/// UTF-8 text, one case per line, three tab-separated fields:
///
/// ```
/// KB-1001,KB-1002<TAB>de<TAB>Wie bekomme ich eine gelöschte Datei zurück?
/// -<TAB>en<TAB>my printer is out of toner
/// ```
///
/// 1. the ids of the articles that would genuinely help (comma-separated),
///    or `-` when no article answers the problem;
/// 2. the language the customer wrote in: `de`, `en` or `mix`;
/// 3. the description, as the customer wrote it.
///
/// A line may also have four fields, `ids TAB language TAB kind TAB text`,
/// where the kind says what the message tests (``KBEvaluationSet/kinds``:
/// keywords, sentence, inflection, compound, umlaut, typo, crosslang,
/// unanswerable); `KBBench --evaluate` reports per kind.
///
/// Blank lines and lines starting with `#` are ignored.
///
/// A third of the cases is *held out* (``Case/isHeldOut``), chosen by a hash
/// of the text so that it does not depend on the order of the lines or on
/// who wrote them: tune on the rest, and report the held-out numbers as the
/// estimate of how the tuning does on descriptions it was not fitted to.
public struct KBEvaluationSet: Sendable {
    /// One labelled problem description.
    public struct Case: Sendable, Hashable {
        /// 1-based line in the file.
        public let line: Int
        /// The ids of the articles that help (upper-cased); empty when none does.
        public let relevant: Set<String>
        /// `de`, `en` or `mix`.
        public let language: String
        /// The description as the customer wrote it.
        public let text: String
        /// What kind of message it is (one of ``KBEvaluationSet/kinds``), or nil in a 3-column file.
        public let kind: String?
        /// Whether the case belongs to the held-out third.
        public let isHeldOut: Bool

        /// Whether some article answers the problem.
        public var isAnswerable: Bool { !relevant.isEmpty }

        /// Whether `id` is one of the helpful articles (case-insensitive).
        public func isRelevant(_ id: String) -> Bool { relevant.contains(id.uppercased()) }
    }

    /// The cases, in file order.
    public let cases: [Case]

    /// The kinds a case may be labelled with (4-column form).
    public static let kinds: [String] = ["keywords", "sentence", "inflection", "compound", "umlaut", "typo",
                                         "crosslang", "unanswerable"]

    /// The languages a case may be labelled with.
    public static let languages: Set<String> = ["de", "en", "mix"]

    /// Parses the text of an evaluation file; `file` names it in errors.
    public init(parsing text: String, file: String) throws(KBEvaluationError) {
        var cases: [Case] = []
        var seen: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3 || fields.count == 4 else {
                throw KBEvaluationError(file: file, line: lineNumber, message: "expected 3 tab-separated fields "
                    + "(ids, language, text) or 4 (ids, language, kind, text), found \(fields.count)")
            }
            var kind: String?
            if fields.count == 4 {
                let written = fields[2].trimmingCharacters(in: .whitespaces)
                guard Self.kinds.contains(written) else {
                    throw KBEvaluationError(file: file, line: lineNumber, message: "kind '\(written)' is not one of "
                        + Self.kinds.joined(separator: ", "))
                }
                kind = written
            }
            let idField = fields[0].trimmingCharacters(in: .whitespaces)
            var relevant = Set<String>()
            if idField != "-" {
                for id in idField.split(separator: ",") {
                    let trimmed = id.trimmingCharacters(in: .whitespaces).uppercased()
                    guard ArticleParser.isValidID(trimmed) else {
                        throw KBEvaluationError(file: file, line: lineNumber,
                                                message: "'\(id)' is not an article id (or '-' for none)")
                    }
                    relevant.insert(trimmed)
                }
                if relevant.isEmpty {
                    throw KBEvaluationError(file: file, line: lineNumber, message: "no article id (write '-' for none)")
                }
            }
            let language = fields[1].trimmingCharacters(in: .whitespaces)
            guard Self.languages.contains(language) else {
                throw KBEvaluationError(file: file, line: lineNumber,
                                        message: "language '\(language)' is not one of de, en, mix")
            }
            let description = fields[fields.count - 1].trimmingCharacters(in: .whitespaces)
            guard !description.isEmpty else {
                throw KBEvaluationError(file: file, line: lineNumber, message: "the description is empty")
            }
            if let earlier = seen[description] {
                throw KBEvaluationError(file: file, line: lineNumber,
                                        message: "the same description is already on line \(earlier)")
            }
            seen[description] = lineNumber
            if kind == "unanswerable", !relevant.isEmpty {
                throw KBEvaluationError(file: file, line: lineNumber, message: "an unanswerable message has ids; write '-'")
            }
            if let kind, kind != "unanswerable", relevant.isEmpty {
                throw KBEvaluationError(file: file, line: lineNumber,
                                        message: "no article answers it ('-'), so its kind must be unanswerable, not \(kind)")
            }
            cases.append(Case(line: lineNumber, relevant: relevant, language: language, text: description,
                              kind: kind, isHeldOut: Self.isHeldOut(description)))
        }
        self.cases = cases
    }

    /// Reads and parses an evaluation file.
    public init(contentsOf url: URL) throws(KBEvaluationError) {
        let data: Data
        do {
            data = try KnowledgeBase.readFile(url.path)
        } catch {
            throw KBEvaluationError(file: url.path, line: nil,
                                    message: (error as? KnowledgeBase.ReadError)?.message ?? "\(error)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KBEvaluationError(file: url.path, line: nil, message: "not valid UTF-8")
        }
        try self.init(parsing: text, file: url.path)
    }

    /// Ids used as labels that `kb` has no article for (a typo in the set,
    /// or an article that was removed), with the line of their first use.
    public func unknownIDs(in kb: KnowledgeBase) -> [(id: String, line: Int)] {
        var out: [(id: String, line: Int)] = []
        var reported = Set<String>()
        for item in cases {
            for id in item.relevant.sorted() where kb.article(id: id) == nil && reported.insert(id).inserted {
                out.append((id, item.line))
            }
        }
        return out
    }

    /// The held-out third: FNV-1a of the text's UTF-8, modulo 3, is 0.
    public static func isHeldOut(_ text: String) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash % 3 == 0
    }
}

/// A problem in an evaluation file: where and what.
public struct KBEvaluationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// 1-based line, when the problem has one.
    public var line: Int?
    /// What was wrong.
    public var message: String

    /// An error about `file`, at `line`.
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`.
    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// What the knowledge base did with each case of a ``KBEvaluationSet``, and
/// the measures computed from it.
public struct KBEvaluation: Sendable {
    /// The result for one case.
    public struct Outcome: Sendable {
        /// The case.
        public let item: KBEvaluationSet.Case
        /// What the conversation would offer (``KnowledgeBase/suggestions(for:limit:threshold:)``, limit 3).
        public let suggestions: [KBHit]
        /// What `!kb` would list (``KnowledgeBase/search(_:limit:)``, limit 3).
        public let search: [KBHit]

        /// Offered articles that are labelled relevant.
        public var relevantSuggestions: Int { suggestions.filter { item.isRelevant($0.article.id) }.count }
        /// Whether the first offered article helps.
        public var firstSuggestionRelevant: Bool { suggestions.first.map { item.isRelevant($0.article.id) } ?? false }
        /// Whether `!kb` lists a helpful article first.
        public var searchTop1: Bool { search.first.map { item.isRelevant($0.article.id) } ?? false }
        /// Whether `!kb` lists a helpful article among its three.
        public var searchTop3: Bool { search.contains { item.isRelevant($0.article.id) } }
    }

    /// Counts over a group of cases, and the rates the SPEC cares about.
    public struct Metrics: Sendable, Hashable {
        /// Cases some article answers.
        public var answerable = 0
        /// Cases no article answers.
        public var unrelated = 0
        /// Articles offered, over all cases.
        public var offered = 0
        /// Offered articles that are labelled relevant.
        public var offeredRelevant = 0
        /// Unrelated cases that were offered at least one article.
        public var unrelatedWithSuggestion = 0
        /// Answerable cases whose first offered article helps.
        public var answerableFirstRelevant = 0
        /// Answerable cases where some offered article helps (not necessarily the first).
        public var answerableHelpfulOffered = 0
        /// Answerable cases that were offered something, helpful or not.
        public var answerableWithSuggestion = 0
        /// Answerable cases offered only articles that do not help.
        public var answerableOnlyWrong = 0
        /// Answerable cases where `!kb` lists a helpful article first / among three.
        public var searchTop1 = 0
        public var searchTop3 = 0
        /// Unrelated cases for which `!kb` lists anything.
        public var unrelatedWithSearchHit = 0

        /// Share of offered articles that help (1 when nothing was offered).
        public var precision: Double { offered == 0 ? 1 : Double(offeredRelevant) / Double(offered) }
        /// Share of unrelated cases that were offered any article (should be ~0).
        public var unrelatedSuggestionRate: Double { rate(unrelatedWithSuggestion, unrelated) }
        /// Share of answerable cases whose first offered article helps.
        public var recall: Double { rate(answerableFirstRelevant, answerable) }
        /// Share of answerable cases offered at least one helpful article
        /// (what a customer is actually offered at the threshold).
        public var helpfulOfferedRate: Double { rate(answerableHelpfulOffered, answerable) }
        /// `!kb` top-1 and top-3 hit rate over answerable cases.
        public var searchTop1Rate: Double { rate(searchTop1, answerable) }
        public var searchTop3Rate: Double { rate(searchTop3, answerable) }

        private func rate(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }

        mutating func add(_ outcome: Outcome) {
            offered += outcome.suggestions.count
            offeredRelevant += outcome.relevantSuggestions
            if outcome.item.isAnswerable {
                answerable += 1
                if outcome.firstSuggestionRelevant { answerableFirstRelevant += 1 }
                if outcome.relevantSuggestions > 0 { answerableHelpfulOffered += 1 }
                if !outcome.suggestions.isEmpty { answerableWithSuggestion += 1 }
                if !outcome.suggestions.isEmpty, outcome.relevantSuggestions == 0 { answerableOnlyWrong += 1 }
                if outcome.searchTop1 { searchTop1 += 1 }
                if outcome.searchTop3 { searchTop3 += 1 }
            } else {
                unrelated += 1
                if !outcome.suggestions.isEmpty { unrelatedWithSuggestion += 1 }
                if !outcome.search.isEmpty { unrelatedWithSearchHit += 1 }
            }
        }
    }

    /// The threshold the suggestions were made with.
    public let threshold: Double
    /// One outcome per case, in the set's order.
    public let outcomes: [Outcome]

    /// Runs every case of `set` through `kb`: suggestions at `threshold`
    /// (limit 3, as the conversation asks) and search (limit 3, as `!kb`).
    public init(_ set: KBEvaluationSet, on kb: KnowledgeBase,
                threshold: Double = KnowledgeBase.defaultSuggestionThreshold) {
        self.threshold = threshold
        outcomes = set.cases.map { item in
            Outcome(item: item, suggestions: kb.suggestions(for: item.text, limit: 3, threshold: threshold),
                    search: kb.search(item.text, limit: 3))
        }
    }

    /// The measures over the cases that `include` selects.
    public func metrics(where include: (KBEvaluationSet.Case) -> Bool = { _ in true }) -> Metrics {
        var metrics = Metrics()
        for outcome in outcomes where include(outcome.item) { metrics.add(outcome) }
        return metrics
    }

    /// The measures over the tuning part (not held out).
    public var tuning: Metrics { metrics { !$0.isHeldOut } }
    /// The measures over the held-out third.
    public var heldOut: Metrics { metrics { $0.isHeldOut } }
}

extension KBEvaluationSet {
    /// The confidence's raw parts for each case's best candidates, as
    /// tab-separated lines with a header, for fitting the confidence on a
    /// development set (`KBBench --features FOLDER`;
    /// `Tests/KBTests/Evaluation/fit_confidence.py`): per candidate (in the
    /// order the conversation offers, at most five) whether it is labelled
    /// relevant, its score and the best score, coverage, evidence and
    /// confidence, and the shares of the query's informativeness it matches
    /// (as weighted, counting any match in full, in the title or tags), and
    /// whether its evidence comes from words standing together in one block
    /// of the body (``SearchIndex/togetherEvidence(_:document:)``).
    public func confidenceFeatures(on kb: KnowledgeBase) -> [String] {
        var lines = ["line\tkind\theldout\tanswerable\trank\trelevant\tscore\tbest\tcoverage\tevidence\tconfidence"
            + "\tinformativeness\tmatched\tmatchedFull\tmatchedHeadline\tclauses\tclausesMatched\tunknownCommon\tunknownRare\tmatchedCommon"
            + "\ttogether"]
        let index = kb.index
        for item in cases {
            let plan = kb.plan(item.text)
            let ranked = index.evaluate(plan, limit: max(min(3, kb.count) * 3, 10),
                                        language: KnowledgeBase.language(of: item.text))
            let best = ranked.map(\.score).max() ?? 0
            let counted = plan.filter { $0.informativeness > 0 && !$0.alternatives.isEmpty }
            let informativeness = counted.reduce(0) { $0 + $1.informativeness * $1.missingShare }
            let unknown = plan.filter { $0.resolution == .unknown }
            let unknownCommon = unknown.filter { index.lexicon.isCommonWord($0.word) }.count
            for (rank, candidate) in ranked.prefix(5).enumerated() {
                var matched: Float = 0, full: Float = 0, headline: Float = 0, clausesMatched = 0, matchedCommon = 0
                for clause in counted {
                    var match: Float = 0, inHeadline = false
                    for alternative in clause.alternatives {
                        let t = Int(alternative.term)
                        for p in Int(index.offsets[t])..<Int(index.offsets[t + 1])
                        where Int(index.postingDocument[p]) == candidate.document {
                            match = max(match, alternative.match)
                            inHeadline = inHeadline || index.postingHeadline[p] > 0
                        }
                    }
                    if match > 0 {
                        matched += clause.informativeness * match
                        full += clause.informativeness
                        clausesMatched += 1
                        if index.lexicon.isCommonWord(clause.word) { matchedCommon += 1 }
                        if inHeadline { headline += clause.informativeness }
                    }
                }
                let id = kb.articles[candidate.document].id
                let values: [String] = [
                    "\(item.line)", item.kind ?? "-", item.isHeldOut ? "1" : "0", item.isAnswerable ? "1" : "0",
                    "\(rank + 1)", item.isRelevant(id) ? "1" : "0",
                    "\(candidate.score)", "\(best)", "\(candidate.coverage)", "\(candidate.evidence)",
                    "\(candidate.confidence)", "\(informativeness)", "\(matched)", "\(full)", "\(headline)",
                    "\(counted.count)", "\(clausesMatched)", "\(unknownCommon)", "\(unknown.count - unknownCommon)",
                    "\(matchedCommon)", candidate.togetherBlock != 0 ? "1" : "0",
                ]
                lines.append(values.joined(separator: "\t"))
            }
            if ranked.isEmpty {
                lines.append(["\(item.line)", item.kind ?? "-", item.isHeldOut ? "1" : "0",
                              item.isAnswerable ? "1" : "0", "0", "0"].joined(separator: "\t")
                    + String(repeating: "\t0", count: 15))
            }
        }
        return lines
    }
}
