/// The immutable inverted index over a set of articles, with BM25 ranking
/// over weighted fields and the confidence measure. Built once per (re)load;
/// shared freely.
///
/// Ranking is BM25 per field (title, tags, body), each with its own length
/// normalisation, summed with the field weights ("separate fields summed",
/// Robertson & Zaragoza 2009, §3.6 discusses it against BM25F). Summing after
/// saturation is deliberate: in BM25F proper the field weight is applied
/// before saturation, so with k1 = 1.2 a title hit is worth at most ~1.6 body
/// mentions and an article that says "Zertifikat" three times in passing
/// ties with the one titled "Zertifikat abgelaufen". Curated titles deserve
/// more than that.
///
/// The per-field sum does not depend on the query, so each posting stores
/// its *impact* `Σ_f w_f · tf_f(k1+1) / (tf_f + k1(1 − b_f + b_f·len_f/avglen_f))`
/// and a query only sums `weight · idf · impact` along its terms' postings.
///
/// A class, not a struct: a query passes the index through many helper
/// methods and closures, and copying a struct of twenty arrays retained and
/// released each of them every time (~15 % of a query's CPU).
final class SearchIndex: Sendable {
    let documentCount: Int
    let termIDs: [String: Int32]
    let terms: [String]
    /// Document frequency per term.
    let documentFrequency: [Int32]
    let idf: [Float]
    /// The idf of each term counting only the articles that have it in their
    /// title or tags (0 for a term no title or tag has): how specifically
    /// the word points at an article's topic.
    let headlineIDF: [Float]
    /// CSR postings: term t's postings are `offsets[t]..<offsets[t+1]`.
    let offsets: [Int32]
    let postingDocument: [Int32]
    /// The term's field-weighted BM25 impact in the article (see above).
    let postingImpact: [Float]
    /// How much the term stands in the article's title or tags: 1 as a
    /// whole word there, ``Tuning/partHeadline`` as a part of a compound
    /// there only ("Nummern" in "Rufnummern mitnehmen"), 0 in the body only.
    let postingHeadline: [Float]
    /// The body blocks (paragraphs, steps, headings) the term stands in,
    /// as bits (``Placement``).
    let postingBlocks: [UInt32]
    /// The idf of a term only one article has: the most a word can tell.
    let maximumIDF: Float
    let fuzzy: FuzzyIndex
    let lexicon: Lexicon
    /// Each article's language (a tie-break towards the query's language).
    let documentLanguage: [Article.Language]
    /// Each article's translation (`translation:` in either article's
    /// header, in the other language), or -1.
    let documentTwin: [Int32]
    /// Whether each article has a translation in the other language: a
    /// declared one (``documentTwin``) or one detected by its tags
    /// (``detectedTwins(_:lexicon:)``). A translated query word covers an
    /// article without one fully (see ``QueryClause/Alternative/fullMatch``).
    let documentHasTwin: [Bool]
    /// The articles' words with their terms, for the decompounding policy.
    let words: WordPrefixIndex
    /// Cognate keys (``Cognates``) of the German articles' words → their
    /// terms, and the same for the English articles' words: an English
    /// query word is looked up among the German words' keys and a German
    /// one among the English words', so a word meets its cognate in the
    /// other language. Keys of false friends are left out.
    let germanCognates: [String: [Int32]]
    let englishCognates: [String: [Int32]]
    /// The general dictionary's translations that lead to this index's
    /// terms (``BilingualDictionary``, ``DictionaryTranslations``).
    let dictionary: DictionaryTranslations

    // MARK: Building

    /// The index of `articles`. With `previous` (the index a reload
    /// replaces), its dictionary translations are kept when they cannot
    /// differ: the same dictionary file, unchanged, and the same terms
    /// (``reusableDictionary(_:lexicon:terms:)``). The articles' words are
    /// read in `parts` on threads of their own (by default by their size and
    /// the cores, ``ArticleAnalysis``); the index is the same for any number.
    init(articles: [Article], lexicon: Lexicon, previous: SearchIndex? = nil, parts partCount: Int? = nil) {
        self.lexicon = lexicon
        documentCount = articles.count
        documentLanguage = articles.map(\.language)

        // 1. The words of each field, and each distinct word's term.
        let analysed = ArticleAnalysis.parts(articles, parts: partCount)

        var twins = [Int32](repeating: -1, count: articles.count)
        var positionOfID: [String: Int] = [:]
        for (i, article) in articles.enumerated() { positionOfID[article.id.lowercased()] = i }
        for (i, article) in articles.enumerated() {
            guard let target = article.translation, let j = positionOfID[target.lowercased()], j != i,
                  articles[j].language != article.language else { continue }
            twins[i] = Int32(j)
            if twins[j] == -1 { twins[j] = Int32(i) }
        }
        documentTwin = twins
        var hasTwin = twins.map { $0 >= 0 }
        for (i, j) in Self.detectedTwins(tags: analysed.flatMap(\.tagTerms), languages: documentLanguage, lexicon: lexicon)
        where !hasTwin[i] && !hasTwin[j] {
            hasTwin[i] = true
            hasTwin[j] = true
        }
        documentHasTwin = hasTwin

        // 2. The vocabulary of whole words, which decompounding splits against.
        //    Terms are interned as provisional ids (order of first sight) and
        //    each distinct word is one entry: every occurrence is an index
        //    into `entries`, so step 5 hashes no strings. The parts' words
        //    are merged in article order (see ``ArticleAnalysis``). The
        //    final ids are the terms' sorted order (step 4).
        var provisionalIDs: [String: Int32] = [:]
        var provisionalTerms: [String] = []
        func intern(_ term: String) -> Int32 {
            if let id = provisionalIDs[term] { return id }
            let id = Int32(provisionalTerms.count)
            provisionalIDs[term] = id
            provisionalTerms.append(term)
            return id
        }
        /// One distinct word of one language: its term, the participle's
        /// alternate term (-1: none) and, for German, its compound parts
        /// (computed in step 3, when the words are known).
        struct Entry {
            var token: TextAnalysis.Token
            var term: Int32
            var alternate: Int32
            var parts: [Int32]?
        }
        var entries: [Entry] = []
        // German words are told apart by their key, English ones by their
        // folded form (what each stemmer sees).
        var germanEntries: [String: Int32] = [:]
        var englishEntries: [String: Int32] = [:]
        var wordTerms: [String: [String]] = [:]
        func entry(_ word: ArticleAnalysis.Word) -> Int32 {
            let token = word.token
            let cacheKey = word.language == .de ? token.key : token.folded
            if let cached = word.language == .de ? germanEntries[cacheKey] : englishEntries[cacheKey] { return cached }
            let index = Int32(entries.count)
            entries.append(Entry(token: token, term: intern(word.term), alternate: word.alternate.map(intern) ?? -1,
                                 parts: nil))
            if word.language == .de { germanEntries[cacheKey] = index } else { englishEntries[cacheKey] = index }
            // The same word in the same language always has the same terms,
            // so only its first sight can add to wordTerms.
            if !token.isNumber {
                var known = wordTerms.removeValue(forKey: token.key) ?? []
                if !known.contains(word.term) { known.append(word.term) }
                if let alternate = word.alternate, !known.contains(alternate) { known.append(alternate) }
                wordTerms[token.key] = known
            }
            return index
        }
        // Every article's words as entries, article after article, and
        // where each article's title, tags and body end among them.
        var documentTokens: [Int32] = []
        documentTokens.reserveCapacity(analysed.reduce(0) { $0 + $1.tokens.count })
        var documentBlocks: [UInt32] = []
        documentBlocks.reserveCapacity(documentTokens.capacity)
        var fieldEnds: [SIMD3<Int32>] = []
        fieldEnds.reserveCapacity(articles.count)
        for part in analysed {
            let entryOfWord = part.words.map(entry)
            let offset = Int32(documentTokens.count)
            for word in part.tokens { documentTokens.append(entryOfWord[Int(word)]) }
            documentBlocks += part.blocks
            for ends in part.fieldEnds { fieldEnds.append(ends &+ offset) }
        }
        // Every term so far is a whole word's: the vocabulary a compound's
        // parts must come from.
        let vocabularyCount = Int32(provisionalTerms.count)

        let words = WordPrefixIndex(wordTerms)

        // 3. The parts of each German word that is a compound: with them,
        //    every term is known (step 4).
        func parts(_ index: Int) -> [Int32] {
            if let known = entries[index].parts { return known }
            let token = entries[index].token
            var result: [Int32] = []
            if !token.isNumber, (8...Tuning.maximumWordLength).contains(token.key.utf8.count) {
                let split = Decompounder.split(token.key, words: words) { part, isLast, mayBeginWord in
                    Decompounder.partStem(part, isLast: isLast, mayBeginWord: mayBeginWord, english: false,
                                          isTerm: { (provisionalIDs[$0] ?? .max) < vocabularyCount },
                                          beginsWord: words.beginsWord(_:withTerm:)).map { .init(stem: $0) }
                } ?? []
                result = split.map { intern($0.stem) }
                if result.isEmpty { result = Self.headParts(token.key, isWord: isWord).map(intern) }
            }
            entries[index].parts = result
            return result
        }

        /// Whether `part` (folded, a compound's head or modifier) is a
        /// word of its own: an article's whole word, a word of the
        /// vocabulary, or a common German or English word.
        func isWord(_ part: String) -> Bool {
            if lexicon.isCommonWord(part) { return true }
            let stem = GermanStemmer.stem(part)
            return (provisionalIDs[stem] ?? .max) < vocabularyCount || lexicon.contains(stem)
        }

        // In the order of the words' first sight, so that the provisional
        // ids are the same from one build to the next.
        for index in germanEntries.values.sorted() { _ = parts(Int(index)) }

        // 4. Term ids (sorted, for determinism).
        let order = provisionalTerms.indices.sorted { provisionalTerms[$0] < provisionalTerms[$1] }
        let sortedTerms = order.map { provisionalTerms[$0] }
        var finalID = [Int32](repeating: 0, count: order.count)
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(sortedTerms.count)
        for (i, provisional) in order.enumerated() {
            finalID[provisional] = Int32(i)
            ids[sortedTerms[i]] = Int32(i)
        }
        terms = sortedTerms
        termIDs = ids

        // The dictionary pass needs only the terms: it runs beside the rest
        // of the build (step 7 waits for it), unless the previous index's
        // translations can be kept.
        let keptDictionary = Self.reusableDictionary(previous, lexicon: lexicon, terms: sortedTerms)
        let dictionaryPass = keptDictionary == nil
            ? lexicon.dictionary.map { DictionaryTranslations.startPass($0, termIDs: ids) } : nil

        // 5. Per document, per term: frequency in each field (German compounds
        //    add their parts at a reduced frequency), and the postings with
        //    their impact.
        // x: title, y: tags, z: body, w: whole words in title or tags
        var perDocument: [[(term: Int32, frequency: SIMD4<Float>, blocks: UInt32)]] = []
        var lengths: [SIMD4<Float>] = []
        perDocument.reserveCapacity(articles.count)
        // Dense accumulators per provisional term (frequencies, body blocks),
        // and the terms touched.
        var counts: [SIMD4<Float>] = []
        var termBlocks: [UInt32] = []
        var touchedTerms: [Int32] = []
        func add(_ term: Int32, _ amount: SIMD4<Float>, _ place: UInt32) {
            let t = Int(term)
            if t >= counts.count {
                counts += repeatElement(.zero, count: provisionalTerms.count - counts.count)
                termBlocks += repeatElement(0, count: provisionalTerms.count - termBlocks.count)
            }
            if counts[t] == .zero { touchedTerms.append(term) }
            counts[t] += amount
            termBlocks[t] |= place
        }
        for documentIndex in articles.indices {
            var length = SIMD4<Float>()
            var fieldStart = documentIndex == 0 ? 0 : Int(fieldEnds[documentIndex - 1][2])
            for fieldIndex in 0..<3 {
                let fieldEnd = Int(fieldEnds[documentIndex][fieldIndex])
                var unit = SIMD4<Float>()
                unit[fieldIndex] = 1
                length[fieldIndex] = Float(fieldEnd - fieldStart)
                // w: whole-word occurrences in the title or tags ("headline"),
                // so that a compound's part in a title is not a title match.
                var whole = unit
                if fieldIndex < 2 { whole.w = 1 }
                for position in fieldStart..<fieldEnd {
                    let index = Int(documentTokens[position])
                    let place = documentBlocks[position]
                    let term = entries[index].term
                    add(term, whole, place)
                    let alternate = entries[index].alternate
                    if alternate >= 0 { add(alternate, whole, place) }
                    if documentLanguage[documentIndex] == .de {
                        for part in parts(index) where part != term {
                            add(part, unit * Tuning.compoundPartFrequency, place)
                        }
                    }
                }
                fieldStart = fieldEnd
            }
            var list: [(term: Int32, frequency: SIMD4<Float>, blocks: UInt32)] = []
            list.reserveCapacity(touchedTerms.count)
            for term in touchedTerms {
                list.append((term, counts[Int(term)], termBlocks[Int(term)]))
                counts[Int(term)] = .zero
                termBlocks[Int(term)] = 0
            }
            touchedTerms.removeAll(keepingCapacity: true)
            perDocument.append(list)
            lengths.append(length)
        }

        var average = lengths.reduce(SIMD4<Float>(), +) / Float(max(1, lengths.count))
        for i in 0..<3 where average[i] <= 0 { average[i] = 1 }
        let weights = SIMD4<Float>(Tuning.titleWeight, Tuning.tagsWeight, Tuning.bodyWeight, 0)
        let b = SIMD4<Float>(Tuning.titleB, Tuning.tagsB, Tuning.bodyB, 0)

        var df = [Int32](repeating: 0, count: sortedTerms.count)
        var documentPostings: [[(term: Int32, frequency: Float, headline: Float, blocks: UInt32)]] = []
        documentPostings.reserveCapacity(perDocument.count)
        for (docIndex, counts) in perDocument.enumerated() {
            let norm = (1 - b) + b * lengths[docIndex] / average
            let k1 = SIMD4<Float>(repeating: Tuning.k1)
            var list: [(term: Int32, frequency: Float, headline: Float, blocks: UInt32)] = []
            list.reserveCapacity(counts.count)
            for (t, tf, blocks) in counts {
                let id = finalID[Int(t)]
                let perField = weights * tf * (k1 + 1) / (tf + k1 * norm)
                let impact = perField[0] + perField[1] + perField[2]
                list.append((id, impact, tf.w > 0 ? 1 : tf.x + tf.y > 0 ? Tuning.partHeadline : 0, blocks))
                df[Int(id)] += 1
            }
            documentPostings.append(list)
        }
        var offsets = [Int32](repeating: 0, count: sortedTerms.count + 1)
        for t in 0..<sortedTerms.count { offsets[t + 1] = offsets[t] + df[t] }
        let total = Int(offsets[sortedTerms.count])
        var cursor = offsets
        var postingDocument = [Int32](repeating: 0, count: total)
        var postingImpact = [Float](repeating: 0, count: total)
        var postingHeadline = [Float](repeating: 0, count: total)
        var postingBlocks = [UInt32](repeating: 0, count: total)
        for (docIndex, list) in documentPostings.enumerated() {
            for posting in list {
                let slot = Int(cursor[Int(posting.term)])
                cursor[Int(posting.term)] += 1
                postingDocument[slot] = Int32(docIndex)
                postingImpact[slot] = posting.frequency
                postingHeadline[slot] = posting.headline
                postingBlocks[slot] = posting.blocks
            }
        }
        self.offsets = offsets
        self.postingDocument = postingDocument
        self.postingImpact = postingImpact
        self.postingHeadline = postingHeadline
        self.postingBlocks = postingBlocks
        documentFrequency = df
        let n = Float(articles.count)
        let idf = df.map { Self.idf(documentFrequency: Float($0), documents: n) }
        self.idf = idf
        maximumIDF = Self.idf(documentFrequency: 1, documents: max(1, n))
        var headlineDF = [Int32](repeating: 0, count: sortedTerms.count)
        for t in 0..<sortedTerms.count {
            for p in Int(offsets[t])..<Int(offsets[t + 1]) where postingHeadline[p] > 0 { headlineDF[t] += 1 }
        }
        headlineIDF = headlineDF.map { $0 == 0 ? 0 : Self.idf(documentFrequency: Float($0), documents: n) }

        fuzzy = FuzzyIndex(terms: sortedTerms)
        self.words = words

        // 6. Cognate keys of each distinct word, per language.
        func cognates(_ entryIndices: Dictionary<String, Int32>.Values, _ language: Article.Language) -> [String: [Int32]] {
            var byKey: [String: [Int32]] = [:]
            for index in entryIndices {
                let entry = entries[Int(index)]
                guard !entry.token.isNumber else { continue }
                let term = finalID[Int(entry.term)]
                for key in Cognates.keys(entry.token.key, language: language) where !lexicon.falseFriendKeys.contains(key) {
                    if byKey[key]?.contains(term) != true { byKey[key, default: []].append(term) }
                }
            }
            return byKey.mapValues { $0.sorted() }
        }
        germanCognates = cognates(germanEntries.values, .de)
        englishCognates = cognates(englishEntries.values, .en)

        // 7. The dictionary, kept only where it leads to the articles' words.
        dictionary = keptDictionary ?? dictionaryPass?.result() ?? .empty
    }

    /// `previous`'s dictionary translations, when an index of `terms` with
    /// `lexicon` would read the same: the same dictionary (its path and the
    /// file's size, modification time and inode, ``BilingualDictionary``'s
    /// equality, then and now), read without a problem, and the same terms (the
    /// translations hold term ids, which are the terms' sorted order). A
    /// reload that changed only the configuration, or articles in words
    /// the KB already had, then costs no pass over the file.
    static func reusableDictionary(_ previous: SearchIndex?, lexicon: Lexicon, terms: [String]) -> DictionaryTranslations? {
        guard let previous, let dictionary = lexicon.dictionary, previous.lexicon.dictionary == dictionary,
              previous.dictionary.problem == nil, previous.terms == terms else { return nil }
        // The file as it is now: a reload of the articles alone keeps the
        // vocabulary, and with it the stamp of the last configuration load.
        if !dictionary.path.isEmpty, (try? BilingualDictionary.load(path: dictionary.path)) != dictionary { return nil }
        return previous.dictionary
    }

    /// Inseparable prefixes and particles that begin derived words, not
    /// compounds: "Ein·stellung", "Ver·bindung", "Nach·richt" have no head
    /// of their own.
    static let derivationPrefixes: Set<String> = [
        "ab", "an", "auf", "aus", "be", "bei", "dar", "durch", "ein", "emp", "ent", "er", "fort", "ge", "her",
        "herab", "heran", "herauf", "heraus", "herein", "herunter", "hin", "hinter", "hinzu", "los", "miss",
        "mit", "nach", "uber", "um", "un", "unter", "ur", "ver", "voll", "vor", "voran", "weg", "weiter",
        "wider", "wieder", "zer", "zu", "zuruck", "zusammen",
    ]

    /// The head of a German compound whose parts are not all article words
    /// (the decompounder found no split), with its modifier where that is a
    /// word too: "Wartemusik" → "musik" ("warte"), "Betriebsurlaub" →
    /// "urlaub" ("betrieb"), "Rufnummern" → "nummern" ("ruf"). The head is
    /// the longest ending of at least ``Tuning/headMinimum`` letters that
    /// `isWord` accepts, after a modifier of at least three letters that is
    /// a word itself (allowing a linking -s/-es/-n/-en, or a verb stem:
    /// "ruf" as in "rufen") and not a prefix of derivation
    /// (``derivationPrefixes``). Returns the parts' stems, or [].
    static func headParts(_ key: String, isWord: (String) -> Bool) -> [String] {
        let w = Array(key.utf8)
        guard w.allSatisfy({ $0 < 0x80 }), w.count >= 3 + Tuning.headMinimum else { return [] }
        func modifierWord(_ modifier: ArraySlice<UInt8>) -> String? {
            let text = String(decoding: modifier, as: UTF8.self)
            guard !derivationPrefixes.contains(text), !StopWords.contains(text) else { return nil }
            if isWord(text) || isWord(text + "en") || isWord(text + "n") { return text }
            for drop in [1, 2] where modifier.count - drop >= 3 {
                let last = modifier[modifier.endIndex - 1]
                guard last == 0x73 || last == 0x6E else { break }  // s, n
                if drop == 2, modifier[modifier.endIndex - 2] != 0x65 { break }  // es, en
                let shorter = String(decoding: modifier.dropLast(drop), as: UTF8.self)
                if !derivationPrefixes.contains(shorter), isWord(shorter) { return shorter }
            }
            return nil
        }
        for cut in 3...(w.count - Tuning.headMinimum) {
            let head = String(decoding: w[cut...], as: UTF8.self)
            guard !StopWords.contains(head), isWord(head), let modifier = modifierWord(w[..<cut]) else { continue }
            let headStem = GermanStemmer.stem(head)
            let modifierStem = GermanStemmer.stem(modifier)
            return modifierStem == headStem ? [headStem] : [modifierStem, headStem]
        }
        return []
    }

    /// BM25's idf, never negative: ln(1 + (N − df + 0.5) / (df + 0.5)).
    static func idf(documentFrequency df: Float, documents n: Float) -> Float {
        log(1 + (n - df + 0.5) / (df + 0.5))
    }

    func id(of term: String) -> Int32? { termIDs[term] }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SearchIndex {
    /// Pairs of articles, one German and one English, that are translations
    /// of each other without saying so (no `translation:` header): the same
    /// number of tags, at least two of them, and at least two thirds of the
    /// tags agree position by position (the convention of writing a
    /// translation's tags in the same order) — the same word ("VPN",
    /// "NordBox Connect") or words of one vocabulary concept
    /// ("Verbindung"/"connection"). Each article is paired with its best
    /// match only if that match's best is the article too; a tie is no pair.
    /// Candidates are found through the first tag's terms, so the work
    /// stays near linear in the number of articles.
    static func detectedTwins(_ articles: [Article], lexicon: Lexicon) -> [(Int, Int)] {
        detectedTwins(tags: ArticleAnalysis(articles[...]).tagTerms, languages: articles.map(\.language), lexicon: lexicon)
    }

    /// Whether `article` may be one of a pair ``detectedTwins(_:lexicon:)``
    /// finds: it has at least two tags and declares no translation.
    static func mayHaveUndeclaredTwin(_ article: Article) -> Bool {
        article.tags.count >= 2 && article.translation == nil
    }

    /// ``detectedTwins(_:lexicon:)`` of the articles whose tags' terms are
    /// `tags` (``ArticleAnalysis/tagTerms``) and languages `languages`.
    static func detectedTwins(tags: [[Set<String>]], languages: [Article.Language], lexicon: Lexicon) -> [(Int, Int)] {
        // English articles by each term of their first tag.
        var englishByFirstTerm: [String: [Int]] = [:]
        for (i, language) in languages.enumerated() where language == .en && !tags[i].isEmpty {
            for term in tags[i][0] { englishByFirstTerm[term, default: []].append(i) }
        }
        func agree(_ a: Set<String>, _ b: Set<String>) -> Bool {
            if !a.isDisjoint(with: b) { return true }
            return a.contains { lexicon.related(to: $0).contains(where: b.contains) }
        }
        func agreement(_ i: Int, _ j: Int) -> Int {
            guard tags[i].count == tags[j].count else { return 0 }
            return zip(tags[i], tags[j]).filter { agree($0, $1) }.count
        }
        /// The best partner of `i` among `candidates` (at least two thirds of the tags agree), or nil.
        func best(_ i: Int, among candidates: [Int]) -> Int? {
            var bestScore = 0, bestIndex: Int?, tied = false
            for j in candidates {
                let score = agreement(i, j)
                guard 3 * score >= 2 * tags[i].count, score >= 2 else { continue }
                if score > bestScore { (bestScore, bestIndex, tied) = (score, j, false) }
                else if score == bestScore { tied = true }
            }
            return tied ? nil : bestIndex
        }
        var germanCandidates: [Int: [Int]] = [:]
        var englishCandidates: [Int: [Int]] = [:]
        for (i, language) in languages.enumerated() where language == .de && !tags[i].isEmpty {
            var candidates: [Int] = []
            for term in tags[i][0] {
                for key in [term] + lexicon.related(to: term) {
                    for j in englishByFirstTerm[key] ?? [] where !candidates.contains(j) { candidates.append(j) }
                }
            }
            guard candidates.count <= 64 else { continue }  // a tag on everything tells nothing
            germanCandidates[i] = candidates
            for j in candidates { englishCandidates[j, default: []].append(i) }
        }
        var pairs: [(Int, Int)] = []
        for i in germanCandidates.keys.sorted() {
            guard let j = best(i, among: germanCandidates[i] ?? []),
                  best(j, among: englishCandidates[j] ?? []) == i else { continue }
            pairs.append((i, j))
        }
        return pairs
    }
}
