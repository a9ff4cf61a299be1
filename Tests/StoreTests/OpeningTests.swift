import Core
import Desk
import Foundation
@testable import Store
import Testing

/// Opening a store: migrations, reopening, and the clear errors for files
/// and directories the store cannot use.
@Suite struct OpeningTests {
    @Test func migratesAnEmptyFileToTheLatestSchema() throws {
        try withTemporaryDirectory { dir in
            // A zero-byte file is an empty SQLite database.
            #expect(FileManager.default.createFile(atPath: dir.storePath, contents: Data()))
            let store = try openStore(dir.storePath)
            store.close()

            let db = try SQLiteConnection(path: dir.storePath)
            let versions = try db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") {
                (try $0.int(0), try $0.text(1), try $0.date(2))
            }
            #expect(versions.map(\.0) == Array(1...Schema.latestVersion))
            #expect(versions.first?.2 == monday)
            let tables = Set(try db.query("SELECT name FROM sqlite_schema WHERE type = 'table'") { try $0.text(0) })
            #expect(tables.isSuperset(of: ["tickets", "ticket_events", "pages", "roster_overrides", "counters",
                                           "failed_pins", "pin_checks", "conversations", "schema_migrations"]))
            #expect(try db.queryFirst("PRAGMA user_version") { try $0.int(0) } == Schema.latestVersion)
            #expect(try db.queryFirst("PRAGMA journal_mode") { try $0.text(0) } == "wal")
            #expect(try db.queryFirst("PRAGMA application_id") { try $0.int64(0) } == 0x5357_4244)
        }
    }

    @Test func createsAMissingFileAndReopensWithoutMigratingAgain() throws {
        try withTemporaryDirectory { dir in
            #expect(!FileManager.default.fileExists(atPath: dir.storePath))
            try openStore(dir.storePath).close()
            let later = monday.addingTimeInterval(3600)
            try BlockingSQLiteStore(path: dir.storePath, logger: .disabled, now: later).close()
            let db = try SQLiteConnection(path: dir.storePath)
            let applied = try db.query("SELECT applied_at FROM schema_migrations") { try $0.date(0) }
            #expect(applied == Array(repeating: monday, count: Schema.latestVersion))
        }
    }

    @Test func reopeningKeepsEverything() throws {
        try withTemporaryDirectory { dir in
            var store = try openStore(dir.storePath)
            let created = try store.createTicket(newTicket(), pages: firstPages())
            var ticket = created.ticket
            ticket.state = .acknowledged
            ticket.assignee = "bob"
            ticket.respondedAt = monday.addingTimeInterval(90)
            ticket.updatedAt = monday.addingTimeInterval(90)
            let ack = TicketEvent(ticket: ticket.number, at: ticket.updatedAt, actor: .agent("bob"), kind: .acknowledged,
                                  from: "new", to: "acknowledged", note: "on it")
            let updated = try store.updateTicket(ticket, expectedVersion: created.version, events: [ack])
            try store.markPageSent(created.pages[0].id, at: monday.addingTimeInterval(1))
            let override = try store.addRosterOverride(RosterOverrideDraft(
                agent: "carol", from: monday, until: monday.addingTimeInterval(8 * 3600), createdBy: .agent("bob"),
                createdAt: monday))
            try store.incrementCounter("deflected", key: "kb-17", by: 3)
            let eventsBefore = try store.events(of: ticket.number)
            let pagesBefore = try store.pages(of: ticket.number)
            store.close()

            store = try openStore(dir.storePath)
            #expect(try store.ticket(ticket.number) == updated.stored)
            #expect(try store.events(of: ticket.number) == eventsBefore)
            #expect(eventsBefore.count == 2)
            #expect(try store.pages(of: ticket.number) == pagesBefore)
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: 10).map(\.id) == [created.pages[1].id])
            #expect(try store.rosterOverrides(activeAt: monday.addingTimeInterval(60)) == [override])
            #expect(try store.counters("deflected") == ["kb-17": 3])
            store.close()
        }
    }

    @Test func refusesADatabaseWrittenByNewerCodeAndChangesNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let number = try store.createTicket(newTicket()).number
            store.close()
            let db = try SQLiteConnection(path: dir.storePath)
            try db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)",
                       [SQLiteValue(Schema.latestVersion + 1)])
            db.close()

            #expect {
                try openStore(dir.storePath)
            } throws: { error in
                guard case SQLiteStoreError.databaseTooNew(let path, let found, let supported) = error else { return false }
                let text = String(describing: error)
                return path == dir.storePath && found == Schema.latestVersion + 1 && supported == Schema.latestVersion
                    && text.contains("newer Switchboard")
                    && text.contains(dir.storePath)
            }
            let check = try SQLiteConnection(path: dir.storePath)
            #expect(try check.query("SELECT version FROM schema_migrations ORDER BY version") { try $0.int(0) }
                == Array(1...(Schema.latestVersion + 1)))
            #expect(try check.query("SELECT number FROM tickets") { try $0.int64(0) } == [number.rawValue])
        }
    }

    @Test func refusesAFileThatIsNotADatabaseAndLeavesItAlone() throws {
        try withTemporaryDirectory { dir in
            let content = Data(String(repeating: "customer notes, not a database\n", count: 200).utf8)
            #expect(FileManager.default.createFile(atPath: dir.storePath, contents: content))
            #expect {
                try openStore(dir.storePath)
            } throws: { error in
                guard case SQLiteStoreError.notADatabase(let path, _) = error else { return false }
                return path == dir.storePath && String(describing: error).contains("not an SQLite database")
            }
            #expect(FileManager.default.contents(atPath: dir.storePath) == content)
        }
    }

    @Test func refusesAnotherProgramsDatabase() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            try db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
            db.close()
            #expect {
                try openStore(dir.storePath)
            } throws: { error in
                guard case SQLiteStoreError.notASwitchboardDatabase(_, let detail) = error else { return false }
                return detail.contains("invoices")
            }
        }
    }

    @Test func namesAMissingDirectory() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("no/such/dir/store.sqlite")
            #expect {
                try openStore(path)
            } throws: { error in
                guard case SQLiteStoreError.directoryMissing(let p, let directory) = error else { return false }
                return p == path && directory == dir.path("no/such/dir")
                    && String(describing: error).contains("does not exist")
            }
        }
    }

    @Test func namesAParentThatIsAFile() throws {
        try withTemporaryDirectory { dir in
            #expect(FileManager.default.createFile(atPath: dir.path("plain"), contents: Data("x".utf8)))
            #expect(throws: SQLiteStoreError.notADirectory(path: dir.path("plain/store.sqlite"),
                                                          directory: dir.path("plain"))) {
                try openStore(dir.path("plain/store.sqlite"))
            }
            try FileManager.default.createDirectory(atPath: dir.path("adir"), withIntermediateDirectories: false)
            #expect(throws: SQLiteStoreError.isADirectory(path: dir.path("adir"))) {
                try openStore(dir.path("adir"))
            }
        }
    }

    /// Root may write anywhere, so this runs only as another user (CI runs
    /// as root: there the read-only file system case below covers it).
    @Test(.enabled(if: geteuid() != 0, "root ignores directory permissions"))
    func namesAReadOnlyDirectory() throws {
        try withTemporaryDirectory { dir in
            let readOnly = dir.path("ro")
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o555])
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readOnly) }
            #expect {
                try openStore(readOnly + "/store.sqlite")
            } throws: { error in
                guard case SQLiteStoreError.directoryNotWritable(_, let directory, let reason) = error else {
                    return false
                }
                return directory == readOnly && reason.contains("ermission denied")
            }
        }
    }

    /// `/proc/self` refuses new files even to root.
    @Test func namesADirectoryWhereNoFileCanBeCreated() throws {
        #expect {
            try openStore("/proc/self/switchboard.sqlite")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("/proc/self/switchboard.sqlite") && text.contains("cannot open the store")
        }
    }

    @Test func aClosedStoreSaysSo() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            store.close()
            #expect(throws: TicketStoreError.closed) { try store.recentTickets(limit: 1) }
        }
    }
}
