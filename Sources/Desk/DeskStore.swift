import Foundation

// The persistence seam of the desk (SPEC.md, "Data"), split by concern. The
// bots depend on these protocols only; `Store.SQLiteDeskStore` implements
// them on one SQLite file, and a PostgreSQL store for several gateway
// instances implements the same protocols (and runs the same contract test
// suite, `Tests/StoreTests/StoreContract*.swift`).
//
// Guarantees every implementation gives, whatever its timings:
//
// - **Commit before return.** A method that writes does so in one
//   transaction and returns only after the commit is durable; if it throws,
//   nothing of it was stored.
// - **Numbers never repeat.** The store assigns ticket numbers; a number is
//   returned only after the ticket is committed, numbers strictly increase
//   and are never reused, also after a crash or deleted rows.
// - **Optimistic versions.** An update names the version it was based on and
//   fails with ``TicketStoreError/conflict(_:expectedVersion:currentVersion:)``
//   when someone else updated the ticket in between.
// - **At-least-once outbox.** A page is written with the ticket change that
//   causes it; a crash between send and `markPageSent` sends it again, never
//   zero times.
// - **Fail closed.** An error from the store is thrown, never swallowed; a
//   PIN check whose reservation could not be recorded must not run.

/// Tickets and their audit trail.
public protocol TicketRecordStore: Sendable {
    /// Stores a new ticket (state ``TicketState/new``, version 1) with its
    /// `created` event and its pages, in one transaction, and returns it with
    /// the number the store assigned — only after the commit succeeded.
    ///
    /// `makePages` is called inside that transaction with the assigned
    /// number (so a page can say `#42`), at most once, possibly on the
    /// store's own thread; it must not call the store. Invalid pages (see
    /// ``PageDraft``) fail the creation, and nothing is stored.
    ///
    /// With `claim` (the creating instance holds the lease), the pages are
    /// claimed in that same transaction — checked against the lease row as
    /// ``LeaseStore/claimPages(_:lease:token:now:)`` does — so the first
    /// page needs no commit of its own before it goes out. A stale or
    /// expired token does not refuse the creation: the customer's ticket is
    /// stored all the same, its pages stay unclaimed for the active instance
    /// (which sends pending pages), and ``TicketCommit/pageClaim`` says
    /// ``PageClaim/fenced`` so the caller stops sending. The deciding clock
    /// is the lease's (PostgreSQL: the server's; SQLite: the ticket's
    /// `createdAt`, the caller's clock).
    ///
    /// `conversation` (called like `makePages`, with the assigned number)
    /// gives the snapshot of the customer conversation the ticket comes
    /// from, as it stands once the ticket exists (it follows that number).
    /// It is saved as ``ConversationStore/saveConversation(_:)`` does, in
    /// the same transaction, and returned in ``TicketCommit/conversation``:
    /// a crash right after the commit restores a conversation that follows
    /// the ticket — it cannot ask its last question again or make a second
    /// ticket — and the page's window has no commit of the conversation's
    /// own. Nil (or a nil snapshot): no conversation is written.
    func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                      makePages: @escaping @Sendable (TicketNumber) -> [PageDraft],
                      conversation: (@Sendable (TicketNumber) -> ConversationSnapshot?)?) async throws -> TicketCommit

    /// The ticket with this number, or nil if there is none.
    func ticket(_ number: TicketNumber) async throws -> StoredTicket?

    /// The ticket's audit trail, oldest first.
    func events(of number: TicketNumber) async throws -> [TicketEvent]

    /// Every open ticket (``TicketState/isOpen``) by number: what the
    /// in-memory queue is rebuilt from at start.
    func openTickets() async throws -> [StoredTicket]

    /// Tickets opened by this chat identity, newest first. With an account
    /// it matches the same account on the same network; without one, the
    /// same nick among tickets opened *without* an account (a nick alone
    /// never matches a logged-in customer's tickets). ASCII case-insensitive.
    func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) async throws -> [StoredTicket]

    /// Tickets of a customer number, newest first.
    func tickets(customerNumber: String, openOnly: Bool, limit: Int) async throws -> [StoredTicket]

    /// The newest tickets, newest first (`switchboard tickets list`).
    func recentTickets(limit: Int) async throws -> [StoredTicket]

    /// Replaces ticket `ticket.number` with `ticket`, appends `events` to its
    /// trail and `pages` to the outbox, in one transaction — if the stored
    /// version is still `expectedVersion`. `cancelUnsentPages` first cancels
    /// the ticket's unsent pages as of `ticket.updatedAt` (pages to agents:
    /// not notices, ``PageDraft/firstNoticeStep``, which are still sent). Number and
    /// creation time never change. Returns the ticket as now stored.
    ///
    /// - Throws: ``TicketStoreError/conflict(_:expectedVersion:currentVersion:)``,
    ///   ``TicketStoreError/ticketNotFound(_:)``,
    ///   ``TicketStoreError/escalationStepExists(_:step:)``,
    ///   ``TicketStoreError/invalid(_:)`` for an event of another ticket.
    ///
    /// `handledMessages` are the chat messages whose step makes this change
    /// (a customer's follow-up line, an agent's command): recorded as
    /// handled at `ticket.updatedAt` in the same transaction
    /// (``HandledMessage``), so a message delivered again after a crash that
    /// followed the commit is skipped — not attached or applied twice.
    ///
    /// `conversation` is the snapshot of the customer conversation the
    /// change comes from, as it stands once the change is made (saved as
    /// ``ConversationStore/saveConversation(_:)`` does, in the same
    /// transaction): lines a conversation held back and now attaches are
    /// gone from it in the same commit that attaches them, so a crash right
    /// after the commit cannot attach them a second time at the restart.
    func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft], cancelUnsentPages: Bool,
        handledMessages: [HandledMessage], conversation: ConversationSnapshot?
    ) async throws -> TicketCommit
}

/// The outbox of pages: written with the ticket change that causes them,
/// sent afterwards by the chat layer, delivered at least once.
public protocol PageOutboxStore: Sendable {
    /// Pages neither sent nor cancelled, due at or before `dueBy`, earliest
    /// due first (ties in writing order).
    func pendingPages(dueBy: Date, limit: Int) async throws -> [PageRecord]

    /// The earliest due time of any pending page: when to look again.
    func nextPageDue() async throws -> Date?

    /// Every page of a ticket, in writing order.
    func pages(of number: TicketNumber) async throws -> [PageRecord]

    /// Records that the page went out; a second call keeps the first time.
    /// - Throws: ``TicketStoreError/pageNotFound(_:)``.
    func markPageSent(_ id: PageID, at: Date) async throws

    /// Records a failed attempt (counted, error kept) and makes the page due
    /// again at `retryAt`; a page already sent stays sent.
    /// - Throws: ``TicketStoreError/pageNotFound(_:)``.
    func markPageFailed(_ id: PageID, error: String, retryAt: Date) async throws

    /// The escalation steps the ticket has pages for. A step is written once
    /// (a second write fails with ``TicketStoreError/escalationStepExists(_:step:)``),
    /// so escalation resumed after a restart never pages a step twice; a
    /// notice's step (``PageDraft/firstNoticeStep``) may be written again.
    func escalationSteps(of number: TicketNumber) async throws -> Set<Int>
}

/// Roster overrides made at run time (`!oncall override NICK until TIME`).
public protocol RosterOverrideStore: Sendable {
    /// Stores an override and returns it with its id.
    /// - Throws: ``TicketStoreError/invalid(_:)`` when it ends before it starts.
    func addRosterOverride(_ draft: RosterOverrideDraft) async throws -> SavedRosterOverride

    /// Overrides in force at `instant` (`from <= instant < until`), the most
    /// recently created first: the first one wins.
    func rosterOverrides(activeAt instant: Date) async throws -> [SavedRosterOverride]

    /// Overrides that end after `instant` (in force now or later), by start.
    func rosterOverrides(endingAfter instant: Date) async throws -> [SavedRosterOverride]

    /// Removes an override; false if there was none with this id.
    @discardableResult
    func removeRosterOverride(_ id: RosterOverrideID) async throws -> Bool
}

/// Named counters for `!stats` (e.g. `deflected` per KB article).
public protocol CounterStore: Sendable {
    /// Adds `delta` to `name`/`key` (created at 0) atomically and returns
    /// the new value; concurrent increments are never lost.
    @discardableResult
    func incrementCounter(_ name: String, key: String, by delta: Int64) async throws -> Int64

    /// Every key of the counter `name` with its value.
    func counters(_ name: String) async throws -> [String: Int64]
}

/// Contract-PIN checks, reserved before they run (issue 14) so parallel
/// attempts and several gateway instances count against one budget.
///
/// The caller reserves, and only on ``PINReservation/reserved(_:)`` hashes
/// and compares the PIN, then finishes the reservation with the outcome. A
/// reservation counts as a wrong attempt until it is finished right, so one
/// never finished (a crash mid-check) stays wrong. If reserving throws, no
/// check may run (fail closed).
public protocol PINAttemptStore: Sendable {
    /// In one transaction: reads the budgets of `customerNumber`, `identity`
    /// and the whole store, asks `policy` (``PINAttemptPolicy/decide(_:now:)``),
    /// and records a pending reservation or refuses. Refusals are not
    /// recorded and cost no hashing.
    func reservePINCheck(customerNumber: String, identity: ChatIdentity, at: Date, policy: PINAttemptPolicy)
        async throws -> PINReservation

    /// Records the outcome of a reserved check. Finishing twice keeps the
    /// first outcome.
    /// - Throws: ``TicketStoreError/invalid(_:)`` for an unknown reservation.
    func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) async throws

    /// What the agents' warning shows about a number: wrong (or never
    /// finished) checks in the policy's number window, how many distinct
    /// sender identities made them, and until when the number is locked.
    func pinAttackState(customerNumber: String, at: Date, policy: PINAttemptPolicy) async throws -> PINAttackState
}

/// Half-finished conversations (issue 8 item 4): the bots encode their state
/// into an opaque, versioned blob; after a restart the customer continues
/// where they were, and abandoned ones expire.
public protocol ConversationStore: Sendable {
    /// Stores the snapshot, replacing the one with the same key.
    func saveConversation(_ snapshot: ConversationSnapshot) async throws

    /// Every snapshot whose expiry is after `instant`, by key.
    func conversations(unexpiredAt instant: Date) async throws -> [ConversationSnapshot]

    /// Removes the conversation (finished or cancelled); false if none. In
    /// the same transaction records `handledMessages` as handled at `at`:
    /// the messages of the step that ended it (so one delivered again after
    /// a crash does not start a new conversation).
    @discardableResult
    func deleteConversation(_ key: ConversationKey, handledMessages: [HandledMessage], at: Date) async throws -> Bool

    /// Removes every snapshot that expired at or before `instant`; returns how many.
    @discardableResult
    func deleteExpiredConversations(at instant: Date) async throws -> Int
}

/// Tickets by the time they were opened: what the status page's charts
/// of the last days are drawn from (issue 13).
public protocol TicketHistoryStore: Sendable {
    /// Tickets created at or after `from` and before `until`, oldest first
    /// (ties by number), at most `limit`.
    func tickets(createdFrom from: Date, until: Date, limit: Int) async throws -> [StoredTicket]
}

/// Small values a chat network adapter keeps across restarts, per network
/// (Matrix: the `/sync` position, so a restart neither answers old messages
/// again nor misses new ones; the device id, so the homeserver keeps
/// deduplicating transaction ids). Not for secrets.
public protocol NetworkStateStore: Sendable {
    /// The value stored under `network`/`key`, or nil.
    func networkState(network: String, key: String) async throws -> String?

    /// Stores `value` under `network`/`key`, replacing what was there;
    /// durable when it returns.
    func setNetworkState(network: String, key: String, value: String) async throws

    /// Records chat messages as handled by a bot step that wrote nothing
    /// else (a step that creates a ticket or saves a conversation records
    /// them in that transaction: ``NewTicket/handledMessages``,
    /// ``ConversationSnapshot/handledMessages``). Recording one twice keeps
    /// the first time.
    func markMessagesHandled(_ messages: [HandledMessage], at: Date) async throws

    /// Which of `ids` (source ids on `network`) are recorded as handled.
    func handledMessages(network: String, among ids: [String]) async throws -> Set<String>

    /// Forgets the handled messages of `network` recorded before `instant`
    /// (the network no longer delivers them again); returns how many.
    @discardableResult
    func forgetHandledMessages(network: String, before instant: Date) async throws -> Int
}

/// Several gateway instances on one store, one active (issue 10): a named
/// lease with a fencing token, and page claims checked against it.
///
/// **Why a lease row and not an advisory lock.** The lease is a row in the
/// store (name, holder, token, expiry): it works the same on SQLite (several
/// processes on one file; SQLite's write lock makes each statement on the row
/// atomic across them) and on PostgreSQL, survives a connection pooler (an
/// advisory lock is tied to one server session and is silently lost, or
/// kept, with it), and gives a **fencing token** the store itself can check:
/// an instance that stopped renewing (SIGSTOP, partition, hang) and comes
/// back still believing it is active has its page claims refused, which an
/// advisory lock cannot do once the session is gone.
///
/// **Whose clock decides expiry.** The store's: PostgreSQL uses the
/// server's clock (`now` is ignored there), so instances with skewed clocks
/// agree; SQLite has no server, so the caller's `now` (the wall clock of the
/// processes on the one machine sharing the file) decides.
///
/// **Tokens.** Every acquisition — by a new holder after expiry, or by the
/// same holder id again (a restarted instance) — takes a token greater than
/// any before, so a previous incarnation with the same name is fenced too.
/// Renewal keeps the token.
public protocol LeaseStore: Sendable {
    /// Takes lease `name` for `holder` until `now + ttl` with a new token,
    /// if it is free, expired, or held by the same holder id (a restart of
    /// that instance); nil while another holder's lease is unexpired.
    func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> LeaseGrant?

    /// Extends the lease to `now + ttl` if `token` is still its current
    /// token (no one acquired it since, even if it expired meanwhile); nil
    /// when it was taken over — the caller must stop acting as the holder.
    func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) async throws -> LeaseGrant?

    /// Ends the lease at once if `token` is still current (a clean stop: the
    /// standby need not wait for the TTL); false otherwise.
    @discardableResult
    func releaseLease(_ name: String, token: FencingToken, now: Date) async throws -> Bool

    /// The lease as stored (holder, token, expiry; possibly expired), or nil
    /// if it was never taken.
    func lease(_ name: String) async throws -> LeaseGrant?

    /// Claims pages for sending, in one transaction that first checks that
    /// `token` is lease `name`'s current token and unexpired at the deciding
    /// clock. A pending page not claimed by a later token is claimed (token
    /// and time recorded with it; re-claiming with the same token, e.g. for
    /// a retry, is allowed); a page sent or cancelled is ``PageClaim/notPending``;
    /// with a stale or expired token every page is ``PageClaim/fenced`` and
    /// nothing is written. A page claimed by an instance that died before
    /// ``PageOutboxStore/markPageSent(_:at:)`` is claimed again by the next
    /// holder (at least once).
    /// - Throws: ``TicketStoreError/pageNotFound(_:)`` for an unknown id.
    func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) async throws
        -> [PageID: PageClaim]
}

/// Everything the desk stores, as one value the gateway opens and closes.
public protocol DeskStore: TicketRecordStore, PageOutboxStore, RosterOverrideStore, CounterStore,
    PINAttemptStore, ConversationStore, TicketHistoryStore, NetworkStateStore, LeaseStore {
    /// The schema version of the open store (what `check-config` reports).
    func schemaVersion() async throws -> Int

    /// Finishes the calls already made, then releases the store; every later
    /// call throws ``TicketStoreError/closed``. Closing twice is harmless.
    func close() async
}

extension TicketRecordStore {
    /// Stores a new ticket without a customer conversation to save with it.
    public func createTicket(_ ticket: NewTicket, claimingPagesFor claim: LeaseClaim?,
                             makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) async throws -> TicketCommit {
        try await createTicket(ticket, claimingPagesFor: claim, makePages: makePages, conversation: nil)
    }

    /// Stores a new ticket whose pages are claimed later (or never: one
    /// instance alone, the console, tools).
    public func createTicket(_ ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft])
        async throws -> TicketCommit {
        try await createTicket(ticket, claimingPagesFor: nil, makePages: makePages)
    }

    /// Stores a new ticket with pages known beforehand (they cannot name the number).
    public func createTicket(_ ticket: NewTicket, pages: [PageDraft] = []) async throws -> TicketCommit {
        try await createTicket(ticket, makePages: { _ in pages })
    }

    /// Updates `stored` to `ticket`, based on the version it was read at.
    public func update(
        _ stored: StoredTicket, to ticket: Ticket, events: [TicketEvent], pages: [PageDraft] = [],
        cancelUnsentPages: Bool = false, handledMessages: [HandledMessage] = [],
        conversation: ConversationSnapshot? = nil
    ) async throws -> TicketCommit {
        try await updateTicket(ticket, expectedVersion: stored.version, events: events, pages: pages,
                               cancelUnsentPages: cancelUnsentPages, handledMessages: handledMessages,
                               conversation: conversation)
    }

    /// An update that records no chat message (a timer's, a tool's).
    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft], cancelUnsentPages: Bool
    ) async throws -> TicketCommit {
        try await updateTicket(ticket, expectedVersion: expectedVersion, events: events, pages: pages,
                               cancelUnsentPages: cancelUnsentPages, handledMessages: [], conversation: nil)
    }
}

extension ConversationStore {
    /// Removes a conversation, recording no chat message (expiry, a tool).
    @discardableResult
    public func deleteConversation(_ key: ConversationKey) async throws -> Bool {
        try await deleteConversation(key, handledMessages: [], at: Date())
    }
}

/// Names of counters that more than one part reads or writes.
public enum CounterName {
    /// Conversations a suggested KB article solved, keyed by the desk's local
    /// day (`2026-12-05`): the status page's deflection chart. (`deflected`
    /// counts the same per article.)
    public static let deflectedByDay = "deflected_day"
}

extension CounterStore {
    /// Adds 1 to a counter.
    @discardableResult
    public func incrementCounter(_ name: String, key: String) async throws -> Int64 {
        try await incrementCounter(name, key: key, by: 1)
    }
}
