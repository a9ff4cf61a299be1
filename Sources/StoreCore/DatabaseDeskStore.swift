import Desk
import Foundation

/// A ``DeskStore`` whose every call is one operation on a ``StoreDatabase``
/// run on the store's worker thread: the façade is written here once, and a
/// store (SQLite, PostgreSQL) supplies only how a read and a write reach its
/// connection, plus opening, closing and its schema version.
public protocol DatabaseDeskStore: DeskStore {
    associatedtype Database: StoreDatabase

    /// Runs `body` on the store's thread outside a write transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T

    /// Runs `body` on the store's thread inside a write transaction and
    /// returns after its commit. `singleStatement`: the body changes the
    /// database with one statement (it may run without BEGIN/COMMIT).
    func write<T: Sendable>(singleStatement: Bool, _ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
}

extension DatabaseDeskStore {
    public func schemaVersion() async throws -> Int {
        try await read { db in try db.schemaVersion() }
    }

    // MARK: Tickets

    public func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                             makePages: @escaping @Sendable (TicketNumber) -> [PageDraft],
                             conversation: (@Sendable (TicketNumber) -> ConversationSnapshot?)?) async throws
        -> TicketCommit {
        // With a conversation the creation is two statements: one transaction.
        try await write(singleStatement: conversation == nil && Database.ticketCreationIsOneStatement) { db in
            var commit = try db.insertTicket(ticket, claim: claim, makePages: makePages)
            if let snapshot = conversation?(commit.number) {
                try db.saveConversation(snapshot)
                commit.conversation = snapshot
            }
            return commit
        }
    }

    public func ticket(_ number: TicketNumber) async throws -> StoredTicket? {
        try await read { db in try db.readTicket(number) }
    }

    public func events(of number: TicketNumber) async throws -> [TicketEvent] {
        try await read { db in try db.events(of: number) }
    }

    public func openTickets() async throws -> [StoredTicket] {
        try await read { db in try db.openTickets() }
    }

    public func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await read { db in try db.tickets(contact: contact, openOnly: openOnly, limit: limit) }
    }

    public func tickets(customerNumber: String, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await read { db in try db.tickets(customerNumber: customerNumber, openOnly: openOnly, limit: limit) }
    }

    public func recentTickets(limit: Int) async throws -> [StoredTicket] {
        try await read { db in try db.recentTickets(limit: limit) }
    }

    public func tickets(createdFrom from: Date, until: Date, limit: Int) async throws -> [StoredTicket] {
        try await read { db in try db.tickets(createdFrom: from, until: until, limit: limit) }
    }

    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft], cancelUnsentPages: Bool,
        handledMessages: [HandledMessage], conversation: ConversationSnapshot?
    ) async throws -> TicketCommit {
        try await write(singleStatement: false) { db in
            try db.updateTicket(ticket, expectedVersion: expectedVersion, events: events, pages: pages,
                                cancelUnsentPages: cancelUnsentPages, handledMessages: handledMessages,
                                conversation: conversation)
        }
    }

    // MARK: Outbox

    public func pendingPages(dueBy: Date, limit: Int) async throws -> [PageRecord] {
        try await read { db in try db.pendingPages(dueBy: dueBy, limit: limit) }
    }

    public func nextPageDue() async throws -> Date? {
        try await read { db in try db.nextPageDue() }
    }

    public func pages(of number: TicketNumber) async throws -> [PageRecord] {
        try await read { db in try db.pages(of: number) }
    }

    public func markPageSent(_ id: PageID, at: Date) async throws {
        try await write(singleStatement: false) { db in try db.markPageSent(id, at: at) }
    }

    public func markPageFailed(_ id: PageID, error: String, retryAt: Date) async throws {
        try await write(singleStatement: false) { db in try db.markPageFailed(id, error: error, retryAt: retryAt) }
    }

    public func escalationSteps(of number: TicketNumber) async throws -> Set<Int> {
        try await read { db in try db.escalationSteps(of: number) }
    }

    // MARK: Roster overrides

    public func addRosterOverride(_ draft: RosterOverrideDraft) async throws -> SavedRosterOverride {
        try await write(singleStatement: false) { db in try db.addRosterOverride(draft) }
    }

    public func rosterOverrides(activeAt instant: Date) async throws -> [SavedRosterOverride] {
        try await read { db in try db.rosterOverrides(activeAt: instant) }
    }

    public func rosterOverrides(endingAfter instant: Date) async throws -> [SavedRosterOverride] {
        try await read { db in try db.rosterOverrides(endingAfter: instant) }
    }

    @discardableResult
    public func removeRosterOverride(_ id: RosterOverrideID) async throws -> Bool {
        try await write(singleStatement: false) { db in try db.removeRosterOverride(id) }
    }

    // MARK: Counters

    @discardableResult
    public func incrementCounter(_ name: String, key: String, by delta: Int64) async throws -> Int64 {
        try await write(singleStatement: false) { db in try db.incrementCounter(name, key: key, by: delta) }
    }

    public func counters(_ name: String) async throws -> [String: Int64] {
        try await read { db in try db.counters(name) }
    }

    // MARK: Network state

    public func networkState(network: String, key: String) async throws -> String? {
        try await read { db in try db.networkState(network: network, key: key) }
    }

    public func setNetworkState(network: String, key: String, value: String) async throws {
        let now = Date()
        try await write(singleStatement: false) { db in
            try db.setNetworkState(network: network, key: key, value: value, at: now)
        }
    }

    public func markMessagesHandled(_ messages: [HandledMessage], at: Date) async throws {
        guard !messages.isEmpty else { return }
        try await write(singleStatement: messages.count == 1) { db in try db.insertHandledMessages(messages, at: at) }
    }

    public func handledMessages(network: String, among ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await read { db in try db.handledMessages(network: network, among: ids) }
    }

    @discardableResult
    public func forgetHandledMessages(network: String, before instant: Date) async throws -> Int {
        try await write(singleStatement: true) { db in try db.forgetHandledMessages(network: network, before: instant) }
    }

    // MARK: PIN checks

    public func reservePINCheck(customerNumber: String, identity: ChatIdentity, at: Date, policy: PINAttemptPolicy)
        async throws -> PINReservation {
        try await write(singleStatement: false) { db in
            try db.reservePINCheck(customerNumber: customerNumber, identity: identity, at: at, policy: policy)
        }
    }

    public func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) async throws {
        try await write(singleStatement: false) { db in try db.finishPINCheck(id, outcome: outcome, at: at) }
    }

    public func pinAttackState(customerNumber: String, at: Date, policy: PINAttemptPolicy) async throws
        -> PINAttackState {
        try await read { db in try db.pinAttackState(customerNumber: customerNumber, at: at, policy: policy) }
    }

    // MARK: Conversations

    public func saveConversation(_ snapshot: ConversationSnapshot) async throws {
        try await write(singleStatement: false) { db in try db.saveConversation(snapshot) }
    }

    public func conversations(unexpiredAt instant: Date) async throws -> [ConversationSnapshot] {
        try await read { db in try db.conversations(unexpiredAt: instant) }
    }

    @discardableResult
    public func deleteConversation(_ key: ConversationKey, handledMessages: [HandledMessage], at: Date) async throws
        -> Bool {
        try await write(singleStatement: false) { db in
            try db.deleteConversation(key, handledMessages: handledMessages, at: at)
        }
    }

    @discardableResult
    public func deleteExpiredConversations(at instant: Date) async throws -> Int {
        try await write(singleStatement: false) { db in try db.deleteExpiredConversations(at: instant) }
    }

    // MARK: Lease (whose clock decides: see `LeaseStore`)

    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await write(singleStatement: false) { db in try db.acquireLease(name, holder: holder, ttl: ttl, now: now) }
    }

    public func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) async throws
        -> LeaseGrant? {
        try await write(singleStatement: false) { db in try db.renewLease(name, token: token, ttl: ttl, now: now) }
    }

    @discardableResult
    public func releaseLease(_ name: String, token: FencingToken, now: Date) async throws -> Bool {
        try await write(singleStatement: false) { db in try db.releaseLease(name, token: token, now: now) }
    }

    public func lease(_ name: String) async throws -> LeaseGrant? {
        try await read { db in try db.lease(name) }
    }

    public func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) async throws
        -> [PageID: PageClaim] {
        try await write(singleStatement: false) { db in try db.claimPages(ids, lease: name, token: token, now: now) }
    }
}
