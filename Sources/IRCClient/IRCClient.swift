import Core
import Foundation
import IRC
import Transport

/// Opens the connection to the configured server. Injectable, so tests hand
/// the client one end of a socketpair (`Connection(adopting:)`).
public typealias IRCConnector = @Sendable (_ configuration: IRCClientConfiguration, _ logger: Logger) async throws
    -> Connection

/// The standard connectors.
public enum IRCConnectors {
    /// TCP, with TLS when ``IRCClientConfiguration/tls`` is set (Transport's
    /// `Connection.connect`: every resolved address in turn, TCP_NODELAY,
    /// certificate verification unless turned off).
    public static let tcp: IRCConnector = { configuration, logger in
        try await Connection.connect(
            host: configuration.host, port: configuration.port,
            security: configuration.tls.map { .tls($0) } ?? .plain,
            timeout: configuration.timeouts.connect, logger: logger)
    }
}

/// An IRC client that connects, registers, stays connected for weeks, and
/// sends politely: the driver around ``IRCSession`` (which holds all the
/// protocol logic) and the Transport connection.
///
/// One actor owns the connection, the session and the send queue. Per
/// connection, a read loop on the actor feeds received lines to the session
/// and one loop (the pump) runs the session's timers; between events it sleeps
/// exactly until the session's next deadline (keep-alive, token refill,
/// reconnect, expiry) on the injected clock — no polling.
///
/// **The short write path.** Lines the session may release at once (a text
/// just queued, a PONG) are written from the actor in the job that queued
/// them, with a non-blocking write (``Transport/Connection/writeAvailable(_:)``):
/// a page goes out without waking the pump — a hop to another task on the
/// cooperative pool and back. Only what the socket does not take then, or
/// what waits for the token bucket, is left to the pump; it is woken only
/// when that brings its next deadline forward. Every line still takes its
/// token (``IRCSession/nextLine(now:)``), and a text is reported delivered
/// only after all its lines were written, whichever of the two wrote them.
///
/// **One thread.** The actor runs on an event loop (``executor``, by default
/// the process's `EventLoop.shared`): the thread that waits for the socket
/// also reads it, parses, hands the events over and writes the answer. Its
/// read loop and delivery task prefer the loop as task executor, so an
/// event handler's nonisolated code (the chat adapter, the bots' runtime
/// when it runs on the same loop, a store's call up to its own thread)
/// stays on it too: a customer's line goes from the socket to the answer's
/// write without a hand-off to Swift's cooperative pool. After each read's
/// lines are handled the read loop yields, so a busy connection takes its
/// turn with the loop's other sockets and jobs.
///
/// ```swift
/// let client = IRCClient(configuration: config, clock: SystemClock(), logger: logger)
/// Task { try await client.run() }
/// for await event in client.events { … }
/// try await client.send("Ticket #42 created", to: "alice", priority: .urgent, id: 42)
/// await client.shutdown(quitMessage: "bye", drainFor: .seconds(5))
/// ```
public actor IRCClient<C: WallClock> {
    public nonisolated let configuration: IRCClientConfiguration
    /// The loop the client runs on (see "One thread" above).
    public nonisolated let executor: EventLoop

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    /// Everything that happens, in order. One consumer; it ends when
    /// ``run()`` returns. Empty with ``run(handlingEventsWith:)``.
    public nonisolated let events: AsyncStream<IRCClientEvent>

    private let eventContinuation: AsyncStream<IRCClientEvent>.Continuation
    private let clock: C
    private let logger: Logger
    private let connector: IRCConnector
    private var session: IRCSession
    private var running = false
    private var finished = false
    private var generation = 0
    private var readerEnded: String?
    private var wakeContinuation: CheckedContinuation<Void, Never>?
    private var wakePending = false
    /// The timer that wakes the loop at a deadline; kept across sleeps.
    private var timer: (deadline: Date, task: Task<Void, Never>)?
    private var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    /// The connection being served, while the pump runs.
    private var connection: Connection?
    /// True while the pump waits in a write: nothing else may write then.
    private var writing = false
    /// The end of a batch a direct write could not finish (its lines are
    /// in flight); the pump writes it before anything else.
    private var unwritten: [UInt8] = []
    /// Why a direct write failed; the pump ends the connection with it.
    private var writeFailure: String?
    /// The handler of ``run(handlingEventsWith:)``; nil: events go to ``events``.
    private var eventHandler: (@Sendable (IRCClientEvent) async -> Void)?
    /// Events not yet handed to ``eventHandler``, in order.
    private var pendingEvents = RingDeque<IRCClientEvent>()
    /// Someone (the read loop or the delivery loop) is handing events to the handler.
    private var delivering = false
    /// The delivery loop, waiting for events nobody else hands over.
    private var deliveryWaiter: CheckedContinuation<Void, Never>?
    /// The generation of the read loop that is handing events to the handler now.
    private var readerHandling: Int?

    /// - Parameters:
    ///   - seed: seeds reconnect jitter and fallback nick digits (tests).
    ///   - connector: opens the connection (default: TCP/TLS to the
    ///     configured host).
    ///   - executor: the loop the client runs on (one per process: the
    ///     bots' runtime shares it, see `GatewayService`).
    public init(configuration: IRCClientConfiguration, clock: C, logger: Logger = .disabled, seed: UInt64? = nil,
                connector: @escaping IRCConnector = IRCConnectors.tcp, executor: EventLoop = .shared) {
        self.configuration = configuration
        self.executor = executor
        self.clock = clock
        self.logger = logger
        self.connector = connector
        self.session = IRCSession(configuration: configuration, logger: self.logger, now: clock.date, seed: seed)
        (events, eventContinuation) = AsyncStream.makeStream(of: IRCClientEvent.self, bufferingPolicy: .unbounded)
    }

    // MARK: API

    /// Connects and stays connected — reconnecting with backoff whenever the
    /// connection drops — until ``shutdown(quitMessage:drainFor:)`` (then it
    /// returns) or until its task is cancelled (then the connection is
    /// closed at once and it throws `CancellationError`). Call it once.
    public func run() async throws {
        guard !running, !finished else { throw IRCClientError.alreadyRunning }
        running = true
        session.start(now: clock.date)
        flushEvents()
        defer { finish() }
        while session.phase != .stopped {
            try Task.checkCancellation()
            let now = clock.date
            session.tick(now: now)
            flushEvents()
            if let at = session.connectAt, at <= now {
                session.connecting(now: now)
                let connection: Connection
                do {
                    connection = try await connector(configuration, logger)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    session.connectionFailed(reason: Self.describe(error), now: clock.date)
                    flushEvents()
                    continue
                }
                guard session.phase == .connecting else {
                    connection.close()  // shut down while connecting
                    continue
                }
                await serve(connection)
                try Task.checkCancellation()
                continue
            }
            await sleepOrWake(until: session.nextDeadline(now: now))
        }
    }

    /// ``run()``, with every event handed to `handler` in order instead of
    /// to ``events``; returns once the last event was handled — or, when a
    /// handler call still runs (the bots wait for a store that hangs), without
    /// waiting for it: that call hands over what is left when it returns.
    ///
    /// **Why.** The events of a line the client read — a customer's
    /// message — are handled by the read loop itself, awaiting `handler`
    /// before it reads again: the bots' answer is computed and written in the
    /// job that read the question. Through ``events`` the consumer is a task
    /// of its own that the runtime wakes on another pool thread for every
    /// line (a thread switch and a wake-up on the path of every answer).
    /// Events that arise elsewhere (a text delivered from a timer's send, a
    /// disconnect) are handed over by a delivery task; one of the two at a
    /// time, so the order is the order of ``events``.
    ///
    /// While `handler` runs for a line, no further line is read from this
    /// connection (it waits in the socket): a handler that waits long, such
    /// as for a store that hangs, holds the reading back, and with it the
    /// answers to the server's PINGs (keep-alive gives up after
    /// ``IRCClientConfiguration/KeepAlive/idle`` plus its timeout). The
    /// handler may call this client (``send(_:)``): the client is not
    /// blocked while it runs.
    public func run(handlingEventsWith handler: @escaping @Sendable (IRCClientEvent) async -> Void) async throws {
        guard !running, !finished, eventHandler == nil else { throw IRCClientError.alreadyRunning }
        eventHandler = handler
        let delivery = Task(executorPreference: executor.taskExecutor) { await self.deliveryLoop() }
        do {
            try await run()
        } catch {
            await delivery.value
            throw error
        }
        await delivery.value
    }

    /// Hands over the events no read loop hands over, until the client has
    /// finished and every event was handled.
    private func deliveryLoop() async {
        while true {
            await deliverPending()
            // Finished: done, unless events are left, and then also when a
            // read loop still in the handler has them (see `serve`).
            if finished && (pendingEvents.isEmpty || delivering) { return }
            await withCheckedContinuation { continuation in
                if (!pendingEvents.isEmpty && !delivering) || finished {
                    continuation.resume()
                } else {
                    deliveryWaiter = continuation
                }
            }
        }
    }

    /// Hands the pending events to the handler, in order, including those
    /// that arise meanwhile; nothing when another caller is doing it (that
    /// one takes these too).
    private func deliverPending() async {
        guard let eventHandler, !delivering else { return }
        delivering = true
        while let event = pendingEvents.popFirst() {
            await eventHandler(event)
        }
        delivering = false
    }

    /// Queues a text (see ``IRCSession/send(_:to:notice:action:priority:id:expiresAt:now:)``):
    /// split into lines that fit, throttled, sent in priority order; `id`
    /// gets ``IRCClientEvent/delivered(id:at:)`` once every line was written
    /// to the socket, or ``IRCClientEvent/expired(id:)``. Kept across
    /// reconnects. With `replaceKey`, a waiting text for the same target
    /// with the same key is dropped (``IRCClientEvent/superseded(id:)``).
    /// Throws for an invalid target or empty text at once.
    public func send(_ text: String, to target: String, notice: Bool = false, action: Bool = false,
                     priority: SendPriority = .normal, id: Int64? = nil, expiresAt: Date? = nil,
                     replaceKey: String? = nil) throws {
        try queue(OutgoingText(text, to: target, notice: notice, action: action, priority: priority, id: id,
                               expiresAt: expiresAt, replaceKey: replaceKey), now: clock.date)
        writeReadyLines()
    }

    /// Hands one text to the session; both `send`s write afterwards.
    private func queue(_ text: OutgoingText, now: Date) throws {
        try session.send(text.text, to: text.target, notice: text.notice, action: text.action,
                         priority: text.priority, id: text.id, expiresAt: text.expiresAt,
                         replaceKey: text.replaceKey, now: now)
        if text.priority == .urgent, text.id != nil { HopTrace.mark(.queued) }
    }

    /// One text for ``send(_:)``: the arguments of
    /// ``send(_:to:notice:action:priority:id:expiresAt:replaceKey:)``.
    public struct OutgoingText: Sendable {
        public var text: String
        public var target: String
        public var notice: Bool
        public var action: Bool
        public var priority: SendPriority
        public var id: Int64?
        public var expiresAt: Date?
        public var replaceKey: String?

        public init(_ text: String, to target: String, notice: Bool = false, action: Bool = false,
                    priority: SendPriority = .normal, id: Int64? = nil, expiresAt: Date? = nil,
                    replaceKey: String? = nil) {
            self.text = text
            self.target = target
            self.notice = notice
            self.action = action
            self.priority = priority
            self.id = id
            self.expiresAt = expiresAt
            self.replaceKey = replaceKey
        }
    }

    /// Queues several texts at once, in order (as one call of
    /// ``send(_:to:notice:action:priority:id:expiresAt:replaceKey:)`` each),
    /// and then writes the lines that may go now together: a bot step's
    /// lines (the customer's confirmation, the agents' channel, the page)
    /// cost one hop to the client and one write. Returns the texts that
    /// could not be queued (invalid target, empty text), by index, with why.
    public func send(_ texts: [OutgoingText]) -> [(index: Int, error: any Error)] {
        var failures: [(index: Int, error: any Error)] = []
        let now = clock.date
        // By index, not `enumerated()`: the (offset, element) tuple of this
        // generic class's nested type had its metadata looked up at run time
        // on every call (on the page's path).
        for index in texts.indices {
            do {
                try queue(texts[index], now: now)
            } catch {
                failures.append((index, error))
            }
        }
        writeReadyLines()
        return failures
    }

    /// Sets the check asked, at write time, before each line of a text with
    /// an id goes out (``IRCSession/deliveryGate``; nil: none). Refused, the
    /// text is not written and is reported ``IRCClientEvent/withheld(id:reason:)``:
    /// a page that waited behind the flood limit does not leave after its
    /// sender lost the gateway lease (issue 10). Texts without an id are
    /// not affected.
    public func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) {
        session.deliveryGate = gate
    }

    /// Withdraws the waiting text for `target` with `replaceKey` (see
    /// ``IRCSession/withdraw(to:replaceKey:)``); returns whether there was one.
    @discardableResult
    public func withdraw(to target: String, replaceKey: String) -> Bool {
        let withdrawn = session.withdraw(to: target, replaceKey: replaceKey)
        flushEvents()
        return withdrawn
    }

    /// Sends what is queued (for at most `drainFor`), then `QUIT`, waits for
    /// the server to close (a few seconds at most), and returns when
    /// ``run()`` has finished. Texts not sent by then are reported
    /// ``IRCClientEvent/dropped(id:reason:)``.
    public func shutdown(quitMessage: String = "Switchboard shutting down", drainFor: Duration = .seconds(5)) async {
        let now = clock.date
        session.shutdown(quitMessage: quitMessage, drainDeadline: now.addingTimeInterval(drainFor.timeInterval),
                         now: now)
        flushEvents()
        guard running else {
            finish()
            return
        }
        wake()
        await withCheckedContinuation { shutdownWaiters.append($0) }
    }

    /// The services account `nick` is logged in as, or nil (see
    /// ``IRCSession/account(of:)`` for exactly when it is known).
    public func account(of nick: String) -> String? { session.account(of: nick) }

    /// What is known of `nick`'s account.
    public func accountState(of nick: String) -> AccountState { session.accountState(of: nick) }

    /// Our nick now.
    public var currentNick: String { session.currentNick }

    /// Our services account (SASL), if logged in.
    public var ownAccount: String? { session.ownAccount }

    /// Where the client stands.
    public var state: IRCSession.Phase { session.phase }

    /// Registered and past the MOTD: texts go out.
    public var isConnected: Bool { session.phase == .registered && session.isReady }

    /// Channels we are in now.
    public var joinedChannels: [String] { session.tracker.channels.values.map(\.name).sorted() }

    /// Members of a channel we are in.
    public func members(of channel: String) -> [String] { session.tracker.members(of: channel) }

    /// Whether `nick` is in a channel we are in (compared with the server's
    /// case mapping): seen online for sure. False says only that we do not
    /// see them; nil means we are not registered and see no one.
    public func sharesChannel(with nick: String) -> Bool? {
        guard session.phase == .registered else { return nil }
        return session.tracker.sharesChannel(with: nick)
    }

    /// Texts waiting in the send queue (started ones included).
    public var queuedTextCount: Int { session.queue.textCount }

    /// The send queue's backlog: texts per lane, the oldest one's enqueue time.
    public var sendBacklog: SendQueue.Backlog { session.queue.backlog }

    // MARK: One connection

    private func serve(_ connection: Connection) async {
        generation += 1
        let current = generation
        readerEnded = nil
        session.connectionOpened(server: connection.remoteAddress, now: clock.date)
        flushEvents()
        let reader = Task(executorPreference: executor.taskExecutor) {
            await self.readLoop(connection, generation: current)
        }
        self.connection = connection
        let reason = await pump(connection)
        self.connection = nil
        unwritten = []
        writeFailure = nil
        connection.close()
        reader.cancel()
        // A read loop inside the event handler (one that waits for a store
        // that hangs) is not waited for: the client must still close,
        // reconnect or stop. It ends when the handler returns (its reads
        // fail on the closed connection, its generation is past).
        if readerHandling != current { await reader.value }
        session.connectionClosed(reason: reason, now: clock.date)
        flushEvents()
    }

    /// Writes what the session releases and runs its timers until the
    /// connection must end; returns why.
    private func pump(_ connection: Connection) async -> String {
        while true {
            if Task.isCancelled { return "cancelled" }
            if let reason = readerEnded { return reason }
            if let reason = writeFailure { return reason }
            session.tick(now: clock.date)
            if let reason = session.takeDisconnectRequest() {
                flushEvents()
                return reason
            }
            flushEvents()
            var batch = unwritten
            unwritten = []
            while true {
                if batch.isEmpty { batch = takeBatch() }
                if batch.isEmpty { break }
                do {
                    try await write(batch, to: connection)
                } catch {
                    flushEvents()
                    return "write failed: \(Self.describe(error))"
                }
                batch = []
                session.lineWritten(now: clock.date)
                flushEvents()
                if readerEnded != nil || Task.isCancelled { break }
            }
            if let reason = readerEnded { return reason }
            if let reason = session.takeDisconnectRequest() {
                flushEvents()
                return reason
            }
            let now = clock.date
            await sleepOrWake(until: inspectSession { $0.nextDeadline(now: now) })
        }
    }

    /// Writes `batch`: what the socket takes at once from the actor, the
    /// rest waiting for the socket (``writing`` meanwhile).
    private func write(_ batch: [UInt8], to connection: Connection) async throws {
        HopTrace.mark(.writeBegin)
        let count = try connection.writeAvailable(batch)
        if count < batch.count {
            writing = true
            defer { writing = false }
            try await connection.write(count == 0 ? batch : Array(batch[count...]))
        }
        HopTrace.mark(.written)
    }

    /// Writes the lines the session releases now, from the actor (see "The
    /// short write path" above), unless the pump is writing or a direct
    /// write is unfinished. Wakes the pump when it has something to do
    /// sooner than it planned: the rest of a batch, a failure, a disconnect
    /// the session asks for, or an earlier deadline.
    private func writeReadyLines() {
        guard let connection, !writing, unwritten.isEmpty, writeFailure == nil else {
            wake()
            return
        }
        let batch = takeBatch()
        if !batch.isEmpty {
            HopTrace.mark(.writeBegin)
            let count: Int
            do {
                count = try connection.writeAvailable(batch)
            } catch {
                writeFailure = "write failed: \(Self.describe(error))"
                wake()
                return
            }
            guard count == batch.count else {
                unwritten = Array(batch[count...])
                wake()
                return
            }
            HopTrace.mark(.written)
            session.lineWritten(now: clock.date)
            flushEvents()
        }
        let now = clock.date
        let (disconnect, deadline) = inspectSession { ($0.hasDisconnectRequest, $0.nextDeadline(now: now)) }
        if disconnect {
            wake()
        } else if let deadline, timer.map({ $0.deadline > deadline }) ?? true {
            wake()
        }
    }

    /// Reads the session in place. A non-mutating call on the actor's
    /// stored struct copies it whole first (every buffer of the session and
    /// its send queue retained, then released); an `inout` access does not.
    /// On every answer's path, so it matters.
    private func inspectSession<T>(_ body: (inout IRCSession) -> T) -> T {
        body(&session)
    }

    /// Every line the session releases now, up to ``batchLimit`` bytes, as
    /// one buffer for one `write` (one `SSL_write`): the lines of an answer
    /// leave in one TCP segment, so the server relays them together instead
    /// of holding the second until the receiver acknowledges the first (a
    /// delayed ACK: 40 ms). Each line still took its token from the bucket.
    private func takeBatch() -> [UInt8] {
        let now = clock.date
        var batch: [UInt8] = []
        while batch.count < Self.batchLimit, let line = session.nextLine(now: now) {
            if batch.isEmpty { batch.reserveCapacity(min(Self.batchLimit, line.bytes.count * 4)) }
            batch.append(contentsOf: line.bytes)
        }
        return batch
    }

    /// Bytes gathered for one write before it goes out (a TLS record's worth).
    static var batchLimit: Int { 16 * 1024 }

    /// Reads, frames and parses lines and hands them to the session, one
    /// batch per read. A line that does not parse is logged and skipped.
    ///
    /// It runs on the actor: the read waits on the actor's executor
    /// (``Transport/Connection/read(maxBytes:)`` is `nonisolated(nonsending)`),
    /// so when the event loop sees the socket readable it resumes the actor
    /// itself, on its own thread, which reads, parses and hands the lines to
    /// the session in one job — no reader task on the pool, no hop per read.
    /// The actor is free while the read waits.
    private func readLoop(_ connection: Connection, generation: Int) async {
        var framer = IRCLineFramer()
        do {
            while true {
                let bytes = try await connection.read()
                HopTrace.mark(.read)
                if bytes.isEmpty {
                    readerFinished("the server closed the connection", generation: generation)
                    return
                }
                framer.append(bytes)
                var messages: [IRCMessage] = []
                while let result = framer.next() {
                    switch result {
                    case .success(let message): messages.append(message)
                    case .failure(let error): logger.warning("unreadable line from the server", ["error": "\(error)"])
                    }
                }
                HopTrace.mark(.parsed)
                if !messages.isEmpty {
                    // These events are the read loop's to hand over: marked
                    // as being delivered, they do not wake the delivery task
                    // (a wake-up on another thread for nothing).
                    let handOver = eventHandler != nil && !delivering
                    if handOver { delivering = true }
                    received(messages, generation: generation)
                    if handOver {
                        delivering = false
                        readerHandling = generation
                        await deliverPending()
                        readerHandling = nil
                    }
                }
                // Bounded work per turn: the loop's other sockets and jobs
                // go first before this connection is read again.
                await Task.yield()
            }
        } catch {
            readerFinished("read failed: \(Self.describe(error))", generation: generation)
        }
    }

    private func received(_ messages: [IRCMessage], generation: Int) {
        guard generation == self.generation else { return }
        let now = clock.date
        for message in messages { session.receive(message, now: now) }
        HopTrace.mark(.session)
        flushEvents()
        writeReadyLines()
    }

    private func readerFinished(_ reason: String, generation: Int) {
        guard generation == self.generation, readerEnded == nil else { return }
        readerEnded = reason
        wake()
    }

    // MARK: Waiting

    /// Sleeps until `deadline` (nil: no deadline) or until `wake()`.
    ///
    /// A timer set for an earlier or the same deadline is kept instead of
    /// being replaced: it wakes the loop early at worst, which then looks
    /// again. Most events (a line read, a text queued) only push the
    /// keep-alive deadline later, so they cost no timer task of their own —
    /// a new task and the cancelled one's wake-up were two more hops on the
    /// cooperative pool per event.
    private func sleepOrWake(until deadline: Date?) async {
        if wakePending {
            wakePending = false
            return
        }
        if let deadline, deadline <= clock.date { return }
        if let deadline, timer.map({ $0.deadline > deadline }) ?? true {
            timer?.task.cancel()
            let task = Task { [clock] in
                do {
                    try await clock.sleep(until: WallInstant(deadline), tolerance: nil)
                    self.timerFired(deadline)
                } catch {}
            }
            timer = (deadline, task)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if wakePending || Task.isCancelled {
                    continuation.resume()
                } else {
                    wakeContinuation = continuation
                }
            }
        } onCancel: {
            Task { await self.wake() }
        }
        wakePending = false
    }

    private func timerFired(_ deadline: Date) {
        if timer?.deadline == deadline { timer = nil }
        wake()
    }

    private func wake() {
        if let continuation = wakeContinuation {
            wakeContinuation = nil
            continuation.resume()
        } else {
            wakePending = true
        }
    }

    // MARK: Helpers

    private func flushEvents() {
        let events = session.takeEvents()
        guard eventHandler != nil else {
            for event in events { eventContinuation.yield(event) }
            return
        }
        for event in events { pendingEvents.append(event) }
        if !delivering, !pendingEvents.isEmpty { wakeDelivery() }
    }

    private func wakeDelivery() {
        if let waiter = deliveryWaiter {
            deliveryWaiter = nil
            waiter.resume()
        }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        running = false
        timer?.task.cancel()
        timer = nil
        flushEvents()
        eventContinuation.finish()
        wakeDelivery()
        let waiters = shutdownWaiters
        shutdownWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? TransportError { return error.description }
        return String(describing: error)
    }
}
