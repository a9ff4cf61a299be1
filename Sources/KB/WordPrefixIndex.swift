/// The words of the articles as written (folded and collapsed, before
/// stemming), sorted, each with the index terms it produced: answers "does
/// an article word that starts with this prefix have this term?" for the
/// decompounding policy (see ``Decompounder``), and, for pruning the split,
/// "how far can a part starting here still begin an article word?"
/// (``reach(_:from:)``).
struct WordPrefixIndex: Sendable, Equatable {
    private let words: [String]
    private let terms: [[String]]
    /// The words and the support-chat filler (``StopWords/isFiller(_:)``,
    /// which a split may use as a part), as UTF-8, sorted bytewise and
    /// concatenated: word i is `bytes[starts[i]..<starts[i + 1]]`.
    private let bytes: [UInt8]
    private let starts: [Int32]

    /// How many words with the prefix are examined at most.
    static let scanLimit = 64

    init(_ wordTerms: [String: [String]]) {
        let sorted = wordTerms.keys.sorted()
        words = sorted
        terms = sorted.map { wordTerms[$0]! }
        var utf8 = Set(wordTerms.keys.map { Array($0.utf8) })
        for filler in StopWords.filler { utf8.insert(Array(filler.utf8)) }
        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        starts.reserveCapacity(utf8.count + 1)
        for word in utf8.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            bytes += word
            starts.append(Int32(bytes.count))
        }
        self.bytes = bytes
        self.starts = starts
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

    /// The length of the longest prefix of `word[start...]` that begins an
    /// article word or a filler word (bytewise). A part longer than that
    /// can be neither a filler nor a part before the last (which must begin
    /// an article word, ``beginsWord(_:withTerm:)``), so the split need not
    /// stem it.
    func reach(_ word: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { bytes in
            starts.withUnsafeBufferPointer { starts in
                // Invariant: the words low..<high are those beginning with word[start..<start + k].
                var low = 0, high = starts.count - 1
                var k = 0
                while start + k < word.count {
                    let c = Int(word[start + k])
                    // Byte k of word i, or -1 if it is only k long (sorted first).
                    func byte(_ i: Int) -> Int {
                        let p = Int(starts[i]) + k
                        return p < Int(starts[i + 1]) ? Int(bytes[p]) : -1
                    }
                    var l = low, h = high
                    while l < h {
                        let mid = (l + h) / 2
                        if byte(mid) < c { l = mid + 1 } else { h = mid }
                    }
                    var e = l
                    h = high
                    while e < h {
                        let mid = (e + h) / 2
                        if byte(mid) <= c { e = mid + 1 } else { h = mid }
                    }
                    if l == e { return k }
                    low = l
                    high = e
                    k += 1
                }
                return k
            }
        }
    }
}
