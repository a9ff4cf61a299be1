import Desk
import Dispatch
import Foundation
import Synchronization

/// The one thread an SQLite connection lives on. SQLite's API is
/// synchronous and a durable commit waits for the disk (fsync); doing that
/// on the cooperative pool would stall every task sharing it, so callers
/// queue a job here and are resumed (continuation) or woken (semaphore) when
/// it is done.
///
/// Jobs run in the order they were queued. **Write batching:** the write
/// jobs queued back to back when the thread looks at its queue (at most
/// ``maxBatch``) run in one `BEGIN IMMEDIATE` transaction, each in its own
/// savepoint, and share one durable commit. A job that throws undoes only its
/// own savepoint and fails alone; every caller is answered only after the
/// commit, and if the commit fails every job in it gets that error. A lone
/// write pays nothing extra but the savepoint. This is group commit without
/// anyone waiting on a semaphore on the cooperative pool: production gets it
/// whenever the bots write while a commit is on the disk.
final class StoreThread: Sendable {
    /// Runs a read outside any transaction; answers its caller itself.
    typealias Read = @Sendable (SQLiteConnection) -> Void

    /// A write: `perform` runs inside the batch's transaction and savepoint
    /// and returns its own error (nil if it succeeded) and how to answer the
    /// caller once the commit's outcome is known; `fail` answers it when the
    /// job never ran.
    struct Write: Sendable {
        let perform: @Sendable (SQLiteConnection) -> (error: (any Error)?, answer: @Sendable ((any Error)?) -> Void)
        let fail: @Sendable (any Error) -> Void
    }

    enum Job: Sendable {
        case read(Read)
        case write(Write)
        /// Closes the connection, then calls the closure; the thread ends.
        case close(@Sendable () -> Void)
    }

    private struct Queue: ~Copyable {
        var jobs: [Job] = []
        var closing = false
        /// See ``holdUntilQueued(_:)``.
        var hold: (remaining: Int, release: DispatchSemaphore)?
    }

    /// At most this many writes share one commit.
    let maxBatch: Int
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let transactions = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)

    /// Starts the thread and runs `open` on it; returns when the connection
    /// is open, or throws what `open` threw (the thread has ended then).
    init(name: String, maxBatch: Int = 256, open: @escaping @Sendable () throws -> SQLiteConnection) throws {
        self.maxBatch = maxBatch
        let opened = Mutex<Result<Void, any Error>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let db: SQLiteConnection
            do {
                db = try open()
                opened.withLock { $0 = .success(()) }
            } catch {
                opened.withLock { $0 = .failure(error) }
                queue.withLock { $0.closing = true }
                ready.signal()
                return
            }
            ready.signal()
            run(db)
        }
        thread.name = name
        thread.start()
        ready.wait()
        try opened.withLock { $0 }?.get()
    }

    /// How many write transactions committed or failed, and how many write
    /// jobs they held, since the thread started (ratio = average batch size).
    var batchStatistics: (transactions: Int, writes: Int) {
        (transactions.load(ordering: .relaxed), writes.load(ordering: .relaxed))
    }

    // MARK: Queueing

    /// Queues `job`; false (job not queued) once the store is closing.
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
    func submitRead<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T,
                                 done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let job = Job.read { db in done(Result { try body(db) }) }
        if !enqueue(job) { done(.failure(TicketStoreError.closed)) }
    }

    /// Runs `body` on the thread inside a write transaction (its own
    /// savepoint) and hands its result to `done` after the commit.
    func submitWrite<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T,
                                  done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let write = Write(perform: { db in
            let result = Result { try db.savepoint { try body(db) } }
            let ownError: (any Error)? = if case .failure(let error) = result { error } else { nil }
            return (ownError, { commitError in
                if let commitError, case .success = result { done(.failure(commitError)) } else { done(result) }
            })
        }, fail: { error in done(.failure(error)) })
        if !enqueue(.write(write)) { done(.failure(TicketStoreError.closed)) }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitRead(body) { continuation.resume(with: $0) }
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitWrite(body) { continuation.resume(with: $0) }
        }
    }

    /// ``read(_:)`` for synchronous callers: blocks the calling thread. Never
    /// call it from the store thread itself.
    func readBlocking<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) throws -> T {
        try Self.blocking { done in submitRead(body, done: done) }
    }

    /// ``write(_:)`` for synchronous callers: blocks the calling thread.
    func writeBlocking<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) throws -> T {
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

    /// For tests of batching: the thread stops before the next job queued
    /// after this call and goes on only once `count` further jobs are
    /// queued, so those jobs are in its queue together (consecutive writes
    /// among them share one transaction).
    func holdUntilQueued(_ count: Int) {
        let release = DispatchSemaphore(value: 0)
        queue.withLock { $0.hold = (count, release) }
        let job = Job.read { _ in release.wait() }
        queue.withLock { $0.jobs.append(job) }
        wakeUp.signal()
    }

    /// Lets the jobs already queued finish, closes the connection and ends
    /// the thread; `done` is called then (at once if it was closed before).
    func close(done: @escaping @Sendable () -> Void) {
        if !enqueue(.close(done)) {
            // Closed before: wait until the earlier close ran.
            submitAfterClose(done)
        }
    }

    func close() async {
        await withCheckedContinuation { continuation in close { continuation.resume() } }
    }

    func closeBlocking() {
        let finished = DispatchSemaphore(value: 0)
        close { finished.signal() }
        finished.wait()
    }

    private let closedWaiters = Mutex<(closed: Bool, waiters: [@Sendable () -> Void])>((false, []))

    private func submitAfterClose(_ done: @escaping @Sendable () -> Void) {
        let runNow = closedWaiters.withLock { state -> Bool in
            if state.closed { return true }
            state.waiters.append(done)
            return false
        }
        if runNow { done() }
    }

    // MARK: The thread

    private func run(_ db: SQLiteConnection) {
        while true {
            wakeUp.wait()
            let jobs = queue.withLock { queue -> [Job] in
                let jobs = queue.jobs
                queue.jobs.removeAll(keepingCapacity: true)
                return jobs
            }
            var index = 0
            while index < jobs.count {
                switch jobs[index] {
                case .read(let read):
                    read(db)
                    index += 1
                case .write:
                    var batch: [Write] = []
                    while index < jobs.count, batch.count < maxBatch, case .write(let write) = jobs[index] {
                        batch.append(write)
                        index += 1
                    }
                    runBatch(batch, db)
                case .close(let done):
                    db.close()
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

    /// One transaction for `batch` (see the type's doc).
    private func runBatch(_ batch: [Write], _ db: SQLiteConnection) {
        guard !batch.isEmpty else { return }
        transactions.add(1, ordering: .relaxed)
        writes.add(batch.count, ordering: .relaxed)
        do {
            try db.run("BEGIN IMMEDIATE")
        } catch {
            for write in batch { write.fail(error) }
            return
        }
        var answers: [@Sendable ((any Error)?) -> Void] = []
        answers.reserveCapacity(batch.count)
        for (offset, write) in batch.enumerated() {
            let (ownError, answer) = write.perform(db)
            answers.append(answer)
            if db.isAutocommit {
                // SQLite rolled the whole transaction back by itself (I/O
                // error, full disk): nothing of this batch is stored. The
                // jobs not run yet get a transaction of their own.
                let lost = ownError ?? TicketStoreError.invalid("the transaction ended unexpectedly")
                for answer in answers { answer(lost) }
                runBatch(Array(batch[(offset + 1)...]), db)
                return
            }
        }
        do {
            try db.run("COMMIT")
        } catch {
            if !db.isAutocommit { _ = try? db.run("ROLLBACK") }
            for answer in answers { answer(error) }
            return
        }
        for answer in answers { answer(nil) }
    }
}
