import Foundation
import Testing
@testable import KB

/// The questions customers ask for an article (header `questions:`): a
/// message that says what one of them says is offered that article, and
/// the question's words raise no other article.
@Suite("Customers' questions")
struct QuestionTests {
    static let drawerQuestion = "Die Schublade mit dem Bargeld springt nicht auf"
    static func articles(questions: Bool) -> [Article] {
        [
            testArticle("KB-1", "Kassenlade öffnet sich nicht", tags: ["Kassenlade", "Bondrucker", "Kabel"],
                        body: "Die Kassenlade hängt mit einem Kabel am Bondrucker; prüfen Sie die Verbindung.",
                        questions: questions ? [drawerQuestion, "Warum öffnet die Kasse das Geldfach nicht?"] : []),
            testArticle("KB-2", "Bargeld zählen beim Tagesabschluss", tags: ["Tagesabschluss", "Bargeld", "Zählprotokoll"],
                        body: "Zählen Sie das Bargeld am Ende des Tages und tragen Sie es ins Zählprotokoll ein."),
            testArticle("KB-3", "Bondrucker einrichten", tags: ["Bondrucker", "Drucker", "Netzwerk"],
                        body: "Verbinden Sie den Bondrucker per Netzwerkkabel mit dem Router.",
                        questions: questions ? ["Der Drucker in der Küche druckt keine Bestellungen mehr, nur leeres Papier"] : []),
        ]
    }
    static let concepts = [Vocabulary.Concept(de: ["Schublade"], en: ["drawer"]),
                           Vocabulary.Concept(de: ["Bargeld"], en: ["cash"])]
    static let withQuestions = KnowledgeBase(articles: articles(questions: true),
                                             vocabulary: Vocabulary(concepts: concepts))
    static let withoutQuestions = KnowledgeBase(articles: articles(questions: false),
                                                vocabulary: Vocabulary(concepts: concepts))

    func candidate(_ kb: KnowledgeBase, _ message: String, _ id: String) -> RankedDocument? {
        kb.index.evaluate(kb.plan(message), limit: 10).first { kb.articles[$0.document].id == id }
    }

    @Test("A message that says what an article's question says is offered that article; without the question it is not")
    func paraphraseIsOffered() {
        // Other word order, other inflections, chat words around it.
        let message = "Hallo, bei uns springen die Schubladen fürs Bargeld seit heute nicht mehr auf"
        #expect(Self.withQuestions.suggestions(for: message).first?.article.id == "KB-1")
        #expect(!Self.withoutQuestions.suggestions(for: message).contains { $0.article.id == "KB-1" })
        // A full match is as confident as a message of title words.
        let full = candidate(Self.withQuestions, Self.drawerQuestion, "KB-1")
        #expect(full?.evidence == 1)
        #expect(full?.coverage == 1)
    }

    @Test("A question's words count for its article only, and only two or more of them together")
    func onlyForItsArticle() throws {
        let message = "Schublade Bargeld springt"
        for clause in Self.withQuestions.plan(message) {
            #expect(clause.questionHits.allSatisfy { $0.document == 0 }, "\(clause.word)")
        }
        // The other articles score as they do without questions; the
        // question's own word "springt", in no article, is a word the KB
        // knows now, and counts against them as an article's word would.
        let with = try #require(candidate(Self.withQuestions, message, "KB-2"))
        let without = try #require(candidate(Self.withoutQuestions, message, "KB-2"))
        #expect(with.confidence < without.confidence)
        #expect(with.score == without.score)
        #expect(candidate(Self.withQuestions, message, "KB-3") == nil)
        // One word of a question is not a match: "Bargeld" alone is not about the drawer.
        #expect(Self.withQuestions.plan("Wie zähle ich das Bargeld?").allSatisfy { $0.questionHits.isEmpty })
        #expect(candidate(Self.withQuestions, "Wie zähle ich das Bargeld?", "KB-1") == nil)
        // Two words of a long question are a coincidence, not the question:
        // less than half of it counts for nothing.
        #expect(Self.withQuestions.plan("Bestellungen aus der Küche per App").allSatisfy { $0.questionHits.isEmpty })
        #expect(Self.withQuestions.plan("Küchendrucker druckt nur leeres Papier").flatMap(\.questionHits)
            .contains { $0.document == 2 })
    }

    @Test("A partial match counts in proportion; vocabulary relatives and compound parts match")
    func partialMatch() throws {
        // "drawer" and "cash" through the vocabulary: two of the three words.
        let partial = try #require(candidate(Self.withQuestions, "the cash drawer", "KB-1"))
        let hits = Self.withQuestions.plan("the cash drawer").flatMap(\.questionHits).filter { $0.evidence > 0 }
        let fraction = try #require(hits.first?.fraction)
        #expect(fraction > 0.5 && fraction < 1)
        #expect(abs(partial.evidence - fraction) < 0.001)
        #expect(candidate(Self.withoutQuestions, "the cash drawer", "KB-1") == nil)
        // A compound in the message matches the question's words apart: "Bargeldschublade".
        let compound = Self.withQuestions.plan("Bargeldschublade springt nicht auf").flatMap(\.questionHits)
        #expect(compound.contains { $0.document == 0 && $0.fraction == 1 })
    }

    @Test("Another form of chat filler in a question is left out, as the message leaves out the filler")
    func fillerForm() throws {
        // "Mitarbeiter" is chat filler (StopWords); "Mitarbeiters" is its genitive.
        let kb = KnowledgeBase(articles: [
            testArticle("KB-1", "Zugangscode der Kasse", tags: ["Kasse", "Zugang"], body: "Jeder meldet sich mit einem Code an.",
                        questions: ["Wie setze ich die PIN eines Mitarbeiters neu?"]),
            testArticle("KB-2", "Tagesabschluss", tags: ["Tagesabschluss"], body: "Am Abend schließen Sie die Kasse ab."),
        ])
        let hits = kb.plan("Mitarbeiter PIN neu setzen").flatMap(\.questionHits)
        #expect(try #require(hits.first).fraction == 1)
    }

    @Test("kb explain names the question that matched")
    func explainNamesTheQuestion() {
        let lines = Self.withQuestions.explain("die Schublade mit Bargeld springt nicht auf")
        #expect(lines.contains { $0.contains("KB-1 \"\(Self.drawerQuestion)\": 100 % of its words") }, "\(lines)")
        #expect(!Self.withoutQuestions.explain("die Schublade mit Bargeld springt nicht auf").contains { $0.contains("questions") })
    }

    @Test("questions: in the header, separated by '|', the key repeatable; bad ones are reported with their line")
    func header() throws {
        let kb = try TemporaryKB()
        func article(_ id: String, _ questions: [String]) -> String {
            TemporaryKB.article(id: id, title: "Kassenlade", language: "de")
                .replacingOccurrences(of: "language: de", with: (["language: de"] + questions).joined(separator: "\n"))
        }
        try kb.write("good.md", article("KB-1", ["questions: Die Lade geht nicht auf | Why won't the drawer open?",
                                                 "questions: \"Geldfach klemmt\""]))
        try kb.write("empty.md", article("KB-2", ["questions: Lade klemmt || Geldfach"]))
        try kb.write("long.md", article("KB-3", ["questions: " + String(repeating: "Lade ", count: 40)]))
        try kb.write("many.md", article("KB-4", ["questions: " + (1...13).map { "Frage \($0)" }.joined(separator: " | ")]))
        let (loaded, errors) = KnowledgeBase.load(from: kb.folder)
        #expect(loaded.article(id: "KB-1")?.questions == ["Die Lade geht nicht auf", "Why won't the drawer open?",
                                                         "Geldfach klemmt"])
        func error(_ file: String) -> KBLoadError? { errors.first { $0.file == file } }
        for file in ["empty.md", "long.md", "many.md"] {
            #expect(error(file)?.kind == .invalidValue, "\(file)")
            #expect(error(file)?.field == "questions", "\(file)")
            #expect(error(file)?.line == 7, "\(file)")
        }
        #expect(error("empty.md")?.message.contains("question 2 of this line is empty") == true)
        #expect(error("many.md")?.message.contains("at most 12") == true)
        #expect(loaded.count == 1)
    }

    @Test("A question of one word that counts is reported when the KB loads, and the article still loads")
    func oneWordQuestionIsReported() throws {
        let kb = try TemporaryKB()
        func article(_ id: String, _ questions: String) -> String {
            TemporaryKB.article(id: id, title: "Rechnung schreiben", language: "de")
                .replacingOccurrences(of: "language: de", with: "language: de\nquestions: " + questions)
        }
        try kb.write("weak.md", article("KB-1", "Was muss alles auf eine Rechnung? | Wie storniere ich eine Rechnung?"))
        try kb.write("good.md", article("KB-2", "Wie schicke ich die Rechnung per Mail?"))
        let (loaded, errors) = KnowledgeBase.load(from: kb.folder)
        #expect(loaded.count == 2)
        #expect(errors.count == 1, "\(errors)")
        let note = try #require(errors.first)
        #expect(note.kind == .oneWordQuestion && note.file == "weak.md" && note.field == "questions")
        #expect(note.message.contains("\"Was muss alles auf eine Rechnung?\""), "\(note.message)")
        #expect(note.message.contains("'rechnung'"), "\(note.message)")
        #expect(!note.skipsFile)
    }
    /// A password article whose question has a compound ("Passwortrücksetzung")
    /// that no article has, nor both its parts ("Rücksetzung").
    static let passwordKB = KnowledgeBase(articles: [
        testArticle("KB-1", "Passwort zurücksetzen", tags: ["Passwort", "Kennwort"],
                    body: "Klicken Sie auf der Anmeldeseite auf Passwort vergessen und folgen Sie dem Link in der E-Mail.",
                    questions: ["Passwortrücksetzung funktioniert nicht"]),
        testArticle("KB-2", "Anmeldung mit zwei Faktoren", tags: ["Anmeldung", "Sicherheit"],
                    body: "Bestätigen Sie die Anmeldung mit dem Code aus der App."),
    ])

    @Test("A message word only a question has counts for its article as a title word, and against the others")
    func questionOnlyWordCounts() throws {
        let kb = Self.passwordKB
        #expect(kb.index.termIDs["passwortrucksetzung"] == nil && kb.index.termIDs["rucksetzung"] == nil)
        let message = "Passwortrücksetzung funktioniert nicht"
        let full = try #require(candidate(kb, message, "KB-1"))
        #expect(full.coverage == 1, "\(kb.explain(message))")
        #expect(full.evidence == 1)
        #expect(kb.suggestions(for: message).first?.article.id == "KB-1")
        #expect(kb.plan(message).map(\.resolution) == [.questionWord])
        #expect(kb.explain(message).contains { $0.contains("a word of customers' questions only") })
        // Like a word of an article, it counts against an article without it:
        // the 2FA article covers only "Anmeldung" of the message.
        let other = try #require(candidate(kb, "Anmeldung Passwortrücksetzung", "KB-2"))
        #expect(other.coverage < 0.75, "\(kb.explain("Anmeldung Passwortrücksetzung"))")
        // With a typo, as a typo correction: the article is still offered.
        let typo = try #require(candidate(kb, "Paswortrücksetzung funktioniert nicht", "KB-1"))
        #expect(typo.coverage >= Tuning.fuzzyUniqueMatch * Tuning.fuzzyUniqueMatch && typo.coverage < 1)
        #expect(kb.suggestions(for: "Paswortrücksetzung funktioniert nicht").first?.article.id == "KB-1")
        // A word of a question the message does not match says nothing of the
        // KB's topics and stays unknown: "springt" (one of three words of the
        // drawer question) neither helps nor hurts.
        let unmatched = "Kassenlade springt nicht auf"
        #expect(Self.withQuestions.plan(unmatched).allSatisfy { $0.questionHits.isEmpty })
        #expect(Self.withQuestions.plan(unmatched).first { $0.word == "springt" }?.resolution == .unknown)
        #expect(candidate(Self.withQuestions, unmatched, "KB-1")?.confidence
            == candidate(Self.withoutQuestions, unmatched, "KB-1")?.confidence)
    }

    @Test("A compound in a question whose parts are article words is matched whole and by its parts")
    func questionCompoundOfArticleWords() throws {
        let kb = KnowledgeBase(articles: [
            testArticle("KB-1", "Passwort zurücksetzen", tags: ["Passwort"],
                        body: "Die Rücksetzung erfolgt über den Link in der E-Mail.",
                        questions: ["Passwortrücksetzung funktioniert nicht"]),
            testArticle("KB-2", "Rücksetzung der Kasse", tags: ["Kasse", "Rücksetzung"],
                        body: "Die Kasse auf Werkseinstellungen zurücksetzen."),
        ])
        for message in ["Passwortrücksetzung funktioniert nicht", "Rücksetzung vom Passwort klappt nicht"] {
            let found = try #require(candidate(kb, message, "KB-1"), "\(message)")
            #expect(found.coverage == 1 && found.evidence == 1, "\(kb.explain(message))")
            #expect(kb.suggestions(for: message).first?.article.id == "KB-1", "\(message)")
        }
    }
}
