import Foundation
import Core
import IRC

/// The IRC client's state machine: registration (CAP, SASL, nick
/// collisions), keep-alive, reconnect backoff, rejoining channels, tracking
/// who is where and logged in as what, and the send queue. It does no I/O
/// (Limnoria's `feedMsg`/`takeMsg` seam): the driver (``IRCClient``) tells it
/// what happened on the socket and takes the lines to write.
///
/// ```
/// session.start(now:)                      → connectAt == now
/// session.connectionOpened(server:now:)    → PASS, CAP LS 302, NICK, USER queued
/// session.receive(message, now:)           ← every line read (feedMsg)
/// session.nextLine(now:) / lineWritten(now:) → every line to write (takeMsg)
/// session.tick(now:)                        ← at nextDeadline(now:)
/// session.takeDisconnectRequest()           → close the socket when non-nil
/// session.connectionClosed(reason:now:)     → reconnectAt scheduled
/// session.takeEvents()                      → what the bots see
/// ```
///
/// Time is passed in as `Date`; nothing here sleeps. One session lives for
/// the whole life of a client, across connections.
public struct IRCSession: Sendable {
    /// Where the session stands.
    public enum Phase: Sendable, Hashable {
        /// Not started.
        case idle
        /// Waiting to (re)connect at this date.
        case waitingToConnect(at: Date)
        /// The driver is opening the connection.
        case connecting
        /// Connected; CAP, SASL, NICK/USER under way.
        case registering
        /// `001` received.
        case registered
        /// Shut down: no further connection.
        case stopped
    }

    public let configuration: IRCClientConfiguration
    public private(set) var phase: Phase = .idle
    /// Our nick on the network (the configured one until registration says otherwise).
    public private(set) var currentNick: String
    /// Our `nick!user@host` as the server shows it to others, when known
    /// (from 001, our JOIN, WHOX, CHGHOST or 396).
    public private(set) var ownHostmask: IRCHostmask?
    /// The services account we are logged in as (SASL 900), if any.
    public private(set) var ownAccount: String?
    /// The capabilities the server acknowledged on this connection.
    public private(set) var enabledCapabilities: Set<String> = []
    /// What the server offered in `CAP LS` (name → value).
    public private(set) var offeredCapabilities: [String: String] = [:]
    /// The server's ISUPPORT (005) tokens on this connection.
    public private(set) var isupport = ISupport()
    /// Channels, members and accounts (see ``MembershipTracker``).
    public private(set) var tracker = MembershipTracker()
    /// The send queue (texts survive reconnects).
    public private(set) var queue: SendQueue
    /// Whether texts with an id (the caller's deliveries: pages) may be
    /// written now; asked for each of their lines as it is about to go out
    /// (``SendQueue/next(now:sendTexts:sendControl:chargeImmediate:mayDeliver:format:)``).
    /// Nil: always. The gateway sets it to its lease view (issue 10).
    public var deliveryGate: (@Sendable () -> Bool)?
    /// Whether registration is complete and channels were joined: texts go out.
    public private(set) var isReady = false
    public private(set) var backoff: ReconnectBackoff

    private let logger: Logger
    private var random: SeededRandom
    private var events: [IRCClientEvent] = []
    private var disconnectRequest: String?

    // Connection-scoped state.
    private var connectedAt: Date?
    private var registeredAt: Date?
    private var lastReceivedAt: Date?
    private var pingSentAt: Date?
    private var pingCounter = 0
    private var motdDeadline: Date?
    private var capState = CapState.awaitingList
    private var pendingCapRequests: [[String]] = []
    private var sasl = SASLState.notStarted
    private var saslDeadline: Date?
    private var saslMechanisms: String?
    private var nickAttempts = 0
    /// A nick length limit inferred from 432 replies before ISUPPORT.
    private var nickLengthGuess: Int?
    /// Nicks tried on this connection.
    private var tried: Set<String> = []
    private var regainAt: Date?
    private var monitoring = false
    private var ctcpBucket: TokenBucket
    private var whoxToken = "152"
    /// Bounds already reported on this connection (one log line each).
    private var limitsLogged: Set<String> = []

    // Across connections.
    private var channelStates: [String: ChannelState] = [:]
    private var shutdownState: ShutdownState?
    private var lastDisconnectReason: String?

    private enum CapState: Sendable, Hashable {
        case awaitingList
        case requesting
        case authenticating
        case ended
    }

    private enum SASLState: Sendable, Hashable {
        case notStarted
        case awaitingChallenge
        case awaitingResult
        case succeeded
        case failed
    }

    private struct ChannelState: Sendable, Hashable {
        var name: String
        var key: String?
        var retryAt: Date?
        var joinPending = false
        var failures = 0
        var kicks = 0
        var lastKickAt: Date?
    }

    private struct ShutdownState: Sendable, Hashable {
        var quitMessage: String
        var drainDeadline: Date
        var quitSentAt: Date?
    }

    /// - Parameters:
    ///   - seed: seeds the jitter and the digits of fallback nicks (tests
    ///     pass one; nil seeds from the system).
    public init(configuration: IRCClientConfiguration, logger: Logger = .disabled, now: Date, seed: UInt64? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.currentNick = configuration.nick
        self.queue = SendQueue(settings: configuration.sendQueue, now: now)
        self.tracker = MembershipTracker(maximumChannels: configuration.limits.channels,
                                         maximumUsers: configuration.limits.users)
        self.backoff = ReconnectBackoff(settings: configuration.backoff)
        self.random = seed.map(SeededRandom.init(seed:)) ?? SeededRandom()
        self.ctcpBucket = TokenBucket(capacity: 3, interval: .seconds(10), now: now)
        for channel in configuration.channels {
            channelStates[tracker.key(channel.name)] = ChannelState(name: channel.name, key: channel.key)
        }
    }

    // MARK: Lifecycle

    /// Starts: the first connection is due at once.
    public mutating func start(now: Date) {
        guard phase == .idle else { return }
        phase = .waitingToConnect(at: now)
    }

    /// When the driver should open a connection; nil when it should not.
    public var connectAt: Date? {
        if case .waitingToConnect(let at) = phase { return at }
        return nil
    }

    /// The driver starts connecting.
    public mutating func connecting(now: Date) {
        guard case .waitingToConnect = phase else { return }
        phase = .connecting
    }

    /// The connection could not be opened.
    public mutating func connectionFailed(reason: String, now: Date) {
        guard phase == .connecting else { return }
        logger.warning("cannot connect", ["server": serverName, "error": reason])
        scheduleReconnect(reason: reason, now: now)
    }

    /// The connection is open: registration starts (RFC 2812 §3.1; IRCv3
    /// capability-negotiation: `CAP LS 302` first, then NICK and USER, which
    /// servers without CAP answer with 001 at once).
    public mutating func connectionOpened(server: String, now: Date) {
        guard phase == .connecting else { return }
        phase = .registering
        resetConnectionState(now: now)
        connectedAt = now
        lastReceivedAt = now
        events.append(.connected(server: server))
        logger.info("connected, registering", ["server": server, "nick": configuration.nick])
        if let password = configuration.password { immediate(.pass(password)) }
        immediate(.capabilityList(version: 302))
        immediate(.nick(currentNick))
        immediate(.user(configuration.user, realName: configuration.realName))
    }

    /// The connection ended (EOF, error, or after a disconnect request).
    /// Texts stay queued; a reconnect is scheduled unless shut down.
    public mutating func connectionClosed(reason: String, now: Date) {
        guard phase == .registering || phase == .registered || phase == .connecting else { return }
        let why = lastDisconnectReason ?? reason
        lastDisconnectReason = nil
        queue.connectionLost()
        tracker.reset()
        backoff.connectionEnded(registeredAt: registeredAt, now: now)
        if shutdownState != nil {
            finishShutdown(now: now)
            events.append(.disconnected(reason: why, reconnectAt: nil))
            return
        }
        logger.warning("disconnected", ["server": serverName, "reason": why])
        scheduleReconnect(reason: why, now: now)
    }

    /// Shuts down: queued texts are sent until `drainDeadline`, then `QUIT`;
    /// the session stops when the server closes (or after the quit timeout).
    /// Texts still queued then are reported dropped.
    public mutating func shutdown(quitMessage: String, drainDeadline: Date, now: Date) {
        guard shutdownState == nil, phase != .stopped else { return }
        shutdownState = ShutdownState(quitMessage: quitMessage, drainDeadline: drainDeadline)
        switch phase {
        case .idle, .waitingToConnect, .connecting:
            finishShutdown(now: now)
        case .registering:
            sendQuit(now: now)
        case .registered, .stopped:
            break  // drained in nextLine
        }
    }

    /// Whether ``shutdown(quitMessage:drainDeadline:now:)`` was called.
    public var isShuttingDown: Bool { shutdownState != nil }

    /// Whether the driver should close the connection now (a reason is
    /// waiting for ``takeDisconnectRequest()``).
    public var hasDisconnectRequest: Bool { disconnectRequest != nil }

    /// The reason the driver should close the connection now, once.
    public mutating func takeDisconnectRequest() -> String? {
        defer { disconnectRequest = nil }
        return disconnectRequest
    }

    /// Events since the last call, in order.
    public mutating func takeEvents() -> [IRCClientEvent] {
        for report in queue.takeReports() {
            switch report {
            case .delivered(let id, let at): events.append(.delivered(id: id, at: at))
            case .expired(let id): events.append(.expired(id: id))
            case .superseded(let id): events.append(.superseded(id: id))
            case .dropped(let id, let reason): events.append(.dropped(id: id, reason: reason))
            case .withheld(let id, let reason): events.append(.withheld(id: id, reason: reason))
            }
        }
        defer { events.removeAll() }
        return events
    }

    // MARK: Sending

    /// Queues a text for `target` (a channel or nick). Long and multi-line
    /// texts are split (``IRCLineSplitter``); `id` gets a delivery report
    /// (``IRCClientEvent/delivered(id:at:)``, or ``IRCClientEvent/expired(id:)``
    /// when `expiresAt` passes first). A bulk text without `expiresAt` expires
    /// after the configured ``IRCClientConfiguration/SendQueueSettings/bulkExpiry``.
    /// With `replaceKey`, a text for the same recipient with the same key
    /// still waiting is dropped (``IRCClientEvent/superseded(id:)``): a
    /// re-prompt or a newer question replaces the outdated one.
    public mutating func send(_ text: String, to target: String, notice: Bool = false, action: Bool = false,
                              priority: SendPriority = .normal, id: Int64? = nil, expiresAt: Date? = nil,
                              replaceKey: String? = nil, now: Date) throws(IRCClientError)
    {
        try Self.validateTarget(target)
        guard text.contains(where: { !$0.isWhitespace && !$0.isNewline }) else {
            throw .emptyText(target: target)
        }
        guard shutdownState == nil, phase != .stopped else { throw .shutDown }
        var expiry = expiresAt
        if expiry == nil, priority == .bulk, let bulkExpiry = configuration.sendQueue.bulkExpiry {
            expiry = now.addingTimeInterval(bulkExpiry.timeInterval)
        }
        queue.enqueue(SendQueue.Item(id: id, target: target, recipientKey: tracker.key(target), text: text,
                                     notice: notice, action: action, priority: priority, replaceKey: replaceKey,
                                     expiresAt: expiry, enqueuedAt: now))
    }

    /// Withdraws the text for `target` queued with `replaceKey` if it has
    /// not started to go out (``IRCClientEvent/dropped(id:reason:)``), e.g.
    /// a question the customer answered before it was sent. Returns whether
    /// one was withdrawn.
    @discardableResult
    public mutating func withdraw(to target: String, replaceKey: String) -> Bool {
        queue.drop(recipient: tracker.key(target), replaceKey: replaceKey)
    }

    /// A target must be one middle parameter naming one recipient.
    static func validateTarget(_ target: String) throws(IRCClientError) {
        guard !target.isEmpty, !target.hasPrefix(":"),
              !target.utf8.contains(where: { $0 == 0x20 || $0 == 0x2C || $0 == 0x0D || $0 == 0x0A || $0 == 0 })
        else { throw .invalidTarget(target) }
    }

    /// The next line to write now, or nil (ask again at ``nextDeadline(now:)``
    /// or after the next event). Lines taken one after another form a batch
    /// for one write; call ``lineWritten(now:)`` once the batch was written.
    public mutating func nextLine(now: Date) -> SendQueue.Line? {
        guard phase == .registering || phase == .registered else { return nil }
        if let shutdown = shutdownState, shutdown.quitSentAt == nil, phase == .registered,
           !queue.hasTexts || now >= shutdown.drainDeadline
        {
            sendQuit(now: now)
        }
        let registered = phase == .registered
        // The splitter is made only for a text that starts now (once per
        // text, not per line): its relay prefix is our hostmask's length.
        let hostmask = ownHostmask
        let isupport = self.isupport
        let quitting = shutdownState?.quitSentAt != nil
        return queue.next(now: now, sendTexts: registered && isReady && !quitting, sendControl: registered && !quitting,
                          chargeImmediate: registered, mayDeliver: deliveryGate) { item in
            let lineLimit = isupport.lineLength
            let splitter = IRCLineSplitter(
                relayPrefixLength: hostmask.flatMap { $0.user != nil && $0.host != nil ? $0.description.utf8.count + 2 : nil }
                    ?? IRCLimits.assumedRelayPrefixLength,
                lineLimit: lineLimit)
            do {
                let messages = try splitter.split(item.text, command: item.notice ? .notice : .privmsg,
                                                  target: item.target, ctcpAction: item.action)
                return .success(try messages.map { try $0.serialized(lineLimit: lineLimit) })
            } catch {
                return .failure(SendFailure("cannot send to \(item.target): \(error)"))
            }
        }
    }

    /// The lines taken from ``nextLine(now:)`` since the last call were
    /// written to the socket.
    public mutating func lineWritten(now: Date) {
        queue.written(now: now)
    }

    // MARK: Time

    /// The earliest time ``tick(now:)`` or ``nextLine(now:)`` has something
    /// to do; nil when only an incoming line or a new text can change that.
    public func nextDeadline(now: Date) -> Date? {
        var deadline: Date?
        func consider(_ date: Date?) {
            guard let date else { return }
            deadline = deadline.map { min($0, date) } ?? date
        }
        switch phase {
        case .idle, .stopped:
            return nil
        case .waitingToConnect(let at):
            consider(at)
            consider(queue.nextDeadline(now: now, sendTexts: false, sendControl: false))
            return deadline
        case .connecting:
            return queue.nextDeadline(now: now, sendTexts: false, sendControl: false)
        case .registering, .registered:
            break
        }
        let registered = phase == .registered
        let quitting = shutdownState?.quitSentAt != nil
        consider(queue.nextDeadline(now: now, sendTexts: registered && isReady && !quitting,
                                    sendControl: registered && !quitting))
        if let pingSentAt {
            consider(pingSentAt.addingTimeInterval(configuration.keepAlive.timeout.timeInterval))
        } else if let lastReceivedAt {
            consider(lastReceivedAt.addingTimeInterval(configuration.keepAlive.idle.timeInterval))
        }
        if phase == .registering, let connectedAt {
            consider(connectedAt.addingTimeInterval(configuration.timeouts.registration.timeInterval))
        }
        consider(saslDeadline)
        if !isReady { consider(motdDeadline) }
        if isReady, shutdownState == nil {
            consider(regainAt)
            for state in channelStates.values where !state.joinPending && !tracker.isJoined(state.name) {
                consider(state.retryAt)
            }
        }
        if let shutdown = shutdownState {
            if let quitSentAt = shutdown.quitSentAt {
                consider(quitSentAt.addingTimeInterval(configuration.timeouts.quit.timeInterval))
            } else if registered {
                consider(shutdown.drainDeadline)
            }
        }
        return deadline
    }

    /// Does what is due at `now`: keep-alive, timeouts, rejoins, nick
    /// regain, expiry.
    public mutating func tick(now: Date) {
        queue.expire(now: now)
        guard phase == .registering || phase == .registered else { return }
        if let shutdown = shutdownState, let quitSentAt = shutdown.quitSentAt,
           now >= quitSentAt.addingTimeInterval(configuration.timeouts.quit.timeInterval)
        {
            requestDisconnect("shutdown: the server did not close the link after QUIT")
            return
        }
        // Keep-alive (no line received for `idle` → PING; none for `timeout` after it → dead).
        if let sent = pingSentAt {
            if now >= sent.addingTimeInterval(configuration.keepAlive.timeout.timeInterval) {
                requestDisconnect("no reply from the server within \(configuration.keepAlive.timeout) of a keep-alive PING")
                return
            }
        } else if let last = lastReceivedAt, now >= last.addingTimeInterval(configuration.keepAlive.idle.timeInterval) {
            pingCounter += 1
            immediate(.ping("switchboard-\(pingCounter)"))
            pingSentAt = now
        }
        if phase == .registering, let connectedAt,
           now >= connectedAt.addingTimeInterval(configuration.timeouts.registration.timeInterval)
        {
            requestDisconnect("registration did not complete within \(configuration.timeouts.registration)")
            return
        }
        if let deadline = saslDeadline, now >= deadline {
            saslDeadline = nil
            immediate(.authenticate("*"))
            saslFailed("the server did not answer SASL \(configuration.sasl?.mechanismName ?? "") within \(configuration.timeouts.sasl) (services may be down)", now: now)
        }
        if phase == .registered, !isReady, let deadline = motdDeadline, now >= deadline {
            becomeReady(now: now)
        }
        if isReady, shutdownState == nil {
            if let at = regainAt, now >= at { tryRegainNick(now: now) }
            joinDueChannels(now: now)
        }
        if let shutdown = shutdownState, shutdown.quitSentAt == nil, phase == .registered,
           now >= shutdown.drainDeadline
        {
            sendQuit(now: now)
        }
    }

    // MARK: Queries

    /// The services account `nick` is logged in as, or nil.
    ///
    /// Known only for users who share a channel with us, from (latest wins)
    /// extended-join, `ACCOUNT` (account-notify), a WHOX reply (sent after
    /// each join when the server has WHOX) and the `account` tag of their
    /// messages. Nil means "not logged in" or "not known" — never trust a
    /// nick alone. For our own nick: the SASL account.
    public func account(of nick: String) -> String? {
        if tracker.key(nick) == tracker.key(currentNick) { return ownAccount }
        return tracker.user(nick)?.account.account
    }

    /// What is known of `nick`'s account (see ``account(of:)``).
    public func accountState(of nick: String) -> AccountState {
        tracker.user(nick)?.account ?? .unknown
    }

    /// Whether `name` is one of our nick's spellings under the case mapping.
    public func isOwnNick(_ name: String) -> Bool {
        tracker.caseMapping.equals(name, currentNick)
    }

    // MARK: Receiving

    /// Feeds one line from the server (Limnoria's `feedMsg`).
    public mutating func receive(_ message: IRCMessage, now: Date) {
        guard phase == .registering || phase == .registered else { return }
        lastReceivedAt = now
        pingSentAt = nil
        dispatch(message, now: now)
        for hit in tracker.takeLimitHits() {
            switch hit {
            case .channels(let limit, let ignored):
                limitReached("channels", "tracking limit reached: the server put us in more than \(limit) channels; further ones are not tracked",
                             limit: limit, detail: "first ignored: \(ignored)")
            case .users(let limit, let channel):
                limitReached("users", "tracking limit reached: \(limit) users tracked; further members are not tracked (their accounts stay unknown)",
                             limit: limit, detail: "in \(channel)")
            }
        }
    }

    private mutating func dispatch(_ message: IRCMessage, now: Date) {
        switch message.command {
        case .ping:
            guard queue.sessionLineCount < configuration.limits.sessionLines else {
                limitReached("session-lines", "the server sends PINGs faster than it reads our lines; PONGs beyond the limit are not queued",
                             limit: configuration.limits.sessionLines, detail: "PING")
                return
            }
            if let pong = IRCMessage.pong(answering: message) { immediate(pong) }
        case .cap:
            handleCap(message, now: now)
        case .authenticate:
            handleAuthenticate(message, now: now)
        case .error:
            let text = message.trailing ?? "closing link"
            if shutdownState == nil {
                events.append(.error("the server closed the link: \(text)"))
                logger.error("server ERROR", ["server": serverName, "text": text])
            }
            let reason = shutdownState.map { "shut down (\($0.quitMessage))" } ?? "server ERROR: \(text)"
            lastDisconnectReason = reason
            requestDisconnect(reason)
        case .numeric(let numeric):
            handleNumeric(numeric, message, now: now)
        case .join:
            handleJoin(message, now: now)
        case .part:
            guard let nick = message.source?.nick, let channel = message.parameter(0) else { return }
            for name in channel.split(separator: ",").map(String.init) {
                if isOwnNick(nick) {
                    tracker.leave(name, nick: nick, me: currentNick)
                    events.append(.parted(channel: name))
                    if var state = channelStates[tracker.key(name)] {
                        // Parted by the server (we never PART configured channels): rejoin.
                        state.retryAt = now.addingTimeInterval(configuration.rejoin.afterKick.timeInterval)
                        state.joinPending = false
                        channelStates[tracker.key(name)] = state
                    }
                } else {
                    tracker.leave(name, nick: nick, me: currentNick)
                }
            }
        case .kick:
            handleKick(message, now: now)
        case .quit:
            guard let nick = message.source?.nick else { return }
            tracker.quit(nick)
            if holderLeft(nick) { tryRegainNick(now: now) }
        case .nick:
            handleNick(message, now: now)
        case .account:
            guard let nick = message.source?.nick, let value = message.parameter(0) else { return }
            let state = AccountState(wireValue: value)
            if isOwnNick(nick) {
                ownAccount = state.account
            } else if tracker.setAccount(nick, state) {
                events.append(.accountChanged(nick: nick, account: state.account))
            }
        case .chghost:
            guard let nick = message.source?.nick, message.parameters.count >= 2 else { return }
            if isOwnNick(nick) {
                ownHostmask = IRCHostmask(nick: currentNick, user: message.parameters[0], host: message.parameters[1])
            }
            tracker.setUserHost(nick, user: message.parameters[0], host: message.parameters[1])
        case .privmsg, .notice:
            handleMessage(message, now: now)
        default:
            break
        }
    }

    // MARK: CAP (IRCv3 capability-negotiation, version 302; cap-notify)

    private mutating func handleCap(_ message: IRCMessage, now: Date) {
        guard message.parameters.count >= 3 else { return }
        let subcommand = message.parameters[1].uppercased()
        let more = message.parameters.count >= 4 && message.parameters[2] == "*"
        let list = (message.trailing ?? "").split(separator: " ").map(String.init)
        switch subcommand {
        case "LS":
            for token in list { offer(token) }
            if !more, capState == .awaitingList { capabilitiesListed(now: now) }
        case "ACK":
            for token in list {
                if token.hasPrefix("-") {
                    enabledCapabilities.remove(String(token.dropFirst()))
                } else if wantsCapability(token) {
                    // Only what we asked for: an ACK listing thousands of names grows nothing.
                    enabledCapabilities.insert(token)
                }
            }
            removePendingRequest(list.map { $0.hasPrefix("-") ? String($0.dropFirst()) : $0 }, more: more)
            capabilityRequestsAnswered(now: now)
        case "NAK":
            let refused = list
            logger.notice("capabilities refused", ["server": serverName, "caps": refused.prefix(32).joined(separator: " ")])
            removePendingRequest(refused, more: more)
            if refused.count > 1 {
                // One unavailable cap makes the server refuse the whole request:
                // ask for each on its own (only what we asked for, once).
                for cap in Self.unique(refused) where wantsCapability(cap) && !isPending(cap) {
                    requestCapabilities([cap])
                }
            }
            capabilityRequestsAnswered(now: now)
        case "NEW":
            for token in list { offer(token) }
            let wanted = Self.unique(list.map { String($0.prefix { $0 != "=" }) })
                .filter { wantsCapability($0) && $0 != "sasl" && !enabledCapabilities.contains($0) && !isPending($0) }
            if !wanted.isEmpty { requestCapabilities(wanted) }
        case "DEL":
            for cap in list {
                offeredCapabilities[cap] = nil
                enabledCapabilities.remove(cap)
            }
            if MembershipTracker.isSparse(offeredCapabilities) {
                offeredCapabilities = MembershipTracker.rebuilt(offeredCapabilities)
            }
            logger.notice("capabilities withdrawn", ["server": serverName, "caps": list.prefix(32).joined(separator: " ")])
        default:
            break
        }
    }

    /// Remembers an offered `name[=value]`: at most
    /// ``IRCClientConfiguration/Limits/capabilities`` names besides the ones
    /// we request, so a server repeating `CAP NEW` with new names cannot grow
    /// the table without end.
    private mutating func offer(_ token: String) {
        let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty else { return }
        // What we want is always kept (the configured list bounds it).
        if offeredCapabilities[name] == nil, offeredCapabilities.count >= configuration.limits.capabilities,
           !wantsCapability(name)
        {
            limitReached("capabilities", "the server offers more than \(configuration.limits.capabilities) capabilities; the rest are ignored",
                         limit: configuration.limits.capabilities, detail: "first ignored: \(name)")
            return
        }
        offeredCapabilities[name] = parts.count > 1 ? String(parts[1].prefix(IRCLimits.lineLength)) : ""
    }

    private func wantsCapability(_ name: String) -> Bool {
        configuration.capabilities.contains(name) && (name != "sasl" || configuration.sasl != nil)
    }

    private func isPending(_ name: String) -> Bool {
        pendingCapRequests.contains { $0.contains(name) }
    }

    /// `names` without repeats, in order.
    static func unique(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    /// The complete `CAP LS` reply is in: request what we want of it.
    private mutating func capabilitiesListed(now: Date) {
        var wanted = configuration.capabilities.filter { offeredCapabilities[$0] != nil && $0 != "sasl" }
        if let sasl = configuration.sasl {
            if let value = offeredCapabilities["sasl"] {
                let mechanisms = value.split(separator: ",").map { $0.uppercased() }
                if value.isEmpty || mechanisms.contains(sasl.mechanismName) {
                    wanted.append("sasl")
                } else {
                    saslMechanisms = value
                    saslFailed("the server offers SASL \(value), not \(sasl.mechanismName)", now: now)
                    if disconnectRequest != nil { return }
                }
            } else {
                saslFailed("the server does not offer SASL (services may be down)", now: now)
                if disconnectRequest != nil { return }
            }
        }
        capState = .requesting
        if wanted.isEmpty {
            endCapabilityNegotiation()
        } else {
            requestCapabilities(wanted)
        }
    }

    /// `CAP REQ`, split so each line stays within 510 bytes.
    private mutating func requestCapabilities(_ caps: [String]) {
        var chunk: [String] = []
        var length = 0
        for cap in caps {
            if !chunk.isEmpty, length + cap.utf8.count + 1 > 400 {
                pendingCapRequests.append(chunk)
                immediate(.capabilityRequest(chunk))
                chunk = []
                length = 0
            }
            chunk.append(cap)
            length += cap.utf8.count + 1
        }
        if !chunk.isEmpty {
            pendingCapRequests.append(chunk)
            immediate(.capabilityRequest(chunk))
        }
    }

    private mutating func removePendingRequest(_ caps: [String], more: Bool) {
        if let index = pendingCapRequests.firstIndex(where: { Set($0) == Set(caps) }) {
            pendingCapRequests.remove(at: index)
        } else if !more, !pendingCapRequests.isEmpty {
            pendingCapRequests.removeFirst()
        }
    }

    /// Every `CAP REQ` was answered: SASL next, or `CAP END`.
    private mutating func capabilityRequestsAnswered(now: Date) {
        guard pendingCapRequests.isEmpty, capState == .requesting else { return }
        if configuration.sasl != nil, enabledCapabilities.contains("sasl"), sasl == .notStarted {
            startSASL(now: now)
        } else {
            if configuration.sasl != nil, sasl == .notStarted, !enabledCapabilities.contains("sasl") {
                saslFailed("the server refused the sasl capability (services may be down)", now: now)
                if disconnectRequest != nil { return }
            }
            endCapabilityNegotiation()
        }
    }

    private mutating func endCapabilityNegotiation() {
        guard capState != .ended else { return }
        capState = .ended
        immediate(.capabilityEnd())
    }

    // MARK: SASL (IRCv3 sasl-3.1)

    private mutating func startSASL(now: Date) {
        guard let sasl = configuration.sasl else { return }
        capState = .authenticating
        self.sasl = .awaitingChallenge
        saslDeadline = now.addingTimeInterval(configuration.timeouts.sasl.timeInterval)
        immediate(.authenticate(sasl.mechanismName))
    }

    private mutating func handleAuthenticate(_ message: IRCMessage, now: Date) {
        guard sasl == .awaitingChallenge, message.parameter(0) == "+", let config = configuration.sasl else { return }
        sasl = .awaitingResult
        let payload: String
        switch config.mechanism {
        case .plain(let account, let password):
            // RFC 4616: authzid NUL authcid NUL passwd.
            payload = Data("\(account)\u{0}\(account)\u{0}\(password)".utf8).base64EncodedString()
        case .external:
            payload = ""  // the certificate says who we are; empty authzid
        }
        for line in IRCMessage.authenticate(base64Payload: payload) { immediate(line) }
    }

    private mutating func saslSucceeded(now: Date) {
        guard sasl == .awaitingChallenge || sasl == .awaitingResult else { return }
        sasl = .succeeded
        saslDeadline = nil
        let account = ownAccount ?? configuration.sasl.map { config -> String in
            if case .plain(let account, _) = config.mechanism { return account }
            return "?"
        } ?? "?"
        ownAccount = account
        events.append(.loggedIn(account: account))
        logger.info("SASL login succeeded", ["server": serverName, "account": account])
        endCapabilityNegotiation()
    }

    /// SASL did not work: with `required`, disconnect (and retry later);
    /// otherwise say so loudly and register without an account.
    private mutating func saslFailed(_ reason: String, now: Date) {
        guard let config = configuration.sasl, sasl != .failed, sasl != .succeeded else { return }
        sasl = .failed
        saslDeadline = nil
        var text = reason
        if let mechanisms = saslMechanisms, !text.contains(mechanisms) { text += " (server mechanisms: \(mechanisms))" }
        events.append(.saslFailed(reason: text))
        if config.required {
            logger.error("SASL failed; SASL is required, so disconnecting to retry later",
                         ["server": serverName, "mechanism": config.mechanismName, "reason": text])
            lastDisconnectReason = "SASL failed: \(text)"
            requestDisconnect("SASL failed: \(text)")
        } else {
            logger.error("SASL failed; going on WITHOUT an account (sasl.required is false)",
                         ["server": serverName, "mechanism": config.mechanismName, "reason": text])
            if capState == .authenticating { endCapabilityNegotiation() }
        }
    }

    // MARK: Numerics

    private mutating func handleNumeric(_ numeric: IRCNumeric, _ message: IRCMessage, now: Date) {
        let p = message.parameters
        switch numeric {
        case .welcome:
            welcome(message, now: now)
        case .isupport:
            isupport.apply(message)
            tracker.setCaseMapping(isupport.caseMapping)
            if isupport.ignoredTokenCount > 0 {
                limitReached("isupport", "the server announces more than \(ISupport.maximumTokens) ISUPPORT tokens; the rest are ignored",
                             limit: ISupport.maximumTokens, detail: "005")
            }
        case .endOfMOTD, .noMOTD:
            if phase == .registered, !isReady { becomeReady(now: now) }
        case .unknownCommand:
            // 421 for CAP: a server without capability negotiation.
            if p.count >= 2, p[1].uppercased() == "CAP", capState == .awaitingList {
                capState = .ended
                logger.info("the server has no CAP negotiation", ["server": serverName])
                if configuration.sasl != nil { saslFailed("the server does not support CAP, so no SASL", now: now) }
            }
        case .nicknameInUse, .nickCollision, .erroneousNickname:
            nickRefused(numeric, message, now: now)
        case .unavailableResource:
            if let name = p.dropFirst().first, isChannelName(name) {
                joinFailed(name, reason: "\(numeric): \(message.trailing ?? "")", now: now)
            } else {
                nickRefused(numeric, message, now: now)
            }
        case .channelIsFull, .inviteOnlyChannel, .bannedFromChannel, .badChannelKey, .needRegisteredNick,
             .badChannelMask, .noSuchChannel, 405, 489, 520:
            if p.count >= 2 { joinFailed(p[1], reason: "\(numeric): \(message.trailing ?? "")", now: now) }
        case .namesReply:
            // 353 <me> <symbol> <channel> :<entries>
            guard p.count >= 4 else { return }
            for entry in p[3].split(separator: " ") {
                tracker.namesEntry(p[2], entry: String(entry), prefixCharacters: isupport.prefixCharacters)
            }
        case .whoxReply:
            handleWHOX(p)
        case 396:
            // RPL_HOSTHIDDEN / RPL_VISIBLEHOST: <me> <host> :is now your displayed host
            if p.count >= 2, let me = ownHostmask { ownHostmask = IRCHostmask(nick: me.nick, user: me.user, host: p[1]) }
        case .loggedIn:
            // 900 <nick> <nick!user@host> <account> :You are now logged in as …
            if p.count >= 3 { ownAccount = p[2] }
        case .loggedOut:
            ownAccount = nil
        case .saslSuccess, .saslAlready:
            saslSucceeded(now: now)
        case .nickLocked, .saslFail, .saslTooLong, .saslAborted:
            if sasl == .awaitingChallenge || sasl == .awaitingResult {
                saslFailed("\(numeric): \(message.trailing ?? "")", now: now)
            }
        case .saslMechanisms:
            if p.count >= 2 { saslMechanisms = p[1] }
        case 730, 731:
            // MONITOR (IRCv3 monitor): 731 RPL_MONOFFLINE — the nick is free.
            if numeric == 731, p.count >= 2, !isOwnNick(configuration.nick),
               p[1].split(separator: ",").contains(where: { tracker.caseMapping.equals(String($0.split(separator: "!")[0]), configuration.nick) })
            {
                tryRegainNick(now: now)
            }
        default:
            break
        }
    }

    private mutating func welcome(_ message: IRCMessage, now: Date) {
        guard phase == .registering else { return }
        phase = .registered
        registeredAt = now
        if let nick = message.parameter(0), !nick.isEmpty { currentNick = nick }
        // "Welcome to the Internet Relay Network <nick>!<user>@<host>" (RFC 2812 §5.1).
        if let last = message.trailing?.split(separator: " ").last.map(String.init), last.contains("!"),
           last.contains("@")
        {
            let mask = IRCHostmask(parsing: last)
            ownHostmask = IRCHostmask(nick: currentNick, user: mask.user, host: mask.host)
        } else {
            ownHostmask = IRCHostmask(nick: currentNick)
        }
        if capState == .awaitingList { capState = .ended }
        if let config = configuration.sasl, sasl != .succeeded, sasl != .failed {
            saslFailed("registration completed without SASL (the server offered no capability negotiation)", now: now)
            if config.required { return }
        }
        queue.resetBucket(now: now)
        motdDeadline = now.addingTimeInterval(configuration.timeouts.motd.timeInterval)
        logger.info("registered", ["server": serverName, "nick": currentNick,
                                   "caps": enabledCapabilities.sorted().joined(separator: " ")])
    }

    /// Welcome and MOTD are through: join, and let texts go.
    private mutating func becomeReady(now: Date) {
        isReady = true
        motdDeadline = nil
        events.append(.registered(nick: currentNick))
        for key in channelStates.keys {
            channelStates[key]!.retryAt = now
            channelStates[key]!.joinPending = false
        }
        joinDueChannels(now: now)
        if !isOwnNick(configuration.nick) {
            if isupport["MONITOR"] != nil {
                monitoring = true
                control(IRCMessage(command: .other("MONITOR"), parameters: ["+", configuration.nick]))
            } else {
                regainAt = now.addingTimeInterval(configuration.nickRegainInterval.timeInterval)
            }
        }
    }

    // MARK: Nicks

    /// 433/436/432/437 for a NICK we sent.
    private mutating func nickRefused(_ numeric: IRCNumeric, _ message: IRCMessage, now: Date) {
        let refused = message.parameter(1) ?? currentNick
        if phase == .registered {
            // A regain attempt failed: try again later (or when MONITOR says so).
            logger.debug("nick still taken", ["nick": refused, "reply": numeric.description])
            return
        }
        nickAttempts += 1
        if nickAttempts > 30 {
            requestDisconnect("the server refused 30 nicks in a row (last: \(refused), \(numeric))")
            return
        }
        // 432 for a nick longer than RFC 1459's 9 characters most likely means
        // "too long" (ngIRCd's default NICKLEN is 9; 005 comes only after 001).
        if numeric == .erroneousNickname, refused.count > 9 { nickLengthGuess = 9 }
        let limit = isupport.nickLength ?? nickLengthGuess ?? 16
        let candidates = ([configuration.nick] + configuration.alternativeNicks).filter {
            nickLengthGuess == nil || $0.count <= limit
        }
        let next: String
        if let candidate = candidates.first(where: { !tried.contains($0) }) {
            next = candidate
        } else {
            let digits = String(format: "%03d", Int(random.next() % 1000))
            next = String(configuration.nick.prefix(max(1, limit - 3))) + digits
        }
        tried.insert(next)
        logger.notice("nick refused, trying another", ["refused": refused, "reply": numeric.description, "next": next])
        currentNick = next
        immediate(.nick(next))
    }

    private mutating func handleNick(_ message: IRCMessage, now: Date) {
        guard let old = message.source?.nick, let new = message.parameter(0) else { return }
        if isOwnNick(old) {
            currentNick = new
            if let mask = ownHostmask { ownHostmask = IRCHostmask(nick: new, user: mask.user, host: mask.host) }
            tracker.rename(old, to: new)
            events.append(.nickChanged(old: old, new: new, isSelf: true))
            if isOwnNick(configuration.nick) {
                regainAt = nil
                if monitoring {
                    monitoring = false
                    control(IRCMessage(command: .other("MONITOR"), parameters: ["-", configuration.nick]))
                }
                logger.info("regained the configured nick", ["nick": new])
            }
            return
        }
        if tracker.user(old) != nil { events.append(.nickChanged(old: old, new: new, isSelf: false)) }
        tracker.rename(old, to: new)
        if holderLeft(old) { tryRegainNick(now: now) }
    }

    /// Whether `nick` (who quit or renamed) held the nick we want.
    private func holderLeft(_ nick: String) -> Bool {
        phase == .registered && !isOwnNick(configuration.nick) && tracker.caseMapping.equals(nick, configuration.nick)
    }

    private mutating func tryRegainNick(now: Date) {
        guard phase == .registered, !isOwnNick(configuration.nick) else {
            regainAt = nil
            return
        }
        control(.nick(configuration.nick))
        regainAt = monitoring ? nil : now.addingTimeInterval(configuration.nickRegainInterval.timeInterval)
    }

    // MARK: Channels

    private func isChannelName(_ name: String) -> Bool {
        guard let first = name.first else { return false }
        return isupport.channelTypes.contains(first)
    }

    private mutating func joinDueChannels(now: Date) {
        guard phase == .registered, isReady, shutdownState == nil else { return }
        var due: [(String, String?)] = []
        for (key, state) in channelStates where !state.joinPending {
            if tracker.isJoined(state.name) {
                channelStates[key]!.retryAt = nil  // joined meanwhile (e.g. forced by an oper)
                continue
            }
            if let at = state.retryAt, at <= now {
                due.append((state.name, state.key))
                channelStates[key]!.joinPending = true
                channelStates[key]!.retryAt = nil
            }
        }
        guard !due.isEmpty else { return }
        // Keys pair with the first channels of a JOIN, so keyed channels go first
        // (RFC 2812 §3.2.1); several channels share one line up to ~400 bytes.
        due.sort { ($0.1 == nil ? 1 : 0, $0.0) < ($1.1 == nil ? 1 : 0, $1.0) }
        let limit = isupport.maximumTargets(for: .join) ?? 10
        var names: [String] = []
        var keys: [String] = []
        var length = 0
        func flush() {
            if !names.isEmpty { control(.join(names, keys: keys)) }
            names = []
            keys = []
            length = 0
        }
        for (name, key) in due {
            let size = name.utf8.count + (key?.utf8.count ?? 0) + 2
            if names.count >= limit || length + size > 400 || (key != nil && keys.count < names.count) { flush() }
            names.append(name)
            if let key { keys.append(key) }
            length += size
        }
        flush()
    }

    private mutating func handleJoin(_ message: IRCMessage, now: Date) {
        guard let source = message.source?.hostmask, let channels = message.parameter(0) else { return }
        // extended-join: JOIN <channel> <account> :<realname> (IRCv3 extended-join).
        let account: AccountState = enabledCapabilities.contains("extended-join") && message.parameters.count >= 3
            ? AccountState(wireValue: message.parameters[1]) : .unknown
        for channel in channels.split(separator: ",").map(String.init) {
            if isOwnNick(source.nick) {
                if source.user != nil, source.host != nil { ownHostmask = source }
                let tracked = tracker.selfJoined(channel, me: ownHostmask ?? source,
                                                 account: ownAccount.map { .loggedIn($0) } ?? .unknown)
                let key = tracker.key(channel)
                if var state = channelStates[key] {
                    state.joinPending = false
                    state.retryAt = nil
                    state.failures = 0
                    state.name = channel
                    channelStates[key] = state
                }
                events.append(.joined(channel: channel))
                logger.info("joined", ["channel": channel])
                if tracked, isupport.supportsWHOX {
                    // NAMES carries no accounts: ask for everyone's (WHOX `%a`).
                    control(.who(channel, whoxFields: "tcuhnfa", token: whoxToken))
                }
            } else {
                let before = tracker.user(source.nick)?.account ?? .unknown
                tracker.join(channel, user: source, account: account)
                let after = tracker.user(source.nick)?.account ?? .unknown
                if after != before, after != .unknown {
                    events.append(.accountChanged(nick: source.nick, account: after.account))
                }
            }
        }
    }

    private mutating func handleKick(_ message: IRCMessage, now: Date) {
        guard message.parameters.count >= 2 else { return }
        let channel = message.parameters[0]
        let victim = message.parameters[1]
        let by = message.source?.nick ?? "?"
        let reason = message.parameters.count >= 3 ? message.parameters[2] : ""
        if isOwnNick(victim) {
            tracker.leave(channel, nick: victim, me: currentNick)
            let key = tracker.key(channel)
            var delay = configuration.rejoin.afterKick.timeInterval
            if var state = channelStates[key] {
                if let last = state.lastKickAt,
                   now.timeIntervalSince(last) < configuration.rejoin.kickMemory.timeInterval
                {
                    state.kicks += 1
                } else {
                    state.kicks = 0
                }
                state.lastKickAt = now
                delay = min(configuration.rejoin.maximumDelay.timeInterval, delay * pow(2, Double(min(state.kicks, 30))))
                state.retryAt = now.addingTimeInterval(delay)
                state.joinPending = false
                channelStates[key] = state
            }
            events.append(.kicked(channel: channel, by: by, reason: reason))
            logger.warning("kicked", ["channel": channel, "by": by, "reason": reason,
                                      "rejoin_in_s": channelStates[key] != nil ? Int(delay) : -1])
        } else {
            tracker.leave(channel, nick: victim, me: currentNick)
        }
    }

    private mutating func joinFailed(_ channel: String, reason: String, now: Date) {
        let key = tracker.key(channel)
        guard var state = channelStates[key] else {
            logger.warning("join refused", ["channel": channel, "reason": reason])
            return
        }
        state.joinPending = false
        // 403 no such channel / 476 bad mask: the name is wrong, retrying will not help.
        let permanent = reason.hasPrefix("403") || reason.hasPrefix("476")
        if permanent {
            state.retryAt = nil
        } else {
            let delay = min(configuration.rejoin.maximumDelay.timeInterval,
                            configuration.rejoin.afterJoinError.timeInterval * pow(2, Double(min(state.failures, 30))))
            state.failures += 1
            state.retryAt = now.addingTimeInterval(delay)
        }
        channelStates[key] = state
        events.append(.joinFailed(channel: state.name, reason: reason, retryAt: state.retryAt))
        logger.warning("cannot join channel", ["channel": state.name, "reason": reason,
                                               "retry_at": state.retryAt.map { "\($0)" } ?? "never"])
    }

    // MARK: WHOX

    /// `354 <me> <token> <channel> <user> <host> <nick> <flags> <account>`
    /// for our `%tcuhnfa` query (WHOX returns fields in the fixed order
    /// t c u i h s n f d l a o r, whatever order they were asked in).
    private mutating func handleWHOX(_ p: [String]) {
        guard p.count >= 8, p[1] == whoxToken else { return }
        let user = p[3]
        let host = p[4]
        let nick = p[5]
        let account = AccountState(wireValue: p[7], notLoggedIn: ["0", "*"])
        if isOwnNick(nick) {
            ownHostmask = IRCHostmask(nick: currentNick, user: user, host: host)
            return
        }
        tracker.setUserHost(nick, user: user, host: host)
        if tracker.setAccount(nick, account) {
            events.append(.accountChanged(nick: nick, account: account.account))
        }
    }

    // MARK: Messages

    private mutating func handleMessage(_ message: IRCMessage, now: Date) {
        guard case .user(let sender)? = message.source, !sender.nick.isEmpty, message.parameters.count >= 2 else {
            return  // server notices (`*** Looking up your hostname`)
        }
        let isNotice = message.command == .notice
        let target = message.parameters[0]
        var text = message.parameters[message.parameters.count - 1]

        // Tags are parsed from the line's bytes on each read (IRCMessage keeps
        // them raw until asked), so they are read once here.
        let tags = message.tags
        // account-tag: the tag (or its absence) is the truth for this message
        // and updates what we track.
        let tagAccount = tags.account
        let accountTags = enabledCapabilities.contains("account-tag")
        if let tagAccount {
            if tracker.setAccount(sender.nick, .loggedIn(tagAccount)) {
                events.append(.accountChanged(nick: sender.nick, account: tagAccount))
            }
        } else if accountTags, tracker.setAccount(sender.nick, .loggedOut) {
            events.append(.accountChanged(nick: sender.nick, account: nil))
        }
        tracker.setUserHost(sender.nick, user: sender.user, host: sender.host)

        // echo-message: our own lines come back; they are not news.
        if isOwnNick(sender.nick) { return }

        var isAction = false
        if let ctcp = CTCP(parsing: text) {
            guard ctcp.isAction else {
                if !isNotice { answerCTCP(ctcp, from: sender.nick, now: now) }
                return
            }
            isAction = true
            text = ctcp.parameters
        }

        let channelTypes = isupport.channelTypes
        let bare = String(target.drop { !channelTypes.contains($0) && isupport.prefixCharacters.contains($0) })
        let channel = isChannelName(bare) ? bare : nil
        let account: String?
        let source: AccountSource
        if let tagAccount {
            (account, source) = (tagAccount, .tag)
        } else if accountTags {
            (account, source) = (nil, .tagAbsent)
        } else if tracker.sharesChannel(with: sender.nick), let tracked = tracker.user(sender.nick)?.account,
                  tracked != .unknown
        {
            (account, source) = (tracked.account, .tracked)
        } else {
            (account, source) = (nil, .unknown)
        }
        events.append(.message(IRCIncomingMessage(
            sender: sender, account: account, accountSource: source, target: target, channel: channel, text: text,
            isNotice: isNotice, isAction: isAction, serverTime: tags.serverTime, receivedAt: now,
            tags: tags)))
    }

    /// CTCP VERSION and PING are answered (at most 3 at once, then one per
    /// 10 s); every other CTCP request is ignored.
    private mutating func answerCTCP(_ ctcp: CTCP, from nick: String, now: Date) {
        let reply: CTCP
        switch ctcp.command {
        case "VERSION":
            guard let version = configuration.ctcpVersion else { return }
            reply = CTCP(command: "VERSION", parameters: version)
        case "PING":
            reply = CTCP(command: "PING", parameters: String(ctcp.parameters.prefix(64)))
        default:
            logger.debug("ignoring CTCP", ["from": nick, "command": ctcp.command])
            return
        }
        guard phase == .registered, ctcpBucket.take(at: now) else {
            logger.debug("CTCP reply rate-limited", ["from": nick, "command": ctcp.command])
            return
        }
        control(.ctcpReply(to: nick, reply))
    }

    // MARK: Helpers

    private var serverName: String { "\(configuration.host):\(configuration.port)" }

    private mutating func immediate(_ message: IRCMessage) {
        do {
            queue.enqueueImmediate(try message.serialized(lineLimit: isupport.lineLength))
        } catch {
            logger.error("cannot send a protocol line", ["command": message.command.verb, "error": "\(error)"])
        }
    }

    private mutating func control(_ message: IRCMessage) {
        do {
            queue.enqueueControl(try message.serialized(lineLimit: isupport.lineLength))
        } catch {
            logger.error("cannot send a protocol line", ["command": message.command.verb, "error": "\(error)"])
        }
    }

    /// Logs that a bound on what we keep was hit, once per connection.
    private mutating func limitReached(_ name: String, _ message: String, limit: Int, detail: String) {
        guard limitsLogged.insert(name).inserted else { return }
        logger.warning(message, ["server": serverName, "limit": limit, "detail": detail])
    }

    private mutating func requestDisconnect(_ reason: String) {
        if disconnectRequest == nil { disconnectRequest = reason }
        if lastDisconnectReason == nil { lastDisconnectReason = reason }
    }

    private mutating func sendQuit(now: Date) {
        guard var shutdown = shutdownState, shutdown.quitSentAt == nil else { return }
        queue.dropAll(reason: "shut down before it could be sent")
        immediate(.quit(reason: shutdown.quitMessage))
        shutdown.quitSentAt = now
        shutdownState = shutdown
    }

    private mutating func finishShutdown(now: Date) {
        queue.dropAll(reason: "shut down before it could be sent")
        queue.connectionLost()
        phase = .stopped
        isReady = false
    }

    private mutating func scheduleReconnect(reason: String, now: Date) {
        resetConnectionState(now: now)
        let delay = backoff.nextDelay(random: random.unit())
        let at = now.addingTimeInterval(delay.timeInterval)
        phase = .waitingToConnect(at: at)
        events.append(.disconnected(reason: reason, reconnectAt: at))
    }

    private mutating func resetConnectionState(now: Date) {
        connectedAt = nil
        registeredAt = nil
        lastReceivedAt = nil
        pingSentAt = nil
        motdDeadline = nil
        capState = .awaitingList
        pendingCapRequests = []
        sasl = .notStarted
        saslDeadline = nil
        saslMechanisms = nil
        nickAttempts = 0
        nickLengthGuess = nil
        tried = [configuration.nick]
        regainAt = nil
        monitoring = false
        isReady = false
        enabledCapabilities = []
        offeredCapabilities = [:]
        isupport = ISupport()
        tracker.reset()
        tracker.setCaseMapping(.rfc1459)
        limitsLogged = []
        currentNick = configuration.nick
        ownHostmask = nil
        ownAccount = nil
        disconnectRequest = nil
        for key in channelStates.keys { channelStates[key]!.joinPending = false }
    }
}

/// Errors the client's API throws.
public enum IRCClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not one valid recipient (empty, a space, comma, CR, LF or NUL, or a leading `:`).
    case invalidTarget(String)
    /// Nothing but whitespace to send.
    case emptyText(target: String)
    /// The client is shutting down or stopped.
    case shutDown
    /// `run()` was called while it is already running.
    case alreadyRunning

    public var description: String {
        switch self {
        case .invalidTarget(let target): "\"\(target)\" is not a valid IRC target (one channel or nick)"
        case .emptyText(let target): "nothing to send to \(target): the text is empty"
        case .shutDown: "the IRC client is shutting down"
        case .alreadyRunning: "the IRC client is already running"
        }
    }
}
