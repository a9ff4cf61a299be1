/// A fixed set of words kept as one sorted block of UTF-8 bytes with an
/// offset per word, searched by binary search.
///
/// The common-word lists hold about 30,000 words. As a `Set<String>` they cost
/// about 0.85 MiB of the gateway's idle memory (hash table slots plus a heap
/// string for every word longer than 15 bytes); here they cost their bytes
/// plus 4 bytes a word (about 0.35 MB), and a lookup is ~15 byte comparisons
/// of short words — cheaper than hashing the key.
public struct WordSet: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// The words' bytes, in ascending byte order, without separators.
    private let bytes: [UInt8]
    /// Where each word starts in `bytes`; one more entry at the end (the total length).
    private let starts: [UInt32]

    /// The distinct words of `words`, as given (no folding).
    public init<S: Sequence>(_ words: S) where S.Element == String {
        let sorted = Set(words).map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sorted.reduce(0) { $0 + $1.count })
        var starts: [UInt32] = []
        starts.reserveCapacity(sorted.count + 1)
        for word in sorted {
            starts.append(UInt32(bytes.count))
            bytes += word
        }
        starts.append(UInt32(bytes.count))
        self.bytes = bytes
        self.starts = starts
    }

    public init(arrayLiteral words: String...) { self.init(words) }

    /// How many distinct words.
    public var count: Int { starts.count - 1 }

    public var isEmpty: Bool { count == 0 }

    /// Whether `word` is one of the words (exact bytes).
    public func contains(_ word: String) -> Bool {
        var word = word
        return word.withUTF8 { key in
            var low = 0, high = count
            while low < high {
                let middle = (low + high) / 2
                let order = compare(entry: middle, with: key)
                if order == 0 { return true }
                if order < 0 { low = middle + 1 } else { high = middle }
            }
            return false
        }
    }

    /// <0, 0, >0 as entry `index` sorts before, equal to or after `key`.
    private func compare(entry index: Int, with key: UnsafeBufferPointer<UInt8>) -> Int {
        let start = Int(starts[index]), end = Int(starts[index + 1])
        let length = end - start
        for offset in 0..<min(length, key.count) {
            let a = bytes[start + offset], b = key[offset]
            if a != b { return a < b ? -1 : 1 }
        }
        return length - key.count
    }
}
