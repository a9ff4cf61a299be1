import Core
import Foundation

/// `switchboard check-config`: validates every file and says what it found.
enum CheckConfigCommand {
    static let command = SwitchboardCommand(
        name: "check-config",
        summary: "validate every configuration file (file, line and field of each problem)",
        usage: """
            usage: switchboard check-config [--config PATH]

            Reads the gateway file (default \(GatewayConfiguration.defaultPath)), the desk's files, the bot
            definitions and the KB articles it names, and reports every problem with file, line and field.
            Exit status 0: the gateway would start (KB articles that do not load are
            warnings: `run` starts without them too); 1: problems (listed on standard error),
            exactly what `run` refuses.
            """
    ) { words in
        var args = try Arguments(words)
        let path = try args.option("config") ?? GatewayConfiguration.defaultPath
        try args.finish()
        let loaded: LoadedConfiguration
        do {
            loaded = try LoadedConfiguration.load(from: URL(fileURLWithPath: path))
        } catch let problems as ConfigurationProblems {
            FileHandle.standardError.write(Data("\(problems)\n".utf8))
            return 1
        }
        for error in loaded.kbErrors {
            print(error.skipsFile ? "warning: KB article skipped: \(error)" : "warning: KB article: \(error)")
        }
        let dictionaryProblem = loaded.dictionaryProblem
        if let dictionaryProblem { print("warning: \(dictionaryProblem)") }
        let g = loaded.gateway
        let store: String
        do {
            // Read-only: a store that is not ours, too new or unwritable fails here, not at `run`.
            store = try StoreFactory.inspect(g.store)
        } catch {
            FileHandle.standardError.write(Data("\(g.file.relativePath): store: \(error)\n".utf8))
            return 1
        }
        if let token = g.http?.token {
            do {
                _ = try token.resolve(field: "http.auth.token")  // `run` refuses to start without it
            } catch {
                FileHandle.standardError.write(Data("\(g.file.relativePath): \(error)\n".utf8))
                return 1
            }
        }
        let warnings = loaded.kbErrors.count + (dictionaryProblem == nil ? 0 : 1)
        print("configuration OK: \(g.file.relativePath)"
            + (warnings == 0 ? "" : " (\(warnings) warning\(warnings == 1 ? "" : "s") above)"))
        print("  store:     \(store)")
        print("  networks:  " + g.networks.map(\.summary).joined(separator: ", "))
        print("  lease:     \(GatewayService<SystemClock>.seconds(g.lease.ttl)) s, renewed every "
            + "\(GatewayService<SystemClock>.seconds(g.lease.renewEvery)) s (with several instances on one store)")
        if let http = g.http {
            let address = http.host.contains(":") ? "[\(http.host)]:\(http.port)" : "\(http.host):\(http.port)"
            print("  http:      http://\(address)/ (status page, /healthz, /metrics; "
                + (http.token.map { "token from the \($0)" } ?? "loopback only, no token") + ")")
        }
        print("  customers: " + g.customerFiles.map(\.path).joined(separator: ", "))
        print("  KB:        \(loaded.articleCount) articles from \(loaded.definitions.kbFolder.path)"
            + (loaded.knowledgeBase.dictionarySummary.map { "; dictionary " + $0 } ?? ""))
        print(loaded.desk.summary(at: Date()).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        return 0
    }
}
