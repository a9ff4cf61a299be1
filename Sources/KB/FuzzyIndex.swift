/// Finds vocabulary terms within one typo of a word: one inserted, deleted
/// or substituted character, or two adjacent characters swapped (optimal
/// string alignment distance ≤ 1).
///
/// It is a SymSpell-style deletion neighbourhood (Wolf Garbe, 2012): at
/// build time every term and each of its one-character deletions is stored
/// under a 64-bit hash, sorted; a lookup hashes the word and its
/// deletions and binary-searches each. Two words are within one edit only if
/// they share such an entry (a substitution or a swap deletes to the same
/// string from both sides), so the lookup costs `length + 1` binary searches
/// no matter how large the vocabulary, and candidates are then verified
/// exactly (a hash collision can only add a candidate, never lose one).
///
/// Digits are never edited: a candidate must have the same digits in the
/// same order as the word, so error code "4012" never matches "4013".
struct FuzzyIndex: Sendable, Equatable {
    /// Sorted hashes of terms and their deletions.
    private let keys: [UInt64]
    /// The term id of each key.
    private let owners: [Int32]
    /// Each term's scalars, for verification.
    private let scalars: [[UInt32]]

    /// Terms shorter than this are not indexed (and words shorter than this
    /// are not looked up): at two or three letters one edit reaches too much.
    static let minimumLength = 4

    init(terms: [String]) {
        var pairs: [(UInt64, Int32)] = []
        var scalars: [[UInt32]] = []
        scalars.reserveCapacity(terms.count)
        pairs.reserveCapacity(terms.count * 9)
        for (id, term) in terms.enumerated() {
            let s = term.unicodeScalars.map(\.value)
            scalars.append(s)
            guard s.count >= Self.minimumLength - 1 else { continue }
            pairs.append((Self.hash(s, skipping: -1), Int32(id)))
            for skip in 0..<s.count {
                // Deleting either of two equal neighbours gives the same string.
                if skip > 0, s[skip] == s[skip - 1] { continue }
                pairs.append((Self.hash(s, skipping: skip), Int32(id)))
            }
        }
        pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        keys = pairs.map(\.0)
        owners = pairs.map(\.1)
        self.scalars = scalars
    }

    /// Term ids within one edit of `word` (excluding an exact match), in id order.
    func candidates(of word: String) -> [Int32] {
        let w = word.unicodeScalars.map(\.value)
        guard w.count >= Self.minimumLength else { return [] }
        var found: [Int32] = []
        func probe(_ hash: UInt64) {
            var i = lowerBound(hash)
            while i < keys.count, keys[i] == hash {
                let id = owners[i]
                if !found.contains(id) { found.append(id) }
                i += 1
            }
        }
        probe(Self.hash(w, skipping: -1))
        for skip in 0..<w.count {
            if skip > 0, w[skip] == w[skip - 1] { continue }
            probe(Self.hash(w, skipping: skip))
        }
        let digits = w.filter(Self.isDigit)
        return found.filter { id in
            let t = scalars[Int(id)]
            return t != w && Self.withinOneEdit(w, t) && t.filter(Self.isDigit) == digits
        }.sorted()
    }

    private func lowerBound(_ hash: UInt64) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < hash { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// FNV-1a over the scalars, leaving out the one at `skipping` (-1: none).
    static func hash(_ s: [UInt32], skipping: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<s.count where i != skipping {
            var v = s[i]
            for _ in 0..<3 {
                h ^= UInt64(v & 0xFF)
                h = h &* 0x0000_0100_0000_01B3
                v >>= 8
            }
        }
        return h
    }

    static func isDigit(_ v: UInt32) -> Bool { v >= 0x30 && v <= 0x39 }

    /// Optimal string alignment distance of `a` and `b` is at most 1.
    static func withinOneEdit(_ a: [UInt32], _ b: [UInt32]) -> Bool {
        if a.count == b.count {
            var i = 0
            while i < a.count, a[i] == b[i] { i += 1 }
            if i == a.count { return true }
            // Substitution at i, or a swap of i and i+1.
            if a[(i + 1)...] == b[(i + 1)...] { return true }
            return i + 1 < a.count && a[i] == b[i + 1] && a[i + 1] == b[i] && a[(i + 2)...] == b[(i + 2)...]
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        guard long.count == short.count + 1 else { return false }
        var i = 0
        while i < short.count, long[i] == short[i] { i += 1 }
        return long[(i + 1)...] == short[i...]
    }
}
