import CSQLite
import Core
import Desk
import StoreCore
import Foundation

/// The default ``DeskStore``: one SQLite file (SPEC.md, "Data").
///
/// The file is opened in WAL mode with `synchronous=FULL` (a commit is on
/// disk when it returns, also after a power failure), foreign keys on and a
/// busy timeout of 5 s (another process, e.g. `switchboard tickets`, may hold
/// the write lock for a moment). Before anything is written the file is
/// identified as ours (`PRAGMA application_id`, the schema version in the
/// `schema_migrations` table and in `user_version`); then it is switched to
/// WAL and migrated.
///
/// A commit's WAL pages reach the file in one write (``CoalescingWALVFS``,
/// the VFS every ``SQLiteConnection`` opens with), and the WAL is copied
/// into the database by a second connection on a thread of its own, not by
/// the commit that happens to pass SQLite's limit (``WALCheckpointer``).
///
/// The connection lives on a thread of its own (``StoreThread``), never on
/// the cooperative pool: a call queues a job there and suspends until it is
/// done. Writes queued back to back share one transaction and one durable
/// commit (each in its own savepoint, so one failing write fails alone).
public final class SQLiteDeskStore: DatabaseDeskStore {
    /// The database file.
    public let path: String
    let thread: StoreThread
    /// Copies the WAL into the database off the commit path (``WALCheckpointer``).
    let checkpointer: WALCheckpointer

    /// Opens (creating if needed) the store at `path` and migrates its schema.
    /// Blocks the caller while the file is opened and migrated (once, at start).
    ///
    /// - Parameters:
    ///   - now: recorded as the time of any schema migration applied now.
    ///   - maxBatchedWrites: at most this many queued writes share one
    ///     commit; 1 turns batching off (StoreBench compares the two).
    /// - Throws: ``SQLiteStoreError`` saying what is wrong with the file or
    ///   its directory, or an ``SQLiteError``.
    public convenience init(path: String, logger: Logger, now: Date = Date(),
                            maxBatchedWrites: Int = SQLiteDeskStore.defaultMaxBatchedWrites) throws {
        try self.init(path: path, logger: logger, now: now, maxBatchedWrites: maxBatchedWrites,
                      checkpoints: .standard)
    }

    /// ``init(path:logger:now:maxBatchedWrites:)`` with other checkpoint
    /// limits (tests use small ones).
    init(path: String, logger: Logger, now: Date = Date(),
         maxBatchedWrites: Int = SQLiteDeskStore.defaultMaxBatchedWrites,
         checkpoints: WALCheckpointer.Limits) throws {
        self.path = path
        let logger = logger.with(["component": "store"])
        try Self.checkLocation(path)
        thread = try StoreThread(name: "switchboard-db", maxBatch: max(1, maxBatchedWrites)) {
            try Self.open(path: path, logger: logger, now: now)
        }
        // The file exists and is migrated now; the hook is set on the store
        // thread before any job of a caller runs there.
        let checkpointer = WALCheckpointer(path: path, limits: checkpoints, logger: logger)
        self.checkpointer = checkpointer
        do {
            try thread.readBlocking { db in try checkpointer.attach(to: db) }
        } catch {
            checkpointer.stop()
            thread.closeBlocking()
            throw error
        }
    }

    /// How many queued writes share one commit by default.
    public static let defaultMaxBatchedWrites = 256

    deinit {
        checkpointer.stopLater()
        thread.close {}
    }

    /// How many checkpoints ran in the background and on the committing
    /// connection since the store was opened, and the most pages the WAL
    /// held after a commit (``WALCheckpointer``).
    public var checkpointStatistics: (background: Int, inline: Int, longestWAL: Int) { checkpointer.statistics }

    /// How many write transactions the store thread committed and how many
    /// writes they held since the store was opened (their ratio is the
    /// average batch size; for metrics and StoreBench).
    public var batchStatistics: (transactions: Int, writes: Int) { thread.batchStatistics }

    // MARK: Opening

    static func checkLocation(_ path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var info = stat()
        if stat(directory, &info) != 0 {
            let code = errno
            if code == ENOENT { throw SQLiteStoreError.directoryMissing(path: path, directory: directory) }
            throw SQLiteStoreError.directoryNotWritable(path: path, directory: directory,
                                                        reason: String(cString: strerror(code)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw SQLiteStoreError.notADirectory(path: path, directory: directory)
        }
        if access(directory, W_OK | X_OK) != 0 {
            throw SQLiteStoreError.directoryNotWritable(path: path, directory: directory,
                                                        reason: String(cString: strerror(errno)))
        }
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw SQLiteStoreError.isADirectory(path: path) }
            if access(path, R_OK | W_OK) != 0 {
                throw SQLiteStoreError.fileNotWritable(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }

    /// Runs on the store thread: opens, identifies, configures, migrates.
    private static func open(path: String, logger: Logger, now: Date) throws -> SQLiteConnection {
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path)
        } catch {
            throw SQLiteStoreError.cannotOpen(path: path, reason: "\(error.message) (SQLite code \(error.code))")
        }
        do {
            // Identify the file before changing anything: another program's
            // database, or one from a newer Switchboard, is left as it was
            // (not even switched to WAL).
            let found = try Schema.currentVersion(db)
            guard found <= Schema.latestVersion else {
                throw SQLiteStoreError.databaseTooNew(path: path, found: found, supported: Schema.latestVersion)
            }
            try configure(db)
            try Schema.migrate(db, now: now, logger: logger)
        } catch let error as SQLiteError where error.code == SQLITE_NOTADB {
            db.close()
            throw SQLiteStoreError.notADatabase(path: path, reason: error.message)
        } catch {
            db.close()
            throw error
        }
        return db
    }

    /// The page size of a new store file (SQLite's default is 4096). A
    /// commit writes every B-tree page it changed to the WAL whole and
    /// checksums it there, and a ticket changes a page in each of ~9
    /// B-trees: ~43 KB per ticket at 4096 bytes, ~14 KB at 1024 (StoreBench
    /// (e)), which took ~29 µs less CPU per commit (measured without fsync,
    /// load ~5; 2048: ~13 µs less). Rows longer than ~1 KB (descriptions up
    /// to `descriptionLimit`) spill to overflow pages, still fewer bytes. A
    /// file keeps the size it was created with (only a VACUUM outside WAL
    /// mode changes it), so older stores stay at 4096 and work as before.
    /// Since schema 11 a ticket writes six B-trees, ~8.8 pages per commit
    /// at 1024 (splits and the header page included); at 2048 it would be
    /// ~7.6 pages but ~15.8 KB instead of ~9.4 KB (issue 12, sqlite9).
    static let newFilePageSize = 1024

    private static func configure(_ db: SQLiteConnection) throws {
        // Before WAL mode is set: that is the first write to a new file.
        try db.execute(SQL(portable: "PRAGMA page_size = \(newFilePageSize)"))
        let mode = try db.queryFirst("PRAGMA journal_mode = WAL") { try $0.text(0) } ?? "unknown"
        guard mode.lowercased() == "wal" else {
            throw SQLiteStoreError.walUnavailable(path: db.path, journalMode: mode)
        }
        try db.execute("""
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA journal_size_limit = 67108864;
            PRAGMA trusted_schema = OFF;
            """)
        let synchronous = try db.queryFirst("PRAGMA synchronous") { try $0.int64(0) }
        let foreignKeys = try db.queryFirst("PRAGMA foreign_keys") { try $0.int64(0) }
        guard synchronous == 2, foreignKeys == 1 else {
            throw SQLiteStoreError.unsupportedSQLite(
                path: db.path, detail: "synchronous=FULL and foreign keys are required "
                    + "(got synchronous=\(synchronous.map(String.init) ?? "none"), "
                    + "foreign_keys=\(foreignKeys.map(String.init) ?? "unsupported"))")
        }
    }

    // MARK: DeskStore (the operations are `StoreCore.DatabaseDeskStore`'s)

    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await thread.read(body)
    }

    public func write<T: Sendable>(singleStatement: Bool = false,
                                   _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await thread.write(body)
    }

    public func close() async {
        checkpointer.stop()
        await thread.close()
    }
}
