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
            let records = try insertPages(pages, ticket: number,
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
}
