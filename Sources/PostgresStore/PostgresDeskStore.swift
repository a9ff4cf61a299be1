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
public final class PostgresDeskStore: DeskStore {
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

    // MARK: DeskStore

    public func schemaVersion() async throws -> Int {
        try await thread.read { db in try PostgresSchema.currentVersion(db) }
    }

    public func close() async {
        await thread.close()
    }

    // MARK: Tickets

    public func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                             makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) async throws -> TicketCommit {
        try await thread.write(singleStatement: true) { db in
            try PostgresOperations.insertTicket(db, ticket, claim: claim, makePages: makePages)
        }
    }

    public func ticket(_ number: TicketNumber) async throws -> StoredTicket? {
        try await thread.read { db in try PostgresOperations.readTicket(db, number) }
    }

    public func events(of number: TicketNumber) async throws -> [TicketEvent] {
        try await thread.read { db in try PostgresOperations.events(db, of: number) }
    }

    public func openTickets() async throws -> [StoredTicket] {
        try await thread.read { db in try PostgresOperations.openTickets(db) }
    }

    public func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in
            try PostgresOperations.tickets(db, contact: contact, openOnly: openOnly, limit: limit)
        }
    }

    public func tickets(customerNumber: String, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in
            try PostgresOperations.tickets(db, customerNumber: customerNumber, openOnly: openOnly, limit: limit)
        }
    }

    public func recentTickets(limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in try PostgresOperations.recentTickets(db, limit: limit) }
    }

    public func tickets(createdFrom from: Date, until: Date, limit: Int) async throws -> [StoredTicket] {
        try await thread.read { db in
            try PostgresOperations.tickets(db, createdFrom: from, until: until, limit: limit)
        }
    }

    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft], cancelUnsentPages: Bool
    ) async throws -> TicketCommit {
        try await thread.write { db in
            try PostgresOperations.updateTicket(db, ticket, expectedVersion: expectedVersion, events: events,
                                              pages: pages, cancelUnsentPages: cancelUnsentPages)
        }
    }

    // MARK: Outbox

    public func pendingPages(dueBy: Date, limit: Int) async throws -> [PageRecord] {
        try await thread.read { db in try PostgresOperations.pendingPages(db, dueBy: dueBy, limit: limit) }
    }

    public func nextPageDue() async throws -> Date? {
        try await thread.read { db in try PostgresOperations.nextPageDue(db) }
    }

    public func pages(of number: TicketNumber) async throws -> [PageRecord] {
        try await thread.read { db in try PostgresOperations.pages(db, of: number) }
    }

    public func markPageSent(_ id: PageID, at: Date) async throws {
        try await thread.write { db in try PostgresOperations.markPageSent(db, id, at: at) }
    }

    public func markPageFailed(_ id: PageID, error: String, retryAt: Date) async throws {
        try await thread.write { db in try PostgresOperations.markPageFailed(db, id, error: error, retryAt: retryAt) }
    }

    public func escalationSteps(of number: TicketNumber) async throws -> Set<Int> {
        try await thread.read { db in try PostgresOperations.escalationSteps(db, of: number) }
    }

    // MARK: Roster overrides

    public func addRosterOverride(_ draft: RosterOverrideDraft) async throws -> SavedRosterOverride {
        try await thread.write { db in try PostgresOperations.addRosterOverride(db, draft) }
    }

    public func rosterOverrides(activeAt instant: Date) async throws -> [SavedRosterOverride] {
        try await thread.read { db in try PostgresOperations.rosterOverrides(db, activeAt: instant) }
    }

    public func rosterOverrides(endingAfter instant: Date) async throws -> [SavedRosterOverride] {
        try await thread.read { db in try PostgresOperations.rosterOverrides(db, endingAfter: instant) }
    }

    @discardableResult
    public func removeRosterOverride(_ id: RosterOverrideID) async throws -> Bool {
        try await thread.write { db in try PostgresOperations.removeRosterOverride(db, id) }
    }

    // MARK: Counters

    @discardableResult
    public func incrementCounter(_ name: String, key: String, by delta: Int64) async throws -> Int64 {
        try await thread.write { db in try PostgresOperations.incrementCounter(db, name, key: key, by: delta) }
    }

    public func counters(_ name: String) async throws -> [String: Int64] {
        try await thread.read { db in try PostgresOperations.counters(db, name) }
    }

    // MARK: PIN checks

    public func reservePINCheck(customerNumber: String, identity: ChatIdentity, at: Date, policy: PINAttemptPolicy)
        async throws -> PINReservation {
        try await thread.write { db in
            try PostgresOperations.reservePINCheck(db, customerNumber: customerNumber, identity: identity, at: at,
                                                 policy: policy)
        }
    }

    public func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) async throws {
        try await thread.write { db in try PostgresOperations.finishPINCheck(db, id, outcome: outcome, at: at) }
    }

    public func pinAttackState(customerNumber: String, at: Date, policy: PINAttemptPolicy) async throws
        -> PINAttackState {
        try await thread.read { db in
            try PostgresOperations.pinAttackState(db, customerNumber: customerNumber, at: at, policy: policy)
        }
    }

    // MARK: Conversations

    public func saveConversation(_ snapshot: ConversationSnapshot) async throws {
        try await thread.write { db in try PostgresOperations.saveConversation(db, snapshot) }
    }

    public func conversations(unexpiredAt instant: Date) async throws -> [ConversationSnapshot] {
        try await thread.read { db in try PostgresOperations.conversations(db, unexpiredAt: instant) }
    }

    @discardableResult
    public func deleteConversation(_ key: ConversationKey) async throws -> Bool {
        try await thread.write { db in try PostgresOperations.deleteConversation(db, key) }
    }

    @discardableResult
    public func deleteExpiredConversations(at instant: Date) async throws -> Int {
        try await thread.write { db in try PostgresOperations.deleteExpiredConversations(db, at: instant) }
    }

    // MARK: Network state

    public func networkState(network: String, key: String) async throws -> String? {
        try await thread.read { db in try PostgresOperations.networkState(db, network: network, key: key) }
    }

    public func setNetworkState(network: String, key: String, value: String) async throws {
        let now = Date()
        try await thread.write { db in
            try PostgresOperations.setNetworkState(db, network: network, key: key, value: value, at: now)
        }
    }
}

/// Carries the connection's description out of the store thread's `open`.
private final class TargetBox: Sendable {
    private let value = Mutex<String>("PostgreSQL")
    func set(_ text: String) { value.withLock { $0 = text } }
    func get() -> String { value.withLock { $0 } }
}

// MARK: - Lease (see `LeaseStore`; expiry by the server's clock, `now` unused)

extension PostgresDeskStore {
    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await thread.write { db in try PostgresOperations.acquireLease(db, name, holder: holder, ttl: ttl) }
    }

    public func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) async throws
        -> LeaseGrant? {
        try await thread.write { db in try PostgresOperations.renewLease(db, name, token: token, ttl: ttl) }
    }

    @discardableResult
    public func releaseLease(_ name: String, token: FencingToken, now: Date) async throws -> Bool {
        try await thread.write { db in try PostgresOperations.releaseLease(db, name, token: token) }
    }

    public func lease(_ name: String) async throws -> LeaseGrant? {
        try await thread.read { db in try PostgresOperations.lease(db, name) }
    }

    public func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) async throws
        -> [PageID: PageClaim] {
        try await thread.write { db in try PostgresOperations.claimPages(db, ids, lease: name, token: token) }
    }
}
