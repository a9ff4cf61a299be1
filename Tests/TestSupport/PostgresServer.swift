import Foundation
import Glibc
import Synchronization

/// A real PostgreSQL server (Debian package `postgresql`) on a free loopback
/// port, for the PostgreSQL store's tests and benchmark.
///
/// `initdb` makes a fresh cluster in a temporary folder and `postgres` runs
/// in the foreground under ``ChildProcess`` (like ``NgircdServer``; `pg_ctl`
/// would leave a daemon the test cannot supervise), listening on 127.0.0.1
/// only, with trust authentication for the `postgres` user; `start` returns
/// once `pg_isready` says it takes queries. PostgreSQL refuses to run as
/// root, so when the tests run as root both run as the `postgres` user
/// (`setpriv`, which execs in place, so signals reach postgres itself) and
/// the folder is given to it. The binaries are found in the newest `/usr/lib/postgresql/N/bin`
/// (Debian keeps them off `PATH`), else on `PATH`. Not installed: `start`
/// fails saying so — tests never skip (`scripts/ensure-test-servers`
/// installs it).
///
/// ``shared()`` starts one server per test process (about a second) and
/// stops it when the process exits; tests make a database each with
/// ``createDatabase(_:)``.
public final class PostgresServer: Sendable {
    public let host = "127.0.0.1"
    public let port: UInt16
    /// The temporary folder holding the cluster (`data/`).
    public let directory: String
    /// The folder of `initdb`, `pg_ctl`, `createdb`.
    public let binaries: String
    /// Whether commits wait for the disk (`fsync`): on for the benchmark,
    /// off for tests (they kill clients, not the server, so it changes nothing they check).
    public let durable: Bool
    private let runAsPostgres: Bool
    private let stopped = Mutex(false)
    private let process = Mutex<ChildProcess?>(nil)

    private static let sharedServer = Mutex<Task<PostgresServer, any Error>?>(nil)

    /// The server of this test process, started on first use and stopped
    /// when the process exits.
    public static func shared() async throws -> PostgresServer {
        let task = sharedServer.withLock { current -> Task<PostgresServer, any Error> in
            if let current { return current }
            let task = Task { () throws -> PostgresServer in
                let server = try await PostgresServer.start(durable: false)
                PostgresServer.stopAtExit(server)
                return server
            }
            current = task
            return task
        }
        return try await task.value
    }

    /// Starts a new cluster on a free port. The caller stops it.
    public static func start(durable: Bool) async throws -> PostgresServer {
        let binaries = try locateBinaries()
        let root = geteuid() == 0
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-postgres-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = PostgresServer(port: try FreePort.next(), directory: directory, binaries: binaries,
                                    durable: durable, runAsPostgres: root)
        do {
            if root {
                guard let user = getpwnam("postgres") else {
                    throw ChildProcessError(name: "postgres", problem: "there is no user 'postgres' to run "
                        + "PostgreSQL as (it refuses root); install the postgresql package", output: "")
                }
                guard chown(directory, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                    throw SystemCallError("chown \(directory)")
                }
            }
            try await server.command("initdb", ["-D", server.dataDirectory, "-U", "postgres", "--auth=trust",
                                                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
            let settings = [
                "listen_addresses = '127.0.0.1'", "port = \(server.port)",
                "unix_socket_directories = '\(directory)'", "fsync = \(durable ? "on" : "off")",
                "synchronous_commit = on", "full_page_writes = \(durable ? "on" : "off")",
                "max_connections = 200", "shared_buffers = 64MB",
            ].joined(separator: "\n") + "\n"
            let configuration = server.dataDirectory + "/postgresql.conf"
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: configuration))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
            try await server.startProcess()
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    private init(port: UInt16, directory: String, binaries: String, durable: Bool, runAsPostgres: Bool) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.durable = durable
        self.runAsPostgres = runAsPostgres
    }

    public var dataDirectory: String { directory + "/data" }

    /// The URL of `database` on this server, as the store takes it.
    public func url(database: String) -> String {
        "postgresql://postgres@\(host):\(port)/\(database)"
    }

    /// Creates a database (the name must be a plain identifier: letters,
    /// digits, underscore) and returns its URL. One that exists is kept.
    @discardableResult
    public func createDatabase(_ name: String) async throws -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || isalnum(Int32($0)) != 0 }) else {
            throw ChildProcessError(name: "createdb", problem: "'\(name)' is not a plain database name", output: "")
        }
        let result = try await ChildProcess.runToCompletion(
            binaries + "/createdb", ["-h", host, "-p", String(port), "-U", "postgres", name])
        if result.status != 0 && !result.output.contains("already exists") {
            throw ChildProcessError(name: "createdb", problem: "exited with status \(result.status)",
                                    output: result.output)
        }
        return url(database: name)
    }

    /// Turns TLS on with this certificate and key (copied into the server's
    /// folder, owned by the server's user, key mode 0600 as PostgreSQL
    /// demands) and reloads the configuration (SIGHUP). Returns once a TLS
    /// handshake can succeed (the caller's connection checks that).
    public func enableTLS(certificate: String, privateKey: String) async throws {
        let certificateCopy = directory + "/server.crt"
        let keyCopy = directory + "/server.key"
        for (from, to) in [(certificate, certificateCopy), (privateKey, keyCopy)] {
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
            guard chmod(to, 0o600) == 0 else { throw SystemCallError("chmod \(to)") }
            if runAsPostgres, let user = getpwnam("postgres") {
                guard chown(to, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                    throw SystemCallError("chown \(to)")
                }
            }
        }
        let settings = "ssl = on\nssl_cert_file = '\(certificateCopy)'\nssl_key_file = '\(keyCopy)'\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
        guard let child = process.withLock({ $0 }), child.isRunning else {
            throw ChildProcessError(name: "postgres", problem: "not running", output: "")
        }
        let before = log.components(separatedBy: "received SIGHUP").count
        Glibc.kill(child.processIdentifier, SIGHUP)
        // The reload is logged once it is done.
        for _ in 0..<200 {
            if log.components(separatedBy: "received SIGHUP").count > before {
                try await Task.sleep(for: .milliseconds(200))
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ChildProcessError(name: "postgres", problem: "did not reload its configuration", output: child.output)
    }

    /// The server's log (for failure messages).
    public var log: String { process.withLock { $0 }?.output ?? "" }

    /// Stops the server (fast shutdown: SIGINT) and removes its folder. Idempotent.
    public func stop() async {
        if stopped.withLock({ (done: inout Bool) -> Bool in defer { done = true }; return done }) { return }
        if let child = process.withLock({ $0 }), child.isRunning {
            Glibc.kill(child.processIdentifier, SIGINT)
            if (try? await child.waitForExit(timeout: .seconds(20))) == nil { await child.kill() }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// ``stop()`` for a process that is exiting (no async context left):
    /// immediate shutdown (SIGQUIT), then the folder is removed.
    public func stopBlocking() {
        if stopped.withLock({ (done: inout Bool) -> Bool in defer { done = true }; return done }) { return }
        if let child = process.withLock({ $0 }), child.isRunning {
            Glibc.kill(child.processIdentifier, SIGQUIT)
            for _ in 0..<200 where child.isRunning { usleep(10_000) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `postgres` in the foreground under ``ChildProcess`` (as the
    /// `postgres` user when root) and waits until it accepts connections.
    private func startProcess() async throws {
        let executable = binaries + "/postgres"
        let arguments = ["-D", dataDirectory]
        let child = runAsPostgres
            ? try ChildProcess.launch(try ChildProcess.locate("setpriv"),
                                      Self.asPostgres + [executable] + arguments, name: "postgres")
            : try ChildProcess.launch(executable, arguments, name: "postgres")
        process.withLock { $0 = child }
        try await child.waitUntilAccepting(port: port, host: host, timeout: .seconds(60))
        // Accepting is not yet ready for queries (startup recovery): wait for pg_isready.
        for _ in 0..<600 {
            let ready = try await ChildProcess.runToCompletion(
                binaries + "/pg_isready", ["-h", host, "-p", String(port), "-U", "postgres"])
            if ready.status == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ChildProcessError(name: "postgres", problem: "not ready after 30 s", output: child.output)
    }

    /// `setpriv` arguments that run a command as the `postgres` user (it
    /// execs the command in place: no extra process between us and postgres).
    private static let asPostgres = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"]

    private func command(_ name: String, _ arguments: [String]) async throws {
        let executable = binaries + "/" + name
        let (program, fullArguments) = runAsPostgres
            ? (try ChildProcess.locate("setpriv"), Self.asPostgres + [executable] + arguments)
            : (executable, arguments)
        let result = try await ChildProcess.runToCompletion(program, fullArguments, timeout: .seconds(90))
        guard result.status == 0 else {
            throw ChildProcessError(name: name, problem: "exited with status \(result.status); server log: \(log)",
                                    output: result.output)
        }
    }

    /// The newest `/usr/lib/postgresql/N/bin` with `initdb`, else the
    /// folder of `initdb` on `PATH`.
    static func locateBinaries() throws -> String {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where access("\(base)/\(version)/bin/initdb", X_OK) == 0 {
            return "\(base)/\(version)/bin"
        }
        if let initdb = try? ChildProcess.locate("initdb") {
            let resolved = URL(fileURLWithPath: initdb).resolvingSymlinksInPath()
            return resolved.deletingLastPathComponent().path
        }
        throw ChildProcessError(name: "initdb", problem: "PostgreSQL is not installed: no \(base)/N/bin/initdb "
            + "and no initdb on PATH (run scripts/ensure-test-servers, or apt-get install postgresql)", output: "")
    }

    // The shared server, stopped by an atexit handler (a C function: no captures).
    private static let atExit = Mutex<PostgresServer?>(nil)

    private static func stopAtExit(_ server: PostgresServer) {
        atExit.withLock { $0 = server }
        atexit {
            PostgresServer.atExit.withLock { $0 }?.stopBlocking()
        }
    }
}
