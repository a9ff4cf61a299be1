/// The words of the articles as written (folded and collapsed, before
/// stemming), sorted, each with the index terms it produced: answers "does
/// an article word that starts with this prefix have this term?" for the
/// decompounding policy (see ``Decompounder``).
struct WordPrefixIndex: Sendable {
    private let words: [String]
    private let terms: [[String]]

    /// How many words with the prefix are examined at most.
    static let scanLimit = 64

    init(_ wordTerms: [String: [String]]) {
        let sorted = wordTerms.keys.sorted()
        words = sorted
        terms = sorted.map { wordTerms[$0]! }
    }

    func beginsWord(_ prefix: String, withTerm term: String) -> Bool {
        var low = 0, high = words.count
        while low < high {
            let mid = (low + high) / 2
            if words[mid] < prefix { low = mid + 1 } else { high = mid }
        }
        var i = low
        while i < words.count, i - low < Self.scanLimit, words[i].hasPrefix(prefix) {
            if terms[i].contains(term) { return true }
            i += 1
        }
        return false
    }
}
