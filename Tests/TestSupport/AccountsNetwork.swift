import Foundation
import Glibc

/// A real IRC network with services accounts on loopback, for end-to-end
/// tests of SASL and account tracking: InspIRCd 3 (Debian `inspircd`) and
/// Atheme 7.2 (Debian `atheme-services`) linked to it, with NickServ and
/// SaslServ (SASL PLAIN).
///
/// It renders its configuration from the templates in
/// `Tests/TestSupport/Fixtures/accounts/` into a fresh temporary folder, on
/// two free ports (clients, services link) and with a random link password;
/// starts `inspircd --nofork --nopid` (with `--runasroot` when run as root,
/// which InspIRCd otherwise refuses), then `atheme-services -n`; and waits
/// until the network is usable: a client sees the `sasl` capability (InspIRCd
/// offers it only while services are linked) and NickServ and SaslServ are
/// online. `stop()` ends both and removes the folder.
///
/// Timing: InspIRCd completes registrations on a once-a-second tick, so each
/// client costs up to a second; connect a test's clients in parallel.
public final class AccountsNetwork: Sendable {
    public let host = "127.0.0.1"
    public let port: UInt16
    public let linkPort: UInt16
    public let directory: String
    private let inspircd: ChildProcess
    private let atheme: ChildProcess

    /// Starts both daemons and waits until SASL works (at most `timeout`).
    public static func start(timeout: Duration = .seconds(40)) async throws -> AccountsNetwork {
        let inspircdPath = try ChildProcess.locate("inspircd")
        let athemePath = try ChildProcess.locate("atheme-services")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-accounts-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try FreePort.next()
        var linkPort = try FreePort.next()
        while linkPort == port { linkPort = try FreePort.next() }
        let password = (0..<24).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        let values = ["@DIR@": directory, "@CLIENT_PORT@": String(port), "@LINK_PORT@": String(linkPort),
                      "@LINK_PASS@": password]
        for name in ["inspircd.conf", "atheme.conf"] {
            var text = try String(contentsOfFile: templateDirectory + "/" + name + ".template", encoding: .utf8)
            for (key, value) in values { text = text.replacingOccurrences(of: key, with: value) }
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try "Switchboard accounts test network\n".write(toFile: directory + "/motd.txt", atomically: true,
                                                        encoding: .utf8)
        let asRoot = getuid() == 0 ? ["--runasroot"] : []
        let inspircd = try ChildProcess.launch(
            inspircdPath, ["--nofork", "--nopid"] + asRoot + ["--config=\(directory)/inspircd.conf"], name: "inspircd")
        do {
            try await inspircd.waitUntilAccepting(port: port, timeout: timeout)
        } catch {
            await inspircd.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let atheme: ChildProcess
        do {
            atheme = try ChildProcess.launch(
                athemePath, ["-n", "-c", "\(directory)/atheme.conf", "-D", directory, "-l", "\(directory)/atheme.log",
                             "-p", "\(directory)/atheme.pidfile"], name: "atheme-services")
        } catch {
            await inspircd.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let network = AccountsNetwork(port: port, linkPort: linkPort, directory: directory, inspircd: inspircd,
                                      atheme: atheme)
        do {
            try await network.waitUntilReady(timeout: timeout)
        } catch {
            await network.stop()
            throw error
        }
        return network
    }

    private init(port: UInt16, linkPort: UInt16, directory: String, inspircd: ChildProcess, atheme: ChildProcess) {
        self.port = port
        self.linkPort = linkPort
        self.directory = directory
        self.inspircd = inspircd
        self.atheme = atheme
    }

    /// Runs `body` with a fresh network and stops it however `body` ends.
    public static func with<T>(_ body: (AccountsNetwork) async throws -> T) async throws -> T {
        let network = try await start()
        do {
            let result = try await body(network)
            await network.stop()
            return result
        } catch {
            await network.stop()
            throw error
        }
    }

    /// Stops both daemons and removes the folder. Idempotent.
    public func stop() async {
        await atheme.stop(gracePeriod: .seconds(3))
        await inspircd.stop(gracePeriod: .seconds(3))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Registers accounts with NickServ (`REGISTER <password> <email>`), each
    /// from its own connection, all at once. Throws what NickServ said when
    /// one fails.
    public func registerAccounts(_ accounts: [(name: String, password: String)]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for account in accounts {
                group.addTask { try await self.registerAccount(account.name, password: account.password) }
            }
            try await group.waitForAll()
        }
    }

    /// Registers one account with NickServ, connecting as its name.
    public func registerAccount(_ name: String, password: String) async throws {
        let client = try await IRCTestClient(port: port, nick: name, timeout: .seconds(15))
        defer { client.close() }
        client.privmsg("NickServ", "REGISTER \(password) \(name)@example.com")
        let reply = try await client.expect("NickServ's answer to REGISTER", timeout: .seconds(15)) {
            $0.command == "NOTICE" && $0.nick == "NickServ"
        }
        let text = reply.text.replacingOccurrences(of: "\u{2}", with: "")
        guard text.contains("is now registered") else {
            throw IRCTestClientError(description: "NickServ did not register \(name): \(text)")
        }
    }

    /// The daemons' logs, for failure messages.
    public var logs: String {
        let files = ["inspircd.log", "atheme.log"].map { name -> String in
            let text = (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
        }
        return (["--- inspircd output\n" + inspircd.output, "--- atheme output\n" + atheme.output] + files)
            .joined(separator: "\n")
    }

    // MARK: Readiness

    private func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last = "no attempt yet"
        while ContinuousClock.now < deadline {
            if !inspircd.isRunning || !atheme.isRunning {
                throw ChildProcessError(name: "accounts network", problem: "a daemon exited at start", output: logs)
            }
            do {
                // Requesting sasl fails (NAK) until services are linked.
                let probe = try await IRCTestClient(port: port, nick: "probe\(Int.random(in: 1000...9999))",
                                                    caps: ["sasl"], timeout: .seconds(5))
                defer { probe.close() }
                probe.send("ISON NickServ SaslServ")
                let reply = try await probe.expect("ISON reply", timeout: .seconds(5)) { $0.command == "303" }
                let online = Set(reply.text.lowercased().split(separator: " ").map(String.init))
                if online.isSuperset(of: ["nickserv", "saslserv"]) { return }
                last = "online: \(online.sorted())"
            } catch {
                last = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChildProcessError(name: "accounts network", problem: "not usable within \(timeout): \(last)",
                                output: logs)
    }

    /// `Tests/TestSupport/Fixtures/accounts`, found from this file's path.
    static let templateDirectory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/accounts").path
    }()
}
