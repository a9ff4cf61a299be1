/// Where an article's words stand in its body: which *block* — a
/// paragraph, a list item (a step) or a heading. A right article tends to
/// hold the customer's words together in one step or paragraph; a
/// plausible wrong one has them scattered over unrelated paragraphs (see
/// ``SearchIndex/togetherEvidence(_:document:)``).
///
/// A posting's blocks (``SearchIndex/postingBlocks``) are a bit mask: bit
/// b for body block b; the blocks past ``maximumBlocks`` share the last
/// bit. The title and tags are no block: they count as headline already.
enum Placement {
    /// Blocks with a bit of their own; later ones share the last.
    static let maximumBlocks = 32

    /// The bit of body block `b`.
    static func block(_ b: Int) -> UInt32 { 1 << UInt32(min(b, maximumBlocks - 1)) }

    /// A body's tokens (stop words dropped, as the index keeps them) and
    /// the block each stands in. Tokenising block by block gives the same
    /// tokens as the whole body at once: blocks are cut at line ends, which
    /// end a token anyway. A block is a heading line, a list item (`-`,
    /// `*`, `+` or a number with `.` or `)`, then a space) with the lines
    /// that continue it, or a paragraph up to a blank line or the next of
    /// those; a code fence is one block.
    static func bodyTokens(_ body: String) -> (tokens: [TextAnalysis.Token], blocks: [UInt32]) {
        var tokens: [TextAnalysis.Token] = []
        var blocks: [UInt32] = []
        var block = -1
        var inBlock = false
        var inFence = false
        var rest = Substring(body)
        while !rest.isEmpty {
            let end = rest.firstIndex(of: "\n") ?? rest.endIndex
            let line = rest[..<end].drop { $0 == " " || $0 == "\t" }
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            let isFence = line.hasPrefix("```") || line.hasPrefix("~~~")
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if !inFence { inBlock = false }
                continue
            }
            let isHeading = !inFence && line.hasPrefix("#")
            let closesFence = isFence && inFence
            if isHeading || (!inFence && (isFence || isListItem(line))) { inBlock = false }
            if isFence { inFence.toggle() }
            let found = TextAnalysis.tokens(String(line)).filter { !StopWords.contains($0.key) }
            if !found.isEmpty {
                if !inBlock { block += 1 }
                inBlock = true
                tokens += found
                blocks += repeatElement(Self.block(block), count: found.count)
            }
            if isHeading || closesFence { inBlock = false }
        }
        return (tokens, blocks)
    }

    /// Whether a line begins a list item: `-`, `*`, `+` or a number of at
    /// most three digits with `.` or `)`, then a space.
    static func isListItem(_ line: Substring) -> Bool {
        guard let first = line.first else { return false }
        if first == "-" || first == "*" || first == "+" { return line.dropFirst().first == " " }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3 else { return false }
        let after = line.dropFirst(digits.count)
        return (after.first == "." || after.first == ")") && after.dropFirst().first == " "
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
