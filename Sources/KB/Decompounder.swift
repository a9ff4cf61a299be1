/// Splits German compounds into parts that the knowledge base knows.
///
/// "Dateiwiederherstellung" is one token, but the article says "Datei
/// wiederherstellen" or "Wiederherstellung von Dateien". The split is made
/// against the index vocabulary: a compound is cut into the fewest parts
/// (at least two, at most four) whose stems are all index terms, allowing a
/// linking element (Fugen-s/-es: "Sicherung·s·datei"; the linking -n/-en/-e
/// are removed by the stemmer anyway: "Festplatte·n·fehler"). A part has at
/// least four letters, or three if it is itself a term ("VPN·Verbindung").
/// A part before the last must also begin a word that the articles use,
/// with the same stem: "Warn·mails" splits because the articles say
/// "Warnung" (stem `war`, as "warn" has), while "Plat·zproblem" does not,
/// although "plat" stems to `pla` like "Plan", because no article word
/// starting with "plat" has the stem `pla`. The last part only needs a known
/// stem ("…wiederherstellung"). Support filler may be a part and is then
/// dropped ("Speicherplatz·problem").
/// Among equally short splits the one with the longest last part wins.
///
/// Why dictionary decompounding and not character n-grams as a second field:
/// the split gives whole words that then take part in stemming, the
/// bilingual lexicon ("Datei" → "file") and exact BM25 scoring, so a German
/// compound also finds an English article; n-grams would match fragments
/// ("ung", "ier") across unrelated articles, weaken the confidence measure,
/// and multiply the index size by the word length. What a vocabulary split
/// cannot do — find a part no article contains — n-grams could not score
/// meaningfully either.
///
/// The search uses it twice: at index time on the words of German articles
/// (so "Datei wiederherstellen" in a query finds an article that only says
/// "Dateiwiederherstellung"), and at query time on words the vocabulary does
/// not know.
enum Decompounder {
    static let minimumPart = 3
    static let maximumParts = 4

    /// A part of a split compound as the caller's `known` resolved it.
    struct Part: Sendable, Equatable {
        /// The index stem the part stands for ("" for filler: allowed, but
        /// searched for nothing).
        var stem: String
        /// Whether `known` reached the stem by correcting a typo in the part
        /// (the query's "Tisch·servr"), not as the part is written; a stem
        /// may be corrected in one part and written in another.
        var corrected = false
    }

    /// The parts of `key` (a folded, collapsed word), or nil if it cannot be
    /// split into at least two known parts. `known(part, isLast,
    /// mayBeginWord)` resolves a candidate part, or returns nil; a part
    /// with an empty stem is allowed but searched for nothing (filler).
    /// `mayBeginWord` is false when `words` says that no
    /// article word and no filler begins with the part
    /// (``WordPrefixIndex/reach(_:from:)``): such a part can only be a last
    /// part (see ``partStem(_:isLast:mayBeginWord:english:isTerm:beginsWord:)``),
    /// which saves stemming most of a long word's substrings.
    /// The result never contains filler and may have one part only (a
    /// known word plus filler).
    static func split(_ key: String, words: WordPrefixIndex? = nil,
                      known: (String, _ isLast: Bool, _ mayBeginWord: Bool) -> Part?) -> [Part]? {
        let w = Array(key.utf8)
        let n = w.count
        guard n >= 2 * minimumPart, w.allSatisfy({ $0 < 0x80 }) else { return nil }
        // best[j]: fewest parts covering w[0..<j]; back[j]: (start, part).
        var best = [Int](repeating: Int.max, count: n + 1)
        var back = [(start: Int, part: Part)?](repeating: nil, count: n + 1)
        // reach[i]: see WordPrefixIndex.reach, computed when first needed (-1: not yet).
        var reach = [Int](repeating: words == nil ? n : -1, count: n)
        best[0] = 0
        for end in minimumPart...n {
            let isLast = end == n
            for start in stride(from: 0, through: end - minimumPart, by: 1) where best[start] < maximumParts {
                if start == 0, isLast { continue }  // the whole word is not a split
                let parts = best[start] + 1
                guard parts < best[end] else { continue }
                if reach[start] < 0, let words { reach[start] = words.reach(w, from: start) }
                if let part = knownPart(w[start..<end], isLast: isLast, reach: reach[start], known: known) {
                    best[end] = parts
                    back[end] = (start, part)
                }
            }
        }
        guard best[n] != Int.max, best[n] >= 2 else { return nil }
        var parts: [Part] = []
        var end = n
        while end > 0, let step = back[end] {
            if !step.part.stem.isEmpty { parts.append(step.part) }
            end = step.start
        }
        return parts.isEmpty ? nil : parts.reversed()
    }

    /// The policy above for one candidate part: the part's stem, "" for
    /// filler, or nil. `english` also tries the English stem (at query time,
    /// when the language is unknown). `beginsWord(prefix, stem)` says whether
    /// an article word starting with `prefix` has the index term `stem`;
    /// `mayBeginWord` false (from ``split(_:words:known:)``) says that no
    /// article word or filler begins with `part`, so a part before the last
    /// is refused without stemming it (the answer would be the same).
    static func partStem(_ part: String, isLast: Bool, mayBeginWord: Bool = true, english: Bool,
                         isTerm: (String) -> Bool, beginsWord: (String, String) -> Bool) -> String? {
        if !isLast, !mayBeginWord { return nil }
        if StopWords.isFiller(part) { return "" }
        if StopWords.contains(part) { return nil }
        let german = GermanStemmer.stem(part)
        if isTerm(german), isLast || beginsWord(part, german) { return german }
        if english {
            let stem = TextAnalysis.collapse(EnglishStemmer.stem(part))
            if stem != german, isTerm(stem), isLast || beginsWord(part, stem) { return stem }
        }
        return nil
    }

    /// `reach`: how long a part starting here may be and still begin an
    /// article word or a filler (see ``split(_:words:known:)``).
    private static func knownPart(_ part: ArraySlice<UInt8>, isLast: Bool, reach: Int,
                                  known: (String, Bool, Bool) -> Part?) -> Part? {
        let surface = String(decoding: part, as: UTF8.self)
        if let resolved = known(surface, isLast, part.count <= reach), part.count > minimumPart || resolved.stem == surface {
            return resolved
        }
        guard !isLast else { return nil }
        // Linking element: "Sicherung·s·", "System·es·", "Festplatte·n·", "Lizenz·en·".
        if part.count > minimumPart + 1, part.last == 0x73 || part.last == 0x6E {  // s, n
            if let stem = known(String(decoding: part.dropLast(), as: UTF8.self), false, part.count - 1 <= reach) {
                return stem
            }
            if part.count > minimumPart + 2, part[part.endIndex - 2] == 0x65,  // es, en
               let stem = known(String(decoding: part.dropLast(2), as: UTF8.self), false, part.count - 2 <= reach) {
                return stem
            }
        }
        return nil
    }

    /// A compound's modifier as written and without a linking -s, -n, -es
    /// or -en ("Rechnungs·", "Kunden·"), each form keeping at least
    /// `minimum` letters.
    static func modifierForms(_ modifier: String, minimum: Int) -> [String] {
        var forms = [modifier]
        for linking in ["s", "n", "es", "en"]
        where modifier.hasSuffix(linking) && modifier.utf8.count - linking.utf8.count >= minimum {
            forms.append(String(modifier.dropLast(linking.count)))
        }
        return forms
    }
}
