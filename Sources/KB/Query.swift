/// One query word, resolved against the index: the terms that stand for it
/// (each with a weight) and how much it tells about the topic.
struct QueryClause: Sendable, Equatable {
    struct Alternative: Sendable, Equatable {
        var term: Int32
        /// Multiplies the term's score (0: the alternative only counts
        /// towards the confidence, see `match`).
        var weight: Float
        /// The idf to score with: the term's own, but for a lexicon relative
        /// at most the query word's, so that a rarer translation never
        /// outweighs the word the customer wrote.
        var idf: Float
        /// How much an article containing the term covers the query word
        /// (1 for the word itself, less for a translation, a typo or a part
        /// of the word), for the confidence measure.
        var match: Float
        /// `match` in an article that has no translation in the other
        /// language (``SearchIndex/documentHasTwin``): a lexicon relative
        /// there counts as much as the word it stands for, because the
        /// customer's-language version it would be second to does not
        /// exist. Where the twin exists, the translation keeps its lower
        /// `match`, so the own-language article wins.
        var fullMatch: Float
    }

    /// The query word this clause came from (folded), for explanations.
    var word: String
    /// An article's score for this clause is the best of these.
    var alternatives: [Alternative]
    /// The clause's share in the confidence measure: the idf of its best
    /// own term (shared among the parts of a compound; the highest idf for
    /// a word the knowledge base does not know); 0 for clauses that do not
    /// count (the extra part clauses of a compound the vocabulary knows whole).
    var informativeness: Float
    /// Multiplies the clause's score.
    var weight: Float
    /// How the word was resolved.
    var resolution: Resolution
    /// The share of `informativeness` that counts against an article that
    /// lacks the word (1: all of it). A typo correction is a guess: the
    /// corrected word helps the articles that have it, but an article without
    /// it loses only ``Tuning/fuzzyMissing`` of the word's weight.
    var missingShare: Float = 1
    /// For the extra part clause of a compound the vocabulary knows whole
    /// ("Gesprächs·gebühren"): the whole word's clause's informativeness
    /// (0 for every other clause), and the share of the word this part is
    /// (1 / the number of parts). An article that has every part ("call
    /// charges") covers the word ``Tuning/allPartsMatch``, although each
    /// part alone covers only ``Tuning/knownCompoundPartMatch``.
    var partOf: Float = 0
    var partFraction: Float = 0
    /// Whether part clauses (``partOf``) follow this clause.
    var hasParts = false
    /// For a part of a compound the vocabulary does not know whole (whose
    /// `informativeness` is its share of the one word): the part's own idf,
    /// which counts towards the evidence instead. The compound is one word
    /// of the query for the coverage, but its part in an article's title
    /// points at that article as much as the same word written apart:
    /// "Wechselrichterwlan" and "Wechselrichter WLAN" against "Wechselrichter
    /// mit dem WLAN verbinden". Nil: `informativeness`.
    var partEvidence: Float?
    /// The articles whose questions customers ask (``Article/questions``)
    /// this word matches, as one of the words of the best matching
    /// question of each (``QuestionIndex``): for those articles only, it
    /// counts as found in the title.
    var questionHits: [QuestionHit] = []
    /// For a phrase's clause (``Resolution/phrase``): the indices of the
    /// clauses of the customer's own words it stands for ("lädt" of "lädt
    /// nicht"). An article with all of them in its title or tags takes
    /// the customer at their word: the phrase's meaning ("start") does not
    /// count against it, though it still counts for an article that has
    /// the meaning.
    /// Empty: the phrase counts against every article without its meaning
    /// (a phrasing of stop words only, "komme nicht rein").
    var literalWords: [Int] = []

    enum Resolution: Sendable, Equatable {
        case exact, translated, cognate, dictionary, compoundPart, fuzzy, unknown, uncoveredTopic, phrase
        /// A word no article has, but a question customers ask for one
        /// (``QuestionIndex``): it counts like an article's word.
        case questionWord
    }
}

extension QueryClause {
    /// Adds alternatives, keeping the better weight and match of a term given twice.
    mutating func add(_ more: [Alternative]) {
        for alternative in more { alternatives.merge(alternative) }
    }
}

extension Array where Element == QueryClause.Alternative {
    /// Adds `alternative`, or raises the weight and match of the same term.
    mutating func merge(_ alternative: Element) {
        if let existing = firstIndex(where: { $0.term == alternative.term }) {
            self[existing].weight = Swift.max(self[existing].weight, alternative.weight)
            self[existing].match = Swift.max(self[existing].match, alternative.match)
            self[existing].fullMatch = Swift.max(self[existing].fullMatch, alternative.fullMatch)
        } else {
            append(alternative)
        }
    }
}

/// A ranked article with its score and confidence, and the two factors of
/// the confidence (see ``SearchIndex/evaluate(_:limit:)``).
struct RankedDocument: Sendable {
    var document: Int
    var score: Float
    var confidence: Float
    var coverage: Float = 0
    var evidence: Float = 0
    /// Like `coverage`, but a word found only in the body counts
    /// ``Tuning/searchBodyMatch``: what `search` filters its hits by.
    var searchCoverage: Float = 0
    /// When `evidence` comes from query words standing together in one
    /// block of the body (``SearchIndex/togetherEvidence(_:document:)``),
    /// that block's bit; 0 otherwise.
    var togetherBlock: UInt32 = 0
}

/// What planning one query computes more than once, kept for that query:
/// the stems of a token (the open-compound joining looks at each word with
/// both neighbours, then the plan stems it again) and the stems of compound
/// parts (a word the index does not know is split up to three times, and
/// each split stems the same substrings). Pure functions of their
/// arguments, so keeping them changes no answer.
final class QueryMemo {
    private var tokenStems: [String: [String]] = [:]
    private var partStems: [String: String?] = [:]

    /// ``TextAnalysis/queryStems(_:)`` of `token`.
    func stems(_ token: TextAnalysis.Token) -> [String] {
        let key = token.folded + "\u{0}" + token.key
        if let known = tokenStems[key] { return known }
        let stems = TextAnalysis.queryStems(token)
        tokenStems[key] = stems
        return stems
    }

    /// `compute()`'s answer for a compound part, computed once per
    /// (part, isLast).
    func partStem(_ part: String, isLast: Bool, _ compute: () -> String?) -> String? {
        let key = part + (isLast ? "\u{1}" : "\u{2}")
        if let known = partStems[key] { return known }
        let stem = compute()
        partStems[key] = .some(stem)
        return stem
    }
}

extension SearchIndex {
    // MARK: Planning

    /// Resolves each informative word of `query` to index terms:
    ///
    /// 1. its stems (German, English, participle) that the vocabulary knows,
    ///    plus, for a long word, its compound parts as extra clauses;
    /// 2. otherwise, if the lexicon knows it, its translations that the
    ///    vocabulary knows (an English word in a KB of German articles);
    /// 3. otherwise its compound parts (``Decompounder``), each a clause;
    /// 4. otherwise vocabulary terms one typo away (``FuzzyIndex``);
    /// 5. otherwise compound parts whose last part has a typo;
    /// 6. otherwise it stays unknown: it matches nothing and lowers every
    ///    article's confidence (a number that the KB does not know, such as a
    ///    customer number or a date, is dropped instead).
    ///
    /// Every resolved term brings its bilingual-lexicon relatives at
    /// ``Tuning/lexicon`` times its own weight.
    func plan(_ query: String) -> [QueryClause] {
        var clauses: [QueryClause] = []
        var seen = Set<String>()
        let memo = QueryMemo()
        // Distinct tokens only, and a bounded number of them, before the
        // particle joining (which looks at pairs).
        var distinct: [TextAnalysis.Token] = []
        var distinctKeys = Set<String>()
        var all: [TextAnalysis.Token] = []
        for token in TextAnalysis.tokens(query) {
            all.append(token)
            guard distinctKeys.insert(token.key).inserted else { continue }
            distinct.append(token)
            if distinct.count == 4 * Tuning.maximumQueryWords { break }
        }

        for token in joiningSeparableVerbs(joiningOpenCompounds(distinct, memo: memo))
        where !StopWords.contains(token) {
            guard seen.count < Tuning.maximumQueryWords else { break }
            var token = token
            if let head = token.head, !StopWords.contains(head), !memo.stems(token).contains(where: { termIDs[$0] != nil }) {
                token = head  // "Z-Bon" where no article has it: the word after the letter ("Bon")
            }
            guard seen.insert(token.key).inserted else { continue }
            var stems = memo.stems(token)
            var known = stems.compactMap { termIDs[$0] }
            var verbGuess = false
            if known.isEmpty, !token.isNumber {
                // A finite verb form ("anruft", "wählt") the stemmer leaves
                // apart from its infinitive's stem: the infinitive's stems.
                var verbStems: [String] = []
                for base in GermanStemmer.finiteVerbBases(token.key) {
                    let stem = GermanStemmer.stem(base)
                    if !verbStems.contains(stem) { verbStems.append(stem) }
                }
                known = verbStems.compactMap { termIDs[$0] }
                verbGuess = !known.isEmpty
                stems += verbStems.filter { !stems.contains($0) }
            }
            if !known.isEmpty {
                var whole = clause(token.key, own: known.map { alternative($0, Tuning.exact) }, resolution: .exact)
                var extras: [QueryClause] = []
                if !token.isNumber, token.key.utf8.count >= Tuning.knownCompoundLength,
                   let parts = splitQuery(token.key, fuzzyLast: false, memo: memo)?.filter({ !known.contains($0.term) }),
                   !parts.isEmpty {
                    // An article that has the parts but not the compound
                    // ("recovery key" for "Wiederherstellungsschlüssel")
                    // covers the word in part; the parts also score as
                    // extra clauses of their own.
                    for part in parts {
                        var coverageOnly = part
                        coverageOnly.weight = 0
                        coverageOnly.match = Tuning.knownCompoundPartMatch
                        coverageOnly.fullMatch = Tuning.knownCompoundPartMatch
                        whole.add(withRelatives([coverageOnly]))
                        // A term is searched once per query word: the part
                        // clause leaves out what the word's clause already
                        // scores (a relative of both, such as "console" for
                        // "Weboberfläche" and "Oberfläche", would count twice).
                        var extra = clause(token.key, own: [part], resolution: .compoundPart)
                        extra.alternatives.removeAll { alternative in
                            whole.alternatives.contains { $0.term == alternative.term && $0.weight > 0 }
                        }
                        guard !extra.alternatives.isEmpty else { continue }
                        extra.informativeness = 0
                        extra.weight = Tuning.knownCompoundPart
                        extra.partOf = whole.informativeness
                        extra.partFraction = 1 / Float(parts.count)
                        extras.append(extra)
                    }
                    whole.hasParts = !extras.isEmpty
                }
                // Its cognates in the other language ("Zertifikat" in a
                // German article's text, "certificate" in the English
                // article's title).
                if !token.isNumber { whole.add(cognates(of: token, stems: stems, ownIDF: whole.informativeness)) }
                // Where no concept translates it, the dictionary's
                // translations ("Akku" in a German article's text,
                // "battery" in the English article's title).
                if !token.isNumber, !stems.contains(where: lexicon.contains) {
                    whole.add(dictionaryTranslations(stems, ownIDF: whole.informativeness).words)
                }
                if lexicon.isCommonWord(token.key) { whole.missingShare = Tuning.commonWordMissing }
                // A word no article has in its title or tags names no topic
                // of this knowledge base ("hinterlegen", "gleichzeitig"):
                // it helps the articles that have it, and costs the others
                // less, like a common word.
                if !token.isNumber, known.allSatisfy({ headlineIDF[Int($0)] == 0 }) {
                    whole.missingShare = Swift.min(whole.missingShare, Tuning.bodyOnlyMissing)
                }
                // The infinitive is a guess ("stimmt" is also "is right"):
                // it helps the articles that have it and costs the others
                // nothing, like a word the knowledge base does not know.
                if verbGuess { whole.missingShare = Tuning.verbGuessMissing }
                // "after 20 secs", "3 times": a short number in a chat
                // message is a detail, not the topic (an error code is longer).
                if token.isNumber, token.key.utf8.count <= Tuning.detailNumberDigits {
                    whole.missingShare = 0
                }
                clauses.append(whole)
                clauses += extras
                continue
            }
            if token.isNumber { continue }
            // Not a term, but the lexicon knows it: search its translations.
            let translations = translated(stems)
            if !translations.isEmpty {
                clauses.append(searchedInstead(token, translations, resolution: .translated))
                continue
            }
            // Not in the vocabulary either: its cognates in the other
            // language ("Konfiguration" in a KB of English articles).
            let cognates = cognates(of: token, stems: stems, ownIDF: nil)
            if !cognates.isEmpty {
                clauses.append(searchedInstead(token, cognates, resolution: .cognate))
                continue
            }
            if token.key.utf8.count > Tuning.maximumWordLength {
                clauses.append(unknown(token.key, stems: stems))
                continue
            }
            if let parts = splitQuery(token.key, fuzzyLast: false, memo: memo) {
                // Three or more article words may be two words of the
                // vocabulary ("Sprach·nachrichten·weiterleitung" is
                // "Sprachnachricht" (voicemail) and "Weiterleitung").
                if parts.count >= 3, let fewer = splitThroughVocabulary(token.key, memo: memo), fewer.count < parts.count {
                    clauses += fewer
                } else {
                    clauses += compoundClauses(token.key, parts)
                }
                continue
            }
            if let parts = splitThroughVocabulary(token.key, memo: memo) {
                clauses += parts
                continue
            }
            // Neither its parts: its translations in the general dictionary
            // ("Akku" in a KB of English articles). After the parts, which
            // find the articles in the customer's language
            // ("Umsatzsteuer·voranmeldung" in a German article, not the
            // dictionary's "advance VAT return"). A translation of several
            // words ("Bremsbelag": "brake pad") is searched as the parts of
            // a compound are: an article with all its words covers the word.
            let fromDictionary = dictionaryTranslations(stems, ownIDF: nil)
            if !fromDictionary.words.isEmpty {
                clauses.append(searchedInstead(token, fromDictionary.words, resolution: .dictionary))
                continue
            }
            if let term = fromDictionary.terms.first {
                clauses += term.map { id in
                    QueryClause(word: token.key, alternatives: [dictionaryAlternative(id, ownIDF: nil)],
                                informativeness: idf[Int(id)] / Float(term.count), weight: 1, resolution: .dictionary,
                                missingShare: lexicon.isCommonWord(token.key) ? Tuning.commonWordMissing : 1)
                }
                continue
            }
            // A common word of German or English is a real word that the
            // knowledge base does not have ("Urlaub", "zwei"), not a typo of
            // one that it has ("erlaubt", "zweit"): it stays unknown.
            let common = lexicon.isCommonWord(token.key)
            let candidates = common ? [] : fuzzyCandidates(stems)
            if !candidates.isEmpty {
                // One candidate is a correction, not a guess among several:
                // it covers the word nearly as the word itself would.
                let match = candidates.count == 1 ? Tuning.fuzzyUniqueMatch : Tuning.fuzzy
                var corrected = clause(token.key, own: candidates.map {
                    var typo = alternative($0, Tuning.fuzzy)
                    typo.match = match
                    typo.fullMatch = match
                    return typo
                }, resolution: .fuzzy)
                corrected.missingShare = Tuning.fuzzyMissing
                clauses.append(corrected)
                continue
            }
            let derived = derivedForms(stems)
            if !derived.isEmpty {
                var related = clause(token.key, own: derived.map { alternative($0, Tuning.fuzzy) }, resolution: .fuzzy)
                related.missingShare = Tuning.fuzzyMissing
                clauses.append(related)
                continue
            }
            if !common, let parts = splitQuery(token.key, fuzzyLast: true, memo: memo) {
                clauses += compoundClauses(token.key, parts)
                continue
            }
            if let part = knownPartBesideWord(token.key, memo: memo) {
                clauses += compoundClauses(token.key, [part, nil])
                continue
            }
            if let parts = translatedHeadBesideWord(token.key) {
                clauses += parts
                continue
            }
            clauses.append(unknown(token.key, stems: stems))
        }
        if dictionary.count > 0 { addDictionaryPhrases(all, to: &clauses) }
        if !lexicon.phrasings.isEmpty {
            // Negations written out ("can't" → "can not"), as the phrasings are.
            let spelled = Lexicon.spellingOutNegations(query)
            addPhrases(spelled == query ? all : Array(TextAnalysis.tokens(spelled).prefix(all.count + 8)),
                       to: &clauses, memo: memo)
        }
        return clauses
    }

    /// Two English words of the query that the dictionary translates
    /// together into a German word of the articles ("brake pad" →
    /// "Bremsbelag"): that word becomes an alternative of both words'
    /// clauses, so that the German article covers them. A word the
    /// articles do not know at all gets a clause with only it, sharing the
    /// German word's idf with its neighbour.
    private func addDictionaryPhrases(_ tokens: [TextAnalysis.Token], to clauses: inout [QueryClause]) {
        let words = tokens.filter { !StopWords.contains($0) && !$0.isNumber }
        guard words.count >= 2 else { return }
        for i in 0..<(words.count - 1) {
            let pair = [words[i], words[i + 1]]
            let key = DictionaryTranslations.phraseKey(pair.map { TextAnalysis.indexTerm($0, language: .en).term })
            let german = dictionary.translations(of: [key], termIDs: termIDs).filter { $0.count == 1 }.map { $0[0] }
            for id in german {
                for token in pair {
                    if let c = clauses.firstIndex(where: { $0.word == token.key && $0.resolution != .unknown }) {
                        let own = clauses[c].informativeness
                        clauses[c].add([dictionaryAlternative(id, ownIDF: own > 0 ? own : nil)])
                    } else if let c = clauses.firstIndex(where: { $0.word == token.key && $0.resolution == .unknown
                                                                && $0.informativeness == 0 }) {
                        clauses[c] = QueryClause(word: token.key, alternatives: [dictionaryAlternative(id, ownIDF: nil)],
                                                 informativeness: idf[Int(id)] / 2, weight: 1, resolution: .dictionary)
                    }
                }
            }
        }
    }

    /// The symptoms the query describes in words of a phrase
    /// (``Vocabulary/Phrase``, "hear myself twice"): one clause per phrase
    /// found, searching the words it means ("echo") at ``Tuning/phrase``,
    /// with their vocabulary relatives; it counts like one word of the
    /// query. The phrasing's own words then no longer count against an
    /// article that lacks them. A phrase whose meaning no article has adds
    /// nothing and changes nothing; a meaning the query already names
    /// itself is not searched twice.
    private func addPhrases(_ tokens: [TextAnalysis.Token], to clauses: inout [QueryClause], memo: QueryMemo) {
        // A stop word ("my", "nicht") is matched as written, unstemmed.
        // `tokens`: the query's, with its negations written out.
        let stopWord = tokens.map { StopWords.contains($0) }
        let found = lexicon.phrases(in: tokens.indices.map { stopWord[$0] ? [tokens[$0].key] : memo.stems(tokens[$0]) },
                                    stopWord: stopWord)
        guard !found.isEmpty else { return }
        var explained = Set<String>()
        var added: [QueryClause] = []
        for (meaning, positions) in found {
            var own: [QueryClause.Alternative] = []
            var translations: [QueryClause.Alternative] = []
            for stem in lexicon.meanings[meaning] {
                if let id = termIDs[stem] {
                    var a = alternative(id, Tuning.phrase)
                    a.match = Tuning.phraseMatch
                    a.fullMatch = Tuning.phraseMatch
                    if !own.contains(where: { $0.term == id }) { own.append(a) }
                } else {
                    for var t in translated([stem]) {
                        t.weight *= Tuning.phrase
                        t.match = Tuning.phraseMatch * Tuning.lexicon
                        t.fullMatch = Tuning.phraseMatch
                        translations.merge(t)
                    }
                }
            }
            var alternatives = withRelatives(own)
            for t in translations { alternatives.merge(t) }
            guard !alternatives.isEmpty else { continue }
            // What the customer's own words already search ("record
            // calls": "recording", "Aufzeichnung") is not searched twice;
            // a phrase with nothing left changes nothing.
            alternatives.removeAll { a in
                clauses.contains { $0.alternatives.contains { $0.term == a.term && $0.weight >= Tuning.lexicon } }
            }
            guard !alternatives.isEmpty else { continue }
            let words = positions.sorted().map { tokens[$0].key }
            // Two phrases found that mean the same ("komme nicht rein",
            // "kann mich nicht anmelden") search it once.
            alternatives.removeAll { a in added.contains { $0.alternatives.contains { $0.term == a.term } } }
            explained.formUnion(words)
            guard !alternatives.isEmpty else { continue }
            let informativeness = own.isEmpty ? (translations.map(\.idf).max() ?? 0) : (own.map(\.idf).max() ?? 0)
            let ownWords = words.filter { !StopWords.contains($0) }
            let literal = ownWords.compactMap { word in clauses.firstIndex { $0.word == word && $0.partOf == 0 } }
            added.append(QueryClause(word: words.joined(separator: " "), alternatives: alternatives,
                                     informativeness: informativeness, weight: 1, resolution: .phrase,
                                     literalWords: literal.count == ownWords.count ? literal : []))
        }
        guard !explained.isEmpty else { return }
        for i in clauses.indices where explained.contains(clauses[i].word) && clauses[i].partOf == 0 {
            clauses[i].missingShare = 0
        }
        clauses += added
    }

    /// A clause for a word the knowledge base does not know: it matches
    /// nothing and counts for nothing in the coverage (Tuning/unknownWord).
    /// Chat messages carry words no article has — other vendors' products,
    /// office jargon, colloquial verbs — and counting them as missing
    /// dropped the right article along with the rest; a topic the KB lacks
    /// ("Drucker") is caught by the evidence measure instead, which needs the
    /// query's known words in an article's title or tags.
    ///
    /// A word of the support vocabulary that no article contains is
    /// different: it names a support topic ("Netzteil", "Drucker", "WLAN")
    /// that this knowledge base does not cover, so it counts as missing
    /// (``Tuning/uncoveredTopic``) — unless its vocabulary file says its
    /// words name no topic (`uncoveredTopics: false`, the everyday words).
    private func unknown(_ word: String, stems: [String]) -> QueryClause {
        let topic = stems.contains { lexicon.namesTopic($0) }
        return QueryClause(word: word, alternatives: [],
                           informativeness: maximumIDF * (topic ? Tuning.uncoveredTopic : Tuning.unknownWord),
                           weight: 1, resolution: topic ? .uncoveredTopic : .unknown)
    }

    /// German and English write some compounds apart that the articles
    /// write as one word ("time zone" / "timezone", "back up" / "backup",
    /// "log in" / "login"). Two neighbouring words are joined when the joined
    /// word is an index term and one of the two is a stop word or unknown.
    func joiningOpenCompounds(_ tokens: [TextAnalysis.Token], memo: QueryMemo = QueryMemo()) -> [TextAnalysis.Token] {
        guard tokens.count >= 2 else { return tokens }
        func isWeak(_ token: TextAnalysis.Token) -> Bool {
            StopWords.contains(token) || !memo.stems(token).contains { termIDs[$0] != nil }
        }
        var result: [TextAnalysis.Token] = []
        var i = 0
        while i < tokens.count {
            if i + 1 < tokens.count, !tokens[i].isNumber, !tokens[i + 1].isNumber,
               isWeak(tokens[i]) || isWeak(tokens[i + 1]), !StopWords.contains(tokens[i]) {
                let joined = TextAnalysis.Token(folded: tokens[i].folded + tokens[i + 1].folded,
                                                key: tokens[i].key + tokens[i + 1].key, isNumber: false,
                                                umlaut: tokens[i].umlaut || tokens[i + 1].umlaut)
                // A word and a stop word after it that stem like the word
                // alone ("bearbeiten der": "bearbeitender") are not an
                // open compound: the join would add nothing but a wrong
                // split of its ending ("end").
                let joinedStems = memo.stems(joined)
                let sameAsFirst = StopWords.contains(tokens[i + 1])
                    && joinedStems.contains { termIDs[$0] != nil && memo.stems(tokens[i]).contains($0) }
                if !StopWords.contains(joined), !sameAsFirst, joinedStems.contains(where: { termIDs[$0] != nil }) {
                    result.append(joined)
                    i += 2
                    continue
                }
            }
            result.append(tokens[i])
            i += 1
        }
        return result
    }

    /// German separable verbs stand apart in a sentence: "Wie setze ich den
    /// Schlüssel zurück" means "zurücksetzen". A particle ("zurück", "ab",
    /// "an", …) is joined to another word of the query when the joined word's
    /// stem is an index term; the particle is then consumed.
    func joiningSeparableVerbs(_ tokens: [TextAnalysis.Token]) -> [TextAnalysis.Token] {
        let particles = tokens.indices.filter { Self.separableParticles.contains(tokens[$0].key) }
        guard !particles.isEmpty else { return tokens }
        var result = tokens
        var consumed = Set<Int>()
        for i in tokens.indices where !particles.contains(i) && !tokens[i].isNumber
            && !StopWords.contains(tokens[i]) {
            for p in particles where !consumed.contains(p) {
                let joined = tokens[p].key + tokens[i].key
                if termIDs[GermanStemmer.stem(joined)] != nil {
                    result[i] = TextAnalysis.Token(folded: tokens[p].folded + tokens[i].folded, key: joined,
                                                   isNumber: false, umlaut: tokens[p].umlaut || tokens[i].umlaut)
                    consumed.insert(p)
                    break
                }
            }
        }
        return result.indices.filter { !consumed.contains($0) }.map { result[$0] }
    }

    /// Particles of German separable verbs, as standalone (folded) words.
    static let separableParticles: Set<String> = [
        "ab", "an", "auf", "aus", "bei", "ein", "fest", "frei", "her", "hin", "hoch", "los", "mit", "nach",
        "um", "vor", "weg", "zu", "zuruck", "zusammen", "wiederher", "herunter", "hinzu",
    ]

    private func alternative(_ term: Int32, _ weight: Float) -> QueryClause.Alternative {
        .init(term: term, weight: weight, idf: idf[Int(term)], match: weight, fullMatch: weight)
    }

    /// `own` plus the lexicon relatives of each, at ``Tuning/lexicon`` times
    /// its weight and match.
    private func withRelatives(_ own: [QueryClause.Alternative]) -> [QueryClause.Alternative] {
        var alternatives = own
        let ownIDF = own.map(\.idf).max() ?? 0
        for alternative in own {
            for related in lexicon.related(to: terms[Int(alternative.term)]) {
                guard let id = termIDs[related] else { continue }
                alternatives.merge(.init(term: id, weight: alternative.weight * Tuning.lexicon,
                                         idf: min(idf[Int(id)], ownIDF), match: alternative.match * Tuning.lexicon,
                                         fullMatch: alternative.fullMatch))
            }
        }
        return alternatives
    }

    /// A clause of `own` terms plus their lexicon relatives.
    private func clause(_ word: String, own: [QueryClause.Alternative],
                        resolution: QueryClause.Resolution) -> QueryClause {
        QueryClause(word: word, alternatives: withRelatives(own), informativeness: own.map(\.idf).max() ?? 0,
                    weight: 1, resolution: resolution)
    }

    /// The clause of a query word that is no index term, searched as the
    /// terms it stands for instead (its translations or its cognates); a
    /// common word missing from an article costs only its common share.
    private func searchedInstead(_ token: TextAnalysis.Token, _ alternatives: [QueryClause.Alternative],
                                 resolution: QueryClause.Resolution) -> QueryClause {
        QueryClause(word: token.key, alternatives: alternatives, informativeness: alternatives.map(\.idf).max() ?? 0,
                    weight: 1, resolution: resolution,
                    missingShare: lexicon.isCommonWord(token.key) ? Tuning.commonWordMissing : 1)
    }

    /// One clause per part of a compound the vocabulary does not know whole.
    /// The compound is one word of the query, so its parts share one word's
    /// weight in the confidence measure: each part counts its idf divided by
    /// the number of parts ("Fileserver" is not two words the article must
    /// cover, "file" and "server", but one). A nil part is a real word the
    /// knowledge base lacks: like any word it does not know, it neither
    /// helps nor hurts, and the known part keeps only its share.
    private func compoundClauses(_ word: String, _ parts: [QueryClause.Alternative?]) -> [QueryClause] {
        parts.compactMap { part in
            guard let part else { return nil }
            var c = clause(word, own: [part], resolution: .compoundPart)
            c.partEvidence = c.informativeness
            c.informativeness /= Float(parts.count)
            return c
        }
    }

    /// A compound of a word the knowledge base knows and a real word it does
    /// not ("Postfach·anbindung"): the known part, or nil. The known part is
    /// the modifier (at least four letters, a linking -s/-n/-es/-en allowed,
    /// beginning an article word with the same stem, as in
    /// ``Decompounder``); the head must be a common word or a word of the
    /// vocabulary, so that a typo is not taken for a compound. The longest
    /// known modifier wins. A known head with an unknown modifier is no
    /// match: "Kaffee·automat" is not about the articles' "automatisch".
    private func knownPartBesideWord(_ key: String, memo: QueryMemo) -> QueryClause.Alternative? {
        let w = Array(key.utf8)
        let minimum = 4
        guard w.count >= 2 * minimum, w.count <= Tuning.maximumWordLength, w.allSatisfy({ $0 < 0x80 }) else { return nil }
        func inVocabulary(_ word: String) -> Bool {
            lexicon.contains(GermanStemmer.stem(word)) || lexicon.contains(TextAnalysis.collapse(EnglishStemmer.stem(word)))
        }
        // A word the vocabulary knows whole is that word, not a known part
        // beside another: "ausstempeln" (clocking out) is not "außer" beside
        // "Tempel". Left unknown, it counts as the vocabulary's topic.
        if inVocabulary(key) { return nil }
        func isRealWord(_ part: String) -> Bool {
            !StopWords.contains(part) && (lexicon.isCommonWord(part) || inVocabulary(part))
        }
        func term(_ part: String, isLast: Bool) -> Int32? {
            guard !StopWords.contains(part), let stem = partStem(part, isLast: isLast, memo: memo), !stem.isEmpty else { return nil }
            return termIDs[stem]
        }
        for length in stride(from: w.count - minimum, through: minimum, by: -1) {
            let modifier = String(decoding: w[..<length], as: UTF8.self)
            let rest = String(decoding: w[length...], as: UTF8.self)
            if isRealWord(rest) {
                for candidate in Decompounder.modifierForms(modifier, minimum: minimum) {
                    if let id = term(candidate, isLast: false) { return alternative(id, Tuning.exact) }
                }
            }
        }
        return nil
    }

    /// A compound of an ordinary word the knowledge base lacks and a head
    /// that only the vocabulary knows ("Fremd·währung" against an English
    /// article on "currency"): a German compound names a kind of its head,
    /// so the head's translations are searched, as a part of the word
    /// (half its weight). The modifier says which kind: it is a part that
    /// no article has, so it counts as missing for every article, and an
    /// article about the head alone covers only half the word ("Kaffee·
    /// gruppe" is not about ring groups, but a sentence with more words of
    /// a group article may still find it). The modifier (at least four
    /// letters, a linking -s/-n/-es/-en allowed) must be a common word and
    /// the head (at least five letters) a word of the vocabulary that is no
    /// index term itself, so that a typo is not taken for a compound.
    /// Nil when no split fits; the longest head wins.
    private func translatedHeadBesideWord(_ key: String) -> [QueryClause]? {
        let w = Array(key.utf8)
        let minimumModifier = 4, minimumHead = 5
        guard w.count >= minimumModifier + minimumHead, w.count <= Tuning.maximumWordLength,
              w.allSatisfy({ $0 < 0x80 }) else { return nil }
        func isOrdinaryWord(_ modifier: String) -> Bool {
            if StopWords.contains(modifier) { return false }
            return Decompounder.modifierForms(modifier, minimum: minimumModifier).contains(where: lexicon.isCommonWord)
        }
        for length in minimumModifier...(w.count - minimumHead) {
            let head = String(decoding: w[length...], as: UTF8.self)
            guard lexicon.isVocabularyWord(head), isOrdinaryWord(String(decoding: w[..<length], as: UTF8.self))
            else { continue }
            let stems = [GermanStemmer.stem(head), TextAnalysis.collapse(EnglishStemmer.stem(head))]
            guard !stems.contains(where: { termIDs[$0] != nil }) else { continue }
            let translations = translated(stems)
            guard let best = translations.map(\.idf).max() else { continue }
            let share = best / 2
            var modifier = QueryClause(word: key, alternatives: [], informativeness: share,
                                       weight: 1, resolution: .unknown)
            modifier.missingShare = Tuning.commonWordMissing
            return [QueryClause(word: key, alternatives: translations, informativeness: share,
                                weight: 1, resolution: .translated), modifier]
        }
        return nil
    }

    /// The index stem of a part of a query word's compound
    /// (``Decompounder/partStem(_:isLast:mayBeginWord:english:isTerm:beginsWord:)``,
    /// German or English), "" for filler, or nil; once per query.
    private func partStem(_ part: String, isLast: Bool, memo: QueryMemo) -> String? {
        memo.partStem(part, isLast: isLast) {
            Decompounder.partStem(part, isLast: isLast, english: true, isTerm: { termIDs[$0] != nil },
                                  beginsWord: words.beginsWord(_:withTerm:))
        }
    }

    /// The lexicon relatives of `stems` that are index terms, at the
    /// lexicon weight (for a word that is not a term itself).
    private func translated(_ stems: [String]) -> [QueryClause.Alternative] {
        var out: [QueryClause.Alternative] = []
        for stem in stems {
            for related in lexicon.related(to: stem) {
                guard let id = termIDs[related], !out.contains(where: { $0.term == id }) else { continue }
                var translation = alternative(id, Tuning.lexicon)
                translation.fullMatch = Tuning.exact
                out.append(translation)
            }
        }
        return out
    }

    /// The general dictionary's translations of a word with `stems`
    /// (``DictionaryTranslations``) that are index terms: those of one word
    /// as alternatives at ``Tuning/dictionary`` (idf at most `ownIDF`, like
    /// a cognate's), those of several words as their terms.
    private func dictionaryTranslations(_ stems: [String], ownIDF: Float?)
        -> (words: [QueryClause.Alternative], terms: [[Int32]]) {
        var words: [QueryClause.Alternative] = []
        var terms: [[Int32]] = []
        for translation in dictionary.translations(of: stems, termIDs: termIDs) {
            if translation.count == 1 {
                words.append(dictionaryAlternative(translation[0], ownIDF: ownIDF))
            } else {
                terms.append(translation)
            }
        }
        return (words, terms)
    }

    private func dictionaryAlternative(_ id: Int32, ownIDF: Float?) -> QueryClause.Alternative {
        .init(term: id, weight: Tuning.dictionary, idf: ownIDF.map { min($0, idf[Int(id)]) } ?? idf[Int(id)],
              match: Tuning.dictionaryMatch, fullMatch: Tuning.dictionaryFullMatch)
    }

    /// The index terms of words in the other language that are cognates of
    /// `token` (``Cognates``, ``SearchIndex/germanCognates``), at
    /// ``Tuning/cognate``: a German word is looked up among the English
    /// articles' words and an English one among the German articles'. The
    /// idf is at most `ownIDF` (the query word's own, when it is a term),
    /// like a vocabulary relative's. Unless the word is a common word (a
    /// real word, never a typo: "Kamera"/"camera"), a term within one typo
    /// of one of `stems` is left out: "Paswort" is a typo of "Passwort",
    /// not its cognate (doubled letters are single in a cognate key), and
    /// the typo correction weighs it as one.
    private func cognates(of token: TextAnalysis.Token, stems: [String], ownIDF: Float?) -> [QueryClause.Alternative] {
        guard token.key.utf8.count >= Cognates.minimumWordLength else { return [] }
        var out: [QueryClause.Alternative] = []
        var stemScalars: [[UInt32]]? = lexicon.isCommonWord(token.key) ? [] : nil
        for (language, index) in [(Article.Language.de, englishCognates), (.en, germanCognates)] {
            for key in Cognates.keys(token.key, language: language) {
                for term in index[key] ?? [] where !out.contains(where: { $0.term == term }) {
                    if stemScalars == nil { stemScalars = stems.map { $0.unicodeScalars.map(\.value) } }
                    let t = terms[Int(term)].unicodeScalars.map(\.value)
                    guard !(stemScalars ?? []).contains(where: { FuzzyIndex.withinOneEdit($0, t) }) else { continue }
                    let termIDF = idf[Int(term)]
                    out.append(.init(term: term, weight: Tuning.cognate, idf: ownIDF.map { min($0, termIDF) } ?? termIDF,
                                     match: Tuning.cognateMatch, fullMatch: Tuning.cognateFullMatch))
                }
            }
        }
        return out
    }

    /// Vocabulary terms one typo from any of `stems`, most frequent first.
    /// Typos rarely hit a word's first letter: when some candidates keep
    /// it, the others are dropped ("fowarding" is "forwarding", not
    /// "towarding").
    private func fuzzyCandidates(_ stems: [String]) -> [Int32] {
        var found: [Int32] = []
        for stem in stems {
            for id in fuzzy.candidates(of: stem) where !found.contains(id) { found.append(id) }
        }
        if let first = stems.first?.utf8.first {
            let keeping = found.filter { terms[Int($0)].utf8.first == first }
            if !keeping.isEmpty { found = keeping }
        }
        found.sort { documentFrequency[Int($0)] != documentFrequency[Int($1)]
            ? documentFrequency[Int($0)] > documentFrequency[Int($1)] : $0 < $1 }
        return Array(found.prefix(Tuning.maximumFuzzyCandidates))
    }

    /// Index terms of the same word family as one of `stems`: they share all
    /// but the last few letters ("transcrib" — "transcript", "subscript" —
    /// "subscrib"), where the stemmer stops short of derivation. At least
    /// ``Tuning/derivedPrefix`` letters in common, and each of the two
    /// differs from the common beginning by at most
    /// ``Tuning/derivedEnding`` letters; at most two terms, most frequent
    /// first.
    private func derivedForms(_ stems: [String]) -> [Int32] {
        var found: [Int32] = []
        for stem in stems {
            let s = Array(stem.utf8)
            guard s.count >= Tuning.derivedPrefix + 1 else { continue }
            let shared = Swift.max(Tuning.derivedPrefix, s.count - Tuning.derivedEnding)
            let prefix = String(decoding: s[..<shared], as: UTF8.self)
            var low = 0, high = terms.count
            while low < high {
                let mid = (low + high) / 2
                if terms[mid] < prefix { low = mid + 1 } else { high = mid }
            }
            var i = low
            while i < terms.count, i - low < 32, terms[i].hasPrefix(prefix) {
                let t = Array(terms[i].utf8)
                var common = 0
                while common < Swift.min(s.count, t.count), s[common] == t[common] { common += 1 }
                if t != s, t.count - common <= Tuning.derivedEnding, !found.contains(Int32(i)) { found.append(Int32(i)) }
                i += 1
            }
        }
        found.sort { documentFrequency[Int($0)] != documentFrequency[Int($1)]
            ? documentFrequency[Int($0)] > documentFrequency[Int($1)] : $0 < $1 }
        return Array(found.prefix(2))
    }

    /// A compound with a part that only the vocabulary knows: a word of a
    /// concept whose translation or synonym is an index term
    /// ("Klingel·gruppe" against English articles that say "ring group"),
    /// or a cognate of other-language article words (``Cognates``:
    /// "Zertifikats·fehler" against "certificate"),
    /// split like ``splitQuery`` but with such words (written as in the
    /// vocabulary, at least five letters; a cognate, at least six) also
    /// allowed as parts. Each part
    /// is a clause sharing the word's weight; a vocabulary part searches
    /// its relatives as a translated word does. Nil when no split has
    /// such a part.
    private func splitThroughVocabulary(_ key: String, memo: QueryMemo) -> [QueryClause]? {
        var throughVocabulary = Set<String>()
        // A part that is a cognate of other-language article words
        // ("Zertifikats·fehler" against "certificate"): its alternatives,
        // under a stem no term has ("\u{1}" + the part).
        var cognateParts: [String: [QueryClause.Alternative]] = [:]
        let parts = Decompounder.split(key, words: words) { part, isLast, mayBeginWord in
            if isLast || mayBeginWord, let stem = partStem(part, isLast: isLast, memo: memo) {
                return .init(stem: stem)
            }
            guard part.utf8.count >= 5, !StopWords.contains(part) else { return nil }
            if lexicon.isVocabularyWord(part) {
                for stem in [GermanStemmer.stem(part), TextAnalysis.collapse(EnglishStemmer.stem(part))]
                where lexicon.related(to: stem).contains(where: { termIDs[$0] != nil }) {
                    throughVocabulary.insert(stem)
                    return .init(stem: stem)
                }
            }
            guard part.utf8.count >= Cognates.minimumWordLength else { return nil }
            let marker = "\u{1}" + part
            if cognateParts[marker] == nil {
                let token = TextAnalysis.Token(folded: part, key: part, isNumber: false)
                cognateParts[marker] = cognates(of: token, stems: memo.stems(token), ownIDF: nil)
            }
            guard cognateParts[marker]?.isEmpty == false else { return nil }
            throughVocabulary.insert(marker)
            return .init(stem: marker)
        }
        guard let parts = parts?.map(\.stem), parts.count >= 2, parts.contains(where: throughVocabulary.contains)
        else { return nil }
        let share = 1 / Float(parts.count)
        return parts.compactMap { stem in
            var part: QueryClause
            if let alternatives = cognateParts[stem], !alternatives.isEmpty {
                part = QueryClause(word: key, alternatives: alternatives, informativeness: alternatives.map(\.idf).max() ?? 0,
                                   weight: 1, resolution: .cognate)
            } else if let id = termIDs[stem] {
                part = clause(key, own: [alternative(id, Tuning.exact)], resolution: .compoundPart)
            } else {
                let translations = translated([stem])
                guard !translations.isEmpty else { return nil }
                part = QueryClause(word: key, alternatives: translations,
                                   informativeness: translations.map(\.idf).max() ?? 0, weight: 1, resolution: .translated)
            }
            part.partEvidence = part.informativeness
            part.informativeness *= share
            return part
        }
    }

    /// The parts of an unknown compound as clause terms, or nil. With
    /// `typo`, one part (of at least five letters, any position:
    /// "Sicherungsaftrag", "Festplattnfehler") may be one typo away from a
    /// known term; a split with two corrected parts is refused (that is
    /// guessing, not correcting).
    func splitQuery(_ key: String, fuzzyLast typo: Bool, memo: QueryMemo) -> [QueryClause.Alternative]? {
        var corrections: [String: Decompounder.Part?] = [:]
        let parts = Decompounder.split(key, words: words) { part, isLast, mayBeginWord in
            // A part before the last that begins no article word is refused
            // at once (see Decompounder.partStem): not worth remembering.
            if isLast || mayBeginWord, let stem = partStem(part, isLast: isLast, memo: memo) {
                return .init(stem: stem)
            }
            guard typo, part.utf8.count >= 5, !StopWords.contains(part), !lexicon.isCommonWord(part) else { return nil }
            if let known = corrections[part] { return known }
            let corrected = fuzzyCandidates([GermanStemmer.stem(part)]).first.map {
                Decompounder.Part(stem: terms[Int($0)], corrected: true)
            }
            corrections[part] = corrected
            return corrected
        }
        // Two corrected parts are a guess, also when a corrected stem is one
        // that another part gives as written: "Tischre·servierungen",
        // corrected to "tisch" and "server", is refused.
        guard let parts, parts.filter(\.corrected).count <= 1 else { return nil }
        return parts.compactMap { part in
            termIDs[part.stem].map { alternative($0, part.corrected ? Tuning.fuzzy : Tuning.exact) }
        }
    }

    // MARK: Scoring

    /// Scores every article that matches any clause and returns the best
    /// `limit`, highest score first (ties: earlier article first).
    ///
    /// An article's score is the sum over clauses of the clause weight times
    /// the best of its alternatives' `weight · idf · impact` (see ``SearchIndex``).
    ///
    /// Its confidence — is this article about the customer's problem? — is
    /// `coverage^a · evidence^b` (``Tuning/coverageExponent``,
    /// ``Tuning/evidenceExponent``), both factors 0…1:
    ///
    /// - **coverage**: the informativeness-weighted (idf) share of the
    ///   query's words that the article contains, in any field; a match
    ///   counts its alternative's `match` (the word 1, a translation 0.8 —
    ///   but 1 in an article without a version in the other language,
    ///   ``SearchIndex/documentHasTwin`` — a typo 0.7, part of a compound
    ///   less). A word the knowledge base does
    ///   not know counts for nothing; a common word or a typo correction
    ///   that the article lacks counts only its `missingShare`; and past
    ///   the informativeness of two specific words (``Tuning/coverageWords``)
    ///   the rest of a long message counts half, so that naming more than
    ///   the topic in a chat sentence does not hide the answer.
    /// - **evidence**: how much the query's words point at this article,
    ///   against ``Tuning/evidenceNeeded`` times the idf of a word that only
    ///   one article has. A word found in the article's title or tags
    ///   counts the mean of its idf and its headline idf (how few articles
    ///   have it in their title or tags: "Warnung" is in many texts but one
    ///   article's tags); a word found only in the body counts
    ///   ``Tuning/bodyEvidence`` of its idf. A part of a compound counts as
    ///   the same word written apart would (``QueryClause/partEvidence``),
    ///   though in the coverage the parts share one word's weight. Where
    ///   at least two query words stand together in one paragraph or step
    ///   of the body, and those words count more there
    ///   (``togetherEvidence(_:document:)``), that is the evidence instead.
    ///   One common word in a title
    ///   ("System down" and "Komplettes System wiederherstellen", "NordBox
    ///   geht nicht" and "NordBox Connect …") is not enough; two specific
    ///   words in the title, or a specific one and a few ordinary ones, are.
    ///
    /// Coverage alone rewards short generic queries: "NordBox geht nicht"
    /// is covered completely by every article with "NordBox" in its title.
    ///
    /// The best-scoring `limit` are then ordered by confidence (for the
    /// conversation's offers and the `!kb` list alike); between equally
    /// confident articles, one in `language` (the query's, when its function
    /// words tell) comes first, then the higher score.
    func evaluate(_ clauses: [QueryClause], limit: Int,
                  language: Article.Language? = nil) -> [RankedDocument] {
        guard limit > 0, documentCount > 0,
              clauses.contains(where: { !$0.alternatives.isEmpty || !$0.questionHits.isEmpty }) else { return [] }
        // Per document: 0 score, 1 coverage, 2 evidence, 3 search coverage;
        // for the current clause: 4 score, 5 match, 6 evidence, 7 search match.
        // Every posting has a match > 0, so a 0 in lane 5 means "not yet
        // touched by this clause", and 0 in lanes 0 and 1 "not yet touched".
        var acc = [SIMD8<Float>](repeating: .zero, count: documentCount)
        var touched: [Int32] = []
        var clauseTouched: [Int32] = []
        // The coverage's denominator: every clause's informativeness as far
        // as it counts when missing, plus, per article, the rest of the
        // clauses it matches (see QueryClause.missingShare).
        var totalInformativeness: Float = 0
        var matchedOptional: [Float] = clauses.contains { $0.missingShare < 1 || !$0.literalWords.isEmpty }
            ? [Float](repeating: 0, count: documentCount) : []
        // Per clause of a phrase's own words (QueryClause.literalWords):
        // the articles with that word in their title or tags.
        let literalClauses = Set(clauses.flatMap(\.literalWords))
        var literalDocuments: [Int: Set<Int32>] = [:]
        // A compound's parts (QueryClause.partOf): per article, the whole
        // word's match and the share of its parts matched, and the articles
        // touched by the current compound.
        let hasParts = clauses.contains { $0.hasParts }
        var wholeMatch = hasParts ? [Float](repeating: -1, count: documentCount) : []
        var partSum = hasParts ? [Float](repeating: 0, count: documentCount) : []
        var groupDocuments: [Int32] = []
        for (clauseIndex, clause) in clauses.enumerated() {
            totalInformativeness += clause.informativeness * clause.missingShare
            let optional = clause.informativeness * (1 - clause.missingShare)
            for alternative in clause.alternatives {
                let t = Int(alternative.term)
                let termWeight = alternative.weight * alternative.idf
                let evidenceIDF = clause.partEvidence ?? clause.informativeness
                let headlineEvidence = (evidenceIDF + headlineIDF[t]) / 2
                let bodyEvidence = evidenceIDF * Tuning.bodyEvidence
                for p in Int(offsets[t])..<Int(offsets[t + 1]) {
                    let d = Int(postingDocument[p])
                    let headline = postingHeadline[p]
                    let match = documentHasTwin[d] ? alternative.match : alternative.fullMatch
                    if acc[d][5] == 0 { clauseTouched.append(Int32(d)) }
                    acc[d][4] = max(acc[d][4], termWeight * postingImpact[p])
                    acc[d][5] = max(acc[d][5], match)
                    acc[d][6] = max(acc[d][6], match * (bodyEvidence + headline * (headlineEvidence - bodyEvidence)))
                    acc[d][7] = max(acc[d][7], match * (Tuning.searchBodyMatch + headline * (1 - Tuning.searchBodyMatch)))
                }
            }
            // A phrase's meaning does not count against an article with the
            // customer's own words of it in its title or tags ("Batterie
            // lädt nicht" and "Batterie lädt nicht oder bleibt … stehen",
            // not the app-start reading of "lädt nicht"): its share leaves
            // that article's denominator. It still counts for an article
            // that has the meaning.
            if let first = clause.literalWords.first, var literal = literalDocuments[first] {
                for other in clause.literalWords.dropFirst() { literal.formIntersection(literalDocuments[other] ?? []) }
                for d32 in literal where acc[Int(d32)][5] == 0 {
                    matchedOptional[Int(d32)] -= clause.informativeness * clause.missingShare
                }
            }
            // The word matches a question customers ask for the article
            // (QuestionIndex): as if it were in that article's title.
            for hit in clause.questionHits {
                let d = Int(hit.document)
                if acc[d][5] == 0 { clauseTouched.append(hit.document) }
                acc[d][4] = max(acc[d][4], hit.score)
                acc[d][5] = max(acc[d][5], hit.match)
                acc[d][6] = max(acc[d][6], hit.evidence)
                acc[d][7] = max(acc[d][7], hit.match)
            }
            // The articles with this word itself in their title or tags
            // (search match 1), for the phrases that stand for it.
            if literalClauses.contains(clauseIndex) {
                literalDocuments[clauseIndex] = Set(clauseTouched.filter { acc[Int($0)][7] >= 1 })
            }
            for d32 in clauseTouched {
                let d = Int(d32)
                if clause.hasParts || clause.partOf > 0 {
                    if wholeMatch[d] < 0 { wholeMatch[d] = 0; groupDocuments.append(d32) }
                    if clause.hasParts { wholeMatch[d] = acc[d][5] } else { partSum[d] += acc[d][5] * clause.partFraction }
                }
                if acc[d][0] == 0, acc[d][1] == 0 { touched.append(d32) }
                acc[d][0] += clause.weight * acc[d][4]
                acc[d][1] += clause.informativeness * acc[d][5]
                acc[d][2] += acc[d][6]
                acc[d][3] += clause.informativeness * acc[d][7]
                if optional > 0 { matchedOptional[d] += optional }
                acc[d][4] = 0
                acc[d][5] = 0
                acc[d][6] = 0
                acc[d][7] = 0
            }
            clauseTouched.removeAll(keepingCapacity: true)
            // After a compound's last part: an article with all its parts
            // covers the word (nearly) as well as one with the word.
            if clause.partOf > 0, clauseIndex + 1 == clauses.count || clauses[clauseIndex + 1].partOf == 0 {
                for d32 in groupDocuments {
                    let d = Int(d32)
                    let byParts = Swift.min(1, partSum[d]) * Tuning.allPartsMatch
                    if byParts > wholeMatch[d] { acc[d][1] += clause.partOf * (byParts - wholeMatch[d]) }
                    wholeMatch[d] = -1
                    partSum[d] = 0
                }
                groupDocuments.removeAll(keepingCapacity: true)
            }
        }

        var top: [RankedDocument] = []
        top.reserveCapacity(limit + 1)
        for d32 in touched {
            let d = Int(d32)
            let score = acc[d][0]
            if top.count == limit, let last = top.last,
               score < last.score || (score == last.score && d > last.document) {
                continue
            }
            let entry = RankedDocument(document: d, score: score, confidence: 0)
            let position = top.firstIndex { score > $0.score || (score == $0.score && d < $0.document) } ?? top.count
            top.insert(entry, at: position)
            if top.count > limit { top.removeLast() }
        }

        // The confidence of the few articles returned.
        let evidenceNeeded = Tuning.evidenceNeeded * maximumIDF
        let longest = Tuning.coverageWords * maximumIDF
        for i in top.indices {
            let d = top[i].document
            // A long message names more than its topic: past the
            // informativeness of ``Tuning/coverageWords`` specific words,
            // the share of it an article must cover stops growing.
            let all = totalInformativeness + (matchedOptional.isEmpty ? 0 : matchedOptional[d])
            let whole = all <= longest ? all : longest + (all - longest) * Tuning.coverageBeyond
            let coverage = whole > 0 ? min(1, acc[d][1] / whole) : 0
            // Words standing together in one block of the body
            // (``togetherEvidence(_:document:)``); not needed when the
            // evidence is complete anyway.
            let together = acc[d][2] < evidenceNeeded ? togetherEvidence(clauses, document: d) : (evidence: 0, block: 0)
            let evidence = min(1, max(acc[d][2], together.evidence) / evidenceNeeded)
            top[i].coverage = coverage
            top[i].searchCoverage = whole > 0 ? min(1, acc[d][3] / whole) : 0
            top[i].evidence = evidence
            top[i].togetherBlock = together.evidence > acc[d][2] ? together.block : 0
            top[i].confidence = pow(coverage, Tuning.coverageExponent) * pow(evidence, Tuning.evidenceExponent)
        }
        // Rank agrees with confidence: the best-scoring candidates are
        // ordered by confidence (ties: score, then the earlier article), so
        // the first article offered at any threshold is the best ranked
        // above it, and no article is offered at a higher confidence than
        // one ranked before it.
        // An article and its translation say the same thing: both get the
        // better confidence of the two, so that the customer's language
        // decides between them ("Weboberfläche" finds the German article
        // first, even if the English one's title has the vocabulary's word).
        if language != nil {
            for i in top.indices {
                let twin = Int(documentTwin[top[i].document])
                guard twin >= 0, let j = top.firstIndex(where: { $0.document == twin }),
                      top[j].confidence > top[i].confidence else { continue }
                top[i].confidence = top[j].confidence
            }
        }
        top.sort {
            if $0.confidence != $1.confidence { return $0.confidence > $1.confidence }
            if let language, documentLanguage[$0.document] != documentLanguage[$1.document] {
                return documentLanguage[$0.document] == language
            }
            if $0.score != $1.score { return $0.score > $1.score }
            return $0.document < $1.document
        }
        return top
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SearchIndex {
    /// For explanations: what each query word contributed to `document`'s
    /// score (its clause weight times the best alternative's
    /// `weight · idf · impact`), and whether that term is in the title or tags.
    func scoreParts(_ clauses: [QueryClause], document: Int) -> [(word: String, score: Float, inHeadline: Bool)] {
        var parts: [(word: String, score: Float, inHeadline: Bool)] = []
        for clause in clauses {
            var best: Float = 0
            var headline = false
            for alternative in clause.alternatives {
                let t = Int(alternative.term)
                for p in Int(offsets[t])..<Int(offsets[t + 1]) where Int(postingDocument[p]) == document {
                    let value = clause.weight * alternative.weight * alternative.idf * postingImpact[p]
                    if value > best { best = value; headline = postingHeadline[p] > 0 }
                }
            }
            for hit in clause.questionHits where Int(hit.document) == document && clause.weight * hit.score > best {
                best = clause.weight * hit.score
                headline = true
            }
            if best > 0 { parts.append((clause.word, best, headline)) }
        }
        return parts
    }

    /// For explanations: the query words that `document` lacks and that
    /// count against it in the coverage, each with its weight there (its
    /// ``QueryClause/informativeness`` times ``QueryClause/missingShare``,
    /// as `kb explain`'s word list says "if missing"); the parts of one
    /// compound are summed under the word. A compound the vocabulary knows
    /// whole ("Gesprächsgebühren") is not lacking where the article has
    /// one of its parts ("charges"), which covers it in part.
    func missingWords(_ clauses: [QueryClause], document: Int) -> [(word: String, weight: Float)] {
        func found(_ clause: QueryClause) -> Bool {
            clause.questionHits.contains { Int($0.document) == document } || clause.alternatives.contains { alternative in
                let t = Int(alternative.term)
                return (Int(offsets[t])..<Int(offsets[t + 1])).contains { Int(postingDocument[$0]) == document }
            }
        }
        var missing: [(word: String, weight: Float)] = []
        for (index, clause) in clauses.enumerated() {
            let weight = clause.informativeness * clause.missingShare
            guard weight > 0, !found(clause) else { continue }
            if clause.hasParts, clauses[(index + 1)...].prefix(while: { $0.partOf > 0 }).contains(where: found) { continue }
            if let i = missing.firstIndex(where: { $0.word == clause.word }) {
                missing[i].weight += weight
            } else {
                missing.append((clause.word, weight))
            }
        }
        return missing
    }
}

