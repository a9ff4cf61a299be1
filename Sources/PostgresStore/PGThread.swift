import Core
import Desk
import Dispatch
import Foundation
import Synchronization

/// The one thread the PostgreSQL connection lives on (like the SQLite
/// store's `StoreThread`). libpq's calls block until the server answers;
/// on the cooperative pool that would stall every task sharing it, so
/// callers queue a job here and are resumed when it is done.
///
/// **One connection, not a pool:** every call of one gateway instance runs
/// in the order it was made, as with SQLite, and writes queued back to back
/// (at most ``maxBatch``) share one transaction — each in its own savepoint,
/// so one failing write fails alone — and one durable commit (group commit).
/// That gives more throughput than a pool of connections each waiting for
/// its own commit, and keeps one session per instance for whoever needs a
/// session-bound lock.
///
/// **Lost connections:** before a job runs the thread checks the connection
/// (reading what the server sent meanwhile, without a round trip) and, if
/// it is gone, logs it and reconnects. A job whose connection broke
/// under it fails with the error (for a write, its commit may or may not
/// have happened — the caller is told, never silently answered with
/// success); a read that found the connection lost, and a write batch
/// whose `BEGIN` found it lost (nothing of it was sent), run again once on
/// the new connection. A write the server aborted as one side of a deadlock
/// with another instance (its locks are released with it) runs again once.
final class PGThread: Sendable {
    /// A write: `perform` runs inside the batch's transaction (and, with
    /// others, its own savepoint) and returns its own error and how to
    /// answer the caller once the commit's outcome is known; `fail` answers
    /// it when the job never ran.
    struct Write: Sendable {
        let perform: @Sendable (PGConnection) -> (error: (any Error)?, answer: @Sendable ((any Error)?) -> Void)
        let fail: @Sendable (any Error) -> Void
        /// The write changes the database with one statement (atomic by
        /// itself): alone in its batch it runs without BEGIN and COMMIT,
        /// saving two round trips.
        let singleStatement: Bool
    }

    enum Job: Sendable {
        case read(@Sendable (PGConnection) -> Void)
        case write(Write)
        case close(@Sendable () -> Void)
    }

    private struct Queue: ~Copyable {
        var jobs: [Job] = []
        var closing = false
    }

    let maxBatch: Int
    private let logger: Logger
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let closedWaiters = Mutex<(closed: Bool, waiters: [@Sendable () -> Void])>((false, []))
    private let transactions = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)
    private let reconnects = Atomic<Int>(0)

    /// Starts the thread and runs `open` on it; returns once the connection
    /// is open and migrated, or throws what `open` threw (the thread ended).
    init(name: String, maxBatch: Int, logger: Logger, open: @escaping @Sendable () throws -> PGConnection) throws {
        self.maxBatch = maxBatch
        self.logger = logger
        let opened = Mutex<Result<Void, any Error>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let db: PGConnection
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

    /// Write transactions and the writes they held since the start, and
    /// how many times the connection was re-established.
    var statistics: (transactions: Int, writes: Int, reconnects: Int) {
        (transactions.load(ordering: .relaxed), writes.load(ordering: .relaxed), reconnects.load(ordering: .relaxed))
    }

    // MARK: Queueing

    private func enqueue(_ job: Job) -> Bool {
        let queued = queue.withLock { queue -> Bool in
            if queue.closing { return false }
            if case .close = job { queue.closing = true }
            queue.jobs.append(job)
            return true
        }
        if queued { wakeUp.signal() }
        return queued
    }

    func submitRead<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T,
                                 done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let job = Job.read { [self] db in
            var result = Result { try body(db) }
            if case .failure(let error as PGError) = result, error.connectionLost, reconnect(db, after: error) {
                result = Result { try body(db) }
            }
            done(result)
        }
        if !enqueue(job) { done(.failure(TicketStoreError.closed)) }
    }

    func submitWrite<T: Sendable>(singleStatement: Bool = false,
                                  _ body: @escaping @Sendable (PGConnection) throws -> T,
                                  done: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let write = Write(perform: { db in
            let result = Result { try body(db) }
            let ownError: (any Error)? = if case .failure(let error) = result { error } else { nil }
            return (ownError, { commitError in
                if let commitError, case .success = result { done(.failure(commitError)) } else { done(result) }
            })
        }, fail: { error in done(.failure(error)) }, singleStatement: singleStatement)
        if !enqueue(.write(write)) { done(.failure(TicketStoreError.closed)) }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitRead(body) { continuation.resume(with: $0) }
        }
    }

    /// Runs `body` as a write (see the type's doc). `singleStatement`: the
    /// body changes the database with exactly one statement (it may read
    /// before, e.g. `nextval`), so alone it needs no transaction block.
    func write<T: Sendable>(singleStatement: Bool = false,
                            _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submitWrite(singleStatement: singleStatement, body) { continuation.resume(with: $0) }
        }
    }

    /// Lets the queued jobs finish, closes the connection, ends the thread.
    func close(done: @escaping @Sendable () -> Void) {
        if !enqueue(.close(done)) {
            let runNow = closedWaiters.withLock { state -> Bool in
                if state.closed { return true }
                state.waiters.append(done)
                return false
            }
            if runNow { done() }
        }
    }

    func close() async {
        await withCheckedContinuation { continuation in close { continuation.resume() } }
    }

    // MARK: The thread

    /// Reconnects after `error` lost the connection; false if that failed
    /// (logged; the next job tries again).
    private func reconnect(_ db: PGConnection, after error: PGError?) -> Bool {
        logger.warning("store connection lost; reconnecting",
                       ["database": db.target, "error": error?.message ?? "connection not usable"])
        do {
            try db.reconnect()
            reconnects.add(1, ordering: .relaxed)
            logger.notice("store connection re-established", ["database": db.target])
            return true
        } catch {
            logger.error("store reconnect failed", ["database": db.target, "error": "\(error)"])
            return false
        }
    }

    private func run(_ db: PGConnection) {
        while true {
            wakeUp.wait()
            let jobs = queue.withLock { queue -> [Job] in
                let jobs = queue.jobs
                queue.jobs.removeAll(keepingCapacity: true)
                return jobs
            }
            var index = 0
            while index < jobs.count {
                if case .close = jobs[index] {} else {
                    // A connection the server closed while idle (restart,
                    // pg_terminate_backend) is noticed here, before a
                    // statement is sent on it, at no round trip.
                    db.noticeClosedConnection()
                    if !db.isConnected { _ = reconnect(db, after: nil) }
                }
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

    /// One transaction for `batch`. A lone write runs without a savepoint
    /// (its failure rolls the whole transaction back); several each get one.
    private func runBatch(_ batch: [Write], _ db: PGConnection) {
        guard !batch.isEmpty else { return }
        transactions.add(1, ordering: .relaxed)
        writes.add(batch.count, ordering: .relaxed)
        if batch.count == 1, batch[0].singleStatement {
            // Autocommit: the statement is its own transaction and returns
            // after its durable commit (or fails, and nothing of it stays).
            let (_, answer) = batch[0].perform(db)
            answer(nil)
            return
        }
        do {
            do {
                try db.execute("BEGIN")
            } catch let error as PGError where error.connectionLost {
                // Nothing of the batch was sent: after a reconnect it runs as if nothing happened.
                guard reconnect(db, after: error) else { throw error }
                try db.execute("BEGIN")
            }
        } catch {
            for write in batch { write.fail(error) }
            return
        }
        if batch.count == 1 {
            var (ownError, answer) = batch[0].perform(db)
            if Self.isLockConflict(ownError) {
                // Another instance's transaction and this one waited for
                // each other; the server aborted this one. Run it again.
                do {
                    try db.execute("ROLLBACK; BEGIN")
                    (ownError, answer) = batch[0].perform(db)
                } catch {
                    batch[0].fail(error)
                    return
                }
            }
            if let ownError {
                if db.inTransaction { _ = try? db.execute("ROLLBACK") }
                answer(ownError)
                return
            }
            commit(db, answers: [answer])
            return
        }
        var answers: [@Sendable ((any Error)?) -> Void] = []
        answers.reserveCapacity(batch.count)
        for (offset, write) in batch.enumerated() {
            var lost: (any Error)?
            do {
                try db.execute("SAVEPOINT job")
            } catch {
                lost = error
            }
            if lost == nil {
                var (ownError, answer) = write.perform(db)
                if Self.isLockConflict(ownError) {
                    // Rolling back the savepoint released the locks it took
                    // (the other transaction can go on); run the write again.
                    do {
                        try db.execute("ROLLBACK TO SAVEPOINT job")
                        (ownError, answer) = write.perform(db)
                    } catch {
                        lost = error
                    }
                }
                answers.append(answer)
                if lost == nil {
                    let end = ownError == nil ? "RELEASE SAVEPOINT job"
                        : "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job"
                    do { try db.execute(end) } catch { lost = error }
                }
            } else {
                answers.append({ error in write.fail(error ?? TicketStoreError.closed) })
            }
            if let lost {
                // The transaction is gone (lost connection): nothing of this
                // batch is stored; the rest get a transaction of their own.
                if db.inTransaction { _ = try? db.execute("ROLLBACK") }
                for answer in answers { answer(lost) }
                if !db.isConnected { _ = reconnect(db, after: lost as? PGError) }
                runBatch(Array(batch[(offset + 1)...]), db)
                return
            }
        }
        commit(db, answers: answers)
    }

    /// A deadlock (`40P01`) or serialization failure (`40001`): the write
    /// did nothing and may simply run again.
    private static func isLockConflict(_ error: (any Error)?) -> Bool {
        guard let error = error as? PGError else { return false }
        return error.sqlState == "40P01" || error.sqlState == "40001"
    }

    private func commit(_ db: PGConnection, answers: [@Sendable ((any Error)?) -> Void]) {
        do {
            if db.transactionFailed {
                throw PGError(sqlState: "", message: "the transaction failed before its commit",
                              connectionLost: !db.isConnected)
            }
            try db.execute("COMMIT")
        } catch {
            if db.inTransaction { _ = try? db.execute("ROLLBACK") }
            for answer in answers { answer(error) }
            return
        }
        for answer in answers { answer(nil) }
    }
}
