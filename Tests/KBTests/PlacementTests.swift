import Foundation
import TestSupport
import Testing
@testable import KB

/// Issue 11: where the customer's words stand in an article. Words that
/// stand together in one paragraph or step of the body point at the
/// article more than the same words scattered over its paragraphs.
@Suite("Placement: the query's words together in one paragraph or step", .awaiting { try await SampleKB.ready.value() })
struct PlacementTests {
    /// An article whose summary is its first paragraph, as the parser makes it.
    static func article(_ id: String, _ title: String, tags: [String], body: String) -> Article {
        Article(id: id, title: title, url: URL(string: "https://docs.example/\(id)")!, tags: tags, language: .de,
                summary: ArticleParser.firstParagraph(of: body), body: body, source: "\(id).md")
    }

    /// P-1 has the four words of "Status-LED blinkt blau" in one step, P-2
    /// the same words each in a paragraph of its own; neither has them in
    /// its title or tags. The other articles make the words rare.
    static let kb = KnowledgeBase(articles: [
        article("P-1", "Firmware aktualisieren", tags: ["Firmware", "Update"], body: """
            Neue Firmware bringt Verbesserungen.

            ## Schritte
            1. Laden Sie die Datei im Portal herunter.
            2. Während des Updates blinkt die Status-LED blau.
            3. Warten Sie zehn Minuten.
            """),
        article("P-2", "Gehäuse reinigen", tags: ["Reinigung", "Gehäuse"], body: """
            Reinigen Sie das Gehäuse mit einem trockenen Tuch; der Status bleibt erhalten.

            Die LED an der Front darf dabei leuchten.

            Ein Warnsignal blinkt nur bei Nässe.

            Verwenden Sie kein Reinigungsmittel, das blau färbt.
            """),
        article("P-3", "Drucker einrichten", tags: ["Drucker"], body: "Verbinden Sie den Drucker per Kabel."),
        article("P-4", "Passwort ändern", tags: ["Passwort"], body: "Öffnen Sie die Einstellungen und ändern Sie das Passwort."),
        article("P-5", "Rechnung herunterladen", tags: ["Rechnung"], body: "Die Rechnung finden Sie im Kundenkonto."),
        article("P-6", "Benutzer anlegen", tags: ["Benutzer"], body: "Legen Sie neue Benutzer in der Verwaltung an."),
        article("P-7", "Sicherung planen", tags: ["Sicherung"], body: "Die Sicherung läuft jede Nacht."),
        article("P-8", "WLAN verbinden", tags: ["WLAN"], body: "Wählen Sie das Netz und geben Sie den Schlüssel ein."),
        article("P-9", "Telefon zurücksetzen", tags: ["Telefon"], body: "Setzen Sie das Telefon auf Werkseinstellungen zurück."),
        article("P-10", "Lizenz verlängern", tags: ["Lizenz"], body: "Verlängern Sie die Lizenz vor ihrem Ablauf."),
    ])

    @Test("A body is cut into blocks: paragraphs, list items with their continued lines, headings, code fences")
    func blocks() {
        let body = """
            Erster Absatz mit Text
            und seiner zweiten Zeile.

            ## Schritte
            1. Router öffnen.
               weiter im Schritt eins
            2. Kabel prüfen.
            - Hinweis Alpha
            * Hinweis Beta

            ```
            code zeile

            ausgabe code
            ```
            Danach ein Absatz.
            """
        let placed = Placement.bodyTokens(body)
        #expect(placed.tokens == TextAnalysis.tokens(body).filter { !StopWords.contains($0) })
        func block(_ word: String) -> UInt32? {
            placed.tokens.firstIndex { $0.key == word }.map { placed.blocks[$0] }
        }
        let expected: [(String, Int)] = [
            ("erster", 0), ("zeile", 0), ("schritte", 1), ("router", 2), ("eins", 2), ("kabel", 3),
            ("alpha", 4), ("beta", 5), ("code", 6), ("ausgabe", 6), ("danach", 7),
        ]
        for (word, index) in expected {
            #expect(block(word) == Placement.block(index), "\(word)")
        }
        // Past the last bit, blocks have none: never together.
        #expect(Placement.block(Placement.maximumBlocks - 1) == 1 << 31)
        #expect(Placement.block(Placement.maximumBlocks) == 0)
    }

    @Test("Words together in one step are more evidence than the same words in paragraphs of their own")
    func togetherIsEvidence() throws {
        let query = "Status-LED blinkt blau"
        let hits = Self.kb.search(query, limit: 3)
        let together = try #require(hits.first { $0.article.id == "P-1" })
        let scattered = try #require(hits.first { $0.article.id == "P-2" })
        #expect(together.confidence > scattered.confidence + 0.1, "\(together.confidence) \(scattered.confidence)")
        #expect(Self.kb.suggestions(for: query).map(\.article.id) == ["P-1"])

        let plan = Self.kb.index.plan(query)
        let p1 = try #require(Self.kb.articles.firstIndex { $0.id == "P-1" })
        let p2 = try #require(Self.kb.articles.firstIndex { $0.id == "P-2" })
        #expect(Self.kb.index.togetherEvidence(plan, document: p2).evidence == 0)
        #expect(Self.kb.index.togetherEvidence(plan, document: p1).evidence > 0)
        // One word in the step is no word together.
        #expect(Self.kb.index.togetherEvidence(Self.kb.index.plan("blau Tuch"), document: p1).evidence == 0)
    }

    @Test("kb explain says which words stand together")
    func explained() {
        let lines = Self.kb.explain("Status-LED blinkt blau")
        let evidence = lines.filter { $0.contains("evidence") && $0.contains("confidence") }
        #expect(evidence.count >= 2)
        #expect(evidence.first?.contains("(words together in one paragraph or step: status, led, blinkt, blau)") == true,
                "\(lines.joined(separator: "\n"))")
        #expect(evidence.dropFirst().allSatisfy { !$0.contains("together") })
    }

    @Test("NordBox: a blinking status LED finds the firmware update, whose step says the LED blinks blue")
    func nordBoxStatusLED() {
        // Every word is in the body only ("die Status-LED blinkt blau" in
        // a step of KB-1018 and KB-1036): 0.50 before, 0.65 now.
        let offered = SampleKB.kb.suggestions(for: "Status-LED blinkt seit einer Stunde blau").map(\.article.id)
        #expect(offered.first.map { ["KB-1018", "KB-1019", "KB-1035", "KB-1036"].contains($0) } == true, "\(offered)")
    }
}
