import Config
import Foundation
import TestSupport
import Testing
@testable import KB

/// Issue 11, chat sentences: words of everyday language that the knowledge
/// base lacks must not be "corrected" into its words, a long message must
/// not lose its answer for naming more than its topic, and translated
/// articles are ordered by the customer's language.
@Suite("Chat sentences: common words, long messages, translated pairs", .awaiting { try await SampleKB.ready.value() })
struct ChatSentenceTests {
    /// A small KB: call forwarding, a policy article with "erlauben" (stem
    /// "erlaub", one typo from "Urlaub"), and unrelated articles that make
    /// the other words of a chat message known to the KB.
    static func kb(commonWords: [String]) -> KnowledgeBase {
        return KnowledgeBase(articles: [
            testArticle("T-1", "Anrufe weiterleiten", tags: ["Weiterleitung", "Anrufe"],
                        body: "So leiten Sie Anrufe an eine andere Nummer weiter."),
            testArticle("T-2", "Was ist erlaubt", tags: ["Richtlinie"],
                        body: "Was wir erlauben und was nicht."),
            testArticle("T-3", "Wochenbericht exportieren", tags: ["Bericht", "Wochen"],
                        body: "Der Bericht über zwei Wochen wird als Datei exportiert."),
            testArticle("T-4", "Kollegen einladen", tags: ["Einladung", "Kollegen"],
                        body: "Laden Sie Kollegen per Mail ein."),
            testArticle("T-5", "Telefon zurücksetzen", tags: ["Telefon", "Werkseinstellungen"],
                        body: "Setzen Sie das Telefon auf die Werkseinstellungen zurück."),
        ], vocabulary: Vocabulary(concepts: [], commonWords: commonWords))
    }

    @Test("A common word the KB lacks stays unknown instead of becoming a KB word one typo away")
    func commonWordNotCorrected() {
        let plain = Self.kb(commonWords: []), withList = Self.kb(commonWords: ["Urlaub"])
        let resolved = { (kb: KnowledgeBase) in kb.index.plan("Urlaub").map(\.resolution) }
        #expect(resolved(plain) == [.fuzzy])  // without the list: "erlaubt", a typo correction
        #expect(resolved(withList) == [.unknown])
        #expect(withList.suggestions(for: "Urlaub").isEmpty)

        let message = "Ich bin im Urlaub, wie kann ich meine Anrufe weiterleiten?"
        let before = plain.suggestions(for: message, threshold: 0).first { $0.article.id == "T-1" }?.confidence ?? 0
        let after = withList.suggestions(for: message).first
        #expect(after?.article.id == "T-1")
        #expect((after?.confidence ?? 0) > before, "a guessed word no longer counts as missing")
        #expect(!withList.suggestions(for: message, threshold: 0).contains { $0.article.id == "T-2" })
    }

    @Test("A real typo is still corrected, also next to common words")
    func typoStillCorrected() {
        let kb = Self.kb(commonWords: ["Urlaub", "bitte"])
        #expect(kb.index.plan("Anrufe weiterleitn").map(\.resolution).contains(.fuzzy))
        #expect(kb.suggestions(for: "Anrufe weiterleitn bitte").first?.article.id == "T-1")
    }

    @Test("The shipped common-word lists hold ordinary words, not the typos customers make")
    func shippedLists() {
        let common = SampleKB.vocabulary.commonWords
        #expect(common.count > 20_000)
        for word in ["urlaub", "zwei", "free", "kunden", "wochen"] {
            #expect(common.contains(word), "\(word)")
        }
        for typo in ["pasword", "wiederherstelen", "firewal", "hedset", "fowarding", "invoces"] {
            #expect(!common.contains(typo), "\(typo)")
        }
        #expect(common.contains("große") == false && common.contains("grosse"), "folded like the search folds text")
    }

    @Test("A long message that names its topic among other known words is still answered")
    func longMessage() {
        let kb = Self.kb(commonWords: [])
        let message = "Hallo, ab morgen zwei Wochen weg: Kollegen sollen meine Anrufe bekommen, Telefon bleibt aus. "
            + "Wie kann ich die Anrufe weiterleiten?"
        let offered = kb.suggestions(for: message)
        #expect(offered.first?.article.id == "T-1", "\(offered.map { ($0.article.id, $0.confidence) })")
        // The other known words do not make their articles answers.
        #expect(offered.count == 1)
        // Naming only the other topics' words offers nothing.
        #expect(kb.suggestions(for: "ab morgen zwei Wochen weg, Telefon bleibt aus").allSatisfy { $0.article.id != "T-1" })
    }

    @Test("Of an article and its translation, the one in the customer's language comes first")
    func translatedPairs() {
        #expect(SampleKB.kb.suggestions(for: "Die Weboberfläche geht nicht auf").first?.article.id == "KB-1036")
        #expect(SampleKB.kb.suggestions(for: "The web interface does not open").first?.article.id == "KB-1035")
        for problem in ["Die Weboberfläche geht nicht auf", "The web interface does not open"] {
            let offered = SampleKB.kb.suggestions(for: problem)
            // Confidence agrees with rank: never higher after a lower one.
            #expect(zip(offered, offered.dropFirst()).allSatisfy { $0.confidence >= $1.confidence })
        }
    }

    @Test("A word that no article has in its title or tags costs an article without it half its weight")
    func bodyOnlyWord() throws {
        func kb(paymentTitle: String) -> KnowledgeBase {
            KnowledgeBase(articles: [
                testArticle("T-1", "Öffnungszeiten und Ansage einrichten", tags: ["Öffnungszeiten", "Ansage"],
                            body: "Legen Sie fest, wann Anrufer die Ansage hören."),
                testArticle("T-2", paymentTitle, tags: ["Zahlungsart", "Kreditkarte"],
                            body: "Hinterlegen Sie eine neue Kreditkarte im Portal."),
                testArticle("T-3", "Standort für Notrufe", tags: ["Notruf", "Standort"],
                            body: "Hinterlegen Sie die Adresse jedes Standorts."),
            ], vocabulary: .empty)
        }
        // "hinterlegen" only in texts: no topic of this KB, a verb of the sentence.
        let bodyOnly = kb(paymentTitle: "Zahlungsart ändern")
        // The same word in a title: a topic the opening-hours article lacks.
        let topic = kb(paymentTitle: "Kreditkarte hinterlegen")
        let query = "Öffnungszeiten hinterlegen"
        #expect(bodyOnly.index.plan(query).first { $0.word == "hinterlegen" }?.missingShare == 0.5)
        #expect(topic.index.plan(query).first { $0.word == "hinterlegen" }?.missingShare == 1)
        let relaxed = try #require(bodyOnly.suggestions(for: query, threshold: 0).first)
        let strict = try #require(topic.suggestions(for: query, threshold: 0).first { $0.article.id == "T-1" })
        #expect(relaxed.article.id == "T-1")
        #expect(relaxed.confidence > strict.confidence + 0.05, "\(relaxed.confidence) vs \(strict.confidence)")
    }

    @Test("A vocabulary file names its common-word lists; a missing list is an error naming file and line")
    func commonWordsFile() throws {
        let tmp = try TemporaryKB()
        try tmp.write("words/de.txt", "# comment\nUrlaub\n\nGrüße\n")
        try tmp.write("good.json5", "{ commonWords: [\"words/de.txt\"], concepts: [] }")
        let vocabulary = try Vocabulary.load([tmp.folder.appendingPathComponent("good.json5")])
        #expect(vocabulary.commonWords == ["urlaub", "grusse"])

        try tmp.write("bad.json5", "{\n  commonWords: [\"words/de.txt\", \"words/missing.txt\"],\n  concepts: [],\n}")
        do {
            _ = try Vocabulary.load([tmp.folder.appendingPathComponent("bad.json5")], displayName: { $0.lastPathComponent })
            Issue.record("a missing word list loaded")
        } catch {
            let issue = error.issues.first
            #expect(error.issues.count == 1)
            #expect(issue?.file == "bad.json5" && issue?.line == 2, "\(error.issues)")
            #expect(issue?.message.contains("words/missing.txt") == true && issue?.message.contains("No such file") == true,
                    "\(error.issues)")
        }
    }
}

/// How a chat sentence is parsed: words of the sentence that are no topic
/// must not be read as one.
@Suite("Chat sentences: parsing")
struct ChatSentenceParsingTests {
    static let kb = KnowledgeBase(articles: [
        testArticle("P-1", "Rechnung bearbeiten", tags: ["Rechnung", "bearbeiten", "korrigieren"],
                    body: "So bearbeiten Sie eine Rechnung, bevor sie versendet ist."),
        testArticle("P-2", "Lieferung beenden", tags: ["Lieferung", "Ende"],
                    body: "Am Ende des Monats endet die Lieferung."),
        testArticle("P-3", "Wärmepumpe ansteuern", tags: ["Wärmepumpe", "System"],
                    body: "Ihr System steuert die Wärmepumpe mit dem Überschuss."),
    ], vocabulary: Vocabulary(concepts: [.init(de: ["Währung", "Euro", "EUR"], en: ["currency", "euro", "eur"])]))

    @Test("A word and the stop word after it are not joined when the join stems like the word alone")
    func noJoinWithFollowingStopWord() {
        // "bearbeiten der" joined is "bearbeitender", which stems like
        // "bearbeiten" and was then split into "bearbeit" and "end", so the
        // article about an end ("Ende", P-2) matched an editing question.
        let clauses = Self.kb.index.plan("kann die Rechnung nicht bearbeiten, der Knopf ist grau")
        #expect(clauses.map(\.word).contains("bearbeiten"))
        #expect(!clauses.map(\.word).contains("bearbeitender"))
        #expect(!Self.kb.search("kann die Rechnung nicht bearbeiten, der Knopf ist grau").contains { $0.article.id == "P-2" })
        // A real open compound still joins ("log in" → "login" in the other tests).
    }

    @Test("'eurem' (your) is a stop word, not the currency EUR")
    func possessiveIsNoCurrency() {
        let clauses = Self.kb.index.plan("Geht das mit eurem System und der Wärmepumpe?")
        #expect(!clauses.contains { $0.resolution == .uncoveredTopic }, "\(clauses.map { ($0.word, $0.resolution) })")
        #expect(Self.kb.suggestions(for: "Geht das mit eurem System und der Wärmepumpe?").first?.article.id == "P-3")
    }
}
