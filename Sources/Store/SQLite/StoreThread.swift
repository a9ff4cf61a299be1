import Desk
import StoreCore

/// The thread the SQLite connection lives on: the shared ``WorkerThread``
/// with SQLite's way of running a batch of writes.
typealias StoreThread = WorkerThread<SQLiteBatchRunner>

extension WorkerThread where Runner == SQLiteBatchRunner {
    /// Starts the thread and opens the connection on it (see ``WorkerThread/init(name:maxBatch:runner:open:)``).
    convenience init(name: String, maxBatch: Int = 256, open: @escaping @Sendable () throws -> SQLiteConnection) throws {
        try self.init(name: name, maxBatch: maxBatch, runner: SQLiteBatchRunner(), open: open)
    }
}

/// SQLite's write batches: the queued writes run in one `BEGIN IMMEDIATE`
/// transaction, each in its own savepoint, and share one durable commit. A
/// job that throws undoes only its own savepoint and fails alone; if the
/// commit fails every job in it gets that error. This is group commit
/// without anyone waiting on a semaphore on the cooperative pool:
/// production gets it whenever the bots write while a commit is on the disk.
struct SQLiteBatchRunner: WorkerBatchRunner {
    func write<T>(_ body: (SQLiteConnection) throws -> T, on db: SQLiteConnection) -> Result<T, any Error> {
        Result { try db.savepoint { try body(db) } }
    }

    func close(_ db: SQLiteConnection) { db.close() }

    func runBatch(_ batch: [WorkerWrite<SQLiteConnection>], on db: SQLiteConnection) {
        guard !batch.isEmpty else { return }
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
                runBatch(Array(batch[(offset + 1)...]), on: db)
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
