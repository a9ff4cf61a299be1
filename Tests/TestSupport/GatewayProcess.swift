import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import Synchronization

/// The real `switchboard run` process for end-to-end tests, on a
/// configuration of its own in a temporary folder: the repository's bot
/// definitions and KB, tiers and escalation; test customers and agents made
/// for the test (so the result does not depend on today's date, the rota
/// or business hours); a fresh SQLite store; one IRC network.
///
/// Test customers (PIN hashes with the minimum of PBKDF2 iterations, so a
/// check takes milliseconds):
/// - `20001` Kieler Werft AG, enterprise (24/7), PIN `4711`
/// - `20002` Husumer Hafenbetriebe GmbH, enterprise, PIN `2468`
/// - `20003` Altes Kontor KG, basic, expired in 2020, PIN `1111`
/// - `20010` Flensburg Reederei GmbH, enterprise, linked to account `reederei` on the network
///
/// Agents: `anna` (always on duty), `ben` (backup), `chris`; each with the
/// same account name on the network and a `nick!*@127.0.0.1` mask.
public final class GatewayProcess: Sendable {
    public struct Network: Sendable {
        public var port: UInt16
        /// Agents by account (a network with services) or by mask.
        public var identifyAgentsByAccount: Bool
        /// SASL PLAIN for the bot: account and password (given to the
        /// process through the environment, never written to a file).
        public var sasl: (account: String, password: String)?
        /// `{ preset: "fast" }` unless given, e.g. `{ burst: 2, interval: "1s" }`.
        public var sendQueue: String
        public var nick: String
        /// A second network, on a Matrix homeserver, beside the IRC one.
        public var matrix: MatrixNetwork?

        public init(port: UInt16, identifyAgentsByAccount: Bool = false,
                    sasl: (account: String, password: String)? = nil, sendQueue: String = #"{ preset: "fast" }"#,
                    nick: String = "switchboard", matrix: MatrixNetwork? = nil) {
            self.port = port
            self.identifyAgentsByAccount = identifyAgentsByAccount
            self.sasl = sasl
            self.sendQueue = sendQueue
            self.nick = nick
            self.matrix = matrix
        }
    }

    /// The Matrix network `mx`: the bot logs in with a password (given
    /// through the environment); agents `anna`, `ben`, `chris` are
    /// `@anna:SERVER` etc. there.
    public struct MatrixNetwork: Sendable {
        public var homeserver: URL
        public var serverName: String
        public var user: String
        public var password: String
        /// Rooms to join (aliases or ids).
        public var rooms: [String]
        /// Where pages go on Matrix; nil: the IRC network's `#agents`.
        public var agentsRoom: String?
        /// `readReceipts` of the entry.
        public var readReceipts: Bool

        public init(homeserver: URL, serverName: String, user: String, password: String, rooms: [String] = [],
                    agentsRoom: String? = nil, readReceipts: Bool = false) {
            self.homeserver = homeserver
            self.serverName = serverName
            self.user = user
            self.password = password
            self.rooms = rooms
            self.agentsRoom = agentsRoom
            self.readReceipts = readReceipts
        }
    }

    public let directory: String
    public let network: Network
    public let httpPort: UInt16
    /// The status page's access token (`http.auth`), nil: loopback without one.
    public let httpToken: String?
    public var storePath: String { directory + "/switchboard.sqlite" }
    /// The configuration file: `switchboard.json5`, or for a second instance
    /// on the same store `switchboard-<instance>.json5` (its own HTTP port).
    public let configPath: String
    /// The `--instance` name, or nil for the default (the host name).
    public let instance: String?
    /// A PostgreSQL store's URL (given to the process in the environment as
    /// `SWITCHBOARD_E2E_DATABASE_URL`), or nil for the SQLite file.
    public let databaseURL: String?
    /// Whether `stop()` removes the folder (a second instance leaves it).
    private let ownsDirectory: Bool
    private let process = Mutex<ChildProcess?>(nil)
    private let executable: String

    /// Writes the configuration and starts the gateway; returns once it has
    /// joined its channels (`#support`, `#agents`). `instance`: its
    /// `--instance` name (issue 10; default: none, the host name).
    /// `databaseURL`: a PostgreSQL store instead of the SQLite file.
    /// `httpToken`: the status page's token (`http.auth`).
    public static func start(network: Network, instance: String? = nil, databaseURL: String? = nil,
                             httpToken: String? = nil) async throws -> GatewayProcess {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-e2e-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let gateway = GatewayProcess(directory: directory, network: network, httpPort: try FreePort.next(),
                                     executable: try BuiltProducts.executable(named: "switchboard"),
                                     configPath: directory + "/switchboard.json5", instance: instance,
                                     databaseURL: databaseURL, httpToken: httpToken, ownsDirectory: true)
        do {
            try Self.writeConfiguration(directory: directory, network: network, httpPort: gateway.httpPort,
                                        httpToken: httpToken != nil, postgres: databaseURL != nil)
            try await gateway.launch()
        } catch {
            await gateway.stop()
            throw error
        }
        return gateway
    }

    /// A second `switchboard run` on this one's store and desk (issue 10:
    /// several instances, one active), named `instance`, with its own HTTP
    /// port; returns once it logged that it stands by.
    /// `databaseURL`: another way to the same PostgreSQL database (e.g.
    /// through a ``TCPProxy``); default: this one's.
    public func secondInstance(_ instance: String, databaseURL: String? = nil) async throws -> GatewayProcess {
        let port = try FreePort.next()
        let path = directory + "/switchboard-\(instance).json5"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:\(httpPort)", with: "127.0.0.1:\(port)")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let second = GatewayProcess(directory: directory, network: network, httpPort: port, executable: executable,
                                    configPath: path, instance: instance, databaseURL: databaseURL ?? self.databaseURL,
                                    httpToken: httpToken, ownsDirectory: false)
        try await second.launch(waitingFor: "standing by")
        return second
    }

    private init(directory: String, network: Network, httpPort: UInt16, executable: String, configPath: String,
                 instance: String?, databaseURL: String?, httpToken: String?, ownsDirectory: Bool) {
        self.databaseURL = databaseURL
        self.httpToken = httpToken
        self.directory = directory
        self.network = network
        self.httpPort = httpPort
        self.executable = executable
        self.configPath = configPath
        self.instance = instance
        self.ownsDirectory = ownsDirectory
    }

    /// The running process's id (nil when none runs).
    public var processIdentifier: Int32? { process.withLock { $0?.processIdentifier } }

    /// The exit status of the last process, once it has ended.
    public var exitStatus: Int32? { process.withLock { $0?.exitStatus } }

    /// Everything the gateway logged (for failure messages).
    public var output: String { process.withLock { $0?.output ?? "" } }

    /// SIGKILL: the gateway dies at once, as in a crash or power loss.
    public func kill() async {
        await process.withLock({ $0 })?.kill()
    }

    /// Waits until the process exits by itself; returns its status.
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        guard let child = process.withLock({ $0 }) else { return -1 }
        return try await child.waitForExit(timeout: timeout)
    }

    /// Sends `signal` (e.g. SIGHUP: reload the configuration).
    public func send(signal: Int32) {
        guard let child = process.withLock({ $0 }) else { return }
        Glibc.kill(child.processIdentifier, signal)
    }

    /// Waits until the gateway has logged `text` (since it was started).
    public func waitForOutput(_ text: String, timeout: Duration = .seconds(10)) async throws {
        guard let child = process.withLock({ $0 }) else { return }
        try await child.waitForOutput(text, timeout: timeout)
    }

    /// The folder of the desk's files (customers.json5, agents.json5, …).
    public var deskDirectory: String { directory + "/desk" }

    /// Fetches `path` from the gateway's loopback HTTP endpoint; returns the
    /// status line and the body.
    public func http(_ path: String) async throws -> (status: String, body: String) {
        let port = httpPort
        return try await offload {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.timeoutInterval = 10
            let semaphore = DispatchSemaphore(value: 0)
            let result = Mutex<(String, String)?>(nil)
            let failure = Mutex<(any Error)?>(nil)
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error { failure.withLock { $0 = error } }
                if let http = response as? HTTPURLResponse {
                    result.withLock { $0 = ("\(http.statusCode)", String(decoding: data ?? Data(), as: UTF8.self)) }
                }
                semaphore.signal()
            }.resume()
            semaphore.wait()
            if let error = failure.withLock({ $0 }) { throw error }
            guard let (status, body) = result.withLock({ $0 }) else {
                throw ChildProcessError(name: "switchboard", problem: "no HTTP response for \(path)", output: "")
            }
            return (status, body)
        }
    }

    /// Starts the gateway again on the same configuration and store.
    public func restart() async throws {
        await kill()
        try await launch()
    }

    /// Starts the gateway again after it died or was killed, and waits for
    /// `text` in its log (e.g. `standing by` for an instance that will not
    /// be the active one).
    public func relaunch(waitingFor text: String) async throws {
        await kill()
        try await launch(waitingFor: text)
    }

    /// SIGTERM and wait (it drains and QUITs); then removes the folder.
    public func stop() async {
        let child = process.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        await child?.stop(gracePeriod: .seconds(10))
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs `switchboard ARGS --config <this config>` to completion and returns its output.
    public func runCommand(_ arguments: [String]) async throws -> String {
        let child = try ChildProcess.launch(executable, arguments + ["--config", configPath], name: "switchboard-cli",
                                            environment: environment)
        _ = try await child.waitForExit(timeout: .seconds(60))
        try await child.waitForEndOfOutput(timeout: .seconds(10))
        return child.output
    }

    /// Runs `switchboard ARGS` until its output satisfies `done` or `timeout`
    /// passes, and returns the last output. For what the gateway records just
    /// after the chat line a test waited for (a page is marked sent after its
    /// step's lines were written), so a test does not race the store.
    public func runCommand(_ arguments: [String], until done: (String) -> Bool,
                           timeout: Duration = .seconds(5)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var output = try await runCommand(arguments)
        while !done(output), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            output = try await runCommand(arguments)
        }
        return output
    }

    /// The process's environment: the secrets the configuration names.
    private var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let sasl = network.sasl { environment["SWITCHBOARD_E2E_SASL"] = sasl.password }
        if let httpToken { environment["SWITCHBOARD_E2E_HTTP_TOKEN"] = httpToken }
        if let databaseURL { environment["SWITCHBOARD_E2E_DATABASE_URL"] = databaseURL }
        if let matrix = network.matrix { environment["SWITCHBOARD_E2E_MATRIX"] = matrix.password }
        return environment
    }

    private func launch(waitingFor text: String = "channel=#agents") async throws {
        let child = try ChildProcess.launch(
            executable, ["run", "--config", configPath, "--log-level", "debug"] + (instance.map { ["--instance", $0] } ?? []),
            name: "switchboard" + (instance.map { "-\($0)" } ?? ""), environment: environment)
        process.withLock { $0 = child }
        try await child.waitForOutput(text, timeout: .seconds(30))
        if network.matrix != nil && instance == nil {
            try await child.waitForOutput("syncing network=mx", timeout: .seconds(30))
        }
    }

    /// The repository's root, found from this file.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Writes the test configuration (see the type's documentation) into
    /// `directory`: `switchboard.json5`, `desk/`, the store path. Returns
    /// the path of `switchboard.json5`. Benchmarks run the gateway on it
    /// in-process. With `httpToken`, the HTTP endpoint needs the token in the
    /// environment variable `SWITCHBOARD_E2E_HTTP_TOKEN`; with `postgres`, the
    /// store is the database in `SWITCHBOARD_E2E_DATABASE_URL`.
    @discardableResult
    public static func writeConfiguration(directory: String, network: Network, httpPort: UInt16,
                                          httpToken: Bool = false, postgres: Bool = false) throws -> String {
        let configPath = directory + "/switchboard.json5"
        let root = Self.repositoryRoot
        let desk = directory + "/desk"
        try FileManager.default.createDirectory(atPath: desk, withIntermediateDirectories: true)
        for file in ["tiers.json5", "escalation.json5"] {
            try FileManager.default.copyItem(atPath: root.appendingPathComponent("config/\(file)").path,
                                             toPath: desk + "/" + file)
        }
        try customers.write(toFile: desk + "/customers.json5", atomically: true, encoding: .utf8)
        var agents = Self.agents
        if let matrix = network.matrix {
            for name in ["anna", "ben", "chris"] {
                agents = agents.replacingOccurrences(of: "accounts: { e2e: \"\(name)\" }",
                                                     with: "accounts: { e2e: \"\(name)\", mx: \"@\(name):\(matrix.serverName)\" }")
            }
        }
        try agents.write(toFile: desk + "/agents.json5", atomically: true, encoding: .utf8)
        let sasl = network.sasl.map {
            #"sasl: { mechanism: "PLAIN", account: "\#($0.account)", password: { env: "SWITCHBOARD_E2E_SASL" } },"#
        } ?? ""
        let gateway = """
            {
              desk: "desk",
              customers: ["customers.json5"],
              bots: "\(root.appendingPathComponent("bots").path)",
              store: \(postgres ? #"{ kind: "postgres", url: { env: "SWITCHBOARD_E2E_DATABASE_URL" } }"#
                         : #"{ path: "switchboard.sqlite" }"#),
              log: { format: "logfmt", level: "debug" },
              http: { listen: "127.0.0.1:\(httpPort)"\(httpToken ? #", auth: { token: { env: "SWITCHBOARD_E2E_HTTP_TOKEN" } }"# : "") },
              networks: [{
                name: "e2e",
                server: "127.0.0.1:\(network.port)",
                nick: "\(network.nick)",
                \(sasl)
                channels: [{ name: "#support" }, { name: "#agents" }],
                agentsChannel: "#agents",
                supportChannels: ["#support"],
                language: "en",
                identifyAgentsBy: "\(network.identifyAgentsByAccount ? "account" : "mask")",
                sendQueue: \(network.sendQueue),
              }\(matrixEntry(network.matrix))],
            }
            """
        try gateway.write(toFile: configPath, atomically: true, encoding: .utf8)
        return configPath
    }

    /// The `mx` entry of `networks`, after the IRC one (or nothing).
    static func matrixEntry(_ matrix: MatrixNetwork?) -> String {
        guard let matrix else { return "" }
        let rooms = matrix.rooms.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            , {
                kind: "matrix",
                name: "mx",
                homeserver: "\(matrix.homeserver.absoluteString)",
                user: "\(matrix.user)",
                password: { env: "SWITCHBOARD_E2E_MATRIX" },
                rooms: [\(rooms)],
                \(matrix.agentsRoom.map { "agentsRoom: \"\($0)\"," } ?? "")
                \(matrix.readReceipts ? "readReceipts: true," : "")
                language: "en",
              }
            """
    }

    static let customers = """
        {
          customers: [
            { number: "20001", name: "Kieler Werft AG",
              contract: { tier: "enterprise", from: "2020-01-01", until: "2099-12-31" },
              pinHash: "pbkdf2-sha256$10000$3CHDs/8OP7zP1lyBnFHfxQ==$sF+3jqWEs8wT8ithX36bFWGayLGUNubs2QChZgftPUI=" },
            { number: "20002", name: "Husumer Hafenbetriebe GmbH",
              contract: { tier: "enterprise", from: "2020-01-01", until: "2099-12-31" },
              pinHash: "pbkdf2-sha256$10000$vxHG6UkYj+ljukzFPv6nDA==$1EJt68yOzXC0zu8RkEhEK1ajh3likVyyLkLoA7j6y5M=" },
            { number: "20003", name: "Altes Kontor KG",
              contract: { tier: "basic", from: "2019-01-01", until: "2020-12-31" },
              pinHash: "pbkdf2-sha256$10000$g0a6dJPS+uAIvk5cHbkAgw==$mnIvciA5vz/AkWNuVELET/QwUPK/4EV2YtJ2WW0YZXk=" },
            { number: "20010", name: "Flensburg Reederei GmbH",
              contract: { tier: "enterprise", from: "2020-01-01", until: "2099-12-31" },
              accounts: [{ network: "e2e", account: "reederei" }] },
          ],
        }
        """

    static let agents = """
        {
          timeZone: "Europe/Berlin",
          agents: [
            { id: "anna", name: "Anna Berg", nick: "anna", accounts: { e2e: "anna" }, masks: ["anna!*@127.0.0.1"] },
            { id: "ben", name: "Ben Schröder", nick: "ben", accounts: { e2e: "ben" }, masks: ["ben!*@127.0.0.1"] },
            { id: "chris", name: "Chris Petersen", nick: "chris", accounts: { e2e: "chris" }, masks: ["chris!*@127.0.0.1"] },
          ],
          backup: "ben",
          rotation: { start: "2026-01-05", handover: { weekday: "monday", time: "09:00" }, order: ["anna"] },
          businessHours: {
            monday: ["08:00-18:00"], tuesday: ["08:00-18:00"], wednesday: ["08:00-18:00"],
            thursday: ["08:00-18:00"], friday: ["08:00-18:00"],
          },
        }
        """
}

/// Executables of this package, found next to the test runner.
public enum BuiltProducts {
    /// The path of the package's executable `name` (built by `swift build
    /// --build-tests` / `swift test`), or a clear error.
    public static func executable(named name: String) throws -> String {
        var directories: [URL] = []
        for executable in [CommandLine.arguments.first.map { URL(fileURLWithPath: $0) },
                           Bundle.main.executableURL,
                           URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()] {
            guard let executable else { continue }
            var directory = executable.deletingLastPathComponent()
            for _ in 0..<4 {
                directories.append(directory)
                directory = directory.deletingLastPathComponent()
            }
        }
        if let found = directories.lazy.map({ $0.appendingPathComponent(name) })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found.path
        }
        throw ChildProcessError(name: name, problem: "\(name) is not built next to the test runner "
            + "(searched \(directories.map(\.path).joined(separator: ", "))); run `swift build --build-tests`",
            output: "")
    }
}
