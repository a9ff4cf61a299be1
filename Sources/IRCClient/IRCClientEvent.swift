import Foundation
import IRC

/// The lanes of the send queue, most urgent first (see ``SendQueue``).
public enum SendPriority: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Pages (and what must go out like them): always sent before anything
    /// else a bot says.
    case urgent
    /// Customers whose contract is verified (PIN or linked account), anything
    /// about an open contract ticket, agents' answers: ahead of unverified
    /// conversations, so a flood of strangers cannot delay them.
    case priority
    /// Conversations with customers whose contract is not verified.
    case normal
    /// KB answers and chatter; dropped when stale.
    case bulk

    public static func < (lhs: SendPriority, rhs: SendPriority) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .urgent: "urgent"
        case .priority: "priority"
        case .normal: "normal"
        case .bulk: "bulk"
        }
    }
}

/// Where an ``IRCIncomingMessage/account`` came from.
public enum AccountSource: Sendable, Hashable {
    /// The server put an `account` tag on this very message (IRCv3
    /// account-tag): the most reliable source.
    case tag
    /// The server supports account-tag and this message has no tag: the
    /// sender is not logged in (``IRCIncomingMessage/account`` is nil).
    case tagAbsent
    /// Tracked for a user who shares a channel with us, from extended-join,
    /// `ACCOUNT` (account-notify) or WHOX.
    case tracked
    /// Nothing is known: the account is nil, which does not mean the sender
    /// is not logged in.
    case unknown
}

/// A PRIVMSG or NOTICE from a user, as the bots see it.
///
/// CTCP requests other than ACTION never become messages (VERSION and PING
/// are answered by the client, the rest ignored), and with echo-message our
/// own lines are not reported back.
public struct IRCIncomingMessage: Sendable, Hashable {
    /// Who sent it: nick, and user and host when the server said.
    public var sender: IRCHostmask
    /// The sender's services account, or nil: see ``accountSource`` and
    /// ``IRCSession/account(of:)`` for exactly when it is known.
    public var account: String?
    public var accountSource: AccountSource
    /// The target as sent: our nick for a private message, else the channel
    /// (with a STATUSMSG prefix such as `@#chan` when there was one).
    public var target: String
    /// The channel for a channel message (STATUSMSG prefix removed); nil
    /// for a private message.
    public var channel: String?
    /// The text as received (formatting codes kept, CTCP ACTION framing removed).
    public var text: String
    /// The text without mIRC formatting codes (``IRCFormatting/strip(_:)``):
    /// what bots match commands against.
    public var plainText: String
    public var isNotice: Bool
    /// A CTCP ACTION (`/me …`).
    public var isAction: Bool
    /// The IRCv3 server-time of the message, when the server sent one.
    public var serverTime: Date?
    /// When the client read it.
    public var receivedAt: Date
    /// All tags of the message.
    public var tags: IRCTags

    /// The sender's nick.
    public var senderNick: String { sender.nick }
    /// Whether it was sent to us rather than to a channel.
    public var isPrivate: Bool { channel == nil }

    public init(sender: IRCHostmask, account: String?, accountSource: AccountSource, target: String,
                channel: String?, text: String, isNotice: Bool, isAction: Bool, serverTime: Date?,
                receivedAt: Date, tags: IRCTags) {
        self.sender = sender
        self.account = account
        self.accountSource = accountSource
        self.target = target
        self.channel = channel
        self.text = text
        self.plainText = IRCFormatting.strip(text)
        self.isNotice = isNotice
        self.isAction = isAction
        self.serverTime = serverTime
        self.receivedAt = receivedAt
        self.tags = tags
    }
}

/// What happened on the connection, in order.
public enum IRCClientEvent: Sendable, Hashable {
    /// A TCP (and TLS) connection is open; registration starts.
    case connected(server: String)
    /// Registration is complete (welcome received, MOTD done): the client
    /// now joins channels and sends queued text.
    case registered(nick: String)
    /// SASL succeeded: we are logged in as `account`.
    case loggedIn(account: String)
    /// SASL failed, was refused, timed out or is not offered. With
    /// `required` the connection is closed next and retried with backoff.
    case saslFailed(reason: String)
    /// We are in `channel` (our JOIN came back).
    case joined(channel: String)
    /// We left `channel` (our PART came back).
    case parted(channel: String)
    /// We were kicked from `channel`; a rejoin is scheduled.
    case kicked(channel: String, by: String, reason: String)
    /// A JOIN was refused (471–477, 403, 405, 437); `retryAt` is when the
    /// client tries again, nil when it does not (no such channel).
    case joinFailed(channel: String, reason: String, retryAt: Date?)
    /// A user (or we, `isSelf`) changed nick.
    case nickChanged(old: String, new: String, isSelf: Bool)
    /// A user's account changed as far as we can tell (nil: logged out).
    case accountChanged(nick: String, account: String?)
    /// A message from a user.
    case message(IRCIncomingMessage)
    /// Every line of the text with this id was written to the socket.
    case delivered(id: Int64, at: Date)
    /// The text with this id was not sent before its expiry and was dropped.
    case expired(id: Int64)
    /// The text with this id was replaced, before it started to go out, by
    /// a newer text for the same recipient with the same replace key (a
    /// re-prompt, an outdated question): it was not sent, on purpose.
    case superseded(id: Int64)
    /// The text with this id was dropped for another reason (shutdown
    /// before it could be sent, withdrawn with
    /// ``IRCClient/withdraw(to:replaceKey:)``).
    case dropped(id: Int64, reason: String)
    /// The text with this id was not written because the delivery gate
    /// (``IRCClient/setDeliveryGate(_:)``) refused it when it was about to
    /// go out: the sender no longer may send it (a gateway that lost its
    /// lease) and keeps it for whoever may.
    case withheld(id: Int64, reason: String)
    /// The server sent `ERROR` (it is closing the link), or something
    /// else went wrong that an operator should see.
    case error(String)
    /// The connection ended; `reconnectAt` is when the next attempt starts
    /// (nil after shutdown).
    case disconnected(reason: String, reconnectAt: Date?)
}
