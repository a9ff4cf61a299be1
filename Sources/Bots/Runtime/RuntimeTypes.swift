import Desk
import Foundation

/// How the bots use one chat network (from the gateway's configuration).
public struct NetworkBotSettings: Sendable, Hashable {
    /// The configured network name (matches `ChatNetwork.name`).
    public var name: String
    /// The agents' channel on this network, if any: pages, SLA warnings and
    /// announcements go there, and agent commands are taken there.
    public var agentsChannel: String?
    /// Channels where customers may address the bot (`switchboard: help`);
    /// the conversation then continues in a private message.
    public var supportChannels: [String]
    /// The network vouches for accounts (IRCv3 account-tag/extended-join
    /// acknowledged, or Matrix): agents are recognised by account only.
    /// Without accounts, by the mask the network adapter matches.
    public var hasAccounts: Bool
    /// The console adapter: `sender.account` *is* an agent id and is
    /// trusted as such (no network involved). Never set for a real network.
    public var trustsAgentIDs: Bool
    /// `de` or `en`: the language of channels on this network (agents'
    /// channel, KB answers in channels) and the default for customers whose
    /// first lines do not show their language.
    public var language: String
    /// People are written to by their account, not their nick (Matrix: an
    /// agent's page goes to the user id in their `accounts` for this
    /// network, which is also what a channel line mentions).
    public var addressesByAccount: Bool

    public init(name: String, agentsChannel: String? = nil, supportChannels: [String] = [], hasAccounts: Bool,
                trustsAgentIDs: Bool = false, language: String = "de", addressesByAccount: Bool = false) {
        self.name = name
        self.agentsChannel = agentsChannel
        self.supportChannels = supportChannels
        self.hasAccounts = hasAccounts
        self.trustsAgentIDs = trustsAgentIDs
        self.language = language
        self.addressesByAccount = addressesByAccount
    }

    var defaultLanguage: Language { Language(word: language) ?? .en }
}

/// Counters of the bots for `/metrics` (Prometheus): totals since start,
/// plus a few current values.
public struct BotMetrics: Sendable, Hashable {
    /// Conversations going on now.
    public var conversationsActive = 0
    public var conversationsStarted = 0
    public var ticketsCreatedContract = 0
    public var ticketsCreatedNoContract = 0
    /// Conversations that ended with "yes, the article helps".
    public var deflected = 0
    /// Pages (and announcements) the networks confirmed as sent.
    public var pagesSent = 0
    /// Failed page attempts (retried until ``AgentSettings/pageAttempts``).
    public var pageFailures = 0
    /// Pages given up after ``AgentSettings/pageAttempts`` refusals (the next
    /// escalation step was paged and the agents' channel warned).
    public var pagesGivenUp = 0
    /// Pages handed to a network and not confirmed yet.
    public var pagesInFlight = 0
    public var pinFailures = 0
    /// PIN checks refused by a budget (no PIN hashed; issue 14).
    public var pinChecksRefused = 0
    /// Warnings of PIN guessing posted to the agents (once per attack).
    public var pinAttackWarnings = 0
    public var agentCommands = 0
    /// Agent commands refused because the sender is no agent.
    public var agentCommandsRefused = 0
    public var kbQueries = 0
    public var slaWarnings = 0
    public var slaBreaches = 0
    /// Tickets waiting for an agent now.
    public var queueLength = 0
    /// Store operations that failed (each was logged and reported).
    public var storeErrors = 0
    /// New customers told the desk is busy: a conversation bound was reached.
    public var conversationsRefused = 0
    /// Pages not sent because the store refused their claim: this instance's
    /// fencing token was no longer the lease's (issue 10).
    public var pagesFenced = 0
    /// Page lines a network's send queue did not write because the lease
    /// view had run out when their turn came (``ChatDelivery/withheld(id:reason:)``);
    /// each page stays pending and is sent again while the lease holds.
    public var pagesWithheld = 0

    public init() {}
}

/// Who a conversation is with: the account where the network vouches for
/// one, else the nick — each normalised by the network's own rule
/// (``ChatNetwork/normalized(_:kind:)``); a nick-keyed conversation follows
/// nick changes.
struct ConversationKey: Hashable, Sendable, Codable, CustomStringConvertible {
    var network: String
    var byAccount: Bool
    var id: String

    init(_ identity: ChatIdentity, normalize: (String, ChatNameKind) -> String) {
        network = identity.network
        if let account = identity.account, !account.isEmpty {
            byAccount = true
            id = normalize(account, .account)
        } else {
            byAccount = false
            id = normalize(identity.nick, .user)
        }
    }

    init(network: String, nick: String, normalize: (String, ChatNameKind) -> String) {
        self.network = network
        byAccount = false
        id = normalize(nick, .user)
    }

    var description: String { "\(network):\(byAccount ? "" : "~")\(id)" }
}

/// After the ticket was created: the customer's lines go to the ticket.
/// Stored as it is between restarts (``StoredConversation``).
struct FollowUp: Codable, Equatable {
    var number: TicketNumber
    var group: CustomerGroup
    /// A non-contract customer was offered to leave a message.
    var offerMade = false
    /// The next line is that message (confirmed as such).
    var awaitingMessage = false
    /// Lines arriving within the burst window are relayed together.
    var burstEnds: Date?
    var buffered: [String] = []
    var lastAck: Date?
    var toldRelayed = false
}

/// A text said to a customer and not yet reported sent, with the
/// transaction id it went out under (``Conversation/pending``).
struct PendingText: Codable, Equatable, Sendable {
    var text: String
    var transactionID: String
    var saidAt: Date
}

/// A conversation with one customer.
struct Conversation {
    enum Phase {
        case intake(Intake)
        case ticket(FollowUp)
    }

    /// Unique per conversation, so a late PIN result finds the right one.
    let serial: UInt64
    var key: ConversationKey
    var identity: ChatIdentity
    var language: Language
    var phase: Phase
    var lastActivity: Date
    /// Messages (one line each, commands too) that arrived while a PIN was
    /// being checked, in arrival order; handled when the result is in.
    var held: [ChatMessage] = []
    /// What the intake's last step said to the customer, kept (and stored)
    /// until the network reports it sent, on a network that deduplicates
    /// texts sent again (``ChatNetwork/resendWindow``): a restart sends what
    /// is still here again, so a question committed but lost in a crash
    /// still reaches the customer.
    var pending: [PendingText] = []

    /// A PIN check for this customer is running.
    var verifying: Bool {
        if case .intake(let intake) = phase { intake.verifying } else { false }
    }

    var ticketNumber: TicketNumber? {
        if case .ticket(let followUp) = phase { followUp.number } else { nil }
    }
}

/// What the timer loop waits for, besides the conversations' timers
/// (``SupportBot``) and the escalation and SLA deadlines
/// (``EscalationScheduler``).
enum TimerKey: Hashable, Sendable {
    /// Send pages that are due (retries) or whose delivery timed out.
    case pages
    /// Look at the networks' send queues again (set only while lines wait).
    case backlog
}

/// A page handed to a network and not yet confirmed.
struct InFlightPage {
    var ticket: TicketNumber
    var step: Int
    var target: String
    var attempts: Int
    var handedOver: Date
}

/// The runtime's FIFO gate: whether an input is being handled, and the
/// inputs waiting for their turn, in arrival order.
struct Turns {
    var busy = false
    var waiting: [CheckedContinuation<Void, Never>] = []
    /// Delivery reports that arrived while the turn was taken (see
    /// ``BotRuntime/handle(_:)-(ChatDelivery)``).
    var deliveries: [ChatDelivery] = []
}

/// A page the network refused ``AgentSettings/pageAttempts`` times is kept
/// in the store's outbox as due at ``due`` (never, in practice), with the
/// reason as its last error, so `switchboard tickets show` can say it was
/// given up and no restart sends it again.
public enum GivenUpPage {
    /// 3000-01-01T00:00:00Z.
    public static let due = Date(timeIntervalSince1970: 32_503_680_000)

    /// Whether `page` was given up.
    public static func isGivenUp(_ page: PageRecord) -> Bool { page.sentAt == nil && page.dueAt >= due }
}

/// One contract-PIN check for the ``PINCheckWorker``: the customer
/// directory as it was when the check was asked for, the number, the PIN.
struct PINCheckJob: Sendable {
    var customers: CustomerDirectory
    var number: String
    var pin: String
}

/// The hash the worker runs for a job, on its own threads: slow on purpose
/// (PBKDF2). Tests pass a gate they control.
typealias PINHashFunction = @Sendable (PINCheckJob) -> Bool

/// The runtime's PIN checks: one sender is one conversation.
typealias PINWorker = PINCheckWorker<ConversationKey, PINCheckJob, Bool>

/// The lease this runtime's gateway holds (issue 10): with it set, every page
/// is claimed in the store with the fencing token before it is handed to a
/// network (``LeaseStore/claimPages(_:lease:token:now:)``), so an instance
/// that lost the lease without knowing — hung, partitioned — sends no page
/// the new active instance sends too.
public struct PageFence: Sendable, Hashable {
    /// The lease's name in the store.
    public var lease: String
    /// The token this instance was granted.
    public var token: FencingToken

    public init(lease: String, token: FencingToken) {
        self.lease = lease
        self.token = token
    }
}

/// A line a ticket change says once it is committed, with the outbox step
/// that names it where it goes through the outbox
/// (``BotRuntime/change(_:_:by:pages:cancelUnsentPages:now:lines:)``):
/// ``PageDraft/commandAnswerStep`` for lines to agents,
/// ``PageDraft/customerNoticeStep`` for a line to the customer.
struct CommittedLine {
    var action: ChatAction
    var step: Int

    /// The outbox entry that says this line (its delivery id is the entry's id).
    func draft(at now: Date) -> PageDraft {
        let (target, kind): (String, PageTargetKind) = switch action.recipient {
        case .user(let nick): (nick, .direct)
        case .channel(let name): (name, .room)
        }
        return PageDraft(step: step, network: action.network, target: target, targetKind: kind, text: action.text,
                         createdAt: now)
    }
}
