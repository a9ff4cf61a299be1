import Bots
import Core
import Desk
import Foundation
@testable import Gateway
import Synchronization
import TestSupport
import Testing

/// A network that is only what the protocol says: a status and a backlog the
/// test sets. The gateway must see networks only through `ChatNetwork`.
final class StatusNetwork: ChatNetwork {
    let name: String
    let statusNow: Mutex<ChatNetworkStatus>
    let backlogNow: Mutex<ChatBacklog>

    init(name: String, status: ChatNetworkStatus = ChatNetworkStatus(.ready),
         backlog: ChatBacklog = ChatBacklog(queuedTexts: 0)) {
        self.name = name
        statusNow = Mutex(status)
        backlogNow = Mutex(backlog)
    }

    var status: ChatNetworkStatus { statusNow.withLock { $0 } }
    var backlog: ChatBacklog { backlogNow.withLock { $0 } }
    var ownNick: String { "switchboard" }
    func normalized(_ name: String, kind: ChatNameKind) -> String { name }
    func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool { false }
    func send(_ action: ChatAction) async {}
    func run(events: @escaping @Sendable (ChatEvent) async -> Void,
             deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {}
    func shutdown(message: String, deadline: Duration) async {}
}

@Suite struct NetworkSeamTests {
    /// A gateway configuration written to a fresh folder (the end-to-end
    /// fixture's files), loaded — off the cooperative pool: loading builds
    /// the KB index with the installed dictionary.
    static func configuration() async throws -> (LoadedConfiguration, folder: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seam-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = try GatewayProcess.writeConfiguration(directory: folder, network: .init(port: 6667), httpPort: 9464)
        return (try await offload { try LoadedConfiguration.load(from: URL(fileURLWithPath: path)) }, folder)
    }

    @Test func healthAndMetricsGoThroughTheProtocol() async throws {
        let (loaded, folder) = try await Self.configuration()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fake = StatusNetwork(name: "e2e", status: ChatNetworkStatus(.connecting, detail: "registering"),
                                 backlog: ChatBacklog(queuedTexts: 3, oldestWait: .milliseconds(2500)))
        let service = try GatewayService(loaded: loaded, clock: ManualClock(), logger: .disabled, instance: "gw-a",
                                         makeNetwork: { settings, _, _ in
                                             #expect(settings.name == "e2e")
                                             return fake
                                         })
        #expect(service.networks.map(\.name) == ["e2e"])
        let standby = try #require(await service.respond("/healthz"))
        #expect(standby.status == 200 && standby.body == "standby\nrole: standby (instance gw-a); active: none yet\n")
        _ = await service.lease.waitUntilActive()

        let degraded = try #require(await service.respond("/healthz"))
        #expect(degraded.status == 503)
        #expect(degraded.body == "degraded\nrole: active (instance gw-a, token 1)\ne2e: connecting (registering); send queue 3 texts, oldest waiting 2.5 s\n")
        let metrics = try #require(await service.respond("/metrics")).body
        #expect(metrics.contains("switchboard_network_connected{network=\"e2e\"} 0"))
        #expect(metrics.contains("switchboard_send_queue_texts{network=\"e2e\"} 3"))
        #expect(metrics.contains("switchboard_send_queue_oldest_seconds{network=\"e2e\"} 2.5"))
        #expect(metrics.contains("switchboard_conversations_refused_total 0"))
        #expect(metrics.contains("switchboard_lease_active{instance=\"gw-a\"} 1"))
        #expect(metrics.contains("switchboard_lease_holder{holder=\"gw-a\"} 1"))
        #expect(metrics.contains("switchboard_lease_fencing_token 1"))
        #expect(metrics.contains("switchboard_lease_takeovers_total 0"))

        fake.statusNow.withLock { $0 = ChatNetworkStatus(.ready, detail: "127.0.0.1:6667") }
        fake.backlogNow.withLock { $0 = ChatBacklog(queuedTexts: 0) }
        let healthy = try #require(await service.respond("/healthz"))
        #expect(healthy.status == 200)
        #expect(healthy.body == "ok\nrole: active (instance gw-a, token 1)\ne2e: connected (127.0.0.1:6667); send queue 0 texts\n")
        let after = try #require(await service.respond("/metrics")).body
        #expect(after.contains("switchboard_network_connected{network=\"e2e\"} 1"))
        #expect(!after.contains("switchboard_send_queue_oldest_seconds"), "no wait is told when nothing waits")
    }

    @Test func theConsoleKeepsItsOwnStoreAndRefusesTheGateways() async throws {
        let gateway = URL(fileURLWithPath: "/srv/switchboard/var/switchboard.sqlite")
        let own = try ConsoleCommand.consoleStore(gatewayStore: gateway, requested: nil)
        #expect(own.path == "/srv/switchboard/var/switchboard.console.sqlite")
        #expect(throws: UsageError.self) {
            try ConsoleCommand.consoleStore(gatewayStore: gateway, requested: URL(fileURLWithPath: "/srv/switchboard/var/switchboard.sqlite"))
        }
        #expect(throws: UsageError.self, "another spelling of the same file") {
            try ConsoleCommand.consoleStore(gatewayStore: gateway,
                                            requested: URL(fileURLWithPath: "/srv/switchboard/var/../var/./switchboard.sqlite"))
        }
        let other = URL(fileURLWithPath: "/tmp/try.sqlite")
        #expect(try ConsoleCommand.consoleStore(gatewayStore: gateway, requested: other) == other)
    }

    @Test func theConsoleTakesTheAgentsChannelAndLanguageFromTheConfiguration() async throws {
        let (loaded, folder) = try await Self.configuration()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let named = ConsoleCommand.consoleSettings(network: "e2e", configured: loaded.gateway.networks, trustsAgentIDs: true)
        #expect(named.agentsChannel == "#agents" && named.language == "en" && named.trustsAgentIDs)
        let console = ConsoleCommand.consoleSettings(network: "console", configured: loaded.gateway.networks,
                                                     trustsAgentIDs: false)
        #expect(console.name == "console" && console.language == "en" && console.agentsChannel == "#agents")
    }

    @Test func anAgentMaskTheIRCRuleRefusesNamesFileLineAndField() async throws {
        let (_, folder) = try await Self.configuration()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let agents = folder + "/desk/agents.json5"
        let text = try String(contentsOfFile: agents, encoding: .utf8)
            .replacingOccurrences(of: "masks: [\"ben!*@127.0.0.1\"]", with: "masks: [\"ben!*@*\"]")
        try text.write(toFile: agents, atomically: true, encoding: .utf8)
        do {
            _ = try await offload { try LoadedConfiguration.load(from: URL(fileURLWithPath: folder + "/switchboard.json5")) }
            Issue.record("a mask that matches any host was accepted")
        } catch let problems as ConfigurationProblems {
            #expect(problems.problems.count == 1)
            let problem = try #require(problems.problems.first)
            #expect(problem.hasPrefix("\(agents):5:"), "\(problem)")
            #expect(problem.contains("agents[1].masks[0]: \"ben!*@*\" matches any host"), "\(problem)")
        }
    }
}
