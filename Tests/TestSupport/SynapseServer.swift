import Foundation
import Synchronization

/// A real Synapse homeserver (PyPI `matrix-synapse`, installed into a venv
/// outside the repository by `scripts/ensure-test-servers`) on a free
/// loopback port, for end-to-end tests of the Matrix adapter.
///
/// It writes its own configuration into a fresh temporary folder: server
/// name `localhost`, an SQLite database, one plain-HTTP client listener on
/// 127.0.0.1, a registration shared secret, and every rate limit raised so
/// tests are never throttled (`rc_message`, `rc_login`, joins, invites), and
/// passwords hashed with bcrypt's fewest rounds (4, not the default 12), so
/// registrations and password logins cost the loaded test machine little. It
/// generates a signing key, starts `python -m synapse.app.homeserver` and
/// waits until `/_matrix/client/versions` answers. Users are registered
/// with the shared secret (the admin register API, HMAC-SHA1). Not
/// installed: `start` fails with a message saying so (tests never skip).
///
/// ``Options`` choose the database (SQLite by default; PostgreSQL, as
/// Synapse's documentation asks of production homeservers), a trace of
/// every database transaction in the log, and whether Synapse's background
/// work that no test needs (sending to other servers, the user directory,
/// room statistics) is turned off.
public final class SynapseServer: Sendable {
    /// How the homeserver is set up beyond the fixed test configuration.
    public struct Options: Sendable {
        /// Where Synapse keeps its data.
        public enum Database: Sendable, CustomStringConvertible {
            /// One SQLite file in the server's folder. Synapse then has one
            /// database connection: every query of every request and
            /// background job waits for it in turn.
            case sqlite
            /// A database made on this PostgreSQL server (`LC_COLLATE=C`,
            /// `LC_CTYPE=C`, UTF8, as Synapse requires), through a pool of
            /// connections (`psycopg2-binary` in the venv).
            case postgres(PostgresServer)

            public var description: String {
                switch self {
                case .sqlite: "SQLite (one connection)"
                case .postgres: "PostgreSQL (a pool of 5–10 connections)"
                }
            }
        }

        public var database: Database = .sqlite
        /// Logs every database transaction (`synapse.storage.txn` at DEBUG:
        /// `[TXN START] {name}` / `[TXN END] {name} seconds`, with the
        /// request or background job it ran for), to find what holds the
        /// database while a request waits for it.
        public var traceDatabase = false
        /// Turns off what only a federated or searchable homeserver needs:
        /// the federation sender (`federation_sender_instances: []`), the
        /// user directory and room statistics. Each otherwise runs database
        /// work after every event.
        public var withoutFederationAndDirectory = false

        public init(database: Database = .sqlite, traceDatabase: Bool = false,
                    withoutFederationAndDirectory: Bool = false) {
            self.database = database
            self.traceDatabase = traceDatabase
            self.withoutFederationAndDirectory = withoutFederationAndDirectory
        }
    }

    public let host = "127.0.0.1"
    public let port: UInt16
    /// The homeserver's name: user ids are `@name:localhost`.
    public let serverName = "localhost"
    public let directory: String
    public let sharedSecret: String
    public let options: Options
    private let python: String
    private let process = Mutex<ChildProcess?>(nil)

    /// The venv with Synapse: `SWITCHBOARD_SYNAPSE_VENV` or the default.
    public static var venv: String {
        ProcessInfo.processInfo.environment["SWITCHBOARD_SYNAPSE_VENV"] ?? "/opt/switchboard-test/synapse-venv"
    }

    /// `http://127.0.0.1:PORT`.
    public var url: URL { URL(string: "http://\(host):\(port)")! }

    /// `@name:localhost`.
    public func userID(_ name: String) -> String { "@\(name):\(serverName)" }

    /// Starts a homeserver on a free port; returns once it answers.
    public static func start(_ options: Options = Options()) async throws -> SynapseServer {
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python),
              FileManager.default.fileExists(atPath: venv + "/bin/synapse_homeserver") else {
            throw ChildProcessError(name: "synapse", problem: "Synapse is not installed in \(venv) "
                + "(run scripts/ensure-test-servers, which installs matrix-synapse from PyPI into that venv)",
                output: "")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-synapse-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = SynapseServer(port: try FreePort.next(), directory: directory, python: python,
                                   sharedSecret: UUID().uuidString, options: options)
        do {
            if case .postgres(let postgres) = options.database { try await server.createDatabase(on: postgres) }
            try server.writeConfiguration()
            let keys = try await ChildProcess.runToCompletion(
                python, ["-m", "synapse.app.homeserver", "-c", server.configurationPath, "--generate-keys"])
            guard keys.status == 0 else {
                throw ChildProcessError(name: "synapse", problem: "generating keys failed", output: keys.output)
            }
            try await server.startProcess()
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    private init(port: UInt16, directory: String, python: String, sharedSecret: String, options: Options) {
        self.port = port
        self.directory = directory
        self.python = python
        self.sharedSecret = sharedSecret
        self.options = options
    }

    /// The database's name on a PostgreSQL server (one per homeserver).
    private var postgresDatabase: String { "synapse_" + String(port) }

    /// Makes this homeserver's database with the collation Synapse demands
    /// (it refuses any other than `C`) from `template0`, whose locale may
    /// differ from the cluster's.
    private func createDatabase(on postgres: PostgresServer) async throws {
        let check = try await ChildProcess.runToCompletion(python, ["-c", "import psycopg2"])
        guard check.status == 0 else {
            throw ChildProcessError(name: "synapse", problem: "psycopg2 is not installed in \(Self.venv) (run "
                + "scripts/ensure-test-servers, which installs psycopg2-binary there)", output: check.output)
        }
        let result = try await ChildProcess.runToCompletion(postgres.binaries + "/createdb", [
            "-h", postgres.host, "-p", String(postgres.port), "-U", "postgres", "-E", "UTF8",
            "--lc-collate=C", "--lc-ctype=C", "-T", "template0", postgresDatabase,
        ])
        guard result.status == 0 else {
            throw ChildProcessError(name: "createdb", problem: "exited with status \(result.status)",
                                    output: result.output)
        }
    }

    public var configurationPath: String { directory + "/homeserver.yaml" }

    /// Everything Synapse wrote (for failure messages).
    public var output: String { process.withLock { $0?.output ?? "" } }

    /// Registers users (name → password) with the shared secret; returns
    /// their user ids in order.
    @discardableResult
    public func register(_ users: [(name: String, password: String)]) async throws -> [String] {
        let script = directory + "/register.py"
        try Self.registerScript.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.runToCompletion(
            python, [script, url.absoluteString, sharedSecret] + users.map { "\($0.name):\($0.password)" })
        guard result.status == 0 else {
            throw ChildProcessError(name: "synapse register", problem: "exit \(result.status)", output: result.output)
        }
        return users.map { userID($0.name) }
    }

    /// Stops the homeserver and removes its folder. Idempotent.
    public func stop() async {
        let child = process.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        await child?.stop(gracePeriod: .seconds(5))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a fresh homeserver and stops it however `body` ends.
    public static func with<T>(_ body: (SynapseServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    private func startProcess() async throws {
        let child = try ChildProcess.launch(python, ["-m", "synapse.app.homeserver", "-c", configurationPath],
                                            name: "synapse")
        process.withLock { $0 = child }
        try await child.waitUntilAccepting(port: port, host: host, timeout: .seconds(60))
        try await child.waitForOutput("Synapse now listening", timeout: .seconds(60))
    }

    private func writeConfiguration() throws {
        let unlimited = "{per_second: 10000, burst_count: 10000}"
        let text = """
            # Written by Switchboard's SynapseServer test fixture.
            server_name: "\(serverName)"
            pid_file: \(directory)/homeserver.pid
            listeners:
              - port: \(port)
                bind_addresses: ['\(host)']
                type: http
                tls: false
                x_forwarded: false
                resources:
                  - names: [client]
                    compress: false
            \(databaseSection)
            media_store_path: \(directory)/media
            signing_key_path: \(directory)/signing.key
            registration_shared_secret: "\(sharedSecret)"
            report_stats: false
            bcrypt_rounds: 4
            trusted_key_servers: []
            suppress_key_server_warning: true
            enable_metrics: false
            presence:
              enabled: false
            rc_message: \(unlimited)
            rc_login:
              address: \(unlimited)
              account: \(unlimited)
              failed_attempts: \(unlimited)
            rc_joins:
              local: \(unlimited)
              remote: \(unlimited)
            rc_invites:
              per_room: \(unlimited)
              per_user: \(unlimited)
              per_issuer: \(unlimited)
            rc_registration: \(unlimited)
            rc_admin_redaction: \(unlimited)
            rc_joins_per_room: \(unlimited)
            rc_3pid_validation: \(unlimited)
            \(backgroundSection)
            """
        try text.write(toFile: configurationPath, atomically: true, encoding: .utf8)
        if options.traceDatabase {
            try Self.tracingLogConfiguration.write(toFile: directory + "/log.yaml", atomically: true, encoding: .utf8)
        }
    }

    /// The `database:` section for ``Options/database``.
    private var databaseSection: String {
        switch options.database {
        case .sqlite:
            return """
                database:
                  name: sqlite3
                  args:
                    database: \(directory)/homeserver.db
                """
        case .postgres(let postgres):
            return """
                database:
                  name: psycopg2
                  args:
                    user: postgres
                    database: \(postgresDatabase)
                    host: \(postgres.host)
                    port: \(postgres.port)
                    cp_min: 5
                    cp_max: 10
                """
        }
    }

    /// ``Options/withoutFederationAndDirectory`` and
    /// ``Options/traceDatabase`` as configuration lines.
    private var backgroundSection: String {
        var lines: [String] = []
        if options.withoutFederationAndDirectory {
            lines += ["federation_sender_instances: []", "user_directory:", "  enabled: false",
                      "stats:", "  enabled: false"]
        }
        if options.traceDatabase { lines.append("log_config: \(directory)/log.yaml") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Python logging for ``Options/traceDatabase``: Synapse's own line
    /// format (time to the millisecond, logger, request or background job)
    /// on standard error, with database transactions at DEBUG.
    static let tracingLogConfiguration = """
        version: 1
        formatters:
          precise:
            format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
        handlers:
          console:
            class: logging.StreamHandler
            formatter: precise
        loggers:
          synapse.storage.txn:
            level: DEBUG
        root:
          level: INFO
          handlers: [console]
        disable_existing_loggers: false

        """

    /// The admin register API with the shared secret (HMAC-SHA1 over
    /// nonce, user, password and "notadmin", NUL-separated).
    static let registerScript = #"""
        import hmac, hashlib, json, sys, urllib.request
        base, secret = sys.argv[1].rstrip("/"), sys.argv[2].encode()
        for spec in sys.argv[3:]:
            user, password = spec.split(":", 1)
            url = base + "/_synapse/admin/v1/register"
            nonce = json.load(urllib.request.urlopen(url))["nonce"]
            mac = hmac.new(secret, digestmod=hashlib.sha1)
            mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
            body = json.dumps({"nonce": nonce, "username": user, "password": password, "admin": False,
                               "mac": mac.hexdigest()}).encode()
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            print(json.load(urllib.request.urlopen(request))["user_id"])
        """#
}
