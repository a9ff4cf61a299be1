/// Why a PIN check was not run. Each is decided at once and costs no hashing.
public enum PINCheckRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// This sender already has as many checks waiting or running as one sender may.
    case senderBusy(limit: Int)
    /// The worker holds as many checks as it may in total.
    case workerFull(limit: Int)
    /// The check was withdrawn before it ran (the conversation ended, or the
    /// caller's task was cancelled).
    case cancelled
    /// The worker was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .senderBusy(let limit): "this sender already has \(limit) PIN check(s) waiting"
        case .workerFull(let limit): "\(limit) PIN checks are waiting already"
        case .cancelled: "the PIN check was withdrawn before it ran"
        case .shutDown: "the PIN checker has shut down"
        }
    }
}

/// The waiting line of PIN checks: round robin by sender, bounded per sender
/// and in total. Pure (no threads, no clock), so the order is tested directly.
///
/// Round robin in the form of start-time fair queueing: every job gets a
/// round number — one after its sender's previous job, but never earlier than
/// the round being served now — and the lowest round is served first (ties:
/// first come). So each sender gets one job per round, and a sender who
/// arrives while another has fifty jobs waiting joins the *current* round:
/// its single job runs next, not after the fifty. A sender whose queue ran
/// dry keeps its place for a moment (its next job lands in the round after
/// its last one), so sending jobs one at a time does not jump the line.
public struct PINCheckQueue<Sender: Hashable & Sendable, Job> {
    /// A job waiting its turn, with the identifier it was enqueued under.
    public struct Entry {
        public var id: UInt64
        public var sender: Sender
        public var job: Job
        var round: UInt64
    }

    /// The most jobs one sender may have waiting or running.
    public let perSenderLimit: Int
    /// The most jobs waiting (not counting running ones).
    public let totalLimit: Int

    private var waiting: [Entry] = []
    private var nextRound: [Sender: UInt64] = [:]
    private var outstanding: [Sender: Int] = [:]
    private var currentRound: UInt64 = 0
    private var nextID: UInt64 = 0

    public init(perSenderLimit: Int, totalLimit: Int) {
        precondition(perSenderLimit > 0 && totalLimit > 0, "queue limits must be positive")
        self.perSenderLimit = perSenderLimit
        self.totalLimit = totalLimit
    }

    /// Jobs waiting (not running).
    public var count: Int { waiting.count }

    /// Jobs of `sender` waiting or running.
    public func outstanding(of sender: Sender) -> Int { outstanding[sender] ?? 0 }

    /// Puts `job` in line for `sender` and returns its identifier, or refuses
    /// it when the sender or the queue is at its limit.
    public mutating func enqueue(_ job: Job, sender: Sender) throws(PINCheckRefusal) -> UInt64 {
        guard outstanding(of: sender) < perSenderLimit else { throw .senderBusy(limit: perSenderLimit) }
        guard waiting.count < totalLimit else { throw .workerFull(limit: totalLimit) }
        nextID += 1
        let round = max(currentRound, nextRound[sender] ?? 0)
        nextRound[sender] = round + 1
        outstanding[sender, default: 0] += 1
        // Stable insertion after every entry of the same or a lower round.
        let index = waiting.lastIndex(where: { $0.round <= round }).map { $0 + 1 } ?? 0
        waiting.insert(Entry(id: nextID, sender: sender, job: job, round: round), at: index)
        return nextID
    }

    /// The next job to run (it stays counted for its sender until
    /// ``finished(sender:)``), or nil when none waits.
    public mutating func dequeue() -> Entry? {
        guard !waiting.isEmpty else { return nil }
        let entry = waiting.removeFirst()
        currentRound = entry.round
        // Senders whose next round has come forget it: they start at the
        // current round anyway, and the table stays as small as the line.
        nextRound = nextRound.filter { $0.value > currentRound }
        return entry
    }

    /// A dequeued job of `sender` has finished.
    public mutating func finished(sender: Sender) {
        release(sender)
    }

    /// Takes every waiting job of `sender` out of line (its conversation
    /// ended) and returns them; running ones are not affected.
    public mutating func removeAll(of sender: Sender) -> [Entry] {
        let removed = waiting.filter { $0.sender == sender }
        waiting.removeAll { $0.sender == sender }
        // The sender keeps its round: ending a conversation and starting
        // another must not move it up the line.
        for _ in removed { release(sender) }
        return removed
    }

    /// Takes the waiting job `id` out of line; nil when it is not waiting.
    public mutating func remove(id: UInt64) -> Entry? {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return nil }
        let entry = waiting.remove(at: index)
        release(entry.sender)
        return entry
    }

    private mutating func release(_ sender: Sender) {
        let left = outstanding(of: sender) - 1
        outstanding[sender] = left > 0 ? left : nil
    }
}

extension PINCheckQueue: Sendable where Job: Sendable {}
extension PINCheckQueue.Entry: Sendable where Job: Sendable {}
