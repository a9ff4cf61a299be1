import Config
import Core
import Desk
import Foundation
@testable import Gateway
import Store
import TestSupport
import Testing

/// The `store` section chooses the store; ``StoreFactory`` opens it, and
/// `check-config` inspects it without writing.
@Suite struct StoreSettingsTests {
    /// A folder with a configuration file whose `store` section is `store`.
    func load(store: String) throws -> (folder: URL, result: Result<GatewayConfiguration, ConfigError>) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gw-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("switchboard.json5")
        try """
            {
              store: \(store),
              customers: ["customers.json5"],
              networks: [{ name: "demo", server: "127.0.0.1:6667", nick: "sb", channels: [{ name: "#agents" }],
                           agentsChannel: "#agents", identifyAgentsBy: "mask" }],
            }
            """.write(to: file, atomically: true, encoding: .utf8)
        return (folder, Result { () throws(ConfigError) in try GatewayConfiguration.load(from: file) })
    }

    @Test func theKindIsSQLiteWithOrWithoutSayingSo() throws {
        for section in [#"{ kind: "sqlite", path: "data/s.sqlite" }"#, #"{ path: "data/s.sqlite" }"#] {
            let (folder, result) = try load(store: section)
            defer { try? FileManager.default.removeItem(at: folder) }
            let configuration = try result.get()
            #expect(configuration.store == .sqlite(path: folder.appendingPathComponent("data/s.sqlite")
                .standardizedFileURL))
        }
    }

    @Test func anUnknownKindIsAnErrorNamingTheField() throws {
        let (folder, result) = try load(store: #"{ kind: "mongodb", path: "s.sqlite" }"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: ConfigError.self) { try result.get() }
        if case .failure(let error) = result {
            #expect("\(error)".contains("store.kind"))
            #expect("\(error)".contains("unknown store kind \"mongodb\""))
        }
    }

    @Test func theFactoryOpensTheConfiguredStoreAndCheckConfigSeesItsVersion() async throws {
        let (folder, result) = try load(store: #"{ kind: "sqlite", path: "var/s.sqlite" }"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = try result.get().store
        #expect(try StoreFactory.inspect(settings).contains("will be created"))
        let opened = try StoreFactory.open(settings, logger: .disabled)
        let commit = try await opened.desk.createTicket(NewTicket(
            createdAt: Date(), createdBy: .system, customerNumber: nil, customerName: "x",
            contact: ChatIdentity(network: "demo", nick: "x"), group: .noContract, tier: nil, severity: .minor,
            summary: "s", description: "d", language: "en"))
        #expect(try await opened.desk.ticket(commit.number) == commit.stored)
        await opened.close()
        let latest = try SQLiteDeskStore.inspect(path: folder.appendingPathComponent("var/s.sqlite").path).latestVersion
        #expect(try StoreFactory.inspect(settings).contains("schema version \(latest) (current)"))
    }

    @Test func thePostgresKindTakesItsURLFromTheEnvironmentOrAFileNeverTheFile() throws {
        let (folder, result) = try load(store: #"{ kind: "postgres", url: { env: "SB_TEST_DATABASE_URL" } }"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try result.get().store == .postgres(url: .environment("SB_TEST_DATABASE_URL")))
        #expect(try result.get().storePath == nil)

        let (fileFolder, fileResult) = try load(store: #"{ kind: "postgres", url: { file: "secrets/db-url" } }"#)
        defer { try? FileManager.default.removeItem(at: fileFolder) }
        #expect(try fileResult.get().store
            == .postgres(url: .file(fileFolder.appendingPathComponent("secrets/db-url").standardizedFileURL)))

        for (section, expected) in [
            (#"{ kind: "postgres", url: "postgresql://sb:pw@db/desk" }"#, "store.url"),
            (#"{ kind: "postgres" }"#, "needs url"),
            (#"{ kind: "postgres", url: { env: "A", file: "b" } }"#, "exactly one"),
            (#"{ kind: "postgres", path: "x.sqlite", url: { env: "A" } }"#, "a url, not a path"),
        ] {
            let (badFolder, bad) = try load(store: section)
            defer { try? FileManager.default.removeItem(at: badFolder) }
            guard case .failure(let error) = bad else {
                Issue.record("\(section) was accepted")
                continue
            }
            #expect("\(error)".contains(expected), "\(section): \(error)")
        }
    }

    @Test func theFactoryOpensAPostgresStoreAndCheckConfigConnectsAndReportsTheVersion() async throws {
        let url = try await PostgresServer.shared().createDatabase("gw_" + UUID().uuidString.lowercased()
            .replacingOccurrences(of: "-", with: "_"))
        let variable = "SB_TEST_DATABASE_URL_\(UUID().uuidString.prefix(8))".replacingOccurrences(of: "-", with: "_")
        let (folder, result) = try load(store: "{ kind: \"postgres\", url: { env: \"\(variable)\" } }")
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = try result.get().store
        #expect {
            try StoreFactory.inspect(settings)
        } throws: { error in
            "\(error)".contains(variable) && "\(error)".contains("not set")
        }
        setenv(variable, url, 1)
        defer { unsetenv(variable) }
        #expect(try StoreFactory.inspect(settings).contains("will be created"))
        let opened = try StoreFactory.open(settings, logger: .disabled)
        let commit = try await opened.desk.createTicket(NewTicket(
            createdAt: Date(), createdBy: .system, customerNumber: nil, customerName: "x",
            contact: ChatIdentity(network: "demo", nick: "x"), group: .noContract, tier: nil, severity: .minor,
            summary: "s", description: "d", language: "en"))
        #expect(try await opened.desk.ticket(commit.number) == commit.stored)
        await opened.close()
        let report = try StoreFactory.inspect(settings)
        #expect(report.contains("schema version") && report.contains("(current)") && report.contains("PostgreSQL"))
        #expect(settings.description.contains(variable) && !settings.description.contains("postgresql://"))
    }

    @Test func checkConfigRefusesAnotherProgramsDatabaseWithoutTouchingIt() throws {
        let (folder, result) = try load(store: #"{ path: "other.db" }"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("other.db").path
        let db = try SQLiteConnection(path: path)
        try db.execute("CREATE TABLE songs (title TEXT)")
        db.close()
        let before = FileManager.default.contents(atPath: path)
        #expect {
            try StoreFactory.inspect(try result.get().store)
        } throws: { error in
            "\(error)".contains("another program")
        }
        #expect(FileManager.default.contents(atPath: path) == before)
    }

    @Test func ticketsShowFlagsAPINLockedContractClaim() {
        let ticket = Ticket(number: TicketNumber(7), createdAt: Date(timeIntervalSince1970: 0), customerNumber: "10042",
                            customerName: "Elbe", contact: ChatIdentity(network: "demo", nick: "x"), group: .contract,
                            tier: "premium", severity: .major, summary: "VPN", description: "VPN down", language: "de",
                            contractClaimPINLocked: true)
        let details = TicketFormatting.details(StoredTicket(ticket: ticket, version: 1), events: [], pages: [],
                                               zone: TimeZone(identifier: "UTC")!)
        #expect(details.contains("contract claimed, PIN locked"))
        #expect(TicketFormatting.line(ticket, zone: TimeZone(identifier: "UTC")!).contains("P2!"))
        var plain = ticket
        plain.contractClaimPINLocked = false
        #expect(!TicketFormatting.details(StoredTicket(ticket: plain, version: 1), events: [], pages: [],
                                          zone: TimeZone(identifier: "UTC")!).contains("PIN locked"))
    }
}
