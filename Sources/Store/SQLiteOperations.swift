import CSQLite
import Desk
import Foundation
import StoreCore

// SQLite as a `StoreDatabase`: the shared operations (`StoreCore`) run on
// it, and what only SQLite's dialect can say is here — ticket creation (the
// number is the new row's rowid) and the lease with the caller's clock.

extension SQLiteRow: StoreRow {
    public func int64(_ column: Int) throws -> Int64 { try int64(Int32(column)) }
    public func optionalInt64(_ column: Int) throws -> Int64? { try optionalInt64(Int32(column)) }
    public func text(_ column: Int) throws -> String { try text(Int32(column)) }
    public func optionalText(_ column: Int) throws -> String? { try optionalText(Int32(column)) }
    public func date(_ column: Int) throws -> Date { try date(Int32(column)) }
    public func optionalDate(_ column: Int) throws -> Date? { try optionalDate(Int32(column)) }
    public func bool(_ column: Int) throws -> Bool { try int64(Int32(column)) != 0 }
    public func bytes(_ column: Int) throws -> Data { Data(try blob(Int32(column))) }
}

extension SQLiteValue {
    /// The SQLite form of a shared statement's value.
    init(_ value: StoreValue) {
        switch value {
        case .null: self = .null
        case .integer(let integer): self = .integer(integer)
        case .real(let real): self = .real(real)
        case .text(let text): self = .text(text)
        case .bytes(let data): self = .blob([UInt8](data))
        case .bool(let flag): self = .integer(flag ? 1 : 0)
        }
    }
}

extension StoreValue: SQLiteParameter {
    var textByteCount: Int { if case .text(let text) = self { text.utf8.count } else { 0 } }

    /// Binds the shared statement's value as ``SQLiteValue/init(_:)-(StoreValue)`` maps it,
    /// without making that value (no copy of text, no `[UInt8]` of bytes).
    func bind(to statement: OpaquePointer, at index: Int32, arena: inout TextArena) -> Int32 {
        switch self {
        case .null: sqlite3_bind_null(statement, index)
        case .integer(let integer): sqlite3_bind_int64(statement, index, integer)
        case .real(let real): sqlite3_bind_double(statement, index, real)
        case .text(let text): arena.bindText(text, to: statement, at: index)
        case .bytes(let data): bindBlob(data, to: statement, at: index)
        case .bool(let flag): sqlite3_bind_int64(statement, index, flag ? 1 : 0)
        }
    }
}

extension SQLiteConnection: StoreDatabase {
    public func query<T>(_ sql: String, _ values: [StoreValue], _ read: (SQLiteRow) throws -> T) throws -> [T] {
        try queryBound(SQL(portable: sql), values, read)
    }

    public func queryFirst<T>(_ sql: String, _ values: [StoreValue], _ read: (SQLiteRow) throws -> T) throws -> T? {
        try queryFirstBound(SQL(portable: sql), values, read)
    }

    @discardableResult
    public func run(_ sql: String, _ values: [StoreValue]) throws -> Int {
        try runBound(SQL(portable: sql), values)
    }

    public func insertReturningID(_ sql: String, _ values: [StoreValue]) throws -> Int64 {
        try runBound(SQL(portable: sql), values)
        return lastInsertRowID
    }

    public func limitValue(_ limit: Int) -> StoreValue { .integer(Int64(limit)) }

    public var byteOrderCollation: String { "" }

    public func asciiCaseInsensitiveEquals(_ column: String, _ parameter: String) -> String {
        "\(column) = \(parameter) COLLATE NOCASE"
    }

    /// `BEGIN IMMEDIATE` holds the write lock already, against every process on the file.
    public func lockPINReservations() throws {}

    /// Expiry by the caller's `now` (there is no server clock; the instances
    /// sharing the file share the machine's clock). The write lock of
    /// `BEGIN IMMEDIATE` keeps the row as read until the commit.
    public func leaseAdmits(_ name: String, token: FencingToken, now: Date) throws -> Bool {
        guard let lease = try lease(name) else { return false }
        return lease.token == token && lease.expiresAt > now
    }

    public var pageClaimLock: String { "" }

    /// Schema 7's `tickets_open` condition. Not `state NOT IN (…)`: SQLite
    /// evaluates a partial index's `WHERE` at every insert and update of a
    /// ticket, and a list of three or more values is built into a temporary
    /// B-tree each time (`OpenEphemeral`: a pager opened, three rows
    /// inserted, closed) — ~15 % of a ticket's statement CPU. Comparisons
    /// cost a few instructions.
    public var openTicketCondition: String {
        "state <> 'resolved' AND state <> 'closed' AND state <> 'cancelled'"
    }

    public func claimTime(_ now: Date, parameter: String) -> (sql: String, value: StoreValue?) {
        (parameter, StoreValue(now))
    }

    public func schemaVersion() throws -> Int { try Schema.currentVersion(self) }

    public static var ticketCreationIsOneStatement: Bool { false }

    /// Schema 11: a page's id is `ticket × pageIDsPerTicket + n` (n = 1, 2,
    /// … in the order the ticket's pages were written), so a ticket's pages
    /// are a range of the table's primary key and need no index of their
    /// own: `pages_ticket` cost every page a B-tree insert (~1.2 WAL pages
    /// of a ticket's ~10 per commit).
    static let pageIDsPerTicket: Int64 = 10_000

    /// The ticket's id range, checked against the ticket column too.
    public func pagesOfTicket(_ parameter: String) -> String {
        "id BETWEEN \(parameter) * \(Self.pageIDsPerTicket) + 1 AND \(parameter) * \(Self.pageIDsPerTicket) + "
            + "\(Self.pageIDsPerTicket - 1) AND ticket = \(parameter)"
    }

    /// The next ids of `ticket`'s range, after the highest one used (pages
    /// are never deleted, so an id is never given out twice). A ticket
    /// being created has none: its number was never given out before, and
    /// a page is only written for a ticket that exists.
    ///
    /// - Throws: ``TicketStoreError/invalid(_:)`` when the range is full
    ///   (9,999 pages of one ticket): nothing of the write is stored.
    public func newPageIDs(of ticket: TicketNumber, count: Int, ticketIsNew: Bool) throws -> [Int64]? {
        let base = ticket.rawValue * Self.pageIDsPerTicket
        let last = ticketIsNew ? base : try queryFirst(
            "SELECT COALESCE(MAX(id), $2) FROM pages WHERE " + pagesOfTicket("$1"),
            [StoreValue(ticket.rawValue), StoreValue(base)]) { try $0.int64(0) } ?? base
        guard last + Int64(count) < base + Self.pageIDsPerTicket else {
            throw TicketStoreError.invalid("ticket \(ticket) has \(last - base) pages; \(count) more would pass the "
                + "\(Self.pageIDsPerTicket - 1) a ticket can have")
        }
        return (1...Int64(count)).map { last + $0 }
    }

    /// Schema 10: a ticket's `created` event is not an event row while the
    /// ticket is at version 1. Its row says all the event does (creation
    /// time, priority, summary) and `created_by` the actor, so writing it
    /// again cost every ticket a B-tree insert (~1.9 WAL pages of ~12 per
    /// commit). The first update writes it as event 1 before it changes the
    /// row (``keepCreatedEvent(of:expectedVersion:)``). Tickets of older
    /// schemas have `created_by` NULL and their event row.
    public func createdEventInRow(of number: TicketNumber) throws -> TicketEvent? {
        try queryFirst("SELECT" + StoreRows.ticketColumnList
            + ", created_by FROM tickets WHERE number = $1 AND version = 1 AND created_by IS NOT NULL",
            [StoreValue(number.rawValue)]) { row in
            let stored = try StoreRows.storedTicket(row)
            let actorText = try row.text(19)
            guard let actor = Actor(stored: actorText) else {
                throw TicketStoreError.corrupt("ticket \(number): creator '\(actorText)' is unknown (tickets.created_by)")
            }
            return TicketEvent.created(stored.ticket, by: actor)
        }
    }

    public func keepCreatedEvent(of number: TicketNumber, expectedVersion: Int64) throws {
        guard expectedVersion == 1, let created = try createdEventInRow(of: number) else { return }
        try insertEvents([created], ticket: number, firstSeq: 1)
    }

    /// Ticket and pages in the store thread's transaction (the `created`
    /// event is the ticket's row, see ``createdEventInRow(of:)``);
    /// with `claim`, the pages are inserted already claimed if the lease
    /// admits the token at the ticket's `createdAt`, else unclaimed (see
    /// ``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``).
    public func insertTicket(_ new: NewTicket, claim: LeaseClaim?, makePages: (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit {
        try run("""
            INSERT INTO tickets (version, created_at, updated_at, customer_number, customer_name,
                contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                description, language, state, assignee, responded_at, contract_claim_pin_locked, created_by)
            VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)
            """, [
                SQLiteValue(new.createdAt), SQLiteValue(new.createdAt), SQLiteValue(new.customerNumber),
                SQLiteValue(new.customerName), SQLiteValue(new.contact.network), SQLiteValue(new.contact.nick),
                SQLiteValue(new.contact.account), SQLiteValue(new.group.rawValue), SQLiteValue(new.tier),
                SQLiteValue(new.severity.rawValue), SQLiteValue(new.summary), SQLiteValue(new.description),
                SQLiteValue(new.language), SQLiteValue(TicketState.new.rawValue),
                SQLiteValue(new.contractClaimPINLocked), SQLiteValue(new.createdBy.description),
            ] as [SQLiteValue])
        let number = TicketNumber(lastInsertRowID)
        let pages = makePages(number)
        try Self.validate(pages)
        var claimed: Bool?
        if let claim, !pages.isEmpty {
            claimed = try leaseAdmits(claim.lease, token: claim.token, now: new.createdAt)
        }
        let records = try insertPages(pages, ticket: number,
                                      claimedBy: claimed == true ? claim.map { ($0.token, new.createdAt) } : nil,
                                      ticketIsNew: true)
        try insertHandledMessages(new.handledMessages, at: new.createdAt)
        return TicketCommit(stored: StoredTicket(ticket: new.ticket(number: number), version: 1), pages: records,
                            pageClaim: claimed.map { $0 ? .claimed : .fenced })
    }
}
