import Core
import Desk
import DeskFiles
import PINHashing
import Foundation
@testable import Gateway
import Testing

/// The repository's root, found from this file.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct GatewayConfigurationTests {
    /// Writes `text` as a configuration file in a fresh folder and loads it.
    func load(_ text: String) throws -> GatewayConfiguration {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("switchboard.json5")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try GatewayConfiguration.load(from: file)
    }

    func errors(_ text: String) -> String {
        do {
            _ = try load(text)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func theShippedDemoConfigurationLoads() throws {
        let configuration = try GatewayConfiguration.load(
            from: repositoryRoot.appendingPathComponent(GatewayConfiguration.defaultPath))
        #expect(configuration.networks.map(\.name) == ["demo"])
        let demo = try #require(configuration.networks.first?.irc)
        #expect(demo.host == "127.0.0.1" && demo.port == 6667 && demo.tls == nil)
        #expect(demo.agentsChannel == "#agents")
        #expect(!demo.identifyAgentsByAccount)
        #expect(demo.sendQueue == .fast)
        #expect(configuration.deskFolder.path == repositoryRoot.appendingPathComponent("config").path)
        #expect(configuration.botsFolder.path == repositoryRoot.appendingPathComponent("bots").path)
        #expect(configuration.http == .init(host: "127.0.0.1", port: 9464))
        #expect(configuration.customerFiles.map(\.lastPathComponent) == ["customers.json5", "customers.csv"])
        // The desk files it names load too.
        _ = try DeskFiles.load(configuration.deskPaths, verifier: PBKDF2PINVerifier())
    }

    @Test func aNetworkNamesItsKindIRCByDefault() throws {
        let explicit = try load("""
            { customers: ["customers.json5"], networks: [{ kind: "irc", name: "libera", server: "irc.libera.chat", nick: "nl" }] }
            """)
        #expect(explicit.networks.first?.irc?.host == "irc.libera.chat")
        let text = errors("""
            { customers: ["customers.json5"], networks: [{ name: "libera", server: "irc.libera.chat", nick: "nl" },
                         { kind: "xmpp", name: "jabber", server: "x.example", nick: "nl" }] }
            """)
        #expect(text.contains("switchboard.json5:2:"), "\(text)")
        #expect(text.contains("networks[1].kind: unknown network kind \"xmpp\" (kinds: irc, matrix)"), "\(text)")
    }

    @Test func defaultsForARealNetworkAreSafe() throws {
        let c = try load("""
            { customers: ["customers.json5"],
              networks: [{ name: "libera", server: "irc.libera.chat", tls: {}, nick: "nl-support",
                           sasl: { mechanism: "plain", account: "nl", password: { env: "NL_PW" } } }] }
            """)
        let n = try #require(c.networks.first?.irc)
        #expect(n.port == 6697, "TLS defaults to 6697")
        #expect(n.tls?.verify == true, "certificates are verified unless switched off")
        #expect(n.sendQueue == .standard)
        #expect(n.sasl?.required == true)
        #expect(n.sasl?.password == .environment("NL_PW"))
        #expect(n.identifyAgentsByAccount, "a network with SASL identifies agents by account")
        #expect(c.log.format == .logfmt && c.log.level == .info)
    }

    @Test func errorsNameTheFileLineAndField() {
        let text = errors("""
            {
              networks: [{
                name: "demo",
                server: "127.0.0.1:99999",
                nick: "9lives",
              }],
            }
            """)
        #expect(text.contains("switchboard.json5:4"), "line of the bad server: \(text)")
        #expect(text.contains("networks[0].server"))
        #expect(text.contains("expected host:port"))
        #expect(text.contains("networks[0].nick"))
        #expect(text.contains("\"9lives\" is not a valid IRC nick"))
    }

    @Test func unknownKeysAreErrors() {
        let text = errors(#"{ networks: [{ name: "a", server: "h:1", nick: "bot", chanels: [] }] }"#)
        #expect(text.contains("chanels"), "\(text)")
    }

    @Test func secretsMustComeFromTheEnvironmentOrAFile() {
        let text = errors("""
            { networks: [{ name: "a", server: "h:1", nick: "bot",
                           sasl: { mechanism: "PLAIN", account: "bot", password: { env: "X", file: "y" } } }] }
            """)
        #expect(text.contains("networks[0].sasl.password"), "\(text)")
        #expect(text.contains("exactly one"))
        let inline = errors("""
            { networks: [{ name: "a", server: "h:1", nick: "bot",
                           sasl: { mechanism: "PLAIN", account: "bot", password: "hunter2" } }] }
            """)
        #expect(inline.contains("networks[0].sasl.password"), "a password written in the file is refused: \(inline)")
    }

    @Test func channelsMustBeJoinedToBeUsed() {
        let text = errors("""
            { networks: [{ name: "a", server: "h:1", nick: "bot", channels: [{ name: "#support" }],
                           agentsChannel: "#agents", supportChannels: ["#support", "#help"] }] }
            """)
        #expect(text.contains("the agents' channel \"#agents\" is not in this network's channels"), "\(text)")
        #expect(text.contains("networks[0].supportChannels[1]"))
    }

    @Test func theMetricsEndpointStaysOnLoopback() {
        let text = errors(#"{ http: { listen: "0.0.0.0:9464" }, networks: [{ name: "a", server: "h:1", nick: "bot" }] }"#)
        #expect(text.contains("loopback"), "\(text)")
    }

    /// Issue 13: with a token the endpoint may listen on any address;
    /// without one it stays on loopback, and the error says how to open it.
    @Test func aTokenLetsTheEndpointListenBeyondLoopback() throws {
        let network = #"networks: [{ name: "a", server: "h:1", nick: "bot" }], customers: ["c.json5"]"#
        let open = try load(#"{ http: { listen: "0.0.0.0:9464", auth: { token: { env: "STATUS_TOKEN" } } }, "# + network + " }")
        #expect(open.http == .init(host: "0.0.0.0", port: 9464, token: .environment("STATUS_TOKEN")))
        let file = try load(#"{ http: { listen: "[::]:9464", auth: { token: { file: "token.txt" } } }, "# + network + " }")
        #expect(file.http?.token == .file(file.file.deletingLastPathComponent().appendingPathComponent("token.txt")))
        let closed = errors(#"{ http: { listen: "0.0.0.0:9464" }, "# + network + " }")
        #expect(closed.contains("http.listen") && closed.contains("set http.auth"), "\(closed)")
        let both = errors(#"{ http: { listen: "0.0.0.0:9464", auth: { token: { env: "A", file: "b" } } }, "# + network + " }")
        #expect(both.contains("http.auth.token") && both.contains("exactly one"), "\(both)")
        #expect(errors(#"{ http: { listen: "127.0.0.1:9464", auth: { token: "inline-secret" } }, "# + network + " }")
            .contains("http.auth.token"), "a token written in the file is refused")
    }

    /// Issue 8: `localhost` passed the check, then `run` could not bind it
    /// (the endpoint takes an address, not a name) and exited after
    /// "gateway started". The check refuses what `run` refuses.
    @Test func theMetricsEndpointTakesALoopbackAddressNotAName() throws {
        let network = #"networks: [{ name: "a", server: "h:1", nick: "bot" }], customers: ["c.json5"]"#
        let named = errors(#"{ http: { listen: "localhost:9464" }, "# + network + " }")
        #expect(named.contains("http.listen"), "\(named)")
        #expect(named.contains("a host name is not resolved here: write the address"))
        #expect(errors(#"{ http: { listen: "ip6-localhost:9464" }, "# + network + " }").contains("http.listen"))
        #expect(errors(#"{ http: { listen: "128.0.0.1:9464" }, "# + network + " }").contains("loopback"))
        #expect(try load(#"{ http: { listen: "127.0.0.2:9464" }, "# + network + " }").http?.host == "127.0.0.2")
        #expect(try load(#"{ http: { listen: "[::1]:9464" }, "# + network + " }").http?.host == "::1")
    }

    /// Issue 15: with the customer files found by looking, deleting one
    /// passed the check with fewer customers. They are named; a missing
    /// list is an error, and names resolve against the desk folder.
    @Test func customerFilesAreNamedExplicitly() throws {
        let network = #"networks: [{ name: "a", server: "h:1", nick: "bot" }]"#
        let missing = errors("{ " + network + " }")
        #expect(missing.contains("missing field 'customers'"), "\(missing)")
        #expect(errors("{ customers: [], " + network + " }").contains("no customer files"))
        #expect(errors(#"{ customers: ["a.json5", "b.txt", "a.json5"], "# + network + " }").contains("customers[1]"))
        #expect(errors(#"{ customers: ["a.json5", "a.json5"], "# + network + " }").contains("named twice"))
        let c = try load(#"{ desk: "desk", customers: ["customers.json5", "/srv/crm/export.csv"], "# + network + " }")
        #expect(c.customerFiles.map(\.path) == [c.deskFolder.appendingPathComponent("customers.json5").path, "/srv/crm/export.csv"])
        #expect(c.deskPaths.customers == c.customerFiles.map(\.path))
    }

    @Test func duplicateNetworkNamesAndBadLogSettings() {
        let text = errors("""
            { log: { format: "xml", level: "loud" },
              networks: [{ name: "a", server: "h:1", nick: "bot" }, { name: "a", server: "h:2", nick: "bot" }] }
            """)
        #expect(text.contains("unknown log format \"xml\""), "\(text)")
        #expect(text.contains("unknown log level \"loud\""))
        #expect(text.contains("network name \"a\" is used twice"))
    }

    @Test func secretsResolveFromEnvironmentAndFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("pw")
        try "s3cret\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try SecretSource.file(file).resolve(field: "x") == "s3cret")
        #expect(throws: SecretError.self) { try SecretSource.environment("SWITCHBOARD_SURELY_UNSET_\(UUID().uuidString.prefix(6))").resolve(field: "x") }
        #expect(throws: SecretError.self) { try SecretSource.file(folder.appendingPathComponent("missing")).resolve(field: "x") }
    }
}
