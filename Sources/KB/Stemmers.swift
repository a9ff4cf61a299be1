/// A light German stemmer for folded, collapsed words (see ``TextAnalysis``):
/// CISTEM (Weissweiler & Fraser, "Developing a Stemmer for German Based on a
/// Comparative Analysis of Publicly Available Stemmers", GSCL 2017) in its
/// case-insensitive form, with two additions for support texts:
///
/// - the nominal suffixes `-ung`/`-ungen` are removed first, so
///   "Wiederherstellung" and "wiederherstellen" share the stem
///   `wiederherstell`, and "Verbindungen"/"verbinden" share theirs;
/// - CISTEM's unconditional `ge-` prefix removal is *not* applied (it splits
///   nouns such as "Geräte"/"Gerät" apart). Participles are handled by
///   ``participleBase(_:)`` instead, whose stem is indexed as a second term.
///
/// The core loop, as in CISTEM: while the word has more than 3 letters,
/// remove `-em`/`-er`/`-nd` (only from words of more than 5 letters), then
/// `-t`, then one of `-e`/`-s`/`-n`. `sch`, `ei`, `ie` and doubled letters
/// are protected during the loop. Non-ASCII words are returned unchanged.
enum GermanStemmer {
    static func stem(_ word: String) -> String {
        var w = Array(word.utf8)
        guard w.count > 3, w.allSatisfy({ $0 < 0x80 }) else { return word }

        if w.hasSuffix("ungen"), w.count - 5 >= 3 {
            w.removeLast(5)
        } else if w.hasSuffix("ung"), w.count - 3 >= 3 {
            w.removeLast(3)
        }

        // Protect digraphs and doubled letters (CISTEM's substitutions).
        let sch: UInt8 = 0x24, ei: UInt8 = 0x25, ie: UInt8 = 0x26, double: UInt8 = 0x2A
        var s: [UInt8] = []
        s.reserveCapacity(w.count)
        var i = 0
        while i < w.count {
            if i + 2 < w.count, w[i] == 0x73, w[i + 1] == 0x63, w[i + 2] == 0x68 {  // sch
                s.append(sch); i += 3; continue
            }
            if i + 1 < w.count, w[i] == 0x65, w[i + 1] == 0x69 { s.append(ei); i += 2; continue }  // ei
            if i + 1 < w.count, w[i] == 0x69, w[i + 1] == 0x65 { s.append(ie); i += 2; continue }  // ie
            if let last = s.last, last == w[i], last != double {
                s.append(double); i += 1; continue
            }
            s.append(w[i]); i += 1
        }

        while s.count > 3 {
            let n = s.count
            if n > 5 {
                let a = s[n - 2], b = s[n - 1]
                if a == 0x65, b == 0x6D || b == 0x72 { s.removeLast(2); continue }  // em, er
                if a == 0x6E, b == 0x64 { s.removeLast(2); continue }  // nd
            }
            let last = s[n - 1]
            if last == 0x74 { s.removeLast(); continue }  // t
            if last == 0x65 || last == 0x73 || last == 0x6E { s.removeLast(); continue }  // e s n
            break
        }

        var out: [UInt8] = []
        out.reserveCapacity(s.count + 4)
        for c in s {
            switch c {
            case sch: out += [0x73, 0x63, 0x68]
            case ei: out += [0x65, 0x69]
            case ie: out += [0x69, 0x65]
            case double: if let last = out.last { out.append(last) }
            default: out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Separable verb prefixes after which a participle's `ge` stands
    /// ("wieder·her·ge·stellt", "ab·ge·laufen"), longest first.
    static let separablePrefixes: [[UInt8]] = [
        "wiederher", "zusammen", "herunter", "wieder", "zuruck", "hinzu", "voran", "vorbei",
        "durch", "fest", "frei", "hoch", "nach", "auf", "aus", "bei", "ein", "her", "hin",
        "los", "mit", "vor", "weg", "ab", "an", "um", "zu",
    ].map { Array($0.utf8) }

    /// The infinitive-like form of a German past participle, or nil:
    /// "wiederhergestellt" → "wiederherstellt", "abgelaufen" → "ablaufen",
    /// "gesichert" → "sichert". The stemmer then brings it to the verb's stem.
    /// Nouns that merely look like participles ("Geschwindigkeit") give a
    /// harmless extra term; short words ("Gerät") are left alone.
    static func participleBase(_ word: String) -> String? {
        let w = Array(word.utf8)
        guard w.count >= 7, w.last == 0x74 || w.hasSuffix("en") else { return nil }
        for prefix in separablePrefixes where w.count >= prefix.count + 2 + 4 {
            if w.starts(with: prefix), w[prefix.count] == 0x67, w[prefix.count + 1] == 0x65 {  // "ge"
                return String(decoding: prefix + w[(prefix.count + 2)...], as: UTF8.self)
            }
        }
        if w[0] == 0x67, w[1] == 0x65 {
            return String(decoding: w[2...], as: UTF8.self)
        }
        return nil
    }
}

/// A light English stemmer for folded words: plural and verb endings only
/// (`-s`, `-es`, `-ies`, `-ing`, `-ed`, `-ied`, then a final `-e`), so that
/// "restore", "restores", "restored" and "restoring" all become `restor`,
/// "policies" becomes `policy` and "patches" becomes `patch`.
///
/// It leaves short words alone (three letters or fewer), keeps `-ss`, `-us`
/// and `-is` ("access", "status", "analysis"), strips `-ing`/`-ed` only when
/// a vowel remains in a stem of three letters or more ("string", "need" and
/// "used" stay), and undoubles a final consonant after `-ing`/`-ed` except
/// `ll`/`ss`/`zz` ("dropped" → `drop`, "installed" → `install`).
/// Non-ASCII words are returned unchanged.
enum EnglishStemmer {
    static func stem(_ word: String) -> String {
        var w = Array(word.utf8)
        guard w.count > 3, w.allSatisfy({ $0 < 0x80 }) else { return word }

        // Plurals and third person.
        if w.hasSuffix("ies"), w.count > 4 {
            w.removeLast(3); w.append(0x79)  // y
        } else if w.hasSuffix("sses") {
            w.removeLast(2)
        } else if w.hasSuffix("es"), w.count > 4,
                  w.hasSuffix("xes") || w.hasSuffix("ches") || w.hasSuffix("shes") || w.hasSuffix("zes") {
            w.removeLast(2)
        } else if w.last == 0x73, !w.hasSuffix("ss"), !w.hasSuffix("us"), !w.hasSuffix("is") {
            w.removeLast()
        }

        // Verb endings.
        if w.hasSuffix("ing"), w.count - 3 >= 3, hasVowel(w.dropLast(3)) {
            w.removeLast(3)
            undouble(&w)
        } else if w.hasSuffix("ied"), w.count > 4 {
            w.removeLast(3); w.append(0x79)
        } else if w.hasSuffix("ed"), !w.hasSuffix("eed"), w.count - 2 >= 3, hasVowel(w.dropLast(2)) {
            w.removeLast(2)
            undouble(&w)
        }

        // A final silent e: "restore" meets "restored"/"restoring".
        if w.count > 3, w.last == 0x65 {
            w.removeLast()
        }
        return String(decoding: w, as: UTF8.self)
    }

    private static func hasVowel(_ s: ArraySlice<UInt8>) -> Bool {
        s.contains { $0 == 0x61 || $0 == 0x65 || $0 == 0x69 || $0 == 0x6F || $0 == 0x75 || $0 == 0x79 }
    }

    private static func undouble(_ w: inout [UInt8]) {
        let n = w.count
        guard n >= 4, w[n - 1] == w[n - 2] else { return }
        let c = w[n - 1]
        guard c != 0x6C, c != 0x73, c != 0x7A else { return }  // l s z
        w.removeLast()
    }
}

extension Array where Element == UInt8 {
    func hasSuffix(_ suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        guard count >= n else { return false }
        return suffix.withUTF8Buffer { buffer in
            var i = 0
            var j = count - n
            while i < n {
                if buffer[i] != self[j] { return false }
                i += 1; j += 1
            }
            return true
        }
    }
}
