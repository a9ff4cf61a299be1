import Foundation
import Synchronization

/// A real Synapse homeserver (PyPI `matrix-synapse`, installed into a venv
/// outside the repository by `scripts/ensure-test-servers`) on a free
/// loopback port, for end-to-end tests of the Matrix adapter.
///
/// It writes its own configuration into a fresh temporary folder: server
/// name `localhost`, an SQLite database, one plain-HTTP client listener on
/// 127.0.0.1, a registration shared secret, and every rate limit raised so
/// tests are never throttled (`rc_message`, `rc_login`, joins, invites). It
/// generates a signing key, starts `python -m synapse.app.homeserver` and
/// waits until `/_matrix/client/versions` answers. Users are registered
/// with the shared secret (the admin register API, HMAC-SHA1). Not
/// installed: `start` fails with a message saying so (tests never skip).
public final class SynapseServer: Sendable {
    public let host = "127.0.0.1"
    public let port: UInt16
    /// The homeserver's name: user ids are `@name:localhost`.
    public let serverName = "localhost"
    public let directory: String
    public let sharedSecret: String
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
    public static func start() async throws -> SynapseServer {
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
                                   sharedSecret: UUID().uuidString)
        do {
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

    private init(port: UInt16, directory: String, python: String, sharedSecret: String) {
        self.port = port
        self.directory = directory
        self.python = python
        self.sharedSecret = sharedSecret
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
            database:
              name: sqlite3
              args:
                database: \(directory)/homeserver.db
            media_store_path: \(directory)/media
            signing_key_path: \(directory)/signing.key
            registration_shared_secret: "\(sharedSecret)"
            report_stats: false
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

            """
        try text.write(toFile: configurationPath, atomically: true, encoding: .utf8)
    }

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
