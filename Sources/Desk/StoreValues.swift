import Foundation

// The values the store protocols in `DeskStore.swift` take and return:
// tickets as stored, pages of the outbox, roster overrides, and the errors
// a store reports about the data.

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
    /// The chat messages whose step creates this ticket: recorded as handled
    /// in the creation's transaction (``HandledMessage``), so a message
    /// delivered again after a crash that followed the commit is skipped,
    /// not made into a second answer. Not part of the ticket.
    public var handledMessages: [HandledMessage]

    public init(
        createdAt: Date, createdBy: Actor, customerNumber: String?, customerName: String,
        contact: ChatIdentity, group: CustomerGroup, tier: String?, severity: Severity,
        summary: String, description: String, language: String, contractClaimPINLocked: Bool = false,
        handledMessages: [HandledMessage] = []
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
        self.handledMessages = handledMessages
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
        TicketEvent.created(ticket(number: number), by: createdBy)
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
    /// For a creation asked to claim its pages under a lease
    /// (``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``):
    /// ``PageClaim/claimed`` when every page was claimed with the token in
    /// the creation's own transaction (send them without claiming again), or
    /// ``PageClaim/fenced`` when the token was stale (the ticket and its pages
    /// are stored, unclaimed, for the active instance to send). Nil when no
    /// claim was asked or there are no pages.
    public var pageClaim: PageClaim?
    /// The customer conversation's snapshot a creation saved in its own
    /// transaction (``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:conversation:)``);
    /// nil when it saved none.
    public var conversation: ConversationSnapshot?

    public init(stored: StoredTicket, pages: [PageRecord], pageClaim: PageClaim? = nil,
                conversation: ConversationSnapshot? = nil) {
        self.stored = stored
        self.pages = pages
        self.pageClaim = pageClaim
        self.conversation = conversation
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

extension PageDraft {
    /// The step of a customer's ticket confirmation written to the outbox
    /// with its ticket, where the network delivers a message again after a
    /// crash (Matrix): the message is then skipped as handled, so its answer
    /// must survive the crash as a page does. Beyond any escalation step
    /// (a policy has a few), so escalation never takes it for one.
    public static let customerConfirmationStep = 1000

    /// The step of an agent command's answer, and of its echo in the
    /// agents' room, written to the outbox with the command's ticket change
    /// where the network delivers the command again after a crash (Matrix):
    /// the command is skipped as handled then, so what it said must survive
    /// as a page does (`!next` tells the agent which ticket they hold).
    /// A customer's follow-up line relayed to the agent who holds the
    /// ticket (and a `!cancel`'s note to the agents) goes the same way.
    public static let commandAnswerStep = 1001

    /// The step of a line to the customer that an agent's command says
    /// (taken, acknowledged, the agent's `!reply` relayed, resolved,
    /// waiting), written to the outbox like ``commandAnswerStep``; also the
    /// bot's own answer to a customer's line on their ticket (a follow-up's
    /// "passed on", a `!cancel`'s "withdrawn").
    public static let customerNoticeStep = 1002

    /// Steps from here on are notices (a confirmation, a command's answer, a
    /// line to the customer), not escalation steps: they do not alert, are
    /// not counted as pages, may repeat on one ticket, and an update's
    /// `cancelUnsentPages` leaves them to be sent (a notice is said once its
    /// change is committed, whatever the ticket's escalation does next).
    public static let firstNoticeStep = 1000

    /// The entry is a notice, not a page to an agent (``firstNoticeStep``).
    public var isNotice: Bool { step >= PageDraft.firstNoticeStep }
}

extension PageRecord {
    /// The outbox entry is the customer's ticket confirmation, not a page to
    /// an agent (``PageDraft/customerConfirmationStep``).
    public var isCustomerConfirmation: Bool { step == PageDraft.customerConfirmationStep }

    /// The entry is a notice, not a page to an agent (``PageDraft/firstNoticeStep``).
    public var isNotice: Bool { step >= PageDraft.firstNoticeStep }

    /// How people see the entry's step in `tickets show` and on the status
    /// page: `step 2` for an escalation step, `confirmation` for the
    /// customer's confirmation (not "step 1000"), `command answer` for an
    /// agent command's answer, `customer notice` for its line to the customer.
    public var stepLabel: String {
        switch step {
        case PageDraft.customerConfirmationStep: "confirmation"
        case PageDraft.commandAnswerStep: "command answer"
        case PageDraft.customerNoticeStep: "customer notice"
        default: "step \(step)"
        }
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

/// What a ``DeskStore`` reports about the data (the SQLite layer's own
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

// MARK: - Leases (several gateway instances, one active; issue 10)

/// The number a lease grant carries: strictly greater for every new holder
/// (and for every new acquisition by the same holder), never reused. Writes
/// that must come from the active instance only (``LeaseStore/claimPages(_:lease:token:now:)``)
/// name it, and the store refuses a token that is no longer the current,
/// unexpired one — so an instance that lost its lease without noticing (a
/// hung or partitioned process) cannot act on it.
public struct FencingToken: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: FencingToken, rhs: FencingToken) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "\(rawValue)" }
}

/// A lease held: who, with which token, until when (by the clock that
/// decides expiry — see ``LeaseStore``).
public struct LeaseGrant: Sendable, Hashable {
    /// The lease's name (one per set of instances sharing a store).
    public var name: String
    /// The holder id the caller gave (an instance name, e.g. `gw-a`).
    public var holder: String
    public var token: FencingToken
    /// When the lease ends unless renewed, by the deciding clock.
    public var expiresAt: Date
    /// When this holder acquired it (this token's start).
    public var acquiredAt: Date
    /// How many acquisitions took the lease from another holder id, over the
    /// lease's life (`/metrics`: takeovers between instances).
    public var takeovers: Int64

    public init(name: String, holder: String, token: FencingToken, expiresAt: Date, acquiredAt: Date,
                takeovers: Int64 = 0) {
        self.name = name
        self.holder = holder
        self.token = token
        self.expiresAt = expiresAt
        self.acquiredAt = acquiredAt
        self.takeovers = takeovers
    }
}

/// The lease a new ticket's pages are claimed under inside its creation
/// transaction (``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``):
/// the active instance's lease name and fencing token, as for
/// ``LeaseStore/claimPages(_:lease:token:now:)``.
public struct LeaseClaim: Sendable, Hashable {
    /// The lease's name in the store.
    public var lease: String
    /// The token the caller was granted.
    public var token: FencingToken

    public init(lease: String, token: FencingToken) {
        self.lease = lease
        self.token = token
    }
}

/// What a fenced claim of a page found (``LeaseStore/claimPages(_:lease:token:now:)``).
public enum PageClaim: Sendable, Hashable {
    /// The page is this token's to send now; the claim (token, time) is
    /// recorded with the page.
    case claimed
    /// Sent or cancelled already (by this or another instance): not sent.
    case notPending
    /// The token is not the lease's current, unexpired one (or a later token
    /// claimed the page): this instance must stop sending.
    case fenced
}
