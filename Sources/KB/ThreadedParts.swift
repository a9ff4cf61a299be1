import Foundation
import Synchronization

/// Work cut into parts, each run on a thread of its own, whose results come
/// back in part order: the index build's per-article analysis
/// (``ArticleAnalysis``) and the dictionary pass
/// (``DictionaryTranslations/startPass(_:termIDs:parts:)``). Whoever merges
/// the results in part order gets the same answer whatever the number of
/// parts.
///
/// Plain threads, not Dispatch's pool or Swift tasks: the callers are
/// synchronous (a reload waits for its index), a part runs for tens to
/// hundreds of milliseconds, and the pool's threads are left to the
/// gateway's own work meanwhile.
final class ThreadedParts<Part: Sendable>: Sendable {
    /// Each part's result, set by its thread before it signals `done`.
    private let finished: Mutex<[Part?]>
    private let started: Range<Int>
    private let done = DispatchSemaphore(value: 0)

    /// The most parts one piece of work is cut into: more threads than the
    /// machine's cores only add each part's tables, and beyond four the
    /// merge (on one thread) starts to eat what the parts save.
    static var maximumParts: Int { 4 }

    /// How many parts `bytes` of input are cut into: one per core, at most
    /// ``maximumParts``, and none smaller than `minimumBytes` (a test's or
    /// a small knowledge base's few kilobytes stay on the caller's thread).
    static func count(bytes: Int, minimumBytes: Int) -> Int {
        max(1, min(maximumParts, ProcessInfo.processInfo.activeProcessorCount, bytes / max(1, minimumBytes)))
    }

    /// Starts `body(n)` for each `n` in `parts` on a thread of its own
    /// (1 MB of stack each).
    init(_ parts: Range<Int>, _ body: @escaping @Sendable (Int) -> Part) {
        finished = Mutex(Array(repeating: nil, count: parts.count))
        started = parts
        for n in parts {
            let thread = Thread { [self] in
                let result = body(n)
                finished.withLock { $0[n - parts.lowerBound] = result }
                done.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Waits for every part and returns their results in part order. Called once.
    func results() -> [Part] {
        for _ in started { done.wait() }
        return finished.withLock { finished in
            defer { finished = [] }
            return finished.map { $0! }
        }
    }

    /// `body(n)` for each `n` in `0..<count`, in part order: part 0 on the
    /// calling thread, the others on threads of their own meanwhile.
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Part) -> [Part] {
        guard count > 1 else { return count == 1 ? [body(0)] : [] }
        let others = ThreadedParts(1..<count, body)
        let first = body(0)
        return [first] + others.results()
    }
}
