import Testing
@testable import KB

/// The words a token list stands for, after stop words.
private func keys(_ text: String) -> [String] {
    TextAnalysis.tokens(text).filter { !StopWords.contains($0) }.map(\.key)
}

@Suite("Text normalisation")
struct TextAnalysisTests {
    @Test("Größe, groesse and GROSSE fold to the same token")
    func umlautSpellingsMeet() {
        #expect(keys("Größe") == ["grosse"])
        #expect(keys("groesse") == ["grosse"])
        #expect(keys("GROSSE") == ["grosse"])
        #expect(keys("GRÖSSE") == ["grosse"])
    }

    @Test("Umlauts, ß and their transliterations meet in both directions")
    func umlautTransliterations() {
        #expect(keys("Schlüssel") == keys("Schluessel"))
        #expect(keys("Lösung") == keys("Loesung"))
        #expect(keys("Verschlüsselung") == keys("VERSCHLUESSELUNG"))
        #expect(keys("Gerät") == keys("Geraet"))
        #expect(keys("Straße") == keys("Strasse"))
        #expect(keys("ẞ-Test") == ["ss", "test"])  // capital sharp s
    }

    @Test("ue after a vowel or q is not an umlaut")
    func ueAfterVowelStays() {
        #expect(keys("Feuer") == ["feuer"])
        #expect(keys("Queue") == ["queue"])
        #expect(keys("Bauer") == ["bauer"])
    }

    @Test("Accents are dropped and case is folded")
    func accentsAndCase() {
        #expect(keys("Café RÉSUMÉ naïve") == ["cafe", "resume", "naive"])
        #expect(keys("NordBox") == ["nordbox"])
    }

    @Test("Tokens split on everything that is not a letter or digit; one-letter tokens go, unless a letter stands before a word")
    func tokenisation() {
        #expect(keys("E-Mail-Benachrichtigung (SMTP/TLS)") == ["email", "benachrichtigung", "smtp", "tls"])
        #expect(keys("https://nordbox.local:443") == ["https", "nordbox", "local", "443"])
        #expect(keys("Fehler E204, Port 7443") == ["fehler", "e204", "port", "7443"])
        #expect(TextAnalysis.tokens("a b c").isEmpty)
    }

    @Test("Stop words of both languages and chat filler are removed")
    func stopWords() {
        #expect(keys("Der Kaffeeautomat in der Küche ist kaputt") == ["kaffeeautomat", "kuche", "kaputt"])
        #expect(keys("my printer is out of toner") == ["printer", "toner"])
        #expect(keys("Hallo, bitte dringend Hilfe: das Backup funktioniert nicht") == ["backup"])
        #expect(keys("für fuer FÜR") == [])
    }

    @Test("German stemming brings inflected forms together", arguments: [
        ("Dateien", "Datei"), ("Wiederherstellung", "wiederherstellen"), ("Verbindungen", "Verbindung"),
        ("Festplatten", "Festplatte"), ("Zertifikate", "Zertifikat"), ("Passwörter", "Passwort"),
        ("Sicherungen", "Sicherung"), ("Einstellungen", "einstellen"), ("Benutzern", "Benutzer"),
        ("Geräte", "Gerät"),
    ])
    func germanStems(_ pair: (String, String)) {
        let a = TextAnalysis.tokens(pair.0)[0], b = TextAnalysis.tokens(pair.1)[0]
        #expect(GermanStemmer.stem(a.key) == GermanStemmer.stem(b.key), "\(pair.0) vs \(pair.1)")
    }

    @Test("German participles give their verb's stem as a second term")
    func participles() {
        func terms(_ word: String) -> Set<String> {
            let t = TextAnalysis.indexTerm(TextAnalysis.tokens(word)[0], language: .de)
            return Set([t.term] + (t.alternate.map { [$0] } ?? []))
        }
        #expect(terms("wiederhergestellt").contains(GermanStemmer.stem("wiederherstellen")))
        #expect(terms("abgelaufen").contains(GermanStemmer.stem("ablaufen")))
        #expect(terms("gesichert").contains(GermanStemmer.stem("sichern")))
        #expect(terms("gelöscht").contains(GermanStemmer.stem(TextAnalysis.tokens("löschen")[0].key)))
        #expect(GermanStemmer.participleBase("gerat") == nil)  // "Gerät" is not a participle
    }

    @Test("A verb in -ieren: its participle and past forms, which have no ge-, give the infinitive's stem",
          arguments: ["exportiert", "exportierte", "exportierten", "exportiertes"])
    func iertParticiples(_ word: String) {
        let t = TextAnalysis.indexTerm(TextAnalysis.tokens(word)[0], language: .de)
        #expect(t.alternate == GermanStemmer.stem("exportieren"), "\(word): \(t)")
        // "generiert" begins with ge- but is not ge- + "neriert".
        #expect(GermanStemmer.participleBase("generiert") == "generieren")
        #expect(GermanStemmer.participleBase("Tier".lowercased()) == nil)
    }

    @Test("English stemming brings inflected forms together", arguments: [
        ["restore", "restores", "restored", "restoring"], ["file", "files"], ["policy", "policies"],
        ["patch", "patches"], ["drop", "dropped", "dropping", "drops"], ["install", "installed", "installing"],
        ["update", "updated", "updating", "updates"], ["expire", "expired", "expires"], ["issue", "issues"],
    ])
    func englishStems(_ forms: [String]) {
        let stems = Set(forms.map { TextAnalysis.collapse(EnglishStemmer.stem($0)) })
        #expect(stems.count == 1, "\(forms) → \(stems)")
    }

    @Test("The English stemmer leaves short and special words alone", arguments: [
        "is", "was", "has", "bus", "yes", "vpn", "access", "status", "string", "need",
    ])
    func englishShortWords(_ word: String) {
        #expect(EnglishStemmer.stem(word) == word)
    }

    @Test("The German stemmer leaves short words alone", arguments: ["vpn", "nas", "ssd", "raid", "mac"])
    func germanShortWords(_ word: String) {
        #expect(GermanStemmer.stem(word) == word)
    }

    @Test("Non-Latin text passes through unchanged and never crashes")
    func otherScripts() {
        #expect(keys("Привет мир") == ["привет", "мир"])
        #expect(keys("🙂 NordBox 🙂") == ["nordbox"])
        #expect(GermanStemmer.stem("привет") == "привет")
    }
}
