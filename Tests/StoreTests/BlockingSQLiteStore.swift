import Core
import Desk
import Foundation
@testable import Store

/// A blocking view of ``SQLiteDeskStore`` for the store's own tests, which
/// are written as plain synchronous calls: each call queues its job on the
/// store thread and blocks the test until it is done. Production code uses
/// the async ``DeskStore`` protocols only.
final class BlockingSQLiteStore: Sendable {
    /// The async store this forwards to.
    let desk: SQLiteDeskStore

    /// The database file.
    var path: String { desk.path }

    private var thread: StoreThread { desk.thread }

    /// Opens the store at `path`; see ``SQLiteDeskStore/init(path:logger:now:)``.
    convenience init(path: String, logger: Logger, now: Date = Date()) throws {
        self.init(try SQLiteDeskStore(path: path, logger: logger, now: now))
    }

    /// The synchronous view of an open store.
    init(_ desk: SQLiteDeskStore) {
        self.desk = desk
    }

    /// Lets queued calls finish, then closes the file. Later calls throw
    /// ``TicketStoreError/closed``.
    func close() {
        thread.closeBlocking()
    }

    // MARK: Tickets

    func createTicket(_ ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit {
        try thread.writeBlocking { db in try db.insertTicket(ticket, claim: nil, makePages: makePages) }
    }

    func ticket(_ number: TicketNumber) throws -> StoredTicket? {
        try thread.readBlocking { db in try db.readTicket(number) }
    }

    func events(of number: TicketNumber) throws -> [TicketEvent] {
        try thread.readBlocking { db in try db.events(of: number) }
    }

    func openTickets() throws -> [StoredTicket] {
        try thread.readBlocking { db in try db.openTickets() }
    }

    func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try thread.readBlocking { db in
            try db.tickets(contact: contact, openOnly: openOnly, limit: limit)
        }
    }

    func tickets(customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try thread.readBlocking { db in
            try db.tickets(customerNumber: customerNumber, openOnly: openOnly, limit: limit)
        }
    }

    func recentTickets(limit: Int) throws -> [StoredTicket] {
        try thread.readBlocking { db in try db.recentTickets(limit: limit) }
    }

    func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
        cancelUnsentPages: Bool
    ) throws -> TicketCommit {
        try thread.writeBlocking { db in
            try db.updateTicket(ticket, expectedVersion: expectedVersion, events: events,
                                              pages: pages, cancelUnsentPages: cancelUnsentPages)
        }
    }

    // MARK: Outbox

    func pendingPages(dueBy: Date, limit: Int) throws -> [PageRecord] {
        try thread.readBlocking { db in try db.pendingPages(dueBy: dueBy, limit: limit) }
    }

    func nextPageDue() throws -> Date? {
        try thread.readBlocking { db in try db.nextPageDue() }
    }

    func pages(of number: TicketNumber) throws -> [PageRecord] {
        try thread.readBlocking { db in try db.pages(of: number) }
    }

    func markPageSent(_ id: PageID, at: Date) throws {
        try thread.writeBlocking { db in try db.markPageSent(id, at: at) }
    }

    func markPageFailed(_ id: PageID, error: String, retryAt: Date) throws {
        try thread.writeBlocking { db in
            try db.markPageFailed(id, error: error, retryAt: retryAt)
        }
    }

    func escalationSteps(of number: TicketNumber) throws -> Set<Int> {
        try thread.readBlocking { db in try db.escalationSteps(of: number) }
    }

    // MARK: Roster overrides

    func addRosterOverride(_ draft: RosterOverrideDraft) throws -> SavedRosterOverride {
        try thread.writeBlocking { db in try db.addRosterOverride(draft) }
    }

    func rosterOverrides(activeAt instant: Date) throws -> [SavedRosterOverride] {
        try thread.readBlocking { db in try db.rosterOverrides(activeAt: instant) }
    }

    func rosterOverrides(endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try thread.readBlocking { db in try db.rosterOverrides(endingAfter: instant) }
    }

    @discardableResult
    func removeRosterOverride(_ id: RosterOverrideID) throws -> Bool {
        try thread.writeBlocking { db in try db.removeRosterOverride(id) }
    }

    // MARK: Counters

    @discardableResult
    func incrementCounter(_ name: String, key: String, by delta: Int64) throws -> Int64 {
        try thread.writeBlocking { db in try db.incrementCounter(name, key: key, by: delta) }
    }

    func counters(_ name: String) throws -> [String: Int64] {
        try thread.readBlocking { db in try db.counters(name) }
    }
}

extension BlockingSQLiteStore {
    func createTicket(_ ticket: NewTicket, pages: [PageDraft]) throws -> TicketCommit {
        try createTicket(ticket, makePages: { _ in pages })
    }

    func createTicket(_ ticket: NewTicket) throws -> TicketCommit {
        try createTicket(ticket, pages: [])
    }

    func updateTicket(_ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent]) throws -> TicketCommit {
        try updateTicket(ticket, expectedVersion: expectedVersion, events: events, pages: [], cancelUnsentPages: false)
    }

    func update(_ stored: StoredTicket, to ticket: Ticket, events: [TicketEvent], pages: [PageDraft] = [],
                cancelUnsentPages: Bool = false) throws -> TicketCommit {
        try updateTicket(ticket, expectedVersion: stored.version, events: events, pages: pages,
                         cancelUnsentPages: cancelUnsentPages)
    }

    @discardableResult
    func incrementCounter(_ name: String, key: String) throws -> Int64 {
        try incrementCounter(name, key: key, by: 1)
    }
}
