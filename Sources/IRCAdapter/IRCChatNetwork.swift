import Bots
import Core
import Desk
import Foundation
import IRC
import IRCClient
import Synchronization

/// An IRC network as the bots see it: the ``ChatNetwork`` adapter over
/// ``IRCClient``.
///
/// What it decides for the bots:
/// - **Who wrote.** ``ChatPrincipal/account(_:)`` only when the network
///   vouched for the account (account-tag on the message, or tracked from
///   extended-join / account-notify / WHOX); otherwise
///   ``ChatPrincipal/unverified(_:)`` with the sender's `nick!user@host`.
///   The nick never stands in for an account.
/// - **How names compare.** Nicks, accounts and channels fold under RFC 1459
///   case mapping (``IRCCaseMapping/rfc1459``, the default of RFC 2812 §2.2
///   and what most servers announce), fixed for the adapter's life so
///   conversation keys stay stable across reconnects.
/// - **Which masks match.** An agent's mask is an ``IRCMask`` (the matcher
///   the irc-parser-tests `mask-match` vectors test) under the same mapping;
///   ``maskProblem(_:)`` is the configuration check for them.
/// - **What counts.** NOTICEs are never answered (RFC 1459 §4.4.2: automatic
///   replies must not be sent to a NOTICE). A CTCP ACTION (`/me`) arrives as
///   a message with ``ChatMessage/isAction`` set. In a channel, a line
///   starting with the bot's nick and `:` or `,` addresses the bot; the
///   address is removed from the text. Formatting codes are removed.
/// - **What goes out.** Texts go through the client's send queue: split to
///   fit the line limit, CR/LF/NUL never passed through, throttled to the
///   configured flood limits, pages first.
public final class IRCChatNetwork<C: WallClock>: ChatNetwork {
    public let name: String
    public let client: IRCClient<C>
    private let clock: C
    private let logger: Logger

    /// How this adapter compares nicks, accounts, channels and masks.
    public static var caseMapping: IRCCaseMapping { .rfc1459 }

    /// - Parameters:
    ///   - name: the configured network name.
    ///   - configuration: the client's configuration, secrets already read.
    public init(name: String, configuration: IRCClientConfiguration, clock: C, logger: Logger,
                connector: @escaping IRCConnector = IRCConnectors.tcp) {
        self.name = name
        self.clock = clock
        self.logger = logger.with(["network": name])
        sendFailures = RateLimitedLogger(self.logger, interval: .seconds(60), clock: clock)
        client = IRCClient(configuration: configuration, clock: clock, logger: self.logger, connector: connector)
    }

    /// Why `mask` cannot recognise an agent on IRC, or nil when it can: it
    /// must be `nick!user@host` (``IRCMask`` rules) and its host part must
    /// limit something — `anna!*@*` would let anyone who takes the nick pass
    /// as the agent.
    public static func maskProblem(_ mask: String) -> String? {
        let parsed: IRCMask
        do {
            parsed = try IRCMask(mask, caseMapping: caseMapping)
        } catch {
            return "\"\(mask)\" is not a nick!user@host mask (\(error))"
        }
        guard let bang = mask.firstIndex(of: "!"), let at = mask.lastIndex(of: "@"), bang < at,
              mask.startIndex < bang else {
            return "\"\(mask)\" is not a nick!user@host mask (e.g. \"anna!*@staff.nordlicht.example\")"
        }
        guard parsed.restrictsHost, mask[mask.index(after: at)...].contains(where: { $0 != "." && $0 != "*" && $0 != "?" })
        else {
            return "\"\(mask)\" matches any host: anyone could use that nick and be taken for an agent; "
                + "name the host (or a host pattern like *.nordlicht.example)"
        }
        return nil
    }

    public func normalized(_ name: String, kind: ChatNameKind) -> String {
        Self.caseMapping.lowercased(name)
    }

    /// Only an unverified `nick!user@host` can match; an account principal
    /// has none (networks with accounts recognise agents by account). A mask
    /// ``maskProblem(_:)`` refuses never matches, even if the configuration
    /// check was bypassed.
    public func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool {
        guard case .unverified(let hostmask) = principal, Self.maskProblem(mask) == nil else { return false }
        return Self.hostmask(hostmask, matches: mask)
    }

    /// The matcher: `mask` as an ``IRCMask`` under the adapter's case
    /// mapping against the whole `nick!user@host`. The irc-parser-tests
    /// `mask-match` vectors run against this function.
    public static func hostmask(_ hostmask: String, matches mask: String) -> Bool {
        guard let parsed = try? IRCMask(mask, caseMapping: caseMapping) else { return false }
        return parsed.matches(hostmask)
    }

    public var status: ChatNetworkStatus {
        get async {
            let server = "\(client.configuration.host):\(client.configuration.port)"
            if await client.isConnected { return ChatNetworkStatus(.ready, detail: server) }
            switch await client.state {
            case .registering, .registered: return ChatNetworkStatus(.connecting, detail: "\(server), registering")
            case .connecting: return ChatNetworkStatus(.connecting, detail: "\(server), connecting")
            case .waitingToConnect(let at):
                return ChatNetworkStatus(.disconnected, detail: "\(server), reconnecting at \(at)")
            case .idle: return ChatNetworkStatus(.disconnected, detail: "\(server), not started")
            case .stopped: return ChatNetworkStatus(.disconnected, detail: "\(server), stopped")
            }
        }
    }

    /// Texts in the client's send queue and how long the oldest has waited
    /// (``IRCClient/sendBacklog``), on the adapter's clock.
    public var backlog: ChatBacklog {
        get async {
            let backlog = await client.sendBacklog
            let count = await client.queuedTextCount
            let age = backlog.oldestAge(now: clock.date).map { Duration.milliseconds(Int64(($0 * 1000).rounded())) }
            return ChatBacklog(queuedTexts: count, oldestWait: count == 0 ? nil : age)
        }
    }

    public var ownNick: String {
        get async { await client.currentNick }
    }

    private let handlers = HandlerBox()

    /// The "cannot send" warnings, at most one a minute with a count of the
    /// rest; flushed at shutdown.
    private let sendFailures: RateLimitedLogger

    /// The client's send-queue lane for a bots' lane (one to one).
    static func priority(of lane: ChatLane) -> SendPriority {
        switch lane {
        case .urgent: .urgent
        case .priority: .priority
        case .normal: .normal
        case .bulk: .bulk
        }
    }

    public func send(_ action: ChatAction) async {
        do {
            try await client.send(action.text, to: action.recipient.description, notice: action.isNotice,
                                  priority: Self.priority(of: action.lane), id: action.deliveryID,
                                  expiresAt: action.expiresAt, replaceKey: action.replaceKey)
        } catch {
            // A flooded gateway at shutdown would write one line per queued
            // text (issue 15: 102,000 lines): one per minute and a count.
            sendFailures.warning(key: "cannot send", "cannot send",
                                 ["to": action.recipient.description, "error": error])
            if let id = action.deliveryID {
                await handlers.deliveries?(.failed(id: id, reason: "\(error)"))
            }
        }
    }

    /// A bot step's actions in one call to the client, and the lines that
    /// may go now in one write. On the caller's executor: from the runtime
    /// on the client's own loop, no hop at all.
    public nonisolated(nonsending) func send(_ actions: [ChatAction]) async {
        let texts = actions.map { action in
            IRCClient<C>.OutgoingText(action.text, to: action.recipient.description, notice: action.isNotice,
                                      priority: Self.priority(of: action.lane), id: action.deliveryID,
                                      expiresAt: action.expiresAt, replaceKey: action.replaceKey)
        }
        for (index, error) in await client.send(texts) {
            let action = actions[index]
            sendFailures.warning(key: "cannot send", "cannot send", ["to": action.recipient.description, "error": error])
            if let id = action.deliveryID {
                await handlers.deliveries?(.failed(id: id, reason: "\(error)"))
            }
        }
    }

    public func run(events: @escaping @Sendable (ChatEvent) async -> Void,
                    deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {
        handlers.set(deliveries: deliveries)
        // The client hands a line's events over from the job that read it,
        // so the bots' answer is written without a hop to another thread
        // (see IRCClient.run(handlingEventsWith:)).
        try await client.run { [self] event in
            await forward(event, events: events, deliveries: deliveries)
        }
    }

    /// Agents are expected to sit in the agents' channel: one who shares no
    /// channel with the bot is taken as not online (a private page would
    /// wait unread, or get "no such nick").
    public func isPresent(_ nick: String) async -> Bool? {
        await client.sharesChannel(with: nick)
    }

    /// The client asks `gate` before each line of a page goes out
    /// (``IRCClient/setDeliveryGate(_:)``); a refused page is reported
    /// ``ChatDelivery/withheld(id:reason:)``.
    public func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) async {
        await client.setDeliveryGate(gate)
    }

    public func shutdown(message: String, deadline: Duration) async {
        await client.shutdown(quitMessage: message, drainFor: deadline)
        sendFailures.flush()
    }

    private func forward(_ event: IRCClientEvent, events: @Sendable (ChatEvent) async -> Void,
                         deliveries: @Sendable (ChatDelivery) async -> Void) async {
        switch event {
        case .registered(let nick):
            logger.info("registered", ["nick": nick])
            await events(.connected(network: name))
        case .message(let message):
            HopTrace.mark(.adapter)
            if let chat = await chatMessage(message) { await events(.message(chat)) }
        case .nickChanged(let old, let new, let isSelf):
            if !isSelf { await events(.nickChanged(network: name, from: old, to: new)) }
        case .accountChanged(let nick, let account):
            await events(.accountChanged(network: name, nick: nick, account: account))
        case .delivered(let id, let at):
            await deliveries(.delivered(id: id, at: at))
        case .expired(let id):
            await deliveries(.failed(id: id, reason: "expired in the send queue"))
        case .superseded(let id):
            await deliveries(.failed(id: id, reason: "superseded in the send queue by a newer text"))
        case .dropped(let id, let reason):
            await deliveries(.failed(id: id, reason: reason))
        case .withheld(let id, let reason):
            await deliveries(.withheld(id: id, reason: reason))
        case .disconnected(let reason, let reconnectAt):
            logger.notice("disconnected", ["reason": reason, "reconnect_at": reconnectAt.map { "\($0)" } ?? "-"])
            await events(.disconnected(network: name, reason: reason))
        case .saslFailed(let reason):
            logger.error("SASL failed", ["reason": reason])
        case .joinFailed(let channel, let reason, _):
            logger.warning("cannot join", ["channel": channel, "reason": reason])
        case .kicked(let channel, let by, let reason):
            logger.warning("kicked", ["channel": channel, "by": by, "reason": reason])
        case .error(let text):
            logger.warning("server error", ["text": text])
        case .connected, .loggedIn, .joined, .parted:
            logger.debug("irc event", ["event": "\(event)"])
        }
    }

    /// The bots' view of an incoming IRC message, or nil for what they must
    /// not answer (NOTICE).
    func chatMessage(_ m: IRCIncomingMessage) async -> ChatMessage? {
        guard !m.isNotice else { return nil }
        let account: String? = switch m.accountSource {
        case .tag, .tracked: m.account
        case .tagAbsent, .unknown: nil
        }
        let principal: ChatPrincipal = account.map { .account($0) } ?? .unverified(m.sender.description)
        let sender = ChatIdentity(network: name, nick: m.senderNick)
        let time = m.serverTime ?? m.receivedAt
        guard let channel = m.channel else {
            return ChatMessage(sender: sender, principal: principal, place: .direct, text: m.plainText,
                               addressedToBot: true, time: time, isAction: m.isAction)
        }
        // "/me switchboard: …" is an action, not an address.
        let (addressed, text) = m.isAction ? (false, m.plainText)
            : Self.stripAddress(m.plainText, nick: await client.currentNick)
        return ChatMessage(sender: sender, principal: principal, place: .channel(channel), text: text,
                           addressedToBot: addressed, time: time, isAction: m.isAction)
    }

    /// `switchboard: help` → (true, "help"); anything else unchanged. The
    /// nick compares ASCII case-insensitively (RFC 1459 folding of `[]\~`
    /// is not needed: a bot's nick has none of them in practice, and a miss
    /// only means the line is not taken as addressed).
    static func stripAddress(_ text: String, nick: String) -> (Bool, String) {
        guard text.count > nick.count, text.lowercased().hasPrefix(nick.lowercased()) else { return (false, text) }
        let rest = text.dropFirst(nick.count)
        guard let mark = rest.first, mark == ":" || mark == "," else { return (false, text) }
        return (true, rest.dropFirst().trimmingCharacters(in: .whitespaces))
    }
}

/// The delivery handler, set once `run` starts (a send that fails at once
/// reports through it).
private final class HandlerBox: Sendable {
    private let box = Mutex<(@Sendable (ChatDelivery) async -> Void)?>(nil)
    var deliveries: (@Sendable (ChatDelivery) async -> Void)? { box.withLock { $0 } }
    func set(deliveries: @escaping @Sendable (ChatDelivery) async -> Void) { box.withLock { $0 = deliveries } }
}
