import Desk
import Foundation

// The seam between chat networks and the bots (STYLE.md: "the bots speak to a
// `ChatNetwork` protocol, so a Matrix adapter or the terminal console is one
// more adapter, not a fork of the bot logic").
//
// Adapters turn their protocol into `ChatEvent`s and carry out `ChatAction`s.
// Nothing here knows IRC: the IRC adapter (Gateway) has already stripped
// formatting, decided whether a channel line addresses the bot, and filled in
// the sender's account from account-tag / extended-join / WHOX.

/// Where a message was said.
public enum ChatPlace: Sendable, Hashable, CustomStringConvertible {
    /// A private message to the bot.
    case direct
    /// A channel (IRC) or group room (Matrix) the bot is in.
    case channel(String)

    public var description: String {
        switch self {
        case .direct: "direct"
        case .channel(let name): name
        }
    }
}

/// Who a sender is, as the adapter establishes it. The bots never derive it
/// from a nick or parse it: they compare an account (under the network's
/// ``ChatNetwork/normalized(_:kind:)``) or ask the network whether the
/// principal matches an agent's configured mask
/// (``ChatNetwork/principal(_:matchesMask:)``).
public enum ChatPrincipal: Sendable, Hashable, CustomStringConvertible {
    /// The network vouches for this account (IRCv3 account-tag,
    /// extended-join, account-notify, WHOX; a Matrix user id).
    case account(String)
    /// No account: a stable identity the adapter derives from what the
    /// network tells about the connection (the IRC adapter: the source mask of the line). It proves
    /// only what an agent's mask on that network accepts.
    case unverified(String)

    /// The vouched-for account, or nil.
    public var account: String? {
        if case .account(let account) = self { account } else { nil }
    }

    public var description: String {
        switch self {
        case .account(let account): "account \(account)"
        case .unverified(let identity): "unverified \(identity)"
        }
    }
}

/// A line of text someone wrote where the bot can read it.
public struct ChatMessage: Sendable, Hashable {
    /// Who wrote it and how to answer (`sender.nick`). `sender.account` is
    /// ``principal``'s account: set only when the network vouches for it.
    public var sender: ChatIdentity
    /// Who the sender is, as the adapter established it.
    public var principal: ChatPrincipal
    public var place: ChatPlace
    /// The text with formatting codes removed. For a channel line addressed
    /// to the bot (`switchboard: help`) the address is removed too.
    public var text: String
    /// In a channel: whether the line addressed the bot by name. Always true
    /// for a direct message.
    public var addressedToBot: Bool
    /// When the network says it was sent (IRCv3 server-time), else when it
    /// arrived.
    public var time: Date
    /// The sender described an action rather than saying something (IRC
    /// `/me`, CTCP ACTION; Matrix `m.emote`): `text` is the action without
    /// the sender's name ("is still waiting"). Never a command.
    public var isAction: Bool
    /// The network's id of the message (a Matrix event id), where the
    /// network may deliver it again (Matrix re-sends a batch after a crash
    /// before its `/sync` position was stored); nil on IRC. The bots record
    /// it as handled in their step's last commit (``Desk/HandledMessage``),
    /// so the adapter can skip it when it comes again.
    public var sourceID: String?

    /// - Parameter principal: who the sender is; nil takes `sender.account`
    ///   as vouched for (or, without one, the nick as an unverified
    ///   identity, which matches no agent mask). A given principal sets
    ///   `sender.account`.
    public init(sender: ChatIdentity, principal: ChatPrincipal? = nil, place: ChatPlace, text: String,
                addressedToBot: Bool, time: Date, isAction: Bool = false, sourceID: String? = nil) {
        var sender = sender
        let principal = principal ?? sender.account.map { .account($0) } ?? .unverified(sender.nick)
        sender.account = principal.account
        self.sender = sender
        self.principal = principal
        self.place = place
        self.text = text
        self.addressedToBot = place == .direct ? true : addressedToBot
        self.time = time
        self.isAction = isAction
        self.sourceID = sourceID
    }

    public var network: String { sender.network }
}

/// What a network tells the bots.
public enum ChatEvent: Sendable, Hashable {
    case message(ChatMessage)
    /// Someone changed nick (IRC). Conversations keyed by nick follow it.
    case nickChanged(network: String, from: String, to: String)
    /// A user's account changed (login, logout: IRCv3 account-notify).
    case accountChanged(network: String, nick: String, account: String?)
    /// The network is connected and registered (after a reconnect too).
    case connected(network: String)
    /// The connection dropped; the adapter reconnects by itself.
    case disconnected(network: String, reason: String)
}

/// Who a line goes to.
public enum ChatRecipient: Sendable, Hashable, CustomStringConvertible {
    /// A person, privately (IRC nick, Matrix user id / direct room).
    case user(String)
    /// A channel or room.
    case channel(String)

    public var description: String {
        switch self {
        case .user(let nick): nick
        case .channel(let name): name
        }
    }
}

/// How urgent an outgoing line is. The send queue serves a higher lane first
/// (SPEC.md: "pages and ticket confirmations go ahead of KB answers and
/// chatter"); among lines of one lane, recipients take turns. A network's
/// flood limit is a fixed budget: the lanes decide who spends it first, so
/// twenty strangers saying "hi" cannot delay a contract customer.
public enum ChatLane: Int, Sendable, Hashable, Comparable, CaseIterable {
    /// Pages, re-pages, SLA warnings, ticket confirmations.
    case urgent = 0
    /// Customers whose contract is verified (PIN confirmed or linked
    /// account), everything about an open contract ticket, lines to agents.
    case priority = 1
    /// Conversations with customers whose contract is not (yet) verified.
    case normal = 2
    /// KB answers and other chatter.
    case bulk = 3

    public static func < (lhs: ChatLane, rhs: ChatLane) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A line of text the bots want said. Text may be long or contain line
/// breaks: the adapter splits it for its network and strips what its wire
/// cannot carry.
public struct ChatAction: Sendable, Hashable {
    public var network: String
    public var recipient: ChatRecipient
    public var text: String
    public var lane: ChatLane
    /// Send as a notice (IRC NOTICE, Matrix m.notice) rather than a message.
    public var isNotice: Bool
    /// When set, the adapter reports `ChatDelivery` for this id once every
    /// line of the text was written to the network (the store's outbox marks
    /// the page sent then).
    public var deliveryID: Int64?
    /// A line still unsent at this time is dropped (a stale KB answer is not
    /// sent an hour later). Nil: never expires (pages).
    public var expiresAt: Date?
    /// A text to the same recipient with the same key that has not started
    /// going out is dropped when this one is queued: a question the customer
    /// has already answered again (a re-prompt, an outdated question) is not
    /// sent late. Nil: nothing is replaced.
    public var replaceKey: String?
    /// An id the bots chose for this text, unique to it, so that sending it
    /// again after a restart is one message where the network deduplicates
    /// (``ChatNetwork/resendWindow``; Matrix: the event's transaction id on
    /// this device). The adapter reports ``ChatDelivery/sent(transactionID:at:)``
    /// once the text is written. Nil: the adapter picks the id (from the
    /// `deliveryID` for an outbox entry).
    public var transactionID: String?

    public init(network: String, recipient: ChatRecipient, text: String, lane: ChatLane = .normal,
                isNotice: Bool = false, deliveryID: Int64? = nil, expiresAt: Date? = nil, replaceKey: String? = nil,
                transactionID: String? = nil) {
        self.network = network
        self.recipient = recipient
        self.text = text
        self.lane = lane
        self.isNotice = isNotice
        self.deliveryID = deliveryID
        self.expiresAt = expiresAt
        self.replaceKey = replaceKey
        self.transactionID = transactionID
    }
}

/// A report from an adapter about an action with a `deliveryID`.
public enum ChatDelivery: Sendable, Hashable {
    /// Every line was written to the network.
    case delivered(id: Int64, at: Date)
    /// It expired or was refused (e.g. the text could not be sent at all).
    case failed(id: Int64, reason: String)
    /// Not written because the delivery gate (``ChatNetwork/setDeliveryGate(_:)``)
    /// refused it at write time: this instance may not send pages now (its
    /// lease view ran out while the line waited in the network's send
    /// queue). Not a failure of the page: it stays pending for whoever
    /// holds the lease (issue 10).
    case withheld(id: Int64, reason: String)
    /// A text with a ``ChatAction/transactionID`` (and no delivery id) was
    /// written to the network.
    case sent(transactionID: String, at: Date)
}

/// Whether a network can carry the bots' lines now.
public struct ChatNetworkStatus: Sendable, Hashable, CustomStringConvertible {
    public enum State: String, Sendable, Hashable {
        /// No connection (not yet, or lost; the adapter reconnects by itself).
        case disconnected
        /// Connected, not yet ready to send (IRC: registration, SASL, joins).
        case connecting
        /// Registered and sending: pages go out now.
        case ready
    }

    public var state: State
    /// For people (`/healthz`, logs): what the adapter knows more, e.g. the
    /// server, or why it is not ready. May be empty.
    public var detail: String

    public init(_ state: State, detail: String = "") {
        self.state = state
        self.detail = detail
    }

    public var isReady: Bool { state == .ready }

    /// `connected (irc.example:6697)`, `connecting (…)`, `not connected (…)`:
    /// the words `/healthz` has always shown.
    public var description: String {
        let word = switch state {
        case .ready: "connected"
        case .connecting: "connecting"
        case .disconnected: "not connected"
        }
        return detail.isEmpty ? word : "\(word) (\(detail))"
    }
}

/// What waits in a network's send queue.
public struct ChatBacklog: Sendable, Hashable {
    /// Texts queued and not yet fully written.
    public var queuedTexts: Int
    /// How long the oldest queued text has waited; nil when nothing waits
    /// or the adapter cannot tell.
    public var oldestWait: Duration?

    public init(queuedTexts: Int, oldestWait: Duration? = nil) {
        self.queuedTexts = queuedTexts
        self.oldestWait = oldestWait
    }
}

/// What kind of name is compared: networks may fold each differently.
public enum ChatNameKind: Sendable, Hashable {
    /// A nick or user id (who to answer).
    case user
    /// An account the network vouches for.
    case account
    /// A channel or room name.
    case room
}

/// One chat network as the bots see it.
public protocol ChatNetwork: Sendable {
    /// The configured name (`libera`, `demo`, `console`).
    var name: String { get }
    /// Whether the network can carry lines now (`/healthz`, `/metrics`).
    var status: ChatNetworkStatus { get async }
    /// What waits to be sent (`/metrics`).
    var backlog: ChatBacklog { get async }
    /// `name` in the form two names equal on this network share: the bots
    /// key conversations and compare channels and accounts by it. Each
    /// network folds its own way (IRC: its case mapping; Matrix ids are
    /// case-sensitive and come back unchanged). Must not change while the
    /// network runs.
    func normalized(_ name: String, kind: ChatNameKind) -> String
    /// Whether `principal` is someone an agent's configured `mask` accepts,
    /// by this network's matcher (the IRC adapter: its mask globs). False where
    /// the network has no masks, and for a mask the network cannot read.
    func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool
    /// The bot's own nick or user id on this network.
    var ownNick: String { get async }
    /// Queues an action; returns at once. Delivery is reported through the
    /// handler given to `run`.
    func send(_ action: ChatAction) async
    /// Queues the actions of one bot step, in order; returns at once. A
    /// network that can hands them over in one go (the IRC adapter: one hop
    /// to its client, and the lines that may go now in one write); the
    /// default sends them one by one. It runs on the caller's executor
    /// (`nonisolated(nonsending)`): from the runtime on the gateway's event
    /// loop, an adapter whose client runs there too queues the lines with
    /// no hop off the loop and back (issue 12); an adapter that is an actor
    /// of its own is hopped to as before.
    nonisolated(nonsending) func send(_ actions: [ChatAction]) async
    /// Connects and stays connected until the task is cancelled, calling
    /// `events` for everything that happens and `deliveries` for actions
    /// with a `deliveryID`.
    func run(events: @escaping @Sendable (ChatEvent) async -> Void,
             deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws
    /// Sends what is queued (within `deadline`), says goodbye (IRC QUIT with
    /// `message`) and disconnects; `run` returns afterwards.
    func shutdown(message: String, deadline: Duration) async
    /// Whether `nick` is seen online now: true when seen, false when not
    /// seen where they would be (IRC: in no channel the bot is in), nil when
    /// the network cannot tell.
    func isPresent(_ nick: String) async -> Bool?

    /// Sets the check a network with a send queue asks at write time, just
    /// before a line of an action with a `deliveryID` (a page) goes out;
    /// refused, the line is not written and the action is reported
    /// ``ChatDelivery/withheld(id:reason:)``. Nil: no check. The runtime sets
    /// it to its lease view, so a page that waited behind a flood limit does
    /// not leave after the lease ran out (issue 10). Networks that hand a
    /// line over at once need not implement it (the runtime checks before).
    func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) async

    /// How long a text this client sends again with the same transaction id
    /// (``ChatAction/transactionID``, or the one an outbox entry's
    /// ``ChatAction/deliveryID`` gives) is still shown once: within it, a
    /// line re-sent after a restart cannot appear twice. Nil: the network
    /// does not deduplicate (IRC, the console) — a line sent again is seen
    /// again, so the bots send no line twice there.
    var resendWindow: Duration? { get }
}

extension ChatNetwork {
    public nonisolated(nonsending) func send(_ actions: [ChatAction]) async {
        for action in actions { await send(action) }
    }

    /// Networks that cannot tell say nil.
    public func isPresent(_ nick: String) async -> Bool? { nil }

    /// Networks without a send queue of their own ignore it.
    public func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) async {}

    /// Networks that do not deduplicate say nil.
    public var resendWindow: Duration? { nil }
}
