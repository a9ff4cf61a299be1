import Core
import Foundation

/// `switchboard run`: the gateway.
enum RunCommand {
    static let command = SwitchboardCommand(
        name: "run",
        summary: "run the gateway: join the configured networks and serve customers and agents",
        usage: """
            usage: switchboard run [--config PATH] [--instance NAME] [--log-format logfmt|json] [--log-level LEVEL]

            Reads the configuration (default \(GatewayConfiguration.defaultPath)), opens the store, joins every
            configured network and runs until SIGTERM or SIGINT (then it sends what is queued, says
            goodbye and closes the store). SIGHUP reloads customers, agents, bot texts and the KB.

            Several instances may share one store: the one holding the store's lease is active (networks,
            timers, pages), the others stand by and take over within 10 s when it dies. --instance names
            this one (default: the host name); instances sharing a store need distinct names. An instance
            that loses the lease stops sending, disconnects and exits with status 75 (restart it: it
            stands by).
            """
    ) { words in
        var args = try Arguments(words)
        let path = try args.option("config") ?? GatewayConfiguration.defaultPath
        let format = try args.option("log-format")
        let level = try args.option("log-level")
        let instance = try args.option("instance") ?? GatewayService<SystemClock>.defaultInstance
        try args.finish()
        guard !instance.isEmpty else { throw UsageError("--instance needs a name") }
        let loaded: LoadedConfiguration
        do {
            loaded = try LoadedConfiguration.load(from: URL(fileURLWithPath: path))
        } catch let problems as ConfigurationProblems {
            FileHandle.standardError.write(Data("switchboard run: \(problems)\n".utf8))
            return 1
        }
        var logger = Logger(minimumLevel: loaded.gateway.log.level, format: loaded.gateway.log.format)
        if let format {
            guard let parsed = Logger.Format(rawValue: format) else { throw UsageError("--log-format is logfmt or json") }
            logger.format = parsed
        }
        if let level {
            guard let parsed = Logger.Level(name: level) else { throw UsageError("unknown --log-level \(level)") }
            logger.minimumLevel = parsed
        }
        loaded.logDictionary(logger)
        FreedMemory.release()  // what building the KB index allocated and freed
        let signals = ProcessSignal.stream()
        let service = try GatewayService(loaded: loaded, clock: SystemClock(), logger: logger, instance: instance,
                                         onLeaseLost: { lost in
                                             FileHandle.standardError.write(Data("switchboard run: \(lost)\n".utf8))
                                             exit(lost.exitStatus)
                                         })
        do {
            try await service.run(signals: signals)
        } catch let lost as GatewayRunError {
            FileHandle.standardError.write(Data("switchboard run: \(lost)\n".utf8))
            return lost.exitStatus
        }
        return 0
    }
}
