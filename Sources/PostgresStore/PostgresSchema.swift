import Core
import Foundation

/// One step of the PostgreSQL schema's history. Append-only: a released
/// migration is never edited; a change is a new migration.
struct PostgresMigration: Sendable {
    let version: Int
    let name: String
    let sql: String
}

/// The PostgreSQL store's schema and migrations.
///
/// The tables, columns and meanings are the SQLite store's (`Store.Schema`,
/// its versions 1–2) so both stores answer alike: times are `double
/// precision` seconds since 2001-01-01 UTC (a `Date` reads back exactly),
/// enum-like columns hold the Swift enums' raw values, checked when read.
/// Ticket numbers, page ids, override ids and PIN reservation ids come from
/// identity columns, i.e. sequences: never reused, also after a rollback
/// or a crash (a sequence may skip numbers, it never repeats one).
/// Nick and account matching is ASCII case-insensitive (SQLite's `NOCASE`),
/// done with ``asciiLower(_:)``, not the database locale's `lower()`.
/// Since version 6 that is `lower()` under the "C" collation (ASCII only
/// whatever the database's locale), not `translate()`.
///
/// One difference from SQLite's: since version 4 events and pages have no
/// foreign key to their ticket (the reason and what keeps that integrity
/// are at migration 4).
///
/// The version is the highest row of `schema_migrations`; PostgreSQL's
/// versions count on their own (they are not SQLite's numbers).
enum PostgresSchema {
    /// Key of the transaction-level advisory lock that serialises migrations
    /// of several instances starting at once ("SWBD" + 1).
    static let migrationLock: Int64 = 0x5357_4244_0001

    /// `column` lowercased in ASCII only, as SQLite's `NOCASE` compares:
    /// under the "C" collation `lower()` maps A–Z and leaves every other
    /// byte as it is (PostgreSQL's `asc_tolower`), whatever the database's
    /// locale. The contact indexes are built on this expression (schema 6),
    /// so a query must use it to find them.
    static func asciiLower(_ column: String) -> String {
        "lower(\(column) COLLATE \"C\")"
    }

    /// The same with `translate()`, as schema versions 1–5 built the contact
    /// indexes: kept for those released migrations' text only. It costs
    /// ~9,000 instructions per call in the backend (a character walk per
    /// letter of the alphabet), once per ticket written and per row compared.
    static func asciiLowerByTranslate(_ column: String) -> String {
        "translate(\(column), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    }

    static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "tickets, events, pages, roster overrides, counters, PIN checks, "
            + "conversations", sql: """
            CREATE TABLE tickets (
                number                    bigint GENERATED ALWAYS AS IDENTITY (NO CYCLE) PRIMARY KEY,
                version                   bigint NOT NULL CHECK (version >= 1),
                created_at                double precision NOT NULL,
                updated_at                double precision NOT NULL,
                customer_number           text,
                customer_name             text NOT NULL,
                contact_network           text NOT NULL,
                contact_nick              text NOT NULL,
                contact_account           text,
                customer_group            text NOT NULL,
                tier                      text,
                severity                  integer NOT NULL CHECK (severity BETWEEN 1 AND 4),
                summary                   text NOT NULL,
                description               text NOT NULL,
                language                  text NOT NULL,
                state                     text NOT NULL,
                assignee                  text,
                responded_at              double precision,
                contract_claim_pin_locked boolean NOT NULL DEFAULT false
            );
            CREATE INDEX tickets_open ON tickets (number)
                WHERE state NOT IN ('resolved', 'closed', 'cancelled');
            CREATE INDEX tickets_contact_account ON tickets
                (contact_network, \(asciiLowerByTranslate("contact_account")), number) WHERE contact_account IS NOT NULL;
            CREATE INDEX tickets_contact_nick ON tickets
                (contact_network, \(asciiLowerByTranslate("contact_nick")), number) WHERE contact_account IS NULL;
            CREATE INDEX tickets_customer ON tickets (customer_number, number)
                WHERE customer_number IS NOT NULL;

            CREATE TABLE ticket_events (
                ticket     bigint NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
                seq        bigint NOT NULL CHECK (seq >= 1),
                at         double precision NOT NULL,
                actor      text NOT NULL,
                kind       text NOT NULL,
                from_value text,
                to_value   text,
                note       text NOT NULL,
                PRIMARY KEY (ticket, seq)
            );

            CREATE TABLE pages (
                id           bigint GENERATED ALWAYS AS IDENTITY (NO CYCLE) PRIMARY KEY,
                ticket       bigint NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
                step         integer NOT NULL CHECK (step >= 0),
                network      text NOT NULL,
                target       text NOT NULL,
                target_kind  text NOT NULL DEFAULT 'direct',
                text         text NOT NULL,
                created_at   double precision NOT NULL,
                due_at       double precision NOT NULL,
                sent_at      double precision,
                cancelled_at double precision,
                attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                last_error   text
            );
            CREATE INDEX pages_ticket ON pages (ticket, step);
            CREATE INDEX pages_pending ON pages (due_at, id) WHERE sent_at IS NULL AND cancelled_at IS NULL;

            CREATE TABLE roster_overrides (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                agent      text NOT NULL,
                reason     text NOT NULL,
                starts_at  double precision NOT NULL,
                ends_at    double precision NOT NULL,
                created_by text NOT NULL,
                created_at double precision NOT NULL,
                CHECK (ends_at > starts_at)
            );
            CREATE INDEX roster_overrides_end ON roster_overrides (ends_at);

            CREATE TABLE counters (
                name  text NOT NULL,
                key   text NOT NULL,
                value bigint NOT NULL,
                PRIMARY KEY (name, key)
            );

            CREATE TABLE pin_checks (
                id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                customer_number text NOT NULL,
                network         text NOT NULL,
                nick            text NOT NULL,
                account         text,
                identity_key    text NOT NULL,
                reserved_at     double precision NOT NULL,
                outcome         text CHECK (outcome IN ('right', 'wrong')),
                finished_at     double precision
            );
            CREATE INDEX pin_checks_number ON pin_checks (customer_number, reserved_at);
            CREATE INDEX pin_checks_identity ON pin_checks (identity_key, reserved_at);
            CREATE INDEX pin_checks_time ON pin_checks (reserved_at);

            CREATE TABLE conversations (
                network        text NOT NULL,
                key            text NOT NULL,
                format_version integer NOT NULL,
                state          bytea NOT NULL,
                updated_at     double precision NOT NULL,
                expires_at     double precision NOT NULL,
                PRIMARY KEY (network, key)
            );
            CREATE INDEX conversations_expiry ON conversations (expires_at);
            """),
        PostgresMigration(version: 2, name: "tickets by creation time (status page); network state (Matrix sync "
                          + "position, device id)", sql: """
            CREATE INDEX tickets_created ON tickets (created_at, number);

            CREATE TABLE network_state (
                network    text NOT NULL,
                key        text NOT NULL,
                value      text NOT NULL,
                updated_at double precision NOT NULL,
                PRIMARY KEY (network, key)
            );
            """),
        // Issue 10: several instances on one store, one active. The lease row
        // is never deleted (a release only ends it), so its token only grows.
        PostgresMigration(version: 3, name: "instance lease with fencing token, fenced page claims", sql: """
            CREATE TABLE leases (
                name        text PRIMARY KEY,
                holder      text NOT NULL,
                token       bigint NOT NULL CHECK (token >= 1),
                acquired_at double precision NOT NULL,
                expires_at  double precision NOT NULL,
                takeovers   bigint NOT NULL DEFAULT 0 CHECK (takeovers >= 0)
            );

            ALTER TABLE pages ADD COLUMN claimed_token bigint;
            ALTER TABLE pages ADD COLUMN claimed_at double precision;
            """),
        // Issue 10, creation speed: the two foreign keys to `tickets` were
        // the largest server cost of creating a ticket (an `AFTER` trigger
        // each, running a `SELECT … FOR KEY SHARE` on the ticket and logging
        // the row lock: ~40 of ~170 µs of the backend's CPU per ticket,
        // measured with PGBench). The integrity they gave is kept this way:
        // - an event or page is written only by the statement that writes its
        //   ticket (`insertTicket`, one statement) or by `updateTicket` after
        //   its `UPDATE tickets … WHERE number = $n` found and locked the row
        //   in the same transaction, so a child never names a missing ticket;
        // - a ticket is never deleted or renumbered: the code has no such
        //   statement, and this trigger refuses one made by hand (DELETE,
        //   TRUNCATE, `UPDATE … SET number`), where the foreign keys would
        //   have cascaded. It costs nothing when tickets are inserted.
        PostgresMigration(version: 4, name: "tickets never deleted (trigger) instead of foreign keys from events "
                          + "and pages", sql: """
            CREATE FUNCTION switchboard_refuse_ticket_removal() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'Switchboard never deletes or renumbers a ticket: its events and pages refer to it'
                    USING ERRCODE = 'restrict_violation';
            END
            $$;
            CREATE TRIGGER tickets_never_removed BEFORE DELETE OR TRUNCATE OR UPDATE OF number ON tickets
                FOR EACH STATEMENT EXECUTE FUNCTION switchboard_refuse_ticket_removal();
            ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_ticket_fkey;
            ALTER TABLE pages DROP CONSTRAINT pages_ticket_fkey;
            """),
        // Issue 12, a cheaper ticket (the reasons at SQLite's migration 6):
        // - `tickets_customer` goes: no query of the gateway uses it, and it
        //   was one of the 9 index inserts of a contract ticket;
        // - the CHECKs written on ticket creation's rows move into domains.
        //   A table CHECK is re-read from its stored text and planned anew
        //   at every execution of a statement writing the table (the
        //   executor's `ExecRelCheck`: `stringToNode` + `ExecPrepareExpr`),
        //   which took 12–14 % of the backend's CPU per ticket; a domain's
        //   CHECK is planned once per backend (type cache). The same rule is
        //   enforced on every write, by hand too. The columns' types change
        //   to the domains: PostgreSQL rewrites those three tables once
        //   (a domain with a CHECK is verified row by row), in this
        //   migration's transaction. Clients see the base types.
        PostgresMigration(version: 5, name: "no index on the customer number; creation's CHECKs as domains",
                          sql: """
            DROP INDEX tickets_customer;

            CREATE DOMAIN switchboard_from_one AS bigint CHECK (VALUE >= 1);
            CREATE DOMAIN switchboard_from_zero AS integer CHECK (VALUE >= 0);
            CREATE DOMAIN switchboard_severity AS integer CHECK (VALUE BETWEEN 1 AND 4);

            ALTER TABLE tickets DROP CONSTRAINT tickets_version_check,
                DROP CONSTRAINT tickets_severity_check,
                ALTER COLUMN version TYPE switchboard_from_one,
                ALTER COLUMN severity TYPE switchboard_severity;
            ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_seq_check,
                ALTER COLUMN seq TYPE switchboard_from_one;
            ALTER TABLE pages DROP CONSTRAINT pages_step_check,
                DROP CONSTRAINT pages_attempts_check,
                ALTER COLUMN step TYPE switchboard_from_zero,
                ALTER COLUMN attempts TYPE switchboard_from_zero;
            """),
        // Issue 10, a cheaper ticket: the contact indexes' expression was
        // `translate()` with the alphabet, evaluated for every ticket written
        // (and every row a contact query compares); `lower()` under the "C"
        // collation gives the same ASCII-only lowering at a fraction of the
        // cost (backend instructions per ticket creation, callgrind: −10,500
        // of ~330,000). The queries use the same expression (`asciiLower`).
        PostgresMigration(version: 6, name: "contact indexes on lower() under the C collation instead of translate()",
                          sql: """
            DROP INDEX tickets_contact_account;
            DROP INDEX tickets_contact_nick;
            CREATE INDEX tickets_contact_account ON tickets
                (contact_network, lower(contact_account COLLATE "C"), number) WHERE contact_account IS NOT NULL;
            CREATE INDEX tickets_contact_nick ON tickets
                (contact_network, lower(contact_nick COLLATE "C"), number) WHERE contact_account IS NULL;
            """),
        // Issue 9: as SQLite's migration 9.
        PostgresMigration(version: 7, name: "chat messages handled (Matrix event ids), recorded with their step",
                          sql: """
            CREATE TABLE handled_messages (
                network    text NOT NULL,
                source_id  text NOT NULL,
                handled_at double precision NOT NULL,
                PRIMARY KEY (network, source_id)
            );
            """),
    ]

    /// The version this code writes.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The schema version of the connected database's current schema: 0
    /// when it is empty. Reads only.
    ///
    /// - Throws: ``PostgresStoreError/notASwitchboardDatabase(database:detail:)``
    ///   when the schema holds other tables but no `schema_migrations`.
    static func currentVersion(_ db: PGConnection) throws -> Int {
        let hasTable = try db.queryFirst(
            "SELECT to_regclass(quote_ident(current_schema()) || '.schema_migrations') IS NOT NULL") {
            try $0.bool(0)
        } ?? false
        guard hasTable else {
            let others = try db.query("""
                SELECT table_name FROM information_schema.tables
                WHERE table_schema = current_schema() ORDER BY table_name LIMIT 5
                """) { try $0.text(0) }
            if !others.isEmpty {
                throw PostgresStoreError.notASwitchboardDatabase(
                    database: db.target, detail: "its schema has no schema_migrations table but tables "
                        + others.joined(separator: ", "))
            }
            return 0
        }
        return try db.queryFirst("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") { try $0.int(0) } ?? 0
    }

    /// Brings the database to the latest version: each missing migration in
    /// its own transaction holding ``migrationLock`` (another instance may
    /// be migrating the same database), which re-reads the version first.
    ///
    /// - Throws: ``PostgresStoreError/databaseTooNew(database:found:supported:)``
    ///   when newer code wrote the database; nothing is changed then.
    static func migrate(_ db: PGConnection, migrations: [PostgresMigration] = PostgresSchema.migrations,
                        now: Date, logger: Logger) throws {
        let latest = migrations.last?.version ?? 0
        let found = try currentVersion(db)
        guard found <= latest else {
            throw PostgresStoreError.databaseTooNew(database: db.target, found: found, supported: latest)
        }
        for migration in migrations where migration.version > found {
            try db.execute("BEGIN")
            do {
                try db.run("SELECT pg_advisory_xact_lock($1)", [PGValue(migrationLock)])
                let current = try currentVersion(db)
                if current > latest {
                    throw PostgresStoreError.databaseTooNew(database: db.target, found: current, supported: latest)
                }
                guard current < migration.version else {
                    try db.execute("ROLLBACK")
                    continue
                }
                guard current == migration.version - 1 else {
                    throw PostgresStoreError.migrationFailed(
                        database: db.target, version: migration.version, name: migration.name,
                        reason: "the database is at version \(current), expected \(migration.version - 1)")
                }
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    integer PRIMARY KEY,
                        name       text NOT NULL,
                        applied_at double precision NOT NULL
                    )
                    """)
                do {
                    try db.execute(migration.sql)
                } catch let error as PGError {
                    throw PostgresStoreError.migrationFailed(database: db.target, version: migration.version,
                                                             name: migration.name, reason: error.description)
                }
                try db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                           [PGValue(migration.version), .text(migration.name), PGValue(now)])
                try db.execute("COMMIT")
            } catch {
                if db.inTransaction { _ = try? db.execute("ROLLBACK") }
                throw error
            }
            logger.notice("store schema migrated",
                          ["database": db.target, "version": migration.version, "migration": migration.name])
        }
    }
}

/// Why a ``PostgresDeskStore`` could not be opened. Each case names the
/// database (never its password) and says what to do.
public enum PostgresStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// libpq could not connect (server down, wrong credentials, TLS check failed).
    case cannotConnect(reason: String)
    /// The schema holds another program's tables.
    case notASwitchboardDatabase(database: String, detail: String)
    /// A newer Switchboard wrote this database (schema version `found`, this
    /// code knows up to `supported`). Nothing was changed.
    case databaseTooNew(database: String, found: Int, supported: Int)
    /// A schema migration failed and was rolled back.
    case migrationFailed(database: String, version: Int, name: String, reason: String)

    public var description: String {
        switch self {
        case .cannotConnect(let reason):
            "cannot open the PostgreSQL store: \(reason)"
        case .notASwitchboardDatabase(let database, let detail):
            "cannot open the PostgreSQL store \(database): it belongs to another program (\(detail)); "
                + "give Switchboard a database (or schema) of its own"
        case .databaseTooNew(let database, let found, let supported):
            "cannot open the PostgreSQL store \(database): its schema version is \(found), this Switchboard "
                + "knows versions up to \(supported); it was written by a newer Switchboard — upgrade, "
                + "or restore a backup"
        case .migrationFailed(let database, let version, let name, let reason):
            "cannot open the PostgreSQL store \(database): schema migration \(version) (\(name)) failed and "
                + "was rolled back: \(reason)"
        }
    }
}
