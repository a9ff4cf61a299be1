/// Where an article's words stand in its body: which *block* — a
/// paragraph, a list item (a step) or a heading. A right article tends to
/// hold the customer's words together in one step or paragraph; a
/// plausible wrong one has them scattered over unrelated paragraphs (see
/// ``SearchIndex/togetherEvidence(_:document:)``).
///
/// A posting's blocks (``SearchIndex/postingBlocks``) are a bit mask: bit
/// b for body block b. The blocks past ``maximumBlocks`` have no bit, so
/// that words far apart in a long article never count as together. The
/// title and tags are no block: they count as headline already.
enum Placement {
    /// Blocks with a bit; later ones have none.
    static let maximumBlocks = 32

    /// The bit of body block `b` (0 past ``maximumBlocks``).
    static func block(_ b: Int) -> UInt32 { b < maximumBlocks ? 1 << UInt32(b) : 0 }

    /// A body's tokens (stop words dropped, as the index keeps them) and
    /// the block each stands in: the tokens of ``TextAnalysis/tokens(_:)``
    /// of the whole body, line by line. A block is a heading line, a list
    /// item (`-`, `*`, `+` or a number of at most three digits with `.` or
    /// `)`, then a space) with the lines that continue it, or a paragraph up
    /// to a blank line or the next of those; a code fence is one block. A
    /// line without a token (after stop words) begins no block.
    static func bodyTokens(_ body: String) -> (tokens: [TextAnalysis.Token], blocks: [UInt32]) {
        var lineEnds: [Int] = []
        let all = TextAnalysis.tokens(body, lineEnds: &lineEnds)
        var tokens: [TextAnalysis.Token] = []
        var blocks: [UInt32] = []
        tokens.reserveCapacity(all.count)
        blocks.reserveCapacity(all.count)
        var block = -1, inBlock = false, inFence = false
        var line = 0, lineStart = 0
        var text = body
        text.withUTF8 { bytes in
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                let kind = lineKind(bytes, start, end, inFence: inFence)
                if kind == .blank, !inFence { inBlock = false }
                if kind == .heading || kind == .listItem || (kind == .fence && !inFence) { inBlock = false }
                let tokenEnd = line < lineEnds.count ? lineEnds[line] : all.count
                for token in all[lineStart..<tokenEnd] where !StopWords.contains(token) {
                    if !inBlock { block += 1 }
                    inBlock = true
                    tokens.append(token)
                    blocks.append(Self.block(block))
                }
                if kind == .fence { inFence.toggle() }
                if kind == .heading || (kind == .fence && !inFence) { inBlock = false }
                lineStart = tokenEnd
                line += 1
                start = end + 1
            }
        }
        return (tokens, blocks)
    }

    enum LineKind { case blank, heading, listItem, fence, text }

    /// What the line `bytes[start..<end]` is in Markdown's block structure
    /// (inside a code fence only its closing fence and blank lines count).
    static func lineKind(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, inFence: Bool) -> LineKind {
        var i = start
        while i < end, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        if i == end || (i + 1 == end && bytes[i] == 0x0D) { return .blank }
        func at(_ k: Int) -> UInt8 { k < end ? bytes[k] : 0 }
        let first = bytes[i]
        if (first == 0x60 || first == 0x7E), at(i + 1) == first, at(i + 2) == first { return .fence }  // ``` ~~~
        if inFence { return .text }
        if first == 0x23 { return .heading }  // #
        if first == 0x2D || first == 0x2A || first == 0x2B { return at(i + 1) == 0x20 ? .listItem : .text }  // - * +
        var digits = 0
        while digits < 4, (0x30...0x39).contains(at(i + digits)) { digits += 1 }
        if (1...3).contains(digits), at(i + digits) == 0x2E || at(i + digits) == 0x29, at(i + digits + 1) == 0x20 {
            return .listItem  // 1. 1)
        }
        return .text
    }
}

extension SearchIndex {
    /// The evidence that the query's words give `document` by standing
    /// together in one block of its body (in idf, as the evidence sums):
    /// ``Tuning/togetherEvidence`` times the sum, over the query words
    /// matched in the block, of their match times their idf, for the block
    /// that holds the most; 0 unless that block holds at least
    /// ``Tuning/togetherWords`` different query words (a compound's parts
    /// are one word; a phrasing's meaning is no word of its own: its words
    /// are there already). ``evaluate(_:limit:language:)`` takes the larger of
    /// this and the usual evidence, so two words in one step of an article
    /// count more than the same words each in a paragraph of its own, while
    /// an article whose title names the topic loses nothing. Returns the
    /// evidence and that block's bit (0: none).
    func togetherEvidence(_ clauses: [QueryClause], document d: Int) -> (evidence: Float, block: UInt32) {
        // Per matched clause: its best match here, the blocks it stands in,
        // its evidence idf, and the index of its word's first clause.
        var matched: [(match: Float, blocks: UInt32, idf: Float, word: Int)] = []
        var any: UInt32 = 0
        for (i, clause) in clauses.enumerated() where clause.informativeness > 0 && clause.resolution != .phrase {
            var best: Float = 0, blocks: UInt32 = 0
            for alternative in clause.alternatives {
                guard let p = posting(alternative.term, d) else { continue }
                best = max(best, documentHasTwin[d] ? alternative.match : alternative.fullMatch)
                blocks |= postingBlocks[p]
            }
            guard best > 0, blocks != 0 else { continue }
            let word = clauses[..<i].firstIndex { $0.word == clause.word } ?? i
            matched.append((best, blocks, clause.partEvidence ?? clause.informativeness, word))
            any |= blocks
        }
        guard matched.count >= Tuning.togetherWords else { return (0, 0) }
        var best: Float = 0, bestBlock: UInt32 = 0
        var remaining = any
        while remaining != 0 {
            let bit = remaining & (~remaining &+ 1)
            remaining &= remaining - 1
            var words: [Int] = []
            var sum: Float = 0
            for m in matched where m.blocks & bit != 0 {
                sum += m.match * m.idf
                if !words.contains(m.word) { words.append(m.word) }
            }
            if words.count >= Tuning.togetherWords, sum > best { (best, bestBlock) = (sum, bit) }
        }
        return (best * Tuning.togetherEvidence, bestBlock)
    }

    /// For explanations: the query words that `document`'s body has in `block`.
    func words(_ clauses: [QueryClause], document: Int, block: UInt32) -> [String] {
        var words: [String] = []
        for clause in clauses where clause.informativeness > 0 && clause.resolution != .phrase
            && !words.contains(clause.word) {
            let there = clause.alternatives.contains { alternative in
                posting(alternative.term, document).map { postingBlocks[$0] & block != 0 } ?? false
            }
            if there { words.append(clause.word) }
        }
        return words
    }

    /// The posting of `term` in `document`, if it has one (a term's
    /// postings are in document order).
    func posting(_ term: Int32, _ document: Int) -> Int? {
        let end = Int(offsets[Int(term) + 1])
        var low = Int(offsets[Int(term)]), high = end
        let target = Int32(document)
        while low < high {
            let middle = (low + high) / 2
            if postingDocument[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low < end && postingDocument[low] == target ? low : nil
    }
}
