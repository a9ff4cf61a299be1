/// Cognates across German and English: technical words that German and
/// English share from Latin and Greek ("Konfiguration"/"configuration",
/// "Zertifikat"/"certificate", "Synchronisierung"/"synchronization",
/// "Telefonie"/"telephony", "installieren"/"install"). The vocabulary
/// (``Vocabulary``) pairs the words someone wrote down; a held-out company's
/// knowledge base uses many that no one did, and most of its technical ones
/// are such cognates.
///
/// A word's *cognate keys* are its spelling brought to a form both languages
/// share, computed by rules of its own language:
///
/// 1. **Inflection** is removed (German -en, -e, -es, -s; English -s, -ies,
///    -ed, -ing).
/// 2. **Derivational suffixes** become one marker per pair of suffixes:
///    -ierung/-ation, -isierung/-ization (-isation), -ifizierung,
///    -ifikation/-ification, -ikation/-ication, -ität/-ity, -ie/-y,
///    -isch/-ic/-ical, -ik/-ic(s), -isieren/-ize (-ise); German -ieren and
///    English -ate leave the bare root; German -enz meets English -ence and
///    -ency.
/// 3. **Spelling** of the root: ph → f, th → t, ck → k, tz → z, k → c,
///    z → c, and double letters single ("Adresse"/"address" → "adres").
///
/// A German word and an English word are cognates when they share a key.
/// Verb forms keep apart what looks alike by accident: an English -ed or
/// -ing form ("spending", "standing", "briefing") meets only a German verb
/// in -ieren ("installiert"/"installed"), never a native German noun or
/// verb ("spenden", "standen", "Briefe"). Short words never match: a word
/// needs ``minimumWordLength`` letters and a root of ``minimumRootLength``
/// after its suffix is removed, so "Gift"/"gift", "Handy"/"handy",
/// "Rat"/"rate" and "Karten"/"carts" are not taken for each other.
/// False friends of at least that length ("Kaution"/"caution",
/// "Konkurrenz"/"concurrency") are listed in the vocabulary
/// (``Vocabulary/falseFriends``); their keys are never matched.
///
/// Checked against the 15,000 most frequent words of each language (the
/// common-word lists): of the German words with an English key partner
/// nearly all are true cognates ("Kapazität"/"capacity",
/// "Architektur"/"architecture", "Protokoll"/"protocol"); the rest are
/// proper names and native words with umlauts ("Männer"/"manners"), which a
/// support message hardly contains.
enum Cognates {
    /// Words shorter than this (in folded letters) have no cognate keys.
    static let minimumWordLength = 6
    /// A key's root (the word without its suffix marker) must have this
    /// many letters.
    static let minimumRootLength = 5

    /// The cognate keys of `key` (a token's folded, collapsed form, see
    /// ``TextAnalysis/Token/key``) read as a word of `language`; empty for
    /// a short word, a word with digits or letters beyond ASCII. A key that
    /// only an English -ed/-ing form or a German -ieren verb has begins with
    /// `~` (verbs meet verbs); a German -ieren verb has both forms.
    static func keys(_ key: String, language: Article.Language) -> [String] {
        var word = Array(key.utf8)
        guard word.count >= minimumWordLength, word.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return [] }
        var out: [String] = []
        func add(_ root: ArraySlice<UInt8>, _ marker: String, verb: Bool, noun: Bool) {
            let spelled = respell(root)
            guard spelled.count >= minimumRootLength else { return }
            let text = String(decoding: spelled, as: UTF8.self) + marker
            if noun, !out.contains(text) { out.append(text) }
            if verb, !out.contains("~" + text) { out.append("~" + text) }
        }
        switch language {
        case .de:
            for (ending, marker, verb) in germanSuffixes where word.count > ending.count && word.ends(with: ending) {
                add(word.dropLast(ending.count), marker, verb: verb, noun: true)
                return out
            }
            let inflections: [StaticString] = ["en", "es", "e", "s"]
            for ending in inflections where word.ends(with: ending) {
                if ending.utf8CodeUnitCount == 1, ending.utf8Start.pointee == 0x73, word.ends(with: "ss") { continue }
                word.removeLast(ending.utf8CodeUnitCount)
                break
            }
            add(word[...], "", verb: false, noun: true)
            // -enz is -ence and -ency ("Latenz", "Frequenz").
            if word.ends(with: "enz") { add(word[...], "#y", verb: false, noun: true) }
        case .en:
            var verb = false
            if word.ends(with: "ies") || word.ends(with: "ied") {
                verb = word.last == 0x64  // d
                word.removeLast(3)
                word.append(0x79)  // y
            } else if word.ends(with: "ing") {
                word.removeLast(3)
                verb = true
            } else if word.ends(with: "ed") {
                word.removeLast(2)
                verb = true
            } else if word.last == 0x73, !word.ends(with: "ss"), !word.ends(with: "us"), !word.ends(with: "is") {
                word.removeLast()
            }
            for (ending, marker) in englishSuffixes where word.count > ending.count && word.ends(with: ending) {
                let root = word.dropLast(ending.count)
                add(root, marker, verb: verb, noun: !verb)
                // Authentifizierung: German uses -ifizierung where English
                // has -ication.
                if marker == "#icat" { add(root, "#ifat", verb: verb, noun: !verb) }
                return out
            }
            // A verb's -ize/-ise lost its e: "synchroniz(ed)", "organis(ing)".
            if verb, word.ends(with: "iz") || word.ends(with: "is") {
                add(word.dropLast(2), "#iz", verb: true, noun: false)
                return out
            }
            // -ate: the bare root meets a German -ieren verb ("activate",
            // "aktivieren"); "certificate" as a noun meets "Zertifikat".
            if word.ends(with: "ate") || (verb && word.ends(with: "at")) {
                let root = word.dropLast(word.last == 0x65 ? 3 : 2)
                add(root, "", verb: true, noun: false)
                if !verb { add(root + [0x61, 0x74], "", verb: false, noun: true) }
                return out
            }
            // -ency is -enz and -ence ("latency", "Latenz").
            if word.ends(with: "ncy") {
                add(word.dropLast(1), "", verb: verb, noun: !verb)
                add(word.dropLast(1), "#y", verb: verb, noun: !verb)
                return out
            }
            // -y after a consonant is German -ie ("telephony", "Telefonie").
            if word.count >= 2, word.last == 0x79, !isVowel(word[word.count - 2]) {
                add(word.dropLast(), "#y", verb: verb, noun: !verb)
                return out
            }
            // -ense is -enz ("license", "Lizenz").
            if word.ends(with: "ense") {
                add(word.dropLast(2) + [0x63], "", verb: verb, noun: !verb)  // "licenc"
                return out
            }
            if word.last == 0x65 { word.removeLast() }
            add(word[...], "", verb: verb, noun: !verb)
        }
        return out
    }

    /// German endings (inflection included), longest first, with their
    /// marker and whether the word is a verb (-ieren: it meets English
    /// verb forms too).
    private static let germanSuffixes: [(ending: [UInt8], marker: String, verb: Bool)] = {
        let table: [(String, String, Bool)] = [
            ("ifizierungen", "#ifat", false), ("ifizierung", "#ifat", false),
            ("ifikationen", "#ifat", false), ("ifikation", "#ifat", false),
            ("isierungen", "#izat", false), ("isierung", "#izat", false),
            ("ikationen", "#icat", false), ("ikation", "#icat", false),
            ("ierungen", "#at", false), ("ierung", "#at", false), ("ationen", "#at", false), ("ation", "#at", false),
            ("isierten", "#iz", true), ("isiertem", "#iz", true), ("isierter", "#iz", true),
            ("isiertes", "#iz", true), ("isierte", "#iz", true), ("isieren", "#iz", true), ("isierst", "#iz", true),
            ("isiert", "#iz", true), ("isiere", "#iz", true),
            ("ierten", "", true), ("iertem", "", true), ("ierter", "", true), ("iertes", "", true),
            ("ierte", "", true), ("ieren", "", true), ("ierst", "", true), ("iert", "", true), ("iere", "", true),
            ("itaten", "#ity", false), ("itat", "#ity", false),
            ("ischen", "#ic", false), ("ischem", "#ic", false), ("ischer", "#ic", false), ("isches", "#ic", false),
            ("ische", "#ic", false), ("isch", "#ic", false),
            ("iken", "#ic", false), ("ik", "#ic", false),
            ("ien", "#y", false), ("ie", "#y", false),
        ]
        return table.map { (Array($0.0.utf8), $0.1, $0.2) }
    }()

    /// English derivational endings (after the inflection is removed),
    /// longest first, with their marker.
    private static let englishSuffixes: [(ending: [UInt8], marker: String)] = {
        let table: [(String, String)] = [
            ("ization", "#izat"), ("isation", "#izat"), ("ification", "#ifat"), ("ication", "#icat"),
            ("ation", "#at"), ("ize", "#iz"), ("ise", "#iz"), ("ity", "#ity"),
            ("ically", "#ic"), ("ical", "#ic"), ("ic", "#ic"),
        ]
        return table.map { (Array($0.0.utf8), $0.1) }
    }()

    private static func isVowel(_ c: UInt8) -> Bool {
        c == 0x61 || c == 0x65 || c == 0x69 || c == 0x6F || c == 0x75 || c == 0x79
    }

    /// The root in the shared spelling: ph → f, th → t, ck → k, tz → z,
    /// then k → c and z → c, and double letters single.
    static func respell(_ root: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(root.count)
        var i = root.startIndex
        while i < root.endIndex {
            var c = root[i]
            let next: UInt8 = i + 1 < root.endIndex ? root[i + 1] : 0
            if c == 0x70, next == 0x68 { c = 0x66; i += 1 }  // ph → f
            else if c == 0x74, next == 0x68 { i += 1 }  // th → t
            else if c == 0x63, next == 0x6B { c = 0x6B; i += 1 }  // ck → k
            else if c == 0x74, next == 0x7A { c = 0x7A; i += 1 }  // tz → z
            if c == 0x6B || c == 0x7A { c = 0x63 }  // k, z → c
            if out.last != c { out.append(c) }
            i += 1
        }
        return out
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }

    /// The same for a literal, without building an array.
    fileprivate func ends(with suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        guard count >= n else { return false }
        let start = suffix.utf8Start
        for i in 0..<n where self[count - n + i] != start[i] { return false }
        return true
    }
}
