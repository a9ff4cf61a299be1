import Desk
import Foundation

/// The PostgreSQL store's statements, one function per operation (the
/// SQLite store's `SQLiteOperations`, statement for statement). They run on
/// the store's thread (``PGThread``); the writing ones run inside the
/// thread's transaction and never begin or commit one themselves.
///
/// Concurrency between instances (READ COMMITTED): an update names the
/// ticket's version in its `WHERE`, so of two racing updates the second
/// waits for the first's row lock, re-reads the row and changes nothing
/// (a conflict); the ticket's row lock also serialises the escalation-step
/// check of updates to one ticket. PIN reservations take a transaction
/// advisory lock (``pinLock``) so their read-decide-insert is one step for
/// every instance.
enum PostgresOperations {
    /// Transaction advisory lock key of PIN reservations ("SWBD" + 2).
    static let pinLock: Int64 = 0x5357_4244_0002

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
    static func nextTicketNumber(_ db: PGConnection) throws -> TicketNumber {
        if let reserved = db.reservedTicketNumber {
            db.reservedTicketNumber = nil
            if ContinuousClock.now - reserved.at < reservedNumberLifetime { return TicketNumber(reserved.number) }
        }
        guard let number = try db.queryFirst("SELECT nextval(\(ticketSequence))", [], { try $0.int64(0) }) else {
            throw TicketStoreError.corrupt("the ticket number sequence returned no number")
        }
        return TicketNumber(number)
    }

    /// Ticket, `created` event and pages — with `claim`, the pages claimed
    /// after checking the lease row (`FOR SHARE`, as ``claimPages(_:_:lease:token:)``
    /// does) — and the next ticket's number, in **one statement**: atomic by
    /// itself (foreign keys are checked at its end), so alone in its batch it
    /// runs without BEGIN/COMMIT (``PGThread``), one round trip and one commit.
    /// Pages of a stale token are inserted unclaimed (see
    /// ``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``).
    static func insertTicket(_ db: PGConnection, _ new: NewTicket, claim: LeaseClaim?,
                             makePages: (TicketNumber) -> [PageDraft]) throws -> TicketCommit {
        let number = try nextTicketNumber(db)
        let pages = makePages(number)
        try validate(pages)
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
        var sql = """
            WITH ticket AS (
                INSERT INTO tickets (number, version, created_at, updated_at, customer_number, customer_name,
                    contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                    description, language, state, assignee, responded_at, contract_claim_pin_locked)
                OVERRIDING SYSTEM VALUE
                VALUES ($1, 1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, NULL, $15)
            ), event AS (
                INSERT INTO ticket_events (ticket, seq, at, actor, kind, from_value, to_value, note)
                VALUES ($1, 1, $16, $17, $18, $19, $20, $21)
            ), next AS (
                SELECT nextval(\(ticketSequence)) AS number
            )
            """
        let claiming = claim != nil && !pages.isEmpty
        if let claim, claiming {
            let lease = parameters.count + 1
            parameters += [try .checked(claim.lease), PGValue(claim.token.rawValue)]
            sql += """
                , lease AS (
                    SELECT token = $\(lease + 1) AND expires_at > \(serverNow) AS valid FROM leases
                    WHERE name = $\(lease) FOR SHARE
                ), claim AS (
                    SELECT CASE WHEN valid THEN $\(lease + 1)::bigint END AS token,
                        CASE WHEN valid THEN \(serverNow) END AS at
                    FROM (SELECT COALESCE((SELECT valid FROM lease), false) AS valid) AS checked
                )
                """
        }
        if !pages.isEmpty {
            var rows: [String] = []
            for page in pages {
                let first = parameters.count + 1
                let values = (first..<first + 7).map { "$\($0)" }.joined(separator: ", ")
                rows.append("($1, " + values + (claiming ? ", (SELECT token FROM claim), (SELECT at FROM claim))" : ")"))
                parameters += [
                    PGValue(page.step), try .checked(page.network), try .checked(page.target),
                    try .checked(page.targetKind.rawValue), try .checked(page.text), PGValue(page.createdAt),
                    PGValue(page.dueAt),
                ]
            }
            sql += ", page AS (\n    INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at"
                + (claiming ? ", claimed_token, claimed_at" : "") + ") VALUES "
                + rows.joined(separator: ", ") + " RETURNING id\n)\n"
        }
        // One row: the next number, whether the claim held, the page ids
        // (identity values are assigned in the order of the VALUES rows).
        sql += "SELECT (SELECT number FROM next), "
            + (claiming ? "(SELECT token IS NOT NULL FROM claim), " : "NULL::boolean, ")
            + (pages.isEmpty ? "'{}'::bigint[]" : "ARRAY(SELECT id FROM page ORDER BY id)")
        let reservedAt = ContinuousClock.now
        guard let (next, claimed, ids) = try db.queryFirst(sql, parameters, { row in
            (try row.int64(0), row.optionalText(1).map { $0 == "t" }, try row.int64Array(2))
        }) else { throw TicketStoreError.corrupt("creating ticket \(number) returned no row") }
        db.reservedTicketNumber = (next, reservedAt)
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

    // MARK: Updating tickets

    static func updateTicket(
        _ db: PGConnection, _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
        cancelUnsentPages: Bool
    ) throws -> TicketCommit {
        let number = ticket.number
        if let stray = events.first(where: { $0.ticket != number }) {
            throw TicketStoreError.invalid("an event of ticket \(stray.ticket) was given with an update of \(number)")
        }
        try validate(pages)
        let updated = try db.queryFirst("""
            UPDATE tickets SET version = version + 1, updated_at = $1, customer_number = $2,
                customer_name = $3, contact_network = $4, contact_nick = $5, contact_account = $6,
                customer_group = $7, tier = $8, severity = $9, summary = $10, description = $11, language = $12,
                state = $13, assignee = $14, responded_at = $15, contract_claim_pin_locked = $16
            WHERE number = $17 AND version = $18
            RETURNING
            """ + ticketColumnList, [
                PGValue(ticket.updatedAt), try .checked(ticket.customerNumber),
                try .checked(ticket.customerName), try .checked(ticket.contact.network),
                try .checked(ticket.contact.nick), try .checked(ticket.contact.account),
                try .checked(ticket.group.rawValue), try .checked(ticket.tier),
                PGValue(ticket.severity.rawValue), try .checked(ticket.summary),
                try .checked(ticket.description), try .checked(ticket.language),
                try .checked(ticket.state.rawValue), try .checked(ticket.assignee),
                PGValue(ticket.respondedAt), PGValue(ticket.contractClaimPINLocked),
                PGValue(number.rawValue), PGValue(expectedVersion),
            ], readStoredTicket)
        guard let stored = updated else {
            let current = try db.queryFirst("SELECT version FROM tickets WHERE number = $1",
                                            [PGValue(number.rawValue)]) { try $0.int64(0) }
            guard let current else { throw TicketStoreError.ticketNotFound(number) }
            throw TicketStoreError.conflict(number, expectedVersion: expectedVersion, currentVersion: current)
        }
        if cancelUnsentPages {
            try db.run("""
                UPDATE pages SET cancelled_at = $1
                WHERE ticket = $2 AND sent_at IS NULL AND cancelled_at IS NULL
                """, [PGValue(ticket.updatedAt), PGValue(number.rawValue)])
        }
        if !events.isEmpty {
            let last = try db.queryFirst("SELECT COALESCE(MAX(seq), 0) FROM ticket_events WHERE ticket = $1",
                                         [PGValue(number.rawValue)]) { try $0.int64(0) } ?? 0
            var seq = last + 1
            for event in events {
                try db.run("""
                    INSERT INTO ticket_events (ticket, seq, at, actor, kind, from_value, to_value, note)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """, [
                        PGValue(number.rawValue), PGValue(seq), PGValue(event.at),
                        try .checked(event.actor.description), try .checked(event.kind.rawValue),
                        try .checked(event.from), try .checked(event.to), try .checked(event.note),
                    ])
                seq += 1
            }
        }
        for step in Set(pages.map(\.step)).sorted() {
            let exists = try db.queryFirst("SELECT 1 FROM pages WHERE ticket = $1 AND step = $2 LIMIT 1",
                                           [PGValue(number.rawValue), PGValue(step)]) { _ in true }
            if exists == true { throw TicketStoreError.escalationStepExists(number, step: step) }
        }
        let records = try insertPages(db, pages, ticket: number)
        return TicketCommit(stored: stored, pages: records)
    }

    static func insertPages(_ db: PGConnection, _ pages: [PageDraft], ticket: TicketNumber) throws -> [PageRecord] {
        var records: [PageRecord] = []
        records.reserveCapacity(pages.count)
        for page in pages {
            let id = try db.queryFirst("""
                INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                """, [
                    PGValue(ticket.rawValue), PGValue(page.step), try .checked(page.network),
                    try .checked(page.target), try .checked(page.targetKind.rawValue), try .checked(page.text),
                    PGValue(page.createdAt), PGValue(page.dueAt),
                ]) { try $0.int64(0) }
            guard let id else { throw TicketStoreError.corrupt("inserting a page returned no id") }
            records.append(PageRecord(id: PageID(rawValue: id), ticket: ticket, step: page.step,
                                      network: page.network, target: page.target, targetKind: page.targetKind,
                                      text: page.text, createdAt: page.createdAt, dueAt: page.dueAt))
        }
        return records
    }

    static func validate(_ pages: [PageDraft]) throws {
        for page in pages {
            if page.step < 0 { throw TicketStoreError.invalid("page step \(page.step) is negative") }
            if page.network.isEmpty { throw TicketStoreError.invalid("page to \(page.target) has no network") }
            if page.target.isEmpty { throw TicketStoreError.invalid("page on \(page.network) has no target") }
        }
    }

    // MARK: Reading tickets

    /// The columns ``readStoredTicket(_:)`` reads, in its order.
    static let ticketColumnList = """
         number, version, created_at, updated_at, customer_number, customer_name, contact_network,
            contact_nick, contact_account, customer_group, tier, severity, summary, description, language, state,
            assignee, responded_at, contract_claim_pin_locked
        """

    static let ticketColumns = "SELECT" + ticketColumnList + " FROM tickets"

    static func readStoredTicket(_ row: PGRow) throws -> StoredTicket {
        let number = TicketNumber(try row.int64(0))
        let groupText = try row.text(9)
        guard let group = CustomerGroup(rawValue: groupText) else {
            throw TicketStoreError.corrupt("ticket \(number): customer group '\(groupText)' is unknown (tickets.customer_group)")
        }
        let severityValue = try row.int(11)
        guard let severity = Severity(rawValue: severityValue) else {
            throw TicketStoreError.corrupt("ticket \(number): severity \(severityValue) is unknown (tickets.severity)")
        }
        let stateText = try row.text(15)
        guard let state = TicketState(rawValue: stateText) else {
            throw TicketStoreError.corrupt("ticket \(number): state '\(stateText)' is unknown (tickets.state)")
        }
        let ticket = Ticket(
            number: number, createdAt: try row.date(2), updatedAt: try row.date(3),
            customerNumber: row.optionalText(4), customerName: try row.text(5),
            contact: ChatIdentity(network: try row.text(6), nick: try row.text(7), account: row.optionalText(8)),
            group: group, tier: row.optionalText(10), severity: severity, summary: try row.text(12),
            description: try row.text(13), language: try row.text(14), state: state,
            assignee: row.optionalText(16), respondedAt: try row.optionalDate(17),
            contractClaimPINLocked: try row.bool(18))
        return StoredTicket(ticket: ticket, version: try row.int64(1))
    }

    static func readTicket(_ db: PGConnection, _ number: TicketNumber) throws -> StoredTicket? {
        try db.queryFirst(ticketColumns + " WHERE number = $1", [PGValue(number.rawValue)], readStoredTicket)
    }

    static func events(_ db: PGConnection, of number: TicketNumber) throws -> [TicketEvent] {
        try db.query("""
            SELECT at, actor, kind, from_value, to_value, note FROM ticket_events
            WHERE ticket = $1 ORDER BY seq
            """, [PGValue(number.rawValue)]) { row in
            let actorText = try row.text(1)
            guard let actor = Actor(stored: actorText) else {
                throw TicketStoreError.corrupt("ticket \(number): event actor '\(actorText)' is unknown "
                    + "(ticket_events.actor)")
            }
            let kindText = try row.text(2)
            guard let kind = TicketEvent.Kind(rawValue: kindText) else {
                throw TicketStoreError.corrupt("ticket \(number): event kind '\(kindText)' is unknown "
                    + "(ticket_events.kind)")
            }
            return TicketEvent(ticket: number, at: try row.date(0), actor: actor, kind: kind,
                               from: row.optionalText(3), to: row.optionalText(4), note: try row.text(5))
        }
    }

    static func openTickets(_ db: PGConnection) throws -> [StoredTicket] {
        try db.query(ticketColumns + " WHERE state NOT IN " + PostgresSchema.closedStatesSQL + " ORDER BY number",
                     [], readStoredTicket)
    }

    static func tickets(_ db: PGConnection, contact: ChatIdentity, openOnly: Bool, limit: Int) throws
        -> [StoredTicket] {
        let (column, value, filter) = if let account = contact.account {
            ("contact_account", account, "contact_account IS NOT NULL")
        } else {
            ("contact_nick", contact.nick, "contact_account IS NULL")
        }
        let lower = PostgresSchema.asciiLower
        return try db.query(ticketColumns + """
             WHERE contact_network = $1 AND \(filter) AND \(lower(column)) = \(lower("$2::text"))
                AND (NOT $3::boolean OR state NOT IN \(PostgresSchema.closedStatesSQL))
            ORDER BY number DESC LIMIT $4
            """, [try .checked(contact.network), try .checked(value), PGValue(openOnly), PGValue(max(0, limit))],
            readStoredTicket)
    }

    static func tickets(_ db: PGConnection, customerNumber: String, openOnly: Bool, limit: Int) throws
        -> [StoredTicket] {
        try db.query(ticketColumns + " WHERE customer_number = $1 AND (NOT $2::boolean OR state NOT IN "
            + PostgresSchema.closedStatesSQL + ") ORDER BY number DESC LIMIT $3",
            [try .checked(customerNumber), PGValue(openOnly), PGValue(max(0, limit))], readStoredTicket)
    }

    static func recentTickets(_ db: PGConnection, limit: Int) throws -> [StoredTicket] {
        try db.query(ticketColumns + " ORDER BY number DESC LIMIT $1", [PGValue(max(0, limit))], readStoredTicket)
    }

    static func tickets(_ db: PGConnection, createdFrom from: Date, until: Date, limit: Int) throws -> [StoredTicket] {
        try db.query(ticketColumns + " WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, number LIMIT $3",
                     [PGValue(from), PGValue(until), PGValue(max(0, limit))], readStoredTicket)
    }

    // MARK: Outbox

    static let pageColumns = """
        SELECT id, ticket, step, network, target, text, created_at, due_at, sent_at, cancelled_at, attempts,
            last_error, target_kind
        FROM pages
        """

    static func readPage(_ row: PGRow) throws -> PageRecord {
        let id = PageID(rawValue: try row.int64(0))
        let kindText = try row.text(12)
        guard let kind = PageTargetKind(rawValue: kindText) else {
            throw TicketStoreError.corrupt("\(id): target kind '\(kindText)' is unknown (pages.target_kind)")
        }
        return PageRecord(id: id, ticket: TicketNumber(try row.int64(1)), step: try row.int(2),
                          network: try row.text(3), target: try row.text(4), targetKind: kind,
                          text: try row.text(5), createdAt: try row.date(6), dueAt: try row.date(7),
                          sentAt: try row.optionalDate(8), cancelledAt: try row.optionalDate(9),
                          attempts: try row.int(10), lastError: row.optionalText(11))
    }

    /// `LIMIT ALL` for `Int.max` (PostgreSQL's bigint holds it, but say so plainly).
    private static func limitValue(_ limit: Int) -> PGValue { limit >= Int(Int64.max) ? .null : PGValue(max(0, limit)) }

    static func pendingPages(_ db: PGConnection, dueBy: Date, limit: Int) throws -> [PageRecord] {
        try db.query(pageColumns + """
             WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2
            """, [PGValue(dueBy), limitValue(limit)], readPage)
    }

    static func nextPageDue(_ db: PGConnection) throws -> Date? {
        try db.queryFirst("SELECT MIN(due_at) FROM pages WHERE sent_at IS NULL AND cancelled_at IS NULL") {
            try $0.optionalDate(0)
        } ?? nil
    }

    static func pages(_ db: PGConnection, of number: TicketNumber) throws -> [PageRecord] {
        try db.query(pageColumns + " WHERE ticket = $1 ORDER BY id", [PGValue(number.rawValue)], readPage)
    }

    static func markPageSent(_ db: PGConnection, _ id: PageID, at: Date) throws {
        let changed = try db.run(
            "UPDATE pages SET sent_at = $1, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL",
            [PGValue(at), PGValue(id.rawValue)]).affected
        if changed == 0 { try requirePage(db, id) }
    }

    static func markPageFailed(_ db: PGConnection, _ id: PageID, error: String, retryAt: Date) throws {
        let changed = try db.run("""
            UPDATE pages SET attempts = attempts + 1, last_error = $1, due_at = $2
            WHERE id = $3 AND sent_at IS NULL
            """, [try .checked(error), PGValue(retryAt), PGValue(id.rawValue)]).affected
        if changed == 0 { try requirePage(db, id) }
    }

    static func requirePage(_ db: PGConnection, _ id: PageID) throws {
        let exists = try db.queryFirst("SELECT 1 FROM pages WHERE id = $1", [PGValue(id.rawValue)]) { _ in true }
        if exists != true { throw TicketStoreError.pageNotFound(id) }
    }

    static func escalationSteps(_ db: PGConnection, of number: TicketNumber) throws -> Set<Int> {
        Set(try db.query("SELECT DISTINCT step FROM pages WHERE ticket = $1", [PGValue(number.rawValue)]) {
            try $0.int(0)
        })
    }

    // MARK: Roster overrides

    static let overrideColumns =
        "SELECT id, agent, starts_at, ends_at, created_by, created_at, reason FROM roster_overrides"

    static func readOverride(_ row: PGRow) throws -> SavedRosterOverride {
        let id = RosterOverrideID(rawValue: try row.int64(0))
        let createdByText = try row.text(4)
        guard let createdBy = Actor(stored: createdByText) else {
            throw TicketStoreError.corrupt("\(id): actor '\(createdByText)' is unknown (roster_overrides.created_by)")
        }
        return SavedRosterOverride(id: id, agent: try row.text(1), from: try row.date(2), until: try row.date(3),
                                   reason: try row.text(6), createdBy: createdBy, createdAt: try row.date(5))
    }

    static func addRosterOverride(_ db: PGConnection, _ draft: RosterOverrideDraft) throws -> SavedRosterOverride {
        guard draft.until > draft.from else {
            throw TicketStoreError.invalid("roster override for \(draft.agent) ends (\(draft.until)) "
                + "before it starts (\(draft.from))")
        }
        let id = try db.queryFirst("""
            INSERT INTO roster_overrides (agent, starts_at, ends_at, created_by, created_at, reason)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """, [try .checked(draft.agent), PGValue(draft.from), PGValue(draft.until),
                  try .checked(draft.createdBy.description), PGValue(draft.createdAt),
                  try .checked(draft.reason)]) { try $0.int64(0) }
        guard let id else { throw TicketStoreError.corrupt("inserting a roster override returned no id") }
        return SavedRosterOverride(id: RosterOverrideID(rawValue: id), agent: draft.agent, from: draft.from,
                                   until: draft.until, reason: draft.reason, createdBy: draft.createdBy,
                                   createdAt: draft.createdAt)
    }

    static func rosterOverrides(_ db: PGConnection, activeAt instant: Date) throws -> [SavedRosterOverride] {
        try db.query(overrideColumns + " WHERE starts_at <= $1 AND ends_at > $1 ORDER BY created_at DESC, id DESC",
                     [PGValue(instant)], readOverride)
    }

    static func rosterOverrides(_ db: PGConnection, endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try db.query(overrideColumns + " WHERE ends_at > $1 ORDER BY starts_at, id", [PGValue(instant)],
                     readOverride)
    }

    static func removeRosterOverride(_ db: PGConnection, _ id: RosterOverrideID) throws -> Bool {
        try db.run("DELETE FROM roster_overrides WHERE id = $1", [PGValue(id.rawValue)]).affected > 0
    }

    // MARK: Counters

    static func incrementCounter(_ db: PGConnection, _ name: String, key: String, by delta: Int64) throws -> Int64 {
        try db.queryFirst("""
            INSERT INTO counters (name, key, value) VALUES ($1, $2, $3)
            ON CONFLICT (name, key) DO UPDATE SET value = counters.value + excluded.value
            RETURNING value
            """, [try .checked(name), try .checked(key), PGValue(delta)]) { try $0.int64(0) } ?? delta
    }

    static func counters(_ db: PGConnection, _ name: String) throws -> [String: Int64] {
        let pairs = try db.query("SELECT key, value FROM counters WHERE name = $1", [try .checked(name)]) {
            (try $0.text(0), try $0.int64(1))
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    // MARK: PIN checks

    /// The value an identity is counted by (the SQLite store's exact form):
    /// the account when there is one, else the nick among identities
    /// without one; ASCII case-insensitive; the network length-prefixed.
    static func identityKey(_ identity: ChatIdentity) -> String {
        let network = "\(identity.network.utf8.count):\(identity.network)"
        if let account = identity.account { return network + "|a|" + asciiLowercased(account) }
        return network + "|n|" + asciiLowercased(identity.nick)
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    private static let countsAsWrong = "(outcome IS NULL OR outcome = 'wrong')"

    static func reservePINCheck(
        _ db: PGConnection, customerNumber: String, identity: ChatIdentity, at now: Date, policy: PINAttemptPolicy
    ) throws -> PINReservation {
        // Every instance's reservations pass this lock one at a time, so
        // the budgets read below are still true when the row is inserted.
        try db.run("SELECT pg_advisory_xact_lock($1)", [PGValue(pinLock)])
        let since = PGValue(now.addingTimeInterval(-policy.window))
        let identityKey = identityKey(identity)
        let number = try db.queryFirst("SELECT COUNT(*), MAX(reserved_at) FROM pin_checks "
            + "WHERE customer_number = $1 AND reserved_at > $2 AND " + countsAsWrong,
            [try .checked(customerNumber), since]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let sender = try db.queryFirst("SELECT COUNT(*), MIN(reserved_at) FROM pin_checks "
            + "WHERE identity_key = $1 AND reserved_at > $2 AND " + countsAsWrong,
            [try .checked(identityKey), since]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let global = try db.queryFirst("SELECT COUNT(*), MIN(reserved_at) FROM pin_checks WHERE reserved_at > $1",
            [PGValue(now.addingTimeInterval(-1))]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let budget = PINBudgetState(numberWrong: number.0, numberLastCheck: number.1, identityWrong: sender.0,
                                    identityOldestWrong: sender.1, globalChecksLastSecond: global.0,
                                    globalOldestLastSecond: global.1)
        switch policy.decide(budget, now: now) {
        case .refuse(let refusal):
            return .refused(refusal)
        case .allow:
            let id = try db.queryFirst("""
                INSERT INTO pin_checks (customer_number, network, nick, account, identity_key, reserved_at)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                """, [try .checked(customerNumber), try .checked(identity.network), try .checked(identity.nick),
                      try .checked(identity.account), try .checked(identityKey), PGValue(now)]) { try $0.int64(0) }
            guard let id else { throw TicketStoreError.corrupt("reserving a PIN check returned no id") }
            return .reserved(PINReservationID(rawValue: id))
        }
    }

    static func finishPINCheck(_ db: PGConnection, _ id: PINReservationID, outcome: PINCheckOutcome,
                               at: Date) throws {
        let changed = try db.run(
            "UPDATE pin_checks SET outcome = $1, finished_at = $2 WHERE id = $3 AND outcome IS NULL",
            [try .checked(outcome.rawValue), PGValue(at), PGValue(id.rawValue)]).affected
        if changed == 0 {
            let exists = try db.queryFirst("SELECT 1 FROM pin_checks WHERE id = $1", [PGValue(id.rawValue)]) {
                _ in true
            }
            if exists != true { throw TicketStoreError.invalid("\(id) was never reserved") }
        }
    }

    static func pinAttackState(_ db: PGConnection, customerNumber: String, at now: Date,
                               policy: PINAttemptPolicy) throws -> PINAttackState {
        let row = try db.queryFirst("SELECT COUNT(*), COUNT(DISTINCT identity_key), MAX(reserved_at) "
            + "FROM pin_checks WHERE customer_number = $1 AND reserved_at > $2 AND " + countsAsWrong,
            [try .checked(customerNumber), PGValue(now.addingTimeInterval(-policy.window))]) {
            (try $0.int(0), try $0.int(1), try $0.optionalDate(2))
        } ?? (0, 0, nil)
        let lockedUntil = policy.numberLockedUntil(wrong: row.0, lastCheck: row.2).flatMap { $0 > now ? $0 : nil }
        return PINAttackState(wrongInWindow: row.0, distinctIdentities: row.1, lockedUntil: lockedUntil)
    }

    // MARK: Network state

    static func networkState(_ db: PGConnection, network: String, key: String) throws -> String? {
        try db.query("SELECT value FROM network_state WHERE network = $1 AND key = $2",
                     [try .checked(network), try .checked(key)]) { try $0.text(0) }.first
    }

    static func setNetworkState(_ db: PGConnection, network: String, key: String, value: String, at: Date) throws {
        try db.run("""
            INSERT INTO network_state (network, key, value, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (network, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [try .checked(network), try .checked(key), try .checked(value), PGValue(at)])
    }

    // MARK: Conversation snapshots

    static func saveConversation(_ db: PGConnection, _ snapshot: ConversationSnapshot) throws {
        guard snapshot.expiresAt > snapshot.updatedAt else {
            throw TicketStoreError.invalid("conversation \(snapshot.key) expires (\(snapshot.expiresAt)) "
                + "before it was updated (\(snapshot.updatedAt))")
        }
        try db.run("""
            INSERT INTO conversations (network, key, format_version, state, updated_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (network, key) DO UPDATE SET format_version = $3, state = $4, updated_at = $5,
                expires_at = $6
            """, [try .checked(snapshot.key.network), try .checked(snapshot.key.key),
                  PGValue(snapshot.formatVersion), PGValue(snapshot.state),
                  PGValue(snapshot.updatedAt), PGValue(snapshot.expiresAt)])
    }

    static func conversations(_ db: PGConnection, unexpiredAt instant: Date) throws -> [ConversationSnapshot] {
        // Byte order ("C"), as SQLite sorts, whatever the database's locale.
        try db.query("""
            SELECT network, key, format_version, state, updated_at, expires_at FROM conversations
            WHERE expires_at > $1 ORDER BY network COLLATE "C", key COLLATE "C"
            """, [PGValue(instant)]) { row in
            ConversationSnapshot(key: ConversationKey(network: try row.text(0), key: try row.text(1)),
                                 formatVersion: try row.int(2), state: try row.bytes(3),
                                 updatedAt: try row.date(4), expiresAt: try row.date(5))
        }
    }

    static func deleteConversation(_ db: PGConnection, _ key: ConversationKey) throws -> Bool {
        try db.run("DELETE FROM conversations WHERE network = $1 AND key = $2",
                   [try .checked(key.network), try .checked(key.key)]).affected > 0
    }

    static func deleteExpiredConversations(_ db: PGConnection, at instant: Date) throws -> Int {
        try db.run("DELETE FROM conversations WHERE expires_at <= $1", [PGValue(instant)]).affected
    }
}
