import Desk
import Foundation
import Store
import Synchronization

/// A store that lets a test act between the runtime's read of a ticket and
/// its update — as a second gateway instance or a second agent would — to
/// check that the optimistic version check decides.
final class InterleavingStore: TicketStore {
    let base: SQLiteStore
    private let beforeUpdate = Mutex<(@Sendable (SQLiteStore) -> Void)?>(nil)

    init(_ base: SQLiteStore) { self.base = base }

    /// Runs `body` once, right before the next update reaches the store.
    func interleaveBeforeNextUpdate(_ body: @escaping @Sendable (SQLiteStore) -> Void) {
        beforeUpdate.withLock { $0 = body }
    }

    func updateTicket(_ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
                      cancelUnsentPages: Bool) throws -> TicketCommit {
        let body = beforeUpdate.withLock { hook -> (@Sendable (SQLiteStore) -> Void)? in
            defer { hook = nil }
            return hook
        }
        body?(base)
        return try base.updateTicket(ticket, expectedVersion: expectedVersion, events: events, pages: pages,
                                     cancelUnsentPages: cancelUnsentPages)
    }

    func createTicket(_ ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit { try base.createTicket(ticket, makePages: makePages) }
    func ticket(_ number: TicketNumber) throws -> StoredTicket? { try base.ticket(number) }
    func events(of number: TicketNumber) throws -> [TicketEvent] { try base.events(of: number) }
    func openTickets() throws -> [StoredTicket] { try base.openTickets() }
    func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try base.tickets(contact: contact, openOnly: openOnly, limit: limit)
    }
    func tickets(customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try base.tickets(customerNumber: customerNumber, openOnly: openOnly, limit: limit)
    }
    func recentTickets(limit: Int) throws -> [StoredTicket] { try base.recentTickets(limit: limit) }
    func pendingPages(dueBy: Date, limit: Int) throws -> [PageRecord] { try base.pendingPages(dueBy: dueBy, limit: limit) }
    func nextPageDue() throws -> Date? { try base.nextPageDue() }
    func pages(of number: TicketNumber) throws -> [PageRecord] { try base.pages(of: number) }
    func markPageSent(_ id: PageID, at: Date) throws { try base.markPageSent(id, at: at) }
    func markPageFailed(_ id: PageID, error: String, retryAt: Date) throws {
        try base.markPageFailed(id, error: error, retryAt: retryAt)
    }
    func escalationSteps(of number: TicketNumber) throws -> Set<Int> { try base.escalationSteps(of: number) }
    func addRosterOverride(_ draft: RosterOverrideDraft) throws -> SavedRosterOverride { try base.addRosterOverride(draft) }
    func rosterOverrides(activeAt instant: Date) throws -> [SavedRosterOverride] { try base.rosterOverrides(activeAt: instant) }
    func rosterOverrides(endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try base.rosterOverrides(endingAfter: instant)
    }
    func removeRosterOverride(_ id: RosterOverrideID) throws -> Bool { try base.removeRosterOverride(id) }
    func incrementCounter(_ name: String, key: String, by delta: Int64) throws -> Int64 {
        try base.incrementCounter(name, key: key, by: delta)
    }
    func counters(_ name: String) throws -> [String: Int64] { try base.counters(name) }
    func recordFailedPIN(_ attempt: FailedPINAttempt) throws { try base.recordFailedPIN(attempt) }
    func failedPINAttempts(customerNumber: String?, identity: ChatIdentity?, since: Date) throws -> [FailedPINAttempt] {
        try base.failedPINAttempts(customerNumber: customerNumber, identity: identity, since: since)
    }
}
