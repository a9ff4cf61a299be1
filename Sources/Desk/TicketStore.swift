import Foundation

// The synchronous persistence seam the bots still call, being replaced by
// the async protocols in `DeskStore.swift`. `Store.SQLiteStore` implements
// it as a blocking view of `Store.SQLiteDeskStore`. The value types below
// (tickets, pages, overrides) are shared by both.

/// Durable storage of tickets, their audit trail, the outbox of pages and the
/// small tables the bots keep (roster overrides, counters, failed PINs).
///
/// **Being replaced** by the async protocols split by concern in
/// `DeskStore.swift` (``DeskStore`` and its parts); it stays only until the
/// bots call those, then it is deleted. New code uses ``DeskStore``.
///
/// The API is synchronous and blocks the calling thread until the store has
/// done the work. Every method that writes does so in one
/// transaction: it either happens completely or not at all, and it returns
/// only after the commit is durable.
///
/// **Numbers.** The store assigns ticket numbers. A number is returned only
/// after the transaction that created the ticket has committed, so a number
/// told to a customer always names a stored ticket. Numbers strictly increase
/// and never repeat, also after a crash or after rows were deleted.
///
/// **Optimistic concurrency.** Every stored ticket has a `version`, starting
/// at 1 and raised by every update. An update names the version it was based
/// on; if someone else updated the ticket in between, it fails with
/// ``TicketStoreError/conflict(_:expectedVersion:currentVersion:)`` and
/// changes nothing. The caller re-reads the ticket and decides again (two
/// agents typing `!take 42` at once: one gets it, the other is told who did).
///
/// **Outbox of pages (at-least-once).** A page is written in the same
/// transaction as the ticket change that causes it, and sent afterwards by
/// the chat layer, which reads ``pendingPages(dueBy:limit:)`` and reports
/// back with ``markPageSent(_:at:)`` or ``markPageFailed(_:error:retryAt:)``.
/// A crash after the commit and before the send loses nothing: the page is
/// still pending when the gateway starts again and is sent then. A crash
/// after the send and before `markPageSent` sends it a second time; pages are
/// delivered at least once, never zero times.
///
/// **Escalation steps.** Each page belongs to a step of the ticket's
/// escalation (0 = the first notification when the ticket is created,
/// 1, 2, … the repeats and widenings). A step is written once: writing pages
/// for a step the ticket already has fails with
/// ``TicketStoreError/escalationStepExists(_:step:)``, so escalation that
/// resumes after a restart (``escalationSteps(of:)``) never pages a step twice.
public protocol TicketStore: Sendable {
    // MARK: Tickets

    /// Stores a new ticket (state ``TicketState/new``, version 1) with its
    /// `created` event and its pages, in one transaction, and returns it with
    /// the number the store assigned — only after the commit succeeded.
    ///
    /// `makePages` is called inside that transaction with the number the
    /// store just assigned, so the pages can name the ticket (`#42`) although
    /// the number is not known before: the page that tells an agent about
    /// ticket 42 is written atomically with ticket 42. It is called at most
    /// once per attempt, possibly on another thread (the store's own
    /// thread), and must not call the store. Pages it returns that are
    /// invalid (see ``PageDraft``) fail the creation, and nothing is stored.
    func createTicket(_ ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit

    /// The ticket with this number, or nil if there is none.
    func ticket(_ number: TicketNumber) throws -> StoredTicket?

    /// The ticket's audit trail, oldest first (the order they were written).
    func events(of number: TicketNumber) throws -> [TicketEvent]

    /// Every open ticket (``TicketState/isOpen``), by number: what the
    /// in-memory queue is rebuilt from when the gateway starts.
    func openTickets() throws -> [StoredTicket]

    /// Tickets opened by this chat identity, newest first. With an account
    /// the identity matches tickets opened with the same account on the same
    /// network; without one, tickets opened by the same nick *without* an
    /// account (a nick alone never matches a logged-in customer's tickets).
    /// Account and nick compare ASCII case-insensitively.
    func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket]

    /// Tickets of a customer number, newest first.
    func tickets(customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket]

    /// The newest tickets, newest first (`switchboard tickets list`).
    func recentTickets(limit: Int) throws -> [StoredTicket]

    /// Replaces the stored ticket `ticket.number` with `ticket`, appends
    /// `events` to its audit trail and `pages` to the outbox, in one
    /// transaction — if the stored version is still `expectedVersion`.
    ///
    /// `cancelUnsentPages` first cancels the ticket's pages that were not
    /// sent yet, as of `ticket.updatedAt` (an acknowledged ticket stops its
    /// escalation); new `pages` are written after that. The creation time
    /// and number never change. Returns the ticket as now stored.
    ///
    /// - Throws: ``TicketStoreError/conflict(_:expectedVersion:currentVersion:)``
    ///   when the ticket was updated since `expectedVersion`;
    ///   ``TicketStoreError/ticketNotFound(_:)``;
    ///   ``TicketStoreError/escalationStepExists(_:step:)``;
    ///   ``TicketStoreError/invalid(_:)`` for an event of another ticket.
    func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent],
        pages: [PageDraft], cancelUnsentPages: Bool
    ) throws -> TicketCommit

    // MARK: Outbox of pages

    /// Pages not sent and not cancelled whose due time is at or before
    /// `dueBy`, earliest due first (ties by id, i.e. by writing order).
    func pendingPages(dueBy: Date, limit: Int) throws -> [PageRecord]

    /// The earliest due time of any pending page, to know when to look again.
    func nextPageDue() throws -> Date?

    /// Every page of a ticket, by id.
    func pages(of number: TicketNumber) throws -> [PageRecord]

    /// Records that the chat layer sent the page. Marking a page that was
    /// already sent changes nothing (the first time is kept).
    /// - Throws: ``TicketStoreError/pageNotFound(_:)``.
    func markPageSent(_ id: PageID, at: Date) throws

    /// Records a failed attempt: counts it, keeps the error text and makes
    /// the page due again at `retryAt`. A page already sent stays sent.
    /// - Throws: ``TicketStoreError/pageNotFound(_:)``.
    func markPageFailed(_ id: PageID, error: String, retryAt: Date) throws

    /// The escalation steps the ticket already has pages for.
    func escalationSteps(of number: TicketNumber) throws -> Set<Int>

    // MARK: Roster overrides (`!oncall override NICK until TIME`)

    /// Stores an override and returns it with its id.
    func addRosterOverride(_ draft: RosterOverrideDraft) throws -> SavedRosterOverride

    /// Overrides in force at `instant` (`from <= instant < until`), the most
    /// recently created first: the first one wins.
    func rosterOverrides(activeAt instant: Date) throws -> [SavedRosterOverride]

    /// Overrides that end after `instant` (in force now or later), by start.
    func rosterOverrides(endingAfter instant: Date) throws -> [SavedRosterOverride]

    /// Removes an override; false if there was none with this id.
    @discardableResult
    func removeRosterOverride(_ id: RosterOverrideID) throws -> Bool

    // MARK: Counters (`!stats`)

    /// Adds `delta` to the counter `name`/`key` (created at 0) and returns
    /// the new value. Example: name `deflected`, key the KB article id.
    @discardableResult
    func incrementCounter(_ name: String, key: String, by delta: Int64) throws -> Int64

    /// Every key of the counter `name` with its value.
    func counters(_ name: String) throws -> [String: Int64]

    // MARK: Failed PIN attempts

    /// Logs one wrong contract PIN.
    func recordFailedPIN(_ attempt: FailedPINAttempt) throws

    /// Failed attempts at or after `since`, oldest first, for a customer
    /// number and/or a chat identity (nil matches any).
    func failedPINAttempts(customerNumber: String?, identity: ChatIdentity?, since: Date) throws
        -> [FailedPINAttempt]
}

extension TicketStore {
    /// Stores a new ticket with pages known beforehand (they cannot name
    /// the ticket's number); see ``TicketStore/createTicket(_:makePages:)``.
    public func createTicket(_ ticket: NewTicket, pages: [PageDraft]) throws -> TicketCommit {
        try createTicket(ticket, makePages: { _ in pages })
    }

    /// Creates a ticket with no pages (a non-contract ticket that is only
    /// announced, or a test).
    public func createTicket(_ ticket: NewTicket) throws -> TicketCommit {
        try createTicket(ticket, pages: [])
    }

    /// ``TicketStore/updateTicket(_:expectedVersion:events:pages:cancelUnsentPages:)``
    /// with no pages and without cancelling any.
    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent]
    ) throws -> TicketCommit {
        try updateTicket(ticket, expectedVersion: expectedVersion, events: events, pages: [],
                         cancelUnsentPages: false)
    }

    /// Updates the stored version of `stored.ticket` (see
    /// ``TicketStore/updateTicket(_:expectedVersion:events:pages:cancelUnsentPages:)``).
    public func update(
        _ stored: StoredTicket, to ticket: Ticket, events: [TicketEvent], pages: [PageDraft] = [],
        cancelUnsentPages: Bool = false
    ) throws -> TicketCommit {
        try updateTicket(ticket, expectedVersion: stored.version, events: events, pages: pages,
                         cancelUnsentPages: cancelUnsentPages)
    }

    /// Adds 1 to a counter.
    @discardableResult
    public func incrementCounter(_ name: String, key: String) throws -> Int64 {
        try incrementCounter(name, key: key, by: 1)
    }
}

// MARK: - Values

/// Everything a new ticket has before the store gives it a number: the
/// ticket starts in state ``TicketState/new`` at version 1.
public struct NewTicket: Sendable, Hashable {
    public var createdAt: Date
    /// Who opened it; the actor of the `created` event.
    public var createdBy: Actor
    public var customerNumber: String?
    public var customerName: String
    public var contact: ChatIdentity
    public var group: CustomerGroup
    public var tier: String?
    public var severity: Severity
    public var summary: String
    public var description: String
    public var language: String
    /// See ``Ticket/contractClaimPINLocked``.
    public var contractClaimPINLocked: Bool

    public init(
        createdAt: Date, createdBy: Actor, customerNumber: String?, customerName: String,
        contact: ChatIdentity, group: CustomerGroup, tier: String?, severity: Severity,
        summary: String, description: String, language: String, contractClaimPINLocked: Bool = false
    ) {
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.customerNumber = customerNumber
        self.customerName = customerName
        self.contact = contact
        self.group = group
        self.tier = tier
        self.severity = severity
        self.summary = summary
        self.description = description
        self.language = language
        self.contractClaimPINLocked = contractClaimPINLocked
    }

    /// The ticket this becomes once the store gave it `number`.
    public func ticket(number: TicketNumber) -> Ticket {
        Ticket(number: number, createdAt: createdAt, updatedAt: createdAt, customerNumber: customerNumber,
               customerName: customerName, contact: contact, group: group, tier: tier, severity: severity,
               summary: summary, description: description, language: language, state: .new,
               contractClaimPINLocked: contractClaimPINLocked)
    }

    /// The `created` event the store writes with the ticket: by
    /// ``createdBy`` at ``createdAt``, `to` the new ticket's priority label.
    public func createdEvent(number: TicketNumber) -> TicketEvent {
        TicketEvent(ticket: number, at: createdAt, actor: createdBy, kind: .created, from: nil,
                    to: Priority(group: group, severity: severity).label, note: summary)
    }
}

/// A ticket as stored, with the version an update must name.
public struct StoredTicket: Sendable, Hashable {
    public var ticket: Ticket
    /// 1 when created, raised by one with every update.
    public var version: Int64

    public init(ticket: Ticket, version: Int64) {
        self.ticket = ticket
        self.version = version
    }

    public var number: TicketNumber { ticket.number }
}

/// What a committed create or update returns.
public struct TicketCommit: Sendable, Hashable {
    /// The ticket as now stored, with its new version.
    public var stored: StoredTicket
    /// The pages written in the same transaction, with their ids.
    public var pages: [PageRecord]

    public init(stored: StoredTicket, pages: [PageRecord]) {
        self.stored = stored
        self.pages = pages
    }

    public var ticket: Ticket { stored.ticket }
    public var number: TicketNumber { stored.ticket.number }
    public var version: Int64 { stored.version }
}

/// The id of a page in the outbox.
public struct PageID: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: PageID, rhs: PageID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "page \(rawValue)" }
}

/// Whether a page goes to one person (a direct conversation: an IRC private
/// message, a Matrix direct chat) or to a room (an IRC channel, a Matrix
/// room). Stored with each page, so the chat layer never has to guess from
/// the target's spelling.
public enum PageTargetKind: String, Sendable, Hashable, CaseIterable {
    case direct
    case room

    /// The kind a target string spells in the old, untyped form: IRC channel
    /// prefixes (`#`, `&`, `+`, `!`, RFC 2811 section 2.1) and Matrix room
    /// ids and aliases (`!`, `#`) are rooms, anything else a direct target.
    /// Pages stored before the kind existed were migrated by this rule.
    public static func inferred(from target: String) -> PageTargetKind {
        switch target.first {
        case "#", "&", "+", "!": .room
        default: .direct
        }
    }
}

/// A page to write to the outbox, before it has an id. The ticket it belongs
/// to is the ticket it is written with.
public struct PageDraft: Sendable, Hashable {
    /// The escalation step (0 = the first notification at creation).
    public var step: Int
    /// The configured network name to send on.
    public var network: String
    /// A nick or user id (``targetKind`` direct) or a channel or room (e.g.
    /// `#support-agents`, ``targetKind`` room).
    public var target: String
    public var targetKind: PageTargetKind
    /// The text as the bot will send it; the chat layer still sanitises it.
    public var text: String
    public var createdAt: Date
    /// When it is to be sent (usually `createdAt`).
    public var dueAt: Date

    /// Without `targetKind` the kind is ``PageTargetKind/inferred(from:)`` the target.
    public init(step: Int, network: String, target: String, targetKind: PageTargetKind? = nil, text: String,
                createdAt: Date, dueAt: Date? = nil) {
        self.step = step
        self.network = network
        self.target = target
        self.targetKind = targetKind ?? .inferred(from: target)
        self.text = text
        self.createdAt = createdAt
        self.dueAt = dueAt ?? createdAt
    }
}

/// A page in the outbox.
public struct PageRecord: Sendable, Hashable, Identifiable {
    public var id: PageID
    public var ticket: TicketNumber
    public var step: Int
    public var network: String
    public var target: String
    public var targetKind: PageTargetKind
    public var text: String
    public var createdAt: Date
    /// When it is (next) due: the first due time, or the retry time after a
    /// failed attempt.
    public var dueAt: Date
    /// When the chat layer confirmed it went out.
    public var sentAt: Date?
    /// When an update cancelled it before it was sent.
    public var cancelledAt: Date?
    /// Send attempts so far (failed ones, plus the successful one).
    public var attempts: Int
    /// The error of the last failed attempt.
    public var lastError: String?

    public init(
        id: PageID, ticket: TicketNumber, step: Int, network: String, target: String,
        targetKind: PageTargetKind? = nil, text: String, createdAt: Date, dueAt: Date, sentAt: Date? = nil,
        cancelledAt: Date? = nil, attempts: Int = 0, lastError: String? = nil
    ) {
        self.id = id
        self.ticket = ticket
        self.step = step
        self.network = network
        self.target = target
        self.targetKind = targetKind ?? .inferred(from: target)
        self.text = text
        self.createdAt = createdAt
        self.dueAt = dueAt
        self.sentAt = sentAt
        self.cancelledAt = cancelledAt
        self.attempts = attempts
        self.lastError = lastError
    }

    /// Neither sent nor cancelled.
    public var isPending: Bool { sentAt == nil && cancelledAt == nil }
}

/// The id of a roster override.
public struct RosterOverrideID: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: RosterOverrideID, rhs: RosterOverrideID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "override \(rawValue)" }
}

/// `!oncall override NICK until TIME`, before it is stored.
public struct RosterOverrideDraft: Sendable, Hashable {
    /// The agent id (from the configuration) who is on duty instead.
    public var agent: String
    public var from: Date
    public var until: Date
    /// Why (shown by `!oncall`), e.g. "set by anna".
    public var reason: String
    /// Who made it.
    public var createdBy: Actor
    public var createdAt: Date

    public init(agent: String, from: Date, until: Date, reason: String = "", createdBy: Actor, createdAt: Date) {
        self.agent = agent
        self.from = from
        self.until = until
        self.reason = reason
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A roster override made at run time and kept in the store: `agent` is on
/// duty from `from` until `until` (exclusive), whatever the rota says. The
/// desk's ``Roster`` works with ``RosterOverride``; ``rosterOverride`` converts.
public struct SavedRosterOverride: Sendable, Hashable, Identifiable {
    public var id: RosterOverrideID
    public var agent: String
    public var from: Date
    public var until: Date
    public var reason: String
    public var createdBy: Actor
    public var createdAt: Date

    public init(id: RosterOverrideID, agent: String, from: Date, until: Date, reason: String = "",
                createdBy: Actor, createdAt: Date) {
        self.id = id
        self.agent = agent
        self.from = from
        self.until = until
        self.reason = reason
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// Whether it is in force at `instant`.
    public func isActive(at instant: Date) -> Bool { from <= instant && instant < until }

    /// Roster ids of stored overrides start here, so they never collide with
    /// the ids of overrides from the configuration file (1, 2, …).
    public static let rosterIDBase = 1_000_000

    /// The override as the desk's ``Roster`` takes it (id ``rosterIDBase`` + store id).
    public var rosterOverride: RosterOverride {
        let creator: String? = switch createdBy {
        case .agent(let id): id
        case .customer(let id): id
        case .system: "system"
        }
        return RosterOverride(id: Self.rosterIDBase + Int(id.rawValue), agent: agent, from: from, until: until,
                              reason: reason, createdBy: creator)
    }

    /// The store id of a roster override id made by ``rosterOverride``; nil
    /// for overrides from the configuration.
    public static func storeID(ofRosterID rosterID: Int) -> RosterOverrideID? {
        rosterID > rosterIDBase ? RosterOverrideID(rawValue: Int64(rosterID - rosterIDBase)) : nil
    }
}

/// One wrong contract PIN (SPEC.md: three wrong PINs are logged).
public struct FailedPINAttempt: Sendable, Hashable {
    public var customerNumber: String
    public var identity: ChatIdentity
    public var at: Date

    public init(customerNumber: String, identity: ChatIdentity, at: Date) {
        self.customerNumber = customerNumber
        self.identity = identity
        self.at = at
    }
}

/// What a ``TicketStore`` reports about the data (the SQLite layer's own
/// errors, such as a full disk, carry their result code instead).
public enum TicketStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The ticket was updated since the version the update was based on.
    case conflict(TicketNumber, expectedVersion: Int64, currentVersion: Int64)
    case ticketNotFound(TicketNumber)
    case pageNotFound(PageID)
    /// Pages for this escalation step of the ticket were written before.
    case escalationStepExists(TicketNumber, step: Int)
    /// The call asked for something that cannot be stored (says what).
    case invalid(String)
    /// A stored value cannot be read back (says which and where).
    case corrupt(String)
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case .conflict(let number, let expected, let current):
            "ticket \(number) was changed by someone else (update based on version \(expected), "
                + "stored version is \(current)); read it again and retry"
        case .ticketNotFound(let number): "ticket \(number) does not exist"
        case .pageNotFound(let id): "\(id) does not exist"
        case .escalationStepExists(let number, let step):
            "ticket \(number) already has pages for escalation step \(step)"
        case .invalid(let why): "invalid store request: \(why)"
        case .corrupt(let what): "stored data cannot be read: \(what)"
        case .closed: "the ticket store is closed"
        }
    }
}
