import Core
import Foundation
import Synchronization

/// Runs PIN checks (PBKDF2: slow on purpose, a CPU lever for an attacker) on
/// a few threads of its own, so hashing can never starve anyone:
///
/// - the checks run on `threads` dedicated threads, not on Swift's
///   cooperative pool, so conversations, agent commands and timers never
///   wait for a hash (issue 14, item 3);
/// - senders are served round robin (``PINCheckQueue``): one sender's many
///   attempts wait behind everyone else's single one, so a flood from one
///   sender delays another customer's check by at most the hash running now;
/// - each sender may have only `perSenderLimit` checks waiting or running,
///   and the line holds at most `totalLimit`; past either the check is
///   refused at once (``PINCheckRefusal``) and costs no hashing;
/// - a sender's waiting checks are withdrawn when their conversation ends
///   (``cancel(sender:)``), and a check is withdrawn when its caller's task
///   is cancelled.
///
/// Generic over the hash, so tests inject a fake they control and the
/// runtime passes `{ customers.verifyPIN(number: $0.number, pin: $0.pin) }`
/// (or the verifier protocol). The threads live until ``shutDown()``.
public final class PINCheckWorker<Sender: Hashable & Sendable, Job: Sendable, Output: Sendable>: Sendable {
    /// The slow function the worker runs for each job, on one of its threads.
    public typealias Hash = @Sendable (Job) -> Output

    /// What the worker holds and has done, for metrics and tests.
    public struct Statistics: Sendable, Hashable {
        /// Checks waiting their turn.
        public var waiting: Int
        /// Checks hashing now.
        public var running: Int
        /// Checks run to the end since the start.
        public var checked: Int
        /// Checks refused at once (sender or worker at its limit).
        public var refused: Int
        /// Checks withdrawn before they ran.
        public var withdrawn: Int
    }

    private struct Pending: Sendable {
        var job: Job
        var continuation: CheckedContinuation<Output, any Error>
    }

    private struct State: Sendable {
        var queue: PINCheckQueue<Sender, Pending>
        var running = 0
        var checked = 0
        var refused = 0
        var withdrawn = 0
        var isShutDown = false
    }

    /// Threads hashing at once.
    public let threadCount: Int
    private let state: Mutex<State>
    private let wake = DispatchSemaphore(value: 0)
    private let hash: Hash

    /// Starts `threads` hashing threads.
    /// - Parameters:
    ///   - threads: checks hashing at once. The default leaves one core to
    ///     everything else (at least one thread).
    ///   - perSenderLimit: checks one sender may have waiting or running; an
    ///     honest customer has one at a time.
    ///   - totalLimit: checks waiting in all.
    ///   - hash: the check itself, run on the worker's threads.
    public init(threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1),
                perSenderLimit: Int = 2, totalLimit: Int = 100, hash: @escaping Hash) {
        precondition(threads > 0, "a PIN check worker needs at least one thread")
        threadCount = threads
        state = Mutex(State(queue: PINCheckQueue(perSenderLimit: perSenderLimit, totalLimit: totalLimit)))
        self.hash = hash
        for index in 0..<threads {
            let thread = Thread { [self] in
                nameCurrentThread("pin-check-\(index)")
                self.serve()
            }
            thread.start()
        }
    }

    /// Runs `job` for `sender` when its turn comes and returns the hash's
    /// result. Throws at once when the sender or the line is at its limit,
    /// and when the check is withdrawn (``cancel(sender:)``, the calling
    /// task cancelled, ``shutDown()``) before it ran. A check that has
    /// started runs to the end.
    public func check(sender: Sender, _ job: Job) async throws(PINCheckRefusal) -> Output {
        // The call's place in line, shared with the cancellation handler
        // (which may run before or while the job is put in line).
        let ticket = Mutex<(id: UInt64?, cancelled: Bool)>((nil, false))
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
                    let refusal: PINCheckRefusal? = ticket.withLock { ticket in
                        if ticket.cancelled { return .cancelled }
                        return state.withLock { s -> PINCheckRefusal? in
                            if s.isShutDown { return .shutDown }
                            do throws(PINCheckRefusal) {
                                ticket.id = try s.queue.enqueue(Pending(job: job, continuation: continuation),
                                                                sender: sender)
                                return nil
                            } catch {
                                s.refused += 1
                                return error
                            }
                        }
                    }
                    if let refusal {
                        continuation.resume(throwing: refusal)
                    } else {
                        wake.signal()
                    }
                }
            } onCancel: {
                let id = ticket.withLock { ticket -> UInt64? in
                    ticket.cancelled = true
                    return ticket.id
                }
                guard let id else { return }
                let withdrawn = state.withLock { s -> Pending? in
                    let entry = s.queue.remove(id: id)
                    if entry != nil { s.withdrawn += 1 }
                    return entry?.job
                }
                withdrawn?.continuation.resume(throwing: PINCheckRefusal.cancelled)
            }
        } catch let refusal as PINCheckRefusal {
            throw refusal
        } catch {
            throw .cancelled
        }
    }

    /// Withdraws every waiting check of `sender` (its conversation ended);
    /// their callers get ``PINCheckRefusal/cancelled``. A check already
    /// hashing runs to the end. Returns how many were withdrawn.
    @discardableResult
    public func cancel(sender: Sender) -> Int {
        let removed = state.withLock { s -> [Pending] in
            let entries = s.queue.removeAll(of: sender).map(\.job)
            s.withdrawn += entries.count
            return entries
        }
        for pending in removed { pending.continuation.resume(throwing: PINCheckRefusal.cancelled) }
        return removed.count
    }

    /// Refuses new checks, withdraws the waiting ones and lets the threads
    /// end once their current hash is done.
    public func shutDown() {
        let removed = state.withLock { s -> [Pending] in
            s.isShutDown = true
            var entries: [Pending] = []
            while let entry = s.queue.dequeue() {
                s.queue.finished(sender: entry.sender)
                entries.append(entry.job)
            }
            return entries
        }
        for pending in removed { pending.continuation.resume(throwing: PINCheckRefusal.shutDown) }
        for _ in 0..<threadCount { wake.signal() }
    }

    /// The counts now.
    public var statistics: Statistics {
        state.withLock { s in
            Statistics(waiting: s.queue.count, running: s.running, checked: s.checked, refused: s.refused,
                       withdrawn: s.withdrawn)
        }
    }

    private enum Next {
        case run(PINCheckQueue<Sender, Pending>.Entry)
        case idle
        case stop
    }

    /// One thread's loop: wait for work, hash, hand back the result.
    private func serve() {
        while true {
            wake.wait()
            let next = state.withLock { s -> Next in
                if s.isShutDown { return .stop }
                guard let entry = s.queue.dequeue() else { return .idle }  // withdrawn meanwhile
                s.running += 1
                return .run(entry)
            }
            switch next {
            case .stop: return
            case .idle: continue
            case .run(let entry):
                let output = hash(entry.job.job)
                state.withLock { s in
                    s.running -= 1
                    s.checked += 1
                    s.queue.finished(sender: entry.sender)
                }
                entry.job.continuation.resume(returning: output)
            }
        }
    }
}
