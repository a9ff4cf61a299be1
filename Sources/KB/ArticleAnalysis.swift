/// The first step of an index build (``SearchIndex/init(articles:lexicon:previous:parts:)``):
/// every article's title, tags and body cut into words, stop words dropped,
/// and each distinct word given its index term — the per-article work that
/// needs nothing but the article, and was over half of a 10,000-article
/// build on one thread.
///
/// The articles are cut into contiguous parts, each analysed by its own
/// thread (``ThreadedParts``) with its own table of words. A part lists its
/// distinct words in the order it first sees them, so merging the parts in
/// article order — each part's words in its order, skipping those an
/// earlier part had — meets every word at the same place as one pass from
/// the first article to the last: the index is the same whatever the number
/// of parts.
struct ArticleAnalysis: Sendable {
    /// One distinct word of a part, in one language, with its index term
    /// (``TextAnalysis/indexTerm(_:language:)``).
    struct Word: Sendable {
        var token: TextAnalysis.Token
        var language: Article.Language
        var term: String
        /// A German participle's infinitive stem, or nil.
        var alternate: String?
    }

    /// The part's distinct words in order of first sight. A German word is
    /// one per key, an English one per folded form (what each stemmer
    /// sees), and once more if also written with an umlaut (same term).
    var words: [Word] = []
    /// Every article's words that are not stop words, as indices into
    /// ``words``: its title, its tags (one after the other), then its body
    /// (with the summary before it when the body does not begin with it),
    /// article after article.
    var tokens: [Int32] = []
    /// The body block of each of ``tokens`` as its bit (``Placement``); 0
    /// in titles and tags.
    var blocks: [UInt32] = []
    /// Per article, where its title, tags and body end in ``tokens``.
    var fieldEnds: [SIMD3<Int32>] = []
    /// Per article that may be one of an undeclared translation pair
    /// (``SearchIndex/mayHaveUndeclaredTwin(_:)``), per tag, the terms of
    /// the tag's words ([] for the other articles).
    var tagTerms: [[Set<String>]] = []

    /// The smallest share of article text (titles and bodies, in bytes)
    /// worth a thread of its own: a part of ~256 kB takes ~10 ms.
    static let minimumPartBytes = 1 << 18

    /// The analysis of `articles` in `parts` parts (by default by the
    /// articles' size and the machine's cores, ``ThreadedParts/count(bytes:minimumBytes:)``),
    /// in article order.
    static func parts(_ articles: [Article], parts: Int? = nil) -> [ArticleAnalysis] {
        let count = parts ?? ThreadedParts<ArticleAnalysis>.count(
            bytes: articles.reduce(0) { $0 + $1.title.utf8.count + $1.body.utf8.count }, minimumBytes: minimumPartBytes)
        let n = max(1, count)
        return ThreadedParts.run(n) { part in
            ArticleAnalysis(articles[articles.count * part / n..<articles.count * (part + 1) / n])
        }
    }

    /// The analysis of one part's articles.
    init(_ articles: ArraySlice<Article>) {
        // Each word seen, by its key (German) or folded form (English), to
        // its index in `words`, or to -1 for a stop word: one lookup per
        // occurrence. Words written with an umlaut have tables of their
        // own: "ändere" is a word, "andere" a stop word (``StopWords/contains(_:)-(TextAnalysis.Token)``).
        var seen = [[String: Int32]](repeating: [:], count: 4)
        func word(_ token: TextAnalysis.Token, _ language: Article.Language) -> Int32 {
            let key = language == .de ? token.key : token.folded
            let table = (language == .de ? 0 : 2) + (token.umlaut ? 1 : 0)
            if let known = seen[table][key] { return known }
            var index: Int32 = -1
            if !StopWords.contains(token) {
                index = Int32(words.count)
                let analysed = TextAnalysis.indexTerm(token, language: language)
                words.append(Word(token: token, language: language, term: analysed.term, alternate: analysed.alternate))
            }
            seen[table][key] = index
            return index
        }
        /// Adds `token`'s word in `block`, and the word after its letter
        /// ("bon" of "Z-Bon", ``TextAnalysis/Token/head``), so that "Bon"
        /// still finds the article.
        func add(_ token: TextAnalysis.Token, _ language: Article.Language, block: UInt32) {
            let index = word(token, language)
            if index >= 0 {
                tokens.append(index)
                blocks.append(block)
            }
            if let head = token.head { add(head, language, block: block) }
        }
        func add(_ text: String, _ language: Article.Language) -> Range<Int> {
            let start = tokens.count
            for token in TextAnalysis.tokens(text) { add(token, language, block: 0) }
            return start..<tokens.count
        }
        fieldEnds.reserveCapacity(articles.count)
        tagTerms.reserveCapacity(articles.count)
        for article in articles {
            let language = article.language
            _ = add(article.title, language)
            let titleEnd = Int32(tokens.count)
            // The tags' words as one field: tokenising each tag gives the
            // words of all of them joined by ", ".
            let tags = article.tags.map { add($0, language) }
            tagTerms.append(SearchIndex.mayHaveUndeclaredTwin(article)
                ? tags.map { Set(tokens[$0].map { words[Int($0)].term }) } : [])
            let tagsEnd = Int32(tokens.count)
            var body = article.body
            if ArticleParser.firstParagraph(of: article.body) != article.summary {
                body = article.summary + "\n\n" + body
            }
            let placed = Placement.bodyTokens(body)  // without stop words
            for (token, block) in zip(placed.tokens, placed.blocks) { add(token, language, block: block) }
            fieldEnds.append(SIMD3(titleEnd, tagsEnd, Int32(tokens.count)))
        }
    }
}
