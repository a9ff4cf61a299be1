import Core
import Desk
import Foundation
@testable import Store
import Testing

/// Issue 15 item 4: the store identifies a file as ours before it changes
/// anything, checks both places the schema version is kept, and can be
/// inspected read-only (`check-config`).
@Suite struct IdentificationTests {
    /// Another program's SQLite database in rollback-journal mode.
    static func foreignDatabase(_ path: String, applicationID: Bool) throws {
        let db = try SQLiteConnection(path: path)
        try db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices VALUES (1, 9.5)")
        if applicationID { try db.execute("PRAGMA application_id = 42") }
        db.close()
    }

    @Test(arguments: [false, true])
    func anotherProgramsDatabaseIsRefusedWithoutChangingOneByte(_ applicationID: Bool) throws {
        try withTemporaryDirectory { dir in
            try Self.foreignDatabase(dir.storePath, applicationID: applicationID)
            let before = FileManager.default.contents(atPath: dir.storePath)
            #expect(before?.count ?? 0 > 100)
            #expect {
                try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            } throws: { error in
                guard case SQLiteStoreError.notASwitchboardDatabase(let path, let detail) = error else { return false }
                return path == dir.storePath && detail.contains(applicationID ? "application_id is 42" : "invoices")
            }
            #expect(throws: SQLiteStoreError.self) { try SQLiteDeskStore.inspect(path: dir.storePath) }
            // Not switched to WAL (header bytes 18-19 stay 1, 1), nothing else written.
            let after = FileManager.default.contents(atPath: dir.storePath)
            #expect(after == before)
            #expect(after.map { [$0[18], $0[19]] } == [1, 1])
            #expect(!FileManager.default.fileExists(atPath: dir.storePath + "-wal"))
        }
    }

    @Test func aUserVersionBeyondThisCodeIsRefusedAsTooNew() throws {
        try withTemporaryDirectory { dir in
            try openStore(dir.storePath).close()
            let db = try SQLiteConnection(path: dir.storePath)
            try db.execute("PRAGMA user_version = 99")
            db.close()
            let expected = SQLiteStoreError.databaseTooNew(path: dir.storePath, found: 99,
                                                           supported: Schema.latestVersion)
            #expect(throws: expected) { try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday) }
            #expect(throws: expected) { try SQLiteDeskStore.inspect(path: dir.storePath) }
        }
    }

    @Test func schemaVersionsThatDisagreeAreRefused() throws {
        try withTemporaryDirectory { dir in
            try openStore(dir.storePath).close()
            let db = try SQLiteConnection(path: dir.storePath)
            try db.execute("PRAGMA user_version = 1")
            db.close()
            #expect(throws: SQLiteStoreError.schemaVersionMismatch(path: dir.storePath, tableVersion: Schema.latestVersion,
                                                                   userVersion: 1)) {
                try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            }
        }
    }

    @Test func inspectingReportsTheVersionAndWritesNothing() throws {
        try withTemporaryDirectory { dir in
            let missing = try SQLiteDeskStore.inspect(path: dir.path("var/new/store.sqlite"))
            #expect(!missing.exists && missing.schemaVersion == 0)
            #expect(missing.description.contains("will be created"))
            #expect(!FileManager.default.fileExists(atPath: dir.path("var")))

            // A version-1 file (as the previous release left it).
            let db = try SQLiteConnection(path: dir.storePath)
            try Schema.migrate(db, migrations: [Schema.migrations[0]], now: monday, logger: .disabled)
            db.close()
            let before = FileManager.default.contents(atPath: dir.storePath)
            let old = try SQLiteDeskStore.inspect(path: dir.storePath)
            #expect(old.exists && old.schemaVersion == 1 && old.needsMigration)
            #expect(old.description.contains("will be migrated to \(Schema.latestVersion)"))
            #expect(FileManager.default.contents(atPath: dir.storePath) == before)

            try openStore(dir.storePath).close()
            let current = try SQLiteDeskStore.inspect(path: dir.storePath)
            #expect(current.schemaVersion == Schema.latestVersion && !current.needsMigration)

            #expect(FileManager.default.createFile(atPath: dir.path("notes.txt"),
                                                   contents: Data(String(repeating: "notes\n", count: 100).utf8)))
            #expect {
                try SQLiteDeskStore.inspect(path: dir.path("notes.txt"))
            } throws: { error in
                if case SQLiteStoreError.notADatabase = error { true } else { false }
            }
        }
    }

    @Test func aVersion1StoreIsMigratedKeepingItsTicketsAndTypingItsPageTargets() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            try db.execute("PRAGMA journal_mode = WAL")
            try Schema.migrate(db, migrations: [Schema.migrations[0]], now: monday, logger: .disabled)
            try db.run("""
                INSERT INTO tickets (version, created_at, updated_at, customer_name, contact_network, contact_nick,
                    customer_group, severity, summary, description, language, state)
                VALUES (1, 0, 0, 'Elbe', 'libera', 'alice', 'contract', 2, 'VPN', 'VPN down', 'de', 'new')
                """)
            for target in ["bob", "#agents", "&local", "!room:example.org"] {
                try db.run("""
                    INSERT INTO pages (ticket, step, network, target, text, created_at, due_at)
                    VALUES (1, 0, 'libera', ?, 'page', 0, 0)
                    """, [.text(target)])
            }
            db.close()

            let store = try openStore(dir.storePath)
            defer { store.close() }
            #expect(try store.ticket(TicketNumber(1))?.ticket.contractClaimPINLocked == false)
            #expect(try store.pages(of: TicketNumber(1)).map(\.targetKind) == [.direct, .room, .room, .room])
            #expect(try store.createTicket(newTicket(2)).number == TicketNumber(2))
        }
    }

    /// Issue 15: the PIN lockout must fail closed. When the store cannot
    /// record the reservation the call throws, so no check runs, and nothing
    /// is counted as reserved.
    @Test func aPINCheckThatCannotBeRecordedThrows() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            let other = try SQLiteConnection(path: dir.storePath)
            try other.execute("""
                CREATE TRIGGER disk_full BEFORE INSERT ON pin_checks
                BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;
                """)
            await #expect(throws: SQLiteError.self) {
                try await store.reservePINCheck(customerNumber: "10042",
                                                identity: ChatIdentity(network: "libera", nick: "mallory"),
                                                at: monday, policy: .standard)
            }
            #expect(try other.queryFirst("SELECT COUNT(*) FROM pin_checks") { try $0.int(0) } == 0)
            other.close()
            await store.close()
        }
    }
}
