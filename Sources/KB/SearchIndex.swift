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
    /// Whether the term occurs in the article's title or tags.
    let postingInHeadline: [Bool]
    /// The idf of a term only one article has: the most a word can tell.
    let maximumIDF: Float
    let fuzzy: FuzzyIndex
    let lexicon: Lexicon
    /// Each article's language (a tie-break towards the query's language).
    let documentLanguage: [Article.Language]
    /// Each article's translation (`translation:` in either article's
    /// header, in the other language), or -1.
    let documentTwin: [Int32]
    /// The articles' words with their terms, for the decompounding policy.
    let words: WordPrefixIndex

    // MARK: Building

    init(articles: [Article], lexicon: Lexicon) {
        self.lexicon = lexicon
        documentCount = articles.count
        documentLanguage = articles.map(\.language)
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

        // 1. Terms of each field.
        struct Fields {
            var tokens: [[TextAnalysis.Token]]  // title, tags, body
            var language: Article.Language
        }
        let fields: [Fields] = articles.map { article in
            var body = article.body
            if ArticleParser.firstParagraph(of: article.body) != article.summary {
                body = article.summary + "\n\n" + body
            }
            let analysed = [article.title, article.tags.joined(separator: ", "), body].map {
                TextAnalysis.tokens($0).filter { !StopWords.contains($0.key) }
            }
            return Fields(tokens: analysed, language: article.language)
        }

        // 2. The vocabulary of whole words, which decompounding splits against.
        var termCache: [String: IndexedToken] = [:]
        func term(_ token: TextAnalysis.Token, _ language: Article.Language) -> IndexedToken {
            let cacheKey = language == .de ? "d" + token.key : "e" + token.folded
            if let cached = termCache[cacheKey] { return cached }
            let result = TextAnalysis.indexTerm(token, language: language)
            termCache[cacheKey] = result
            return result
        }
        var vocabulary = Set<String>()
        var wordTerms: [String: [String]] = [:]
        for document in fields {
            for field in document.tokens {
                for token in field {
                    let t = term(token, document.language)
                    vocabulary.insert(t.term)
                    if let alternate = t.alternate { vocabulary.insert(alternate) }
                    if !token.isNumber {
                        var known = wordTerms[token.key, default: []]
                        if !known.contains(t.term) { known.append(t.term) }
                        if let alternate = t.alternate, !known.contains(alternate) { known.append(alternate) }
                        wordTerms[token.key] = known
                    }
                }
            }
        }

        let words = WordPrefixIndex(wordTerms)

        // 3. Per document, per term: frequency in each field (German compounds
        //    add their parts at a reduced frequency).
        var partsCache: [String: [String]] = [:]
        func parts(_ token: TextAnalysis.Token) -> [String] {
            guard !token.isNumber, (8...Tuning.maximumWordLength).contains(token.key.utf8.count) else { return [] }
            if let cached = partsCache[token.key] { return cached }
            let result = Decompounder.split(token.key, words: words) { part, isLast, mayBeginWord in
                Decompounder.partStem(part, isLast: isLast, mayBeginWord: mayBeginWord, english: false,
                                      isTerm: { vocabulary.contains($0) }, beginsWord: words.beginsWord(_:withTerm:))
            } ?? []
            partsCache[token.key] = result
            return result
        }

        var allTerms = vocabulary
        var perDocument: [[String: SIMD4<Float>]] = []  // x: title, y: tags, z: body, w: whole words in title or tags
        var lengths: [SIMD4<Float>] = []
        perDocument.reserveCapacity(fields.count)
        for document in fields {
            var counts: [String: SIMD4<Float>] = [:]
            var length = SIMD4<Float>()
            for (fieldIndex, field) in document.tokens.enumerated() {
                var unit = SIMD4<Float>()
                unit[fieldIndex] = 1
                length[fieldIndex] = Float(field.count)
                // w: whole-word occurrences in the title or tags ("headline"),
                // so that a compound's part in a title is not a title match.
                var whole = unit
                if fieldIndex < 2 { whole.w = 1 }
                for token in field {
                    let t = term(token, document.language)
                    counts[t.term, default: .zero] += whole
                    if let alternate = t.alternate { counts[alternate, default: .zero] += whole }
                    if document.language == .de {
                        for part in parts(token) where part != t.term {
                            counts[part, default: .zero] += unit * Tuning.compoundPartFrequency
                            allTerms.insert(part)
                        }
                    }
                }
            }
            perDocument.append(counts)
            lengths.append(length)
        }

        // 4. Term ids (sorted, for determinism) and postings with their impact.
        let sortedTerms = allTerms.sorted()
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(sortedTerms.count)
        for (i, t) in sortedTerms.enumerated() { ids[t] = Int32(i) }
        terms = sortedTerms
        termIDs = ids

        var average = lengths.reduce(SIMD4<Float>(), +) / Float(max(1, lengths.count))
        for i in 0..<3 where average[i] <= 0 { average[i] = 1 }
        let weights = SIMD4<Float>(Tuning.titleWeight, Tuning.tagsWeight, Tuning.bodyWeight, 0)
        let b = SIMD4<Float>(Tuning.titleB, Tuning.tagsB, Tuning.bodyB, 0)

        var df = [Int32](repeating: 0, count: sortedTerms.count)
        var documentPostings: [[(term: Int32, frequency: Float, headline: Bool)]] = []
        documentPostings.reserveCapacity(perDocument.count)
        for (docIndex, counts) in perDocument.enumerated() {
            let norm = (1 - b) + b * lengths[docIndex] / average
            let k1 = SIMD4<Float>(repeating: Tuning.k1)
            var list: [(term: Int32, frequency: Float, headline: Bool)] = []
            list.reserveCapacity(counts.count)
            for (t, tf) in counts {
                let id = ids[t]!
                let perField = weights * tf * (k1 + 1) / (tf + k1 * norm)
                let impact = perField[0] + perField[1] + perField[2]
                list.append((id, impact, tf.w > 0))
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
        var postingInHeadline = [Bool](repeating: false, count: total)
        for (docIndex, list) in documentPostings.enumerated() {
            for posting in list {
                let slot = Int(cursor[Int(posting.term)])
                cursor[Int(posting.term)] += 1
                postingDocument[slot] = Int32(docIndex)
                postingImpact[slot] = posting.frequency
                postingInHeadline[slot] = posting.headline
            }
        }
        self.offsets = offsets
        self.postingDocument = postingDocument
        self.postingImpact = postingImpact
        self.postingInHeadline = postingInHeadline
        documentFrequency = df
        let n = Float(articles.count)
        let idf = df.map { Self.idf(documentFrequency: Float($0), documents: n) }
        self.idf = idf
        maximumIDF = Self.idf(documentFrequency: 1, documents: max(1, n))
        var headlineDF = [Int32](repeating: 0, count: sortedTerms.count)
        for t in 0..<sortedTerms.count {
            for p in Int(offsets[t])..<Int(offsets[t + 1]) where postingInHeadline[p] { headlineDF[t] += 1 }
        }
        headlineIDF = headlineDF.map { $0 == 0 ? 0 : Self.idf(documentFrequency: Float($0), documents: n) }

        fuzzy = FuzzyIndex(terms: sortedTerms)
        self.words = words
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
