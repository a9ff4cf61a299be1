/// Every number that shapes ranking and confidence, in one place.
enum Tuning {
    // MARK: BM25 per field, summed with field weights (Robertson & Zaragoza,
    // "The Probabilistic Relevance Framework: BM25 and Beyond", 2009)

    /// Term-frequency saturation.
    static let k1: Float = 1.2
    /// Field weights: a title hit outweighs any number of body mentions of
    /// one word (a body's BM25 saturates at k1 + 1 = 2.2), so an article
    /// *about* a topic outranks one that mentions it.
    static let titleWeight: Float = 3.0
    static let tagsWeight: Float = 2.0
    static let bodyWeight: Float = 1.0
    /// Length normalisation per field (body: the classic 0.75; titles and
    /// tags are short and similar, so length says little there).
    static let titleB: Float = 0.5
    static let tagsB: Float = 0.3
    static let bodyB: Float = 0.75
    /// A compound's part found at index time counts as half an occurrence.
    static let compoundPartFrequency: Float = 0.5

    // MARK: Query term weights (multiply a term's BM25 score)

    /// The query's own word (stemmed), or a part of its compound.
    static let exact: Float = 1.0
    /// A word of the same concept from the bilingual lexicon.
    static let lexicon: Float = 0.8
    /// A vocabulary term one typo away from a word the vocabulary lacks.
    static let fuzzy: Float = 0.7
    /// Parts of a compound that the vocabulary also knows whole: extra
    /// clauses that let articles with the separate words match as well.
    static let knownCompoundPart: Float = 0.5
    /// At most this many typo candidates per query word (most frequent first).
    static let maximumFuzzyCandidates = 4

    // MARK: Bounds on work per query (a pasted log or blob must not stall the bot)

    /// Only the first this many distinct informative words of a query count.
    static let maximumQueryWords = 48
    /// Longer words are neither split as compounds nor looked up for typos.
    static let maximumWordLength = 40

    // MARK: Confidence

    /// How much a match found only in the body counts, against one in the
    /// title or tags (1.0), when measuring how well an article covers a query.
    static let bodyOnlyMatch: Float = 0.5
    /// Default threshold for conversation suggestions (see
    /// ``KnowledgeBase/suggestions(for:limit:threshold:)``).
    static let suggestionThreshold = 0.6
    /// A suggestion must also score at least this fraction of the best
    /// article's score, so that weak runners-up are not offered.
    static let suggestionRelativeScore: Float = 0.5
    /// `search` leaves out hits below this confidence: an article that
    /// shares one fuzzy word with a three-word query is noise, not a result.
    static let searchMinimumConfidence: Float = 0.3
}
