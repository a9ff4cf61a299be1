import Foundation
import TestSupport
import Testing
@testable import KB

/// Symptom phrasings (`phrases` in a vocabulary file): a customer who
/// describes a symptom in words no article uses ("I hear myself twice")
/// is offered the article that names it ("echo").
@Suite("Phrases", .awaiting { try await SampleKB.ready.value() })
struct PhraseTests {
    static let articles = [
        testArticle("KB-1", "Echo on calls", tags: ["echo", "calls"],
                    body: "If the other side hears an echo, lower the speaker volume and use a headset.", language: .en),
        testArticle("KB-2", "Resetting your password", tags: ["password", "reset"],
                    body: "Open the sign-in page and choose forgotten password.", language: .en),
        testArticle("KB-3", "Setting up call forwarding", tags: ["forwarding", "calls"],
                    body: "Forward your calls to another number in the settings.", language: .en),
    ]

    static let echo = Vocabulary.Phrase(de: ["hören sich selbst"], en: ["hear myself", "hear my own voice"],
                                        means: ["echo"])
    static let calls = Vocabulary.Concept(de: ["Anruf", "Anrufe"], en: ["call", "calls"])
    static let withPhrases = KnowledgeBase(articles: articles, vocabulary: Vocabulary(concepts: [calls], phrases: [echo]))
    static let withoutPhrases = KnowledgeBase(articles: articles, vocabulary: Vocabulary(concepts: [calls]))

    @Test("A symptom in other words is offered the article that names it; without the phrase it is not")
    func phraseFindsTheArticle() {
        let message = "I hear myself a second later"
        #expect(Self.withPhrases.suggestions(for: message).first?.article.id == "KB-1")
        #expect(Self.withoutPhrases.suggestions(for: message).isEmpty)
        // German phrasing, with the verb in another form than written.
        let german = "Bei Anrufen hört der Kunde sich selbst"
        #expect(Self.withPhrases.suggestions(for: german).first?.article.id == "KB-1")
        #expect(!Self.withoutPhrases.suggestions(for: german).contains { $0.article.id == "KB-1" })
    }

    @Test("The phrasing's words must stand close together")
    func wordsFarApart() {
        let message = "I can hear the ringing but the forwarding to my mobile, which I set up myself, fails"
        #expect(!Self.withPhrases.suggestions(for: message).contains { $0.article.id == "KB-1" })
    }

    @Test("A phrase whose meaning no article has changes nothing")
    func meaningNotInTheKB() {
        let articles = Self.articles.filter { $0.id != "KB-1" }
        let with = KnowledgeBase(articles: articles, vocabulary: Vocabulary(concepts: [Self.calls], phrases: [Self.echo]))
        let without = KnowledgeBase(articles: articles, vocabulary: Vocabulary(concepts: [Self.calls]))
        for message in ["I hear myself when I forward calls", "hear my own voice after resetting the password"] {
            let a = with.search(message), b = without.search(message)
            #expect(a.map(\.article.id) == b.map(\.article.id))
            #expect(a.map(\.confidence) == b.map(\.confidence))
        }
    }

    @Test("A phrase the customer's own words already name is not searched twice")
    func alreadyNamed() {
        let plain = Self.withoutPhrases.search("echo, I hear myself")
        let phrased = Self.withPhrases.search("echo, I hear myself")
        #expect(plain.map(\.article.id) == phrased.map(\.article.id))
        #expect(plain.map(\.confidence) == phrased.map(\.confidence))
    }

    @Test("Everyday messages that merely contain a phrasing are offered nothing by the shipped KB")
    func unrelatedMessages() {
        // Each contains a shipped phrasing ("won't turn on", "pages don't
        // load", "kein Internet", "doesn't start") whose meaning the NordBox
        // articles use in another sense (a bare-metal restore boots, the
        // web console runs in a browser).
        for message in ["my coffee machine won't turn on", "Our website pages don't load since the hosting change",
                        "Kein Internet zu Hause, der Router blinkt rot", "the microwave in the kitchen doesn't start"] {
            #expect(SampleKB.kb.suggestions(for: message).isEmpty, "\(message)")
        }
    }

    @Test("Everyday support idioms of the shipped vocabulary search the word an article uses")
    func shippedIdioms() {
        let kb = KnowledgeBase(articles: [
            testArticle("I-1", "Restarting the router", tags: ["router", "restart"],
                        body: "A restart clears most faults. Wait two minutes before you restart again.", language: .en),
            testArticle("I-2", "Notstrom bei Stromausfall", tags: ["Stromausfall", "Notstrom"],
                        body: "Bei einem Stromausfall versorgt der Speicher das Haus weiter.", language: .de),
            testArticle("I-3", "Adding an employee", tags: ["employee", "staff", "onboarding"],
                        body: "Add each employee before their first shift.", language: .en),
            testArticle("I-4", "Importing contacts", tags: ["import", "contacts"],
                        body: "Import your contacts from a CSV file.", language: .en),
        ], vocabulary: SampleKB.vocabulary)
        let cases = [("I turned it off and on again but the router still blinks", "I-1"),
                     ("Gestern war bei uns der Strom weg und jetzt blinkt alles", "I-2"),
                     ("we have a new starter on Monday, what do I need to do", "I-3")]
        Self.expectPhraseFinds(cases, in: kb)
        // "coming from" (one word and a stop word) is no longer a phrasing of
        // an import: it is in any message.
        #expect(!kb.index.plan("the emails coming from our own address").contains { $0.resolution == .phrase })
    }

    /// Each message is matched by a phrase and finds its article first.
    static func expectPhraseFinds(_ cases: [(String, String)], in kb: KnowledgeBase,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        for (message, id) in cases {
            #expect(kb.index.plan(message).contains { $0.resolution == .phrase }, "\(message)", sourceLocation: sourceLocation)
            #expect(kb.search(message).first?.article.id == id, "\(message)", sourceLocation: sourceLocation)
        }
    }

    @Test("A bad phrase is an error naming file and line; the shipped phrases load")
    func loading() throws {
        let tmp = try TemporaryKB()
        try tmp.write("bad.json5", """
            {
              concepts: [ { de: ["Echo"], en: ["echo"] } ],
              phrases: [
                { en: ["hear myself"], means: ["echo"] },
                { en: ["echo"], means: ["echo"] },
                { en: ["hear myself"], means: ["echo chamber"] },
                { de: ["höre mich selbst"] },
              ],
            }
            """)
        do {
            _ = try Vocabulary.load([tmp.folder.appendingPathComponent("bad.json5")], displayName: { $0.lastPathComponent })
            Issue.record("a bad phrase loaded")
        } catch {
            let text = error.issues.map(\.description).joined(separator: "\n")
            #expect(error.issues.allSatisfy { $0.file == "bad.json5" && $0.line != nil }, "\(text)")
            #expect(text.contains("'echo' has 1 word(s)"), "\(text)")
            #expect(text.contains("'echo chamber' is not one word"), "\(text)")
            #expect(text.contains("means"), "\(text)")
            #expect(error.issues.count == 3, "\(text)")
        }
        #expect(SampleKB.vocabulary.phrases.count >= 40)
    }

    static let login = Vocabulary.Phrase(de: ["komme nicht rein"], en: ["can't log in", "off and on again"],
                                         means: ["password"])

    @Test("A phrasing of stop words only is found, in its own order")
    func stopWordPhrasing() {
        let kb = KnowledgeBase(articles: Self.articles, vocabulary: Vocabulary(concepts: [Self.calls], phrases: [Self.login]))
        for message in ["Ich komme seit gestern nicht mehr rein", "I switched it off and on again, same thing"] {
            #expect(kb.index.plan(message).contains { $0.resolution == .phrase }, "\(message)")
            #expect(kb.search(message).first?.article.id == "KB-2", "\(message)")
        }
        // The same stop words in another order say something else.
        #expect(!kb.index.plan("rein komme ich so nicht").contains { $0.resolution == .phrase })
    }

    @Test("English negations match however they are typed; without the negation no phrase")
    func negations() {
        let kb = KnowledgeBase(articles: Self.articles, vocabulary: Vocabulary(concepts: [Self.calls], phrases: [Self.login]))
        for message in ["I cant log in since Monday", "I cannot log in", "I can't log in", "I can not log in",
                        "I can\u{2019}t log in"] {
            #expect(kb.index.plan(message).contains { $0.resolution == .phrase }, "\(message)")
        }
        for message in ["can our staff log in with their own accounts?", "how can I log in on a second phone"] {
            #expect(!kb.index.plan(message).contains { $0.resolution == .phrase }, "\(message)")
        }
        #expect(Lexicon.spellingOutNegations("it doesnt work, won't start and I dont know") ==
                "it does not work, will not start and I do not know")
        #expect(Lexicon.spellingOutNegations("Kann ich das Konto nicht nutzen?") == "Kann ich das Konto nicht nutzen?")
    }

    @Test("Two phrases that mean the same words search them once")
    func sameMeaningOnce() {
        let other = Vocabulary.Phrase(en: ["locked out of"], means: ["password"])
        let kb = KnowledgeBase(articles: Self.articles,
                               vocabulary: Vocabulary(concepts: [Self.calls], phrases: [Self.login, other]))
        let plan = kb.index.plan("I can't log in, I'm locked out of everything")
        #expect(plan.filter { $0.resolution == .phrase }.count == 1)
    }

    @Test("The shipped phrasings of support situations find the article that names the situation")
    func shippedSituations() {
        let kb = KnowledgeBase(articles: [
            testArticle("S-1", "Wenn der Rechner nicht bootet", tags: ["booten", "Systemstart"],
                        body: "Bootet der Rechner nicht, trennen Sie alle USB-Geräte.", language: .de),
            testArticle("S-2", "Posteingang: neue Nachrichten empfangen", tags: ["Posteingang", "empfangen"],
                        body: "Prüfen Sie das Postfach und die Regeln des Posteingangs.", language: .de),
            testArticle("S-3", "Tracking your delivery", tags: ["delivery", "tracking", "shipping"],
                        body: "Each shipment gets a tracking link by email.", language: .en),
            testArticle("S-4", "Phone performance tips", tags: ["performance", "apps"],
                        body: "Close apps you do not use to improve performance.", language: .en),
            testArticle("S-5", "Dein Konto", tags: ["Konto", "Profil"],
                        body: "Im Konto änderst du dein Profil.", language: .de),
        ], vocabulary: SampleKB.vocabulary)
        let cases = [("Mein Laptop fährt seit heute nicht mehr hoch", "S-1"),
                     ("Seit dem Wochenende kriege ich keine Mails mehr", "S-2"),
                     ("where's my order? I paid a week ago", "S-3"),
                     ("the app takes ages, every screen", "S-4")]
        Self.expectPhraseFinds(cases, in: kb)
    }

    @Test("An article with the customer's own words in its title is not outweighed by the phrase's other reading")
    func literalWordsInTheTitle() {
        // "lädt nicht" is also how customers say an app does not start;
        // "Batterie lädt nicht" means what it says. "Batterie" is in most
        // articles, so it tells little; the phrase's meaning ("startet")
        // is in one title, so it would tell much.
        let start = Vocabulary.Phrase(de: ["lädt nicht"], means: ["starten"])
        let kb = KnowledgeBase(articles: [
            testArticle("B-1", "Batterie lädt nicht oder bleibt stehen", tags: ["Batterie", "Ladestand"],
                        body: "Die Batterie lädt nur mit Überschuss aus den Modulen.", language: .de),
            testArticle("B-2", "Wallbox startet den Ladevorgang nicht", tags: ["Wallbox", "Ladevorgang"],
                        body: "Die Wallbox lädt erst, wenn das Auto sie freigibt.", language: .de),
            testArticle("B-3", "Batterie im Winter", tags: ["Batterie", "Winter"],
                        body: "Im Winter bleibt die Batterie öfter leer.", language: .de),
            testArticle("B-4", "Batterie tauschen", tags: ["Batterie", "Garantie"],
                        body: "Eine defekte Batterie tauschen wir in der Garantie.", language: .de),
            testArticle("B-5", "Kapazität der Batterie", tags: ["Batterie", "Kapazität"],
                        body: "Die Kapazität der Batterie sinkt mit den Jahren.", language: .de),
        ], vocabulary: Vocabulary(concepts: [], phrases: [start]))
        let offered = kb.suggestions(for: "Batterie lädt nicht").map(\.article.id)
        #expect(offered.first == "B-1", "\(offered)")
        // The phrase still finds the article in the other words where the
        // customer's own words name nothing else.
        #expect(kb.suggestions(for: "Wallbox lädt nicht").first?.article.id == "B-2")
    }
}
