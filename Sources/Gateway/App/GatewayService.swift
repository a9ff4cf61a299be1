import Bots
import Core
import Desk
import Foundation
import KB
import StatusPage
import Synchronization

/// The running gateway (`switchboard run`): the store, the bots, one
/// ``Bots/ChatNetwork`` per configured network (made by ``NetworkFactory``),
/// the timers, and the optional HTTP endpoint (`/healthz`, `/metrics`, the
/// status page of ``StatusPageRoutes``) — started in that order and stopped
/// in reverse. It names no concrete adapter or store.
///
/// Stop (SIGTERM/SIGINT): every network sends what it has queued (pages
/// first, at most `drainFor`), says goodbye with QUIT and disconnects; then
/// the timers stop and the store is closed. Reload (SIGHUP): the desk's
/// files, the bot definitions and the KB are read again; a configuration with
/// errors is refused and the running one kept.
public final class GatewayService<C: WallClock>: Sendable {
    public let loaded: LoadedConfiguration
    public let runtime: BotRuntime<C>
    /// In configuration order, one per `loaded.gateway.networks` entry.
    public let networks: [any ChatNetwork]
    let store: OpenedStore
    let knowledgeBase: ReloadableKnowledgeBase
    let logger: Logger
    let clock: C
    let startedAt: Date
    /// The desk's configuration in force (replaced by a reload): what the
    /// status page reads beside the store.
    let currentDesk: Mutex<DeskConfiguration>

    /// - Parameter makeNetwork: builds each configured network (default:
    ///   ``NetworkFactory/make(_:clock:logger:state:definitions:)`` with the
    ///   store and the bot definitions; tests pass fakes).
    public init(loaded: LoadedConfiguration, clock: C, logger: Logger,
                makeNetwork: NetworkMaker<C>? = nil) throws {
        self.loaded = loaded
        self.clock = clock
        self.logger = logger
        startedAt = clock.date
        currentDesk = Mutex(loaded.desk)
        store = try StoreFactory.open(loaded.gateway.store, logger: logger)
        knowledgeBase = ReloadableKnowledgeBase(loaded.knowledgeBase, folder: loaded.definitions.kbFolder,
                                                errors: loaded.kbErrors, logger: logger)
        runtime = BotRuntime(desk: loaded.desk, definitions: loaded.definitions, kb: knowledgeBase, store: store.desk,
                             clock: clock, logger: logger)
        let state = store.desk
        networks = try loaded.gateway.networks.map { settings in
            if let makeNetwork { return try makeNetwork(settings, clock, logger) }
            return try NetworkFactory.make(settings, clock: clock, logger: logger, state: state,
                                           definitions: loaded.definitions)
        }
    }

    /// Runs until `stop` yields `.terminate` (or the task is cancelled).
    /// `signals` also carries `.reload`.
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
            do {
                try await runtime.start()
            } catch {
                endpoint?.close()
                throw error
            }
        } catch {
            await store.close()
            throw error
        }
        logger.info("gateway started", ["networks": networks.map(\.name).joined(separator: ","),
                                        "store": loaded.gateway.store.description])
        let runtime = self.runtime
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runtime.runTimers() }
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
            if let endpoint {
                group.addTask { await endpoint.run() }
            }
            // The signal loop: the only task that ends the group on purpose.
            for await signal in signals {
                if case .reload = signal {
                    await reload()
                    continue
                }
                logger.notice("stopping", ["signal": signal.description])
                break
            }
            await withTaskGroup(of: Void.self) { stopping in
                for network in networks {
                    stopping.addTask { await network.shutdown(message: "Switchboard is restarting, back soon",
                                                              deadline: drainFor) }
                }
            }
            endpoint?.close()
            group.cancelAll()
        }
        await store.close()
        logger.info("gateway stopped")
    }

    /// Reads the desk's files, the bot definitions and the KB again (once,
    /// from the folder the new KB definition names).
    func reload() async {
        do {
            let fresh = try LoadedConfiguration.load(from: loaded.gateway.file, previousKB: knowledgeBase.current)
            await runtime.reload(desk: fresh.desk, definitions: fresh.definitions)
            currentDesk.withLock { $0 = fresh.desk }
            knowledgeBase.replace(with: fresh.knowledgeBase, folder: fresh.definitions.kbFolder, errors: fresh.kbErrors)
            logger.notice("configuration reloaded", ["articles": fresh.articleCount])
        } catch {
            logger.error("reload refused; the running configuration stays", ["error": "\(error)"])
        }
    }

    /// `/healthz` and `/metrics`.
    func respond(_ path: String) async -> HTTPEndpoint.Response? {
        switch path {
        case "/healthz":
            return await Self.health(networks)
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
    static func health(_ networks: [any ChatNetwork]) async -> HTTPEndpoint.Response {
        var lines: [String] = []
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

    /// A duration in seconds, to the millisecond.
    static func seconds(_ duration: Duration) -> Double {
        (duration.timeInterval * 1000).rounded() / 1000
    }

    func metricsText() async -> String {
        let m = await runtime.metrics()
        var text = PrometheusText()
        text.add("switchboard_up_seconds", type: "gauge", help: "Seconds since the gateway started.",
                 value: clock.date.timeIntervalSince(startedAt))
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
        text.add("switchboard_store_errors_total", type: "counter", help: "Store operations that failed.",
                 value: Double(m.storeErrors))
        return text.rendered
    }
}
