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
        Migration(version: 2, name: "PIN checks, conversations, PIN-locked contract claims, page target kinds", sql: """
            PRAGMA user_version = 2;

            ALTER TABLE tickets ADD COLUMN contract_claim_pin_locked INTEGER NOT NULL DEFAULT 0
                CHECK (contract_claim_pin_locked IN (0, 1));

            ALTER TABLE pages ADD COLUMN target_kind TEXT NOT NULL DEFAULT 'direct';
            UPDATE pages SET target_kind = 'room' WHERE substr(target, 1, 1) IN ('#', '&', '+', '!');

            CREATE TABLE pin_checks (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                customer_number TEXT NOT NULL,
                network         TEXT NOT NULL,
                nick            TEXT NOT NULL,
                account         TEXT,
                identity_key    TEXT NOT NULL,
                reserved_at     REAL NOT NULL,
                outcome         TEXT CHECK (outcome IN ('right', 'wrong')),
                finished_at     REAL
            ) STRICT;
            CREATE INDEX pin_checks_number ON pin_checks (customer_number, reserved_at);
            CREATE INDEX pin_checks_identity ON pin_checks (identity_key, reserved_at);
            CREATE INDEX pin_checks_time ON pin_checks (reserved_at);

            CREATE TABLE conversations (
                network        TEXT NOT NULL,
                key            TEXT NOT NULL,
                format_version INTEGER NOT NULL,
                state          BLOB NOT NULL,
                updated_at     REAL NOT NULL,
                expires_at     REAL NOT NULL,
                PRIMARY KEY (network, key)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX conversations_expiry ON conversations (expires_at);
            """),
        Migration(version: 3, name: "tickets by creation time (status page charts)", sql: """
            PRAGMA user_version = 3;

            CREATE INDEX tickets_created ON tickets (created_at, number);
            """),
        Migration(version: 4, name: "network state (Matrix sync token, device id)", sql: """
            PRAGMA user_version = 4;

            CREATE TABLE network_state (
                network    TEXT NOT NULL,
                key        TEXT NOT NULL,
                value      TEXT NOT NULL,
                updated_at REAL NOT NULL,
                PRIMARY KEY (network, key)
            ) STRICT, WITHOUT ROWID;
            """),
        // Issue 10: several instances on one store, one active. The lease row
        // is never deleted (a release only ends it), so its token only grows.
        Migration(version: 5, name: "instance lease with fencing token, fenced page claims", sql: """
            PRAGMA user_version = 5;

            CREATE TABLE leases (
                name        TEXT PRIMARY KEY,
                holder      TEXT NOT NULL,
                token       INTEGER NOT NULL CHECK (token >= 1),
                acquired_at REAL NOT NULL,
                expires_at  REAL NOT NULL,
                takeovers   INTEGER NOT NULL DEFAULT 0 CHECK (takeovers >= 0)
            ) STRICT, WITHOUT ROWID;

            ALTER TABLE pages ADD COLUMN claimed_token INTEGER;
            ALTER TABLE pages ADD COLUMN claimed_at REAL;
            """),
        // Issue 12, a cheaper ticket: an index is kept only if a query a user
        // runs needs it on a store of ~100k tickets (EXPLAIN QUERY PLAN and
        // timings in the store5 branch's report). `tickets_customer` served
        // only `tickets(customerNumber:)`, which nothing in the gateway calls;
        // it cost a B-tree write (one WAL page of ~11) per contract ticket.
        // Kept: `tickets_open` (status page's live part at every refresh,
        // `!stats`, start-up: a scan takes 20–25 ms of the store thread at
        // 100k), `tickets_contact` (every customer's `!status` and
        // conversation restore), `tickets_created` (the status page's 14-day
        // charts: 3–5× slower and growing with the store without it),
        // `pages_ticket` (every ticket update and escalation check: 1–4 ms
        // per call without it) and `pages_pending` (the outbox poll).
        Migration(version: 6, name: "no index on the customer number (no query of the gateway uses it)", sql: """
            PRAGMA user_version = 6;

            DROP INDEX tickets_customer;
            """),
        // Issue 12: the same index of open tickets, with a condition SQLite
        // checks at each ticket insert and update without building a
        // temporary B-tree for an IN list (see `openTicketCondition`, whose
        // text the open-ticket queries repeat to use the index).
        Migration(version: 7, name: "open tickets' index without an IN list in its condition", sql: """
            PRAGMA user_version = 7;

            DROP INDEX tickets_open;
            CREATE INDEX tickets_open ON tickets (number)
                WHERE state <> 'resolved' AND state <> 'closed' AND state <> 'cancelled';
            """),
        // Issue 12: two B-tree writes and three lookups less per ticket.
        // - `AUTOINCREMENT` on tickets and pages read and rewrote their row
        //   of `sqlite_sequence` at every insert (a page of the WAL per
        //   commit). It guaranteed that the number of a deleted newest
        //   ticket is not given out again; now nothing can delete a ticket
        //   or page or change its number (the code has no such statement,
        //   the triggers refuse one made by hand), so the next rowid,
        //   max + 1, is never one given out before.
        // - The foreign keys from events and pages to their ticket looked
        //   the ticket up at each insert. An event or page is written only
        //   by the statement that writes its ticket (`insertTicket`, in
        //   one transaction) or by `updateTicket` after its `UPDATE … WHERE
        //   number = ?` found the row in the same `BEGIN IMMEDIATE`
        //   transaction, and tickets are never deleted: no child can name a
        //   missing ticket (PostgreSQL's schema 4 did the same).
        // SQLite cannot drop either from a table: the three tables are
        // rebuilt with the same columns, rows and indexes, children first
        // (dropping `tickets` while a child still referred to it would
        // cascade).
        Migration(version: 8, name: "tickets and pages without AUTOINCREMENT, events and pages without foreign keys; "
                  + "tickets and pages are never deleted", sql: """
            PRAGMA user_version = 8;

            CREATE TABLE ticket_events_v8 (
                ticket     INTEGER NOT NULL,
                seq        INTEGER NOT NULL CHECK (seq >= 1),
                at         REAL NOT NULL,
                actor      TEXT NOT NULL,
                kind       TEXT NOT NULL,
                from_value TEXT,
                to_value   TEXT,
                note       TEXT NOT NULL,
                PRIMARY KEY (ticket, seq)
            ) STRICT, WITHOUT ROWID;
            INSERT INTO ticket_events_v8 (ticket, seq, at, actor, kind, from_value, to_value, note)
                SELECT ticket, seq, at, actor, kind, from_value, to_value, note FROM ticket_events;
            DROP TABLE ticket_events;
            ALTER TABLE ticket_events_v8 RENAME TO ticket_events;

            CREATE TABLE pages_v8 (
                id            INTEGER PRIMARY KEY,
                ticket        INTEGER NOT NULL,
                step          INTEGER NOT NULL CHECK (step >= 0),
                network       TEXT NOT NULL,
                target        TEXT NOT NULL,
                text          TEXT NOT NULL,
                created_at    REAL NOT NULL,
                due_at        REAL NOT NULL,
                sent_at       REAL,
                cancelled_at  REAL,
                attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                last_error    TEXT,
                target_kind   TEXT NOT NULL DEFAULT 'direct',
                claimed_token INTEGER,
                claimed_at    REAL
            ) STRICT;
            INSERT INTO pages_v8 (id, ticket, step, network, target, text, created_at, due_at, sent_at,
                    cancelled_at, attempts, last_error, target_kind, claimed_token, claimed_at)
                SELECT id, ticket, step, network, target, text, created_at, due_at, sent_at,
                    cancelled_at, attempts, last_error, target_kind, claimed_token, claimed_at FROM pages;
            DROP TABLE pages;
            ALTER TABLE pages_v8 RENAME TO pages;
            CREATE INDEX pages_ticket ON pages (ticket, step);
            CREATE INDEX pages_pending ON pages (due_at, id) WHERE sent_at IS NULL AND cancelled_at IS NULL;

            CREATE TABLE tickets_v8 (
                number                    INTEGER PRIMARY KEY,
                version                   INTEGER NOT NULL CHECK (version >= 1),
                created_at                REAL NOT NULL,
                updated_at                REAL NOT NULL,
                customer_number           TEXT,
                customer_name             TEXT NOT NULL,
                contact_network           TEXT NOT NULL,
                contact_nick              TEXT NOT NULL,
                contact_account           TEXT,
                customer_group            TEXT NOT NULL,
                tier                      TEXT,
                severity                  INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
                summary                   TEXT NOT NULL,
                description               TEXT NOT NULL,
                language                  TEXT NOT NULL,
                state                     TEXT NOT NULL,
                assignee                  TEXT,
                responded_at              REAL,
                contract_claim_pin_locked INTEGER NOT NULL DEFAULT 0 CHECK (contract_claim_pin_locked IN (0, 1))
            ) STRICT;
            INSERT INTO tickets_v8 (number, version, created_at, updated_at, customer_number, customer_name,
                    contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                    description, language, state, assignee, responded_at, contract_claim_pin_locked)
                SELECT number, version, created_at, updated_at, customer_number, customer_name,
                    contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                    description, language, state, assignee, responded_at, contract_claim_pin_locked FROM tickets;
            DROP TABLE tickets;
            ALTER TABLE tickets_v8 RENAME TO tickets;
            CREATE INDEX tickets_open ON tickets (number)
                WHERE state <> 'resolved' AND state <> 'closed' AND state <> 'cancelled';
            CREATE INDEX tickets_contact ON tickets
                (contact_network, contact_account COLLATE NOCASE, contact_nick COLLATE NOCASE, number);
            CREATE INDEX tickets_created ON tickets (created_at, number);

            CREATE TRIGGER tickets_never_removed BEFORE DELETE ON tickets BEGIN
                SELECT RAISE(ABORT, 'Switchboard never deletes a ticket: its number must not be given out again');
            END;
            CREATE TRIGGER tickets_never_renumbered BEFORE UPDATE OF number ON tickets BEGIN
                SELECT RAISE(ABORT, 'Switchboard never renumbers a ticket: its events and pages refer to it');
            END;
            CREATE TRIGGER pages_never_removed BEFORE DELETE ON pages BEGIN
                SELECT RAISE(ABORT, 'Switchboard never deletes a page: its id must not be given out again');
            END;
            CREATE TRIGGER pages_never_renumbered BEFORE UPDATE OF id ON pages BEGIN
                SELECT RAISE(ABORT, 'Switchboard never renumbers a page');
            END;
            """),
        // Issue 9: a Matrix message the bots handled is recorded in the
        // transaction of its step, so a batch delivered again after a crash
        // is not answered twice (`HandledMessage`).
        Migration(version: 9, name: "chat messages handled (Matrix event ids), recorded with their step", sql: """
            PRAGMA user_version = 9;

            CREATE TABLE handled_messages (
                network    TEXT NOT NULL,
                source_id  TEXT NOT NULL,
                handled_at REAL NOT NULL,
                PRIMARY KEY (network, source_id)
            ) STRICT, WITHOUT ROWID;
            """),
        // Issue 12, a cheaper ticket: the `created` event was a second copy
        // of the new ticket's row (time, priority, summary) in a B-tree of
        // its own, ~1.9 of a ticket's ~12 WAL pages per commit. Now a new
        // ticket records only who created it; its `created` event is read
        // from the row while the ticket is at version 1, and its first
        // update writes the event as event 1 before changing the row
        // (`SQLiteConnection.createdEventInRow(of:)`). Existing tickets keep
        // their event rows (`created_by` NULL).
        Migration(version: 10, name: "a new ticket's created event read from its row until its first update", sql: """
            PRAGMA user_version = 10;

            ALTER TABLE tickets ADD COLUMN created_by TEXT;
            """),
        // Issue 12, a cheaper ticket: the index of pages by ticket
        // (`pages_ticket`) cost each page a B-tree insert. A page's id now
        // says its ticket: ticket × 10,000 + its place among the ticket's
        // pages (`SQLiteConnection.pageIDsPerTicket`), so a ticket's pages
        // are a range of the primary key. Existing pages get ids so, in
        // their order; nothing stored refers to a page id (a Matrix page
        // sent with its old id and not yet marked sent would be sent once
        // more under the new one, as after any crash at that point).
        Migration(version: 11, name: "page ids in their ticket's range instead of an index of pages by ticket", sql: """
            PRAGMA user_version = 11;

            CREATE TABLE pages_v11 (
                id            INTEGER PRIMARY KEY,
                ticket        INTEGER NOT NULL,
                step          INTEGER NOT NULL CHECK (step >= 0),
                network       TEXT NOT NULL,
                target        TEXT NOT NULL,
                text          TEXT NOT NULL,
                created_at    REAL NOT NULL,
                due_at        REAL NOT NULL,
                sent_at       REAL,
                cancelled_at  REAL,
                attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                last_error    TEXT,
                target_kind   TEXT NOT NULL DEFAULT 'direct',
                claimed_token INTEGER,
                claimed_at    REAL,
                CHECK (id > ticket * 10000 AND id < (ticket + 1) * 10000)
            ) STRICT;
            INSERT INTO pages_v11 (id, ticket, step, network, target, text, created_at, due_at, sent_at,
                    cancelled_at, attempts, last_error, target_kind, claimed_token, claimed_at)
                SELECT ticket * 10000 + ROW_NUMBER() OVER (PARTITION BY ticket ORDER BY id), ticket, step, network,
                    target, text, created_at, due_at, sent_at, cancelled_at, attempts, last_error, target_kind,
                    claimed_token, claimed_at
                FROM pages ORDER BY ticket, id;
            DROP TABLE pages;
            ALTER TABLE pages_v11 RENAME TO pages;
            CREATE INDEX pages_pending ON pages (due_at, id) WHERE sent_at IS NULL AND cancelled_at IS NULL;

            CREATE TRIGGER pages_never_removed BEFORE DELETE ON pages BEGIN
                SELECT RAISE(ABORT, 'Switchboard never deletes a page: its id must not be given out again');
            END;
            CREATE TRIGGER pages_never_renumbered BEFORE UPDATE OF id ON pages BEGIN
                SELECT RAISE(ABORT, 'Switchboard never renumbers a page');
            END;
            """),
    ]

    /// The version this code writes.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The schema version of the open database: 0 for an empty file. Reads
    /// only; it is what decides whether the file is ours before anything is
    /// written to it.
    ///
    /// The version is kept twice: the `schema_migrations` table (one row per
    /// migration, with its name and time) and the header's `user_version`
    /// (set by every migration from version 2 on; version 1 left it 0). Both
    /// are checked, so a file whose `user_version` says 99 is refused as too
    /// new even if its table says otherwise.
    ///
    /// - Throws: ``SQLiteStoreError/notASwitchboardDatabase(path:detail:)``
    ///   when the file is an SQLite database of something else;
    ///   ``SQLiteStoreError/databaseTooNew(path:found:supported:)`` when
    ///   `user_version` is beyond what this code knows (the table version is
    ///   compared by the caller); ``SQLiteStoreError/schemaVersionMismatch(path:tableVersion:userVersion:)``.
    static func currentVersion(_ db: SQLiteConnection, latestVersion: Int = Schema.latestVersion) throws -> Int {
        // The first statement reads the header: a file that is not a
        // database fails here with SQLITE_NOTADB.
        let applicationID = try db.queryFirst("PRAGMA application_id") { try $0.int64(0) } ?? 0
        let userVersion = try db.queryFirst("PRAGMA user_version") { try $0.int(0) } ?? 0
        if applicationID != 0 && applicationID != Schema.applicationID {
            throw SQLiteStoreError.notASwitchboardDatabase(
                path: db.path, detail: "its application_id is \(applicationID), a Switchboard store has \(Schema.applicationID)")
        }
        let hasVersionTable = try db.queryFirst(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'") { _ in true } ?? false
        guard hasVersionTable else {
            let otherTables = try db.query(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5"
            ) { try $0.text(0) }
            if !otherTables.isEmpty || userVersion != 0 {
                var detail = "it has no schema_migrations table"
                if !otherTables.isEmpty { detail += " but tables \(otherTables.joined(separator: ", "))" }
                if userVersion != 0 { detail += "; user_version is \(userVersion)" }
                throw SQLiteStoreError.notASwitchboardDatabase(path: db.path, detail: detail)
            }
            return 0
        }
        let tableVersion = try db.queryFirst("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") {
            try $0.int(0)
        } ?? 0
        if userVersion > latestVersion {
            throw SQLiteStoreError.databaseTooNew(path: db.path, found: userVersion, supported: latestVersion)
        }
        // Version 1 did not set user_version (0); from version 2 on each
        // migration sets it to its own number.
        if tableVersion <= latestVersion && userVersion != 0 && userVersion != tableVersion {
            throw SQLiteStoreError.schemaVersionMismatch(path: db.path, tableVersion: tableVersion,
                                                         userVersion: userVersion)
        }
        return tableVersion
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
        let found = try currentVersion(db, latestVersion: latestVersion)
        guard found <= latestVersion else {
            throw SQLiteStoreError.databaseTooNew(path: db.path, found: found, supported: latestVersion)
        }
        for migration in migrations where migration.version > found {
            let applied = try db.transaction { () throws -> Bool in
                let current = try currentVersion(db, latestVersion: latestVersion)
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
