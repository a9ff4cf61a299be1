import Desk
import Foundation
import Store
import Synchronization
import Testing

/// Hands a ``Harness`` its store wrapped in an ``InterleavingStore``
/// (`Harness(wrapStore: stores.wrap)`) and keeps the one the current
/// runtime uses: a restart wraps its new store in a new one.
final class InterleavingStores: Sendable {
    private let latest = Mutex<InterleavingStore?>(nil)

    @Sendable func wrap(_ base: SQLiteDeskStore) -> any DeskStore {
        let store = InterleavingStore(base)
        latest.withLock { $0 = store }
        return store
    }

    /// The wrapper the current runtime uses.
    func current() throws -> InterleavingStore { try #require(latest.withLock { $0 }) }
}

/// A store that lets a test act between the runtime's read of a ticket and
/// its update — as a second gateway instance or a second agent would — to
/// check that the optimistic version check decides. Everything else goes
/// straight to the SQLite store underneath.
final class InterleavingStore: DeskStore {
    let base: SQLiteDeskStore
    private let beforeUpdate = Mutex<(@Sendable (SQLiteDeskStore) async -> Void)?>(nil)
    private let afterUpdate = Mutex<(@Sendable (SQLiteDeskStore) async -> Void)?>(nil)
    private let afterCreation = Mutex<(@Sendable (SQLiteDeskStore) async -> Void)?>(nil)

    private let ticketReads = Mutex<(count: Int, hook: (@Sendable (Int) async -> Void)?)>((0, nil))
    private let saves = Mutex(0)

    /// How many conversations were saved on their own
    /// (``saveConversation(_:)``, not with a ticket) so far.
    var conversationSaves: Int { saves.withLock { $0 } }

    init(_ base: SQLiteDeskStore) { self.base = base }

    /// Runs `body` with the read's number (1, 2, …) before each read of one
    /// ticket (``ticket(_:)``) reaches the store.
    func beforeEachTicketRead(_ body: @escaping @Sendable (Int) async -> Void) {
        ticketReads.withLock { $0.hook = body }
    }

    /// How many single tickets were read so far.
    var ticketReadCount: Int { ticketReads.withLock { $0.count } }

    /// Runs `body` once, right before the next update reaches the store.
    func interleaveBeforeNextUpdate(_ body: @escaping @Sendable (SQLiteDeskStore) async -> Void) {
        beforeUpdate.withLock { $0 = body }
    }

    /// Runs `body` once, right after the next update committed (what a
    /// crash right then would leave in the store).
    func afterNextUpdate(_ body: @escaping @Sendable (SQLiteDeskStore) async -> Void) {
        afterUpdate.withLock { $0 = body }
    }

    /// Runs `body` once, right after the next ticket's creation committed
    /// (what a crash right then would leave in the store).
    func afterNextCreation(_ body: @escaping @Sendable (SQLiteDeskStore) async -> Void) {
        afterCreation.withLock { $0 = body }
    }

    func updateTicket(_ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
                      cancelUnsentPages: Bool, handledMessages: [HandledMessage],
                      conversation: ConversationSnapshot?) async throws -> TicketCommit {
        let body = beforeUpdate.withLock { hook -> (@Sendable (SQLiteDeskStore) async -> Void)? in
            defer { hook = nil }
            return hook
        }
        await body?(base)
        let commit = try await base.updateTicket(ticket, expectedVersion: expectedVersion, events: events,
                                                 pages: pages, cancelUnsentPages: cancelUnsentPages,
                                                 handledMessages: handledMessages, conversation: conversation)
        let after = afterUpdate.withLock { hook -> (@Sendable (SQLiteDeskStore) async -> Void)? in
            defer { hook = nil }
            return hook
        }
        await after?(base)
        return commit
    }

    func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                      makePages: @escaping @Sendable (TicketNumber) -> [PageDraft],
                      conversation: (@Sendable (TicketNumber) -> ConversationSnapshot?)?) async throws -> TicketCommit {
        let commit = try await base.createTicket(ticket, claimingPagesFor: claim, makePages: makePages,
                                                 conversation: conversation)
        let after = afterCreation.withLock { hook -> (@Sendable (SQLiteDeskStore) async -> Void)? in
            defer { hook = nil }
            return hook
        }
        await after?(base)
        return commit
    }
    func ticket(_ number: TicketNumber) async throws -> StoredTicket? {
        let (count, hook) = ticketReads.withLock { reads in
            reads.count += 1
            return (reads.count, reads.hook)
        }
        await hook?(count)
        return try await base.ticket(number)
    }
    func events(of number: TicketNumber) async throws -> [TicketEvent] { try await base.events(of: number) }
    func openTickets() async throws -> [StoredTicket] { try await base.openTickets() }
    func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await base.tickets(contact: contact, openOnly: openOnly, limit: limit)
    }
    func tickets(customerNumber: String, openOnly: Bool, limit: Int) async throws -> [StoredTicket] {
        try await base.tickets(customerNumber: customerNumber, openOnly: openOnly, limit: limit)
    }
    func recentTickets(limit: Int) async throws -> [StoredTicket] { try await base.recentTickets(limit: limit) }
    func tickets(createdFrom from: Date, until: Date, limit: Int) async throws -> [StoredTicket] {
        try await base.tickets(createdFrom: from, until: until, limit: limit)
    }
    func pendingPages(dueBy: Date, limit: Int) async throws -> [PageRecord] {
        try await base.pendingPages(dueBy: dueBy, limit: limit)
    }
    func nextPageDue() async throws -> Date? { try await base.nextPageDue() }
    func pages(of number: TicketNumber) async throws -> [PageRecord] { try await base.pages(of: number) }
    func markPageSent(_ id: PageID, at: Date) async throws { try await base.markPageSent(id, at: at) }
    func markPageFailed(_ id: PageID, error: String, retryAt: Date) async throws {
        try await base.markPageFailed(id, error: error, retryAt: retryAt)
    }
    func escalationSteps(of number: TicketNumber) async throws -> Set<Int> { try await base.escalationSteps(of: number) }
    func addRosterOverride(_ draft: RosterOverrideDraft) async throws -> SavedRosterOverride {
        try await base.addRosterOverride(draft)
    }
    func rosterOverrides(activeAt instant: Date) async throws -> [SavedRosterOverride] {
        try await base.rosterOverrides(activeAt: instant)
    }
    func rosterOverrides(endingAfter instant: Date) async throws -> [SavedRosterOverride] {
        try await base.rosterOverrides(endingAfter: instant)
    }
    func removeRosterOverride(_ id: RosterOverrideID) async throws -> Bool { try await base.removeRosterOverride(id) }
    func incrementCounter(_ name: String, key: String, by delta: Int64) async throws -> Int64 {
        try await base.incrementCounter(name, key: key, by: delta)
    }
    func counters(_ name: String) async throws -> [String: Int64] { try await base.counters(name) }
    func reservePINCheck(customerNumber: String, identity: ChatIdentity, at: Date, policy: PINAttemptPolicy)
        async throws -> PINReservation {
        try await base.reservePINCheck(customerNumber: customerNumber, identity: identity, at: at, policy: policy)
    }
    func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) async throws {
        try await base.finishPINCheck(id, outcome: outcome, at: at)
    }
    func pinAttackState(customerNumber: String, at: Date, policy: PINAttemptPolicy) async throws -> PINAttackState {
        try await base.pinAttackState(customerNumber: customerNumber, at: at, policy: policy)
    }
    func saveConversation(_ snapshot: ConversationSnapshot) async throws {
        saves.withLock { $0 += 1 }
        try await base.saveConversation(snapshot)
    }
    func conversations(unexpiredAt instant: Date) async throws -> [ConversationSnapshot] {
        try await base.conversations(unexpiredAt: instant)
    }
    func deleteConversation(_ key: ConversationKey, handledMessages: [HandledMessage], at: Date) async throws -> Bool {
        try await base.deleteConversation(key, handledMessages: handledMessages, at: at)
    }
    func deleteExpiredConversations(at instant: Date) async throws -> Int {
        try await base.deleteExpiredConversations(at: instant)
    }
    func networkState(network: String, key: String) async throws -> String? {
        try await base.networkState(network: network, key: key)
    }
    func setNetworkState(network: String, key: String, value: String) async throws {
        try await base.setNetworkState(network: network, key: key, value: value)
    }
    func markMessagesHandled(_ messages: [HandledMessage], at: Date) async throws {
        try await base.markMessagesHandled(messages, at: at)
    }
    func handledMessages(network: String, among ids: [String]) async throws -> Set<String> {
        try await base.handledMessages(network: network, among: ids)
    }
    func forgetHandledMessages(network: String, before instant: Date) async throws -> Int {
        try await base.forgetHandledMessages(network: network, before: instant)
    }
    func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await base.acquireLease(name, holder: holder, ttl: ttl, now: now)
    }
    func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) async throws -> LeaseGrant? {
        try await base.renewLease(name, token: token, ttl: ttl, now: now)
    }
    func releaseLease(_ name: String, token: FencingToken, now: Date) async throws -> Bool {
        try await base.releaseLease(name, token: token, now: now)
    }
    func lease(_ name: String) async throws -> LeaseGrant? { try await base.lease(name) }
    /// The page ids of each `claimPages` call, in order (a claim is a commit on the page path).
    let claimCalls = Mutex<[[PageID]]>([])

    func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) async throws
        -> [PageID: PageClaim] {
        claimCalls.withLock { $0.append(ids) }
        let claims = try await base.claimPages(ids, lease: name, token: token, now: now)
        let body = afterClaim.withLock { hook -> (@Sendable (SQLiteDeskStore) async -> Void)? in
            defer { hook = nil }
            return hook
        }
        await body?(base)
        return claims
    }

    private let afterClaim = Mutex<(@Sendable (SQLiteDeskStore) async -> Void)?>(nil)

    /// Runs `body` once, after the next claim committed and before its
    /// answer reaches the runtime (a claim whose answer comes late).
    func interleaveAfterNextClaim(_ body: @escaping @Sendable (SQLiteDeskStore) async -> Void) {
        afterClaim.withLock { $0 = body }
    }
    func schemaVersion() async throws -> Int { try await base.schemaVersion() }
    func close() async { await base.close() }
}
