/// Byte helpers shared by the two Snowball stemmers. A word is handled as
/// Latin-1 bytes (one byte per letter, so "ä" is 0xE4); a word with a letter
/// outside Latin-1 is not stemmed. The stemmers mark `u`/`y` between vowels
/// (German) or `y` after a vowel (English) with the upper-case letter while
/// they work, as the Snowball descriptions do.
enum SnowballBytes {
    static let a: UInt8 = 0x61, e: UInt8 = 0x65, i: UInt8 = 0x69, o: UInt8 = 0x6F, u: UInt8 = 0x75, y: UInt8 = 0x79
    static let upperU: UInt8 = 0x55, upperY: UInt8 = 0x59
    static let aUmlaut: UInt8 = 0xE4, oUmlaut: UInt8 = 0xF6, uUmlaut: UInt8 = 0xFC, sharpS: UInt8 = 0xDF
    static let s: UInt8 = 0x73, l: UInt8 = 0x6C, apostrophe: UInt8 = 0x27

    /// The Latin-1 bytes of `word`, or nil when a scalar is above U+00FF.
    static func latin1(_ word: String) -> [UInt8]? {
        // The common case, an ASCII word: its UTF-8 bytes are its Latin-1 bytes.
        let utf8 = Array(word.utf8)
        if utf8.allSatisfy({ $0 < 0x80 }) { return utf8 }
        var out: [UInt8] = []
        out.reserveCapacity(word.utf8.count)
        for scalar in word.unicodeScalars {
            guard scalar.value <= 0xFF else { return nil }
            out.append(UInt8(scalar.value))
        }
        return out
    }

    static func string(_ bytes: [UInt8]) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        var view = String.UnicodeScalarView()
        for b in bytes { view.append(Unicode.Scalar(b)) }
        return String(view)
    }

    /// Whether `w[..<end]` ends with `suffix`.
    @inline(__always)
    static func ends(_ w: [UInt8], _ end: Int, with suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        guard end >= n else { return false }
        return suffix.withUTF8Buffer { buffer in
            var k = 0
            while k < n {
                if buffer[k] != w[end - n + k] { return false }
                k += 1
            }
            return true
        }
    }

    /// The longest of `suffixes` that `w` ends with, as its length (0: none).
    @inline(__always)
    static func longestSuffix(_ w: [UInt8], _ suffixes: [StaticString]) -> StaticString? {
        var best: StaticString?
        var bestLength = 0
        for suffix in suffixes where suffix.utf8CodeUnitCount > bestLength && ends(w, w.count, with: suffix) {
            best = suffix
            bestLength = suffix.utf8CodeUnitCount
        }
        return best
    }

    @inline(__always)
    static func same(_ a: StaticString, _ b: StaticString) -> Bool {
        a.utf8CodeUnitCount == b.utf8CodeUnitCount && a.withUTF8Buffer { x in b.withUTF8Buffer { y in x.elementsEqual(y) } }
    }

    static func replaceSuffix(_ w: inout [UInt8], length: Int, with replacement: StaticString) {
        w.removeLast(length)
        replacement.withUTF8Buffer { w.append(contentsOf: $0) }
    }
}

/// The Snowball German stemmer (snowballstem.org, "German stemming
/// algorithm", Snowball 3.x, including the former "german2" handling of
/// `ae`/`oe`/`ue`), written from the published description. Checked against
/// the reference output for the 35,000 words of `Tests/KBTests/Snowball`.
///
/// In short: `u`/`y` between vowels are protected, `ß`→`ss`, `ae`/`oe`/`ue`
/// → umlaut (not after `q`); R1 (at least three letters before it) and R2
/// are the usual Snowball regions; step 1 removes inflection (`-em`, `-ern`,
/// `-er`, `-erin(nen)`, `-e`, `-en`, `-es`, `-s` after a valid s-ending,
/// `-ln(s)`→`l`), step 2 `-en`/`-er`/`-est`/`-st`/`-et` (conditions on the
/// letter before), step 3 the derivational `-end`, `-ung`, `-ig`, `-ik`,
/// `-isch`, `-lich`, `-heit`, `-keit` in R2; step 4 a trailing apostrophe
/// form; umlauts are finally dropped. Unlike the light stemmer this replaced,
/// it keeps "Rechnung", "Rechner" and "Rechte" apart.
///
/// The knowledge base gives it folded words (no umlauts, `ae` already
/// collapsed, see ``TextAnalysis``); it stems those as the description says
/// (the difference is only where an umlaut itself is a condition).
enum GermanStemmer {
    private typealias B = SnowballBytes

    @inline(__always)
    private static func isVowel(_ c: UInt8) -> Bool {
        switch c {
        case 0x61, 0x65, 0x69, 0x6F, 0x75, 0x79, 0xE4, 0xF6, 0xFC: return true
        default: return false
        }
    }

    @inline(__always)
    private static func isSEnding(_ c: UInt8) -> Bool {
        switch c {
        case 0x62, 0x64, 0x66, 0x67, 0x68, 0x6B, 0x6C, 0x6D, 0x6E, 0x72, 0x74: return true  // b d f g h k l m n r t
        default: return false
        }
    }

    @inline(__always)
    private static func isSTEnding(_ c: UInt8) -> Bool { c != 0x72 && isSEnding(c) }

    @inline(__always)
    private static func isETEnding(_ c: UInt8) -> Bool {
        switch c {
        case 0x64, 0x66, 0x67, 0x6B, 0x6C, 0x6D, 0x6E, 0x72, 0x73, 0x74, B.upperU, 0x7A, B.aUmlaut: return true
        default: return false  // d f g k l m n r s t U z ä
        }
    }

    private static let step1: [StaticString] = ["em", "ern", "er", "erin", "erinnen", "e", "en", "es", "s", "ln", "lns"]
    private static let step2: [StaticString] = ["en", "er", "est", "st", "et"]
    private static let step3: [StaticString] = ["end", "ung", "ig", "ik", "isch", "lich", "heit", "keit"]

    /// Not Snowball: English loanwords in `-et` whose step-2 stem would be
    /// the English stemmer's stem of another English word, as Snowball
    /// itself keeps "Ticket" and "Planet" (its exceptions in step 2). German and
    /// English terms share one index, so "Tablet" stemmed "tabl" met
    /// "table" ("tabl" in Porter2): an iPad question (the vocabulary's
    /// concept of "Tablet" and "iPad") was offered the article on paying at
    /// the table. Kept whole, "Tablet" is "tablet" in both languages. None of
    /// these is in the reference word list (`Tests/KBTests/Snowball`).
    private static let loanwordsInET: [StaticString] = [
        "tabl", "sock", "wall", "pack", "jack", "mark", "rock", "cabin", "bull", "buck",
    ]

    /// The stem of one lower-case word.
    static func stem(_ word: String) -> String {
        guard var w = B.latin1(word) else { return word }

        // Prelude: protect u and y between vowels, then ß → ss, ae/oe/ue → umlaut.
        if w.count >= 3 {
            for k in 0..<(w.count - 2) where isVowel(w[k]) && isVowel(w[k + 2]) {
                if w[k + 1] == B.u { w[k + 1] = B.upperU } else if w[k + 1] == B.y { w[k + 1] = B.upperY }
            }
        }
        if w.contains(B.sharpS) {
            var p: [UInt8] = []
            p.reserveCapacity(w.count + 2)
            var k = 0
            while k < w.count {
                let c = w[k]
                if c == B.sharpS { p.append(B.s); p.append(B.s); k += 1; continue }
                if k + 1 < w.count {
                    let next = w[k + 1]
                    if c == 0x71, next == B.u { p.append(c); p.append(next); k += 2; continue }  // qu
                    if next == B.e {
                        if c == B.a { p.append(B.aUmlaut); k += 2; continue }
                        if c == B.o { p.append(B.oUmlaut); k += 2; continue }
                        if c == B.u { p.append(B.uUmlaut); k += 2; continue }
                    }
                }
                p.append(c)
                k += 1
            }
            w = p
        } else {
            // The same without ß, in place: every substitution keeps or
            // shortens the word, so the write position never passes the read.
            var k = 0, out = 0
            let count = w.count
            while k < count {
                let c = w[k]
                if k + 1 < count {
                    let next = w[k + 1]
                    if c == 0x71, next == B.u { w[out] = c; w[out + 1] = next; out += 2; k += 2; continue }  // qu
                    if next == B.e {
                        if c == B.a { w[out] = B.aUmlaut; out += 1; k += 2; continue }
                        if c == B.o { w[out] = B.oUmlaut; out += 1; k += 2; continue }
                        if c == B.u { w[out] = B.uUmlaut; out += 1; k += 2; continue }
                    }
                }
                w[out] = c
                out += 1
                k += 1
            }
            if out < count { w.removeLast(count - out) }
        }

        // Regions.
        let n = w.count
        var p1 = n, p2 = n
        if n >= 3 {
            var cursor = 0
            func gopast(_ vowel: Bool) -> Bool {
                while cursor < n {
                    let hit = isVowel(w[cursor]) == vowel
                    cursor += 1
                    if hit { return true }
                }
                return false
            }
            if gopast(true), gopast(false) {
                p1 = max(cursor, 3)
                if gopast(true), gopast(false) { p2 = cursor }
            }
        }

        // Step 1.
        if let suffix = B.longestSuffix(w, step1) {
            let length = suffix.utf8CodeUnitCount
            let start = w.count - length
            if start >= p1 {
                if B.same(suffix, "em") {
                    if !B.ends(w, start, with: "syst") { w.removeLast(length) }
                } else if B.same(suffix, "ern") || B.same(suffix, "er") || B.same(suffix, "erin")
                            || B.same(suffix, "erinnen") {
                    w.removeLast(length)
                } else if B.same(suffix, "e") || B.same(suffix, "en") || B.same(suffix, "es") {
                    w.removeLast(length)
                    if B.ends(w, w.count, with: "niss") { w.removeLast() }
                } else if B.same(suffix, "s") {
                    if start > 0, isSEnding(w[start - 1]) { w.removeLast() }
                } else {  // ln, lns
                    B.replaceSuffix(&w, length: length, with: "l")
                }
            }
        }

        // Step 2.
        if let suffix = B.longestSuffix(w, step2) {
            let length = suffix.utf8CodeUnitCount
            let start = w.count - length
            if start >= p1 {
                if B.same(suffix, "st") {
                    if start >= 1, isSTEnding(w[start - 1]), start - 1 >= 3 { w.removeLast(length) }
                } else if B.same(suffix, "et") {
                    if start >= 1, isETEnding(w[start - 1]), !B.ends(w, start, with: "geordn"),
                       !B.ends(w, start, with: "intern"), !B.ends(w, start, with: "plan"),
                       !B.ends(w, start, with: "tick"), !B.ends(w, start, with: "tr"),
                       !loanwordsInET.contains(where: { B.ends(w, start, with: $0) }) {
                        w.removeLast(length)
                    }
                } else {  // en, er, est
                    w.removeLast(length)
                }
            }
        }

        // Step 3: d-suffixes.
        if let suffix = B.longestSuffix(w, step3) {
            let length = suffix.utf8CodeUnitCount
            let start = w.count - length
            if start >= p2 {
                if B.same(suffix, "end") || B.same(suffix, "ung") {
                    w.removeLast(length)
                    let ig = w.count - 2
                    if B.ends(w, w.count, with: "ig"), ig >= p2, ig == 0 || w[ig - 1] != B.e { w.removeLast(2) }
                } else if B.same(suffix, "ig") || B.same(suffix, "ik") || B.same(suffix, "isch") {
                    if start == 0 || w[start - 1] != B.e { w.removeLast(length) }
                } else if B.same(suffix, "lich") || B.same(suffix, "heit") {
                    w.removeLast(length)
                    if B.ends(w, w.count, with: "er") || B.ends(w, w.count, with: "en"), w.count - 2 >= p1 {
                        w.removeLast(2)
                    }
                } else {  // keit
                    w.removeLast(length)
                    if let inner = B.longestSuffix(w, ["lich", "ig"]), w.count - inner.utf8CodeUnitCount >= p2 {
                        w.removeLast(inner.utf8CodeUnitCount)
                    }
                }
            }
        }

        // Step 4: apostrophe forms, when two letters remain.
        if let suffix = B.longestSuffix(w, ["'s", "'sch", "'"]), w.count - suffix.utf8CodeUnitCount >= 2 {
            w.removeLast(suffix.utf8CodeUnitCount)
        }

        // Postlude.
        for k in w.indices {
            switch w[k] {
            case B.upperU, B.uUmlaut: w[k] = B.u
            case B.upperY: w[k] = B.y
            case B.aUmlaut: w[k] = B.a
            case B.oUmlaut: w[k] = B.o
            default: break
            }
        }
        return B.string(w)
    }

/// Separable verb prefixes after which a participle's `ge` stands
    /// ("wieder·her·ge·stellt", "ab·ge·laufen"), longest first.
    static let separablePrefixes: [[UInt8]] = [
        "wiederher", "zusammen", "herunter", "wieder", "zuruck", "hinzu", "voran", "vorbei",
        "durch", "fest", "frei", "hoch", "nach", "auf", "aus", "bei", "ein", "her", "hin",
        "los", "mit", "vor", "weg", "ab", "an", "um", "zu",
    ].map { Array($0.utf8) }

    /// The infinitive of a German past participle, or nil:
    /// "wiederhergestellt" → "wiederherstellen", "abgelaufen" → "ablaufen",
    /// "gesichert" → "sicheren" (stem `sich`, as "sichern"), "gearbeitet" →
    /// "arbeiten". The stemmer then brings it to the verb's stem (Snowball
    /// leaves the participle's `-t` alone). Nouns that merely look like
    /// participles ("Geschwindigkeit") give a harmless extra term; short
    /// words ("Gerät") are left alone.
    static func participleBase(_ word: String) -> String? {
        let w = Array(word.utf8)
        // A verb in -ieren has no ge- in its participle, and its past
        // forms keep the -iert-: "exportiert", "synchronisierte",
        // "aktualisierten" → "exportieren", … (Snowball leaves them apart
        // from the infinitive's stem, so "exportiert" missed "Export").
        for suffix in Self.iertSuffixes where w.count >= suffix.count + 3 && w.suffix(suffix.count).elementsEqual(suffix) {
            return String(decoding: w.dropLast(suffix.count), as: UTF8.self) + "ieren"
        }
        guard w.count >= 7, w.last == 0x74 || w.hasSuffix("en") else { return nil }
        for prefix in separablePrefixes where w.count >= prefix.count + 2 + 4 {
            if w.starts(with: prefix), w[prefix.count] == 0x67, w[prefix.count + 1] == 0x65 {  // "ge"
                return infinitive(prefix + w[(prefix.count + 2)...])
            }
        }
        if w[0] == 0x67, w[1] == 0x65 {
            return infinitive(Array(w[2...]))
        }
        return nil
    }

    /// The infinitives a finite German verb form may belong to: present
    /// "-t"/"-et" ("anruft" → "anrufen", "wählt" → "wählen", "arbeitet" →
    /// "arbeiten") and past "-te"/"-ten"/"-tet" ("meldete" → "melden"),
    /// which Snowball leaves apart from the infinitive's stem. Only a guess
    /// ("Kontakt" is no verb): the search uses these stems only for a word
    /// that is no index term as written.
    static func finiteVerbBases(_ word: String) -> [String] {
        let w = Array(word.utf8)
        guard w.count >= 5, w.allSatisfy({ $0 < 0x80 }) else { return [] }
        var bases: [String] = []
        for ending in Self.finiteEndings where w.count >= ending.count + 3 && w.suffix(ending.count).elementsEqual(ending) {
            let base = String(decoding: w.dropLast(ending.count), as: UTF8.self)
            for candidate in [base + "en", base + "n"] where !bases.contains(candidate) { bases.append(candidate) }
        }
        return bases
    }

    /// The infinitive of a past participle used as an adjective
    /// ("zurückgesetztes", "gesperrte" → "zurücksetzen", "sperren"), or
    /// nil. For query words only: in an article or the vocabulary such a
    /// word is often a noun of its own ("Angestellte" is not "anstellen").
    static func adjectiveParticipleBase(_ word: String) -> String? {
        let w = Array(word.utf8)
        for ending in Self.adjectiveEndings where w.count >= ending.count + 7 && w.suffix(ending.count).elementsEqual(ending)
            && w[w.count - ending.count - 1] == 0x74 {  // t
            if let base = participleBase(String(decoding: w.dropLast(ending.count), as: UTF8.self)) { return base }
        }
        return nil
    }

    /// Adjective endings after a participle's -t ("gesperrt·es").
    private static let adjectiveEndings: [[UInt8]] = ["es", "en", "er", "em", "e"].map { Array($0.utf8) }

    /// Endings of finite verb forms, longest first.
    private static let finiteEndings: [[UInt8]] = ["eten", "etet", "ete", "ten", "tet", "et", "te", "t"]
        .map { Array($0.utf8) }

    /// The endings of the participle and past tense of a verb in -ieren
    /// (longest first).
    private static let iertSuffixes: [[UInt8]] = ["ierten", "iertes", "ierter", "iertem", "ierte", "iert"]
        .map { Array($0.utf8) }

    /// "sichert" → "sicheren", "arbeitet" → "arbeiten", "laufen" stays.
    private static func infinitive(_ base: [UInt8]) -> String {
        var w = base
        if w.last == 0x74 {  // t
            w.removeLast()
            if w.last == 0x65 { w.removeLast() }  // e
            w += [0x65, 0x6E]  // en
        }
        return String(decoding: w, as: UTF8.self)
    }
}

/// The Snowball English stemmer ("Porter2", snowballstem.org, Snowball 3.x
/// with its exception lists), written from the published description.
/// Checked against the reference output for the 42,000 words of
/// `Tests/KBTests/Snowball`.
///
/// In short: a few whole-word exceptions ("skies", "news", …); `y` after a
/// vowel is protected; R1 starts after a few fixed prefixes ("gener",
/// "inter", …) or after the first vowel–consonant pair, R2 after the next;
/// step 1 removes plurals and `-ed`/`-ing` (restoring an `e` or undoubling a
/// consonant as needed), step 1c turns a final consonant+`y` into `i`,
/// steps 2–4 reduce derivational suffixes in R1/R2 (`-ization`→`-ize`,
/// `-fulness`→`-ful`, `-ment`, `-ance`, …), step 5 drops a final `-e`/`-l`.
/// "restore", "restores", "restored" and "restoring" all become `restor`.
enum EnglishStemmer {
    private typealias B = SnowballBytes

    @inline(__always)
    private static func isVowel(_ c: UInt8) -> Bool {
        switch c {
        case 0x61, 0x65, 0x69, 0x6F, 0x75, 0x79: return true
        default: return false
        }
    }

    /// A vowel, or w, x, Y (the letters that cannot end a short syllable).
    @inline(__always)
    private static func isVowelWXY(_ c: UInt8) -> Bool { isVowel(c) || c == 0x77 || c == 0x78 || c == B.upperY }

    @inline(__always)
    private static func isValidLI(_ c: UInt8) -> Bool {
        switch c {
        case 0x63, 0x64, 0x65, 0x67, 0x68, 0x6B, 0x6D, 0x6E, 0x72, 0x74: return true  // c d e g h k m n r t
        default: return false
        }
    }

    /// Whole words with a fixed stem (nil: the word is its own stem).
    private static let exceptions: [String: String?] = [
        "skis": "ski", "skies": "sky", "idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli",
        "only": "onli", "singly": "singl", "sky": nil, "news": nil, "howe": nil, "atlas": nil, "cosmos": nil,
        "bias": nil, "andes": nil,
    ]

    private static let regionPrefixes: [StaticString] = [
        "gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ", "inter",
    ]
    private static let step1a: [StaticString] = ["sses", "ied", "ies", "s", "us", "ss"]
    private static let step1b: [StaticString] = ["eed", "eedly", "ed", "edly", "ing", "ingly"]
    private static let step2: [StaticString] = [
        "tional", "enci", "anci", "abli", "entli", "izer", "ization", "ational", "ation", "ator", "alism", "aliti",
        "alli", "fulness", "ousli", "ousness", "iveness", "iviti", "biliti", "bli", "ogist", "ogi", "fulli",
        "lessli", "li",
    ]
    private static let step3: [StaticString] = ["tional", "ational", "alize", "icate", "iciti", "ical", "ful", "ness", "ative"]
    private static let step4: [StaticString] = [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ism", "ate", "iti", "ous",
        "ive", "ize", "ion",
    ]

    /// The stem of one lower-case word (non-ASCII words are returned unchanged).
    static func stem(_ word: String) -> String {
        // Every exception has at most six letters: longer words skip the hash.
        if word.utf8.count <= 6, let exception = exceptions[word] { return exception ?? word }
        guard word.utf8.count >= 3, word.utf8.allSatisfy({ $0 < 0x80 }) else { return word }
        var w = Array(word.utf8)

        // Prelude.
        if w.first == B.apostrophe { w.removeFirst() }
        var foundY = false
        if w.first == B.y { w[0] = B.upperY; foundY = true }
        if w.count >= 2 {
            for k in 1..<w.count where w[k] == B.y && isVowel(w[k - 1]) {
                w[k] = B.upperY
                foundY = true
            }
        }

        // Regions.
        let n = w.count
        var p1 = n, p2 = n
        var cursor = 0
        func gopast(_ vowel: Bool) -> Bool {
            while cursor < n {
                let hit = isVowel(w[cursor]) == vowel
                cursor += 1
                if hit { return true }
            }
            return false
        }
        var prefixLength = 0
        for prefix in regionPrefixes where prefix.utf8CodeUnitCount > prefixLength {
            let m = prefix.utf8CodeUnitCount
            if n >= m, prefix.withUTF8Buffer({ $0.elementsEqual(w[0..<m]) }) { prefixLength = m }
        }
        var regionFound = false
        if prefixLength > 0 {
            cursor = prefixLength
            regionFound = true
        } else {
            regionFound = gopast(true) && gopast(false)
        }
        if regionFound {
            p1 = cursor
            if gopast(true), gopast(false) { p2 = cursor }
        }

        func shortSyllable(before end: Int) -> Bool {
            if end >= 3, !isVowelWXY(w[end - 1]), isVowel(w[end - 2]), !isVowel(w[end - 3]) { return true }
            if end == 2, !isVowel(w[1]), isVowel(w[0]) { return true }
            return B.ends(w, end, with: "past")
        }

        // Step 1a.
        if let suffix = B.longestSuffix(w, ["'", "'s", "'s'"]) { w.removeLast(suffix.utf8CodeUnitCount) }
        if let suffix = B.longestSuffix(w, step1a) {
            let start = w.count - suffix.utf8CodeUnitCount
            if B.same(suffix, "sses") {
                w.removeLast(2)
            } else if B.same(suffix, "ied") || B.same(suffix, "ies") {
                B.replaceSuffix(&w, length: 3, with: start >= 2 ? "i" : "ie")
            } else if B.same(suffix, "s") {
                if start >= 1, w[0..<(start - 1)].contains(where: isVowel) { w.removeLast() }
            }
        }

        // Step 1b.
        var handleEdIng = false
        if let suffix = B.longestSuffix(w, step1b) {
            let start = w.count - suffix.utf8CodeUnitCount
            if B.same(suffix, "eed") || B.same(suffix, "eedly") {
                if start >= p1 {
                    let stem = w[0..<start]
                    let keep = ["proc", "exc", "succ"].contains { $0.utf8.elementsEqual(stem) }
                    if !keep { B.replaceSuffix(&w, length: suffix.utf8CodeUnitCount, with: "ee") }
                }
            } else if B.same(suffix, "ing") {
                if B.ends(w, start, with: "y") {
                    if start == 2, !isVowel(w[0]) {
                        B.replaceSuffix(&w, length: 4, with: "ie")
                    } else {
                        handleEdIng = true
                    }
                } else if B.ends(w, start, with: "inn") || B.ends(w, start, with: "out") || B.ends(w, start, with: "cann")
                            || B.ends(w, start, with: "herr") || B.ends(w, start, with: "earr")
                            || B.ends(w, start, with: "even") {
                    let stem = w[0..<start]
                    let keep = ["inn", "out", "cann", "herr", "earr", "even"].contains { $0.utf8.elementsEqual(stem) }
                    handleEdIng = !keep
                } else {
                    handleEdIng = true
                }
            } else {
                handleEdIng = true  // ed, edly, ingly
            }
            if handleEdIng, w[0..<start].contains(where: isVowel) {
                w.removeLast(w.count - start)
                let end = w.count
                if B.ends(w, end, with: "at") || B.ends(w, end, with: "bl") || B.ends(w, end, with: "iz") {
                    w.append(B.e)
                } else if end >= 2, w[end - 1] == w[end - 2],
                          [0x62, 0x64, 0x66, 0x67, 0x6D, 0x6E, 0x70, 0x72, 0x74].contains(w[end - 1]) {  // bb dd ff gg mm nn pp rr tt
                    let atStartAfterAEO = end - 2 == 1 && (w[0] == B.a || w[0] == B.e || w[0] == B.o)
                    if !atStartAfterAEO { w.removeLast() }
                } else if end == p1, shortSyllable(before: end) {
                    w.append(B.e)
                }
            }
        }

        // Step 1c.
        if let last = w.last, last == B.y || last == B.upperY, w.count >= 3, !isVowel(w[w.count - 2]) {
            w[w.count - 1] = B.i
        }

        // Step 2.
        if let suffix = B.longestSuffix(w, step2), w.count - suffix.utf8CodeUnitCount >= p1 {
            let length = suffix.utf8CodeUnitCount
            let start = w.count - length
            if B.same(suffix, "tional") {
                B.replaceSuffix(&w, length: length, with: "tion")
            } else if B.same(suffix, "enci") {
                B.replaceSuffix(&w, length: length, with: "ence")
            } else if B.same(suffix, "anci") {
                B.replaceSuffix(&w, length: length, with: "ance")
            } else if B.same(suffix, "abli") {
                B.replaceSuffix(&w, length: length, with: "able")
            } else if B.same(suffix, "entli") {
                B.replaceSuffix(&w, length: length, with: "ent")
            } else if B.same(suffix, "izer") || B.same(suffix, "ization") {
                B.replaceSuffix(&w, length: length, with: "ize")
            } else if B.same(suffix, "ational") || B.same(suffix, "ation") || B.same(suffix, "ator") {
                B.replaceSuffix(&w, length: length, with: "ate")
            } else if B.same(suffix, "alism") || B.same(suffix, "aliti") || B.same(suffix, "alli") {
                B.replaceSuffix(&w, length: length, with: "al")
            } else if B.same(suffix, "fulness") {
                B.replaceSuffix(&w, length: length, with: "ful")
            } else if B.same(suffix, "ousli") || B.same(suffix, "ousness") {
                B.replaceSuffix(&w, length: length, with: "ous")
            } else if B.same(suffix, "iveness") || B.same(suffix, "iviti") {
                B.replaceSuffix(&w, length: length, with: "ive")
            } else if B.same(suffix, "biliti") || B.same(suffix, "bli") {
                B.replaceSuffix(&w, length: length, with: "ble")
            } else if B.same(suffix, "ogist") {
                B.replaceSuffix(&w, length: length, with: "og")
            } else if B.same(suffix, "ogi") {
                if start >= 1, w[start - 1] == B.l { B.replaceSuffix(&w, length: length, with: "og") }
            } else if B.same(suffix, "fulli") {
                B.replaceSuffix(&w, length: length, with: "ful")
            } else if B.same(suffix, "lessli") {
                B.replaceSuffix(&w, length: length, with: "less")
            } else {
                if start >= 1, isValidLI(w[start - 1]) { w.removeLast(length) }  // li
            }
        }

        // Step 3.
        if let suffix = B.longestSuffix(w, step3), w.count - suffix.utf8CodeUnitCount >= p1 {
            let length = suffix.utf8CodeUnitCount
            if B.same(suffix, "tional") {
                B.replaceSuffix(&w, length: length, with: "tion")
            } else if B.same(suffix, "ational") {
                B.replaceSuffix(&w, length: length, with: "ate")
            } else if B.same(suffix, "alize") {
                B.replaceSuffix(&w, length: length, with: "al")
            } else if B.same(suffix, "icate") || B.same(suffix, "iciti") || B.same(suffix, "ical") {
                B.replaceSuffix(&w, length: length, with: "ic")
            } else if B.same(suffix, "ful") || B.same(suffix, "ness") {
                w.removeLast(length)
            } else {
                if w.count - length >= p2 { w.removeLast(length) }  // ative
            }
        }

        // Step 4.
        if let suffix = B.longestSuffix(w, step4), w.count - suffix.utf8CodeUnitCount >= p2 {
            let length = suffix.utf8CodeUnitCount
            let start = w.count - length
            if B.same(suffix, "ion") {
                if start >= 1, w[start - 1] == B.s || w[start - 1] == 0x74 { w.removeLast(length) }
            } else {
                w.removeLast(length)
            }
        }

        // Step 5.
        if let last = w.last {
            let start = w.count - 1
            if last == B.e {
                if start >= p2 || (start >= p1 && !shortSyllable(before: start)) { w.removeLast() }
            } else if last == B.l {
                if start >= p2, start >= 1, w[start - 1] == B.l { w.removeLast() }
            }
        }

        if foundY {
            for k in w.indices where w[k] == B.upperY { w[k] = B.y }
        }
        return String(decoding: w, as: UTF8.self)
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
