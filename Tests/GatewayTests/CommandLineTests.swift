import Core
import Desk
import Foundation
@testable import Gateway
import PostgresStore
import Store
import Testing
import TestSupport
import Transport

/// A configuration folder for the `switchboard` binary: the test gateway
/// configuration of `GatewayProcess`, with a copy of the shipped bot
/// definitions and KB in `bots/` so a test can change them. Removed when
/// the value goes away.
final class CommandFixture: Sendable {
    let directory: String
    var configPath: String { directory + "/switchboard.json5" }
    var botsFolder: String { directory + "/bots" }
    var storePath: String { directory + "/switchboard.sqlite" }

    init(ircPort: UInt16, httpPort: UInt16) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try GatewayProcess.writeConfiguration(directory: directory, network: .init(port: ircPort), httpPort: httpPort)
        let shipped = GatewayProcess.repositoryRoot.appendingPathComponent("bots").path
        try FileManager.default.copyItem(atPath: shipped, toPath: botsFolder)
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        let pointed = text.replacingOccurrences(of: "bots: \"\(shipped)\"", with: "bots: \"bots\"")
        #expect(pointed != text, "the fixture names its own bots folder")
        try pointed.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Makes `articles` the KB bot's article folder, holding one article
    /// about `word`.
    func moveKB(to articles: String, word: String) throws {
        try moveKB(to: articles, files: ["KB-9001.md": """
            ---
            id: KB-9001
            title: Calibrating the \(word)
            url: https://docs.nordlicht.example/kb/KB-9001
            tags: \(word), calibration
            language: en
            ---
            How to calibrate the \(word) after a firmware update.
            """])
    }

    /// Makes `articles` the KB bot's article folder, holding `files` (name: text).
    func moveKB(to articles: String, files: [String: String]) throws {
        let folder = botsFolder + "/" + articles
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        let definition = botsFolder + "/kb.json5"
        let text = try String(contentsOfFile: definition, encoding: .utf8)
        let moved = text.replacingOccurrences(of: "articles: \"kb\"", with: "articles: \"\(articles)\"")
        #expect(moved != text)
        try moved.write(toFile: definition, atomically: true, encoding: .utf8)
    }

    /// Makes the store the PostgreSQL database whose URL is in the
    /// environment variable `variable`.
    func usePostgres(urlFrom variable: String) throws {
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        let changed = text.replacingOccurrences(of: #"store: { path: "switchboard.sqlite" }"#,
                                                with: "store: { kind: \"postgres\", url: { env: \"\(variable)\" } }")
        #expect(changed != text, "the fixture names its store")
        try changed.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Runs `switchboard ARGS --config <this>` to its end (`environment`
    /// added to the inherited one).
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws
        -> (status: Int32, output: String) {
        let inherited = ProcessInfo.processInfo.environment
        let child = try ChildProcess.launch(try BuiltProducts.executable(named: "switchboard"),
                                            arguments + ["--config", configPath], name: "switchboard-cli",
                                            environment: environment.isEmpty ? nil
                                                : inherited.merging(environment) { $1 })
        let status = try await child.waitForExit(timeout: .seconds(60))
        try await child.waitForEndOfOutput(timeout: .seconds(10))
        return (status, child.output)
    }
}

/// The command line's defects from issue 8, each as a user meets it.
@Suite struct CommandLineTests {
    /// `switchboard irc … | grep` showed nothing until the process ended:
    /// every event line must be written when it happens. No server listens
    /// on the port, so the client keeps reconnecting and never exits; its
    /// first "disconnected" line must arrive through the pipe meanwhile.
    @Test func ircPrintsEachEventWhenItHappensIntoAPipe() async throws {
        let port = try FreePort.next()
        try await ChildProcess.run(try BuiltProducts.executable(named: "switchboard"),
                                   ["irc", "--server", "127.0.0.1:\(port)", "--nick", "probe", "--log-level", "error"],
                                   name: "switchboard-irc") { child in
            try await child.waitForOutput(" disconnected: ", timeout: .seconds(15))
        }
    }

    /// `switchboard kb` read `<bots>/kb` whatever `kb.json5` named.
    @Test func kbSearchesTheFolderTheKBDefinitionNames() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try fixture.moveKB(to: "articles-elsewhere", word: "fluxmeter")
        let (status, output) = try await fixture.run(["kb", "search", "fluxmeter"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("KB-9001"), "\(output)")
        let shown = try await fixture.run(["kb", "show", "KB-9001"])
        #expect(shown.output.contains("Calibrating the fluxmeter"), "\(shown.output)")
    }

    /// `switchboard kb explain` shows why an article is offered, with the
    /// operator's own vocabulary file (`bots/vocabulary/local.json5`) in
    /// use; a bad vocabulary file is an error with file and line.
    @Test func kbExplainUsesTheOperatorsVocabulary() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try fixture.moveKB(to: "articles-elsewhere", word: "fluxmeter")
        let local = fixture.botsFolder + "/vocabulary/local.json5"
        try "{ concepts: [ { de: [\"Flussmesser\"], en: [\"fluxmeter\"] } ] }"
            .write(toFile: local, atomically: true, encoding: .utf8)
        let (status, output) = try await fixture.run(["kb", "explain", "Flussmesser", "kalibrieren"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("query: flussmesser kalibrieren"), "\(output)")
        #expect(output.contains("flussmesser: stems flussmess; translated") && output.contains("fluxmet×0.80"), "\(output)")
        #expect(output.contains("KB-9001") && output.contains("confidence") && output.contains("threshold 0.60"),
                "\(output)")
        try "{ concepts: [ { de: [\"Fluss messer\"], en: [\"fluxmeter\"] } ] }"
            .write(toFile: local, atomically: true, encoding: .utf8)
        let bad = try await fixture.run(["kb", "explain", "Flussmesser"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("local.json5:1:"), "\(bad.output)")
    }

    /// `tickets list --open --limit N` kept the newest N; it shows the N
    /// that have waited longest, oldest first.
    @Test func openTicketsWithALimitAreTheLongestWaiting() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        let start = Date(timeIntervalSince1970: 1_772_442_000)
        let store = try SQLiteDeskStore(path: fixture.storePath, logger: .disabled, now: start)
        for index in 0..<3 {
            let at = start.addingTimeInterval(Double(index) * 3600)
            let contact = ChatIdentity(network: "e2e", nick: "guest\(index)")
            _ = try await store.createTicket(NewTicket(
                createdAt: at, createdBy: .customer(contact.description), customerNumber: nil,
                customerName: "Guest \(index)", contact: contact, group: .noContract, tier: nil, severity: .minor,
                summary: "question \(index)", description: "question \(index)", language: "en"), pages: [])
        }
        await store.close()
        let (status, output) = try await fixture.run(["tickets", "list", "--open", "--limit", "2"])
        #expect(status == 0, "\(output)")
        let numbers = output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(numbers == ["#1", "#2"], "\(output)")
    }

    /// With `store: { kind: "postgres", url: { env: … } }` the command line
    /// works on the database: `check-config` connects and reports its
    /// schema version, `tickets list` and `show` read the tickets in it.
    @Test func checkConfigAndTicketsWorkOnAPostgresStore() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try fixture.usePostgres(urlFrom: "SWITCHBOARD_DATABASE_URL")
        let url = try await PostgresServer.shared().createDatabase("cli_" + UUID().uuidString.lowercased()
            .replacingOccurrences(of: "-", with: "_"))
        // The test server trusts local connections, so the password is never
        // checked; it is there to show that it is never printed.
        let environment = ["SWITCHBOARD_DATABASE_URL": url.replacingOccurrences(of: "//postgres@",
                                                                                with: "//postgres:pw-n0t-shown@")]
        let missing = try await fixture.run(["check-config"], environment: ["SWITCHBOARD_DATABASE_URL": ""])
        #expect(missing.status != 0 && missing.output.contains("SWITCHBOARD_DATABASE_URL"), "\(missing.output)")
        let empty = try await fixture.run(["check-config"], environment: environment)
        #expect(empty.status == 0 && empty.output.contains("will be created"), "\(empty.output)")

        let contact = ChatIdentity(network: "e2e", nick: "guest")
        let opened = try PostgresDeskStore(url: url, logger: .disabled)
        let commit = try await opened.createTicket(NewTicket(
            createdAt: Date(), createdBy: .customer(contact.description), customerNumber: nil,
            customerName: "Guest", contact: contact, group: .noContract, tier: nil, severity: .minor,
            summary: "printer on fire", description: "printer on fire", language: "en"), pages: [])
        await opened.close()

        let checked = try await fixture.run(["check-config"], environment: environment)
        #expect(checked.status == 0 && checked.output.contains("(current)"), "\(checked.output)")
        #expect(!checked.output.contains("pw-n0t-shown"), "the password is a secret: \(checked.output)")
        let listed = try await fixture.run(["tickets", "list"], environment: environment)
        #expect(listed.status == 0 && listed.output.contains("\(commit.number)")
            && listed.output.contains("printer on fire"), "\(listed.output)")
        let shown = try await fixture.run(["tickets", "show", String(commit.number.rawValue)], environment: environment)
        #expect(shown.status == 0 && shown.output.contains("printer on fire"), "\(shown.output)")
    }

    /// `check-config` printed "configuration OK" and then exited 1 on an
    /// article that does not load; `run` starts without that article, so
    /// the check passes and says so as a warning.
    @Test func checkConfigPassesWithKBWarningsAndSaysSo() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try "no header at all\n".write(toFile: fixture.botsFolder + "/kb/en/broken.md", atomically: true, encoding: .utf8)
        // A loaded article with a note: its question counts one word only.
        try """
            ---
            id: KB-9001
            title: Connecting other programs
            url: https://docs.nordlicht.example/kb/KB-9001
            questions: Do you have an API?
            language: en
            ---
            Other programs connect through the NordBox interface for developers.
            """.write(toFile: fixture.botsFolder + "/kb/en/weak.md", atomically: true, encoding: .utf8)
        let (status, output) = try await fixture.run(["check-config"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("warning: KB article skipped: en/broken.md"), "\(output)")
        #expect(output.contains("warning: KB article: en/weak.md: field 'questions': \"Do you have an API?\" has one word"),
                "\(output)")
        #expect(!output.contains("skipped: en/weak.md"))
        #expect(output.contains("configuration OK"))
        #expect(output.contains("(2 warnings above)"))
    }

    /// Issue 11: the dictionary `kb.json5` names. Installed, `check-config`
    /// says what it adds; missing, the check passes (the search runs
    /// without it) and says once how to install it.
    @Test func checkConfigNamesTheDictionaryAndWarnsOnceWhenItIsMissing() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        var (status, output) = try await fixture.run(["check-config"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("dictionary /usr/share/trans/de-en: "), "\(output)")
        #expect(!output.contains("warning"), "\(output)")
        let definition = fixture.botsFolder + "/kb.json5"
        let text = try String(contentsOfFile: definition, encoding: .utf8)
        let moved = text.replacingOccurrences(of: #"dictionary: "/usr/share/trans/de-en""#, with: #"dictionary: "dict/de-en""#)
        #expect(moved != text)
        try moved.write(toFile: definition, atomically: true, encoding: .utf8)
        (status, output) = try await fixture.run(["check-config"])
        #expect(status == 0, "\(output)")
        let warning = "kb.json5: settings.dictionary: the dictionary " + fixture.botsFolder + "/dict/de-en is missing"
        #expect(output.components(separatedBy: warning).count == 2, "\(output)")
        #expect(output.contains("warning: bots/kb.json5: settings.dictionary: "), "\(output)")
        #expect(output.contains("apt-get install trans-de-en"), "\(output)")
        #expect(output.contains("configuration OK") && output.contains("(1 warning above)"), "\(output)")
    }

    /// Issue 13: a status page token that cannot be read stops `run`, so
    /// the check refuses it too; a readable one is named (never shown).
    @Test func checkConfigNamesTheStatusPageTokenAndRefusesAMissingOne() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        let withToken = text.replacingOccurrences(of: #"http: { listen: "127.0.0.1:"#,
                                                  with: #"http: { auth: { token: { file: "token.txt" } }, listen: "0.0.0.0:"#)
        #expect(withToken != text)
        try withToken.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        var (status, output) = try await fixture.run(["check-config"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("http.auth.token") && output.contains("token.txt"), "\(output)")
        try "pa55-word-of-the-lead\n".write(toFile: fixture.directory + "/token.txt", atomically: true, encoding: .utf8)
        (status, output) = try await fixture.run(["check-config"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("http:      http://0.0.0.0:") && output.contains("token from the file"), "\(output)")
        #expect(!output.contains("pa55-word"))
    }

    /// A deleted customer file failed nothing and served its customers as
    /// unknown; now `check-config` (and so `run`) refuses it.
    @Test func checkConfigRefusesAMissingCustomerFile() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try FileManager.default.removeItem(atPath: fixture.directory + "/desk/customers.json5")
        let (status, output) = try await fixture.run(["check-config"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("customers.json5: cannot open: No such file or directory"), "\(output)")
        #expect(!output.contains("configuration OK"))
    }

    /// `run` logged "gateway started" and exited 1 when its HTTP endpoint
    /// could not listen. Now the endpoint is bound before anything is
    /// announced (the store's closing: ``ReloadTests``).
    @Test func runThatCannotStartSaysSoBeforeAnnouncingAStart() async throws {
        let taken = try Listener.bind(host: "127.0.0.1", port: 0)
        defer { taken.close() }
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: taken.port)
        let (status, output) = try await fixture.run(["run"])
        #expect(status == 1, "\(output)")
        #expect(!output.contains("gateway started"), "\(output)")
        #expect(output.contains("listen on 127.0.0.1:\(taken.port)"), "\(output)")
    }
}

/// The running gateway in-process: a start that fails, and SIGHUP
/// (``GatewayService/reload()``).
@Suite struct ServiceLifecycleTests {
    /// A gateway that cannot start closes its store itself (while the
    /// service is still held: no deinit does it).
    @Test func aStartThatFailsClosesTheStore() async throws {
        let taken = try Listener.bind(host: "127.0.0.1", port: 0)
        defer { taken.close() }
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: taken.port)
        let loaded = try await offload { try LoadedConfiguration.load(from: URL(fileURLWithPath: fixture.configPath)) }
        let service = try GatewayService(loaded: loaded, clock: ManualClock(), logger: .disabled)
        #expect(try await service.store.desk.openTickets().isEmpty)
        let (signals, _) = AsyncStream<ProcessSignal>.makeStream()
        await #expect(throws: TransportError.self) { try await service.run(signals: signals) }
        await #expect(throws: TicketStoreError.closed) { try await service.store.desk.openTickets() }
    }

    /// The KB follows the folder the new definition names, from the one
    /// load the configuration check made.
    @Test func aReloadMovesTheKBToTheFolderTheDefinitionNowNames() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        let logs = MemoryLogSink()
        let loaded = try await offload { try LoadedConfiguration.load(from: URL(fileURLWithPath: fixture.configPath)) }
        let service = try GatewayService(loaded: loaded, clock: ManualClock(), logger: Logger(sink: logs))
        #expect(service.knowledgeBase.current.count == loaded.articleCount)
        #expect(service.knowledgeBase.current.search("fluxmeter", limit: 3).isEmpty)

        try fixture.moveKB(to: "articles-elsewhere", word: "fluxmeter")
        await service.reload()
        #expect(service.knowledgeBase.folder.lastPathComponent == "articles-elsewhere")
        #expect(service.knowledgeBase.current.count == 1)
        #expect(service.knowledgeBase.current.search("fluxmeter", limit: 3).first?.article.id == "KB-9001")
        #expect(logs.lines.contains { $0.contains("configuration reloaded") }, "\(logs.lines)")
        await service.store.close()
    }
}
