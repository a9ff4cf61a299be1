import Core
import Desk
import Dispatch
import Foundation
import Synchronization

/// A write job as the worker thread hands it to its ``WorkerBatchRunner``:
/// `perform` runs the caller's body (inside whatever transaction and
/// savepoint the runner opened) and returns its own error (nil if it
/// succeeded) and how to answer the caller once the commit's outcome is
/// known; `fail` answers the caller when the job never ran.
public struct WorkerWrite<Resource>: Sendable {
    public let perform: @Sendable (Resource) -> (error: (any Error)?, answer: @Sendable ((any Error)?) -> Void)
    public let fail: @Sendable (any Error) -> Void
    /// The write changes the database with one statement (atomic by itself):
    /// a runner may run it alone without a transaction block.
    public let singleStatement: Bool
}

/// What differs between the stores' worker threads: how a read and a write
/// body run on the resource, what is checked before each job, and how a
/// batch of queued writes becomes one transaction.
public protocol WorkerBatchRunner<Resource>: Sendable {
    associatedtype Resource
    /// Runs a read's body (e.g. once more after re-establishing a lost connection).
    func read<T>(_ body: (Resource) throws -> T, on resource: Resource) -> Result<T, any Error>
    /// Runs a write's body inside the batch's transaction (e.g. in a savepoint).
    func write<T>(_ body: (Resource) throws -> T, on resource: Resource) -> Result<T, any Error>
    /// Called before each read or write batch (e.g. to notice a closed connection).
    func beforeJob(_ resource: Resource)
    /// Runs `batch` (never empty) in one transaction with one commit, and
    /// answers every job in it, each only after the commit's outcome is known.
    func runBatch(_ batch: [WorkerWrite<Resource>], on resource: Resource)
    /// Closes the resource; the thread ends after this.
    func close(_ resource: Resource)
}

extension WorkerBatchRunner {
    public func read<T>(_ body: (Resource) throws -> T, on resource: Resource) -> Result<T, any Error> {
        Result { try body(resource) }
    }

    public func beforeJob(_ resource: Resource) {}
}

/// The one thread a store's connection lives on (SQLite and PostgreSQL
/// alike). The drivers block — a durable commit waits for the disk, libpq
/// for the server — and doing that on the cooperative pool would stall every
/// task sharing it, so callers queue a job here and are resumed
/// (continuation) or woken (semaphore) when it is done.
///
/// Jobs run in the order they were queued. **Write batching:** the writes
/// queued back to back when the thread looks at its queue (at most
/// ``maxBatch``) go to the runner together, which runs them in one
/// transaction sharing one durable commit (group commit, each in its own
/// savepoint so one failing write fails alone). Every caller is answered
/// only after the commit. A lone write pays nothing extra.
public final class WorkerThread<Runner: WorkerBatchRunner>: Sendable {
    public typealias Resource = Runner.Resource

    private enum Job: Sendable {
        case read(@Sendable (Resource) -> Void)
        case write(WorkerWrite<Resource>)
        /// Closes the resource, then calls the closure; the thread ends.
        case close(@Sendable () -> Void)
    }

    private struct Queue: ~Copyable {
        var jobs: [Job] = []
        var closing = false
        /// See ``holdUntilQueued(_:)``.
        var hold: (remaining: Int, release: DispatchSemaphore)?
    }

    /// At most this many writes share one commit.
    public let maxBatch: Int
    public let runner: Runner
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let closedWaiters = Mutex<(closed: Bool, waiters: [@Sendable () -> Void])>((false, []))
    private let transactions = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)

    /// Starts the thread and runs `open` on it; returns when the resource
    /// is open, or throws what `open` threw (the thread has ended then).
    public init(name: String, maxBatch: Int, runner: Runner,
                open: @escaping @Sendable () throws -> Resource) throws {
        self.maxBatch = max(1, maxBatch)
        self.runner = runner
        let opened = Mutex<Result<Void, any Error>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            nameCurrentThread(name)
            let resource: Resource
            do {
                resource = try open()
                opened.withLock { $0 = .success(()) }
            } catch {
                opened.withLock { $0 = .failure(error) }
                queue.withLock { $0.closing = true }
                ready.signal()
                return
            }
            ready.signal()
            run(resource)
        }
        thread.start()
        ready.wait()
        try opened.withLock { $0 }?.get()
    }

    /// How many write batches ran and how many write jobs they held since
    /// the thread started (ratio = average batch size).
    public var batchStatistics: (transactions: Int, writes: Int) {
        (transactions.load(ordering: .relaxed), writes.load(ordering: .relaxed))
    }

    // MARK: Queueing

    /// Queues `job`; false (job not queued) once the thread is closing.
    private func enqueue(_ job: Job) -> Bool {
        let queued = queue.withLock { queue -> Bool in
            if queue.closing { return false }
            if case .close = job { queue.closing = true }
            queue.jobs.append(job)
            if let hold = queue.hold {
                if hold.remaining <= 1 {
                    hold.release.signal()
                    queue.hold = nil
                } else {
                    queue.hold = (hold.remaining - 1, hold.release)
                }
            }
            return true
        }
        if queued { wakeUp.signal() }
        return queued
    }

    /// Runs `body` on the thread, outside a transaction, and hands its result to `done` there.
    public func submitRead<T: Sendable>(_ body: @escaping @Sendable (Resource) throws -> T,
                                        done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let runner = runner
        let job = Job.read { resource in done(runner.read(body, on: resource)) }
        if !enqueue(job) { done(.failure(TicketStoreError.closed)) }
    }

    /// Runs `body` on the thread inside a write transaction and hands its
    /// result to `done` after the commit. `singleStatement`: see ``WorkerWrite``.
    public func submitWrite<T: Sendable>(singleStatement: Bool = false,
                                         _ body: @escaping @Sendable (Resource) throws -> T,
                                         done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let runner = runner
        let write = WorkerWrite<Resource>(perform: { resource in
            let result = runner.write(body, on: resource)
            let ownError: (any Error)? = if case .failure(let error) = result { error } else { nil }
            return (ownError, { commitError in
                if let commitError, case .success = result { done(.failure(commitError)) } else { done(result) }
            })
        }, fail: { error in done(.failure(error)) }, singleStatement: singleStatement)
        if !enqueue(.write(write)) { done(.failure(TicketStoreError.closed)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (Resource) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitRead(body) { continuation.resume(with: $0) }
        }
    }

    public func write<T: Sendable>(singleStatement: Bool = false,
                                   _ body: @escaping @Sendable (Resource) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitWrite(singleStatement: singleStatement, body) { continuation.resume(with: $0) }
        }
    }

    /// ``read(_:)`` for synchronous callers: blocks the calling thread. Never
    /// call it from the worker thread itself.
    public func readBlocking<T: Sendable>(_ body: @escaping @Sendable (Resource) throws -> T) throws -> T {
        try Self.blocking { done in submitRead(body, done: done) }
    }

    /// ``write(singleStatement:_:)`` for synchronous callers: blocks the calling thread.
    public func writeBlocking<T: Sendable>(_ body: @escaping @Sendable (Resource) throws -> T) throws -> T {
        try Self.blocking { done in submitWrite(body, done: done) }
    }

    private static func blocking<T: Sendable>(
        _ submit: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void
    ) throws -> T {
        let box = Mutex<Result<T, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        submit { result in
            box.withLock { $0 = result }
            finished.signal()
        }
        finished.wait()
        guard let result = box.withLock({ $0 }) else { throw TicketStoreError.closed }
        return try result.get()
    }

    /// For tests of batching: the thread takes no job queued after this
    /// call until `count` jobs are queued, so those jobs are in its queue
    /// together (consecutive writes among them share one transaction).
    /// The hold is checked in the same lock that takes the queue's jobs: a
    /// thread slow to wake cannot take the first of them alone.
    public func holdUntilQueued(_ count: Int) {
        let release = DispatchSemaphore(value: 0)
        queue.withLock { $0.hold = (max(1, count), release) }
    }

    /// Lets the jobs already queued finish, closes the resource and ends
    /// the thread; `done` is called then (at once if it was closed before).
    public func close(done: @escaping @Sendable () -> Void) {
        if !enqueue(.close(done)) {
            // Closed before: wait until the earlier close ran.
            let runNow = closedWaiters.withLock { state -> Bool in
                if state.closed { return true }
                state.waiters.append(done)
                return false
            }
            if runNow { done() }
        }
    }

    public func close() async {
        await withCheckedContinuation { continuation in close { continuation.resume() } }
    }

    public func closeBlocking() {
        let finished = DispatchSemaphore(value: 0)
        close { finished.signal() }
        finished.wait()
    }

    // MARK: The thread

    private func run(_ resource: Resource) {
        while true {
            wakeUp.wait()
            let taken = queue.withLock { queue -> (jobs: [Job], held: DispatchSemaphore?) in
                if let hold = queue.hold { return ([], hold.release) }
                let jobs = queue.jobs
                queue.jobs.removeAll(keepingCapacity: true)
                return (jobs, nil)
            }
            if let held = taken.held {
                // Released by the enqueue that completes the count; that
                // enqueue's signal (still counted) wakes the loop again.
                held.wait()
                continue
            }
            let jobs = taken.jobs
            var index = 0
            while index < jobs.count {
                switch jobs[index] {
                case .read(let read):
                    runner.beforeJob(resource)
                    read(resource)
                    index += 1
                case .write:
                    var batch: [WorkerWrite<Resource>] = []
                    while index < jobs.count, batch.count < maxBatch, case .write(let write) = jobs[index] {
                        batch.append(write)
                        index += 1
                    }
                    transactions.add(1, ordering: .relaxed)
                    writes.add(batch.count, ordering: .relaxed)
                    runner.beforeJob(resource)
                    runner.runBatch(batch, on: resource)
                case .close(let done):
                    runner.close(resource)
                    let waiters = closedWaiters.withLock { state in
                        state.closed = true
                        defer { state.waiters.removeAll() }
                        return state.waiters
                    }
                    done()
                    for waiter in waiters { waiter() }
                    return
                }
            }
        }
    }
}
