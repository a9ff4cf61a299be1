import Testing
@testable import KB

/// Words as customers write them, which the search used to read as some
/// other word (issue 11): a verb with an umlaut read as a stop word, a
/// one-letter part of a hyphenated word dropped, a typo in a word only an
/// article's questions contain, a product word expanded into an unrelated
/// English word.
@Suite("Word forms customers write")
struct WordFormTests {
    /// The keys of `text`'s words that are not stop words.
    func words(_ text: String) -> [String] {
        TextAnalysis.tokens(text).filter { !StopWords.contains($0) }.map(\.key)
    }

    /// The ids of the articles `kb` ranks for `message`, best first.
    func ranked(_ kb: KnowledgeBase, _ message: String) -> [String] {
        kb.index.evaluate(kb.plan(message), limit: 5).map { kb.articles[$0.document].id }
    }

    @Test("A word written with an umlaut that folds to a stop word stays a word: 'ändere' is not 'andere'")
    func umlautWordIsNotTheStopWordItFoldsTo() {
        #expect(words("Wie ändere ich die PIN?") == ["andere", "pin"])
        #expect(words("Wie aendere ich die PIN?") == ["andere", "pin"])
        #expect(words("Wie a\u{308}ndere ich die PIN?") == ["andere", "pin"])  // decomposed ä
        #expect(words("eine andere PIN") == ["pin"])
        // Stop words written with an umlaut stay stop words in every spelling,
        // also typed without umlauts; ß is no umlaut ("muß" is "muss").
        #expect(words("für fuer fur FÜR über ueber uber muß muss daß dass wären waren") == [])
        // English words that collapse like a transliteration are words too.
        #expect(words("payment due") == ["payment", "du"])
    }

    @Test("'Wie ändere ich die PIN?' finds the article on changing a PIN before another PIN article")
    func umlautVerbFindsItsArticle() throws {
        let kb = KnowledgeBase(articles: [
            testArticle("KB-1", "Kartenzahlung mit PIN", tags: ["Kartenzahlung", "PIN", "Terminal"],
                        body: "Der Kunde gibt die PIN am Terminal ein."),
            testArticle("KB-2", "PIN eines Mitarbeiters ändern", tags: ["PIN", "Mitarbeiter", "ändern"],
                        body: "Öffnen Sie die Mitarbeiterverwaltung und ändern Sie die PIN."),
        ], vocabulary: .empty)
        for message in ["Wie ändere ich die PIN?", "Wie aendere ich die PIN?"] {
            #expect(kb.plan(message).contains { $0.word == "andere" && !$0.alternatives.isEmpty }, "\(message)")
            #expect(ranked(kb, message) == ["KB-2", "KB-1"], "\(message)")
            let scores = kb.index.evaluate(kb.plan(message), limit: 5).map(\.score)
            try #require(scores.count == 2)
            #expect(scores[0] > scores[1], "\(message)")
        }
    }

    @Test("A typo in a word only an article's questions have is corrected into that word")
    func typoInAQuestionOnlyWord() throws {
        // "Geldfach" is in a question of KB-1 and in no article's text.
        let kb = QuestionTests.withQuestions
        #expect(kb.index.termIDs["geldfach"] == nil)
        func fraction(_ message: String) -> Float? {
            kb.plan(message).flatMap(\.questionHits).filter { $0.document == 0 }.map(\.fraction).max()
        }
        #expect(fraction("Warum öffnet die Kasse das Geldfach nicht?") == 1)
        let typo = try #require(fraction("Warum öffnet die Kasse das Gelfdach nicht?"))
        #expect(typo >= Tuning.fuzzyUniqueMatch && typo < 1)
        #expect(kb.suggestions(for: "Kasse öffnet das Gelfdach nicht").first?.article.id == "KB-1")
        // Two letters away is no typo.
        #expect((fraction("Warum öffnet die Kasse das Geldfall nicht?") ?? 0) < typo)
    }

    @Test("A letter before a hyphen or a space joins its word: 'Z-Bon', 'Z Bon', 'Zbon' and 'z-bon' are one word")
    func letterBeforeAWord() {
        for spelling in ["Z-Bon", "Z Bon", "Zbon", "z-bon", "(Z-Bon)", "**Z-Bon**"] {
            #expect(words("Wo finde ich den \(spelling)?") == ["zbon"], "\(spelling)")
        }
        #expect(words("E-Mail-Adresse") == ["email", "adresse"])
        #expect(TextAnalysis.tokens("Z-Bon").first?.head?.key == "bon")
        #expect(TextAnalysis.tokens("Zbon").first?.head == nil)
        // One-letter words are no prefix across a space; after an apostrophe
        // or a full stop no letter joins; a letter and one more letter are no word.
        #expect(words("I printed a report") == ["printed", "report"])
        #expect(words("the printer's report") == ["printer", "report"])
        #expect(words("z. B. der Bericht, z.B. der Bon") == ["bericht", "bon"])
        #expect(words("USB-C Kabel") == ["usb", "kabel"])
        #expect(words("A-Z c u") == [])
        #expect(words("replace our NordBox S with an M and migrate") == ["replace", "nordbox", "migrate"])
    }

    @Test("'Z-Bon' and 'Z report' find the article on the Z report in every spelling, before another article on receipts")
    func letterWordFindsItsArticle() throws {
        let kb = KnowledgeBase(articles: [
            testArticle("KB-1", "Tagesabschluss und Z-Bon", tags: ["Tagesabschluss", "Z-Bon", "Kassenabschluss"],
                        body: "Der Tagesabschluss druckt den Z-Bon mit dem Umsatz des Tages."),
            testArticle("KB-2", "Bon nachdrucken", tags: ["Bon", "Beleg", "Drucker"],
                        body: "Einen Bon drucken Sie im Journal erneut."),
            testArticle("KB-3", "Closing the day and the Z report", tags: ["end of day", "Z report"],
                        body: "The end-of-day close prints the Z report.", language: .en),
            testArticle("KB-4", "Sales reports", tags: ["reports", "sales"],
                        body: "The report shows sales by day.", language: .en),
        ], vocabulary: .empty)
        func first(_ message: String) -> String? { ranked(kb, message).first }
        for spelling in ["Z-Bon", "Z Bon", "Zbon", "z-bon"] {
            #expect(first("Wo finde ich den \(spelling)?") == "KB-1", "\(spelling)")
        }
        for spelling in ["Z report", "Z-Report", "zreport"] {
            #expect(first("where is the \(spelling)") == "KB-3", "\(spelling)")
        }
        // The word without its letter still finds the articles that have it.
        #expect(first("Bon nachdrucken") == "KB-2")
        #expect(ranked(kb, "Bon").contains("KB-1"))
        // A question's "Z report" is said half by "report" alone.
        let questions = KnowledgeBase(articles: [
            testArticle("KB-3", "Closing the day", tags: ["end of day", "cash up"], body: "The close prints the totals.",
                        language: .en, questions: ["Where do I find the Z report?"]),
        ], vocabulary: .empty)
        func fraction(_ message: String) -> Float? { questions.plan(message).flatMap(\.questionHits).map(\.fraction).max() }
        #expect(fraction("Z-Report") == 1)
        #expect(fraction("cash-up report") == 0.5)
        #expect(questions.questions.oneWordQuestions.isEmpty)
        // A joined word no article has searches the word after the letter.
        #expect(kb.plan("X-Bon").contains { $0.word == "bon" && !$0.alternatives.isEmpty })
    }

    @Test("'iPad' and 'Tablet' do not find the article on the table: English loanwords in -et keep their ending")
    func tabletIsNoTable() {
        #expect(GermanStemmer.stem("tablet") == "tablet")
        #expect(GermanStemmer.stem("tablets") == "tablet")
        #expect(EnglishStemmer.stem("table") == "tabl")
        let kb = KnowledgeBase(articles: [
            testArticle("KB-1", "Kassen-App auf einem neuen Tablet einrichten", tags: ["Tablet", "Kassen-App", "einrichten"],
                        body: "Laden Sie die Kassen-App auf das Tablet."),
            testArticle("KB-2", "Order and pay at the table by QR code", tags: ["table", "QR code", "order"],
                        body: "Guests scan the code on their table and pay.", language: .en),
        ], vocabulary: Vocabulary(concepts: [.init(de: ["Tablet", "iPad"], en: ["tablet", "ipad"])]))
        for message in ["Kasse auf neuem iPad installieren", "Tablet einrichten", "new ipad"] {
            #expect(ranked(kb, message) == ["KB-1"], "\(message)")
        }
        #expect(ranked(kb, "pay at the table") == ["KB-2"])
    }
}
