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
        let wordTerms: [String: [String]] = [
            "datei": ["datei"], "wiederherstellen": ["wiederherstell"], "wiederherstellung": ["wiederherstell"],
            "sicherung": ["sich"],
            "auftrag": ["auftrag"], "vpn": ["vpn"], "verbindung": ["verbi"], "plan": ["pla"], "platz": ["platz"],
            "fehler": ["fehl"], "warnung": ["war"], "festplatte": ["festplatt"],
        ]
        let terms = Set(wordTerms.values.flatMap { $0 })
        let words = WordPrefixIndex(wordTerms)
        func split(_ word: String) -> [String]? {
            Decompounder.split(word) { part, isLast in
                Decompounder.partStem(part, isLast: isLast, english: false, isTerm: { terms.contains($0) },
                                      beginsWord: words.beginsWord(_:withTerm:))
            }
        }
        #expect(split("dateiwiederherstellung") == ["datei", "wiederherstell"])
        #expect(split("sicherungsauftrag") == ["sich", "auftrag"])
        #expect(split("vpnverbindung") == ["vpn", "verbi"])
        #expect(split("wiederherstellungsproblem") == ["wiederherstell"])  // filler part dropped
        #expect(split("warnfehler") == ["war", "fehl"])  // "warn" begins "warnung", stem "war"
        #expect(split("festplattenfehler") == ["festplatt", "fehl"])  // linking n
        #expect(split("platfehler") == nil)  // "plat" stems to "pla", but no article word "plat…" does
        #expect(split("datei") == nil)  // one part is not a split
    }
}
