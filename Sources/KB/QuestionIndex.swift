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
/// is matched in part by its parts ("Kartenzahlung" — "mit Karte zahlen"),
/// and a word after a letter by that word ("Z report" — "report": half).
/// A message word the plan left unknown that is one typo away from a word
/// only the questions have ("Gelfdach" for the question's "Geldfach"; the
/// plan corrects typos into the articles' words only) matches that word
/// as a correction: ``Tuning/fuzzyUniqueMatch`` of it.
///
/// Each question word weighs its idf in the articles (a word in many
/// articles tells little), or the highest idf if no article has it (a
/// common German or English word half that). The share of the question's
/// weight the message matches is the match. A question counts when at
/// least two of its words match (a question of one informative word: that
/// word) and they are at least ``Tuning/questionMinimumMatch`` of its
/// weight; of an article's questions, the best match counts. (Leaving out
/// questions of one informative word, such as "What has to be on an
/// invoice?", which make any message with that word full evidence, was
/// measured: 2-4 fewer helpful offers at equal false offers on the study
/// sets' blind questions, so the operator's words are taken as written.)
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
        /// Its informative words: `firstWord..<firstWord + wordCount` of
        /// the word arrays below.
        var firstWord: Int32
        var wordCount: Int32
        var total: Float
    }

    /// Where a key occurs: a question word (an index into the word arrays)
    /// and which part of it (0: the whole word; k: the k-th compound part).
    struct Slot: Sendable {
        var word: Int32
        var part: UInt8
    }

    let questions: [Question]
    /// Per question word, of all questions: its weight, its number of
    /// compound parts (0: a whole word only) and its question.
    let wordWeight: [Float]
    let wordParts: [UInt8]
    let wordQuestion: [Int32]
    let slots: [String: [Slot]]
    /// The whole words' keys that are no index term (words only the
    /// questions have), and their typo neighbourhood.
    let questionOnlyKeys: [String]
    let questionOnlyTypos: FuzzyIndex
    /// The questions of one informative word, with that word ("What has
    /// to be on an invoice?": "invoice"): any message with the word matches
    /// them in full. Reported to the operator when the KB loads.
    let oneWordQuestions: [(document: Int32, question: String, word: String)]

    static let empty = QuestionIndex()

    private init() {
        questions = []
        wordWeight = []
        wordParts = []
        wordQuestion = []
        slots = [:]
        oneWordQuestions = []
        questionOnlyKeys = []
        questionOnlyTypos = FuzzyIndex(terms: [])
    }

    /// The questions of `articles` (in `index`'s document order), with
    /// their words analysed against `index`'s terms.
    init(articles: [Article], index: SearchIndex) {
        var questions: [Question] = []
        var wordWeight: [Float] = []
        var wordParts: [UInt8] = []
        var wordQuestion: [Int32] = []
        var slots: [String: [Slot]] = [:]
        var oneWordQuestions: [(document: Int32, question: String, word: String)] = []
        /// Per distinct word: its keys, its parts' keys, and its weight.
        var analysed: [String: (keys: [String], parts: [[String]], weight: Float)] = [:]
        let memo = QueryMemo()
        for (document, article) in articles.enumerated() {
            for text in article.questions {
                let question = Int32(questions.count)
                let firstWord = Int32(wordWeight.count)
                var seen = Set<String>()
                var lastWord = ""
                let tokens = index.joiningSeparableVerbs(TextAnalysis.tokens(text))
                for token in tokens where !StopWords.contains(token) && !token.isNumber {
                    // Another form of chat filler ("Mitarbeiters" beside the
                    // filler "Mitarbeiter") is left out as a message leaves
                    // out the filler itself.
                    guard seen.insert(token.key).inserted, !Self.fillerStems.contains(GermanStemmer.stem(token.key))
                    else { continue }
                    let word: (keys: [String], parts: [[String]], weight: Float)
                    if let known = analysed[token.key] {
                        word = known
                    } else {
                        word = Self.analyse(token, index: index, memo: memo)
                        analysed[token.key] = word
                    }
                    let w = Int32(wordWeight.count)
                    lastWord = token.folded
                    for key in word.keys { slots[key, default: []].append(Slot(word: w, part: 0)) }
                    for (k, part) in word.parts.enumerated() {
                        for key in part { slots[key, default: []].append(Slot(word: w, part: UInt8(k + 1))) }
                    }
                    wordWeight.append(word.weight)
                    wordParts.append(UInt8(word.parts.count))
                    wordQuestion.append(question)
                }
                let count = Int32(wordWeight.count) - firstWord
                guard count > 0 else { continue }
                if count == 1, wordParts[Int(firstWord)] == 0 {
                    oneWordQuestions.append((Int32(document), text, lastWord))
                }
                questions.append(Question(document: Int32(document), text: text, firstWord: firstWord, wordCount: count,
                                          total: wordWeight[Int(firstWord)...].reduce(0, +)))
            }
        }
        self.questions = questions
        self.wordWeight = wordWeight
        self.wordParts = wordParts
        self.wordQuestion = wordQuestion
        self.slots = slots
        self.oneWordQuestions = oneWordQuestions
        questionOnlyKeys = slots.filter { key, at in index.termIDs[key] == nil && at.contains { $0.part == 0 } }
            .keys.sorted()
        questionOnlyTypos = FuzzyIndex(terms: questionOnlyKeys)
    }

    /// The German stems of the chat filler (``StopWords/isFiller(_:)``).
    static let fillerStems = Set(StopWords.filler.map(GermanStemmer.stem))

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
        if parts.isEmpty, let head = token.head {
            // "Z report": a message's "report" says half of it, as a part
            // of a compound would ("Kartenzahlung" — "Zahlung"); the letter
            // alone is no word.
            parts = [[], memo.stems(head)]
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
        // The plan searches "Bon" for a "Z-Bon" no article has: that clause
        // is still the message's "Z-Bon" for a question that has it.
        var joinedOfHead: [String: TextAnalysis.Token] = [:]
        for token in TextAnalysis.tokens(query) {
            if tokenOfKey[token.key] == nil { tokenOfKey[token.key] = token }
            if let head = token.head, joinedOfHead[head.key] == nil { joinedOfHead[head.key] = token }
        }

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
                if let joined = joinedOfHead[clause.word] { keys.formUnion(TextAnalysis.queryStems(joined)) }
                keysOfWord[clause.word] = keys
            }
            for alternative in clause.alternatives { keysOfWord[clause.word]?.insert(index.terms[Int(alternative.term)]) }
        }
        // A word the plan left unknown, and no common word (a real word is
        // no typo): the question-only words one typo away.
        var typoKeysOfWord: [String: [String]] = [:]
        if !questionOnlyKeys.isEmpty {
            for clause in clauses where clause.resolution == .unknown && !index.lexicon.isCommonWord(clause.word) {
                guard let token = tokenOfKey[clause.word], !token.isNumber else { continue }
                var found: [String] = []
                for stem in TextAnalysis.queryStems(token) {
                    for id in questionOnlyTypos.candidates(of: stem) {
                        // "report" is no typo of the question's "Z report"
                        // ("zreport"): the word after a letter says half of it.
                        let key = questionOnlyKeys[Int(id)]
                        if !found.contains(key), !key.unicodeScalars.dropFirst().elementsEqual(stem.unicodeScalars) {
                            found.append(key)
                        }
                    }
                }
                if !found.isEmpty { typoKeysOfWord[clause.word] = found }
            }
        }

        // Per question word hit: whether the whole word matched, which of
        // its parts did, and the first message word that did (-1: none).
        // Flat arrays over all questions' words, so a word shared by
        // thousands of questions costs a store per question, not a lookup.
        var whole = [Bool](repeating: false, count: wordWeight.count)
        var typo = [Bool](repeating: false, count: wordWeight.count)
        var by = [Int16](repeating: -1, count: wordWeight.count)
        var partMasks: [Int32: UInt64] = [:]
        var touchedWords: [Int32] = []
        for (m, word) in messageWords.enumerated() {
            for key in keysOfWord[word] ?? [] {
                for slot in slots[key] ?? [] {
                    let w = Int(slot.word)
                    if by[w] < 0 { by[w] = Int16(m); touchedWords.append(slot.word) }
                    if slot.part == 0 { whole[w] = true } else { partMasks[slot.word, default: 0] |= 1 << UInt64(min(63, slot.part - 1)) }
                }
            }
            for key in typoKeysOfWord[word] ?? [] {
                for slot in slots[key] ?? [] where slot.part == 0 {
                    let w = Int(slot.word)
                    if by[w] < 0 { by[w] = Int16(m); touchedWords.append(slot.word) }
                    typo[w] = true
                }
            }
        }
        guard !touchedWords.isEmpty else { return }
        /// How much of question word `w` the message says (1: all of it).
        func matched(_ w: Int) -> Float {
            if whole[w] { return 1 }
            var parts: Float = 0
            if wordParts[w] > 0, let mask = partMasks[Int32(w)] {
                parts = min(1, Float(mask.nonzeroBitCount) / Float(wordParts[w]))
            }
            return max(parts, typo[w] ? Tuning.fuzzyUniqueMatch : 0)
        }

        // The share of each touched question the message says, and how
        // many of its words.
        var matchedWeight = [Float](repeating: 0, count: questions.count)
        var matchedWords = [Int32](repeating: 0, count: questions.count)
        var touchedQuestions: [Int32] = []
        for w32 in touchedWords {
            let w = Int(w32)
            let share = matched(w)
            guard share > 0 else { continue }
            let q = Int(wordQuestion[w])
            if matchedWeight[q] == 0 { touchedQuestions.append(wordQuestion[w]) }
            matchedWeight[q] += wordWeight[w] * share
            if share >= 0.5 { matchedWords[q] += 1 }
        }

        // The best question of each article.
        var best: [Int32: (question: Int32, fraction: Float)] = [:]
        for q in touchedQuestions {
            let question = questions[Int(q)]
            guard matchedWords[Int(q)] >= min(2, question.wordCount), question.total > 0 else { continue }
            let fraction = matchedWeight[Int(q)] / question.total
            guard fraction >= Tuning.questionMinimumMatch else { continue }
            if let earlier = best[question.document],
               earlier.fraction > fraction || (earlier.fraction == fraction && earlier.question < q) { continue }
            best[question.document] = (q, fraction)
        }

        let evidenceNeeded = Tuning.evidenceNeeded * index.maximumIDF
        for (document, found) in best.sorted(by: { $0.key < $1.key }) {
            let question = questions[Int(found.question)]
            // Per message word: the question words it matched.
            var share: [Int: (weight: Float, match: Float)] = [:]
            for w in Int(question.firstWord)..<Int(question.firstWord + question.wordCount) {
                let part = matched(w)
                guard part > 0, by[w] >= 0 else { continue }
                let m = Int(by[w])
                let earlier = share[m] ?? (0, 0)
                share[m] = (earlier.weight + wordWeight[w] * part, max(earlier.match, part))
            }
            for (m, part) in share.sorted(by: { $0.key < $1.key }) {
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
        countQuestionWords(&clauses, keysOfWord: keysOfWord, typoKeysOfWord: typoKeysOfWord, index: index)
    }
}

extension QuestionIndex {
    /// A message word the plan left unknown (no article has it) that is a
    /// word of a question it matches is a word the knowledge base knows: it
    /// counts in the coverage with its question word's weight, for the
    /// question's article (as a title word, through its
    /// ``QueryClause/questionHits``) and against every other article, as an
    /// article's word does ("Passwortrücksetzung" in a question of the
    /// password article and in no article's text). Without this, the
    /// question's article covered 0 of 0 and its confidence was 0. A typo
    /// of such a word counts as a typo correction does
    /// (``Tuning/fuzzyMissing`` against the articles without it); a common
    /// word as a common word does.
    ///
    /// A word of a question the message does not match stays unknown: it
    /// says nothing of this KB's topics ("put" of "How do I put a worker on
    /// payroll?"). Counting it too was measured (release KBBench, study
    /// sets' blind questions, equal false offers): check halves 2 fewer
    /// helpful offers at 0.70 and 1 fewer at 0.60 than counting only
    /// matched questions' words.
    private func countQuestionWords(_ clauses: inout [QueryClause], keysOfWord: [String: Set<String>],
                                    typoKeysOfWord: [String: [String]], index: SearchIndex) {
        /// The highest weight of the question words `keys` name whole.
        func weight(_ keys: some Sequence<String>) -> Float {
            var best: Float = 0
            for key in keys {
                for slot in slots[key] ?? [] where slot.part == 0 { best = max(best, wordWeight[Int(slot.word)]) }
            }
            return best
        }
        for c in clauses.indices where clauses[c].resolution == .unknown && clauses[c].informativeness == 0
            && !clauses[c].questionHits.isEmpty {
            let word = clauses[c].word
            let whole = weight(keysOfWord[word] ?? [])
            if whole > 0 {
                clauses[c].informativeness = whole
                clauses[c].missingShare = index.lexicon.isCommonWord(word) ? Tuning.commonWordMissing : 1
            } else if let typos = typoKeysOfWord[word], case let corrected = weight(typos), corrected > 0 {
                clauses[c].informativeness = corrected
                clauses[c].missingShare = Tuning.fuzzyMissing
            } else {
                continue
            }
            clauses[c].resolution = .questionWord
        }
    }

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
            for candidate in Decompounder.modifierForms(modifier, minimum: minimum) where !StopWords.contains(candidate) {
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
