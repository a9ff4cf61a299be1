import Core
import Desk
import StoreCore
import Foundation
import Synchronization

/// The ``DeskStore`` on PostgreSQL (issue 10): several gateway instances
/// share one database. Same protocols, same semantics and same contract
/// suite as the SQLite store (`Store.SQLiteDeskStore`).
///
/// **Connection:** one libpq connection on a thread of its own
/// (``PGThread``): libpq blocks until the server answers, so no call ever
/// runs on the cooperative pool; queued writes share one transaction and
/// one commit (group commit, each write in its own savepoint). A lost
/// connection is logged and re-established before the next call; a write
/// whose connection broke fails with the error (never reported as stored).
///
/// **Ticket creation** is one statement (ticket, `created` event, pages —
/// claimed under the lease when asked — and the next ticket's number taken
/// ahead), atomic by itself; alone in its batch it runs without BEGIN/COMMIT:
/// one round trip and one commit (`Benchmarks/PGBench` compares it with
/// PostgreSQL's own single-row insert rate).
///
/// **Durability:** a write returns after PostgreSQL's `COMMIT` returned,
/// which with the server's default `synchronous_commit = on` means the WAL
/// is flushed.
///
/// **The URL** comes from the configuration's `{ env: }` or `{ file: }`
/// secret, never from the file itself. TLS is libpq's: add
/// `sslmode=verify-full` (and `sslrootcert=…` when the server's CA is not
/// in `~/.postgresql/root.crt`) to the URL and libpq checks the
/// certificate chain and the host name before anything is sent. Errors
/// name the database as `postgresql://user@host:port/db`, never the
/// password.
public final class PostgresDeskStore: DatabaseDeskStore {
    /// Where the store is connected (without the password).
    public let target: String
    let thread: PGThread

    /// Connects to `url`, checks the schema is ours and not newer than this
    /// code, and migrates it. Blocks the caller (once, at start).
    ///
    /// - Parameters:
    ///   - now: recorded as the time of any schema migration applied now.
    ///   - maxBatchedWrites: at most this many queued writes share one
    ///     commit; 1 turns batching off.
    /// - Throws: ``PostgresStoreError`` saying what is wrong.
    public init(url: String, logger: Logger, now: Date = Date(),
                maxBatchedWrites: Int = PostgresDeskStore.defaultMaxBatchedWrites) throws {
        let logger = logger.with(["component": "store"])
        let targetBox = TargetBox()
        thread = try PGThread(name: "switchboard-pg", maxBatch: max(1, maxBatchedWrites),
                              runner: PGBatchRunner(logger: logger)) {
            let db: PGConnection
            do {
                db = try PGConnection(url: url)
            } catch let error as PGError {
                throw PostgresStoreError.cannotConnect(reason: error.message)
            }
            targetBox.set(db.target)
            do {
                try PostgresSchema.migrate(db, now: now, logger: logger)
            } catch {
                db.close()
                throw error
            }
            return db
        }
        target = targetBox.get()
    }

    /// The schema version this code creates and migrates to.
    public static var latestSchemaVersion: Int { PostgresSchema.latestVersion }

    /// How many queued writes share one commit by default.
    public static let defaultMaxBatchedWrites = 256

    deinit {
        thread.close {}
    }

    /// Write transactions and the writes they held since opening, and how
    /// many times the connection was re-established (for metrics and the benchmark).
    public var statistics: (transactions: Int, writes: Int, reconnects: Int) { thread.statistics }

    /// Round trips to a PostgreSQL server made by every store connection
    /// of this process so far (a statement, a prepare, a BEGIN or COMMIT
    /// each count one): the benchmark's round trips per ticket.
    public static var roundTrips: Int { PGConnection.roundTrips.load(ordering: .relaxed) }

    /// What `check-config` reports: connects, reads the schema version
    /// without changing anything, and says whether it is current.
    ///
    /// - Throws: ``PostgresStoreError`` (cannot connect, not ours, too new).
    public static func inspect(url: String) throws -> String {
        let db: PGConnection
        do {
            db = try PGConnection(url: url)
        } catch let error as PGError {
            throw PostgresStoreError.cannotConnect(reason: error.message)
        }
        defer { db.close() }
        let version = try PostgresSchema.currentVersion(db)
        let latest = PostgresSchema.latestVersion
        if version > latest {
            throw PostgresStoreError.databaseTooNew(database: db.target, found: version, supported: latest)
        }
        let server = "PostgreSQL \(db.serverVersion / 10000).\(db.serverVersion % 10000)"
        if version == 0 {
            return "\(db.target) (\(server)): empty, the schema (version \(latest)) will be created at start"
        }
        if version < latest {
            return "\(db.target) (\(server)): schema version \(version), will be migrated to \(latest) at start"
        }
        return "\(db.target) (\(server)): schema version \(version) (current)"
    }

    // MARK: DeskStore (the operations are `StoreCore.DatabaseDeskStore`'s)

    public func read<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await thread.read(body)
    }

    public func write<T: Sendable>(singleStatement: Bool = false,
                                   _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await thread.write(singleStatement: singleStatement, body)
    }

    public func close() async {
        await thread.close()
    }
}

/// Carries the connection's description out of the store thread's `open`.
private final class TargetBox: Sendable {
    private let value = Mutex<String>("PostgreSQL")
    func set(_ text: String) { value.withLock { $0 = text } }
    func get() -> String { value.withLock { $0 } }
}
