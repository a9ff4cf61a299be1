import Core
import Desk
import Foundation
@testable import PostgresStore
import TestSupport
import Testing

/// What only the PostgreSQL store has: a server it connects to, schemas it
/// must recognise, connections that can be lost, several instances on one
/// database. (What both stores share is `StoreContract*Tests`.)
@Suite struct PostgresStoreTests {
    /// A fresh database on the shared test server; returns its URL.
    static func freshDatabase() async throws -> String {
        try await PostgresServer.shared().createDatabase("t_" + UUID().uuidString.lowercased()
            .replacingOccurrences(of: "-", with: "_"))
    }

    /// Runs raw SQL on the database at `url` (the test's own connection).
    static func sql(_ url: String, _ text: String) throws -> [[String?]] {
        let db = try PGConnection(url: url)
        defer { db.close() }
        return try db.execute(text).rows.map(\.values)
    }

    @Test func aDatabaseWrittenByNewerCodeIsRefusedAndLeftAsItWas() async throws {
        let url = try await Self.freshDatabase()
        let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
        _ = try await store.createTicket(newTicket(1))
        await store.close()
        let newer = PostgresDeskStore.latestSchemaVersion + 1
        _ = try Self.sql(url, "INSERT INTO schema_migrations VALUES (\(newer), 'from the future', 0)")
        let refused = #expect(throws: PostgresStoreError.self) { try PostgresDeskStore(url: url, logger: .disabled) }
        guard case .databaseTooNew(_, let found, let supported)? = refused else {
            Issue.record("expected databaseTooNew, got \(String(describing: refused))")
            return
        }
        #expect(found == newer && supported == PostgresDeskStore.latestSchemaVersion)
        #expect(throws: PostgresStoreError.self) { try PostgresDeskStore.inspect(url: url) }
        let error = #expect(throws: PostgresStoreError.self) { try PostgresDeskStore(url: url, logger: .disabled) }
        #expect(error?.description.contains("newer Switchboard") == true)
        #expect(try Self.sql(url, "SELECT count(*) FROM tickets") == [["1"]])
    }

    @Test func anotherProgramsDatabaseIsRefusedUntouched() async throws {
        let url = try await Self.freshDatabase()
        _ = try Self.sql(url, "CREATE TABLE invoices (id integer)")
        let error = #expect(throws: PostgresStoreError.self) { try PostgresDeskStore(url: url, logger: .disabled) }
        guard case .notASwitchboardDatabase(_, let detail)? = error else {
            Issue.record("expected notASwitchboardDatabase, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("invoices"))
        #expect(try Self.sql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            == [["1"]])
    }

    @Test func aServerThatIsNotThereIsAClearErrorWithoutThePassword() async throws {
        let port = try FreePort.next()
        let error = #expect(throws: PostgresStoreError.self) {
            try PostgresDeskStore(url: "postgresql://switchboard:s3cret@127.0.0.1:\(port)/desk?connect_timeout=2",
                                  logger: .disabled)
        }
        let text = error?.description ?? ""
        #expect(text.contains("cannot open the PostgreSQL store") && text.contains("\(port)"))
        #expect(!text.contains("s3cret"))
    }

    @Test func checkConfigReportsTheSchemaVersionWithoutCreatingIt() async throws {
        let url = try await Self.freshDatabase()
        #expect(try PostgresDeskStore.inspect(url: url).contains("empty"))
        #expect(try Self.sql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            == [["0"]])
        let store = try PostgresDeskStore(url: url, logger: .disabled)
        #expect(try await store.schemaVersion() == PostgresDeskStore.latestSchemaVersion)
        await store.close()
        #expect(try PostgresDeskStore.inspect(url: url)
            .contains("schema version \(PostgresDeskStore.latestSchemaVersion) (current)"))
    }

    @Test func aLostConnectionIsLoggedReestablishedAndNothingIsLost() async throws {
        let url = try await Self.freshDatabase()
        let sink = MemoryLogSink()
        let store = try PostgresDeskStore(url: url, logger: Logger(sink: sink, minimumLevel: .info), now: monday)
        let first = try await store.createTicket(newTicket(1))
        // The server ends the store's session (as a restart or failover would).
        let ended = try Self.sql(url, """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'switchboard' AND pid <> pg_backend_pid()
            """)
        #expect(ended == [["t"]])
        // A read after the loss is answered from the new connection…
        #expect(try await store.ticket(first.number) == first.stored)
        // …and so is a write, with a number after the first.
        let second = try await store.createTicket(newTicket(2))
        #expect(second.number > first.number)
        #expect(store.statistics.reconnects == 1)
        #expect(sink.lines.contains { $0.contains("store connection lost; reconnecting") })
        #expect(sink.lines.contains { $0.contains("store connection re-established") })

        // A write whose connection is lost before its BEGIN runs once on the new one.
        _ = try Self.sql(url, """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'switchboard' AND pid <> pg_backend_pid()
            """)
        let third = try await store.createTicket(newTicket(3))
        #expect(try await store.recentTickets(limit: 10).map(\.number) == [third.number, second.number, first.number])
        #expect(store.statistics.reconnects == 2)
        await store.close()
    }

    @Test func textPostgreSQLCannotHoldIsRefusedAndNothingIsStored() async throws {
        let url = try await Self.freshDatabase()
        let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
        await #expect(throws: TicketStoreError.self) {
            try await store.createTicket(newTicket(1, description: "line one\u{0}hidden"))
        }
        #expect(try await store.recentTickets(limit: 10).isEmpty)
        await store.close()
    }

    /// Two gateway instances on one database: numbers stay unique and the
    /// PIN budget of a number holds over both (the advisory lock).
    @Test func twoInstancesShareNumbersAndOnePINBudget() async throws {
        let url = try await Self.freshDatabase()
        let stores = [try PostgresDeskStore(url: url, logger: .disabled, now: monday),
                      try PostgresDeskStore(url: url, logger: .disabled, now: monday)]
        let numbers = try await withThrowingTaskGroup(of: TicketNumber.self) { group in
            for index in 0..<40 {
                group.addTask { try await stores[index % 2].createTicket(newTicket(index)).number }
            }
            return try await group.reduce(into: [TicketNumber]()) { $0.append($1) }
        }
        #expect(Set(numbers).count == 40)
        let policy = PINAttemptPolicy.standard
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<60 {
                group.addTask {
                    let identity = ChatIdentity(network: "libera", nick: "guest\(index)", account: "acct\(index)")
                    let result = try await stores[index % 2].reservePINCheck(
                        customerNumber: "10042", identity: identity, at: monday, policy: policy)
                    if case .reserved = result { return true }
                    return false
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == policy.wrongPerNumber)
        for store in stores { await store.close() }
    }
}
