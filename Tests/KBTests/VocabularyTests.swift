import Config
import Foundation
import TestSupport
import Testing
@testable import KB

@Suite("Vocabulary files and translated pairs", .awaiting { try await SampleKB.ready.value() })
struct VocabularyTests {
    @Test("The shipped vocabulary loads: at least 1,000 IT-support concepts and 1,500 everyday ones")
    func shipped() throws {
        let general = try Vocabulary.load([SampleKB.vocabularyFiles[0]])
        #expect(general.concepts.count >= 1_000)
        // general.json5: everyday and trade words, which name no uncovered topic
        let everyday = try Vocabulary.load([SampleKB.vocabularyFiles[1]])
        #expect(SampleKB.vocabularyFiles[1].lastPathComponent == "general.json5")
        #expect(everyday.concepts.count >= 1_500)
        #expect(everyday.concepts.allSatisfy { !$0.namesTopic } && general.concepts.allSatisfy { $0.namesTopic })
        #expect(SampleKB.vocabulary.concepts.count > general.concepts.count + everyday.concepts.count)  // plus the operator's own
    }

    @Test("A bad vocabulary file is an error naming file, line and column; nothing loads")
    func errors() throws {
        let tmp = try TemporaryKB()
        try tmp.write("good.json5", "{ concepts: [ { de: [\"Rechnung\"], en: [\"invoice\", \"bill\"] } ] }")
        try tmp.write("bad.json5", """
            {
              concepts: [
                { de: ["Drucker"], en: ["printer"] },
                { de: ["Netzwerk drucker"], en: ["printer"] },
                { de: ["Toner"] },
                { de: ["x"], english: ["y"] },
              ],
            }
            """)
        let good = tmp.folder.appendingPathComponent("good.json5"), bad = tmp.folder.appendingPathComponent("bad.json5")
        #expect(try Vocabulary.load([good]).concepts.count == 1)
        do {
            _ = try Vocabulary.load([good, bad], displayName: { $0.lastPathComponent })
            Issue.record("a bad file loaded")
        } catch {
            let text = error.issues.map(\.description).joined(separator: "\n")
            #expect(error.issues.allSatisfy { $0.file == "bad.json5" && $0.line != nil && $0.column != nil }, "\(text)")
            #expect(text.contains("unknown key 'english'"), "\(text)")
        }
        try tmp.write("bad2.json5", """
            {
              concepts: [
                { de: ["Netzwerk drucker"], en: ["printer"] },
                { de: ["Toner"] },
              ],
            }
            """)
        do {
            _ = try Vocabulary.load([tmp.folder.appendingPathComponent("bad2.json5")], displayName: { $0.lastPathComponent })
            Issue.record("a bad file loaded")
        } catch {
            let issues = error.issues
            #expect(issues.count == 2)
            #expect(issues.first?.line == 3 && issues.first?.message.contains("more than one word") == true)
            #expect(issues.last?.line == 4 && issues.last?.message.contains("at least two words") == true)
        }
        do {
            _ = try Vocabulary.load([tmp.folder.appendingPathComponent("missing.json5")])
            Issue.record("a missing file loaded")
        } catch {
            #expect(!error.issues.isEmpty)
        }
    }

    @Test("An operator's concept bridges words the articles do not share")
    func operatorTerms() throws {
        let article = Article(id: "EN-1", title: "Paying an invoice", url: URL(string: "https://x.example/EN-1")!,
                              tags: ["invoice"], language: .en, summary: "How to pay.", body: "How to pay.",
                              source: "EN-1.md")
        #expect(KnowledgeBase(articles: [article]).search("Rechnung bezahlen").isEmpty)
        let vocabulary = Vocabulary(concepts: [.init(de: ["Rechnung"], en: ["invoice"]),
                                               .init(de: ["bezahlen"], en: ["pay"])])
        #expect(KnowledgeBase(articles: [article], vocabulary: vocabulary).search("Rechnung bezahlen").first?.article.id
                == "EN-1")
    }

    @Test("A file with uncoveredTopics: false translates its words, and a word of it no article has costs nothing")
    func everydayWordsAreNoUncoveredTopics() throws {
        let tmp = try TemporaryKB()
        try tmp.write("topics.json5", "{ concepts: [ { de: [\"Rechnung\"], en: [\"invoice\"] }, { de: [\"Urlaub\"], en: [\"holiday\"] } ] }")
        try tmp.write("everyday.json5", """
            { uncoveredTopics: false,
              concepts: [ { de: ["Rechnung"], en: ["invoice"] }, { de: ["Urlaub"], en: ["holiday"] } ] }
            """)
        let article = Article(id: "EN-1", title: "Paying an invoice", url: URL(string: "https://x.example/EN-1")!,
                              tags: ["invoice", "payment"], language: .en, summary: "How to pay an invoice.",
                              body: "How to pay an invoice.", source: "EN-1.md")
        let topics = try Vocabulary.load([tmp.folder.appendingPathComponent("topics.json5")])
        let everyday = try Vocabulary.load([tmp.folder.appendingPathComponent("everyday.json5")])
        #expect(topics.concepts.allSatisfy { $0.namesTopic })
        #expect(everyday.concepts.allSatisfy { !$0.namesTopic })
        // "Urlaub" is in no article: as a topic it lowers the confidence of
        // the invoice article; as an everyday word it neither helps nor hurts.
        let withTopic = KnowledgeBase(articles: [article], vocabulary: topics)
        let withEveryday = KnowledgeBase(articles: [article], vocabulary: everyday)
        let alone = try #require(withEveryday.suggestions(for: "Rechnung", threshold: 0).first)
        let topicHit = try #require(withTopic.suggestions(for: "Rechnung Urlaub", threshold: 0).first)
        let everydayHit = try #require(withEveryday.suggestions(for: "Rechnung Urlaub", threshold: 0).first)
        #expect(alone.article.id == "EN-1" && everydayHit.article.id == "EN-1")  // the translation still works
        #expect(topicHit.confidence < everydayHit.confidence, "\(topicHit.confidence) \(everydayHit.confidence)")
        #expect(everydayHit.confidence == alone.confidence, "\(everydayHit.confidence) \(alone.confidence)")
        #expect(withTopic.explain("Rechnung Urlaub").contains { $0.contains("a vocabulary topic no article has") })
        #expect(!withEveryday.explain("Rechnung Urlaub").contains { $0.contains("a vocabulary topic no article has") })
    }

    @Test("Translated pairs align their title and tag words; the alignment bridges languages")
    func translationAlignment() throws {
        func article(_ id: String, _ title: String, _ tags: [String], _ language: Article.Language,
                     _ translation: String?) -> Article {
            Article(id: id, title: title, url: URL(string: "https://x.example/\(id)")!, tags: tags, language: language,
                    summary: title, body: title, source: "\(id).md", translation: translation)
        }
        let articles = [
            article("DE-1", "Frankiermaschine einrichten", ["Frankiermaschine", "Einrichtung"], .de, "EN-1"),
            article("EN-1", "Setting up the franking machine", ["postage", "setup"], .en, "DE-1"),
            article("DE-2", "Portokasse aufladen", ["Portokasse"], .de, nil),
        ]
        let aligned = TranslationAlignment.concepts(articles)
        let pairs = Set(aligned.map { "\($0[0].0)=\($0[1].0)" })
        #expect(pairs.contains("frankiermaschine=postage"), "\(pairs)")  // tags by position
        #expect(pairs.contains("einrichtung=setup"), "\(pairs)")
        // Without the pair, "postage" finds nothing German; with it, the German article.
        let kb = KnowledgeBase(articles: [articles[0], articles[2]] + [article("EN-9", "Other", ["x"], .en, nil)])
        #expect(kb.search("postage").isEmpty)
        let paired = KnowledgeBase(articles: articles)
        #expect(paired.search("postage").map(\.article.id).contains("DE-1"))
        // A translation that names no article is reported, and the article loads.
        let tmp = try TemporaryKB()
        try tmp.write("a.md", TemporaryKB.article(id: "KB-1", title: "Test").replacingOccurrences(
            of: "language: en", with: "language: en\ntranslation: KB-404"))
        let (loaded, errors) = KnowledgeBase.load(from: tmp.folder)
        #expect(loaded.count == 1)
        #expect(errors.map(\.field) == ["translation"])
        #expect(errors.map(\.kind) == [.unpairedTranslation])
    }

    @Test("A translation covers an article fully when the customer's-language version does not exist")
    func translationCountsFullyWithoutTwin() {
        func article(_ id: String, _ title: String, _ tags: [String], _ language: Article.Language) -> Article {
            Article(id: id, title: title, url: URL(string: "https://x.example/\(id)")!, tags: tags, language: language,
                    summary: title, body: title + ".", source: "\(id).md")
        }
        let vocabulary = Vocabulary(concepts: [.init(de: ["Rechnung"], en: ["invoice"]),
                                               .init(de: ["herunterladen"], en: ["download"])])
        let english = article("EN-1", "Downloading invoices", ["invoice", "download", "PDF"], .en)
        let other = article("EN-2", "Paying by card", ["payment", "card"], .en)
        // Only the English article: the German words find it as surely as the English ones.
        let alone = KnowledgeBase(articles: [english, other], vocabulary: vocabulary)
        let german = alone.suggestions(for: "Rechnung herunterladen", threshold: 0)
        let own = alone.suggestions(for: "download invoice", threshold: 0)
        #expect(german.first?.article.id == "EN-1")
        #expect(german.first?.confidence == own.first?.confidence, "\(german.map(\.confidence)) \(own.map(\.confidence))")

        // With its German version (tags in the same order, no `translation:`
        // header), the translation counts less and the German article comes first.
        let germanVersion = article("DE-1", "Rechnungen herunterladen", ["Rechnung", "Download", "PDF"], .de)
        let both = KnowledgeBase(articles: [english, other, germanVersion], vocabulary: vocabulary)
        #expect(both.index.documentHasTwin == [true, false, true])
        let offered = both.suggestions(for: "Rechnung herunterladen", threshold: 0)
        #expect(offered.first?.article.id == "DE-1", "\(offered.map { ($0.article.id, $0.confidence) })")
        let translated = offered.first { $0.article.id == "EN-1" }
        #expect(translated.map { $0.confidence < offered[0].confidence } ?? true)
    }

    @Test("Undeclared translations are detected by their tags, position by position")
    func detectedTwins() {
        let kb = SampleKB.kb
        let pairs = SearchIndex.detectedTwins(kb.articles, lexicon: kb.index.lexicon)
            .map { [kb.articles[$0.0].id, kb.articles[$0.1].id] }
        // "VPN, Verbindung, Abbruch, NordBox Connect, Firewall, MTU" / "VPN, connection, disconnect, …".
        #expect(pairs.contains(["KB-1011", "KB-1012"]), "\(pairs)")
        // Windows and macOS installers share four of five tags, but each pairs with its own.
        #expect(pairs.contains(["KB-1013", "KB-1015"]), "\(pairs)")
        #expect(pairs.contains(["KB-1044", "KB-1014"]), "\(pairs)")
        // Every article is in at most one pair, and pairs join the two languages.
        let ids = pairs.flatMap { $0 }
        #expect(Set(ids).count == ids.count)
        #expect(pairs.allSatisfy { kb.article(id: $0[0])?.language == .de && kb.article(id: $0[1])?.language == .en })
    }

    @Test("A typo inside a long compound is corrected, not treated as unknown")
    func typoInCompound() {
        // "Festplattenfehler" with a typo in the first part, and with one in the last.
        for query in ["Festplatenfehler", "Festplattenfehlr", "Wiederherstelungsschlüssel"] {
            let explained = SampleKB.kb.explain(query).joined(separator: "\n")
            #expect(!explained.contains("unknown"), "\(query):\n\(explained)")
        }
        #expect(SampleKB.kb.search("Wiederherstelungsschlüssel").first?.article.id
                == SampleKB.kb.search("Wiederherstellungsschlüssel").first?.article.id)
    }

    @Test("kb explain shows the normalised query, stems, expansions, score parts, confidence and threshold")
    func explain() {
        let lines = SampleKB.kb.explain("Die VPN-Verbindung bricht ab", threshold: 0.6)
        let text = lines.joined(separator: "\n")
        #expect(lines.first == "query: [die] vpn verbindung bricht ab")
        #expect(text.contains("verbindung: stems verbind"), "\(text)")
        #expect(text.contains("connect×0.80"), "\(text)")  // expansion from the vocabulary
        #expect(text.contains("threshold 0.60"))
        #expect(text.contains("KB-1011"))
        #expect(text.contains("coverage") && text.contains("confidence") && text.contains("OFFERED"))
        #expect(text.contains("score") && text.contains("vpn "))
    }
}
