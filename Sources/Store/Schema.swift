import Core
import Foundation

/// One step of the schema's history. Migrations are append-only: a released
/// migration is never edited; a change is a new migration.
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: SQL
}

/// The store's schema and its migrations.
///
/// Times are REAL seconds since 2001-01-01 00:00:00 UTC (see
/// `SQLiteValue.init(_: Date?)`); enum-like columns hold the Swift enums'
/// raw values (`TicketState`, `CustomerGroup`, `TicketEvent.Kind`) and
/// `Actor`'s stored form, checked when read back rather than by `CHECK`
/// constraints (SQLite cannot change a `CHECK` without rebuilding the table).
enum Schema {
    /// `PRAGMA application_id` of a Switchboard store: `SWBD`.
    static let applicationID: Int64 = 0x5357_4244

    /// The states that are not open (`TicketState.isOpen == false`). The
    /// partial index `tickets_open` and `openTickets()` use this exact text.
    static let closedStatesSQL: SQL = "('resolved', 'closed', 'cancelled')"

    static let migrations: [Migration] = [
        Migration(version: 1, name: "tickets, events, pages, roster overrides, counters, failed PINs", sql: """
            PRAGMA application_id = 1398227524;

            CREATE TABLE tickets (
                number          INTEGER PRIMARY KEY AUTOINCREMENT,
                version         INTEGER NOT NULL CHECK (version >= 1),
                created_at      REAL NOT NULL,
                updated_at      REAL NOT NULL,
                customer_number TEXT,
                customer_name   TEXT NOT NULL,
                contact_network TEXT NOT NULL,
                contact_nick    TEXT NOT NULL,
                contact_account TEXT,
                customer_group  TEXT NOT NULL,
                tier            TEXT,
                severity        INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
                summary         TEXT NOT NULL,
                description     TEXT NOT NULL,
                language        TEXT NOT NULL,
                state           TEXT NOT NULL,
                assignee        TEXT,
                responded_at    REAL
            ) STRICT;
            CREATE INDEX tickets_open ON tickets (number)
                WHERE state NOT IN ('resolved', 'closed', 'cancelled');
            CREATE INDEX tickets_contact ON tickets
                (contact_network, contact_account COLLATE NOCASE, contact_nick COLLATE NOCASE, number);
            CREATE INDEX tickets_customer ON tickets (customer_number, number)
                WHERE customer_number IS NOT NULL;

            CREATE TABLE ticket_events (
                ticket     INTEGER NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
                seq        INTEGER NOT NULL CHECK (seq >= 1),
                at         REAL NOT NULL,
                actor      TEXT NOT NULL,
                kind       TEXT NOT NULL,
                from_value TEXT,
                to_value   TEXT,
                note       TEXT NOT NULL,
                PRIMARY KEY (ticket, seq)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE pages (
                id           INTEGER PRIMARY KEY AUTOINCREMENT,
                ticket       INTEGER NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
                step         INTEGER NOT NULL CHECK (step >= 0),
                network      TEXT NOT NULL,
                target       TEXT NOT NULL,
                text         TEXT NOT NULL,
                created_at   REAL NOT NULL,
                due_at       REAL NOT NULL,
                sent_at      REAL,
                cancelled_at REAL,
                attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                last_error   TEXT
            ) STRICT;
            CREATE INDEX pages_ticket ON pages (ticket, step);
            CREATE INDEX pages_pending ON pages (due_at, id) WHERE sent_at IS NULL AND cancelled_at IS NULL;

            CREATE TABLE roster_overrides (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                agent      TEXT NOT NULL,
                reason     TEXT NOT NULL,
                starts_at  REAL NOT NULL,
                ends_at    REAL NOT NULL,
                created_by TEXT NOT NULL,
                created_at REAL NOT NULL,
                CHECK (ends_at > starts_at)
            ) STRICT;
            CREATE INDEX roster_overrides_end ON roster_overrides (ends_at);

            CREATE TABLE counters (
                name  TEXT NOT NULL,
                key   TEXT NOT NULL,
                value INTEGER NOT NULL,
                PRIMARY KEY (name, key)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE failed_pins (
                id              INTEGER PRIMARY KEY,
                customer_number TEXT NOT NULL,
                network         TEXT NOT NULL,
                nick            TEXT NOT NULL,
                account         TEXT,
                at              REAL NOT NULL
            ) STRICT;
            CREATE INDEX failed_pins_customer ON failed_pins (customer_number, at);
            CREATE INDEX failed_pins_identity ON failed_pins
                (network, account COLLATE NOCASE, nick COLLATE NOCASE, at);
            """),
    ]

    /// The version this code writes.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The schema version of the open database: 0 for an empty file.
    ///
    /// - Throws: ``SQLiteStoreError/notASwitchboardDatabase(path:detail:)``
    ///   when the file is an SQLite database of something else.
    static func currentVersion(_ db: SQLiteConnection) throws -> Int {
        let hasVersionTable = try db.queryFirst(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'") { _ in true } ?? false
        if hasVersionTable {
            return try db.queryFirst("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") { try $0.int(0) } ?? 0
        }
        let otherTables = try db.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5"
        ) { try $0.text(0) }
        let applicationID = try db.queryFirst("PRAGMA application_id") { try $0.int64(0) } ?? 0
        if !otherTables.isEmpty || (applicationID != 0 && applicationID != Schema.applicationID) {
            var detail = "it has no schema_migrations table"
            if !otherTables.isEmpty { detail += " but tables \(otherTables.joined(separator: ", "))" }
            if applicationID != 0 { detail += "; application_id is \(applicationID)" }
            throw SQLiteStoreError.notASwitchboardDatabase(path: db.path, detail: detail)
        }
        return 0
    }

    /// Brings the database to ``latestVersion``: each missing migration in
    /// its own `BEGIN IMMEDIATE` transaction, which re-reads the version
    /// first (another process may have migrated meanwhile).
    ///
    /// - Throws: ``SQLiteStoreError/databaseTooNew(path:found:supported:)``
    ///   when the file was written by newer code; nothing is changed then.
    static func migrate(_ db: SQLiteConnection, now: Date, logger: Logger) throws {
        try migrate(db, migrations: migrations, now: now, logger: logger)
    }

    /// ``migrate(_:now:logger:)`` with another list (tests use it to check
    /// that a failing migration leaves the previous version intact).
    static func migrate(_ db: SQLiteConnection, migrations: [Migration], now: Date, logger: Logger) throws {
        let latestVersion = migrations.last?.version ?? 0
        let found = try currentVersion(db)
        guard found <= latestVersion else {
            throw SQLiteStoreError.databaseTooNew(path: db.path, found: found, supported: latestVersion)
        }
        for migration in migrations where migration.version > found {
            let applied = try db.transaction { () throws -> Bool in
                let current = try currentVersion(db)
                if current > latestVersion {
                    throw SQLiteStoreError.databaseTooNew(path: db.path, found: current, supported: latestVersion)
                }
                guard current < migration.version else { return false }
                guard current == migration.version - 1 else {
                    throw SQLiteStoreError.migrationFailed(
                        path: db.path, version: migration.version, name: migration.name,
                        reason: "the database is at version \(current), expected \(migration.version - 1)")
                }
                if current == 0 {
                    try db.execute("""
                        CREATE TABLE schema_migrations (
                            version    INTEGER PRIMARY KEY,
                            name       TEXT NOT NULL,
                            applied_at REAL NOT NULL
                        ) STRICT;
                        """)
                }
                do {
                    try db.execute(migration.sql)
                } catch let error as SQLiteError {
                    throw SQLiteStoreError.migrationFailed(
                        path: db.path, version: migration.version, name: migration.name, reason: error.description)
                }
                try db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                           [SQLiteValue(migration.version), SQLiteValue(migration.name), SQLiteValue(now)])
                return true
            }
            if applied {
                logger.notice("store schema migrated",
                              ["path": db.path, "version": migration.version, "migration": migration.name])
            }
        }
    }
}
