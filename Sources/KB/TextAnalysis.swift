import Foundation

/// German and English text normalisation, shared by indexing and querying so
/// that both sides always meet in the same form.
///
/// The pipeline for a piece of text:
/// 1. **Fold** every character: Unicode lower-casing, then diacritics are
///    dropped (`ä`→`a`, `é`→`e`, `ñ`→`n`), `ß`/`ẞ`→`ss`, and a few letters
///    without a decomposition are spelled out (`æ`→`ae`, `ø`→`o`, `œ`→`oe`).
/// 2. **Tokenise** on every character that is not a letter or a digit;
///    tokens of one character are dropped, except a letter standing alone
///    before a hyphen or a space and a word, which is joined to that word
///    ("Z-Bon", "Z Bon" → `zbon`; "E-Mail-Benachrichtigung" → `email`,
///    `benachrichtigung`; see ``Token/letterPrefix``).
/// 3. **Collapse** German transliterations: `ae`→`a`, `oe`→`o`, and `ue`→`u`
///    unless the `u` follows a vowel or `q` (Lucene's German normalisation).
///    Folding `ä` to `a` *and* `ae` to `a` is what makes "Größe", "groesse"
///    and "GROSSE" (or "Schlüssel" and "Schluessel") the same token; mapping
///    `ä` to `ae` instead would leave "GROSSE" apart from the other two.
/// 4. **Stop words** (German, English and support-chat filler) are removed.
/// 5. **Stemming**: ``GermanStemmer`` or ``EnglishStemmer``, chosen by the
///    article's language. A query's language is unknown, so each query token
///    is stemmed both ways and either stem may match.
///
/// Collapsing (3) runs *before* the German stemmer (so "Lösung" and
/// "Loesung" stem alike) but *after* the English one (so "issue" and
/// "issues" keep stemming alike: collapsing first would turn them into
/// "issu" and "issus").
enum TextAnalysis {
    /// A token after folding (1, 2), with its collapsed form (3).
    struct Token: Equatable {
        /// Folded, not collapsed: what the English stemmer sees.
        var folded: String
        /// Folded and collapsed: what stop words, the German stemmer and
        /// decompounding see.
        var key: String
        /// True when the token consists of digits only.
        var isNumber: Bool
        /// Whether the word was written with an umlaut (`ä`, `ö`, `ü`) or
        /// its transliteration (`ae`, `oe`, `ue`, which step 3 collapses).
        /// Folding makes "ändere" (I change) and "aendere" the key of the
        /// stop word "andere" (other); ``StopWords/contains(_:)-(Token)``
        /// looks at this so that the verb stays a word. `ß`→`ss` does not
        /// count: "muß" is still the stop word "muss".
        var umlaut = false
        /// Whether the token begins with a letter that stood alone before a
        /// hyphen or a space ("Z-Bon", "Z Bon", "E-Mail"): all spellings of
        /// the word meet in one token (`zbon`, as "Zbon" is written), and
        /// "Z-Bon" is not the "Bon" that "X-Bon" is too. A letter that is a
        /// word ("a", "I", and "o", "u") is joined only across a hyphen; one
        /// after an apostrophe or a full stop ("customer's", "z. B.") never,
        /// nor one before a stop word ("NordBox S with an M").
        /// An article is also found by the word without its letter
        /// (``head``, indexed beside it), and a query whose joined word no
        /// article has searches the word without the letter, as before.
        var letterPrefix = false

        /// For a ``letterPrefix`` token, the word after its letter ("bon"
        /// of "Z-Bon"); nil for any other token.
        var head: Token? {
            guard letterPrefix else { return nil }
            let rest = String(folded.unicodeScalars.dropFirst())
            let key = rest.utf8.allSatisfy { $0 < 0x80 } ? TextAnalysis.collapse(rest) : rest
            return Token(folded: rest, key: key, isNumber: false, umlaut: umlaut)
        }
    }

    /// Letters that are words of their own, joined to the next word only
    /// across a hyphen ("a report", "I printed").
    static let oneLetterWords: Set<UInt8> = [UInt8(ascii: "a"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u")]

    /// Whether a token that begins after the scalar `previous` (0: the
    /// text's start) stands alone: after white space, an opening bracket or
    /// quote, or Markdown emphasis; not after an apostrophe ("customer's"),
    /// a full stop ("z.B.") or a hyphen ("USB-C").
    static func beginsAlone(after previous: UInt32) -> Bool {
        switch previous {
        case 0, 0x20, 0x09, 0x0A, 0x0D, 0xA0: return true
        case 0x28, 0x5B, 0x7B, 0x22, 0x2A, 0x5F, 0x3E: return true  // ( [ { " * _ >
        case 0x201E, 0x201C, 0xAB, 0x201A, 0x2018: return true  // „ “ « ‚ ‘
        default: return false
        }
    }

    // MARK: Folding and tokenising

    /// Folds and tokenises `text` (steps 1–3), keeping stop words.
    static func tokens(_ text: String) -> [Token] {
        var unused: [Int] = []
        return tokens(text, lineEnds: &unused, recordingLines: false)
    }

    /// ``tokens(_:)``, and in `lineEnds` the number of tokens before each
    /// line feed of `text` (a line feed ends a token).
    static func tokens(_ text: String, lineEnds: inout [Int]) -> [Token] {
        tokens(text, lineEnds: &lineEnds, recordingLines: true)
    }

    private static func tokens(_ text: String, lineEnds: inout [Int], recordingLines: Bool) -> [Token] {
        var result: [Token] = []
        var current: [UInt8] = []
        var currentIsASCII = true
        var other = String.UnicodeScalarView()
        var allDigits = true
        var umlaut = false
        var collapsed: [UInt8] = []
        // A letter alone before a hyphen or a space (Token.letterPrefix):
        // the letter (0: none), the separator after it (0: none yet),
        // whether the current token begins with it, the scalar before the
        // current one, and the scalar before the current token.
        var pendingLetter: UInt8 = 0
        var pendingGap: UInt32 = 0
        var joined = false
        var previous: UInt32 = 0
        var tokenBeginsAfter: UInt32 = 0

        func flush() {
            defer {
                current.removeAll(keepingCapacity: true)
                other = String.UnicodeScalarView()
                currentIsASCII = true
                allDigits = true
                umlaut = false
                joined = false
            }
            if currentIsASCII {
                guard current.count > 1 else {
                    if current.count == 1, !allDigits, !umlaut, beginsAlone(after: tokenBeginsAfter) {
                        pendingLetter = current[0]
                        pendingGap = 0
                    }
                    return
                }
                if joined, current.count < 3 { return }  // "c u": neither is a word
                if joined, StopWords.contains(collapse(String(decoding: current[1...], as: UTF8.self))) {
                    // "NordBox S with an M": a size or variant before a stop
                    // word is no prefix. (The stop word lists have no letter
                    // that joins, so building them never comes here.)
                    current.removeFirst()
                    joined = false
                }
                let folded = String(decoding: current, as: UTF8.self)
                var key = folded
                if !allDigits {
                    collapsed.removeAll(keepingCapacity: true)
                    collapsed += current
                    if collapse(&collapsed) {
                        key = String(decoding: collapsed, as: UTF8.self)
                        umlaut = true
                    }
                }
                result.append(Token(folded: folded, key: key, isNumber: allDigits, umlaut: umlaut, letterPrefix: joined))
            } else {
                guard other.count > 1 else { return }
                let folded = String(other)
                result.append(Token(folded: folded, key: folded, isNumber: allDigits, umlaut: umlaut, letterPrefix: joined))
            }
        }

        func append(_ scalar: Unicode.Scalar, isDigit: Bool) {
            if currentIsASCII, current.isEmpty {
                tokenBeginsAfter = previous
                if pendingLetter != 0 {
                    if pendingGap != 0, !isDigit, pendingGap == 0x2D || !oneLetterWords.contains(pendingLetter) {
                        current.append(pendingLetter)
                        joined = true
                    }
                    pendingLetter = 0
                }
            }
            if !isDigit { allDigits = false }
            if currentIsASCII {
                if scalar.isASCII {
                    current.append(UInt8(scalar.value))
                    return
                }
                // Switch this token to the general representation.
                currentIsASCII = false
                other = String.UnicodeScalarView(current.map { Unicode.Scalar($0) })
            }
            other.append(scalar)
        }

        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                switch v {
                case 0x61...0x7A: append(scalar, isDigit: false)
                case 0x41...0x5A: append(Unicode.Scalar(v + 0x20)!, isDigit: false)
                case 0x30...0x39: append(scalar, isDigit: true)
                default:
                    flush()
                    if pendingLetter != 0 {
                        // One hyphen or space after the letter, then a word.
                        if pendingGap == 0, v == 0x2D || v == 0x20 { pendingGap = v } else { pendingLetter = 0 }
                    }
                    if recordingLines, v == 0x0A { lineEnds.append(result.count) }
                }
                previous = v
                continue
            }
            switch scalar {
            case "ä", "ö", "ü", "Ä", "Ö", "Ü", "\u{308}": umlaut = true  // U+0308: a decomposed umlaut's mark
            default: break
            }
            for folded in fold(scalar) {
                if folded.properties.isAlphabetic {
                    append(folded, isDigit: false)
                } else if folded.properties.numericType == .decimal {
                    append(folded, isDigit: true)
                } else if folded.properties.generalCategory == .nonspacingMark
                    || folded.properties.generalCategory == .spacingMark
                    || folded.properties.generalCategory == .enclosingMark {
                    continue  // a combining mark left on its own: drop it
                } else {
                    flush()
                    pendingLetter = 0
                }
            }
            previous = v
        }
        flush()
        return result
    }

    /// Folds one non-ASCII scalar: lower case, no diacritics, `ß`→`ss`.
    /// Returns the scalars to use in its place (empty for a lone mark).
    static func fold(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        switch scalar {
        case "ä", "Ä": return ["a"]
        case "ö", "Ö": return ["o"]
        case "ü", "Ü": return ["u"]
        case "ß", "ẞ": return ["s", "s"]
        case "é", "è", "ê", "ë", "É", "È", "Ê", "Ë": return ["e"]
        case "á", "à", "â", "Á", "À", "Â": return ["a"]
        case "æ", "Æ": return ["a", "e"]
        case "ø", "Ø": return ["o"]
        case "œ", "Œ": return ["o", "e"]
        case "ł", "Ł": return ["l"]
        case "đ", "Đ", "ð", "Ð": return ["d"]
        case "þ", "Þ": return ["t", "h"]
        case "ı": return ["i"]
        default: break
        }
        let lower = scalar.properties.lowercaseMapping
        var out: [Unicode.Scalar] = []
        for decomposed in lower.decomposedStringWithCanonicalMapping.unicodeScalars {
            let category = decomposed.properties.generalCategory
            if category == .nonspacingMark || category == .enclosingMark { continue }
            if decomposed == "ß" { out += ["s", "s"]; continue }
            out.append(decomposed)
        }
        return out
    }

    /// German transliteration collapse on a lower-case ASCII word:
    /// `ae`→`a`, `oe`→`o`, `ue`→`u` except after a vowel or `q`
    /// (so "Feuer", "Bauer" and "Queue" keep their `e`).
    static func collapse(_ word: String) -> String {
        var bytes = Array(word.utf8)
        guard collapse(&bytes) else { return word }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// In-place form of ``collapse(_:)-(String)``; returns whether it changed anything.
    @discardableResult
    static func collapse(_ bytes: inout [UInt8]) -> Bool {
        // States as in Lucene's GermanNormalizationFilter: after a/o, or
        // after a u that follows a consonant, an `e` is dropped.
        enum State { case normal, afterVowel, dropNextE }
        var state = State.normal
        var out = 0
        var changed = false
        for i in 0..<bytes.count {
            let c = bytes[i]
            var keep = true
            switch c {
            case UInt8(ascii: "a"), UInt8(ascii: "o"):
                state = .dropNextE
            case UInt8(ascii: "u"):
                state = state == .normal ? .dropNextE : .afterVowel
            case UInt8(ascii: "e"):
                if state == .dropNextE { keep = false; changed = true }
                state = .afterVowel
            case UInt8(ascii: "i"), UInt8(ascii: "q"), UInt8(ascii: "y"):
                state = .afterVowel
            default:
                state = .normal
            }
            if keep {
                bytes[out] = c
                out += 1
            }
        }
        bytes.removeSubrange(out...)
        return changed
    }

    // MARK: Terms

    /// The index terms of `text` written in `language`: stemmed, stop words
    /// removed, in order, as an article's text is indexed (a word after a
    /// letter, "Bon" of "Z-Bon", follows the joined word). German
    /// participles ("wiederhergestellt", "gesichert") give a second term,
    /// their infinitive's stem, in ``IndexedToken/alternate``.
    static func indexTerms(_ text: String, language: Article.Language) -> [IndexedToken] {
        var out: [IndexedToken] = []
        for token in tokens(text) where !StopWords.contains(token) {
            out.append(indexTerm(token, language: language))
            if let head = token.head, !StopWords.contains(head) { out.append(indexTerm(head, language: language)) }
        }
        return out
    }

    /// One token's index term in `language`.
    static func indexTerm(_ token: Token, language: Article.Language) -> IndexedToken {
        if token.isNumber { return IndexedToken(term: token.key, alternate: nil) }
        switch language {
        case .de:
            let term = GermanStemmer.stem(token.key)
            var alternate: String?
            if let base = GermanStemmer.participleBase(token.key) {
                let stem = GermanStemmer.stem(base)
                if stem != term { alternate = stem }
            }
            return IndexedToken(term: term, alternate: alternate)
        case .en:
            return IndexedToken(term: collapse(EnglishStemmer.stem(token.folded)), alternate: nil)
        }
    }

    /// The stems a query token may have in either language (one to four,
    /// distinct, most likely first).
    static func queryStems(_ token: Token) -> [String] {
        if token.isNumber { return [token.key] }
        var stems: [String] = []
        func add(_ s: String) { if !s.isEmpty && !stems.contains(s) { stems.append(s) } }
        add(GermanStemmer.stem(token.key))
        add(collapse(EnglishStemmer.stem(token.folded)))
        // Both readings of a participle in -en: a strong verb's participle
        // ("abgelaufen" → "ablaufen") or a weak verb's used as an adjective
        // ("eingespeisten" → "einspeisen", not "einspeisten").
        if let base = GermanStemmer.participleBase(token.key) { add(GermanStemmer.stem(base)) }
        if let base = GermanStemmer.adjectiveParticipleBase(token.key) { add(GermanStemmer.stem(base)) }
        return stems
    }
}

/// One indexed occurrence: the stem and, for a German participle, the stem
/// of its infinitive as well.
struct IndexedToken: Equatable {
    var term: String
    var alternate: String?
}
