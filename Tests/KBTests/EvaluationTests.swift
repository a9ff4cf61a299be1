import Foundation
import TestSupport
import Testing
@testable import KB

/// The labelled set of customer messages in `Evaluation/problems.tsv`.
enum EvaluationSet {
    static let file: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Evaluation/problems.tsv")

    static let loaded: Result<KBEvaluationSet, KBEvaluationError> = Result { () throws(KBEvaluationError) in
        try KBEvaluationSet(contentsOf: file)
    }

    /// The set run through the shipped KB at the bots' threshold, once for
    /// all tests, off the cooperative pool (``SharedFixture``).
    static let atBotsThreshold = SharedFixture("kb.NordBox") {
        KBEvaluation(try loaded.get(), on: SampleKB.kb, threshold: 0.6)
    }
}

/// SPEC "Knowledge base": suggestions "only above a confidence threshold:
/// offering an unrelated article to a customer with an urgent problem is
/// worse than offering none". Measured on real-looking chat messages, at
/// the threshold the bots use (`bots/support.json5`: 0.6).
///
/// The floors below sit a little under what the shipped KB reaches (see
/// `swift run KBBench --evaluate` for the numbers and every failure), so
/// that a change to ranking, the lexicon or an article that makes
/// suggestions noticeably worse fails here.
@Suite("Suggestions and search measured on the labelled set")
struct EvaluationTests {
    let set: KBEvaluationSet
    let evaluation: KBEvaluation

    init() async throws {
        set = try EvaluationSet.loaded.get()
        evaluation = try await EvaluationSet.atBotsThreshold.value()
    }

    @Test("The set is large, in both languages, with many messages the KB cannot answer")
    func shape() {
        let cases = set.cases
        #expect(cases.count >= 200)
        #expect(cases.filter { !$0.isAnswerable }.count >= 80)
        let german = cases.filter { $0.language == "de" }.count
        let english = cases.filter { $0.language == "en" }.count
        #expect(german >= cases.count * 2 / 5 && english >= cases.count * 2 / 5, "de \(german), en \(english)")
        // Every article is the answer to something.
        let labelled = Set(cases.flatMap(\.relevant))
        #expect(SampleKB.kb.articles.allSatisfy { labelled.contains($0.id) },
                "never relevant: \(SampleKB.kb.articles.map(\.id).filter { !labelled.contains($0) })")
    }

    @Test("Every label names an article of the shipped KB")
    func labelsExist() {
        let unknown = set.unknownIDs(in: SampleKB.kb)
        #expect(unknown.isEmpty, "\(unknown.map { "line \($0.line): \($0.id)" })")
    }

    @Test("About a third is held out, chosen by the text, not by position")
    func heldOutThird() {
        let held = set.cases.filter(\.isHeldOut)
        let share = Double(held.count) / Double(set.cases.count)
        #expect(share > 0.25 && share < 0.42, "\(share)")
        #expect(held.contains { $0.isAnswerable } && held.contains { !$0.isAnswerable })
        #expect(KBEvaluationSet.isHeldOut("VPN Verbindung bricht ab") == KBEvaluationSet.isHeldOut("VPN Verbindung bricht ab"))
    }

    /// Since issue 11 a word no article has neither helps nor hurts, which
    /// raised the helpful offers for chat sentences (tuning part 87 % →
    /// 91 %) and the false offers (4 % → 7 %); the issue's bound for
    /// unanswerable messages is 10 %.
    @Test("Unrelated messages almost never get a suggestion", arguments: [Part.tuning, .heldOut])
    func unrelatedRate(_ part: Part) {
        let m = part.metrics(evaluation)
        #expect(m.unrelatedSuggestionRate <= 0.08,
                "\(part): \(m.unrelatedWithSuggestion) of \(m.unrelated) unrelated messages got a suggestion")
    }

    @Test("Offered articles help", arguments: [Part.tuning, .heldOut])
    func precision(_ part: Part) {
        let m = part.metrics(evaluation)
        #expect(m.precision >= part.minimumPrecision,
                "\(part): \(m.offeredRelevant) of \(m.offered) offered articles are relevant")
    }

    @Test("Most answerable messages get a helpful article first", arguments: [Part.tuning, .heldOut])
    func recall(_ part: Part) {
        let m = part.metrics(evaluation)
        #expect(m.recall >= part.minimumRecall,
                "\(part): \(m.answerableFirstRelevant) of \(m.answerable) answerable messages")
    }

    @Test("A helpful article is among those offered for most answerable messages", arguments: [Part.tuning, .heldOut])
    func helpfulOffered(_ part: Part) {
        let m = part.metrics(evaluation)
        #expect(m.helpfulOfferedRate >= 0.85, "\(part): \(m.answerableHelpfulOffered) of \(m.answerable)")
    }

    @Test("!kb with the message as words lists a helpful article first, and almost always in the top 3")
    func search() {
        let m = evaluation.metrics()
        #expect(m.searchTop1Rate >= 0.95, "top-1 \(m.searchTop1) of \(m.answerable)")
        #expect(m.searchTop3Rate >= 0.98, "top-3 \(m.searchTop3) of \(m.answerable)")
    }

    @Test("A stricter threshold trades recall for fewer offers")
    func thresholdTradeOff() async throws {
        let (strict, lenient) = try await offload { [set] in
            (KBEvaluation(set, on: SampleKB.kb, threshold: 0.8).metrics(),
             KBEvaluation(set, on: SampleKB.kb, threshold: 0.4).metrics())
        }
        let chosen = evaluation.metrics()
        #expect(strict.offered < chosen.offered && chosen.offered < lenient.offered)
        #expect(strict.recall < chosen.recall && chosen.recall < lenient.recall)
        #expect(lenient.unrelatedSuggestionRate > chosen.unrelatedSuggestionRate)
    }

    enum Part: String, CustomStringConvertible, Sendable {
        case tuning, heldOut
        var description: String { rawValue }

        func metrics(_ evaluation: KBEvaluation) -> KBEvaluation.Metrics {
            self == .tuning ? evaluation.tuning : evaluation.heldOut
        }

        var minimumPrecision: Double { self == .tuning ? 0.92 : 0.90 }
        var minimumRecall: Double { self == .tuning ? 0.80 : 0.75 }
    }
}

/// A labelled set folder next to NordBox's set (`kb/` and `messages.tsv`),
/// loaded with the shipped vocabulary (and the installed dictionary when
/// asked), and its evaluation at the bots' threshold; every article loads
/// and every label names one of them. Each set is loaded and evaluated
/// once per test process, off the cooperative pool (``LabelledSets``).
func labelledSet(_ name: String, withInstalledDictionary: Bool = false,
                 sourceLocation: SourceLocation = #_sourceLocation) async throws -> (KnowledgeBase, KBEvaluation) {
    let fixtures = withInstalledDictionary ? LabelledSets.withDictionary : LabelledSets.plain
    let fixture = try #require(fixtures[name], "no labelled set \(name)", sourceLocation: sourceLocation)
    let loaded = try await fixture.value()
    // Every file loads. Notes on a loaded article stay (the study sets'
    // blind questions are kept as written, one-word ones included).
    #expect(loaded.loadErrors.filter(\.skipsFile).isEmpty, "\(loaded.loadErrors)", sourceLocation: sourceLocation)
    #expect(loaded.unknownLabels.isEmpty, "\(loaded.unknownLabels)", sourceLocation: sourceLocation)
    return (loaded.kb, loaded.evaluation)
}

/// The studied sets, each loaded and evaluated at most once per test
/// process (a second or more each; every test of a suite asks, each with a
/// suite instance of its own), on a thread of its own.
enum LabelledSets {
    struct Loaded: Sendable {
        let kb: KnowledgeBase
        let evaluation: KBEvaluation
        let loadErrors: [KBLoadError]
        /// Labels that name no article (`line N: ID`).
        let unknownLabels: [String]
    }

    static let names = ["SecondSet", "ThirdSet", "FourthSet", "FifthSet"]
    static let plain = fixtures(withInstalledDictionary: false)
    /// With `/usr/share/trans/de-en`, as `bots/kb.json5` configures the search.
    static let withDictionary = fixtures(withInstalledDictionary: true)

    static func fixtures(withInstalledDictionary: Bool) -> [String: SharedFixture<Loaded>] {
        Dictionary(uniqueKeysWithValues: names.map { name in
            (name, SharedFixture("kb.\(name)") { try load(name, withInstalledDictionary: withInstalledDictionary) })
        })
    }

    static func load(_ name: String, withInstalledDictionary: Bool) throws -> Loaded {
        var vocabulary = SampleKB.vocabulary
        if withInstalledDictionary {
            vocabulary.dictionary = try BilingualDictionary.load(path: InstalledDictionaryTests.path)
        }
        let folder = EvaluationSet.file.deletingLastPathComponent().appendingPathComponent(name)
        let (kb, errors) = KnowledgeBase.load(from: folder.appendingPathComponent("kb"), vocabulary: vocabulary)
        let set = try KBEvaluationSet(contentsOf: folder.appendingPathComponent("messages.tsv"))
        return Loaded(kb: kb, evaluation: KBEvaluation(set, on: kb, threshold: 0.6), loadErrors: errors,
                      unknownLabels: set.unknownIDs(in: kb).map { "line \($0.line): \($0.id)" })
    }
}

/// What a studied set's search must still reach at the bots' threshold.
struct SetFloors {
    var answerable: Int, unrelated: Int
    var top3: Double, offered: Double
    /// The most unanswerable messages that may be offered something.
    var falseOffers: Int
    var sentencesTop3: Double, sentencesOffered: Double
    var crosslangTop3: Double, crosslangOffered: Double
    var compoundsOffered: Double
}

/// Checks `evaluation` against `floors`: the whole set, chat sentences,
/// cross-language messages and compounds.
func expectFloors(_ evaluation: KBEvaluation, _ floors: SetFloors, sourceLocation: SourceLocation = #_sourceLocation) {
    let all = evaluation.metrics()
    #expect(all.answerable >= floors.answerable && all.unrelated >= floors.unrelated, sourceLocation: sourceLocation)
    #expect(all.searchTop3Rate >= floors.top3, "top-3 \(all.searchTop3) of \(all.answerable)", sourceLocation: sourceLocation)
    #expect(all.helpfulOfferedRate >= floors.offered,
            "helpful offered \(all.answerableHelpfulOffered) of \(all.answerable)", sourceLocation: sourceLocation)
    #expect(all.unrelatedWithSuggestion <= floors.falseOffers, "\(all.unrelatedWithSuggestion) of \(all.unrelated)",
            sourceLocation: sourceLocation)
    let sentences = evaluation.metrics { $0.kind == "sentence" }
    let crosslang = evaluation.metrics { $0.kind == "crosslang" }
    #expect(sentences.searchTop3Rate >= floors.sentencesTop3,
            "sentences top-3 \(sentences.searchTop3) of \(sentences.answerable)", sourceLocation: sourceLocation)
    #expect(sentences.helpfulOfferedRate >= floors.sentencesOffered,
            "sentences offered \(sentences.answerableHelpfulOffered)", sourceLocation: sourceLocation)
    #expect(crosslang.searchTop3Rate >= floors.crosslangTop3,
            "crosslang top-3 \(crosslang.searchTop3) of \(crosslang.answerable)", sourceLocation: sourceLocation)
    #expect(crosslang.helpfulOfferedRate >= floors.crosslangOffered,
            "crosslang offered \(crosslang.answerableHelpfulOffered)", sourceLocation: sourceLocation)
    let compounds = evaluation.metrics { $0.kind == "compound" }
    #expect(compounds.helpfulOfferedRate >= floors.compoundsOffered,
            "compounds offered \(compounds.answerableHelpfulOffered) of \(compounds.answerable)", sourceLocation: sourceLocation)
}

/// The second labelled set (a made-up vendor, Kantelo: telephony and CRM),
/// in `Evaluation/SecondSet`: 51 articles and 212 messages with their kinds.
/// It was written before any result on it was seen and reported once; since
/// then it is a development set like NordBox's tuning part, so these floors
/// (a little under what the search reaches, see `swift run KBBench
/// --evaluate Tests/KBTests/Evaluation/SecondSet`) catch a change that makes
/// chat sentences or cross-language messages worse.
@Suite("Suggestions and search measured on the second set (Kantelo)")
struct SecondSetTests {
    let kb: KnowledgeBase
    let evaluation: KBEvaluation

    init() async throws { (kb, evaluation) = try await labelledSet("SecondSet") }

    @Test("At the bots' threshold: helpful offers for most messages, almost none for the unanswerable")
    func offered() {
        let all = evaluation.metrics()
        #expect(all.answerable >= 150 && all.unrelated >= 15)
        #expect(all.searchTop3Rate >= 0.94, "top-3 \(all.searchTop3) of \(all.answerable)")
        #expect(all.helpfulOfferedRate >= 0.84, "helpful offered \(all.answerableHelpfulOffered) of \(all.answerable)")
        #expect(all.unrelatedSuggestionRate <= 0.10, "\(all.unrelatedWithSuggestion) of \(all.unrelated)")
        // Symptom phrasings (vocabulary `phrases`) offer the article for a
        // symptom in other words, and sometimes a neighbour with it (echo and
        // one-way audio): 0.88 before them, 0.86 since.
        #expect(all.precision >= 0.85, "\(all.offeredRelevant) of \(all.offered)")
    }

    @Test("Chat sentences and cross-language messages find their article")
    func kinds() {
        let sentences = evaluation.metrics { $0.kind == "sentence" }
        let crosslang = evaluation.metrics { $0.kind == "crosslang" }
        #expect(sentences.searchTop3Rate >= 0.92, "sentences top-3 \(sentences.searchTop3) of \(sentences.answerable)")
        #expect(sentences.helpfulOfferedRate >= 0.76, "sentences offered \(sentences.answerableHelpfulOffered)")
        #expect(crosslang.searchTop3Rate >= 0.92, "crosslang top-3 \(crosslang.searchTop3) of \(crosslang.answerable)")
        #expect(crosslang.helpfulOfferedRate >= 0.75, "crosslang offered \(crosslang.answerableHelpfulOffered)")
        let compounds = evaluation.metrics { $0.kind == "compound" }
        #expect(compounds.helpfulOfferedRate >= 0.75, "compounds offered \(compounds.answerableHelpfulOffered)")
    }

    @Test("A confident article is offered although an unconfident one scores more than twice as much")
    func confidentArticleNotHiddenByScore() throws {
        // HX-2023 (password reset) has "zurücksetzen" in its title and tags
        // and scores far higher; HX-2025 (two-factor authentication) has
        // both words of the query, one of them through the vocabulary.
        let query = "Zweifaktorauthentifizierung zurücksetzen"
        let ranked = kb.search(query, limit: 3)
        let reset = try #require(ranked.first { $0.article.id == "HX-2023" })
        let twoFactor = try #require(ranked.first { $0.article.id == "HX-2025" })
        #expect(reset.score > 2 * twoFactor.score)
        #expect(kb.suggestions(for: query).first?.article.id == "HX-2025")
    }

    @Test("A German compound finds the English-only article that has all its parts, translated ('call charges')")
    func compoundByAllParts() throws {
        // "Gesprächsgebühren" is a word of the German articles; HX-2032 says
        // "call charges" only. One part alone covers the word half.
        let first = try #require(kb.suggestions(for: "Gesprächsgebühren").first)
        #expect(first.article.id == "HX-2032")
        #expect(kb.suggestions(for: "Warum sind auf der Rechnung so hohe Gesprächsgebühren?").first?.article.id == "HX-2032")
    }
}

/// The third labelled set (a made-up vendor, Fennick: accounting and
/// payroll), in `Evaluation/ThirdSet`: 66 articles and 329 messages. It was
/// written blind and held out until the fifth session of 2026-12-06; since
/// then it is studied (its README), with half A (`../halves.py`) for tuning
/// and half B for checking. These floors, a little under what the search
/// reaches on the whole set, catch a change that makes it worse.
@Suite("Suggestions and search measured on the third set (Fennick)")
struct ThirdSetTests {
    let kb: KnowledgeBase
    let evaluation: KBEvaluation

    init() async throws { (kb, evaluation) = try await labelledSet("ThirdSet") }

    @Test("At the bots' threshold: helpful offers for most messages, few for the unanswerable, per kind")
    func offered() {
        // Cross-language offered was 0.65 before ordinary-word compounds
        // searched their vocabulary head and translated pairs took one place
        // among the suggestions.
        // Compounds offered was 0.73 before a compound's parts counted as
        // much evidence as the same words written apart.
        // Offered was 0.83 and sentences offered 0.67 before the articles
        // had customers' questions (`questions:`, written blind, 6314507).
        expectFloors(evaluation, SetFloors(answerable: 300, unrelated: 24, top3: 0.90, offered: 0.83, falseOffers: 2,
                                           sentencesTop3: 0.83, sentencesOffered: 0.70,
                                           crosslangTop3: 0.78, crosslangOffered: 0.67,
                                           compoundsOffered: 0.75))
    }

    @Test("A compound of an ordinary word and a vocabulary word finds the English-only article ('Fremdwährung')")
    func foreignCurrency() {
        // FN-3031 is English only ("Invoicing in foreign currencies"); the
        // German invoice articles have "Rechnung" in their titles.
        #expect(kb.suggestions(for: "Rechnung in Fremdwährung").first?.article.id == "FN-3031")
    }
}

/// The fourth labelled set (a made-up vendor, Tavolo: restaurant and café
/// point of sale), in `Evaluation/FourthSet`: 56 articles and 350 messages.
/// It was written blind and held out until the lead's one evaluation at
/// 61f88a2 (offered 0.76, cross-language offered 0.55, 7 of 29 unanswerable
/// offered something); since then it is studied (its README), with half A
/// (`../halves.py`) for tuning and half B for checking. These floors, a little
/// under what the search reaches on the whole set, catch a change that makes
/// it worse; false offers are capped where they are (the target is 0.10).
@Suite("Suggestions and search measured on the fourth set (Tavolo)")
struct FourthSetTests {
    let kb: KnowledgeBase
    let evaluation: KBEvaluation

    init() async throws { (kb, evaluation) = try await labelledSet("FourthSet") }

    @Test("At the bots' threshold: helpful offers for most messages, per kind")
    func offered() {
        // Offered was 0.76 and cross-language offered 0.55 before the
        // vocabulary's point-of-sale section.
        // Compounds offered was 0.68 before a compound's parts counted as
        // much evidence as the same words written apart.
        // Offered was 0.79, sentences 0.90 / 0.72, cross-language offered
        // 0.64 and compounds offered 0.79 before the articles had customers'
        // questions (`questions:`, written blind, 2f39ece).
        expectFloors(evaluation, SetFloors(answerable: 320, unrelated: 29, top3: 0.92, offered: 0.84, falseOffers: 7,
                                           sentencesTop3: 0.91, sentencesOffered: 0.82,
                                           crosslangTop3: 0.82, crosslangOffered: 0.67,
                                           compoundsOffered: 0.85))
    }

    @Test("The German word for a restaurant's menu finds the English-only article on menu items")
    func menuInGerman() {
        // TV-4014 ("Adding menu items, categories and prices") exists in English only;
        // "Speisekarte" is the vocabulary's word for a menu.
        #expect(kb.suggestions(for: "Speisekarte bearbeiten").first?.article.id == "TV-4014")
    }
}

/// The fifth labelled set (a made-up maker, Solvanta: home solar inverters,
/// batteries and wallboxes), in `Evaluation/FifthSet`: 50 articles and 419
/// messages. It was written blind and held out until the lead's one
/// evaluation at 5090761 (offered 0.74, sentences offered 0.58, cross-language
/// offered 0.50, 5 of 32 unanswerable offered something); since then it is
/// studied, with half A (`../halves.py`) for tuning and half B for checking.
/// These floors, a little under what the search reaches on the whole set,
/// catch a change that makes it worse; false offers are capped where they are
/// (the target is 0.10).
@Suite("Suggestions and search measured on the fifth set (Solvanta)")
struct FifthSetTests {
    let evaluation: KBEvaluation

    init() async throws { (_, evaluation) = try await labelledSet("FifthSet") }

    @Test("At the bots' threshold: helpful offers for most messages, per kind")
    func offered() {
        // Cross-language top-3 was 0.58 and offered 0.50 before the everyday
        // vocabulary (bots/vocabulary/general.json5).
        // Compounds offered was 0.75 before a compound's parts counted as
        // much evidence as the same words written apart.
        expectFloors(evaluation, SetFloors(answerable: 380, unrelated: 32, top3: 0.88, offered: 0.73, falseOffers: 5,
                                           sentencesTop3: 0.82, sentencesOffered: 0.57,
                                           crosslangTop3: 0.72, crosslangOffered: 0.51,
                                           compoundsOffered: 0.81))
    }

    @Test("!kb lists the article most of a chat sentence points at, not the one a chat word names in its title")
    func searchByConfidence() async throws {
        let (kb, _) = try await labelledSet("FifthSet")
        // SO-5044 ("Commissioning a new system …") has "new" in its title and
        // scores highest; SO-5003/5004 (signing in, two-factor) have most of
        // the sentence's words and the higher confidence.
        let message = "hey, I got a new phone and Google Authenticator is gone, now the app wants a code and I'm stuck"
        let hits = kb.search(message)
        #expect(["SO-5003", "SO-5004"].contains(hits.first?.article.id ?? ""), "\(hits.map(\.article.id))")
        let confidences = hits.map(\.confidence)
        #expect(confidences == confidences.sorted(by: >))
    }
}

@Suite("Reading an evaluation file")
struct EvaluationFileTests {
    @Test("Ids, language and text; comments and blank lines are skipped")
    func parses() throws {
        let set = try KBEvaluationSet(parsing: """
            # a comment

            KB-1001, kb-1002\tde\tDatei wiederherstellen
            -\ten\tmy printer is out of toner\r
            """, file: "x.tsv")
        #expect(set.cases.count == 2)
        #expect(set.cases[0].relevant == ["KB-1001", "KB-1002"])
        #expect(set.cases[0].line == 3)
        #expect(set.cases[0].isRelevant("kb-1002"))
        #expect(!set.cases[1].isAnswerable)
        #expect(set.cases[1].text == "my printer is out of toner")
        #expect(set.cases[0].kind == nil)
    }

    @Test("The 4-column form names each message's kind, and the metrics group by it")
    func kinds() throws {
        let set = try KBEvaluationSet(parsing: """
            KB-1011\tde\tsentence\tHallo, seit heute Morgen bricht bei uns ständig die VPN-Verbindung ab
            KB-1011\ten\tcrosslang\tVPN-Verbindung bricht ab
            -\ten\tunanswerable\tmy printer is out of toner
            """, file: "x.tsv")
        #expect(set.cases.map(\.kind) == ["sentence", "crosslang", "unanswerable"])
        let evaluation = KBEvaluation(set, on: SampleKB.kb, threshold: 0.6)
        let sentences = evaluation.metrics { $0.kind == "sentence" }
        #expect(sentences.answerable == 1 && sentences.unrelated == 0)
        #expect(sentences.helpfulOfferedRate == 1)
        let unanswerable = evaluation.metrics { $0.kind == "unanswerable" }
        #expect(unanswerable.unrelated == 1 && unanswerable.unrelatedWithSuggestion == 0)
    }

    @Test("A bad line is an error with file and line", arguments: [
        ("KB-1001\tde", "expected 3 tab-separated fields"),
        ("KB-1001\tde\tslang\tDatei", "kind 'slang' is not one of"),
        ("-\tde\ttypo\tDatei", "its kind must be unanswerable"),
        ("KB-1001\tde\tunanswerable\tDatei", "an unanswerable message has ids"),
        ("KB 1001\tde\tDatei", "is not an article id"),
        ("KB-1001\tfr\tDatei", "language 'fr'"),
        ("KB-1001\tde\t ", "the description is empty"),
        ("KB-1001\tde\tDatei\nKB-1002\ten\tDatei", "already on line 1"),
    ])
    func errors(_ pair: (String, String)) {
        #expect {
            try KBEvaluationSet(parsing: pair.0, file: "set.tsv")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("set.tsv:") && text.contains(pair.1)
        }
    }

    @Test("A missing file says which")
    func missingFile() {
        #expect {
            try KBEvaluationSet(contentsOf: URL(fileURLWithPath: "/nonexistent/problems.tsv"))
        } throws: { error in
            "\(error)" == "/nonexistent/problems.tsv: cannot open: No such file or directory"
        }
    }

    /// `KBBench --evaluate --features` feeds `fit_confidence.py`: its rows
    /// must be the candidates the conversation would offer, in that order,
    /// with the confidence it offers them at and the set's labels.
    @Test("The confidence features list each message's candidates as the conversation ranks them")
    func confidenceFeaturesMatchTheSuggestions() async throws {
        let set = try EvaluationSet.loaded.get()
        let evaluation = try await EvaluationSet.atBotsThreshold.value()
        let lines = try await offload { [set] in set.confidenceFeatures(on: SampleKB.kb) }
        let header = lines[0].split(separator: "\t").map(String.init)
        #expect(header.prefix(6) == ["line", "kind", "heldout", "answerable", "rank", "relevant"])
        let rows = lines.dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == header.count })
        #expect(Set(rows.map { $0[0] }).count == set.cases.count)
        let confidence = try #require(header.firstIndex(of: "confidence"))
        var compared = 0
        for item in set.cases {
            guard let first = evaluation.outcomes.first(where: { $0.item.line == item.line })?.suggestions.first,
                  let row = rows.first(where: { $0[0] == "\(item.line)" && $0[4] == "1" }) else { continue }
            #expect(abs((Double(row[confidence]) ?? -1) - first.confidence) < 1e-5, "line \(item.line)")
            #expect(row[5] == (item.isRelevant(first.article.id) ? "1" : "0"), "line \(item.line)")
            compared += 1
        }
        #expect(compared > 100)
    }
}
