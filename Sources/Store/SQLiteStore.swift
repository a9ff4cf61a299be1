import Core
import Desk
import Foundation

/// The synchronous ``TicketStore`` over an ``SQLiteDeskStore``: each call
/// queues its job on the store thread and blocks the calling thread until it
/// is done.
///
/// **Being replaced**: it exists only while the bots still call the
/// synchronous ``TicketStore``; new code uses ``SQLiteDeskStore`` through the
/// ``DeskStore`` protocols. Both views share one connection and one thread
/// (``desk``), so their writes are ordered and batched together.
public final class SQLiteStore: TicketStore {
    /// The async store this forwards to.
    public let desk: SQLiteDeskStore

    /// The database file.
    public var path: String { desk.path }

    private var thread: StoreThread { desk.thread }

    /// Opens the store at `path`; see ``SQLiteDeskStore/init(path:logger:now:)``.
    public convenience init(path: String, logger: Logger, now: Date = Date()) throws {
        self.init(try SQLiteDeskStore(path: path, logger: logger, now: now))
    }

    /// The synchronous view of an open store.
    public init(_ desk: SQLiteDeskStore) {
        self.desk = desk
    }

    /// Lets queued calls finish, then closes the file. Later calls throw
    /// ``TicketStoreError/closed``.
    public func close() {
        thread.closeBlocking()
    }

    // MARK: Tickets

    public func createTicket(_ ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit {
        try thread.writeBlocking { db in try SQLiteOperations.insertTicket(db, ticket, makePages: makePages) }
    }

    public func ticket(_ number: TicketNumber) throws -> StoredTicket? {
        try thread.readBlocking { db in try SQLiteOperations.readTicket(db, number) }
    }

    public func events(of number: TicketNumber) throws -> [TicketEvent] {
        try thread.readBlocking { db in try SQLiteOperations.events(db, of: number) }
    }

    public func openTickets() throws -> [StoredTicket] {
        try thread.readBlocking { db in try SQLiteOperations.openTickets(db) }
    }

    public func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try thread.readBlocking { db in
            try SQLiteOperations.tickets(db, contact: contact, openOnly: openOnly, limit: limit)
        }
    }

    public func tickets(customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try thread.readBlocking { db in
            try SQLiteOperations.tickets(db, customerNumber: customerNumber, openOnly: openOnly, limit: limit)
        }
    }

    public func recentTickets(limit: Int) throws -> [StoredTicket] {
        try thread.readBlocking { db in try SQLiteOperations.recentTickets(db, limit: limit) }
    }

    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
        cancelUnsentPages: Bool
    ) throws -> TicketCommit {
        try thread.writeBlocking { db in
            try SQLiteOperations.updateTicket(db, ticket, expectedVersion: expectedVersion, events: events,
                                              pages: pages, cancelUnsentPages: cancelUnsentPages)
        }
    }

    // MARK: Outbox

    public func pendingPages(dueBy: Date, limit: Int) throws -> [PageRecord] {
        try thread.readBlocking { db in try SQLiteOperations.pendingPages(db, dueBy: dueBy, limit: limit) }
    }

    public func nextPageDue() throws -> Date? {
        try thread.readBlocking { db in try SQLiteOperations.nextPageDue(db) }
    }

    public func pages(of number: TicketNumber) throws -> [PageRecord] {
        try thread.readBlocking { db in try SQLiteOperations.pages(db, of: number) }
    }

    public func markPageSent(_ id: PageID, at: Date) throws {
        try thread.writeBlocking { db in try SQLiteOperations.markPageSent(db, id, at: at) }
    }

    public func markPageFailed(_ id: PageID, error: String, retryAt: Date) throws {
        try thread.writeBlocking { db in
            try SQLiteOperations.markPageFailed(db, id, error: error, retryAt: retryAt)
        }
    }

    public func escalationSteps(of number: TicketNumber) throws -> Set<Int> {
        try thread.readBlocking { db in try SQLiteOperations.escalationSteps(db, of: number) }
    }

    // MARK: Roster overrides

    public func addRosterOverride(_ draft: RosterOverrideDraft) throws -> SavedRosterOverride {
        try thread.writeBlocking { db in try SQLiteOperations.addRosterOverride(db, draft) }
    }

    public func rosterOverrides(activeAt instant: Date) throws -> [SavedRosterOverride] {
        try thread.readBlocking { db in try SQLiteOperations.rosterOverrides(db, activeAt: instant) }
    }

    public func rosterOverrides(endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try thread.readBlocking { db in try SQLiteOperations.rosterOverrides(db, endingAfter: instant) }
    }

    @discardableResult
    public func removeRosterOverride(_ id: RosterOverrideID) throws -> Bool {
        try thread.writeBlocking { db in try SQLiteOperations.removeRosterOverride(db, id) }
    }

    // MARK: Counters

    @discardableResult
    public func incrementCounter(_ name: String, key: String, by delta: Int64) throws -> Int64 {
        try thread.writeBlocking { db in try SQLiteOperations.incrementCounter(db, name, key: key, by: delta) }
    }

    public func counters(_ name: String) throws -> [String: Int64] {
        try thread.readBlocking { db in try SQLiteOperations.counters(db, name) }
    }

    // MARK: Failed PIN attempts (the old log; the async store reserves checks instead)

    public func recordFailedPIN(_ attempt: FailedPINAttempt) throws {
        try thread.writeBlocking { db in try SQLiteOperations.recordFailedPIN(db, attempt) }
    }

    public func failedPINAttempts(customerNumber: String?, identity: ChatIdentity?, since: Date) throws
        -> [FailedPINAttempt] {
        try thread.readBlocking { db in
            try SQLiteOperations.failedPINAttempts(db, customerNumber: customerNumber, identity: identity,
                                                   since: since)
        }
    }
}
