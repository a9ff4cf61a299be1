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
/// commit fails every job in it gets that error. A lone write needs no
/// savepoint: if it throws, its transaction is rolled back. This is group
/// commit without anyone waiting on a semaphore on the cooperative pool:
/// production gets it whenever writes are queued while a commit is on the
/// disk (the bot runtime itself writes one at a time).
struct SQLiteBatchRunner: WorkerBatchRunner {
    func write<T>(_ body: (SQLiteConnection) throws -> T, on db: SQLiteConnection) -> Result<T, any Error> {
        Result { try body(db) }
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
        if batch.count == 1 {
            let (ownError, answer) = batch[0].perform(db)
            if let ownError {
                if !db.isAutocommit { _ = try? db.run("ROLLBACK") }
                answer(ownError)
                return
            }
            commit(db, answers: [answer])
            return
        }
        var answers: [@Sendable ((any Error)?) -> Void] = []
        answers.reserveCapacity(batch.count)
        for (offset, write) in batch.enumerated() {
            let (ownError, answer) = Self.inSavepoint(write, db)
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
        commit(db, answers: answers)
    }

    /// Runs `write` in a savepoint of the batch's transaction: its error
    /// undoes only what it did.
    private static func inSavepoint(_ write: WorkerWrite<SQLiteConnection>, _ db: SQLiteConnection)
        -> (error: (any Error)?, answer: @Sendable ((any Error)?) -> Void) {
        do {
            try db.run("SAVEPOINT switchboard_job")
        } catch {
            return (error, { _ in write.fail(error) })
        }
        let (ownError, answer) = write.perform(db)
        if db.isAutocommit { return (ownError, answer) }  // the transaction is gone: the batch handles it
        var failure = ownError
        if failure == nil {
            do {
                try db.run("RELEASE switchboard_job")
                return (nil, answer)
            } catch {
                failure = error
            }
        }
        // Roll back to the savepoint and remove it; if even that fails the
        // batch's transaction is rolled back at its commit.
        _ = try? db.run("ROLLBACK TO switchboard_job")
        _ = try? db.run("RELEASE switchboard_job")
        let lost = failure
        return (lost, { commitError in answer(commitError ?? lost) })
    }

    private func commit(_ db: SQLiteConnection, answers: [@Sendable ((any Error)?) -> Void]) {
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
