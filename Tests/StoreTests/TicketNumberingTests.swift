import Desk
import Foundation
import StoreCore
import Testing

@testable import Store

/// Schema 8 (issue 12): tickets and pages take the next rowid instead of
/// `AUTOINCREMENT`, events and pages have no foreign keys. Numbers still
/// never repeat because nothing can delete or renumber a ticket or page,
/// and a store of schema 7 keeps every row.
@Suite struct TicketNumberingTests {
    @Test func aStoreOfSchemaSevenKeepsEveryRowAndItsNumbersGoOn() throws {
        try withTemporaryDirectory { dir in
            let db = try storeOfSchema(7, at: dir.storePath)
            _ = try db.transaction { try db.acquireLease("gateway", holder: "a", ttl: 60, now: monday) }
            let claim = LeaseClaim(lease: "gateway", token: FencingToken(rawValue: 1))
            var commits = try (1...5).map { index in
                try db.insertTicketAsBeforeSchema10(newTicket(index), claim: index.isMultiple(of: 2) ? claim : nil,
                                                    pages: firstPages())
            }
            var events = commits.map { [newTicket(Int($0.number.rawValue)).createdEvent(number: $0.number)] }
            var acknowledged = commits[1].ticket
            acknowledged.state = .acknowledged
            acknowledged.assignee = "bob"
            let acknowledgement = TicketEvent(ticket: acknowledged.number, at: monday, actor: .agent("bob"),
                                              kind: .acknowledged)
            commits[1] = try db.updateTicketAsBeforeSchema10(acknowledged, expectedVersion: commits[1].version,
                                                             events: [acknowledgement], cancelUnsentPages: true)
            events[1].append(acknowledgement)
            try db.transaction { try db.markPageSent(try #require(commits[0].pages.first).id, at: monday) }
            let tickets = try commits.map { try #require(try db.readTicket($0.number)) }
            let pages = try commits.map { try db.pagesAsBeforeSchema11(of: $0.number) }
            let claims = try db.query("SELECT ticket, claimed_token, claimed_at FROM pages ORDER BY id", []) {
                "\(try $0.int64(0)) \(try $0.optionalInt64(1) ?? 0) \(try $0.optionalDate(2)?.description ?? "-")"
            }
            db.close()

            let store = try openStore(dir.storePath)
            for (index, commit) in commits.enumerated() {
                #expect(try store.ticket(commit.number) == tickets[index])
                #expect(try store.events(of: commit.number) == events[index])
                // Schema 11 renumbers them into their ticket's range, in order.
                #expect(try store.pages(of: commit.number) == SQLiteConnection.renumberedBySchema11(pages[index]))
            }
            let next = try store.createTicket(newTicket(6), makePages: { _ in firstPages() })
            #expect(next.number.rawValue == commits.last!.number.rawValue + 1)
            // Schema 11: a page's id is in its ticket's range.
            #expect(next.pages.map(\.id.rawValue) == [60_001, 60_002])
            store.close()

            let after = try SQLiteConnection(path: dir.storePath)
            defer { after.close() }
            #expect(try Schema.currentVersion(after) == Schema.latestVersion)
            #expect(try after.query("SELECT ticket, claimed_token, claimed_at FROM pages WHERE ticket <= 5 ORDER BY id", []) {
                "\(try $0.int64(0)) \(try $0.optionalInt64(1) ?? 0) \(try $0.optionalDate(2)?.description ?? "-")"
            } == claims)
            #expect(try after.queryFirst("PRAGMA integrity_check", []) { try $0.text(0) } == "ok")
            let tables = try after.query("SELECT sql FROM sqlite_schema WHERE name IN ('tickets', 'pages', 'ticket_events')",
                                         []) { try $0.text(0) }
            #expect(tables.count == 3)
            #expect(!tables.contains { $0.contains("AUTOINCREMENT") || $0.contains("REFERENCES") }, "\(tables)")
            #expect(try after.query("SELECT name FROM sqlite_sequence WHERE name IN ('tickets', 'pages')", []) {
                try $0.text(0)
            }.isEmpty)
        }
    }

    /// What `AUTOINCREMENT` guarded against: the newest ticket deleted and
    /// its number given out again. Deleting or renumbering is refused, so
    /// the next number is always past every number given out.
    @Test func ticketsAndPagesCanBeNeitherDeletedNorRenumbered() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let first = try store.createTicket(newTicket(1), makePages: { _ in firstPages() })
            let newest = try store.createTicket(newTicket(2), makePages: { _ in firstPages() })
            store.close()

            let db = try SQLiteConnection(path: dir.storePath)
            for statement: SQL in [
                "DELETE FROM tickets WHERE number = (SELECT MAX(number) FROM tickets)",
                "UPDATE tickets SET number = number + 100 WHERE number = (SELECT MAX(number) FROM tickets)",
                "DELETE FROM pages WHERE id = (SELECT MAX(id) FROM pages)",
                "UPDATE pages SET id = id + 100 WHERE id = (SELECT MAX(id) FROM pages)",
            ] {
                #expect(throws: SQLiteError.self, "\(statement)") { try db.transaction { try db.run(statement) } }
            }
            #expect(throws: SQLiteError.self) { try db.transaction { try db.run("DELETE FROM tickets") } }
            db.close()

            let reopened = try openStore(dir.storePath)
            defer { reopened.close() }
            #expect(try reopened.ticket(newest.number) == newest.stored)
            #expect(try reopened.ticket(first.number) == first.stored)
            let next = try reopened.createTicket(newTicket(3), makePages: { _ in firstPages() })
            #expect(next.number.rawValue == newest.number.rawValue + 1)
            #expect(next.pages.first!.id.rawValue == next.number.rawValue * 10_000 + 1)
            #expect(next.pages.first!.id.rawValue > newest.pages.last!.id.rawValue)
        }
    }
}
