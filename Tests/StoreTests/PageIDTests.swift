import Desk
import Foundation
import StoreCore
import Testing

@testable import Store

/// Schema 11 (issue 12): a page's id is `ticket × 10,000 + n`, so a
/// ticket's pages are a range of the primary key and the index of pages by
/// ticket (a B-tree insert per page) is gone. Ids still never repeat, every
/// query by ticket still finds its pages without walking the table, and a
/// store of schema 10 keeps every page.
@Suite struct PageIDTests {
    @Test func aTicketsPagesAreARangeOfThePrimaryKeyInTheOrderWritten() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let first = try store.createTicket(newTicket(1), pages: firstPages())
            let second = try store.createTicket(newTicket(2), pages: firstPages())
            #expect(first.pages.map(\.id.rawValue) == [10_001, 10_002])
            #expect(second.pages.map(\.id.rawValue) == [20_001, 20_002])
            let escalated = try store.updateTicket(first.ticket, expectedVersion: first.version, events: [], pages: [
                PageDraft(step: 1, network: "libera", target: "carol", text: "P2 still open", createdAt: monday),
            ], cancelUnsentPages: false)
            #expect(escalated.pages.map(\.id.rawValue) == [10_003])
            #expect(try store.pages(of: first.number) == first.pages + escalated.pages)
            #expect(try store.pages(of: second.number) == second.pages)
            #expect(try store.escalationSteps(of: first.number) == [0, 1])
            // The step check and the cancellation find the ticket's pages.
            #expect(throws: TicketStoreError.escalationStepExists(first.number, step: 1)) {
                try store.updateTicket(escalated.ticket, expectedVersion: escalated.version, events: [], pages: [
                    PageDraft(step: 1, network: "libera", target: "carol", text: "again", createdAt: monday),
                ], cancelUnsentPages: false)
            }
            _ = try store.updateTicket(escalated.ticket, expectedVersion: escalated.version, events: [], pages: [],
                                       cancelUnsentPages: true)
            #expect(try store.pendingPages(dueBy: monday, limit: 10).map(\.id) == second.pages.map(\.id))
            store.close()

            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            let indexes = try db.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'pages'", []) {
                try $0.text(0)
            }
            #expect(indexes == ["pages_pending"])
            let plan = try db.query("EXPLAIN QUERY PLAN SELECT id FROM pages WHERE " + db.pagesOfTicket("?1"),
                                    [StoreValue.integer(1)]) { try $0.text(3) }
            #expect(plan.count == 1 && plan[0].contains("INTEGER PRIMARY KEY"), "\(plan)")
        }
    }

    /// A ticket's range holds 9,999 pages; one more is refused with a clear
    /// error and the update that brought it stores nothing.
    @Test func aFullRangeIsAClearErrorAndTheUpdateStoresNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let created = try store.createTicket(newTicket(1), pages: firstPages())
            store.close()
            let db = try SQLiteConnection(path: dir.storePath)
            try db.transaction {
                try db.run("""
                    INSERT INTO pages (id, ticket, step, network, target, text, created_at, due_at)
                    VALUES (19999, 1, 7, 'libera', 'bob', 'last one', 0, 0)
                    """)
            }
            // Outside the range, the table refuses it.
            #expect(throws: SQLiteError.self) {
                try db.transaction {
                    try db.run("""
                        INSERT INTO pages (id, ticket, step, network, target, text, created_at, due_at)
                        VALUES (20000, 1, 8, 'libera', 'bob', 'one too many', 0, 0)
                        """)
                }
            }
            db.close()

            let reopened = try openStore(dir.storePath)
            defer { reopened.close() }
            var changed = created.ticket
            changed.state = .paged
            #expect {
                try reopened.updateTicket(changed, expectedVersion: created.version, events: [], pages: [
                    PageDraft(step: 9, network: "libera", target: "carol", text: "P2", createdAt: monday),
                ], cancelUnsentPages: false)
            } throws: { error in
                guard case TicketStoreError.invalid(let message) = error else { return false }
                return message.contains("9999")
            }
            #expect(try reopened.ticket(created.number) == created.stored)
            #expect(try reopened.pages(of: created.number).count == 3)
        }
    }

    /// A store of schema 10 whose pages took the next rowid (tickets'
    /// pages interleaved, sent, cancelled, claimed, failed): every page is
    /// kept with its state, renumbered into its ticket's range in order.
    @Test func aStoreOfSchemaTenKeepsEveryPageWithItsState() throws {
        try withTemporaryDirectory { dir in
            let db = try storeOfSchema(10, at: dir.storePath)
            _ = try db.transaction { try db.acquireLease("gateway", holder: "a", ttl: 60, now: monday) }
            let claim = LeaseClaim(lease: "gateway", token: FencingToken(rawValue: 1))
            let one = try db.insertTicketAsBeforeSchema10(newTicket(1), claim: claim, pages: firstPages())
            let two = try db.insertTicketAsBeforeSchema10(newTicket(2), pages: firstPages())
            let later = try db.transaction {
                try db.insertPagesAsBeforeSchema11([
                    PageDraft(step: 1, network: "libera", target: "carol", text: "P2 still open",
                              createdAt: monday.addingTimeInterval(600)),
                ], ticket: one.number)
            }
            #expect((one.pages + two.pages + later).map(\.id.rawValue) == [1, 2, 3, 4, 5])
            try db.transaction {
                try db.markPageSent(one.pages[0].id, at: monday)
                try db.markPageFailed(two.pages[1].id, error: "no such nick", retryAt: monday.addingTimeInterval(60))
                try db.run("UPDATE pages SET cancelled_at = ? WHERE id = ?",
                           [SQLiteValue(monday), SQLiteValue(two.pages[0].id.rawValue)] as [SQLiteValue])
            }
            // Every column but the id, as SQLite quotes it.
            func rows(_ db: SQLiteConnection) throws -> [String] {
                try db.query("""
                    SELECT quote(ticket) || '|' || quote(step) || '|' || quote(network) || '|' || quote(target) || '|'
                        || quote(text) || '|' || quote(created_at) || '|' || quote(due_at) || '|' || quote(sent_at)
                        || '|' || quote(cancelled_at) || '|' || quote(attempts) || '|' || quote(last_error) || '|'
                        || quote(target_kind) || '|' || quote(claimed_token) || '|' || quote(claimed_at)
                    FROM pages ORDER BY id
                    """, []) { try $0.text(0) }
            }
            let before = try rows(db)
            db.close()

            let store = try openStore(dir.storePath)
            let migrated = try SQLiteConnection(path: dir.storePath)
            #expect(try rows(migrated) == [before[0], before[1], before[4], before[2], before[3]])
            migrated.close()
            #expect(try store.pages(of: one.number).map(\.id.rawValue) == [10_001, 10_002, 10_003])
            #expect(try store.pages(of: two.number).map(\.id.rawValue) == [20_001, 20_002])
            #expect(try store.pages(of: one.number).map(\.text) == (one.pages + later).map(\.text))
            #expect(try store.pendingPages(dueBy: monday.addingTimeInterval(3_600), limit: 10).map(\.id.rawValue)
                == [10_002, 20_002, 10_003])
            let next = try store.updateTicket(one.ticket, expectedVersion: one.version, events: [], pages: [
                PageDraft(step: 2, network: "libera", target: "dave", text: "P2 third step", createdAt: monday),
            ], cancelUnsentPages: false)
            #expect(next.pages.map(\.id.rawValue) == [10_004])
            store.close()

            let after = try SQLiteConnection(path: dir.storePath)
            defer { after.close() }
            #expect(try after.queryFirst("PRAGMA integrity_check", []) { try $0.text(0) } == "ok")
            #expect(throws: SQLiteError.self) { try after.transaction { try after.run("DELETE FROM pages") } }
        }
    }
}
