import Core
import Desk
import StoreCore
import Synchronization

/// The thread the PostgreSQL connection lives on: the shared
/// ``WorkerThread`` (libpq's calls block until the server answers, so no
/// call runs on the cooperative pool) with PostgreSQL's batch runner.
///
/// **One connection, not a pool:** every call of one gateway instance runs
/// in the order it was made, as with SQLite, and writes queued back to back
/// (at most ``WorkerThread/maxBatch``) share one transaction — each in its
/// own savepoint, so one failing write fails alone — and one durable commit
/// (group commit). That gives more throughput than a pool of connections
/// each waiting for its own commit, and keeps one session per instance for
/// whoever needs a session-bound lock.
typealias PGThread = WorkerThread<PGBatchRunner>

extension WorkerThread where Runner == PGBatchRunner {
    /// Write transactions and the writes they held since the start, and
    /// how many times the connection was re-established.
    var statistics: (transactions: Int, writes: Int, reconnects: Int) {
        let batches = batchStatistics
        return (batches.transactions, batches.writes, runner.reconnects.load(ordering: .relaxed))
    }
}

/// PostgreSQL's side of the worker thread.
///
/// **Lost connections:** before a job runs the connection is checked
/// (reading what the server sent meanwhile, without a round trip) and, if
/// it is gone, the loss is logged and the connection re-established. A job
/// whose connection broke under it fails with the error (for a write, its
/// commit may or may not have happened — the caller is told, never silently
/// answered with success); a read that found the connection lost, and a
/// write batch whose `BEGIN` found it lost (nothing of it was sent), run
/// again once on the new connection. A write the server aborted as one side
/// of a deadlock with another instance (its locks are released with it)
/// runs again once.
final class PGBatchRunner: WorkerBatchRunner {
    private let logger: Logger
    let reconnects = Atomic<Int>(0)

    init(logger: Logger) {
        self.logger = logger
    }

    func read<T>(_ body: (PGConnection) throws -> T, on db: PGConnection) -> Result<T, any Error> {
        var result = Result { try body(db) }
        if case .failure(let error as PGError) = result, error.connectionLost, reconnect(db, after: error) {
            result = Result { try body(db) }
        }
        return result
    }

    func write<T>(_ body: (PGConnection) throws -> T, on db: PGConnection) -> Result<T, any Error> {
        Result { try body(db) }
    }

    /// A connection the server closed while idle (restart,
    /// pg_terminate_backend) is noticed here, before a statement is sent on
    /// it, at no round trip.
    func beforeJob(_ db: PGConnection) {
        db.noticeClosedConnection()
        if !db.isConnected { _ = reconnect(db, after: nil) }
    }

    func close(_ db: PGConnection) { db.close() }

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

    /// One transaction for `batch`. A lone write runs without a savepoint
    /// (its failure rolls the whole transaction back); several each get one.
    func runBatch(_ batch: [WorkerWrite<PGConnection>], on db: PGConnection) {
        guard !batch.isEmpty else { return }
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
                runBatch(Array(batch[(offset + 1)...]), on: db)
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
