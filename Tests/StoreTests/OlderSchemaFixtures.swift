import Desk
import Foundation
import StoreCore

@testable import Store

// Stores as older Switchboard code left them, for the migration tests: the
// schema of an earlier version, and rows written by the statements that
// code ran (the current code's writes need the newest schema).

/// A WAL store migrated up to `version` only.
func storeOfSchema(_ version: Int, at path: String) throws -> SQLiteConnection {
    let db = try SQLiteConnection(path: path)
    try db.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON")
    try Schema.migrate(db, migrations: Array(Schema.migrations.prefix { $0.version <= version }), now: monday,
                       logger: .disabled)
    return db
}

extension SQLiteConnection {
    /// A ticket created as schemas 5–9 stored it (their `insertTicket`): the
    /// row, its `created` event as event row 1, and its pages (claimed with
    /// `claim` when the lease admits it), in one transaction.
    func insertTicketAsBeforeSchema10(_ new: NewTicket, claim: LeaseClaim? = nil, pages: [PageDraft] = [])
        throws -> TicketCommit {
        try transaction {
            try run("""
                INSERT INTO tickets (version, created_at, updated_at, customer_number, customer_name,
                    contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                    description, language, state, assignee, responded_at, contract_claim_pin_locked)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)
                """, [
                    SQLiteValue(new.createdAt), SQLiteValue(new.createdAt), SQLiteValue(new.customerNumber),
                    SQLiteValue(new.customerName), SQLiteValue(new.contact.network), SQLiteValue(new.contact.nick),
                    SQLiteValue(new.contact.account), SQLiteValue(new.group.rawValue), SQLiteValue(new.tier),
                    SQLiteValue(new.severity.rawValue), SQLiteValue(new.summary), SQLiteValue(new.description),
                    SQLiteValue(new.language), SQLiteValue(TicketState.new.rawValue),
                    SQLiteValue(new.contractClaimPINLocked),
                ] as [SQLiteValue])
            let number = TicketNumber(lastInsertRowID)
            try insertEvents([new.createdEvent(number: number)], ticket: number, firstSeq: 1)
            let claimed = try claim.map { try leaseAdmits($0.lease, token: $0.token, now: new.createdAt) } ?? false
            let records = try insertPagesAsBeforeSchema11(pages, ticket: number,
                                                          claimedBy: claimed ? claim.map { ($0.token, new.createdAt) } : nil)
            return TicketCommit(stored: StoredTicket(ticket: new.ticket(number: number), version: 1), pages: records,
                                pageClaim: claim == nil || pages.isEmpty ? nil : claimed ? .claimed : .fenced)
        }
    }

    /// An update as schemas 5–9 stored it: state, assignee, response time
    /// and summary, `events` appended, unsent pages cancelled if asked.
    func updateTicketAsBeforeSchema10(_ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent] = [],
                                      cancelUnsentPages: Bool = false) throws -> TicketCommit {
        try transaction {
            let changed = try run("""
                UPDATE tickets SET version = version + 1, updated_at = ?, state = ?, assignee = ?, responded_at = ?,
                    summary = ?, severity = ?
                WHERE number = ? AND version = ?
                """, [SQLiteValue(ticket.updatedAt), SQLiteValue(ticket.state.rawValue), SQLiteValue(ticket.assignee),
                      SQLiteValue(ticket.respondedAt), SQLiteValue(ticket.summary),
                      SQLiteValue(ticket.severity.rawValue), SQLiteValue(ticket.number.rawValue),
                      SQLiteValue(expectedVersion)] as [SQLiteValue])
            guard changed == 1 else { throw TicketStoreError.conflict(ticket.number, expectedVersion: expectedVersion,
                                                                       currentVersion: -1) }
            if cancelUnsentPages {
                try run("UPDATE pages SET cancelled_at = ? WHERE ticket = ? AND sent_at IS NULL AND cancelled_at IS NULL",
                        [SQLiteValue(ticket.updatedAt), SQLiteValue(ticket.number.rawValue)] as [SQLiteValue])
            }
            let last = try queryFirst("SELECT COALESCE(MAX(seq), 0) FROM ticket_events WHERE ticket = ?",
                                      [SQLiteValue(ticket.number.rawValue)]) { try $0.int64(0) } ?? 0
            try insertEvents(events, ticket: ticket.number, firstSeq: last + 1)
            return TicketCommit(stored: StoredTicket(ticket: ticket, version: expectedVersion + 1), pages: [])
        }
    }

    /// Pages as schemas 5–10 stored them: each takes the table's next rowid.
    func insertPagesAsBeforeSchema11(_ pages: [PageDraft], ticket: TicketNumber,
                                     claimedBy claim: (token: FencingToken, at: Date)? = nil) throws -> [PageRecord] {
        try pages.map { page in
            try run("""
                INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at,
                    claimed_token, claimed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [SQLiteValue(ticket.rawValue), SQLiteValue(page.step), SQLiteValue(page.network),
                      SQLiteValue(page.target), SQLiteValue(page.targetKind.rawValue), SQLiteValue(page.text),
                      SQLiteValue(page.createdAt), SQLiteValue(page.dueAt), SQLiteValue(claim?.token.rawValue),
                      SQLiteValue(claim?.at)] as [SQLiteValue])
            return PageRecord(id: PageID(rawValue: lastInsertRowID), ticket: ticket, step: page.step,
                              network: page.network, target: page.target, targetKind: page.targetKind,
                              text: page.text, createdAt: page.createdAt, dueAt: page.dueAt)
        }
    }

    /// A ticket's pages as schemas 5–10 read them (by the ticket column).
    func pagesAsBeforeSchema11(of ticket: TicketNumber) throws -> [PageRecord] {
        try query(StoreRows.pageColumns + " WHERE ticket = $1 ORDER BY id", [StoreValue(ticket.rawValue)], StoreRows.page)
    }

    /// `pages` with the ids schema 11 gives them: their ticket's range, in order.
    static func renumberedBySchema11(_ pages: [PageRecord]) -> [PageRecord] {
        pages.enumerated().map { offset, page in
            var page = page
            page.id = PageID(rawValue: page.ticket.rawValue * 10_000 + Int64(offset) + 1)
            return page
        }
    }
}
