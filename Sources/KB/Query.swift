/// One query word, resolved against the index: the terms that stand for it
/// (each with a weight) and how much it tells about the topic.
struct QueryClause: Sendable, Equatable {
    struct Alternative: Sendable, Equatable {
        var term: Int32
        var weight: Float
        /// The idf to score with: the term's own, but for a lexicon relative
        /// at most the query word's, so that a rarer translation never
        /// outweighs the word the customer wrote.
        var idf: Float
    }

    /// The query word this clause came from (folded), for explanations.
    var word: String
    /// An article's score for this clause is the best of these.
    var alternatives: [Alternative]
    /// The clause's share in the confidence measure: the idf of its best
    /// own term; 0 for clauses that do not count (extra compound parts).
    var informativeness: Float
    /// Multiplies the clause's score.
    var weight: Float
    /// How the word was resolved.
    var resolution: Resolution

    enum Resolution: Sendable, Equatable {
        case exact, translated, compoundPart, fuzzy, unknown
    }
}

/// A ranked article index with its score and confidence.
struct RankedDocument: Sendable {
    var document: Int
    var score: Float
    var confidence: Float
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
        // Distinct tokens only, and a bounded number of them, before the
        // particle joining (which looks at pairs).
        var distinct: [TextAnalysis.Token] = []
        var distinctKeys = Set<String>()
        for token in TextAnalysis.tokens(query) where distinctKeys.insert(token.key).inserted {
            distinct.append(token)
            if distinct.count == 4 * Tuning.maximumQueryWords { break }
        }
        for token in joiningSeparableVerbs(distinct) where !StopWords.contains(token.key) {
            guard seen.count < Tuning.maximumQueryWords else { break }
            guard seen.insert(token.key).inserted else { continue }
            let stems = TextAnalysis.queryStems(token)
            let known = stems.compactMap { termIDs[$0] }
            if !known.isEmpty {
                clauses.append(clause(token.key, own: known.map { alternative($0, Tuning.exact) },
                                      resolution: .exact))
                if !token.isNumber, token.key.utf8.count >= 10,
                   let parts = splitQuery(token.key, fuzzyLast: false) {
                    for part in parts where !known.contains(part.term) {
                        var extra = clause(token.key, own: [part], resolution: .compoundPart)
                        extra.informativeness = 0
                        extra.weight = Tuning.knownCompoundPart
                        clauses.append(extra)
                    }
                }
                continue
            }
            if token.isNumber { continue }
            // Not a term, but the lexicon knows it: search its translations.
            let translations = translated(stems)
            if !translations.isEmpty {
                clauses.append(QueryClause(word: token.key, alternatives: translations,
                                           informativeness: translations.map(\.idf).max() ?? 0,
                                           weight: 1, resolution: .translated))
                continue
            }
            if token.key.utf8.count > Tuning.maximumWordLength {
                clauses.append(QueryClause(
                    word: token.key, alternatives: [],
                    informativeness: Self.idf(documentFrequency: 1, documents: Float(documentCount)),
                    weight: 1, resolution: .unknown))
                continue
            }
            if let parts = splitQuery(token.key, fuzzyLast: false) {
                for part in parts { clauses.append(clause(token.key, own: [part], resolution: .compoundPart)) }
                continue
            }
            let candidates = fuzzyCandidates(stems)
            if !candidates.isEmpty {
                clauses.append(clause(token.key, own: candidates.map { alternative($0, Tuning.fuzzy) },
                                      resolution: .fuzzy))
                continue
            }
            if let parts = splitQuery(token.key, fuzzyLast: true) {
                for part in parts { clauses.append(clause(token.key, own: [part], resolution: .compoundPart)) }
                continue
            }
            clauses.append(QueryClause(
                word: token.key, alternatives: [],
                informativeness: Self.idf(documentFrequency: 1, documents: Float(documentCount)),
                weight: 1, resolution: .unknown))
        }
        return clauses
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
            && !StopWords.contains(tokens[i].key) {
            for p in particles where !consumed.contains(p) {
                let joined = tokens[p].key + tokens[i].key
                if termIDs[GermanStemmer.stem(joined)] != nil {
                    result[i] = TextAnalysis.Token(folded: tokens[p].folded + tokens[i].folded, key: joined,
                                                   isNumber: false)
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
        .init(term: term, weight: weight, idf: idf[Int(term)])
    }

    /// A clause of `own` terms plus their lexicon relatives.
    private func clause(_ word: String, own: [QueryClause.Alternative],
                        resolution: QueryClause.Resolution) -> QueryClause {
        var alternatives = own
        let ownIDF = own.map(\.idf).max() ?? 0
        for alternative in own {
            for related in lexicon.related(to: terms[Int(alternative.term)]) {
                guard let id = termIDs[related] else { continue }
                let weight = alternative.weight * Tuning.lexicon
                if let existing = alternatives.firstIndex(where: { $0.term == id }) {
                    alternatives[existing].weight = max(alternatives[existing].weight, weight)
                } else {
                    alternatives.append(.init(term: id, weight: weight, idf: min(idf[Int(id)], ownIDF)))
                }
            }
        }
        let informativeness = ownIDF
        return QueryClause(word: word, alternatives: alternatives, informativeness: informativeness,
                           weight: 1, resolution: resolution)
    }

    /// The lexicon relatives of `stems` that are index terms, at the
    /// lexicon weight (for a word that is not a term itself).
    private func translated(_ stems: [String]) -> [QueryClause.Alternative] {
        var out: [QueryClause.Alternative] = []
        for stem in stems {
            for related in lexicon.related(to: stem) {
                guard let id = termIDs[related], !out.contains(where: { $0.term == id }) else { continue }
                out.append(alternative(id, Tuning.lexicon))
            }
        }
        return out
    }

    /// Vocabulary terms one typo from any of `stems`, most frequent first.
    private func fuzzyCandidates(_ stems: [String]) -> [Int32] {
        var found: [Int32] = []
        for stem in stems {
            for id in fuzzy.candidates(of: stem) where !found.contains(id) { found.append(id) }
        }
        found.sort { documentFrequency[Int($0)] != documentFrequency[Int($1)]
            ? documentFrequency[Int($0)] > documentFrequency[Int($1)] : $0 < $1 }
        return Array(found.prefix(Tuning.maximumFuzzyCandidates))
    }

    /// The parts of an unknown compound as clause terms, or nil. With
    /// `fuzzyLast`, the last part may be one typo away from a known term.
    private func splitQuery(_ key: String, fuzzyLast: Bool) -> [QueryClause.Alternative]? {
        var fuzzyStems = Set<String>()
        let parts = Decompounder.split(key) { part, isLast in
            if let stem = Decompounder.partStem(part, isLast: isLast, english: true, isTerm: { termIDs[$0] != nil },
                                                beginsWord: words.beginsWord(_:withTerm:)) {
                return stem
            }
            if fuzzyLast, isLast, part.utf8.count >= 5, !StopWords.contains(part),
               let best = fuzzyCandidates([GermanStemmer.stem(part)]).first {
                let stem = terms[Int(best)]
                fuzzyStems.insert(stem)
                return stem
            }
            return nil
        }
        guard let parts else { return nil }
        return parts.compactMap { stem in
            termIDs[stem].map { alternative($0, fuzzyStems.contains(stem) ? Tuning.fuzzy : Tuning.exact) }
        }
    }

    // MARK: Scoring

    /// Scores every article that matches any clause and returns the best
    /// `limit`, highest score first (ties: earlier article first).
    ///
    /// An article's score is the sum over clauses of the clause weight times
    /// the best of its alternatives' `weight · idf · impact` (see ``SearchIndex``).
    /// Its confidence is the informativeness-weighted share of the query's
    /// clauses it matches, where a match counts its alternative's weight
    /// (exact 1, lexicon 0.8, typo 0.7) times 1 in the title or tags and
    /// ``Tuning/bodyOnlyMatch`` in the body only.
    func evaluate(_ clauses: [QueryClause], limit: Int) -> [RankedDocument] {
        guard limit > 0, documentCount > 0, clauses.contains(where: { !$0.alternatives.isEmpty }) else { return [] }
        // Per document: x = score, y = coverage, z = clause score, w = clause match.
        var acc = [SIMD4<Float>](repeating: .zero, count: documentCount)
        var touched: [Int32] = []
        var clauseTouched: [Int32] = []
        var totalInformativeness: Float = 0
        for clause in clauses {
            totalInformativeness += clause.informativeness
            for alternative in clause.alternatives {
                let t = Int(alternative.term)
                let termWeight = alternative.weight * alternative.idf
                let headlineMatch = alternative.weight
                let bodyMatch = alternative.weight * Tuning.bodyOnlyMatch
                for p in Int(offsets[t])..<Int(offsets[t + 1]) {
                    let d = Int(postingDocument[p])
                    let s = termWeight * postingImpact[p]
                    let m = postingInHeadline[p] ? headlineMatch : bodyMatch
                    if acc[d].w == 0 { clauseTouched.append(Int32(d)) }
                    acc[d].z = max(acc[d].z, s)
                    acc[d].w = max(acc[d].w, m)
                }
            }
            for d32 in clauseTouched {
                let d = Int(d32)
                if acc[d].x == 0 { touched.append(d32) }
                acc[d].x += clause.weight * acc[d].z
                acc[d].y += clause.informativeness * acc[d].w
                acc[d].z = 0
                acc[d].w = 0
            }
            clauseTouched.removeAll(keepingCapacity: true)
        }

        var top: [RankedDocument] = []
        top.reserveCapacity(limit + 1)
        for d32 in touched {
            let d = Int(d32)
            let score = acc[d].x
            if top.count == limit, let last = top.last,
               score < last.score || (score == last.score && d > last.document) {
                continue
            }
            let confidence = totalInformativeness > 0 ? min(1, acc[d].y / totalInformativeness) : 0
            let entry = RankedDocument(document: d, score: score, confidence: confidence)
            let position = top.firstIndex { score > $0.score || (score == $0.score && d < $0.document) } ?? top.count
            top.insert(entry, at: position)
            if top.count > limit { top.removeLast() }
        }
        return top
    }
}
