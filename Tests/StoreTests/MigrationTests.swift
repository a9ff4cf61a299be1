import Core
import Foundation
import Testing

@testable import Store

/// Each migration runs in its own transaction: one that fails half-way
/// leaves the database at the version before it.
@Suite struct MigrationTests {
    @Test func aFailingMigrationIsRolledBackAndTheEarlierOnesStay() throws {
        try withTemporaryDirectory { dir in
            let migrations = [
                Migration(version: 1, name: "first", sql: "CREATE TABLE first (id INTEGER PRIMARY KEY);"),
                Migration(version: 2, name: "second", sql: """
                    CREATE TABLE second (id INTEGER PRIMARY KEY);
                    INSERT INTO first (id) VALUES (1);
                    INSERT INTO no_such_table (id) VALUES (1);
                    """),
            ]
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            #expect {
                try Schema.migrate(db, migrations: migrations, now: monday, logger: .disabled)
            } throws: { error in
                guard case SQLiteStoreError.migrationFailed(_, 2, "second", let reason) = error else { return false }
                return reason.contains("no_such_table")
            }
            #expect(try Schema.currentVersion(db) == 1)
            let tables = try db.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
                try $0.text(0)
            }
            #expect(tables == ["first", "schema_migrations"])
            #expect(try db.queryFirst("SELECT COUNT(*) FROM first") { try $0.int(0) } == 0)

            // Fixed code migrates from version 1 on.
            let fixed = [migrations[0], Migration(version: 2, name: "second", sql: "CREATE TABLE second (id INTEGER);")]
            try Schema.migrate(db, migrations: fixed, now: monday, logger: .disabled)
            #expect(try Schema.currentVersion(db) == 2)
            // Older code refuses the file now.
            #expect(throws: SQLiteStoreError.databaseTooNew(path: dir.storePath, found: 2, supported: 1)) {
                try Schema.migrate(db, migrations: [migrations[0]], now: monday, logger: .disabled)
            }
        }
    }

    @Test func logsEachAppliedMigration() throws {
        try withTemporaryDirectory { dir in
            let sink = MemoryLogSink()
            let store = try BlockingSQLiteStore(path: dir.storePath, logger: Logger(sink: sink), now: monday)
            store.close()
            #expect(sink.lines.count == Schema.latestVersion)
            #expect(sink.lines.first?.contains("version=1") == true)
            #expect(sink.lines.last?.contains("version=\(Schema.latestVersion)") == true)
            try BlockingSQLiteStore(path: dir.storePath, logger: Logger(sink: sink), now: monday).close()
            #expect(sink.lines.count == Schema.latestVersion)
        }
    }
}
