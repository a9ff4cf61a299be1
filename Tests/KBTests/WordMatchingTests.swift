import Foundation
import Testing
@testable import KB

/// Issue 11, how a query word reaches an article's word when they are not
/// written alike: a compound's head on the article side, a finite verb
/// form, a typo, a word of the same family, a compound with a part the KB
/// lacks; and which confident article is offered.
@Suite("Word matching: compound heads, verb forms, typos, word families")
struct WordMatchingTests {
    /// A small telephony KB in German and English. No article has "Nummer",
    /// "Musik" or "Urlaub" as a word of its own, only inside compounds.
    static let kb = KnowledgeBase(articles: [
        testArticle("W-1", "Rufnummern mitnehmen", tags: ["Portierung", "Anbieterwechsel"],
                    body: "Beim Anbieterwechsel nehmen Sie Ihre Rufnummern mit."),
        testArticle("W-2", "Warteschleife einrichten", tags: ["Warteschleife", "Wartemusik"],
                    body: "Legen Sie fest, welche Wartemusik Anrufer hören."),
        testArticle("W-3", "Ansage für den Betriebsurlaub", tags: ["Ansage", "Betriebsurlaub"],
                    body: "Während des Betriebsurlaubs hören Anrufer eine eigene Ansage."),
        testArticle("W-4", "Anrufe weiterleiten", tags: ["Weiterleitung", "anrufen"],
                    body: "Wer Sie anrufen will, erreicht Sie auf dem Handy."),
        testArticle("W-5", "Receiving voicemail by e-mail", tags: ["voicemail", "transcription"],
                    body: "Voicemail messages arrive as e-mail with a transcription.", language: .en),
        testArticle("W-6", "Postfach verbinden", tags: ["Postfach", "Exchange"],
                    body: "Verbinden Sie Ihr Postfach mit dem CRM."),
        testArticle("W-7", "Call forwarding", tags: ["forwarding", "divert"],
                    body: "Forwarding sends calls to another number.", language: .en),
        testArticle("W-8", "Walking toward the exit", tags: ["toward", "exit"],
                    body: "Signs point toward the exit.", language: .en),
    ], vocabulary: Vocabulary(concepts: [], commonWords: ["Anbindung", "Nummern", "Urlaub", "Musik", "Kaffee", "rufen",
                                                          "warten", "Betrieb"]))

    static func top(_ query: String) -> String? { kb.search(query, limit: 1).first?.article.id }

    @Test("A query word finds an article that has it only as a compound's head or part, ranked first")
    func compoundHeadOnTheArticleSide() {
        #expect(Self.top("Nummern mitnehmen") == "W-1")
        #expect(Self.top("Musik") == "W-2")
        #expect(Self.top("Urlaub Ansage") == "W-3")
        // A query compound whose head is such a part splits against it.
        #expect(Self.kb.index.plan("Warteschleifenmusik").map(\.resolution) == [.compoundPart, .compoundPart])
        #expect(Self.top("Warteschleifenmusik") == "W-2")
    }

    @Test("A part in a title counts less than the whole word there")
    func partInTitleCountsLess() throws {
        let index = Self.kb.index
        let part = try #require(index.id(of: GermanStemmer.stem("nummern")))
        let whole = try #require(index.id(of: GermanStemmer.stem("rufnummern")))
        let headline = { (term: Int32) in
            (Int(index.offsets[Int(term)])..<Int(index.offsets[Int(term) + 1])).map { index.postingHeadline[$0] }.max() ?? 0
        }
        #expect(headline(whole) == 1)
        #expect(headline(part) > 0 && headline(part) < 1)
    }

    @Test("A finite verb form finds its infinitive, and a verb guess the article lacks costs nothing")
    func finiteVerbForms() {
        #expect(Self.kb.index.plan("anruft").map(\.resolution) == [.exact])
        #expect(Self.top("anruft") == "W-4")
        #expect(GermanStemmer.finiteVerbBases("wählt").contains("wählen") == false)  // umlauts are folded first
        #expect(GermanStemmer.finiteVerbBases("wahlt").contains("wahlen"))
        #expect(GermanStemmer.finiteVerbBases("meldete").contains("melden"))
        // A participle used as an adjective gives its infinitive too.
        #expect(GermanStemmer.adjectiveParticipleBase("zuruckgesetztes") == "zurucksetzen")
        #expect(TextAnalysis.queryStems(TextAnalysis.tokens("gesperrte")[0]).contains(GermanStemmer.stem("sperren")))
    }

    @Test("A weak verb's participle used as an adjective in -en ('zurückgesetzten', 'eingestellten') finds its verb, and so the verb's translation")
    func participleAdjectiveInEn() {
        // "-ten" after s, ß, z or ll is also read as a strong verb's participle ("abgelaufen"), whose
        // infinitive ("zurücksetzten") Snowball does not bring to the verb's stem; both readings count.
        func stems(_ word: String) -> [String] { TextAnalysis.queryStems(TextAnalysis.tokens(word)[0]) }
        #expect(stems("zurückgesetzten").contains(GermanStemmer.stem("zurucksetzen")))
        #expect(stems("eingestellten").contains(GermanStemmer.stem("einstellen")))
        #expect(stems("abgelaufen").contains(GermanStemmer.stem("ablaufen")))
        let kb = KnowledgeBase(articles: [
            testArticle("E-1", "Resetting a password", tags: ["password", "reset"],
                        body: "An administrator can reset a user's password.", language: .en),
            testArticle("E-2", "Configuring the mailbox", tags: ["mailbox", "configure"],
                        body: "Configure the mailbox before you add it to the mail app.", language: .en),
        ], vocabulary: Vocabulary(concepts: [.init(de: ["zurücksetzen"], en: ["reset"]),
                                             .init(de: ["einstellen"], en: ["configure"]),
                                             .init(de: ["Passwort"], en: ["password"]),
                                             .init(de: ["Postfach"], en: ["mailbox"])]))
        #expect(kb.index.plan("zurückgesetzten").map(\.resolution) == [.translated])
        #expect(kb.search("zurückgesetzten").first?.article.id == "E-1")
        #expect(kb.search("eingestellten").first?.article.id == "E-2")
    }

    @Test("A typo is corrected to the candidate that keeps its first letter")
    func typoKeepsFirstLetter() {
        let plan = Self.kb.index.plan("fowarding")
        let terms = plan.flatMap(\.alternatives).map { Self.kb.index.terms[Int($0.term)] }
        #expect(terms.contains("forward"))
        #expect(!terms.contains("toward"))
        #expect(Self.top("fowarding") == "W-7")
    }

    @Test("A word of the same family as an article's word finds it ('transcribed' — 'transcription')")
    func wordFamily() {
        #expect(Self.kb.index.plan("transcribed").map(\.resolution) == [.fuzzy])
        #expect(Self.top("voicemail transcribed") == "W-5")
    }

    @Test("A compound of a known word and an ordinary word the KB lacks is found by its known part")
    func knownModifierUnknownHead() {
        #expect(Self.top("Postfachanbindung Exchange") == "W-6")
        #expect(!Self.kb.suggestions(for: "Postfachanbindung Exchange").isEmpty)
        // A known head after an unknown word is not a match.
        #expect(Self.kb.search("Kaffeeansage").isEmpty)
    }

    @Test("A German compound of vocabulary words finds an English-only article through the words' translations")
    func compoundSplitBeforeTheVocabulary() {
        let kb = KnowledgeBase(articles: [
            testArticle("E-1", "Ring groups", tags: ["ring group", "hunt group"],
                        body: "A ring group lets several people answer one number.", language: .en),
            testArticle("E-2", "Printer queue", tags: ["printer", "queue"],
                        body: "Clear the printer queue when jobs are stuck.", language: .en),
        ], vocabulary: Vocabulary(concepts: [.init(de: ["Klingel", "klingeln"], en: ["ring"]),
                                             .init(de: ["Gruppe", "Gruppen"], en: ["group"]),
                                             .init(de: ["Drucker"], en: ["printer"]),
                                             .init(de: ["Warteschlange"], en: ["queue"])]))
        #expect(kb.index.plan("Klingelgruppe").map(\.resolution) == [.translated, .translated])
        #expect(kb.suggestions(for: "Klingelgruppe einrichten").first?.article.id == "E-1")
        #expect(kb.search("Druckerwarteschlange").first?.article.id == "E-2")
        // Not every stretch of letters is a word: nothing the vocabulary or the KB knows.
        #expect(kb.search("Kaffeegruppe").first?.article.id != "E-2")
    }

    @Test("A word the vocabulary knows whole is not read as a known part beside another word ('aus·stempeln' is not 'außer' + 'Tempel')")
    func vocabularyWordIsNotAKnownPartBesideAWord() {
        let kb = KnowledgeBase(articles: [
            testArticle("D-1", "Mehrwertsteuer im Haus und außer Haus", tags: ["Mehrwertsteuer", "außer Haus"],
                        body: "Speisen außer Haus haben einen anderen Steuersatz als Speisen im Haus."),
            testArticle("D-2", "Kasse einrichten", tags: ["Kasse", "Einrichtung"],
                        body: "Richten Sie die Kasse beim ersten Start ein."),
        ] + Self.otherTopics, vocabulary: Vocabulary(concepts: [
            .init(de: ["einstempeln", "ausstempeln", "Stempeluhr"], en: ["timeclock"]),
            .init(de: ["Tempel"], en: ["temple"]),
        ]))
        #expect(kb.index.plan("ausstempeln").map(\.resolution) == [.uncoveredTopic],
                "\(kb.index.plan("ausstempeln").map { ($0.word, $0.resolution) })")
        #expect(kb.suggestions(for: "Können die Mitarbeiter an der Kasse ausstempeln?").isEmpty)
    }

    /// Articles on other topics, so that the words of the articles under
    /// test are as rare in the KB as a topic's words are in a real one.
    static let otherTopics: [Article] = [
        testArticle("O-1", "Resetting your password", tags: ["password", "reset"],
                    body: "Reset your password from the sign-in page.", language: .en),
        testArticle("O-2", "Printer shows offline", tags: ["printer", "offline"],
                    body: "Restart the printer and check its network cable.", language: .en),
        testArticle("O-3", "Two-factor sign-in", tags: ["two-factor", "sign-in"],
                    body: "Scan the code with an authenticator app.", language: .en),
        testArticle("O-4", "Drucker druckt nicht", tags: ["Drucker", "Druckauftrag"],
                    body: "Starten Sie den Drucker neu und prüfen Sie das Netzwerkkabel."),
        testArticle("O-5", "Postfach voll", tags: ["Postfach", "Speicher"],
                    body: "Löschen Sie alte Nachrichten oder archivieren Sie sie."),
    ]

    @Test("A compound of an ordinary word and a vocabulary head finds an English article through the head, and its modifier still counts")
    func translatedHeadBesideAnOrdinaryWord() {
        let kb = KnowledgeBase(articles: [
            testArticle("C-1", "Invoicing in foreign currencies", tags: ["currency", "exchange rate"],
                        body: "Write an invoice in another currency; the exchange rate is fetched daily.", language: .en),
            testArticle("C-2", "Creating an invoice", tags: ["invoice", "create"],
                        body: "Create an invoice and send it to your customer.", language: .en),
        ] + Self.otherTopics, vocabulary: Vocabulary(concepts: [.init(de: ["Währung", "Währungen"], en: ["currency"]),
                                                                .init(de: ["Rechnung", "Rechnungen"], en: ["invoice", "invoicing"])],
                                                     commonWords: ["fremd", "Kaffee"]))
        // "Fremd·währung": the head through its translation, the modifier as a missing common word.
        #expect(kb.index.plan("Fremdwährung").map(\.resolution) == [.translated, .unknown])
        #expect(kb.search("Rechnung in Fremdwährung").first?.article.id == "C-1")
        #expect(kb.suggestions(for: "Rechnung in Fremdwährung").first?.article.id == "C-1",
                "\(kb.explain("Rechnung in Fremdwährung").joined(separator: "\n"))")
        // The modifier is the specific part: the head alone never covers the whole word.
        let alone = kb.index.evaluate(kb.index.plan("Kaffeewährung"), limit: 1)
        #expect(alone.first?.document == 0)
        #expect((alone.first?.coverage ?? 1) < 0.7)
        // Not a compound: no common word before the head (a typo or a name).
        #expect(kb.index.plan("Xqzwährung").map(\.resolution) == [.unknown])
    }

    @Test("An article and its translation take one place among the suggestions, in the customer's language")
    func translationsTakeOnePlace() {
        let kb = KnowledgeBase(articles: [
            testArticle("T-1", "VPN Client einrichten", tags: ["VPN", "Client"],
                        body: "Den VPN Client installieren und einrichten.", translation: "T-2"),
            testArticle("T-2", "Setting up the VPN client", tags: ["VPN", "client"],
                        body: "Install and set up the VPN client.", language: .en, translation: "T-1"),
            testArticle("T-3", "VPN Client unter macOS einrichten", tags: ["VPN", "Client", "macOS"],
                        body: "Den VPN Client auf dem Mac einrichten."),
            testArticle("T-4", "VPN Client unter Linux einrichten", tags: ["VPN", "Client", "Linux"],
                        body: "Den VPN Client unter Linux einrichten."),
        ] + Self.otherTopics, vocabulary: Vocabulary(concepts: [.init(de: ["einrichten"], en: ["set up", "setting up"]),
                                                                .init(de: ["installieren"], en: ["install"])]))
        // T-3 and T-4 lack "installieren": less confident than T-1 and T-2.
        let query = "Wie kann ich den VPN Client installieren und einrichten?"
        let offered = kb.suggestions(for: query).map(\.article.id)
        // Without the rule: T-1 and T-2, the same answer twice (T-3 and T-4
        // are under the relative confidence floor).
        #expect(offered == ["T-1"], "\(kb.explain(query).joined(separator: "\n"))")
        let english = kb.suggestions(for: "How do I install and set up the VPN client?").map(\.article.id)
        #expect(english.first == "T-2")
        #expect(!english.contains("T-1"))
    }

    @Test("A compound that is two vocabulary words is not cut into three article words")
    func fewerPartsThroughTheVocabulary() {
        let kb = KnowledgeBase(articles: [
            testArticle("V-1", "Voicemail per E-Mail", tags: ["Voicemail", "Weiterleitung"],
                        body: "Die Voicemail kommt als Nachricht per E-Mail."),
            testArticle("V-2", "Sprache der Oberfläche", tags: ["Sprache"], body: "Die Sprache wählen Sie selbst."),
        ], vocabulary: Vocabulary(concepts: [.init(de: ["Sprachnachricht", "Sprachnachrichten"], en: ["voicemail"])]))
        let plan = kb.index.plan("Sprachnachrichtenweiterleitung")
        #expect(plan.count == 2)
        #expect(plan.first?.resolution == .translated)
        #expect(kb.search("Sprachnachrichtenweiterleitung").first?.article.id == "V-1")
    }
}
