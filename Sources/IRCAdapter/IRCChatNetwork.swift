import Bots
import Core
import Desk
import Foundation
import IRC
import IRCClient
import Synchronization
import Transport

/// An IRC network as the bots see it: the ``ChatNetwork`` adapter over
/// ``IRCClient``.
///
/// What it decides for the bots:
/// - **Who wrote.** The sender's account is passed on only when the
///   network vouched for it (account-tag on the message, or tracked from
///   extended-join / account-notify / WHOX); otherwise it is nil, and the
///   nick never stands in for it.
/// - **What counts.** NOTICEs are never answered (RFC 1459 §4.4.2: automatic
///   replies must not be sent to a NOTICE), nor CTCP ACTIONs. In a channel,
///   a line starting with the bot's nick and `:` or `,` addresses the bot;
///   the address is removed from the text. Formatting codes are removed.
/// - **What goes out.** Texts go through the client's send queue: split to
///   fit the line limit, CR/LF/NUL never passed through, throttled to the
///   configured flood limits, pages first.
public final class IRCChatNetwork<C: WallClock>: ChatNetwork {
    public let name: String
    public let client: IRCClient<C>
    private let clock: C
    private let logger: Logger

    /// - Throws: when a secret the settings name cannot be read.
    public init(settings: IRCNetworkSettings, clock: C, logger: Logger,
                connector: @escaping IRCConnector = IRCConnectors.tcp) throws {
        name = settings.name
        self.clock = clock
        self.logger = logger.with(["network": settings.name])
        let configuration = try Self.clientConfiguration(settings, logger: self.logger)
        client = IRCClient(configuration: configuration, clock: clock, logger: self.logger, connector: connector)
    }

    /// The client's configuration from the gateway's settings, with secrets
    /// read from the environment or files.
    static func clientConfiguration(_ s: IRCNetworkSettings, logger: Logger) throws -> IRCClientConfiguration {
        var tls: TLSOptions?
        if let t = s.tls {
            var options = TLSOptions()
            options.verifyPeer = t.verify
            options.serverName = t.serverName
            options.caFile = t.caFile?.path
            options.clientCertificateFile = t.clientCertificate?.path
            options.clientKeyFile = t.clientKey?.path
            tls = options
        }
        var sasl: IRCClientConfiguration.SASL?
        if let config = s.sasl {
            switch config.mechanism {
            case .plain:
                let password = try config.password?.resolve(field: "networks.\(s.name).sasl.password") ?? ""
                sasl = .plain(account: config.account ?? s.nick, password: password, required: config.required)
            case .external:
                sasl = .external(required: config.required)
            }
        }
        let channels = try s.channels.map { channel in
            IRCClientConfiguration.Channel(
                channel.name, key: try channel.key?.resolve(field: "networks.\(s.name).channels.\(channel.name).key"))
        }
        return IRCClientConfiguration(
            host: s.host, port: s.port, tls: tls, nick: s.nick, alternativeNicks: s.alternativeNicks, user: s.user,
            realName: s.realName, password: try s.password?.resolve(field: "networks.\(s.name).password"), sasl: sasl,
            channels: channels,
            sendQueue: s.sendQueue)
    }

    public var ownNick: String {
        get async { await client.currentNick }
    }

    private let handlers = HandlerBox()

    public func send(_ action: ChatAction) async {
        let priority: SendPriority = switch action.lane {
        case .urgent: .urgent
        case .normal: .normal
        case .bulk: .bulk
        }
        do {
            try await client.send(action.text, to: action.recipient.description, notice: action.isNotice,
                                  priority: priority, id: action.deliveryID, expiresAt: action.expiresAt)
        } catch {
            logger.warning("cannot send", ["to": action.recipient.description, "error": error])
            if let id = action.deliveryID {
                await handlers.deliveries?(.failed(id: id, reason: "\(error)"))
            }
        }
    }

    public func run(events: @escaping @Sendable (ChatEvent) async -> Void,
                    deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {
        handlers.set(deliveries: deliveries)
        let client = self.client
        let runner = Task { try await client.run() }
        for await event in client.events {
            await forward(event, events: events, deliveries: deliveries)
        }
        try await withTaskCancellationHandler {
            try await runner.value
        } onCancel: {
            runner.cancel()
        }
    }

    /// Agents are expected to sit in the agents' channel: one who shares no
    /// channel with the bot is taken as not online (a private page would
    /// wait unread, or get "no such nick").
    public func isPresent(_ nick: String) async -> Bool? {
        await client.sharesChannel(with: nick)
    }

    public func shutdown(message: String, deadline: Duration) async {
        await client.shutdown(quitMessage: message, drainFor: deadline)
    }

    private func forward(_ event: IRCClientEvent, events: @Sendable (ChatEvent) async -> Void,
                         deliveries: @Sendable (ChatDelivery) async -> Void) async {
        switch event {
        case .registered(let nick):
            logger.info("registered", ["nick": nick])
            await events(.connected(network: name))
        case .message(let message):
            if let chat = await chatMessage(message) { await events(.message(chat)) }
        case .nickChanged(let old, let new, let isSelf):
            if !isSelf { await events(.nickChanged(network: name, from: old, to: new)) }
        case .accountChanged(let nick, let account):
            await events(.accountChanged(network: name, nick: nick, account: account))
        case .delivered(let id, let at):
            await deliveries(.delivered(id: id, at: at))
        case .expired(let id):
            await deliveries(.failed(id: id, reason: "expired in the send queue"))
        case .dropped(let id, let reason):
            await deliveries(.failed(id: id, reason: reason))
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
    /// not answer (NOTICE, ACTION).
    func chatMessage(_ m: IRCIncomingMessage) async -> ChatMessage? {
        guard !m.isNotice, !m.isAction else { return nil }
        let account: String? = switch m.accountSource {
        case .tag, .tracked: m.account
        case .tagAbsent, .unknown: nil
        }
        let sender = ChatIdentity(network: name, nick: m.senderNick, account: account)
        let hostmask = m.sender.user.map { user in "\(m.senderNick)!\(user)@\(m.sender.host ?? "")" }
        let time = m.serverTime ?? m.receivedAt
        guard let channel = m.channel else {
            return ChatMessage(sender: sender, hostmask: hostmask, place: .direct, text: m.plainText,
                               addressedToBot: true, time: time)
        }
        let (addressed, text) = Self.stripAddress(m.plainText, nick: await client.currentNick)
        return ChatMessage(sender: sender, hostmask: hostmask, place: .channel(channel), text: text,
                           addressedToBot: addressed, time: time)
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
