import Bots
import Core
import Desk
import Foundation
import KB
import StatusPage
import Synchronization
import Transport

/// The running gateway (`switchboard run`): the store, the bots, one
/// ``Bots/ChatNetwork`` per configured network (made by ``NetworkFactory``),
/// the timers, and the optional HTTP endpoint (`/healthz`, `/metrics`, the
/// status page of ``StatusPageRoutes``). It names no concrete adapter or
/// store.
///
/// **One active instance** (issue 10). Several instances may share one
/// store; the one holding the store's lease (``InstanceLease``) is active.
/// Every instance opens the store and the HTTP endpoint; a standby does
/// nothing else and tries for the lease every 2 s. On getting it the
/// instance starts the bots (the queue, escalation and SLA timers,
/// conversations and pending pages resumed from the store; a step that
/// fell due meanwhile is paged at once), claims each page with its fencing
/// token before sending it, hands no line to a network past its own view
/// of the lease (a step's lines wait for the renewal: ``BotRuntime``'s
/// `sendOutgoing`), and connects to the networks. One instance
/// alone gets the lease at once (a restart under the same instance name
/// too). On losing the lease (token superseded, the store unreachable until
/// the lease ran out, not renewed in time) it fences first — the outbox
/// sends nothing more — then disconnects, and ``run(signals:drainFor:)``
/// throws ``GatewayRunError/leaseLost(_:)``: the process exits and the
/// service manager starts it again as a standby.
///
/// Stop (SIGTERM/SIGINT): every network sends what it has queued (pages
/// first, at most `drainFor`), says goodbye with QUIT and disconnects; the
/// lease is released (a standby takes over at its next try); the timers
/// stop and the store is closed. Reload (SIGHUP): the desk's files, the bot
/// definitions and the KB are read again; a configuration with errors is
/// refused and the running one kept.
public final class GatewayService<C: WallClock>: Sendable {
    public let loaded: LoadedConfiguration
    public let runtime: BotRuntime<C>
    /// In configuration order, one per `loaded.gateway.networks` entry.
    public let networks: [any ChatNetwork]
    /// This instance's hold on the store's gateway lease.
    public let lease: InstanceLease<C>
    let store: OpenedStore
    let knowledgeBase: ReloadableKnowledgeBase
    let logger: Logger
    let clock: C
    let startedAt: Date
    /// The desk's configuration in force (replaced by a reload): what the
    /// status page reads beside the store.
    let currentDesk: Mutex<DeskConfiguration>
    let onLeaseLost: (@Sendable (GatewayRunError) -> Void)?

    /// - Parameters:
    ///   - instance: this instance's holder id for the lease; instances
    ///     sharing a store need distinct ones (default: the host name).
    ///   - leaseTiming: overrides the configuration's `instance.lease`
    ///     (tests with short leases).
    ///   - onLeaseLost: called once the instance has fenced and disconnected
    ///     after losing the lease; `switchboard run` exits the process there
    ///     (status 75) rather than wait for work stuck on a store that may
    ///     never answer (a partition). Without it `run` winds down and throws.
    ///   - makeNetwork: builds each configured network (default:
    ///     ``NetworkFactory/make(_:clock:logger:state:definitions:)`` with the
    ///     store and the bot definitions; tests pass fakes).
    public init(loaded: LoadedConfiguration, clock: C, logger: Logger, instance: String = GatewayService.defaultInstance,
                leaseTiming: LeaseTiming? = nil,
                onLeaseLost: (@Sendable (GatewayRunError) -> Void)? = nil,
                makeNetwork: NetworkMaker<C>? = nil) throws {
        self.loaded = loaded
        self.onLeaseLost = onLeaseLost
        self.clock = clock
        self.logger = logger
        startedAt = clock.date
        currentDesk = Mutex(loaded.desk)
        store = try StoreFactory.open(loaded.gateway.store, logger: logger)
        lease = InstanceLease(store: store.desk, instance: instance, timing: leaseTiming ?? loaded.gateway.lease, clock: clock, logger: logger)
        knowledgeBase = ReloadableKnowledgeBase(loaded.knowledgeBase, folder: loaded.definitions.kbFolder,
                                                errors: loaded.kbErrors, logger: logger)
        // The bots run on the event loop the IRC clients run on: a line is
        // read, answered and written on one thread, the store's commit the
        // one hand-off (issue 12). One loop for the gateway, not one per
        // network: every network's lines pass through this one runtime, so
        // a thread per network would put a hand-off back on each of them.
        runtime = BotRuntime(desk: loaded.desk, definitions: loaded.definitions, kb: knowledgeBase, store: store.desk,
                             clock: clock, logger: logger, executor: EventLoop.shared)
        let state = store.desk
        networks = try loaded.gateway.networks.map { settings in
            if let makeNetwork { return try makeNetwork(settings, clock, logger) }
            return try NetworkFactory.make(settings, clock: clock, logger: logger, state: state,
                                           definitions: loaded.definitions)
        }
    }

    /// The host name: one instance per machine needs no name of its own.
    public static var defaultInstance: String { ProcessInfo.processInfo.hostName }

    /// What ends the run besides a stop signal.
    private enum Control: Sendable {
        case signal(ProcessSignal)
        case leaseLost(String)
        case startFailed(any Error)
    }

    /// Runs until `stop` yields `.terminate` (or the task is cancelled).
    /// `signals` also carries `.reload`.
    ///
    /// - Throws: ``GatewayRunError/leaseLost(_:)`` when another instance
    ///   took over (exit and be restarted as a standby); the start's error.
    public func run(signals: AsyncStream<ProcessSignal>, drainFor: Duration = .seconds(5)) async throws {
        for (network, settings) in zip(networks, loaded.gateway.networks) {
            await runtime.attach(network, settings: NetworkFactory.botSettings(settings))
        }
        // Bound first: a port that cannot be had stops the start before
        // anything is announced; a start that fails closes the store.
        let endpoint: HTTPEndpoint?
        do {
            endpoint = try loaded.gateway.http.map { http in
                let token = try http.token?.resolve(field: "http.auth.token")
                let pages = StatusPageRoutes(store: store.desk, desk: { [self] in currentDesk.withLock { $0 } },
                                             now: { [clock] in clock.date },
                                             networks: { [networks] in await Self.networkRows(networks) },
                                             refreshSeconds: 10, logger: logger)
                return try HTTPEndpoint(host: http.host, port: http.port, logger: logger,
                                        access: HTTPAccess(token: token), pages: { await pages.respond($0) }) {
                    [self] path in await self.respond(path)
                }
            }
        } catch {
            await store.close()
            throw error
        }
        let (control, events) = AsyncStream<Control>.makeStream()
        var failure: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await signal in signals { events.yield(.signal(signal)) }
            }
            if let endpoint {
                group.addTask { await endpoint.run() }
            }
            group.addTask { [self] in await self.serveWhileActive(events) }
            // The control loop: the only task that ends the group on purpose.
            var lost: String?
            for await event in control {
                switch event {
                case .signal(.reload):
                    await reload()
                    continue
                case .signal(let signal):
                    logger.notice("stopping", ["signal": signal.description])
                case .leaseLost(let reason):
                    lost = reason
                case .startFailed(let error):
                    failure = error
                }
                break
            }
            if let lost {
                // Fence first: from here on no page is claimed or sent.
                await runtime.fence()
                logger.error("lost the lease (\(lost)); pages stopped, disconnecting and exiting",
                             ["token": lease.status.lease?.token.rawValue ?? 0])
                await withTaskGroup(of: Void.self) { stopping in
                    for network in networks {
                        stopping.addTask { await network.shutdown(message: "Switchboard instance handing over",
                                                                  deadline: .zero) }
                    }
                }
                failure = GatewayRunError.leaseLost(lost)
                onLeaseLost?(GatewayRunError.leaseLost(lost))
            } else if lease.status.role == .active {
                await withTaskGroup(of: Void.self) { stopping in
                    for network in networks {
                        stopping.addTask { await network.shutdown(message: "Switchboard is restarting, back soon",
                                                                  deadline: drainFor) }
                    }
                }
                await runtime.fence()
                await lease.release()
            }
            endpoint?.close()
            events.finish()
            group.cancelAll()
        }
        if case GatewayRunError.leaseLost? = failure {
            // Not waited for: a store cut off by a partition may never answer
            // the calls still queued; the process exits and its connections
            // end with it.
        } else {
            await store.close()
        }
        if let failure { throw failure }
        logger.info("gateway stopped")
    }

    /// Stands by until the lease is granted, then starts the bots and the
    /// networks and renews the lease; reports a loss or a failed start.
    private func serveWhileActive(_ events: AsyncStream<Control>.Continuation) async {
        guard let grant = await lease.waitUntilActive() else { return }
        // Every step's lines wait while the lease's renewal is late and go
        // out when it comes (`renewed` below); a loss drops them (`fence()`
        // in the control loop) and the next active instance answers.
        let lease = self.lease
        await runtime.activate(fence: PageFence(lease: lease.name, token: grant.token),
                               sendableUntil: { lease.sendableUntil }, onFenced: {
            events.yield(.leaseLost("the store refused a page claim with token \(grant.token)"))
        })
        do {
            // What fell due while no instance was active is done by the
            // timers' first turn below, beside connecting the networks.
            try await runtime.start(firingDueTimers: false)
        } catch {
            events.yield(.startFailed(error))
            return
        }
        logger.info("gateway started", ["networks": networks.map(\.name).joined(separator: ","),
                                        "store": loaded.gateway.store.description, "token": grant.token.rawValue])
        let runtime = self.runtime
        let poll = lease.timing.renewEvery
        await withTaskGroup(of: Void.self) { group in
            // Timer steps (escalation pages) stay on the loop too, store calls included.
            group.addTask(executorPreference: EventLoop.shared.taskExecutor) { await runtime.runTimers() }
            group.addTask { [clock] in
                // Pages another instance wrote to the shared store (it has
                // not noticed yet that it lost the lease) go out from here.
                while (try? await clock.sleep(until: clock.now.advanced(by: poll), tolerance: nil)) != nil {
                    await runtime.pollOutbox()
                }
            }
            for network in networks {
                group.addTask { [logger] in
                    do {
                        try await network.run(events: { await runtime.handle($0) },
                                              deliveries: { await runtime.handle($0) })
                    } catch is CancellationError {
                    } catch {
                        logger.error("network stopped", ["network": network.name, "error": error])
                    }
                }
            }
            if let reason = await lease.holdUntilLost(renewed: { Task { await runtime.leaseRenewed() } }) {
                events.yield(.leaseLost(reason))
            }
            // Cancelled by the control loop once it has fenced and disconnected.
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            group.cancelAll()
        }
    }

    /// Reads the desk's files, the bot definitions and the KB again (once,
    /// from the folder the new KB definition names). On a thread of its
    /// own: reading the files and building the KB index (the dictionary
    /// pass: most of a second) would otherwise hold a thread of the
    /// cooperative pool that the bots' and networks' tasks need meanwhile.
    func reload() async {
        do {
            let file = loaded.gateway.file, previous = knowledgeBase.current
            let fresh = try await onThreadOfItsOwn(named: "switchboard.reload") {
                try LoadedConfiguration.load(from: file, previousKB: previous)
            }
            await runtime.reload(desk: fresh.desk, definitions: fresh.definitions)
            currentDesk.withLock { $0 = fresh.desk }
            knowledgeBase.replace(with: fresh.knowledgeBase, folder: fresh.definitions.kbFolder, errors: fresh.kbErrors)
            logger.notice("configuration reloaded", ["articles": fresh.articleCount])
            fresh.logDictionary(logger)
        } catch {
            logger.error("reload refused; the running configuration stays", ["error": "\(error)"])
        }
        FreedMemory.release()  // the old configuration and what building the new KB index freed
    }

    /// `/healthz` and `/metrics`.
    func respond(_ path: String) async -> HTTPEndpoint.Response? {
        switch path {
        case "/healthz":
            return await Self.health(networks, lease: lease.status)
        case "/metrics":
            return .init(contentType: "text/plain; version=0.0.4; charset=utf-8", body: await metricsText())
        default:
            return nil
        }
    }

    /// `/healthz`: 200 when every network is ready, else 503; one line per
    /// network with its status and its send queue (texts waiting, the
    /// oldest one's wait): a backlog is what customers feel first when a
    /// network's flood limit is too tight.
    ///
    /// The second line is the instance's role: a standby is healthy (200,
    /// first line `standby`) and names the active instance; an instance that
    /// lost the lease answers 503 until it has exited.
    static func health(_ networks: [any ChatNetwork], lease: LeaseStatus) async -> HTTPEndpoint.Response {
        let holder = lease.lease.map { "\($0.holder) (token \($0.token))" } ?? "none yet"
        switch lease.role {
        case .standby:
            return .init(status: 200, body: "standby\nrole: standby (instance \(lease.instance)); active: \(holder)\n")
        case .lost:
            return .init(status: 503, body: "lost the lease\nrole: lost (instance \(lease.instance)); active: \(holder)\n")
        case .active:
            break
        }
        var lines: [String] = ["role: active (instance \(lease.instance), token \(lease.lease?.token.rawValue ?? 0))"]
        var healthy = true
        for network in networks {
            let status = await network.status
            healthy = healthy && status.isReady
            let backlog = await network.backlog
            var queue = "send queue \(backlog.queuedTexts) texts"
            if let wait = backlog.oldestWait { queue += ", oldest waiting \(Self.seconds(wait)) s" }
            lines.append("\(network.name): \(status); \(queue)")
        }
        return .init(status: healthy ? 200 : 503,
                     body: (healthy ? "ok\n" : "degraded\n") + lines.joined(separator: "\n") + "\n")
    }

    /// Each network's readiness and send queue, for the status page.
    static func networkRows(_ networks: [any ChatNetwork]) async -> [NetworkRow] {
        var rows: [NetworkRow] = []
        for network in networks {
            let status = await network.status, backlog = await network.backlog
            rows.append(NetworkRow(name: network.name, isReady: status.isReady, status: status.description,
                                   queuedTexts: backlog.queuedTexts, oldestWait: backlog.oldestWait.map(\.timeInterval)))
        }
        return rows
    }

    /// Each network's readiness and send queue, as Prometheus gauges.
    static func addNetworkMetrics(_ networks: [any ChatNetwork], to text: inout PrometheusText) async {
        var connected: [(labels: [(String, String)], value: Double)] = []
        var queued: [(labels: [(String, String)], value: Double)] = []
        var waited: [(labels: [(String, String)], value: Double)] = []
        for network in networks {
            let labels = [("network", network.name)]
            connected.append((labels, await network.status.isReady ? 1 : 0))
            let backlog = await network.backlog
            queued.append((labels, Double(backlog.queuedTexts)))
            if let wait = backlog.oldestWait { waited.append((labels, Self.seconds(wait))) }
        }
        text.add("switchboard_network_connected", type: "gauge", help: "1 when the network is registered.",
                 samples: connected)
        text.add("switchboard_send_queue_texts", type: "gauge", help: "Texts waiting in the send queue.",
                 samples: queued)
        if !waited.isEmpty {
            text.add("switchboard_send_queue_oldest_seconds", type: "gauge",
                     help: "How long the oldest queued text has waited.", samples: waited)
        }
    }

    /// The lease: this instance's role, the holder and token it last saw,
    /// and the store-wide count of takeovers between instances.
    static func addLeaseMetrics(_ status: LeaseStatus, to text: inout PrometheusText) {
        text.add("switchboard_lease_active", type: "gauge", help: "1 when this instance holds the lease (active).",
                 samples: [([("instance", status.instance)], status.role == .active ? 1 : 0)])
        if let lease = status.lease {
            text.add("switchboard_lease_holder", type: "gauge", help: "The lease holder this instance last saw (1).",
                     samples: [([("holder", lease.holder)], 1)])
            text.add("switchboard_lease_fencing_token", type: "gauge",
                     help: "The fencing token of the lease as this instance last saw it.",
                     value: Double(lease.token.rawValue))
            text.add("switchboard_lease_takeovers_total", type: "counter",
                     help: "Times an instance took the lease over from another one (store-wide).",
                     value: Double(lease.takeovers))
        }
    }

    /// A duration in seconds, to the millisecond.
    static func seconds(_ duration: Duration) -> Double {
        (duration.timeInterval * 1000).rounded() / 1000
    }

    func metricsText() async -> String {
        let m = await runtime.metrics()
        var text = PrometheusText()
        text.add("switchboard_up_seconds", type: "gauge", help: "Seconds since the gateway started.",
                 value: clock.date.timeIntervalSince(startedAt))
        Self.addLeaseMetrics(lease.status, to: &text)
        await Self.addNetworkMetrics(networks, to: &text)
        text.add("switchboard_tickets_created_total", type: "counter", help: "Tickets created since start.",
                 samples: [([("group", "contract")], Double(m.ticketsCreatedContract)),
                           ([("group", "none")], Double(m.ticketsCreatedNoContract))])
        text.add("switchboard_queue_waiting", type: "gauge", help: "Open tickets no agent has taken.",
                 value: Double(m.queueLength))
        text.add("switchboard_conversations_active", type: "gauge", help: "Customer conversations going on.",
                 value: Double(m.conversationsActive))
        text.add("switchboard_conversations_started_total", type: "counter", help: "Conversations started.",
                 value: Double(m.conversationsStarted))
        text.add("switchboard_conversations_refused_total", type: "counter",
                 help: "New customers told the desk is busy (a conversation bound was reached).",
                 value: Double(m.conversationsRefused))
        text.add("switchboard_deflected_total", type: "counter", help: "Conversations a KB article solved.",
                 value: Double(m.deflected))
        text.add("switchboard_pages_sent_total", type: "counter", help: "Pages the network confirmed as sent.",
                 value: Double(m.pagesSent))
        text.add("switchboard_page_failures_total", type: "counter", help: "Failed page attempts (retried).",
                 value: Double(m.pageFailures))
        text.add("switchboard_pages_given_up_total", type: "counter",
                 help: "Pages given up after the configured attempts (next escalation step paged).",
                 value: Double(m.pagesGivenUp))
        text.add("switchboard_pages_in_flight", type: "gauge", help: "Pages handed to a network, not confirmed.",
                 value: Double(m.pagesInFlight))
        text.add("switchboard_pin_failures_total", type: "counter", help: "Wrong contract PINs.",
                 value: Double(m.pinFailures))
        text.add("switchboard_pin_checks_refused_total", type: "counter",
                 help: "PIN checks refused by a budget at once, nothing hashed.", value: Double(m.pinChecksRefused))
        text.add("switchboard_pin_attack_warnings_total", type: "counter",
                 help: "PIN guessing warnings posted to the agents (once per attack).",
                 value: Double(m.pinAttackWarnings))
        text.add("switchboard_agent_commands_total", type: "counter", help: "Agent commands.",
                 samples: [([("result", "done")], Double(m.agentCommands)),
                           ([("result", "refused")], Double(m.agentCommandsRefused))])
        text.add("switchboard_kb_queries_total", type: "counter", help: "!kb queries.", value: Double(m.kbQueries))
        text.add("switchboard_sla_events_total", type: "counter", help: "SLA warnings and breaches posted.",
                 samples: [([("kind", "warning")], Double(m.slaWarnings)),
                           ([("kind", "breach")], Double(m.slaBreaches))])
        text.add("switchboard_pages_fenced_total", type: "counter",
                 help: "Pages not sent because the store refused this instance's fencing token.",
                 value: Double(m.pagesFenced))
        text.add("switchboard_store_errors_total", type: "counter", help: "Store operations that failed.",
                 value: Double(m.storeErrors))
        return text.rendered
    }
}

/// Why `switchboard run` ended other than by a stop signal.
public enum GatewayRunError: Error, Sendable, CustomStringConvertible {
    /// Another instance holds the lease now (or it ran out): this one has
    /// stopped sending and disconnected; start it again to stand by.
    case leaseLost(String)

    public var description: String {
        switch self {
        case .leaseLost(let reason): "lost the lease: \(reason)"
        }
    }

    /// The exit status `switchboard run` ends with: 75 (`EX_TEMPFAIL`), so a
    /// service manager restarts it (`Restart=always`).
    public var exitStatus: Int32 { 75 }
}
