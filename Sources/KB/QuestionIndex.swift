/// The questions customers ask for each article (``Article/questions``,
/// header `questions:`), and how a message is matched against them.
///
/// Only the operator knows how their customers describe their own trade
/// ("Die Schublade mit dem Bargeld springt nicht auf" for an article on the
/// cash drawer); no general word list reaches such paraphrases. A message
/// that says what one of an article's questions says is strong evidence for
/// that article, and only for it: a question's words are not article text,
/// so they never raise another article or another query.
///
/// ## Matching
/// A question's informative words (stop words and numbers left out) are
/// analysed like an article's: their German and English stems, a finite
/// verb's infinitive, and, for a compound, its parts among the articles'
/// words. A message word matches a question word when one of its keys is one
/// of the question word's: the message word's own stems, its vocabulary
/// relatives (synonyms and translations), and every term the query plan
/// resolved it to (typo corrections, compound parts, cognates, dictionary
/// translations). Order does not matter. A question word that is a compound
/// is matched in part by its parts ("Kartenzahlung" — "mit Karte zahlen").
///
/// Each question word weighs its idf in the articles (a word in many
/// articles tells little), or the highest idf if no article has it (a
/// common German or English word half that). The share of the question's
/// weight the message matches is the match. A question counts when at
/// least two of its words match (a question of one word: that word); of
/// an article's questions, the best match counts.
///
/// ## Scoring
/// For the matched article, each message word that matches the question
/// (see ``QueryClause/questionHits``):
/// - covers the message word, in the coverage, by the share of the question
///   the message matches (times its question word's share, for a part of
///   a compound): a whole question covers its words as the title would; a
///   coincidence of two words of a long question covers them little;
/// - adds its share of the question's weight times the evidence a
///   confident answer needs (``Tuning/evidenceNeeded`` times the highest
///   idf): a message that matches a whole question has full evidence, like
///   one whose words are all in the title; a partial match counts in
///   proportion;
/// - scores its question words' weight times ``Tuning/titleWeight``, as a
///   title word would.
struct QuestionIndex: Sendable {
    struct Question: Sendable {
        var document: Int32
        var text: String
        /// Per informative word: its weight and its number of compound
        /// parts (0: a whole word only).
        var weights: [Float]
        var partCounts: [UInt8]
        var total: Float
    }

    /// Where a key occurs: a question, one of its words, and which part of
    /// it (0: the whole word; k: the k-th compound part).
    struct Slot: Sendable {
        var question: Int32
        var word: UInt16
        var part: UInt8
    }

    let questions: [Question]
    let slots: [String: [Slot]]

    static let empty = QuestionIndex(questions: [], slots: [:])

    private init(questions: [Question], slots: [String: [Slot]]) {
        self.questions = questions
        self.slots = slots
    }

    /// The questions of `articles` (in `index`'s document order), with
    /// their words analysed against `index`'s terms.
    init(articles: [Article], index: SearchIndex) {
        var questions: [Question] = []
        var slots: [String: [Slot]] = [:]
        /// Per distinct word: its keys, its parts' keys, and its weight.
        var analysed: [String: (keys: [String], parts: [[String]], weight: Float)] = [:]
        let memo = QueryMemo()
        for (document, article) in articles.enumerated() {
            for text in article.questions {
                let question = Int32(questions.count)
                var weights: [Float] = []
                var partCounts: [UInt8] = []
                var seen = Set<String>()
                let tokens = index.joiningSeparableVerbs(TextAnalysis.tokens(text))
                for token in tokens where !StopWords.contains(token.key) && !token.isNumber {
                    guard weights.count < Int(UInt16.max), seen.insert(token.key).inserted else { continue }
                    let word: (keys: [String], parts: [[String]], weight: Float)
                    if let known = analysed[token.key] {
                        word = known
                    } else {
                        word = Self.analyse(token, index: index, memo: memo)
                        analysed[token.key] = word
                    }
                    let w = UInt16(weights.count)
                    for key in word.keys { slots[key, default: []].append(Slot(question: question, word: w, part: 0)) }
                    for (k, part) in word.parts.enumerated() {
                        for key in part { slots[key, default: []].append(Slot(question: question, word: w, part: UInt8(k + 1))) }
                    }
                    weights.append(word.weight)
                    partCounts.append(UInt8(word.parts.count))
                }
                guard !weights.isEmpty else { continue }
                questions.append(Question(document: Int32(document), text: text, weights: weights,
                                          partCounts: partCounts, total: weights.reduce(0, +)))
            }
        }
        self.questions = questions
        self.slots = slots
    }

    /// A question word's keys (its stems and a finite verb's infinitive
    /// stems), its compound parts' terms (when the word itself is no term
    /// and splits into at most eight article words), and its weight.
    private static func analyse(_ token: TextAnalysis.Token, index: SearchIndex,
                                memo: QueryMemo) -> (keys: [String], parts: [[String]], weight: Float) {
        var keys = memo.stems(token)
        for base in GermanStemmer.finiteVerbBases(token.key) {
            let stem = GermanStemmer.stem(base)
            if !keys.contains(stem) { keys.append(stem) }
        }
        let ids = keys.compactMap { index.termIDs[$0] }
        var parts: [[String]] = []
        if ids.isEmpty || token.key.utf8.count >= Tuning.knownCompoundLength,
           let split = index.splitQuery(token.key, fuzzyLast: false, memo: memo), (2...8).contains(split.count) {
            parts = split.map { [index.terms[Int($0.term)]] }.filter { !keys.contains($0[0]) }
            if parts.count < 2 { parts = [] }
        }
        let weight: Float
        if let best = ids.map({ index.idf[Int($0)] }).max() {
            weight = best
        } else {
            weight = index.maximumIDF * (index.lexicon.isCommonWord(token.key) ? Tuning.questionCommonWord : 1)
        }
        return (keys, parts, weight)
    }

    /// Adds to `clauses` (the plan of `query`) the hits of the best
    /// matching question of each article (see the type's description).
    func match(_ query: String, clauses: inout [QueryClause], index: SearchIndex) {
        guard !questions.isEmpty, !clauses.isEmpty else { return }
        var tokenOfKey: [String: TextAnalysis.Token] = [:]
        for token in TextAnalysis.tokens(query) where tokenOfKey[token.key] == nil { tokenOfKey[token.key] = token }

        // The message's words (a compound's part clauses share their
        // word's), with the keys each can match.
        var messageWords: [String] = []
        var keysOfWord: [String: Set<String>] = [:]
        for clause in clauses where clause.resolution != .phrase {
            if keysOfWord[clause.word] == nil {
                messageWords.append(clause.word)
                let token = tokenOfKey[clause.word]
                    ?? TextAnalysis.Token(folded: clause.word, key: clause.word, isNumber: false)
                var keys = Set<String>()
                if !token.isNumber {
                    var stems = TextAnalysis.queryStems(token)
                    for base in GermanStemmer.finiteVerbBases(token.key) { stems.append(GermanStemmer.stem(base)) }
                    for stem in stems {
                        keys.insert(stem)
                        keys.formUnion(index.lexicon.related(to: stem))
                    }
                }
                if !token.isNumber { keys.formUnion(questionParts(of: token.key)) }
                keysOfWord[clause.word] = keys
            }
            for alternative in clause.alternatives { keysOfWord[clause.word]?.insert(index.terms[Int(alternative.term)]) }
        }

        // Per question touched: per question word, whether the whole word
        // matched, which parts did, and the first message word that did.
        struct Progress {
            var whole: [Bool]
            var parts: [UInt64]
            var by: [Int]
        }
        var progress: [Int32: Progress] = [:]
        for (m, word) in messageWords.enumerated() {
            for key in keysOfWord[word] ?? [] {
                for slot in slots[key] ?? [] {
                    let count = questions[Int(slot.question)].weights.count
                    var state = progress[slot.question]
                        ?? Progress(whole: .init(repeating: false, count: count), parts: .init(repeating: 0, count: count),
                                    by: .init(repeating: -1, count: count))
                    let w = Int(slot.word)
                    if slot.part == 0 { state.whole[w] = true } else { state.parts[w] |= 1 << UInt64(min(63, slot.part - 1)) }
                    if state.by[w] < 0 { state.by[w] = m }
                    progress[slot.question] = state
                }
            }
        }
        guard !progress.isEmpty else { return }

        // The best question of each article.
        var best: [Int32: (question: Int32, fraction: Float, matched: [Float], by: [Int])] = [:]
        for (q, state) in progress {
            let question = questions[Int(q)]
            var matched = [Float](repeating: 0, count: question.weights.count)
            var words = 0
            for w in matched.indices {
                let partCount = Int(question.partCounts[w])
                if state.whole[w] {
                    matched[w] = 1
                } else if partCount > 0 {
                    matched[w] = min(1, Float(state.parts[w].nonzeroBitCount) / Float(partCount))
                }
                if matched[w] >= 0.5 { words += 1 }
            }
            guard words >= min(2, question.weights.count), question.total > 0 else { continue }
            let fraction = zip(question.weights, matched).reduce(0) { $0 + $1.0 * $1.1 } / question.total
            guard fraction >= Tuning.questionMinimumMatch else { continue }
            if let earlier = best[question.document],
               earlier.fraction > fraction || (earlier.fraction == fraction && earlier.question < q) { continue }
            best[question.document] = (q, fraction, matched, state.by)
        }

        let evidenceNeeded = Tuning.evidenceNeeded * index.maximumIDF
        for (document, found) in best.sorted(by: { $0.key < $1.key }) {
            let question = questions[Int(found.question)]
            // Per message word: the question words it matched.
            var share: [Int: (weight: Float, match: Float)] = [:]
            for w in found.matched.indices where found.matched[w] > 0 && found.by[w] >= 0 {
                let m = found.by[w]
                let earlier = share[m] ?? (0, 0)
                share[m] = (earlier.weight + question.weights[w] * found.matched[w], max(earlier.match, found.matched[w]))
            }
            for (m, part) in share {
                let word = messageWords[m]
                var first = true
                for c in clauses.indices where clauses[c].word == word && clauses[c].resolution != .phrase {
                    clauses[c].questionHits.append(QuestionHit(
                        document: document, question: found.question, fraction: found.fraction,
                        match: part.match * found.fraction,
                        evidence: first ? part.weight / question.total * evidenceNeeded : 0,
                        score: first ? part.weight * Tuning.titleWeight : 0))
                    first = false
                }
            }
        }
    }
}

extension QuestionIndex {
    /// The stems of a German compound's two parts when both are words of
    /// the questions ("Bargeld·schublade" for a question of "Schublade" and
    /// "Bargeld"; a linking -s/-n/-es/-en allowed), however the articles
    /// write them: the query plan splits a compound into the articles'
    /// words only. Every such split of a word of at least eight letters,
    /// with parts of at least four.
    func questionParts(of key: String) -> [String] {
        let w = Array(key.utf8)
        let minimum = 4
        guard w.count >= 2 * minimum, w.count <= Tuning.maximumWordLength, w.allSatisfy({ $0 < 0x80 }) else { return [] }
        var found: [String] = []
        for cut in minimum...(w.count - minimum) {
            let head = GermanStemmer.stem(String(decoding: w[cut...], as: UTF8.self))
            guard slots[head] != nil else { continue }
            let modifier = String(decoding: w[..<cut], as: UTF8.self)
            var candidates = [modifier]
            for linking in ["s", "n", "es", "en"] where modifier.hasSuffix(linking) && cut - linking.count >= minimum {
                candidates.append(String(modifier.dropLast(linking.count)))
            }
            for candidate in candidates where !StopWords.contains(candidate) {
                let stem = GermanStemmer.stem(candidate)
                guard slots[stem] != nil else { continue }
                found += [stem, head]
                break
            }
        }
        return found
    }
}

/// A message word's match with a question of an article (``QuestionIndex``):
/// what it adds to that article's coverage, evidence and score.
struct QuestionHit: Sendable, Equatable {
    var document: Int32
    /// The question (an index into ``QuestionIndex/questions``).
    var question: Int32
    /// The share of the question's weight the whole message matches.
    var fraction: Float
    /// How much of the message word the article covers: `fraction`, times
    /// its question word's share for a part of a compound.
    var match: Float
    /// The evidence this word adds (in idf, as ``SearchIndex/evaluate(_:limit:language:)`` counts it).
    var evidence: Float
    /// What the word adds to the article's score.
    var score: Float
}
