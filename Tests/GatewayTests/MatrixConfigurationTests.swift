import Bots
import Foundation
@testable import Gateway
import Matrix
import Testing

/// `kind: "matrix"` networks as `check-config` reads them (issue 9 item 7).
@Suite struct MatrixConfigurationTests {
    let base = GatewayConfigurationTests()

    @Test func aMatrixNetworkLoadsBesideAnIRCNetwork() throws {
        let configuration = try base.load("""
            { customers: ["customers.json5"], networks: [
                { name: "libera", server: "irc.libera.chat", nick: "nl" },
                { kind: "matrix", name: "mx", homeserver: "https://matrix.example.org",
                  user: "@switchboard:example.org", password: { env: "MX_PASSWORD" },
                  rooms: ["#agents:example.org", "!abc:example.org"], agentsRoom: "#agents:example.org",
                  supportRooms: ["!abc:example.org"], language: "de" },
            ] }
            """)
        #expect(configuration.networks.map(\.name) == ["libera", "mx"])
        let mx = try #require(configuration.networks.last?.matrix)
        #expect(mx.homeserver.absoluteString == "https://matrix.example.org")
        #expect(mx.userID == "@switchboard:example.org")
        #expect(mx.password == .environment("MX_PASSWORD") && mx.accessToken == nil)
        #expect(mx.invitesFrom == [":example.org"], "by default only users of the bot's own server may invite it")
        #expect(configuration.networks.last?.agentsChannel == "#agents:example.org")
        #expect(configuration.networks.last?.identifyAgentsByAccount == true)
        let bots = NetworkFactory.botSettings(try #require(configuration.networks.last))
        #expect(bots.hasAccounts && bots.addressesByAccount)
        #expect(!NetworkFactory.botSettings(try #require(configuration.networks.first)).addressesByAccount)
    }

    @Test func mistakesAreNamedByField() {
        let text = base.errors("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "http://matrix.example.org", user: "switchboard",
                  password: { env: "A" }, accessToken: { env: "B" }, nick: "sb",
                  rooms: ["support"], agentsRoom: "#agents:example.org", invitesFrom: ["example.org"] },
            ] }
            """)
        #expect(text.contains("networks[0].homeserver: expected an https:// URL"), "\(text)")
        #expect(text.contains("networks[0].user: \"switchboard\" is not a Matrix user id"), "\(text)")
        #expect(text.contains("give exactly one of password and accessToken"), "\(text)")
        #expect(text.contains("networks[0].nick: \"nick\" is a field of IRC networks"), "\(text)")
        #expect(text.contains("networks[0].rooms[0]: \"support\" is not a room id"), "\(text)")
        #expect(text.contains("networks[0].agentsRoom: the agents' room \"#agents:example.org\" is not in"), "\(text)")
        #expect(text.contains("networks[0].invitesFrom[0]: \"example.org\" is not a user id"), "\(text)")
    }

    @Test func aLoopbackTestHomeserverMayBePlainHTTPAndSecretsComeFromEnvOrFile() throws {
        let configuration = try base.load("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "http://127.0.0.1:8008", user: "@sb:localhost",
                  accessToken: { file: "token.txt" } },
            ] }
            """)
        let mx = try #require(configuration.networks.first?.matrix)
        #expect(mx.accessToken.map { if case .file = $0 { true } else { false } } == true)
        let secretInline = base.errors("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "https://hs.example", user: "@sb:hs.example",
                  password: { env: "" } },
            ] }
            """)
        #expect(secretInline.contains("networks[0].password: a secret is given as { env:"), "\(secretInline)")
    }

    @Test func readReceiptsAreOffUnlessTheEntrySaysSo() throws {
        func entry(_ extra: String) throws -> MatrixNetworkSettings {
            try #require(try base.load("""
                { customers: ["customers.json5"], networks: [
                    { kind: "matrix", name: "mx", homeserver: "https://hs.example", user: "@sb:hs.example",
                      password: { env: "SWITCHBOARD_TEST_READ_RECEIPTS_PASSWORD" }\(extra) },
                ] }
                """).networks.first?.matrix)
        }
        setenv("SWITCHBOARD_TEST_READ_RECEIPTS_PASSWORD", "pw", 1)
        #expect(try entry("").readReceipts == false)
        let on = try entry(", readReceipts: true")
        #expect(on.readReceipts)
        #expect(try NetworkFactory.matrixConfiguration(on, definitions: nil).readReceipts)
    }

    @Test func aHomeserverWithAPrivateCAIsTrustedThroughCaFileWithTheHostStillVerified() throws {
        let configuration = try base.load("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "https://hs.example:8448", user: "@sb:hs.example",
                  password: { env: "P" }, caFile: "certs/hs-ca.pem" },
            ] }
            """)
        let mx = try #require(configuration.networks.first?.matrix)
        #expect(mx.caFile?.path.hasSuffix("/certs/hs-ca.pem") == true, "relative to the configuration file")
        #expect(mx.caFile?.path.hasPrefix("/") == true)
        let tls = NetworkFactory.matrixTLS(mx)
        #expect(tls.caFile == mx.caFile?.path && tls.verifyPeer && tls.serverName == nil)
        #expect(NetworkFactory.matrixTLS(try #require(try base.load("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "https://hs.example", user: "@sb:hs.example",
                  password: { env: "P" } },
            ] }
            """).networks.first?.matrix)).caFile == nil, "without caFile: the system's CA store")
        let plain = base.errors("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "http://127.0.0.1:8008", user: "@sb:localhost",
                  password: { env: "P" }, caFile: "ca.pem" },
            ] }
            """)
        #expect(plain.contains("networks[0].caFile: caFile is for an https:// homeserver"), "\(plain)")
        let irc = base.errors("""
            { customers: ["customers.json5"], networks: [
                { name: "libera", server: "irc.libera.chat", nick: "nl", caFile: "ca.pem" },
            ] }
            """)
        #expect(irc.contains("\"caFile\" is a field of Matrix networks"), "\(irc)")
    }

    @Test func ircFieldsMissingOrMatrixFieldsInAnIRCEntryAreErrors() {
        let text = base.errors("""
            { customers: ["customers.json5"], networks: [
                { name: "libera", homeserver: "https://x.example", rooms: ["#a:x"] },
            ] }
            """)
        #expect(text.contains("networks[0].server: missing field 'server'") || text.contains("missing field 'server'"),
                "\(text)")
        #expect(text.contains("\"homeserver\" is a field of Matrix networks"), "\(text)")
        #expect(text.contains("\"rooms\" is a field of Matrix networks"), "\(text)")
    }

    @Test func theEncryptedRoomTextComesFromTheBotsInBothLanguagesNetworkLanguageFirst() throws {
        let definitions = try BotDefinitions.load(folder: repositoryRoot.appendingPathComponent("bots"))
        let configuration = try base.load("""
            { customers: ["customers.json5"], networks: [
                { kind: "matrix", name: "mx", homeserver: "https://hs.example", user: "@sb:hs.example",
                  password: { env: "PATH" }, language: "de" },
            ] }
            """)
        let mx = try #require(configuration.networks.first?.matrix)
        let adapter = try NetworkFactory.matrixConfiguration(mx, definitions: definitions)
        #expect(adapter.encryptedRoomText.hasPrefix("Dieser Raum ist verschlüsselt"), "\(adapter.encryptedRoomText)")
        #expect(adapter.encryptedRoomText.contains("This room is encrypted"))
    }
}
