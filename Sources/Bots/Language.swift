import Foundation

/// The languages the bots speak. Every text in the bot definitions exists
/// in each of them (SPEC "Customer conversation": German or English).
public enum Language: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case de, en

    /// `de`, `deutsch`, `german`, `en`, `english`, `englisch` (any case).
    public init?(word: String) {
        // The configured form ("de", "en") is asked on every step (a
        // network's default language): no lowercasing and trimming for it.
        if word == "de" { self = .de; return }
        if word == "en" { self = .en; return }
        switch word.lowercased().trimmingCharacters(in: .whitespaces) {
        case "de", "deutsch", "german", "ger": self = .de
        case "en", "english", "englisch", "eng": self = .en
        default: return nil
        }
    }

    public var description: String { rawValue }
}

/// Guesses whether a chat line is German or English.
///
/// Customers write one-liners ("VPN geht nicht", "backup failed again"),
/// often mixed with product names and English IT words that Germans use too
/// ("down", "Backup", "Update"). The detector counts function words and
/// common verbs that belong clearly to one language, plus umlauts and ß,
/// and answers only when one side clearly wins; for a line like "10042" or
/// "VPN down" it answers nil and the caller keeps its default.
public enum LanguageDetector {
    /// Words that are (nearly) only German. Kept to words a customer writes
    /// about a problem; IT words used in both languages are left out.
    static let german: Set<String> = [
        "ich", "wir", "unser", "unsere", "unseren", "unserem", "unserer", "mein", "meine", "meinen", "meinem",
        "nicht", "nichts", "ist", "sind", "waren", "und", "oder", "aber", "der", "die", "das", "dem",
        "den", "des", "ein", "eine", "einen", "einem", "einer", "kein", "keine", "keinen", "mit", "bei", "beim",
        "geht", "gehen", "ging", "kann", "können", "konnte", "lässt", "laesst", "hallo", "moin", "servus",
        "bitte", "danke", "vielen", "funktioniert", "funktionieren", "seit", "auf", "für", "fuer", "haben",
        "habe", "hab", "hat", "wird", "werden", "wurde", "heute", "gestern", "morgen", "noch", "mehr", "auch",
        "zu", "zum", "zur", "im", "vom", "von", "es", "sich", "wie", "warum", "wieso", "wo", "wann",
        "kundennummer", "guten", "tag", "fehler", "frage", "lizenz", "startet", "immer", "wieder", "schon",
        "jetzt", "gerade", "alle", "keiner", "niemand", "läuft", "laeuft", "fehlgeschlagen", "mehrere",
        "dass", "weil", "wenn", "nach", "über", "ueber", "unter", "sehr", "leider", "ja", "nein", "hilfe",
        "verbindung", "anmeldung", "passwort", "benutzer", "sicherung", "datei", "dateien", "zugriff",
        "erreichbar", "mal", "sie", "ihr", "ihre", "uns", "euch", "dringend", "ausgefallen", "stillstand",
    ]

    /// Words that are (nearly) only English.
    static let english: Set<String> = [
        "i", "we", "our", "my", "the", "is", "are", "were", "and", "but", "not", "doesn't", "doesnt",
        "don't", "dont", "can't", "cant", "cannot", "won't", "isn't", "aren't", "didn't", "with", "a", "an",
        "it", "its", "it's", "to", "of", "for", "on", "at", "from", "hello", "please", "thanks", "thank",
        "since", "works", "working", "work", "have", "has", "had", "today", "yesterday", "again", "customer",
        "number", "question", "license", "help", "failed", "fails", "stopped", "can", "could", "how", "what",
        "why", "when", "where", "there", "this", "that", "these", "all", "no", "yes", "any", "anymore",
        "anyone", "nobody", "every", "after", "about", "some", "connection", "login", "password", "user",
        "file", "files", "access", "unable", "error", "issue", "problem", "broken", "keeps", "getting",
        "need", "urgent", "you", "your", "us", "be", "been", "do", "does", "did", "will", "would", "should",
    ]

    /// `de` or `en` when the line clearly is one of them, else nil.
    public static func detect(_ text: String) -> Language? {
        if let counts = asciiCounts(text) { return verdict(de: counts.de, en: counts.en) }
        return detectByCharacters(text)
    }

    /// ``detect(_:)`` read by `Character` (any line; the reference the ASCII
    /// path is tested against).
    static func detectByCharacters(_ text: String) -> Language? {
        var de = 0, en = 0
        var typographicApostrophe = false
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0xE4, 0xF6, 0xFC, 0xC4, 0xD6, 0xDC, 0xDF: de += 1  // äöüÄÖÜß
            case 0x2019: typographicApostrophe = true  // ’
            default: break
            }
        }
        de = min(de, 2)
        // ’ is read as ' ("don’t" is "don't"); replaced once for the line, not per word.
        var lowered = text.lowercased()
        if typographicApostrophe { lowered = lowered.replacingOccurrences(of: "’", with: "'") }
        for word in lowered.split(whereSeparator: { !($0.isLetter || $0 == "'") }).prefix(60) {
            let word = String(word)
            if german.contains(word) { de += 1 }
            if english.contains(word) { en += 1 }
        }
        return verdict(de: de, en: en)
    }

    /// The language that clearly wins the count, if one does.
    private static func verdict(de: Int, en: Int) -> Language? {
        if de == en { return nil }
        let (winner, loser, language) = de > en ? (de, en, Language.de) : (en, de, Language.en)
        if loser == 0 || winner - loser >= 2 { return language }
        return nil
    }

    /// The word counts of ``detect(_:)`` for a line of ASCII only (nil
    /// otherwise), read byte by byte: the same words as the general path
    /// (runs of letters and `'`, lowercased, the first 60), without
    /// lowercasing the line and splitting it into `Character`s first. A
    /// `!kb` line from a stranger is measured here on every query.
    static func asciiCounts(_ text: String) -> (de: Int, en: Int)? {
        var text = text
        return text.withUTF8 { bytes -> (de: Int, en: Int)? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var de = 0, en = 0, words = 0
            var word: [UInt8] = []
            word.reserveCapacity(32)
            func count() {
                guard !word.isEmpty else { return }
                words += 1
                let string = String(decoding: word, as: UTF8.self)
                if german.contains(string) { de += 1 }
                if english.contains(string) { en += 1 }
                word.removeAll(keepingCapacity: true)
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(byte + 0x20)
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "'"): word.append(byte)
                default:
                    count()
                    if words == 60 { return (de, en) }
                }
            }
            count()
            return (de, en)
        }
    }
}
