import Foundation

/// A ticket waiting for an agent, as the queue sees it.
public struct QueueEntry: Sendable, Hashable, CustomStringConvertible {
    public var number: TicketNumber
    public var priority: Priority
    public var createdAt: Date

    public init(number: TicketNumber, priority: Priority, createdAt: Date) {
        self.number = number
        self.priority = priority
        self.createdAt = createdAt
    }

    public var description: String { "\(number) \(priority)" }
}

/// The tickets waiting for an agent (open and unassigned), in the order the
/// support policy hands them out (SPEC "Priority"): contract group first,
/// then severity (1 before 4), then age (older first), then ticket number.
/// The order is strict — a non-contract ticket is handed out only when no
/// contract ticket waits — because it is one total order on the key
/// (P1…P8, created, number), not a weighting.
///
/// ## Design: a sorted list of blocks with a Fenwick tree of their sizes
///
/// `next` alone would be a heap; but a waiting customer is told their
/// position, and `!queue` lists the top, so the queue needs *rank* queries
/// too, which a heap cannot answer without sorting. This is an
/// order-statistic structure in the shape of a B+ tree of height two:
///
/// - `blocks`: the keys in order, cut into blocks of 128…512 keys, each a
///   contiguous sorted array (a block is split in half when it passes 512,
///   and merged with or refilled from a neighbour when it falls below 128,
///   so there are at most `n / 128 + 1` blocks);
/// - `lasts`: the last key of each block, contiguous, to find a key's block
///   by binary search;
/// - a Fenwick (binary indexed) tree over the block sizes, so the number of
///   keys in all blocks before block `b` is a prefix sum in O(log blocks);
/// - `keys`: ticket number → key, so a ticket is found by number.
///
/// Costs, with n waiting tickets and B = 512:
/// - `next`: O(1) (first key of the first block);
/// - `position(of:)`: hash lookup + two binary searches + Fenwick prefix:
///   O(log n);
/// - insert / remove / severity change: O(log n) to find the place plus an
///   O(B) move inside one small contiguous block (a memmove of ≤ 12 KiB),
///   plus an O(n/B) rebuild of the Fenwick tree only when a block splits or
///   merges (once per ≥ 128 changes to a block, so amortised O(1)-ish);
/// - `top(k)`: O(k).
///
/// Contiguous blocks keep the hot path in a few cache lines, which at 10^6
/// tickets beats pointer-based balanced trees and skip lists in practice;
/// `swift run -c release DeskBench` measures it. The queue is a value:
/// copies are cheap (copy-on-write) until mutated.
public struct TicketQueue: Sendable {
    /// The total order: rank (P1…P8), then creation time, then number.
    struct Key: Sendable, Hashable, Comparable {
        var rank: UInt8
        var created: Double
        var number: Int64

        init(rank: UInt8, created: Double, number: Int64) {
            self.rank = rank
            self.created = created
            self.number = number
        }

        init(_ entry: QueueEntry) {
            rank = UInt8(entry.priority.rank)
            created = entry.createdAt.timeIntervalSinceReferenceDate
            number = entry.number.rawValue
        }

        @inline(__always)
        static func < (a: Key, b: Key) -> Bool {
            if a.rank != b.rank { return a.rank < b.rank }
            if a.created != b.created { return a.created < b.created }
            return a.number < b.number
        }

        var entry: QueueEntry {
            let contract = rank <= 4
            return QueueEntry(number: TicketNumber(number),
                              priority: Priority(group: contract ? .contract : .noContract,
                                                 severity: Severity(rawValue: Int(contract ? rank : rank - 4))!),
                              createdAt: Date(timeIntervalSinceReferenceDate: created))
        }
    }

    static let maxBlock = 512
    static let minBlock = 128
    static let fillBlock = 384

    private var blocks: [[Key]] = []
    private var lasts: [Key] = []
    /// Fenwick tree over `blocks[i].count`, 1-based (`tree[0]` unused).
    private var tree: [Int] = [0]
    private var keys: [TicketNumber: Key] = [:]

    /// An empty queue.
    public init() {}

    /// The queue of the tickets among `tickets` that wait for an agent
    /// (``isWaitingForAgent(_:)``), e.g. the open tickets loaded at start.
    public init(tickets: some Sequence<Ticket>) {
        self.init(entries: tickets.lazy.filter(Self.isWaitingForAgent).map {
            QueueEntry(number: $0.number, priority: $0.priority, createdAt: $0.createdAt)
        })
    }

    /// A queue of `entries` (a later entry for the same number wins), built
    /// in O(n log n) by one sort.
    public init(entries: some Sequence<QueueEntry>) {
        for entry in entries { keys[entry.number] = Key(entry) }
        let sorted = keys.values.sorted()
        var start = 0
        while start < sorted.count {
            let end = min(start + Self.fillBlock, sorted.count)
            blocks.append(Array(sorted[start..<end]))
            start = end
        }
        lasts = blocks.map { $0.last! }
        rebuildTree()
    }

    /// Whether a ticket belongs in the queue: open and not assigned.
    public static func isWaitingForAgent(_ ticket: Ticket) -> Bool {
        ticket.state.isOpen && ticket.assignee == nil
    }

    // MARK: - Queries

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public func contains(_ number: TicketNumber) -> Bool { keys[number] != nil }

    /// The ticket an agent should take now.
    public func next() -> QueueEntry? { blocks.first?.first?.entry }

    /// The 1-based position of `number` in the queue (what a waiting
    /// customer is told), or nil if it is not waiting.
    public func position(of number: TicketNumber) -> Int? {
        guard let key = keys[number], let (block, offset) = locate(key) else { return nil }
        return prefix(block) + offset + 1
    }

    /// The entry of a waiting ticket.
    public func entry(_ number: TicketNumber) -> QueueEntry? { keys[number]?.entry }

    /// The first `n` tickets in order (`!queue`).
    public func top(_ n: Int) -> [QueueEntry] {
        var out: [QueueEntry] = []
        out.reserveCapacity(max(0, min(n, count)))
        outer: for block in blocks {
            for key in block {
                if out.count >= n { break outer }
                out.append(key.entry)
            }
        }
        return out
    }

    // MARK: - Changes

    /// Puts a ticket in the queue, or moves it if it is there already
    /// (e.g. with another priority).
    public mutating func insert(_ entry: QueueEntry) {
        let key = Key(entry)
        if let old = keys[entry.number] {
            if old == key { return }
            removeKey(old)
        }
        keys[entry.number] = key
        insertKey(key)
    }

    /// Takes a ticket out of the queue (taken, cancelled, …); returns its
    /// entry, or nil if it was not there.
    @discardableResult
    public mutating func remove(_ number: TicketNumber) -> QueueEntry? {
        guard let key = keys.removeValue(forKey: number) else { return nil }
        removeKey(key)
        return key.entry
    }

    /// Takes out and returns the ticket `next()` names (`!next`).
    public mutating func popNext() -> QueueEntry? {
        guard let first = next() else { return nil }
        return remove(first.number)
    }

    /// Moves a waiting ticket to its place for `severity`; false if it does
    /// not wait.
    @discardableResult
    public mutating func updateSeverity(of number: TicketNumber, to severity: Severity) -> Bool {
        guard let entry = entry(number) else { return false }
        insert(QueueEntry(number: number, priority: Priority(group: entry.priority.group, severity: severity),
                          createdAt: entry.createdAt))
        return true
    }

    /// Brings the queue in line with a ticket after any change: in it (at
    /// its current priority) while it waits for an agent, out of it otherwise.
    public mutating func sync(with ticket: Ticket) {
        if Self.isWaitingForAgent(ticket) {
            insert(QueueEntry(number: ticket.number, priority: ticket.priority, createdAt: ticket.createdAt))
        } else {
            remove(ticket.number)
        }
    }

    // MARK: - Blocks

    /// Index of the first element of `array` not less than `key`.
    @inline(__always)
    private static func lowerBound(_ array: [Key], _ key: Key) -> Int {
        var low = 0, high = array.count
        while low < high {
            let mid = (low &+ high) >> 1
            if array[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func locate(_ key: Key) -> (Int, Int)? {
        let block = Self.lowerBound(lasts, key)
        guard block < blocks.count else { return nil }
        let offset = Self.lowerBound(blocks[block], key)
        guard offset < blocks[block].count, blocks[block][offset] == key else { return nil }
        return (block, offset)
    }

    private mutating func insertKey(_ key: Key) {
        if blocks.isEmpty {
            blocks = [[key]]
            lasts = [key]
            rebuildTree()
            return
        }
        let block = min(Self.lowerBound(lasts, key), blocks.count - 1)
        let offset = Self.lowerBound(blocks[block], key)
        blocks[block].insert(key, at: offset)
        if offset == blocks[block].count - 1 { lasts[block] = key }
        if blocks[block].count > Self.maxBlock {
            let half = blocks[block].count / 2
            let upper = Array(blocks[block][half...])
            blocks[block].removeSubrange(half...)
            blocks.insert(upper, at: block + 1)
            lasts[block] = blocks[block].last!
            lasts.insert(upper.last!, at: block + 1)
            rebuildTree()
        } else {
            add(block, 1)
        }
    }

    private mutating func removeKey(_ key: Key) {
        guard let (block, offset) = locate(key) else {
            assertionFailure("queue key missing from its blocks")
            return
        }
        blocks[block].remove(at: offset)
        if blocks[block].isEmpty {
            blocks.remove(at: block)
            lasts.remove(at: block)
            rebuildTree()
            return
        }
        lasts[block] = blocks[block].last!
        guard blocks[block].count < Self.minBlock, blocks.count > 1 else {
            add(block, -1)
            return
        }
        // Too small: merge with a neighbour, or even out with it.
        let low = block + 1 < blocks.count ? block : block - 1
        let combined = blocks[low].count + blocks[low + 1].count
        if combined <= Self.maxBlock {
            blocks[low].append(contentsOf: blocks[low + 1])
            blocks.remove(at: low + 1)
            lasts.remove(at: low + 1)
            lasts[low] = blocks[low].last!
        } else {
            let all = blocks[low] + blocks[low + 1]
            let half = all.count / 2
            blocks[low] = Array(all[..<half])
            blocks[low + 1] = Array(all[half...])
            lasts[low] = blocks[low].last!
            lasts[low + 1] = blocks[low + 1].last!
        }
        rebuildTree()
    }

    // MARK: - Fenwick tree over block sizes

    /// Number of keys in `blocks[0..<block]`.
    @inline(__always)
    private func prefix(_ block: Int) -> Int {
        var i = block, sum = 0
        while i > 0 {
            sum &+= tree[i]
            i &= i - 1
        }
        return sum
    }

    @inline(__always)
    private mutating func add(_ block: Int, _ delta: Int) {
        var i = block + 1
        while i < tree.count {
            tree[i] &+= delta
            i &+= i & -i
        }
    }

    /// O(blocks): after a split or merge.
    private mutating func rebuildTree() {
        let n = blocks.count
        tree = [Int](repeating: 0, count: n + 1)
        for i in stride(from: 1, through: n, by: 1) {
            tree[i] &+= blocks[i - 1].count
            let parent = i + (i & -i)
            if parent <= n { tree[parent] &+= tree[i] }
        }
    }

    /// Checks every invariant (for tests): blocks sorted and within bounds,
    /// `lasts` and the Fenwick tree match, every key findable.
    func checkInvariants() -> String? {
        var previous: Key?
        var total = 0
        for (index, block) in blocks.enumerated() {
            if block.isEmpty { return "block \(index) is empty" }
            if block.count > Self.maxBlock { return "block \(index) has \(block.count) keys" }
            if lasts[index] != block.last! { return "lasts[\(index)] is stale" }
            for key in block {
                if let previous, !(previous < key) { return "keys out of order at block \(index)" }
                previous = key
            }
            if prefix(index) != total { return "Fenwick prefix(\(index)) = \(prefix(index)), expected \(total)" }
            total += block.count
        }
        if total != keys.count { return "\(total) keys in blocks, \(keys.count) by number" }
        for (number, key) in keys where key.number != number.rawValue || locate(key) == nil {
            return "\(number) cannot be found"
        }
        return nil
    }
}
