import Desk
import Foundation
import StoreCore

// PostgreSQL as a `StoreDatabase`: the shared operations (`StoreCore`) run
// on it, and what only PostgreSQL's dialect can say is here — ticket
// creation in one statement with a number from the sequence, the lease by
// the server's clock, transaction advisory locks.

extension PGRow: StoreRow {
    public func optionalInt64(_ column: Int) throws -> Int64? {
        column < values.count && values[column] != nil ? try int64(column) : nil
    }
}

extension PGValue {
    /// The libpq form of a shared statement's value (text, NUL refused).
    init(_ value: StoreValue) throws {
        switch value {
        case .null: self = .null
        case .integer(let integer): self = PGValue(integer)
        case .real(let real): self = .text(String(real))
        case .text(let text): self = try .checked(text)
        case .bytes(let data): self = PGValue(data)
        case .bool(let flag): self = PGValue(flag)
        }
    }
}

extension PGConnection: StoreDatabase {
    /// Transaction advisory lock key of PIN reservations ("SWBD" + 2).
    static let pinLock: Int64 = 0x5357_4244_0002

    public func query<T>(_ sql: String, _ values: [StoreValue], _ read: (PGRow) throws -> T) throws -> [T] {
        try query(sql, values.map(PGValue.init), read)
    }

    public func queryFirst<T>(_ sql: String, _ values: [StoreValue], _ read: (PGRow) throws -> T) throws -> T? {
        try queryFirst(sql, values.map(PGValue.init), read)
    }

    @discardableResult
    public func run(_ sql: String, _ values: [StoreValue]) throws -> Int {
        try run(sql, values.map(PGValue.init)).affected
    }

    public func insertReturningID(_ sql: String, _ values: [StoreValue]) throws -> Int64 {
        guard let id = try queryFirst(sql + " RETURNING id", values.map(PGValue.init), { try $0.int64(0) }) else {
            throw TicketStoreError.corrupt("an INSERT returned no id")
        }
        return id
    }

    /// NULL (`LIMIT ALL`) for `Int.max`; no negative limits.
    public func limitValue(_ limit: Int) -> StoreValue { limit >= Int(Int64.max) ? .null : .integer(Int64(max(0, limit))) }

    /// Byte order ("C"), as SQLite sorts, whatever the database's locale.
    public var byteOrderCollation: String { " COLLATE \"C\"" }

    /// The expression the indexes on nick and account are built on.
    public func asciiCaseInsensitiveEquals(_ column: String, _ parameter: String) -> String {
        PostgresSchema.asciiLower(column) + " = " + PostgresSchema.asciiLower(parameter + "::text")
    }

    /// Every instance's reservations pass this lock one at a time.
    public func lockPINReservations() throws {
        try run("SELECT pg_advisory_xact_lock($1)", [PGValue(Self.pinLock)])
    }

    /// The lease check as SQL (one row, or none for a lease never taken):
    /// by the server's clock, the row locked `FOR SHARE` so an acquisition
    /// (which updates it) waits until this transaction ends.
    static func leaseAdmitsSQL(name: String, token: String) -> String {
        "SELECT token = \(token) AND expires_at > \(serverNow) AS valid FROM leases WHERE name = \(name) FOR SHARE"
    }

    public func leaseAdmits(_ name: String, token: FencingToken, now: Date) throws -> Bool {
        try queryFirst(Self.leaseAdmitsSQL(name: "$1", token: "$2"), [try .checked(name), PGValue(token.rawValue)]) {
            try $0.bool(0)
        } ?? false
    }

    public var pageClaimLock: String { " FOR UPDATE" }

    public func claimTime(_ now: Date, parameter: String) -> (sql: String, value: StoreValue?) {
        (Self.serverNow, nil)
    }

    public func schemaVersion() throws -> Int { try PostgresSchema.currentVersion(self) }

    public static var ticketCreationIsOneStatement: Bool { true }

    // MARK: Creating tickets

    /// The ticket number sequence (the identity column's, named by PostgreSQL's rule).
    static let ticketSequence = "'tickets_number_seq'"

    /// How long a number taken from the sequence ahead of time may wait for
    /// its ticket. The creation statement takes the *next* ticket's number
    /// along with its own (``insertTicket(_:_:claim:makePages:)``), so a
    /// creation under load is one round trip; a number older than this is
    /// dropped (a gap, never a reuse) and a fresh one taken, so a number is
    /// never used long after later ones were handed out — e.g. by a stopped
    /// instance that wakes after a takeover.
    static let reservedNumberLifetime: Duration = .seconds(1)

    /// The number for a new ticket: the one the previous creation on this
    /// connection took ahead, if still fresh, else one `nextval` round trip.
    /// Numbers from a sequence are never handed out twice, whatever happens
    /// to the transaction, so a number is never reused.
    func nextTicketNumber() throws -> TicketNumber {
        if let reserved = reservedTicketNumber {
            reservedTicketNumber = nil
            if ContinuousClock.now - reserved.at < Self.reservedNumberLifetime { return TicketNumber(reserved.number) }
        }
        guard let number = try queryFirst("SELECT nextval(\(Self.ticketSequence))", [] as [PGValue], { try $0.int64(0) }) else {
            throw TicketStoreError.corrupt("the ticket number sequence returned no number")
        }
        return TicketNumber(number)
    }

    /// Ticket, `created` event and pages — with `claim`, the pages claimed
    /// after checking the lease row (`FOR SHARE`, as ``leaseAdmits(_:token:now:)``
    /// does) — and the next ticket's number, in **one statement**: atomic by
    /// itself, so alone in its batch it runs without BEGIN/COMMIT
    /// (``PGThread``), one round trip and one commit. Its text is built once
    /// per shape and prepared once per connection; the values are bound.
    /// The event and pages name a ticket this statement writes, which is why
    /// they need no foreign key (schema version 4).
    /// Pages of a stale token are inserted unclaimed (see
    /// ``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``).
    public func insertTicket(_ new: NewTicket, claim: LeaseClaim?, makePages: (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit {
        let number = try nextTicketNumber()
        let pages = makePages(number)
        try Self.validate(pages)
        let event = new.createdEvent(number: number)
        var parameters: [PGValue] = [
            PGValue(number.rawValue), PGValue(new.createdAt), try .checked(new.customerNumber),
            try .checked(new.customerName), try .checked(new.contact.network), try .checked(new.contact.nick),
            try .checked(new.contact.account), try .checked(new.group.rawValue), try .checked(new.tier),
            PGValue(new.severity.rawValue), try .checked(new.summary), try .checked(new.description),
            try .checked(new.language), try .checked(TicketState.new.rawValue), PGValue(new.contractClaimPINLocked),
            PGValue(event.at), try .checked(event.actor.description), try .checked(event.kind.rawValue),
            try .checked(event.from), try .checked(event.to), try .checked(event.note),
        ]
        let claiming = claim != nil && !pages.isEmpty
        if let claim, claiming {
            parameters += [try .checked(claim.lease), PGValue(claim.token.rawValue)]
        }
        for page in pages {
            parameters += [
                PGValue(page.step), try .checked(page.network), try .checked(page.target),
                try .checked(page.targetKind.rawValue), try .checked(page.text), PGValue(page.createdAt),
                PGValue(page.dueAt),
            ]
        }
        for message in new.handledMessages {
            parameters += [try .checked(message.network), try .checked(message.sourceID)]
        }
        let shape = new.handledMessages.count << 24 | pages.count << 1 | (claiming ? 1 : 0)
        let statement: PGStatement
        if let known = creationStatements[shape] {
            statement = known
        } else {
            statement = PGStatement(Self.creationSQL(pages: pages.count, claiming: claiming,
                                                     handled: new.handledMessages.count))
            creationStatements[shape] = statement
        }
        let reservedAt = ContinuousClock.now
        guard let row = try run(statement, parameters).rows.first else {
            throw TicketStoreError.corrupt("creating ticket \(number) returned no row")
        }
        let (next, claimed, ids) = (try row.int64(0), row.optionalText(1).map { $0 == "t" }, try row.int64Array(2))
        reservedTicketNumber = (next, reservedAt)
        guard ids.count == pages.count else {
            throw TicketStoreError.corrupt("inserting \(pages.count) pages returned \(ids.count) ids")
        }
        let records = zip(ids, pages).map { id, page in
            PageRecord(id: PageID(rawValue: id), ticket: number, step: page.step, network: page.network,
                       target: page.target, targetKind: page.targetKind, text: page.text,
                       createdAt: page.createdAt, dueAt: page.dueAt)
        }
        return TicketCommit(stored: StoredTicket(ticket: new.ticket(number: number), version: 1), pages: records,
                            pageClaim: claimed.map { $0 ? .claimed : .fenced })
    }

    /// The creation statement for `pages` pages, claimed or not, recording
    /// `handled` chat messages as handled (``NewTicket/handledMessages``, at
    /// the ticket's creation time); its parameters: $1–$21 ticket and
    /// event, then (claiming) the lease's name and token, then 7 per page,
    /// then 2 per handled message (network, source id). The severity and a
    /// page's step are bound as `integer` and become the columns' domains in
    /// the statement: a parameter of a domain type is read by `domain_in`,
    /// which sets up the domain's check anew for every value (~4,500 backend
    /// instructions each), while the statement's coercion is set up once per
    /// execution.
    static func creationSQL(pages: Int, claiming: Bool, handled: Int = 0) -> String {
        var sql = """
            WITH ticket AS (
                INSERT INTO tickets (number, version, created_at, updated_at, customer_number, customer_name,
                    contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                    description, language, state, assignee, responded_at, contract_claim_pin_locked)
                OVERRIDING SYSTEM VALUE
                VALUES ($1, 1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10::integer, $11, $12, $13, $14, NULL, NULL, $15)
            ), event AS (
                INSERT INTO ticket_events (ticket, seq, at, actor, kind, from_value, to_value, note)
                VALUES ($1, 1, $16, $17, $18, $19, $20, $21)
            )
            """
        var parameter = 22
        if claiming {
            sql += """
                , lease AS (
                    \(leaseAdmitsSQL(name: "$22", token: "$23"))
                ), claim AS (
                    SELECT CASE WHEN valid THEN $23::bigint END AS token,
                        CASE WHEN valid THEN \(serverNow) END AS at
                    FROM (SELECT COALESCE((SELECT valid FROM lease), false) AS valid) AS checked
                )
                """
            parameter = 24
        }
        if pages > 0 {
            var rows: [String] = []
            for _ in 0..<pages {
                let values = "$\(parameter)::integer, "
                    + (parameter + 1..<parameter + 7).map { "$\($0)" }.joined(separator: ", ")
                rows.append("($1, " + values + (claiming ? ", (SELECT token FROM claim), (SELECT at FROM claim))" : ")"))
                parameter += 7
            }
            sql += ", page AS (\n    INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at"
                + (claiming ? ", claimed_token, claimed_at" : "") + ") VALUES "
                + rows.joined(separator: ", ") + " RETURNING id\n)\n"
        }
        if handled > 0 {
            var rows: [String] = []
            for _ in 0..<handled {
                rows.append("($\(parameter), $\(parameter + 1), $2)")
                parameter += 2
            }
            sql += ", handled AS (\n    INSERT INTO handled_messages (network, source_id, handled_at) VALUES "
                + rows.joined(separator: ", ") + " ON CONFLICT (network, source_id) DO NOTHING\n)\n"
        }
        // One row: the next number, whether the claim held, the page ids in
        // the order of the VALUES rows (`RETURNING` hands the rows back in
        // the order they were inserted). `nextval` in the select list, not
        // in a CTE of its own, and no sort: ~12,000 fewer backend
        // instructions per creation (callgrind).
        sql += "SELECT nextval(\(ticketSequence)), "
            + (claiming ? "(SELECT token IS NOT NULL FROM claim), " : "NULL::boolean, ")
            + (pages == 0 ? "'{}'::bigint[]" : "ARRAY(SELECT id FROM page)")
        return sql
    }
}
