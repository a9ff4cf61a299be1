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

        // A write when the server has just ended the session: either the
        // loss is noticed before it is sent (it is stored on a new
        // connection), or it fails with the lost connection and nothing of
        // it is stored — never reported stored when it is not. The next
        // write is stored either way.
        _ = try Self.sql(url, """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'switchboard' AND pid <> pg_backend_pid()
            """)
        var numbers = [second.number, first.number]
        do {
            numbers.insert(try await store.createTicket(newTicket(3)).number, at: 0)
        } catch let error as PGError {
            #expect(error.connectionLost, "\(error)")
        }
        numbers.insert(try await store.createTicket(newTicket(4)).number, at: 0)
        #expect(try await store.recentTickets(limit: 10).map(\.number) == numbers)
        #expect(store.statistics.reconnects == 2)
        await store.close()
    }

    /// The connection breaks while an update waits inside its transaction:
    /// the caller gets the error, nothing of the update is stored, and the
    /// next call works on a new connection.
    @Test func aWriteWhoseConnectionBreaksMidTransactionFailsAndStoresNothing() async throws {
        let url = try await Self.freshDatabase()
        let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
        let commit = try await store.createTicket(newTicket(1))
        let blocker = try PGConnection(url: url)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        try blocker.run("SELECT 1 FROM tickets WHERE number = $1 FOR UPDATE", [PGValue(commit.number.rawValue)])
        var changed = commit.ticket
        changed.summary = "changed"
        changed.updatedAt = monday.addingTimeInterval(60)
        let update = Task { [changed] in
            try await store.update(commit.stored, to: changed, events: [])
        }
        // The store's session waits for the blocker's row lock: end it there.
        let waiting = """
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
            """
        var pids: [[String?]] = []
        for _ in 0..<1000 where pids.isEmpty {
            pids = try Self.sql(url, waiting)
            if pids.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        let pid = try #require(pids.first?.first ?? nil, "the update never waited for the lock")
        _ = try Self.sql(url, "SELECT pg_terminate_backend(\(pid))")
        let result = await update.result
        guard case .failure(let error as PGError) = result else {
            Issue.record("the update was not failed by the lost connection: \(result)")
            return
        }
        #expect(error.connectionLost, "\(error)")
        try blocker.execute("ROLLBACK")
        #expect(try await store.ticket(commit.number) == commit.stored)
        let retried = try await store.update(commit.stored, to: changed, events: [])
        #expect(retried.version == 2 && retried.ticket.summary == "changed")
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

    /// A creation takes the next ticket's number ahead in its own statement
    /// (one round trip for the next one); a number left unused longer than
    /// ``PGConnection/reservedNumberLifetime`` is dropped, so an
    /// instance idle (or stopped) meanwhile never hands out a number lower
    /// than one another instance already gave. The age is set on the
    /// connection, not waited for.
    @Test func aNumberTakenAheadIsUsedOnlyWhileFresh() async throws {
        let url = try await Self.freshDatabase()
        let a = try PGConnection(url: url)
        let b = try PGConnection(url: url)
        defer {
            a.close()
            b.close()
        }
        try PostgresSchema.migrate(a, now: monday, logger: .disabled)
        func create(_ db: PGConnection, _ index: Int) throws -> TicketNumber {
            try db.insertTicket(newTicket(index), claim: nil, makePages: { _ in firstPages() }).number
        }
        let first = try create(a, 1)
        #expect(a.reservedTicketNumber?.number == first.rawValue + 1, "the next number came with the creation")
        let second = try create(a, 2)
        #expect(second.rawValue == first.rawValue + 1, "a fresh number taken ahead is used")
        let other = try create(b, 3)
        #expect(other.rawValue == second.rawValue + 2, "b's first creation asks the sequence (a holds one ahead)")
        // a idles past the lifetime: its number taken ahead is dropped, not used after b's.
        let held = try #require(a.reservedTicketNumber)
        a.reservedTicketNumber = (held.number, ContinuousClock.now - PGConnection.reservedNumberLifetime - .milliseconds(1))
        let late = try create(a, 4)
        #expect(late > other && late.rawValue != held.number)
        let numbers = try Self.sql(url, "SELECT number FROM tickets ORDER BY number").compactMap { $0.first ?? nil }
        #expect(numbers == [first, second, other, late].map { String($0.rawValue) })
    }

    /// Creating a ticket (ticket, event, pages, claimed or not) is one
    /// request to the server once its statement is prepared and a number
    /// was taken ahead: one round trip and one commit.
    @Test func creatingATicketIsOneRoundTrip() async throws {
        let url = try await Self.freshDatabase()
        let db = try PGConnection(url: url)
        defer { db.close() }
        try PostgresSchema.migrate(db, now: monday, logger: .disabled)
        let lease = try #require(try db.acquireLease("desk", holder: "a", ttl: 60, now: monday))
        let claim = LeaseClaim(lease: lease.name, token: lease.token)
        for claimed in [nil, claim] {
            _ = try db.insertTicket(newTicket(1), claim: claimed, makePages: { _ in firstPages() })
            let before = db.requests
            let commit = try db.insertTicket(newTicket(2), claim: claimed, makePages: { _ in firstPages() })
            #expect(db.requests - before == 1, "claim \(String(describing: claimed))")
            #expect(commit.pages.count == firstPages().count)
            #expect(commit.pageClaim == (claimed == nil ? nil : .claimed))
        }
        #expect(try Self.sql(url, "SELECT count(*) FROM ticket_events") == [["4"]])
    }

    /// Events and pages have no foreign key to their ticket (schema version
    /// 4; it was the largest server cost of a creation): they are written
    /// only with their ticket, and a ticket is never deleted or renumbered —
    /// the database refuses that even by hand, and nothing changes.
    @Test func aTicketCannotBeDeletedOrRenumberedByHand() async throws {
        let url = try await Self.freshDatabase()
        let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
        let commit = try await store.createTicket(newTicket(1), pages: firstPages())
        await store.close()
        let db = try PGConnection(url: url)
        defer { db.close() }
        for statement in ["DELETE FROM tickets", "TRUNCATE tickets CASCADE",
                          "UPDATE tickets SET number = DEFAULT", "UPDATE tickets SET number = 99"] {
            let error = #expect(throws: PGError.self, "\(statement)") { try db.execute(statement) }
            #expect(error?.sqlState == "23001" || error?.sqlState == "428C9", "\(statement): \(String(describing: error))")
        }
        #expect(try Self.sql(url, "SELECT number FROM tickets") == [[String(commit.number.rawValue)]])
        #expect(try Self.sql(url, "SELECT count(*) FROM pages WHERE ticket = \(commit.number.rawValue)")
            == [[String(commit.pages.count)]])
        #expect(try Self.sql(url, "SELECT count(*) FROM ticket_events") == [["1"]])
        // The integrity is the trigger's and the code's, not a foreign key's.
        #expect(try Self.sql(url, """
            SELECT count(*) FROM information_schema.table_constraints
            WHERE constraint_type = 'FOREIGN KEY' AND table_name IN ('ticket_events', 'pages')
            """) == [["0"]])
    }

    /// Schema 5 (issue 12, a cheaper ticket): no index on the customer
    /// number (no query of the gateway uses it), and the CHECKs of the rows a
    /// creation writes are domains (a table CHECK is planned anew at every
    /// execution). A database of schema 4 keeps every row, and each rule
    /// still refuses a bad value written by hand.
    @Test func schemaFiveKeepsTheRowsAndEveryCheckAsADomain() async throws {
        let url = try await Self.freshDatabase()
        let db = try PGConnection(url: url)
        try PostgresSchema.migrate(db, migrations: Array(PostgresSchema.migrations.prefix { $0.version <= 4 }),
                                   now: monday, logger: .disabled)
        #expect(try PostgresSchema.currentVersion(db) == 4)
        let before = try db.insertTicket(newTicket(1), claim: nil, makePages: { _ in firstPages() })
        db.close()

        let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
        #expect(try await store.schemaVersion() == PostgresDeskStore.latestSchemaVersion)
        #expect(try await store.ticket(before.number) == before.stored)
        #expect(try await store.pages(of: before.number) == before.pages)
        #expect(try await store.events(of: before.number).count == 1)
        #expect(try await store.tickets(customerNumber: "10042", openOnly: true, limit: 5).map(\.number) == [before.number])
        let next = try await store.createTicket(newTicket(2), pages: firstPages())
        #expect(next.number.rawValue > before.number.rawValue)
        await store.close()

        let hand = try PGConnection(url: url)
        defer { hand.close() }
        for statement in ["UPDATE tickets SET severity = 5", "UPDATE tickets SET severity = 0",
                          "UPDATE tickets SET version = 0", "UPDATE ticket_events SET seq = 0",
                          "UPDATE pages SET step = -1", "UPDATE pages SET attempts = -1"] {
            let error = #expect(throws: PGError.self, "\(statement)") { try hand.execute(statement) }
            #expect(error?.sqlState == "23514", "\(statement): \(String(describing: error))")
        }
        #expect(try Self.sql(url, "SELECT severity, version FROM tickets ORDER BY number")
            == [["2", "1"], ["2", "1"]])
        #expect(try Self.sql(url, """
            SELECT count(*) FROM pg_constraint
            WHERE contype = 'c' AND conrelid IN ('tickets'::regclass, 'ticket_events'::regclass, 'pages'::regclass)
            """) == [["0"]], "no table CHECK left on the rows a creation writes")
        #expect(try Self.sql(url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'tickets_customer'") == [["0"]])
    }

    /// Schema 6: the contact indexes lower ASCII with `lower()` under the "C"
    /// collation instead of `translate()` (a tenth of a creation's backend
    /// instructions went to it). Tickets written under schema 5 are found as
    /// before: case-insensitive in ASCII only (SQLite's NOCASE: "ÄRGER" is
    /// not "ärger"), by account when there is one, else by nick; the query
    /// can use the new indexes; a creation's pages come back with their own ids.
    @Test func schemaSixFindsContactsAsBeforeThroughTheNewIndexes() async throws {
        let url = try await Self.freshDatabase()
        let db = try PGConnection(url: url)
        try PostgresSchema.migrate(db, migrations: Array(PostgresSchema.migrations.prefix { $0.version <= 5 }),
                                   now: monday, logger: .disabled)
        let withAccount = try db.insertTicket(
            newTicket(1, contact: ChatIdentity(network: "libera", nick: "x", account: "Bob_Smith")),
            claim: nil, makePages: { _ in firstPages() })
        let nickOnly = try db.insertTicket(
            newTicket(2, contact: ChatIdentity(network: "libera", nick: "ÄRGER[Anna]", account: nil)),
            claim: nil, makePages: { _ in [] })
        db.close()

        let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
        #expect(try await store.schemaVersion() == PostgresSchema.latestVersion)
        func found(_ nick: String, _ account: String?) async throws -> [TicketNumber] {
            try await store.tickets(contact: ChatIdentity(network: "libera", nick: nick, account: account),
                                    openOnly: false, limit: 10).map(\.number)
        }
        #expect(try await found("other", "bob_SMITH") == [withAccount.number])
        #expect(try await found("ÄRGER[ANNA]", nil) == [nickOnly.number])
        #expect(try await found("Ärger[anna]", nil) == [nickOnly.number])
        #expect(try await found("ärger[anna]", nil).isEmpty, "only ASCII letters fold")
        #expect(try await found("bob_smith", nil).isEmpty, "an account is not a nick")
        let later = try await store.createTicket(
            newTicket(3, contact: ChatIdentity(network: "libera", nick: "x", account: "BOB_smith")), pages: firstPages())
        #expect(Set(try await found("y", "bob_smith")) == [withAccount.number, later.number])
        #expect(try await store.pages(of: later.number) == later.pages)
        await store.close()

        let hand = try PGConnection(url: url)
        defer { hand.close() }
        _ = try hand.execute("SET enable_seqscan = off")
        for (column, filter, index) in [("contact_account", "contact_account IS NOT NULL", "tickets_contact_account"),
                                        ("contact_nick", "contact_account IS NULL", "tickets_contact_nick")] {
            let plan = try hand.execute("EXPLAIN SELECT number FROM tickets WHERE contact_network = 'libera' AND "
                + filter + " AND " + hand.asciiCaseInsensitiveEquals(column, "'Bob'"))
                .rows.compactMap { $0.values.first ?? nil }.joined(separator: "\n")
            #expect(plan.contains(index), "\(plan)")
        }
    }

    /// Creation reads its page ids from a `bigint[]` in text form; anything
    /// but a well-formed array of 64-bit integers is a corrupt-data error
    /// naming the text, never a wrong id.
    @Test func pageIDsAreReadFromTheArrayTextOrRefused() throws {
        func read(_ text: String) throws -> [Int64] { try PGRow(values: [text], sql: "SELECT ids").int64Array(0) }
        #expect(try read("{}") == [])
        #expect(try read("{7}") == [7])
        #expect(try read("{1,-2,30}") == [1, -2, 30])
        #expect(try read("{9223372036854775807,-9223372036854775808}") == [Int64.max, Int64.min])
        for bad in ["", "{", "7", "{1,,2}", "{1,}", "{,1}", "{a}", "{1 ,2}", "{-}", "{9223372036854775808}",
                    "{-9223372036854775809}", "{1}x"] {
            let error = #expect(throws: TicketStoreError.self, "\(bad)") { try read(bad) }
            #expect("\(String(describing: error))".contains("not an integer array"), "\(bad)")
        }
    }

    /// `sslmode=verify-full` in the URL: libpq checks the chain and the host
    /// name; a certificate for another name or from an unknown CA is refused
    /// before anything is sent.
    @Test func verifyFullTLSConnectsOnlyToTheRightCertificate() async throws {
        let certificates = try await TestCertificates()
        defer { certificates.remove() }
        let server = try await PostgresServer.start(durable: false)
        do {
            let issued = try await certificates.issue(commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"])
            try await server.enableTLS(certificate: issued.certificate, privateKey: issued.privateKey)
            let plain = try await server.createDatabase("tls")
            let url = plain + "?sslmode=verify-full&sslrootcert=\(certificates.authority.certificate)"
            let store = try PostgresDeskStore(url: url, logger: .disabled, now: monday)
            let commit = try await store.createTicket(newTicket(1))
            #expect(try await store.ticket(commit.number) == commit.stored)
            await store.close()
            #expect(try Self.sql(url, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [["t"]])

            // The same server by another name: the certificate does not name it.
            let otherName = url.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
            let wrongName = #expect(throws: PostgresStoreError.self) {
                try PostgresDeskStore(url: otherName, logger: .disabled)
            }
            #expect(wrongName?.description.contains("does not match host name") == true,
                    "\(String(describing: wrongName))")

            // A CA the server's certificate does not come from.
            let stranger = try await certificates.selfSigned(commonName: "Someone Else's CA")
            let unknownCA = plain + "?sslmode=verify-full&sslrootcert=\(stranger.certificate)"
            let untrusted = #expect(throws: PostgresStoreError.self) {
                try PostgresDeskStore(url: unknownCA, logger: .disabled)
            }
            #expect(untrusted?.description.contains("certificate verify failed") == true,
                    "\(String(describing: untrusted))")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
