import Config
import Foundation
import TestSupport
import Testing
@testable import KB

/// Issue 11, cross-language: technical cognates meet across German and
/// English by spelling when the vocabulary does not pair them, and words
/// that only look alike do not.
@Suite("Cognates across German and English", .awaiting { try await SampleKB.ready.value() })
struct CognateTests {
    /// Whether the German word and the English word share a cognate key.
    static func cognate(_ german: String, _ english: String) -> Bool {
        let de = TextAnalysis.tokens(german).flatMap { Cognates.keys($0.key, language: .de) }
        let en = TextAnalysis.tokens(english).flatMap { Cognates.keys($0.key, language: .en) }
        return !Set(de).isDisjoint(with: en)
    }

    @Test("Technical cognates share a key, through inflection, suffix pairs and spelling", arguments: [
        ("Konfiguration", "configuration"), ("konfigurieren", "configure"), ("konfiguriert", "configured"),
        ("Synchronisierung", "synchronization"), ("synchronisiert", "synchronized"), ("Transkription", "transcription"),
        ("Zertifikat", "certificate"), ("Zertifikate", "certificates"), ("Lizenz", "licence"), ("Lizenzen", "licenses"),
        ("Telefonie", "telephony"), ("Telefon", "telephone"), ("installieren", "install"), ("installiert", "installed"),
        ("Installation", "installation"), ("Authentifizierung", "authentication"), ("Registrierung", "registration"),
        ("Kategorien", "categories"), ("Adresse", "address"), ("Kapazität", "capacity"), ("automatisch", "automatic"),
        ("technische", "technical"), ("Latenz", "latency"), ("Mikrofon", "microphone"), ("Protokoll", "protocol"),
        ("Architektur", "architecture"), ("aktivieren", "activate"), ("Statistik", "statistics"),
    ])
    func cognatesMatch(_ pair: (String, String)) {
        #expect(Self.cognate(pair.0, pair.1), "\(pair.0) / \(pair.1)")
    }

    @Test("Look-alikes that are not cognates share no key: short words, native words against English verb forms", arguments: [
        ("Gift", "gifts"), ("Handy", "handy"), ("Rat", "rate"), ("Karten", "carts"), ("Renten", "rents"),
        ("spenden", "spending"), ("standen", "standing"), ("Briefe", "briefing"), ("toller", "tolerate"),
        ("aktuell", "actual"), ("eventuell", "eventually"), ("Konzern", "concerned"),
    ])
    func lookAlikesDoNotMatch(_ pair: (String, String)) {
        #expect(!Self.cognate(pair.0, pair.1), "\(pair.0) / \(pair.1)")
    }

    /// English-only articles and no vocabulary concepts: a German word can
    /// reach them only as a cognate.
    static func kb(falseFriends: [String] = []) -> KnowledgeBase {
        KnowledgeBase(articles: [
            testArticle("E-1", "Renewing an expired certificate", tags: ["certificate", "TLS"],
                        body: "When the certificate of your domain expires, browsers warn your users.", language: .en),
            testArticle("E-2", "Exchange rates on invoices", tags: ["rates", "currency"],
                        body: "Invoices in other currencies use the exchange rate of the invoice date.", language: .en),
            testArticle("E-3", "Deleting a user", tags: ["users", "deletion"],
                        body: "Caution: deleting a user also deletes the user's recordings.", language: .en),
            testArticle("E-4", "Configuring the desk phone", tags: ["configuration", "phone"],
                        body: "The phone downloads its configuration when it starts.", language: .en),
        ], vocabulary: Vocabulary(concepts: [], commonWords: ["Kaution"], falseFriends: falseFriends))
    }

    @Test("A German question reaches the English-only article through its cognate, and the reverse")
    func crossLanguageSearch() {
        let kb = Self.kb()
        #expect(kb.index.plan("Zertifikat").map(\.resolution) == [.cognate])
        #expect(kb.suggestions(for: "Zertifikat abgelaufen").first?.article.id == "E-1")
        #expect(kb.suggestions(for: "Tischtelefon konfigurieren").first?.article.id == "E-4")

        let german = KnowledgeBase(articles: [
            testArticle("D-1", "Kontakte synchronisieren", tags: ["Synchronisierung", "Kontakte"],
                        body: "Die Synchronisierung gleicht Ihre Kontakte mit dem Telefon ab."),
        ], vocabulary: .empty)
        #expect(german.suggestions(for: "contact synchronization").first?.article.id == "D-1")
    }

    @Test("A German compound with a cognate part finds the English article ('Zertifikats·fehler')")
    func compoundPart() {
        let kb = KnowledgeBase(articles: [
            testArticle("E-1", "Certificate error in the browser", tags: ["certificate", "error"],
                        body: "The browser shows a certificate error when the certificate has expired.", language: .en),
            testArticle("E-2", "Error messages of the desk phone", tags: ["error", "phone"],
                        body: "What each error on the display means.", language: .en),
        ], vocabulary: Vocabulary(concepts: [.init(de: ["Fehler"], en: ["error"])]))
        #expect(kb.index.plan("Zertifikatsfehler").map(\.resolution) == [.cognate, .translated])
        #expect(kb.suggestions(for: "Zertifikatsfehler").first?.article.id == "E-1")
    }

    @Test("Short look-alikes are not matched, and a listed false friend is never a cognate")
    func falseFriends() {
        let kb = Self.kb()
        // "Rat" (advice) is not "rate": too short to be taken for a cognate.
        #expect(kb.index.plan("Rat zur Rechnung").allSatisfy { $0.resolution != .cognate })
        #expect(kb.suggestions(for: "Rat").isEmpty)
        // "Kaution" (a deposit) is spelt like "caution": only the list keeps them apart.
        #expect(kb.index.plan("Kaution").map(\.resolution) == [.cognate])
        let listed = Self.kb(falseFriends: ["Kaution"])
        #expect(listed.index.plan("Kaution").map(\.resolution) == [.unknown])
        #expect(listed.suggestions(for: "Kaution zurück", threshold: 0).allSatisfy { $0.article.id != "E-3" })
    }

    @Test("The shipped vocabulary lists false friends; one that is not a single word is a load error naming it")
    func falseFriendsFile() throws {
        #expect(SampleKB.vocabulary.falseFriends.contains("Kaution"))
        let tmp = try TemporaryKB()
        try tmp.write("bad.json5", "{\n  concepts: [],\n  falseFriends: [\"Kaution\", \"zwei Worte\"],\n}")
        do {
            _ = try Vocabulary.load([tmp.folder.appendingPathComponent("bad.json5")], displayName: { $0.lastPathComponent })
            Issue.record("a two-word false friend loaded")
        } catch {
            #expect("\(error)".contains("bad.json5:3"))
            #expect("\(error)".contains("zwei Worte"))
        }
    }
}
