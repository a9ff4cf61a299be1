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

/// A line of text someone wrote where the bot can read it.
public struct ChatMessage: Sendable, Hashable {
    /// Who wrote it. `sender.account` is set only when the network vouches
    /// for it (IRCv3 account-tag, extended-join, WHOX; a Matrix user id).
    public var sender: ChatIdentity
    /// `nick!user@host` on IRC, for agents authorised by mask on networks
    /// without accounts; nil where the network has no such thing.
    public var hostmask: String?
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

    public init(sender: ChatIdentity, hostmask: String? = nil, place: ChatPlace, text: String,
                addressedToBot: Bool, time: Date) {
        self.sender = sender
        self.hostmask = hostmask
        self.place = place
        self.text = text
        self.addressedToBot = place == .direct ? true : addressedToBot
        self.time = time
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
/// chatter").
public enum ChatLane: Int, Sendable, Hashable, Comparable, CaseIterable {
    /// Pages, re-pages, SLA warnings, ticket confirmations.
    case urgent = 0
    /// The conversation with a customer, relayed replies, agent command answers.
    case normal = 1
    /// KB answers and other chatter.
    case bulk = 2

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

    public init(network: String, recipient: ChatRecipient, text: String, lane: ChatLane = .normal,
                isNotice: Bool = false, deliveryID: Int64? = nil, expiresAt: Date? = nil) {
        self.network = network
        self.recipient = recipient
        self.text = text
        self.lane = lane
        self.isNotice = isNotice
        self.deliveryID = deliveryID
        self.expiresAt = expiresAt
    }
}

/// A report from an adapter about an action with a `deliveryID`.
public enum ChatDelivery: Sendable, Hashable {
    /// Every line was written to the network.
    case delivered(id: Int64, at: Date)
    /// It expired or was refused (e.g. the text could not be sent at all).
    case failed(id: Int64, reason: String)
}

/// One chat network as the bots see it.
public protocol ChatNetwork: Sendable {
    /// The configured name (`libera`, `demo`, `console`).
    var name: String { get }
    /// The bot's own nick or user id on this network.
    var ownNick: String { get async }
    /// Queues an action; returns at once. Delivery is reported through the
    /// handler given to `run`.
    func send(_ action: ChatAction) async
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
}

extension ChatNetwork {
    /// Networks that cannot tell say nil.
    public func isPresent(_ nick: String) async -> Bool? { nil }
}
