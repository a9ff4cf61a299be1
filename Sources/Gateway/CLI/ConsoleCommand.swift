import Bots
import Core
import Desk
import Foundation
import KB

/// `switchboard console`: the bots in the terminal, no chat network.
enum ConsoleCommand {
    static let command = SwitchboardCommand(
        name: "console",
        summary: "talk to the bots in the terminal as a customer, or as an agent with --agent",
        usage: """
            usage: switchboard console [--agent ID | --nick NICK [--account ACCOUNT]] [--network NAME]
                                       [--config PATH] [--store PATH]

            Every line you type is a private message to the bot; every line the bots say is printed,
            also those to others (marked [to anna], [#agents]). Uses the configured bots and desk, and a
            store of its own next to the gateway's (switchboard.console.sqlite; ../var/ next to the
            configuration when the gateway's is PostgreSQL), or --store PATH — never the gateway's store:
            the console would run escalation on it and send its pages to the terminal.
            The agents' channel and language are those of the network named (or the first configured).
            /quit ends; /me TEXT is an action.
              --agent ID      be the configured agent ID (e.g. anna): agent commands work
              --nick NICK     the customer's nick (default: kunde)
              --account ACC   a network account, as if logged in (a customer linked to it needs no PIN)
              --network NAME  the network name to appear on (default: console)
            """
    ) { words in
        var args = try Arguments(words)
        let path = try args.option("config") ?? GatewayConfiguration.defaultPath
        let agentID = try args.option("agent")
        let nick = try args.option("nick")
        let account = try args.option("account")
        let networkName = try args.option("network") ?? "console"
        let storePath = try args.option("store")
        try args.finish()
        if agentID != nil && (nick != nil || account != nil) {
            throw UsageError("--agent cannot be combined with --nick or --account")
        }
        var loaded = try LoadedConfiguration.load(from: URL(fileURLWithPath: path))
        loaded.gateway.storePath = try consoleStore(gatewayStore: loaded.gateway.store,
                                                    configuration: loaded.gateway.file,
                                                    requested: storePath.map { URL(fileURLWithPath: $0) })
        let identity: ChatIdentity
        if let agentID {
            guard let agent = loaded.desk.agents.agent(id: agentID) else {
                let ids = loaded.desk.agents.all.map(\.id).joined(separator: ", ")
                throw UsageError("there is no agent \"\(agentID)\" (agents: \(ids))")
            }
            identity = ChatIdentity(network: networkName, nick: agent.nick, account: agent.id)
        } else {
            identity = ChatIdentity(network: networkName, nick: nick ?? "kunde", account: account)
        }

        let logger = Logger(minimumLevel: .warning, format: loaded.gateway.log.format)
        let store = try openStore(loaded.gateway, logger: logger)
        return try await store.use { desk in
            try await runConsole(loaded: loaded, desk: desk, identity: identity, networkName: networkName,
                                 agentID: agentID, account: account, logger: logger)
        }
    }

    /// The console's conversation over an open store, until `/quit`.
    static func runConsole(loaded: LoadedConfiguration, desk: any DeskStore, identity: ChatIdentity,
                           networkName: String, agentID: String?, account: String?, logger: Logger) async throws
        -> Int32 {
        let clock = SystemClock()
        let kb = ReloadableKnowledgeBase(folder: loaded.definitions.kbFolder,
                                         vocabulary: loaded.definitions.kbSettings.vocabulary, logger: logger)
        let runtime = BotRuntime(desk: loaded.desk, definitions: loaded.definitions, kb: kb, store: desk,
                                 clock: clock, logger: logger)
        let console = ConsoleNetwork(name: networkName, user: identity, clock: clock)
        await runtime.attach(console, settings: consoleSettings(network: networkName, configured: loaded.gateway.networks,
                                                                trustsAgentIDs: agentID != nil))
        try await runtime.start()
        let who = agentID.map { "agent \($0)" } ?? "customer \(identity.nick)\(account.map { " (account \($0))" } ?? "")"
        print("Switchboard console as \(who) on \(networkName); store \(loaded.gateway.store). /quit ends.")
        let timers = Task { await runtime.runTimers() }
        defer { timers.cancel() }
        try await console.run(events: { await runtime.handle($0) }, deliveries: { await runtime.handle($0) })
        await runtime.waitUntilIdle()
        return 0
    }

    /// The console's store: `requested`, or by default a file of its own
    /// next to the gateway's (`switchboard.console.sqlite`). The gateway's
    /// own store is refused: the console would restart escalation for every
    /// open contract ticket and send those pages to the terminal, and the
    /// gateway would then never send them.
    static func consoleStore(gatewayStore: GatewayConfiguration.StoreSettings, configuration: URL,
                             requested: URL?) throws -> URL {
        guard case .sqlite(let gatewayPath) = gatewayStore else {
            // The gateway's store is PostgreSQL: the console keeps an SQLite
            // file of its own where the SQLite store would be by default.
            return requested ?? configuration.deletingLastPathComponent()
                .appendingPathComponent("../var/switchboard.console.sqlite").standardizedFileURL
        }
        return try consoleStore(gatewayStore: gatewayPath, requested: requested)
    }

    static func consoleStore(gatewayStore: URL, requested: URL?) throws -> URL {
        let gateway = gatewayStore.standardizedFileURL.resolvingSymlinksInPath()
        guard let requested else {
            return gateway.deletingPathExtension().appendingPathExtension("console")
                .appendingPathExtension(gateway.pathExtension.isEmpty ? "sqlite" : gateway.pathExtension)
        }
        guard requested.standardizedFileURL.resolvingSymlinksInPath() != gateway else {
            throw UsageError("\(requested.path) is the gateway's store: the console would run escalation on it and "
                + "send its pages to the terminal; leave --store out (the console keeps its own) or name another file")
        }
        return requested
    }

    /// The bots' settings for the console appearing as `network`: the
    /// agents' channel and language of that configured network, else of the
    /// first one; accounts only (and agent ids when `--agent`).
    static func consoleSettings(network: String, configured: [NetworkSettings], trustsAgentIDs: Bool)
        -> NetworkBotSettings
    {
        let template = configured.first { $0.name == network } ?? configured.first
        return NetworkBotSettings(name: network, agentsChannel: template?.agentsChannel,
                                  supportChannels: [], hasAccounts: true, trustsAgentIDs: trustsAgentIDs,
                                  language: template?.language ?? "de")
    }
}
