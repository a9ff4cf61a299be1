import Core
import Desk
import Foundation
import StoreCore
import Testing

@testable import Store

/// Issue 12, a cheaper ticket: every B-tree a ticket writes costs WAL pages
/// and CPU at each creation, so the store keeps only the indexes that the
/// gateway's queries need — and those queries must keep finding them: a
/// query that walks a whole table of 100k tickets holds the store thread
/// (and every ticket waiting behind it) for tens of milliseconds.
@Suite struct QueryPlanTests {
    /// Runs every read and write the gateway makes, on a store with a few
    /// hundred tickets (open and closed, with and without accounts), then
    /// asks SQLite for the plan of each statement it prepared.
    @Test func noQueryTheGatewayRunsWalksAWholeTable() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            try db.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON")
            try Schema.migrate(db, now: monday, logger: .disabled)
            var numbers: [TicketNumber] = []
            for index in 1...300 {
                let contact = ChatIdentity(network: "libera", nick: "c\(index % 40)",
                                           account: index % 2 == 0 ? "acct\(index % 40)" : nil)
                let commit = try db.transaction {
                    try db.insertTicket(newTicket(index, contact: contact), claim: nil, makePages: { _ in firstPages() })
                }
                numbers.append(commit.number)
            }
            let some = numbers[17]
            let stored = try #require(try db.readTicket(some))
            var closed = stored.ticket
            closed.state = .closed
            _ = try db.transaction {
                try db.updateTicket(closed, expectedVersion: stored.version, events: [], pages: [
                    PageDraft(step: 1, network: "libera", target: "bob", text: "again", createdAt: monday),
                ], cancelUnsentPages: true)
            }
            let page = try #require(try db.pages(of: numbers[3]).first)
            try db.transaction { try db.markPageSent(page.id, at: monday) }
            try db.transaction { try db.markPageFailed(try #require(try db.pages(of: numbers[4]).first).id,
                                                       error: "no such nick", retryAt: monday) }
            _ = try db.transaction { try db.acquireLease("gateway", holder: "a", ttl: 6, now: monday) }
            _ = try db.transaction {
                try db.claimPages([page.id], lease: "gateway", token: FencingToken(rawValue: 1), now: monday)
            }

            _ = try db.events(of: some)
            _ = try db.openTickets()
            for contact in [ChatIdentity(network: "libera", nick: "c3", account: nil),
                            ChatIdentity(network: "libera", nick: "c4", account: "acct4")] {
                _ = try db.tickets(contact: contact, openOnly: true, limit: 10)
                _ = try db.tickets(contact: contact, openOnly: false, limit: 1)
            }
            _ = try db.recentTickets(limit: 20)
            _ = try db.tickets(createdFrom: monday.addingTimeInterval(-86_400), until: monday, limit: 50_000)
            _ = try db.pendingPages(dueBy: monday, limit: 200)
            _ = try db.nextPageDue()
            _ = try db.escalationSteps(of: some)
            _ = try db.tickets(customerNumber: "10042", openOnly: true, limit: 10)

            var plans: [String: [String]] = [:]
            for sql in db.preparedSQL {
                // The plan does not depend on the values: NULL for each parameter.
                let numbered = sql.matches(of: /\?(\d+)/).compactMap { Int($0.1) }.max()
                let parameters = numbered ?? sql.filter { $0 == "?" }.count
                plans[sql] = try db.query("EXPLAIN QUERY PLAN " + sql, Array(repeating: StoreValue.null, count: parameters),
                                          { try $0.text(3) })
            }
            #expect(plans.count >= 15, "the statements ran: \(plans.keys.sorted())")
            for (sql, plan) in plans {
                // The newest tickets walk the primary key backwards and stop
                // at the limit; a customer number has no index (nothing in the
                // gateway asks for it).
                if sql.contains("FROM tickets ORDER BY number DESC LIMIT") || sql.contains("WHERE customer_number =") {
                    continue
                }
                let scans = plan.filter { $0.hasPrefix("SCAN ") && !$0.contains(" USING ") && !$0.hasPrefix("SCAN sqlite_") }
                #expect(scans.isEmpty, "\(sql) walks a whole table: \(plan)")
            }
            let open = plans.first { $0.key.hasSuffix("FROM tickets WHERE " + db.openTicketCondition + " ORDER BY number") }
            #expect(open?.value.contains { $0.contains("tickets_open") } == true,
                    "open tickets are read from their index: \(String(describing: open))")
        }
    }

    /// A ticket's creation and updates evaluate `tickets_open`'s condition
    /// for the row: no statement of theirs may build a temporary B-tree (as
    /// `state NOT IN ('resolved', 'closed', 'cancelled')` did for its list at
    /// every execution, ~15 % of a ticket's statement CPU).
    @Test func aTicketsWritesBuildNoTemporaryTable() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            try db.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON")
            try Schema.migrate(db, now: monday, logger: .disabled)
            let commit = try db.transaction {
                try db.insertTicket(newTicket(1), claim: nil, makePages: { _ in firstPages() })
            }
            var closed = commit.ticket
            closed.state = .closed
            _ = try db.transaction {
                try db.updateTicket(closed, expectedVersion: commit.version,
                                    events: [TicketEvent(ticket: commit.number, at: monday, actor: .agent("bob"),
                                                         kind: .stateChanged, from: "new", to: "closed")],
                                    pages: [], cancelUnsentPages: true)
            }
            // `RETURNING` gathers its rows in a temporary table by design
            // (the update's, once per update); every other write must not.
            let writes = db.preparedSQL.filter {
                ($0.hasPrefix("INSERT") || $0.hasPrefix("UPDATE")) && !$0.contains("RETURNING")
            }
            #expect(writes.count >= 4, "the statements ran: \(writes)")
            #expect(writes.contains { $0.hasPrefix("INSERT INTO tickets") })
            for sql in writes {
                let numbered = sql.matches(of: /\?(\d+)/).compactMap { Int($0.1) }.max()
                let parameters = numbered ?? sql.filter { $0 == "?" }.count
                let opcodes = try db.query("EXPLAIN " + sql, Array(repeating: StoreValue.null, count: parameters)) {
                    try $0.text(1)
                }
                #expect(!opcodes.contains("OpenEphemeral"), "\(sql) builds a temporary B-tree at each run")
            }
        }
    }

    /// Schema 7 rebuilds `tickets_open` with its new condition: the open
    /// tickets of a schema-6 store are still found, through the index.
    @Test func aStoreOfSchemaSixKeepsItsOpenTickets() throws {
        try withTemporaryDirectory { dir in
            let db = try storeOfSchema(6, at: dir.storePath)
            let commits = try (1...6).map { index in try db.insertTicketAsBeforeSchema10(newTicket(index)) }
            for (commit, state) in zip(commits, [TicketState.resolved, .closed, .cancelled]) {
                var ticket = commit.ticket
                ticket.state = state
                _ = try db.updateTicketAsBeforeSchema10(ticket, expectedVersion: commit.version)
            }
            db.close()

            let store = try openStore(dir.storePath)
            #expect(try store.openTickets().map(\.number) == commits.suffix(3).map(\.number))
            store.close()
            let after = try SQLiteConnection(path: dir.storePath)
            defer { after.close() }
            let plan = try after.query("EXPLAIN QUERY PLAN " + StoreRows.ticketColumns + " WHERE "
                + after.openTicketCondition + " ORDER BY number", []) { try $0.text(3) }
            #expect(plan.contains { $0.contains("tickets_open") }, "\(plan)")
            #expect(try after.queryFirst("SELECT COUNT(*) FROM tickets INDEXED BY tickets_open WHERE "
                + after.openTicketCondition, []) { try $0.int(0) } == 3)
        }
    }

    /// A ticket's commit writes each page it changed to the WAL whole: a new
    /// store uses 1 KB pages (a third of the bytes per ticket), a store made
    /// with SQLite's 4 KB pages keeps them and works as before.
    @Test func aNewStoreUsesSmallPagesAndAnOlderOneKeepsItsOwn() throws {
        try withTemporaryDirectory { dir in
            func pageSize(_ path: String) throws -> Int {
                let db = try SQLiteConnection(path: path)
                defer { db.close() }
                return try db.queryFirst("PRAGMA page_size", [], { try $0.int(0) }) ?? 0
            }
            let fresh = try openStore(dir.storePath)
            let commit = try fresh.createTicket(newTicket(1, description: String(repeating: "log line 42 ", count: 600)),
                                                pages: firstPages())
            #expect(try fresh.ticket(commit.number) == commit.stored, "a 7 KB description spills and reads back whole")
            fresh.close()
            #expect(try pageSize(dir.storePath) == 1024)

            let older = dir.path("older.sqlite")
            let db = try SQLiteConnection(path: older)
            try db.execute("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL")
            try Schema.migrate(db, now: monday, logger: .disabled)
            db.close()
            let store = try openStore(older)
            let kept = try store.createTicket(newTicket(2), pages: firstPages())
            #expect(try store.ticket(kept.number) == kept.stored)
            store.close()
            #expect(try pageSize(older) == 4096)
        }
    }

    /// Schema 6 drops the index on the customer number: a store of schema 5
    /// keeps every ticket, event and page, and still answers by customer.
    @Test func aStoreOfSchemaFiveMigratesWithEverythingInIt() throws {
        try withTemporaryDirectory { dir in
            let db = try storeOfSchema(5, at: dir.storePath)
            #expect(try Schema.currentVersion(db) == 5)
            let before = try (1...3).map { index in
                try db.insertTicketAsBeforeSchema10(newTicket(index), pages: firstPages())
            }
            db.close()

            let store = try openStore(dir.storePath)
            for commit in before {
                #expect(try store.ticket(commit.number) == commit.stored)
                #expect(try store.pages(of: commit.number) == SQLiteConnection.renumberedBySchema11(commit.pages))
                #expect(try store.events(of: commit.number).count == 1)
            }
            #expect(try store.tickets(customerNumber: "10042", openOnly: true, limit: 10).map(\.number)
                == before.map(\.number).reversed())
            let next = try store.createTicket(newTicket(4))
            #expect(next.number.rawValue == before.last!.number.rawValue + 1)
            store.close()

            let after = try SQLiteConnection(path: dir.storePath)
            defer { after.close() }
            #expect(try Schema.currentVersion(after) == Schema.latestVersion)
            let indexes = try after.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tickets'", []) {
                try $0.text(0)
            }
            #expect(Set(indexes) == ["tickets_open", "tickets_contact", "tickets_created"])
        }
    }
}
