import Testing
@testable import KB

@Suite("Typos and compounds")
struct FuzzyAndCompoundTests {
    let index = FuzzyIndex(terms: ["password", "firewall", "wiederherstell", "e4012", "4012", "vpn", "backup"])

    func found(_ word: String) -> [String] {
        let terms = ["password", "firewall", "wiederherstell", "e4012", "4012", "vpn", "backup"]
        return index.candidates(of: word).map { terms[Int($0)] }
    }

    @Test("One insertion, deletion, substitution or transposition is found")
    func oneEdit() {
        #expect(found("pasword") == ["password"])  // deletion
        #expect(found("passwword") == ["password"])  // insertion
        #expect(found("passwprd") == ["password"])  // substitution
        #expect(found("passwrod") == ["password"])  // transposition
        #expect(found("firewal") == ["firewall"])
        #expect(found("wiederherstel") == ["wiederherstell"])
    }

    @Test("Two edits, short words and exact matches are not typo candidates")
    func notFound() {
        #expect(found("paswrd").isEmpty)
        #expect(found("vpm").isEmpty)  // shorter than the minimum length
        #expect(found("password").isEmpty)  // exact: not a typo
    }

    @Test("Digits are never edited: error codes stay distinct")
    func digitsStay() {
        #expect(found("4013").isEmpty)
        #expect(found("e4013").isEmpty)
        #expect(found("e4012").contains("4012"))  // a letter may differ, the digits may not
    }

    @Test("The edit check agrees with the definition")
    func withinOneEdit() {
        func check(_ a: String, _ b: String) -> Bool {
            FuzzyIndex.withinOneEdit(a.unicodeScalars.map(\.value), b.unicodeScalars.map(\.value))
        }
        #expect(check("abcd", "abcd"))
        #expect(check("abcd", "abdc"))
        #expect(check("abcd", "abce"))
        #expect(check("abcd", "abc"))
        #expect(check("abcd", "xabcd"))
        #expect(!check("abcd", "badc"))
        #expect(!check("abcd", "ab"))
        #expect(!check("abcd", "axcy"))
    }

    @Test("Compounds split into known parts, with a linking s")
    func decompounding() {
        // As if the articles said "Datei", "wiederherstellen", "Sicherung",
        // "Wiederherstellung", "Auftrag", "VPN", "Verbindung", "Plan", "Platz", "Fehler", "Warnung".
        let wordTerms: [String: [String]] = Dictionary(uniqueKeysWithValues: [
            "datei", "wiederherstellen", "wiederherstellung", "sicherung", "auftrag", "vpn", "verbindung", "plan",
            "platz", "fehler", "warnung", "festplatte",
        ].map { ($0, [GermanStemmer.stem($0)]) })
        func stem(_ word: String) -> String { GermanStemmer.stem(word) }
        let terms = Set(wordTerms.values.flatMap { $0 })
        let words = WordPrefixIndex(wordTerms)
        func split(_ word: String) -> [String]? {
            Decompounder.split(word) { part, isLast, _ in
                Decompounder.partStem(part, isLast: isLast, english: false, isTerm: { terms.contains($0) },
                                      beginsWord: words.beginsWord(_:withTerm:)).map { .init(stem: $0) }
            }?.map(\.stem)
        }
        // The same split, pruned by the words' prefixes (what the index does).
        func prunedSplit(_ word: String) -> [String]? {
            Decompounder.split(word, words: words) { part, isLast, mayBeginWord in
                Decompounder.partStem(part, isLast: isLast, mayBeginWord: mayBeginWord, english: false,
                                      isTerm: { terms.contains($0) }, beginsWord: words.beginsWord(_:withTerm:))
                    .map { .init(stem: $0) }
            }?.map(\.stem)
        }
        for word in ["dateiwiederherstellung", "sicherungsauftrag", "vpnverbindung", "wiederherstellungsproblem",
                     "verbindungsfehler", "festplattenfehler", "warnfehler", "datei", "platzproblem",
                     "sicherungsdateiwiederherstellung", "vpnsicherungsfehler"] {
            #expect(prunedSplit(word) == split(word), "\(word)")
        }
        #expect(split("dateiwiederherstellung") == [stem("datei"), stem("wiederherstellung")])
        #expect(split("sicherungsauftrag") == [stem("sicherung"), stem("auftrag")])  // linking s
        #expect(split("vpnverbindung") == ["vpn", stem("verbindung")])
        #expect(split("wiederherstellungsproblem") == [stem("wiederherstellung")])  // filler part dropped
        #expect(split("verbindungsfehler") == [stem("verbindung"), stem("fehler")])
        #expect(split("festplattenfehler") == [stem("festplatte"), stem("fehler")])  // linking n
        #expect(split("warnfehler") == nil)  // "warn" is no article word's stem ("Warnung" keeps its -ung)
        #expect(split("datei") == nil)  // one part is not a split
    }

    @Test("A compound with two corrected parts is refused, also when one correction is another part's word")
    func twoCorrectionsInACompound() {
        // "Tischreservierungen" is no typo: "Tischre" is one edit from "tisch" (which the
        // word also has as written) and "servierungen" one from "server". Two corrections
        // are a guess, and a guess must not find the server article for a table booking.
        let kb = KnowledgeBase(articles: [
            testArticle("T-1", "Tischplan anlegen", tags: ["Tisch", "Tischplan"], body: "Legen Sie jeden Tisch im Tischplan an."),
            testArticle("T-2", "Restarting the server", tags: ["server", "restart"],
                        body: "Restart the server when it hangs.", language: .en),
        ])
        let explained = kb.explain("Tischreservierungen").joined(separator: "\n")
        #expect(!explained.contains("server×"), "\(explained)")
        #expect(!kb.search("Tischreservierungen").contains { $0.article.id == "T-2" })
        // One corrected part is still a typo inside a compound: "Tisch·servr".
        let corrected = kb.explain("Tischservr").joined(separator: "\n")
        #expect(corrected.contains("tisch×1.00") && corrected.contains("server×0.70"), "\(corrected)")
    }

    @Test("A compound is as much evidence as its words written apart")
    func compoundEvidence() {
        // A knowledge base about one product: "Wechselrichter" is in every
        // title, so it tells little, and "WLAN" is the word that points at W-1.
        // "Wechselrichterwlan" is one word for the coverage, but its parts in
        // W-1's title are the same evidence as "Wechselrichter WLAN"; when each
        // part counted only its share of the word, it was offered at 0.63, not 0.73.
        let kb = KnowledgeBase(articles: [
            testArticle("W-1", "Wechselrichter mit dem WLAN verbinden", tags: ["WLAN", "Wechselrichter", "Router"],
                        body: "Verbinden Sie den Wechselrichter mit dem Router Ihres Heimnetzes."),
            testArticle("W-2", "Wechselrichter zeigt einen Fehler", tags: ["Wechselrichter", "Fehler", "LED"],
                        body: "Die rote LED am Wechselrichter zeigt einen Fehler an."),
            testArticle("W-3", "Wechselrichter neu starten", tags: ["Wechselrichter", "Neustart"],
                        body: "Schalten Sie den Wechselrichter aus und wieder ein."),
            testArticle("W-4", "Firmware des Wechselrichters aktualisieren", tags: ["Firmware", "Wechselrichter", "Update"],
                        body: "Die Firmware des Wechselrichters wird über die App aktualisiert."),
            testArticle("W-5", "Batterie lädt nicht", tags: ["Batterie", "Laden"],
                        body: "Wenn die Batterie nicht lädt, prüfen Sie den Wechselrichter."),
        ])
        let apart = kb.suggestions(for: "Wechselrichter WLAN", threshold: 0.7)
        let compound = kb.suggestions(for: "Wechselrichterwlan", threshold: 0.7)
        #expect(apart.map(\.article.id) == ["W-1"])
        #expect(compound.map(\.article.id) == ["W-1"])
        #expect(abs((compound.first?.confidence ?? 0) - (apart.first?.confidence ?? 0)) < 1e-6)
        #expect(kb.explain("Wechselrichterwlan").contains { $0.contains("compoundPart") })
    }
}
