import Core
import Desk
import Foundation
import KB

/// The bots at run time: the support bot (customer conversations, tickets),
/// the agent bot (pages, escalation, SLA warnings, agent commands) and the
/// KB bot, over any number of chat networks.
///
/// The gateway creates one runtime, attaches its networks, starts it, runs
/// the timer loop, and feeds it every event and delivery report:
///
/// ```swift
/// let runtime = BotRuntime(desk: desk, definitions: definitions, kb: kb, store: store,
///                          clock: SystemClock(), logger: logger)
/// await runtime.attach(ircNetwork, settings: NetworkBotSettings(name: "libera", agentsChannel: "#nordlicht-agents",
///                                                               supportChannels: ["#nordbox"], hasAccounts: true))
/// try await runtime.start()                   // queue, overrides, pending pages, escalation resumed
/// Task { await runtime.runTimers() }          // until cancelled
/// try await ircNetwork.run(events: { await runtime.handle($0) }, deliveries: { await runtime.handle($0) })
/// ```
///
/// **Order of effects.** A ticket is committed to the store before its
/// number is said to anyone; a page is written to the store's outbox in the
/// same transaction as the ticket change that causes it, then handed to the
/// network on the urgent lane with `deliveryID` = the page's id, and marked
/// sent when the network reports ``ChatDelivery/delivered(id:at:)``. A
/// page that fails is retried, up to ``AgentSettings/pageAttempts`` times
/// (then given up: the next escalation step is paged and the agents'
/// channel warned); one that is never confirmed is sent again after
/// ``AgentSettings/pageDeliveryTimeout``; a restart sends whatever is
/// pending. Pages are delivered at least once. On a network that delivers
/// a message again after a crash (Matrix: the step's commit records it as
/// handled, and it is skipped then), what the step says after that commit
/// goes through the outbox too — a ticket's confirmation, an agent
/// command's lines (``change(_:_:by:pages:cancelUnsentPages:now:lines:)``).
///
/// **Parts.** The actor routes inputs and performs effects; state lives in
/// parts: ``TicketService`` (ticket changes, the queue), ``Outbox`` (pages
/// in flight, retry decisions), ``EscalationScheduler`` (escalation steps,
/// SLA marks, presence checks and their deadlines; `Escalation/`),
/// ``Intake`` (one customer's questions), ``KBBot``, and the agent bot's
/// command table (`AgentBot/`), ``SupportBot`` (the conversation table:
/// conversations, held lines, their timers, bounds and journal; `Support/`),
/// ``PINChecks`` (a PIN check's reservation, busy retries, result and the
/// agents' attack warning; `PIN/`), ``TicketCreation`` (a new ticket's
/// plan, pages and texts; `Support/`). `BotRuntime+Escalation.swift` reads
/// tickets for the scheduler and performs its effects;
/// `BotRuntime+Customers.swift` carries out the PIN checks' effects (store,
/// worker, timers), stores the ticket ``TicketCreation`` plans and, still
/// as an actor extension on the support bot's table, says what a customer
/// is asked and told.
///
/// **Adapter contract.** `send` returns at once; an action with a
/// `deliveryID` must eventually be reported as delivered or failed (also
/// when the adapter drops its queue on a disconnect).
///
/// **Concurrency.** Every input — a chat event, a delivery report, a timer
/// tick, a PIN check's result — takes its turn through one FIFO gate
/// (``Turns``): an input is handled to the end, its lines handed to the
/// networks, before the next one starts, even where handling awaits (a
/// network's presence answer, every call to the async ``DeskStore``).
/// The deliberately slow PIN check (PBKDF2) runs off the actor so other
/// customers are not kept waiting; its result comes back as an input, and
/// every later line of that customer (commands too) waits behind it in
/// arrival order (``Conversation/held``).
///
/// **Executor.** The runtime runs on the executor it is given: in the
/// gateway the event loop its IRC clients run on, so a customer's line is
/// read, answered and written on one thread and the store's commit is the
/// one hand-off (issue 12). Without one it gets a serial queue of its own.
public actor BotRuntime<C: WallClock> {
    /// Where the runtime's code runs (see "Executor" above).
    public nonisolated let executor: any SerialExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    // MARK: Configuration

    var desk: DeskConfiguration
    var definitions: BotDefinitions
    let knowledgeBase: ReloadableKnowledgeBase
    let store: any DeskStore
    let clock: C
    let logger: Logger

    // MARK: Networks

    var networks: [String: any ChatNetwork] = [:]
    var networkSettings: [String: NetworkBotSettings] = [:]
    /// In the order attached (the first with an agents' channel receives
    /// pages of tickets from networks without one).
    var networkOrder: [String] = []

    // MARK: State

    /// The configured roster plus the overrides agents made at run time.
    var roster: Roster
    /// Ticket changes and the queue of open unassigned tickets.
    let tickets: TicketService
    /// The support bot's conversation table, their timers, bounds and
    /// journal of changes to store (``SupportBot``).
    var support = SupportBot()
    /// The outbox's and the backlog watch's timers (the support bot and the
    /// scheduler keep their own).
    var schedule = DeadlineSchedule<TimerKey>()
    /// Escalation steps, SLA marks and presence checks of contract tickets.
    var escalation = EscalationScheduler()
    /// Pages handed to networks and not confirmed yet.
    var outbox = Outbox()
    var counters = BotMetrics()
    var serials: UInt64 = 0
    var started = false
    /// Actions produced by the current step, sent in order by ``flush()``.
    var outgoing: [ChatAction] = []
    /// The messages with a source id (Matrix) handled since the last commit
    /// that recorded them, with their sender's conversation: the step's
    /// last commit records them as handled (``handledMessagesToRecord()``).
    var stepMessages: [(message: HandledMessage, key: ConversationKey)] = []
    /// PIN checks running off the actor.
    var backgroundWork: [UInt64: Task<Void, Never>] = [:]
    /// The PIN checks' decisions: the budgets, busy retries and attack
    /// warnings (issue 14); the runtime carries out their effects.
    var pins = PINChecks()
    var sleeper: Task<Void, Never>?
    var armedFor: Date?
    /// One input at a time, in arrival order.
    var turns = Turns()
    /// Where PINs are hashed: threads of its own, round robin per
    /// conversation, bounded (issue 14); never the cooperative pool.
    var pinWorker: PINWorker

    /// Set while this instance holds the gateway lease: pages are claimed
    /// with its token before they go out (``activate(fence:onFenced:)``).
    var pageFence: PageFence?
    /// True once the store refused a claim or the gateway fenced the runtime
    /// (the lease is lost): no line goes out any more — no page, no
    /// customer or agent line; the next active instance goes on from the
    /// store.
    var fenced = false {
        didSet { if fenced { deliveryGate?.fence() } }
    }
    /// The lease view the networks' send queues ask at write time, before
    /// a page line goes out (set by ``activate(fence:sendableUntil:onFenced:)``
    /// with a `sendableUntil`).
    var deliveryGate: LeaseDeliveryGate<C>?
    /// Told (once) when a claim was refused, so the gateway stops at once
    /// instead of at its next lease renewal.
    var onFenced: (@Sendable () -> Void)?
    /// Pages a ticket's creation already claimed with the fence's token in
    /// its own transaction: the next send takes them without a claim commit
    /// (once; a later send of the same page claims as usual).
    var claimedAtCreation: Set<Int64> = []
    /// Until when the lease covers handing a line to a network, by this
    /// instance's own view (nil: it does not, or no longer). Asked before
    /// every step's lines go out (issue 10).
    var sendableUntil: (@Sendable () -> Date?)?
    /// Lines of steps that found the lease view run out, in order: they
    /// wait for the lease driver's verdict — ``leaseRenewed()`` sends them,
    /// ``fence()`` drops them (see ``sendOutgoing()``).
    var heldForLease: [ChatAction] = []

    /// Set when pages were handed over in this step: ``flush()`` sets the
    /// outbox's timer (``refreshPageTimer(now:)``) after the step's lines
    /// went out, so the store read it takes is not on the page's path.
    var pageTimerStale = false

    /// Set when this step's pages were handed over before its end
    /// (``handOverPagesNow()``): ``flush()`` still treats it as a page step.
    var pagesHandedEarly = false

    /// Networks whose send-queue backlog the agents were warned about (until
    /// it clears; see ``watchBacklogs(now:)``).
    var backlogWarned: Set<String> = []

    /// A runtime over `store`, speaking with `definitions`' texts.
    ///
    /// - Parameters:
    ///   - desk: customers, agents, roster, escalation and SLA policy.
    ///   - kb: the knowledge base (its folder is `definitions.kbFolder`).
    ///   - store: where tickets, pages, overrides, counters and PIN-check
    ///     reservations live (any ``DeskStore``: SQLite, or one shared by
    ///     several gateway instances).
    ///   - clock: every timer runs on it (`ManualClock` in tests).
    ///   - executor: where the runtime runs (the gateway's event loop);
    ///     nil: a serial queue of its own.
    public init(desk: DeskConfiguration, definitions: BotDefinitions, kb: ReloadableKnowledgeBase,
                store: any DeskStore, clock: C, logger: Logger, executor: (any SerialExecutor)? = nil) {
        self.executor = executor ?? QueueExecutor(label: "switchboard.bots")
        self.desk = desk
        self.definitions = definitions
        knowledgeBase = kb
        self.store = store
        self.clock = clock
        self.logger = logger.with(["component": "bots"])
        tickets = TicketService(store: store, logger: self.logger)
        roster = desk.roster
        pinWorker = PINWorker(totalLimit: PINChecks.queueLimit, hash: Self.hashPIN)
    }

    deinit {
        pinWorker.shutDown()
    }

    // MARK: - Public API

    /// Makes a network known: the bots answer its events and send through
    /// it. Attach every network before ``start()``.
    public func attach(_ network: any ChatNetwork, settings: NetworkBotSettings) {
        if networks[settings.name] == nil { networkOrder.append(settings.name) }
        networks[settings.name] = network
        networkSettings[settings.name] = settings
        if network.name != settings.name {
            logger.warning("network name differs from its settings", ["network": network.name, "settings": settings.name])
        }
    }

    /// Rebuilds the queue from the store's open tickets, restores the
    /// roster overrides agents made, resumes every escalation where it
    /// stands (a step that fell due while the gateway was down is paged now,
    /// once), posts SLA marks not yet posted, sends every pending page, and
    /// lets half-finished conversations go on where they were (abandoned
    /// ones are dropped; `ConversationSnapshots.swift`).
    ///
    /// `firingDueTimers: false` only loads that state: what fell due is then
    /// done by ``runTimers()``'s first turn. The gateway starts that way, so a
    /// takeover with a backlog of due steps (each a commit) does not hold
    /// back connecting to the networks: the new active instance is on IRC
    /// while the backlog is worked, and the pages it queues go out as soon as
    /// the network is ready.
    public func start(firingDueTimers: Bool = true) async throws {
        await enterTurn()
        do {
            try await startInTurn(firingDueTimers: firingDueTimers)
        } catch {
            await leaveTurnAfterDeliveries()
            throw error
        }
        await leaveTurnAfterDeliveries()
    }

    func startInTurn(firingDueTimers: Bool = true) async throws {
        guard !started else { return }
        if deliveryGate != nil { await handDeliveryGateToNetworks() }
        let now = clock.date
        let open = try await store.openTickets()
        tickets.load(open)
        roster = desk.roster
        for saved in try await store.rosterOverrides(endingAfter: now) {
            do {
                try roster.restoreOverride(saved.rosterOverride)
            } catch {
                logger.warning("stored roster override not restored", ["override": saved.id, "agent": saved.agent,
                                                                       "error": error])
            }
        }
        for stored in open where stored.ticket.group == .contract {
            let events = try await store.events(of: stored.number)
            escalation.resumed(stored.number, warned: events.contains { $0.kind == .slaWarning },
                               breached: events.contains { $0.kind == .slaBreach }, now: now)
        }
        schedule.set(.pages, at: now)
        await restoreConversations(now: now)  // Persisted: conversations go on where they were
        started = true
        logger.info("bots started", ["open_tickets": open.count, "waiting": tickets.queue.count,
                                     "networks": networkOrder.joined(separator: ",")])
        if firingDueTimers { await fireDueTimersInTurn() }
    }

    /// Handles one event from a network.
    public func handle(_ event: ChatEvent) async {
        await enterTurn()
        HopTrace.mark(.runtime)
        await handleInTurn(event)
        await leaveTurnAfterDeliveries()
    }

    func handleInTurn(_ event: ChatEvent) async {
        switch event {
        case .message(let message):
            await handleMessage(message)
        case .nickChanged(let network, let from, let to):
            perform(support.nickChanged(network: network, from: from, to: to) { normalized($0, $1, on: network) })
        case .accountChanged(let network, let nick, let account):
            perform(support.accountChanged(network: network, nick: nick, account: account) {
                normalized($0, $1, on: network)
            })
        case .connected(let network):
            logger.info("network connected", ["network": network])
            schedule.set(.pages, at: clock.date)
        case .disconnected(let network, let reason):
            logger.notice("network disconnected", ["network": network, "reason": reason])
        }
        await flush()
        if !escalation.presenceChecks.isEmpty { await checkPagedAgentsArePresent() }
    }

    /// Handles a network's report about a page (an action with a `deliveryID`).
    ///
    /// An adapter may report from inside `send` (the console confirms at
    /// once), that is, while the input that sent holds the turn: waiting
    /// for the turn would never end. So a report that finds the turn taken
    /// is queued, and the holder handles it before it lets the turn go.
    public func handle(_ delivery: ChatDelivery) async {
        if turns.busy {
            turns.deliveries.append(delivery)
            return
        }
        await enterTurn()
        await deliveryInTurn(delivery)
        await flush()
        await leaveTurnAfterDeliveries()
    }

    func deliveryInTurn(_ delivery: ChatDelivery) async {
        let now = clock.date
        switch delivery {
        case .delivered(let id, let at):
            await pageDelivered(PageID(rawValue: id), at: at, now: now)
        case .failed(let id, let reason):
            await pageFailed(PageID(rawValue: id), reason: reason, now: now)
        case .withheld(let id, let reason):
            pageWithheld(PageID(rawValue: id), reason: reason, now: now)
        case .sent(let transactionID, _):
            support.sent(transactionID: transactionID)
        }
    }

    /// Runs the timers — escalation steps, SLA marks, message offers, idle
    /// conversations, page retries — until the task is cancelled. Sleeps on
    /// the clock until the earliest deadline and is woken early when a
    /// change brings a deadline forward; never polls.
    public func runTimers() async {
        while !Task.isCancelled {
            await fireDueTimers()
            if Task.isCancelled { break }
            let deadline = earliestDeadline() ?? clock.date.addingTimeInterval(86_400)
            armedFor = deadline
            let clock = self.clock
            let task = Task { _ = try? await clock.sleep(until: WallInstant(deadline), tolerance: nil) }
            sleeper = task
            await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
            sleeper = nil
            armedFor = nil
        }
    }

    /// Does what is due now (what ``runTimers()`` does when it wakes). While
    /// lines or delivery reports wait for the turn, it does at most
    /// ``dueTimersPerTurn`` of the due conversation timers and escalation
    /// checks and leaves the rest due, for the next call.
    public func fireDueTimers() async {
        await enterTurn()
        await fireDueTimersInTurn(yieldingAfter: Self.dueTimersPerTurn)
        await leaveTurnAfterDeliveries()
    }

    /// How many due timers one turn does before it lets a waiting line in.
    /// A backlog (every open contract ticket's escalation and SLA check
    /// right after a takeover, each a store read or a commit) would
    /// otherwise hold every customer's line, the network's registration and
    /// its PING replies until the last check is done: seconds with a few
    /// hundred open tickets on a loaded machine.
    public static var dueTimersPerTurn: Int { 8 }

    /// Lines and delivery reports waiting for the bots' turn (the runtime's
    /// own queue: what customers wait behind).
    public var waitingInputs: Int { turns.waiting.count }

    /// Looks for pages that are due and not in flight, and sends them: pages
    /// another process wrote to the shared store (another gateway instance
    /// that has not noticed yet it lost the lease) are found within one
    /// poll. The gateway calls it every lease renewal while active.
    public func pollOutbox() async {
        await enterTurn()
        if started && !fenced { await sendDuePages(now: clock.date) }
        await leaveTurnAfterDeliveries()
    }

    /// ``fireDueTimers()`` for a caller that already holds the turn;
    /// `yieldingAfter`: stop after that many due timers when an input waits
    /// (the rest stay due at their times), nil: do all.
    func fireDueTimersInTurn(yieldingAfter limit: Int? = nil) async {
        let now = clock.date
        // The support bot's and the scheduler's due timers, in one time
        // order (the support bot marks their conversations for writing).
        var sendPages = false, watchBacklog = false
        for key in schedule.popDue(now) {
            switch key {
            case .pages: sendPages = true
            case .backlog: watchBacklog = true
            }
        }
        if watchBacklog { await watchBacklogs(now: now) }
        var due = support.popDue(now)[...]
        var checks = escalation.popDue(now)[...]
        var done = 0
        while !due.isEmpty || !checks.isEmpty {
            if let limit, done >= limit, !turns.waiting.isEmpty {
                for timer in due { support.requeue(timer.timer, at: timer.at) }
                for check in checks { escalation.requeue(check.check, at: check.at) }
                logger.debug("due timers left for the next turn; inputs wait",
                             ["left": due.count + checks.count, "waiting": turns.waiting.count])
                break
            }
            done += 1
            if let check = checks.first, due.isEmpty || check.at < due[due.startIndex].at {
                checks.removeFirst()
                await escalationCheckDue(check.check, now: now)
                continue
            }
            switch due.removeFirst().timer {
            case .offer(let key): await offerMessage(key, now: now)
            case .idle(let key): await idleCheck(key, now: now)
            case .relay(let key): await flushBurst(key, now: now)
            }
        }
        if sendPages { await sendDuePages(now: now) }
        await flush()
    }

    /// Swaps in a new desk configuration and bot definitions without a
    /// restart. Overrides agents made at run time are kept; every open
    /// ticket's escalation and SLA are evaluated again under the new terms.
    public func reload(desk: DeskConfiguration, definitions: BotDefinitions) async {
        await enterTurn()
        reloadInTurn(desk: desk, definitions: definitions)
        await leaveTurnAfterDeliveries()
    }

    func reloadInTurn(desk: DeskConfiguration, definitions: BotDefinitions) {
        let now = clock.date
        let kept = roster.runtimeOverrides.filter { $0.until > now }
        self.desk = desk
        self.definitions = definitions
        var fresh = desk.roster
        for entry in kept {
            do {
                try fresh.restoreOverride(entry)
            } catch {
                logger.warning("roster override dropped by the reload", ["agent": entry.agent ?? "-", "error": error])
            }
        }
        roster = fresh
        escalation.reloaded(now: now)
        logger.info("bot definitions and desk configuration reloaded")
        rearm()
    }

    /// Counters for `/metrics`.
    public func metrics() -> BotMetrics {
        var current = counters
        current.conversationsActive = support.conversations.count
        current.pagesInFlight = outbox.inFlight.count
        current.queueLength = tickets.queue.count
        current.storeErrors += tickets.storeErrors
        return current
    }

    /// The earliest deadline the timers wait for (for tests and diagnostics).
    public func nextDeadline() -> Date? { earliestDeadline() }

    /// The earliest of the runtime's, the support bot's and the scheduler's deadlines.
    func earliestDeadline() -> Date? {
        [schedule.earliest(), support.earliest(), escalation.earliest()].compactMap { $0 }.min()
    }

    /// Waits until the background work started by ``handle(_:)-(ChatEvent)``
    /// (PIN checks) has finished and its replies were handed to the networks
    /// — for tests and the console, which show a reply before the next prompt.
    public func waitUntilIdle() async {
        while let (_, task) = backgroundWork.first {
            await task.value
        }
    }

    // MARK: - Turns

    /// Waits until it is this input's turn (FIFO).
    func enterTurn() async {
        guard turns.busy else {
            turns.busy = true
            return
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            turns.waiting.append(waiter)
        }
    }

    /// Handles the delivery reports queued during this turn (and those their
    /// handling causes), then leaves the turn. Nothing can be queued between
    /// the last check and leaving: no suspension point lies between them.
    func leaveTurnAfterDeliveries() async {
        while !turns.deliveries.isEmpty {
            let batch = turns.deliveries
            turns.deliveries = []
            for delivery in batch { await deliveryInTurn(delivery) }
            await flush()
        }
        leaveTurn()
    }

    /// Hands the turn to the next waiting input (it stays busy), or frees it.
    func leaveTurn() {
        if turns.waiting.isEmpty {
            turns.busy = false
        } else {
            turns.waiting.removeFirst().resume()
        }
    }

    // MARK: - Sending

    /// Queues an action for the end of the current step.
    func say(_ action: ChatAction) {
        outgoing.append(action)
    }

    /// A line to a person on a network.
    func say(_ text: String, to nick: String, on network: String, lane: ChatLane = .normal) {
        guard !text.isEmpty else { return }
        say(ChatAction(network: network, recipient: .user(nick), text: text, lane: lane))
    }

    /// Hands this step's actions to their networks, in order, each on its
    /// lane (``lane(for:)``), arms the backlog watch when lines went out
    /// (``watchBacklogs(now:)`` runs on its timer, not in every step: asking
    /// each network for its queue is a hop to its client) and re-arms the
    /// timer loop if a deadline moved.
    ///
    /// The conversation snapshot is written before the step's lines go out,
    /// so a customer after a crash meets the question they saw — except in a
    /// step that pages: its ticket (with the pages, and the conversation as
    /// it follows the ticket) is already committed, so what is left to write
    /// (usually nothing: ``ConversationJournal/savedWithTicket(_:_:state:)``)
    /// comes after the lines and stays off the agent's page path. So does the
    /// outbox timer's store read when the step handed over pages
    /// (``pageTimerStale``): the ticket's commit is the page path's only wait.
    func flush() async {
        let pages = pagesHandedEarly || outgoing.contains { $0.deliveryID != nil && $0.lane == .urgent }
        pagesHandedEarly = false
        if !pages { await persistConversations() }  // Persisted: before any line of this step goes out
        await sendOutgoingAndWatch()
        if pages { await persistConversations() }  // Persisted: the ticket was committed first
        if pageTimerStale { await refreshPageTimer(now: clock.date) }
        rearm()
    }

    /// Hands the step's lines so far — a new ticket's confirmation, the
    /// agents' channel line and its pages, in that order, one call to the
    /// network — to the networks now, before the step's bookkeeping (its
    /// escalation and SLA deadlines, its log line) is done: the page path
    /// is the commit, the wording and the write (issue 12). The step stays a
    /// page step for ``flush()``: its conversation snapshot still comes
    /// after its lines.
    func handOverPagesNow() async {
        pagesHandedEarly = true
        await sendOutgoingAndWatch()
    }

    /// ``sendOutgoing()``, arming the backlog watch when lines went out
    /// (``watchBacklogs(now:)`` runs on its timer, not in every step).
    private func sendOutgoingAndWatch() async {
        if await sendOutgoing(), schedule.deadline(of: .backlog) == nil {
            schedule.set(.backlog, at: clock.date.addingTimeInterval(backlogWatchInterval))
        }
    }

    /// Sends what is queued; whether anything went out. With a lease, the
    /// step's pages are claimed first (one transaction); a page whose claim
    /// is refused or fails is not sent (it stays pending in the store).
    ///
    /// **The lease fence** (issue 10): a line is handed to a network only
    /// while the lease covers it by this instance's own view
    /// (``sendableUntil``). Past that, the step's lines — customer, agent
    /// and page lines alike — are *held*, in order, not dropped: the step
    /// is already committed (its ticket, its pages, the conversation's
    /// snapshot), so dropping its lines would leave a customer whose answer
    /// the store says was given. A renewal that confirms the lease (the
    /// token unchanged, so no other instance held it meanwhile) releases
    /// them (``leaseRenewed()``); a lost lease drops them (``fence()``) and
    /// the next active instance goes on from the store: pages pending in the
    /// outbox, conversations restored so that the customer's next line is
    /// answered. Rolling the step back instead is not possible: a committed
    /// ticket and its pages must stand (an on-call page may not be lost),
    /// and an instance cut off from its store could not write the rollback.
    @discardableResult
    private func sendOutgoing() async -> Bool {
        let step = outgoing
        outgoing = []
        if fenced {
            drop(step)
            return false
        }
        guard leaseCoversSending() else {
            if !step.isEmpty {
                if heldForLease.isEmpty {
                    logger.warning("the lease is not confirmed for now: holding this step's lines until it is renewed",
                                   ["lines": step.count, "sendable_until": sendableUntil?().map { "\($0)" } ?? "-"])
                }
                heldForLease += step
            }
            return false
        }
        let batch = heldForLease + step
        if !heldForLease.isEmpty {
            logger.notice("the lease was renewed: sending the lines held meanwhile", ["lines": heldForLease.count])
            heldForLease = []
        }
        let refused = await claimPagesToSend(batch)
        // Each network gets the step's lines for it in one call, in order
        // (one hop to its client, one write for what may go now).
        var byNetwork: [(network: String, actions: [ChatAction])] = []
        for var action in batch {
            if let id = action.deliveryID, refused.contains(id) { continue }  // Forgotten and counted by the claim
            action.lane = lane(for: action)
            guard networks[action.network] != nil else {
                logger.warning("no such network for an outgoing line", ["network": action.network,
                                                                          "to": action.recipient.description])
                if let id = action.deliveryID {
                    await pageFailed(PageID(rawValue: id), reason: "network \(action.network) is not attached", now: clock.date)
                }
                continue
            }
            if let index = byNetwork.firstIndex(where: { $0.network == action.network }) {
                byNetwork[index].actions.append(action)
            } else {
                byNetwork.append((action.network, [action]))
            }
        }
        for (index, (name, actions)) in byNetwork.enumerated() {
            // `fence()` may have come while the claim or an earlier
            // network's send was awaited: it wins, for every line.
            if fenced {
                drop(actions)
                continue
            }
            // The lease view is asked again after those waits, not only
            // before the claim: a claim that committed just before the lease
            // ran out (a slow store, a stalled process) leaves its pages
            // pending for the next holder, which sends them after a takeover;
            // lines handed over now would reach the agent twice. Held, they
            // go out only once a renewal shows no one else held the lease.
            guard leaseCoversSending() else {
                heldForLease = byNetwork[index...].flatMap(\.actions) + heldForLease
                logger.warning("the lease ran out while the step's pages were claimed: holding its lines until it is renewed",
                               ["lines": heldForLease.count])
                break
            }
            if actions.contains(where: { $0.lane == .urgent && $0.deliveryID != nil }) { HopTrace.mark(.pageHanded) }
            guard let network = networks[name] else { continue }
            await network.send(actions)
        }
        return !batch.isEmpty
    }

    /// Whether the lease covers handing a line to a network now: always
    /// without a lease check (one instance alone, the console, tests).
    private func leaseCoversSending() -> Bool {
        guard pageFence != nil, let sendableUntil else { return true }
        guard let until = sendableUntil() else { return false }
        return clock.date < until
    }

    /// Lines a fenced runtime does not send: their pages stay pending in
    /// the store for the next holder (not claimed, so not in flight).
    private func drop(_ lines: [ChatAction]) {
        for id in lines.compactMap(\.deliveryID) {
            outbox.forget(PageID(rawValue: id))
            counters.pagesFenced += 1
        }
    }

    /// Claims the pages among `batch` with the lease's token (nothing without
    /// a lease: one instance alone, the console, tests); returns the delivery
    /// ids not to send. A stale token fences the runtime for good.
    private func claimPagesToSend(_ batch: [ChatAction]) async -> Set<Int64> {
        guard let fence = pageFence else { return [] }
        let claimedAlready = claimedAtCreation
        claimedAtCreation = []
        var ids = batch.compactMap(\.deliveryID)
        if !fenced { ids.removeAll { claimedAlready.contains($0) } }
        guard !ids.isEmpty else { return [] }
        var refused = Set<Int64>()
        func drop(_ id: Int64) {
            refused.insert(id)
            outbox.forget(PageID(rawValue: id))
        }
        if fenced {
            counters.pagesFenced += ids.count
            ids.forEach(drop)
            return refused
        }
        let now = clock.date
        let claims: [PageID: PageClaim]
        do {
            claims = try await store.claimPages(ids.map(PageID.init(rawValue:)), lease: fence.lease,
                                                token: fence.token, now: now)
        } catch {
            storeFailed(error, "claim pages")
            ids.forEach(drop)
            schedule.set(.pages, at: now.addingTimeInterval(2))
            return refused
        }
        for id in ids {
            switch claims[PageID(rawValue: id)] ?? .notPending {
            case .claimed:
                continue
            case .notPending:
                drop(id)
            case .fenced:
                drop(id)
                counters.pagesFenced += 1
                if !fenced {
                    fenced = true
                    logger.error("page refused by fencing: this instance no longer holds the lease; sending no pages",
                                 ["page": id, "token": fence.token.rawValue, "lease": fence.lease])
                    onFenced?()
                }
            }
        }
        return refused
    }

    /// Makes the runtime claim every page with `fence` before it goes out
    /// (call before ``start()`` when the gateway holds the lease).
    /// `sendableUntil`: until when the lease covers handing a line to a
    /// network, by this instance's own view (nil: not now); asked before
    /// each step's lines go out, which wait past it (``sendOutgoing()``).
    /// Without it only pages are fenced. With it, the networks' send queues
    /// also ask it at write time before each page line
    /// (``ChatNetwork/setDeliveryGate(_:)``): a page line that waits behind
    /// the flood limit past the lease view is not written (issue 10).
    /// `onFenced` is called once if the store refuses a claim.
    public func activate(fence: PageFence, sendableUntil: (@Sendable () -> Date?)? = nil,
                         onFenced: (@Sendable () -> Void)? = nil) async {
        pageFence = fence
        deliveryGate = sendableUntil.map { LeaseDeliveryGate(sendableUntil: $0, clock: clock) }
        fenced = false
        self.sendableUntil = sendableUntil
        self.onFenced = onFenced
        await handDeliveryGateToNetworks()
    }

    /// Gives every attached network the lease view to ask at write time
    /// (nil without one): from ``activate(fence:sendableUntil:onFenced:)``
    /// and again from ``start()``, for networks attached in between.
    func handDeliveryGateToNetworks() async {
        let gate = deliveryGate.map { gate in { @Sendable in gate.mayDeliver() } }
        for name in networkOrder {
            await networks[name]?.setDeliveryGate(gate)
        }
    }

    /// A page line the network's send queue did not write: the lease view
    /// had run out when its turn came (``ChatDelivery/withheld(id:reason:)``).
    /// Not a failed attempt: the page is still pending in the store (claimed
    /// with this instance's token, which a later holder's larger token
    /// overrides). While this instance is not fenced the page is looked for
    /// again at once; its lines then wait for the lease's renewal
    /// (``sendOutgoing()``) or are dropped when the lease is lost.
    func pageWithheld(_ id: PageID, reason: String, now: Date) {
        counters.pagesWithheld += 1
        outbox.forget(id)
        logger.notice("page not written: the lease view ran out while it waited in the network's send queue",
                      ["page": id.rawValue, "reason": reason, "fenced": fenced])
        if !fenced { schedule.set(.pages, at: now) }
    }

    /// The lease driver renewed the lease: lines held while the renewal was
    /// late go out now, in order (if the lease covers them again).
    public func leaseRenewed() async {
        guard !heldForLease.isEmpty else { return }  // The usual case: no turn taken every renewal
        await enterTurn()
        if !heldForLease.isEmpty && !fenced { await flush() }
        await leaveTurnAfterDeliveries()
    }

    /// Lines waiting for the lease's renewal (for tests and diagnostics).
    public var linesHeldForLease: Int { heldForLease.count }

    /// Stops sending at once (the gateway lost its lease): nothing more is
    /// claimed or handed to a network — no page, no customer or agent line;
    /// lines held for the lease's renewal are dropped (the next active
    /// instance answers from the store); what is in flight stays unconfirmed
    /// in the store for the next holder. Not undone: an instance that lost
    /// the lease exits and starts again as a standby.
    public func fence() {
        fenced = true
        if pageFence == nil { pageFence = PageFence(lease: "", token: FencingToken(rawValue: 0)) }
        if !heldForLease.isEmpty {
            logger.notice("the lease was lost: the lines held for its renewal are not sent; the next active instance goes on from the store",
                          ["lines": heldForLease.count])
            drop(heldForLease)
            heldForLease = []
        }
        for id in outbox.inFlight.keys { outbox.forget(id) }
    }

    /// Wakes the timer loop when the earliest deadline is now earlier than
    /// the one it sleeps until.
    func rearm() {
        guard let sleeper, let armedFor else { return }
        if let earliest = earliestDeadline(), earliest < armedFor {
            sleeper.cancel()
        }
    }

    /// Logs a failed store call and counts it.
    func storeFailed(_ error: any Error, _ what: String) {
        counters.storeErrors += 1
        logger.error("store call failed", ["operation": what, "error": error])
    }

    // MARK: - Routing

    /// `!name args`: the command name (lowercased) and the rest.
    ///
    /// Every line a bot gets passes through here; a line of ASCII (nearly
    /// every command) is read byte by byte, with the same result as the
    /// general path by `Character` (ASCII white space is U+0009…U+000D and
    /// the space; letters and digits are `A`–`Z`, `a`–`z`, `0`–`9`).
    static func command(in text: String) -> (name: String, arguments: String)? {
        if let ascii = asciiCommand(in: text) { return ascii }
        return commandByCharacters(in: text)
    }

    /// ``command(in:)`` read by `Character` (any line; the reference the
    /// ASCII path is tested against).
    static func commandByCharacters(in text: String) -> (name: String, arguments: String)? {
        guard text.hasPrefix("!") else { return nil }
        let body = text.dropFirst()
        let name = body.prefix { !$0.isWhitespace }
        guard !name.isEmpty, name.count <= 20, name.allSatisfy({ $0.isLetter || $0.isNumber }) else { return nil }
        let rest = body.dropFirst(name.count).trimmedLine
        return (name.lowercased(), rest)
    }

    /// ``command(in:)`` for a line of ASCII only: `.some(nil)` when it is
    /// not a command, nil when the line is not all ASCII (the general path
    /// decides then).
    static func asciiCommand(in text: String) -> (name: String, arguments: String)?? {
        var text = text
        return text.withUTF8 { bytes -> (name: String, arguments: String)?? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            guard bytes.first == UInt8(ascii: "!") else { return .some(nil) }
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
            var end = 1
            while end < bytes.count, !isSpace(bytes[end]) { end += 1 }
            let nameLength = end - 1
            guard nameLength > 0, nameLength <= 20 else { return .some(nil) }
            var name = [UInt8](repeating: 0, count: nameLength)
            for index in 0..<nameLength {
                let byte = bytes[1 + index]
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): name[index] = byte + 0x20
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): name[index] = byte
                default: return .some(nil)
                }
            }
            var start = end, last = bytes.count
            while start < last, isSpace(bytes[start]) { start += 1 }
            while last > start, isSpace(bytes[last - 1]) { last -= 1 }
            let arguments = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<last]), as: UTF8.self)
            return .some((String(decoding: name, as: UTF8.self), arguments))
        }
    }

    /// `name` as `network` compares it (its adapter's rule); unchanged for
    /// a network that is not attached.
    func normalized(_ name: String, _ kind: ChatNameKind, on network: String) -> String {
        networks[network]?.normalized(name, kind: kind) ?? name
    }

    /// Whether two room names are one room on `network`.
    func sameChannel(_ a: String, _ b: String, on network: String) -> Bool {
        normalized(a, .room, on: network) == normalized(b, .room, on: network)
    }

    /// The conversation key of `identity`, by its network's rule.
    func conversationKey(_ identity: ChatIdentity) -> ConversationKey {
        ConversationKey(identity) { normalized($0, $1, on: identity.network) }
    }

    /// The key of the nick-keyed conversation with `nick` on `network`.
    func conversationKey(network: String, nick: String) -> ConversationKey {
        ConversationKey(network: network, nick: nick) { normalized($0, $1, on: network) }
    }

    func handleMessage(_ message: ChatMessage) async {
        guard let settings = networkSettings[message.network] else {
            logger.warning("message from a network that is not attached", ["network": message.network])
            return
        }
        let text = message.text.trimmedLine
        guard !text.isEmpty else {
            // A private line of only spaces still gets an answer (the open
            // question, within the re-prompt limit): no line goes unanswered.
            if message.place == .direct, !message.isAction, !holdIfWaiting(message) {
                await customerLine("", message: message, settings: settings, fromChannel: nil)
            }
            return
        }
        // A described action (`/me waits`) is never a command.
        let command = message.isAction ? nil : Self.command(in: text)
        if let id = message.sourceID, message.place == .direct || message.addressedToBot || command != nil {
            // Persisted: recorded as handled with this step's last commit.
            stepMessages.append((HandledMessage(network: message.network, sourceID: id), conversationKey(message.sender)))
        }
        let isKB = command.map { definitions.kbCommands.command(named: $0.name) != nil } ?? false
        // Persisted: the sender's conversation may change — except by a KB
        // query, which only reads its language (one held behind a PIN check
        // is touched by the hold). A `!kb` from a stranger costs no journal
        // entry, no sort and no store look-up at the step's end.
        if !isKB { support.journal.touch(conversationKey(message.sender)) }
        let agentCommand = command.flatMap { definitions.agentCommands.command(named: $0.name) }
        let supportCommand = command.flatMap { definitions.supportCommands.command(named: $0.name) }

        switch message.place {
        case .channel(let channel):
            let isAgents = settings.agentsChannel.map { sameChannel($0, channel, on: message.network) } ?? false
            let isSupport = settings.supportChannels.contains { sameChannel($0, channel, on: message.network) }
            if isKB, let command {
                kbQuery(command.arguments, message: message, settings: settings)
            } else if isAgents, let agentCommand, let command {
                await runAgentCommand(agentCommand, arguments: command.arguments, message: message, settings: settings)
            } else if isSupport, message.addressedToBot {
                await customerLines(text, message: message, settings: settings, fromChannel: channel)
            }
        case .direct:
            if holdIfWaiting(message) {
                if isKB { support.journal.touch(conversationKey(message.sender)) }  // Persisted: held with the conversation
                return
            }
            if isKB, let command {
                kbQuery(command.arguments, message: message, settings: settings)
            } else if let agentCommand, let command, supportCommand == nil || agentCommand == .help,
                      agent(for: message, settings) != nil || supportCommand == nil {
                await runAgentCommand(agentCommand, arguments: command.arguments, message: message, settings: settings)
            } else {
                await customerLines(text, message: message, settings: settings, fromChannel: nil)
            }
        }
    }

    /// Keeps `message` (one line) for later when its sender's PIN check is
    /// running, or earlier lines of theirs still wait: one customer's lines
    /// are handled strictly in arrival order. True when it was kept.
    func holdIfWaiting(_ message: ChatMessage) -> Bool {
        support.hold(message, lines: Self.lines(of: message.text), key: conversationKey(message.sender))  // lines split only when kept
    }

    /// Handles the lines a customer sent while their PIN was checked, in
    /// order, until none is left or one starts another check.
    func replayHeld(_ key: ConversationKey, serial: UInt64) async {
        let outer = support.replaying
        support.replaying = key
        defer { support.replaying = outer }
        while let next = support.nextHeld(key, serial: serial) {
            await handleMessage(next)
        }
    }

    /// A message of several lines (Matrix, the console) is taken line by
    /// line, like a paste on IRC, so the description keeps its lines.
    func customerLines(_ text: String, message: ChatMessage, settings: NetworkBotSettings, fromChannel: String?) async {
        let lines = Self.lines(of: text)
        for line in lines.prefix(1000) {
            await customerLine(line, message: message, settings: settings, fromChannel: fromChannel)
        }
    }

    /// The lines of a message: split only where CR or LF frame lines (as on
    /// the wire, RFC 1459 §2.3.1); U+0085, U+2028, U+2029, VT and FF are
    /// text, never a line break (issue 15: a number in such a "line" was
    /// taken as a customer number). Blank lines are dropped.
    static func lines(of text: String) -> [String] {
        // One IRC line (no CR or LF) with visible ASCII at both ends is its
        // own only line, untrimmed: what the general path makes of it too.
        if let first = text.utf8.first, let last = text.utf8.last, (0x21...0x7E).contains(first),
           (0x21...0x7E).contains(last), !text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            return [text]
        }
        return linesByScalars(of: text)
    }

    /// ``lines(of:)`` for any text (the reference its fast path is tested against).
    static func linesByScalars(of text: String) -> [String] {
        text.unicodeScalars.split(whereSeparator: { $0 == "\r" || $0 == "\n" })
            .map { String(String.UnicodeScalarView($0)).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The agent who wrote `message`: by account on networks with accounts,
    /// by a mask the network's matcher accepts otherwise, by agent id on the
    /// console — never by nick.
    func agent(for message: ChatMessage, _ settings: NetworkBotSettings) -> Agent? {
        if settings.trustsAgentIDs {
            return message.principal.account.flatMap { desk.agents.agent(id: $0) }
        }
        guard let network = networks[message.network] else { return nil }
        if settings.hasAccounts {
            guard let account = message.principal.account else { return nil }
            return desk.agents.agent(network: message.network, account: account) {
                network.normalized($0, kind: .account)
            }
        }
        return desk.agents.agent { network.principal(message.principal, matchesMask: $0) }
    }

    /// Whether `network` shows a text sent again with the same transaction id
    /// once (``ChatNetwork/resendWindow``: Matrix), so a line written where
    /// a crash cannot lose it (the outbox, a stored conversation) may be
    /// sent again after a restart.
    func deduplicatesResends(on network: String) -> Bool {
        networks[network]?.resendWindow != nil
    }

    /// Where agents are reached for a ticket from `network`: that network's
    /// agents' channel, else the first attached network that has one.
    func agentsPlace(for network: String) -> (network: String, channel: String?) {
        if let channel = networkSettings[network]?.agentsChannel { return (network, channel) }
        for name in networkOrder {
            if let channel = networkSettings[name]?.agentsChannel { return (name, channel) }
        }
        return (network, nil)
    }

    /// Who to write to for `agent` on `network`: the nick, or on a network
    /// that addresses people by account (Matrix) their account there.
    func address(of agent: Agent, on network: String) -> String {
        guard networkSettings[network]?.addressesByAccount == true, let account = agent.accounts[network] else {
            return agent.nick
        }
        return account
    }

    /// Who to write to for the agent with this id on `network` (the id
    /// itself if the agent was removed).
    func address(ofAgent id: String, on network: String) -> String {
        desk.agents.agent(id: id).map { address(of: $0, on: network) } ?? id
    }

    /// The language of agent-facing texts on `network`.
    func agentLanguage(_ network: String) -> Language {
        networkSettings[network]?.defaultLanguage ?? .de
    }

    /// Where and how to reach the customer of `ticket`: the live
    /// conversation's nick (it may have changed) or the ticket's contact.
    func customerAddress(_ ticket: Ticket) -> (network: String, nick: String, language: Language) {
        if let key = support.conversationOfTicket[ticket.number], let conversation = support.conversations[key] {
            return (conversation.identity.network, conversation.identity.nick, conversation.language)
        }
        return (ticket.contact.network, ticket.contact.nick, Language(rawValue: ticket.language) ?? .en)
    }

    /// A line from the support bot to the customer of `ticket`.
    /// Lines about an open contract ticket go ahead of unverified
    /// conversations (``lane(for:)``).
    func tellCustomer(_ ticket: Ticket, _ key: SupportText, _ values: [String: String], lane: ChatLane = .normal) {
        let line = lineToCustomer(ticket, key, values, lane: lane).action
        if !line.text.isEmpty { say(line) }
    }

    /// ``tellCustomer(_:_:_:lane:)``'s line, for a committed change to say
    /// (``change(_:_:by:pages:cancelUnsentPages:now:lines:)``).
    func lineToCustomer(_ ticket: Ticket, _ key: SupportText, _ values: [String: String],
                        lane: ChatLane = .normal) -> CommittedLine {
        let address = customerAddress(ticket)
        let lane = lane == .normal && ticket.group == .contract ? .priority : lane
        return CommittedLine(action: ChatAction(network: address.network, recipient: .user(address.nick),
                                                text: definitions.support.render(key, address.language, values), lane: lane),
                             step: PageDraft.customerNoticeStep)
    }

    /// The values every ticket text can use.
    static func ticketValues(_ ticket: Ticket) -> [String: String] { Pager.values(ticket) }

    /// The nick of an agent id (the id itself if the agent was removed).
    func nick(of agentID: String) -> String { desk.agents.agent(id: agentID)?.nick ?? agentID }

    // MARK: - The support bot's effects

    /// Does what the support bot's table asks.
    func perform(_ effects: [SupportEffect]) {
        for effect in effects {
            switch effect {
            case .cancelPINChecks(let key): pinWorker.cancel(sender: key)
            }
        }
    }

    /// Forgets a conversation and its timers (nothing is said); its PIN
    /// checks still waiting for the worker are withdrawn.
    func endConversation(_ key: ConversationKey) {
        perform(support.end(key))
    }
}
