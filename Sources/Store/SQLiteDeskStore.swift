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
/// The connection lives on a thread of its own (``StoreThread``), never on
/// the cooperative pool: a call queues a job there and suspends until it is
/// done. Writes queued back to back share one transaction and one durable
/// commit (each in its own savepoint, so one failing write fails alone).
public final class SQLiteDeskStore: DeskStore {
    /// The database file.
    public let path: String
    let thread: StoreThread

    /// Opens (creating if needed) the store at `path` and migrates its schema.
    /// Blocks the caller while the file is opened and migrated (once, at start).
    ///
    /// - Parameters:
    ///   - now: recorded as the time of any schema migration applied now.
    ///   - maxBatchedWrites: at most this many queued writes share one
    ///     commit; 1 turns batching off (StoreBench compares the two).
    /// - Throws: ``SQLiteStoreError`` saying what is wrong with the file or
    ///   its directory, or an ``SQLiteError``.
    public init(path: String, logger: Logger, now: Date = Date(),
                maxBatchedWrites: Int = SQLiteDeskStore.defaultMaxBatchedWrites) throws {
        self.path = path
        let logger = logger.with(["component": "store"])
        try Self.checkLocation(path)
        thread = try StoreThread(name: "switchboard-db", maxBatch: max(1, maxBatchedWrites)) {
            try Self.open(path: path, logger: logger, now: now)
        }
    }

    /// How many queued writes share one commit by default.
    public static let defaultMaxBatchedWrites = 256

    deinit {
        thread.close {}
    }

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

    private static func configure(_ db: SQLiteConnection) throws {
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

    // MARK: DeskStore

    public func schemaVersion() async throws -> Int {
        try await thread.read { db in try Schema.currentVersion(db) }
    }

    public func close() async {
        await thread.close()
    }

    // MARK: Tickets

    public func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                             makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) async throws -> TicketCommit {
        try await thread.write { db in
            try SQLiteOperations.insertTicket(db, ticket, claim: claim, makePages: makePages)
        }
    }

    public func ticket(_ number: TicketNumber) async throws -> StoredTicket? {
        try await thread.read { db in try SQLiteOperations.readTicket(db, number) }
    }

    public func events(of number: TicketNumber) async throws -> [TicketEvent] {
        try await thread.read { db in try SQLiteOperations.events(db, of: number) }
    }

    public func openTickets() async throws -> [StoredTicket] {
        try await thread.read { db in try SQLiteOperations.openTickets(db) }
    }

    public func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in
            try SQLiteOperations.tickets(db, contact: contact, openOnly: openOnly, limit: limit)
        }
    }

    public func tickets(customerNumber: String, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in
            try SQLiteOperations.tickets(db, customerNumber: customerNumber, openOnly: openOnly, limit: limit)
        }
    }

    public func recentTickets(limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in try SQLiteOperations.recentTickets(db, limit: limit) }
    }

    public func tickets(createdFrom from: Date, until: Date, limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in try SQLiteOperations.tickets(db, createdFrom: from, until: until, limit: limit) }
    }

    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft], cancelUnsentPages: Bool
    ) async throws -> TicketCommit {
        try await thread.write { db in
            try SQLiteOperations.updateTicket(db, ticket, expectedVersion: expectedVersion, events: events,
                                              pages: pages, cancelUnsentPages: cancelUnsentPages)
        }
    }

    // MARK: Outbox

    public func pendingPages(dueBy: Date, limit: Int) async throws -> [PageRecord] {
        try await thread.read { db in try SQLiteOperations.pendingPages(db, dueBy: dueBy, limit: limit) }
    }

    public func nextPageDue() async throws -> Date? {
        try await thread.read { db in try SQLiteOperations.nextPageDue(db) }
    }

    public func pages(of number: TicketNumber) async throws -> [PageRecord] {
        try await thread.read { db in try SQLiteOperations.pages(db, of: number) }
    }

    public func markPageSent(_ id: PageID, at: Date) async throws {
        try await thread.write { db in try SQLiteOperations.markPageSent(db, id, at: at) }
    }

    public func markPageFailed(_ id: PageID, error: String, retryAt: Date) async throws {
        try await thread.write { db in try SQLiteOperations.markPageFailed(db, id, error: error, retryAt: retryAt) }
    }

    public func escalationSteps(of number: TicketNumber) async throws -> Set<Int> {
        try await thread.read { db in try SQLiteOperations.escalationSteps(db, of: number) }
    }

    // MARK: Roster overrides

    public func addRosterOverride(_ draft: RosterOverrideDraft) async throws -> SavedRosterOverride {
        try await thread.write { db in try SQLiteOperations.addRosterOverride(db, draft) }
    }

    public func rosterOverrides(activeAt instant: Date) async throws -> [SavedRosterOverride] {
        try await thread.read { db in try SQLiteOperations.rosterOverrides(db, activeAt: instant) }
    }

    public func rosterOverrides(endingAfter instant: Date) async throws -> [SavedRosterOverride] {
        try await thread.read { db in try SQLiteOperations.rosterOverrides(db, endingAfter: instant) }
    }

    @discardableResult
    public func removeRosterOverride(_ id: RosterOverrideID) async throws -> Bool {
        try await thread.write { db in try SQLiteOperations.removeRosterOverride(db, id) }
    }

    // MARK: Counters

    @discardableResult
    public func incrementCounter(_ name: String, key: String, by delta: Int64) async throws -> Int64 {
        try await thread.write { db in try SQLiteOperations.incrementCounter(db, name, key: key, by: delta) }
    }

    public func counters(_ name: String) async throws -> [String: Int64] {
        try await thread.read { db in try SQLiteOperations.counters(db, name) }
    }

    // MARK: Network state

    public func networkState(network: String, key: String) async throws -> String? {
        try await thread.read { db in try SQLiteOperations.networkState(db, network: network, key: key) }
    }

    public func setNetworkState(network: String, key: String, value: String) async throws {
        let now = Date()
        try await thread.write { db in
            try SQLiteOperations.setNetworkState(db, network: network, key: key, value: value, at: now)
        }
    }

    // MARK: PIN checks

    public func reservePINCheck(customerNumber: String, identity: ChatIdentity, at: Date, policy: PINAttemptPolicy)
        async throws -> PINReservation {
        try await thread.write { db in
            try SQLiteOperations.reservePINCheck(db, customerNumber: customerNumber, identity: identity, at: at,
                                                 policy: policy)
        }
    }

    public func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) async throws {
        try await thread.write { db in try SQLiteOperations.finishPINCheck(db, id, outcome: outcome, at: at) }
    }

    public func pinAttackState(customerNumber: String, at: Date, policy: PINAttemptPolicy) async throws
        -> PINAttackState {
        try await thread.read { db in
            try SQLiteOperations.pinAttackState(db, customerNumber: customerNumber, at: at, policy: policy)
        }
    }

    // MARK: Conversations

    public func saveConversation(_ snapshot: ConversationSnapshot) async throws {
        try await thread.write { db in try SQLiteOperations.saveConversation(db, snapshot) }
    }

    public func conversations(unexpiredAt instant: Date) async throws -> [ConversationSnapshot] {
        try await thread.read { db in try SQLiteOperations.conversations(db, unexpiredAt: instant) }
    }

    @discardableResult
    public func deleteConversation(_ key: ConversationKey) async throws -> Bool {
        try await thread.write { db in try SQLiteOperations.deleteConversation(db, key) }
    }

    @discardableResult
    public func deleteExpiredConversations(at instant: Date) async throws -> Int {
        try await thread.write { db in try SQLiteOperations.deleteExpiredConversations(db, at: instant) }
    }
}

// MARK: - Lease (see `LeaseStore`; expiry by the caller's `now`)

extension SQLiteDeskStore {
    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await thread.write { db in try SQLiteOperations.acquireLease(db, name, holder: holder, ttl: ttl, now: now) }
    }

    public func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) async throws
        -> LeaseGrant? {
        try await thread.write { db in try SQLiteOperations.renewLease(db, name, token: token, ttl: ttl, now: now) }
    }

    @discardableResult
    public func releaseLease(_ name: String, token: FencingToken, now: Date) async throws -> Bool {
        try await thread.write { db in try SQLiteOperations.releaseLease(db, name, token: token, now: now) }
    }

    public func lease(_ name: String) async throws -> LeaseGrant? {
        try await thread.read { db in try SQLiteOperations.readLease(db, name) }
    }

    public func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) async throws
        -> [PageID: PageClaim] {
        try await thread.write { db in
            try SQLiteOperations.claimPages(db, ids, lease: name, token: token, now: now)
        }
    }
}
