import Desk
import Foundation
import Matrix
import Store
import Synchronization
import TestSupport

/// A gateway process that dies right after one store commit: the SQLite
/// store underneath until the named operation returned, then every later
/// call of this process waits forever (until ``release()``, then fails) —
/// nothing more of the step reaches the store or the network, as if the
/// process had been killed between that commit and the next.
final class CrashingDeskStore: DeskStore {
    let base: SQLiteDeskStore
    /// The operation (its name's start, e.g. `updateTicket`) after whose
    /// next commit the process dies; nil: it never dies.
    let crashAfter = Mutex<String?>(nil)
    private let dead = Mutex(false)
    private let released = Gate()
    /// Told at the crash, before the crashing call returns (the rest of
    /// the process dies with it: e.g. its `/sync` position is not stored).
    let onCrash: @Sendable () -> Void

    init(_ base: SQLiteDeskStore, onCrash: @escaping @Sendable () -> Void = {}) {
        self.base = base
        self.onCrash = onCrash
    }

    /// Whether the process died.
    var isDead: Bool { dead.withLock { $0 } }

    /// Lets the calls waiting since the crash fail (at the test's end).
    func release() { released.open() }

    /// Dies now, between two store calls (e.g. when a line reaches the
    /// homeserver, before its delivery is recorded).
    func die() {
        dead.withLock { $0 = true }
        onCrash()
    }

    private func call<T>(_ name: String = #function, _ body: () async throws -> T) async throws -> T {
        if isDead {
            await released.wait()
            throw MatrixClientError("the process died")
        }
        let result = try await body()
        if let armed = crashAfter.withLock({ $0 }), name.hasPrefix(armed) {
            dead.withLock { $0 = true }
            onCrash()
        }
        return result
    }

    func updateTicket(_ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
                      cancelUnsentPages: Bool, handledMessages: [HandledMessage],
                      conversation: ConversationSnapshot?) async throws -> TicketCommit {
        try await call {
            try await base.updateTicket(ticket, expectedVersion: expectedVersion, events: events, pages: pages,
                                        cancelUnsentPages: cancelUnsentPages, handledMessages: handledMessages,
                                           conversation: conversation)
        }
    }
    func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                      makePages: @escaping @Sendable (TicketNumber) -> [PageDraft],
                      conversation: (@Sendable (TicketNumber) -> ConversationSnapshot?)?) async throws -> TicketCommit {
        try await call { try await base.createTicket(ticket, claimingPagesFor: claim, makePages: makePages,
                                                    conversation: conversation) }
    }
    func ticket(_ number: TicketNumber) async throws -> StoredTicket? { try await call { try await base.ticket(number) } }
    func events(of number: TicketNumber) async throws -> [TicketEvent] {
        try await call { try await base.events(of: number) }
    }
    func openTickets() async throws -> [StoredTicket] { try await call { try await base.openTickets() } }
    func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await call { try await base.tickets(contact: contact, openOnly: openOnly, limit: limit) }
    }
    func tickets(customerNumber: String, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await call { try await base.tickets(customerNumber: customerNumber, openOnly: openOnly, limit: limit) }
    }
    func recentTickets(limit: Int) async throws -> [StoredTicket] {
        try await call { try await base.recentTickets(limit: limit) }
    }
    func tickets(createdFrom from: Date, until: Date, limit: Int) async throws -> [StoredTicket] {
        try await call { try await base.tickets(createdFrom: from, until: until, limit: limit) }
    }
    func pendingPages(dueBy: Date, limit: Int) async throws -> [PageRecord] {
        try await call { try await base.pendingPages(dueBy: dueBy, limit: limit) }
    }
    func nextPageDue() async throws -> Date? { try await call { try await base.nextPageDue() } }
    func pages(of number: TicketNumber) async throws -> [PageRecord] { try await call { try await base.pages(of: number) } }
    func markPageSent(_ id: PageID, at: Date) async throws { try await call { try await base.markPageSent(id, at: at) } }
    func markPageFailed(_ id: PageID, error: String, retryAt: Date) async throws {
        try await call { try await base.markPageFailed(id, error: error, retryAt: retryAt) }
    }
    func escalationSteps(of number: TicketNumber) async throws -> Set<Int> {
        try await call { try await base.escalationSteps(of: number) }
    }
    func addRosterOverride(_ draft: RosterOverrideDraft) async throws -> SavedRosterOverride {
        try await call { try await base.addRosterOverride(draft) }
    }
    func rosterOverrides(activeAt instant: Date) async throws -> [SavedRosterOverride] {
        try await call { try await base.rosterOverrides(activeAt: instant) }
    }
    func rosterOverrides(endingAfter instant: Date) async throws -> [SavedRosterOverride] {
        try await call { try await base.rosterOverrides(endingAfter: instant) }
    }
    func removeRosterOverride(_ id: RosterOverrideID) async throws -> Bool {
        try await call { try await base.removeRosterOverride(id) }
    }
    func incrementCounter(_ name: String, key: String, by delta: Int64) async throws -> Int64 {
        try await call { try await base.incrementCounter(name, key: key, by: delta) }
    }
    func counters(_ name: String) async throws -> [String: Int64] { try await call { try await base.counters(name) } }
    func reservePINCheck(customerNumber: String, identity: ChatIdentity, at: Date, policy: PINAttemptPolicy)
        async throws -> PINReservation {
        try await call {
            try await base.reservePINCheck(customerNumber: customerNumber, identity: identity, at: at, policy: policy)
        }
    }
    func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) async throws {
        try await call { try await base.finishPINCheck(id, outcome: outcome, at: at) }
    }
    func pinAttackState(customerNumber: String, at: Date, policy: PINAttemptPolicy) async throws -> PINAttackState {
        try await call { try await base.pinAttackState(customerNumber: customerNumber, at: at, policy: policy) }
    }
    func saveConversation(_ snapshot: ConversationSnapshot) async throws {
        try await call { try await base.saveConversation(snapshot) }
    }
    func conversations(unexpiredAt instant: Date) async throws -> [ConversationSnapshot] {
        try await call { try await base.conversations(unexpiredAt: instant) }
    }
    func deleteConversation(_ key: ConversationKey, handledMessages: [HandledMessage], at: Date) async throws -> Bool {
        try await call { try await base.deleteConversation(key, handledMessages: handledMessages, at: at) }
    }
    func deleteExpiredConversations(at instant: Date) async throws -> Int {
        try await call { try await base.deleteExpiredConversations(at: instant) }
    }
    func networkState(network: String, key: String) async throws -> String? {
        try await call { try await base.networkState(network: network, key: key) }
    }
    func setNetworkState(network: String, key: String, value: String) async throws {
        try await call { try await base.setNetworkState(network: network, key: key, value: value) }
    }
    func markMessagesHandled(_ messages: [HandledMessage], at: Date) async throws {
        try await call { try await base.markMessagesHandled(messages, at: at) }
    }
    func handledMessages(network: String, among ids: [String]) async throws -> Set<String> {
        try await call { try await base.handledMessages(network: network, among: ids) }
    }
    func forgetHandledMessages(network: String, before instant: Date) async throws -> Int {
        try await call { try await base.forgetHandledMessages(network: network, before: instant) }
    }
    func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await call { try await base.acquireLease(name, holder: holder, ttl: ttl, now: now) }
    }
    func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await call { try await base.renewLease(name, token: token, ttl: ttl, now: now) }
    }
    func releaseLease(_ name: String, token: FencingToken, now: Date) async throws -> Bool {
        try await call { try await base.releaseLease(name, token: token, now: now) }
    }
    func lease(_ name: String) async throws -> LeaseGrant? { try await call { try await base.lease(name) } }
    func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) async throws
        -> [PageID: PageClaim] {
        try await call { try await base.claimPages(ids, lease: name, token: token, now: now) }
    }
    func schemaVersion() async throws -> Int { try await call { try await base.schemaVersion() } }
    func close() async { await base.close() }
}
