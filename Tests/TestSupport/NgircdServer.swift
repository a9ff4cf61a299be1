import Foundation
import Glibc
import Synchronization

/// A real ngIRCd (Debian package `ngircd`) on a free loopback port, for
/// end-to-end tests of the IRC client.
///
/// It writes its own configuration into a fresh temporary folder — flood
/// control off (`MaxPenaltyTime = 0`) and no per-IP connection limit
/// (`MaxConnectionsIP = 0`), so tests are never throttled; no PID file (run
/// as root, ngircd drops to `nobody`, who could not write one) — and runs
/// `ngircd -n -f CONF` in the foreground under ``ChildProcess``. It can be
/// killed and started again on the same port (to test reconnects), and
/// `stop()` ends it and removes the folder. Not installed: `start` fails
/// with a message saying so (tests never skip).
public final class NgircdServer: Sendable {
    public let host = "127.0.0.1"
    public let port: UInt16
    /// The server's name (the source of its numerics).
    public let name: String
    /// The temporary folder holding `ngircd.conf`.
    public let directory: String
    private let process = Mutex<ChildProcess?>(nil)
    private let executable: String

    /// Starts a server on a free port and waits until it accepts connections.
    public static func start(name: String = "irc.switchboard.test") async throws -> NgircdServer {
        let executable = try ChildProcess.locate("ngircd")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-ngircd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = NgircdServer(port: try FreePort.next(), name: name, directory: directory, executable: executable)
        do {
            try server.writeConfiguration()
            try await server.startProcess()
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    private init(port: UInt16, name: String, directory: String, executable: String) {
        self.port = port
        self.name = name
        self.directory = directory
        self.executable = executable
    }

    public var configurationPath: String { directory + "/ngircd.conf" }

    /// Whether the daemon runs now.
    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// Everything the daemon wrote (for failure messages).
    public var output: String { process.withLock { $0?.output ?? "" } }

    /// Kills the daemon at once (SIGKILL): every client sees its connection
    /// drop, as when a server crashes.
    public func kill() async {
        await process.withLock({ $0 })?.kill()
    }

    /// Starts the daemon again on the same port (after `kill()`).
    public func restart() async throws {
        await kill()
        try await startProcess()
    }

    /// Stops the daemon and removes its folder. Idempotent.
    public func stop() async {
        let child = process.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        await child?.stop(gracePeriod: .seconds(2))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a fresh server and stops it however `body` ends.
    public static func with<T>(_ body: (NgircdServer) async throws -> T) async throws -> T {
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
        let child = try ChildProcess.launch(executable, ["-n", "-f", configurationPath], name: "ngircd")
        process.withLock { $0 = child }
        try await child.waitUntilAccepting(port: port, host: host, timeout: .seconds(20))
    }

    private func writeConfiguration() throws {
        let text = """
            # Written by Switchboard's NgircdServer test fixture.
            [Global]
            \tName = \(name)
            \tInfo = Switchboard test server
            \tAdminInfo1 = Switchboard tests
            \tAdminInfo2 = localhost
            \tAdminEMail = tests@localhost
            \tListen = \(host)
            \tPorts = \(port)
            \tMotdPhrase = "Switchboard end-to-end test server"
            [Limits]
            \tMaxConnectionsIP = 0
            \tMaxPenaltyTime = 0
            \tMaxJoins = 0
            \tMaxNickLength = 30
            \tPingTimeout = 120
            \tPongTimeout = 30
            [Options]
            \tDNS = no
            \tIdent = no
            \tPAM = no
            \tOperCanUseMode = yes

            """
        try text.write(toFile: configurationPath, atomically: true, encoding: .utf8)
    }
}
