import CSQLite
import Desk
import Foundation

/// The store's statements, one function per operation, each taking the
/// connection. They run on the store's thread (``StoreThread``); the writing
/// ones expect the transaction to be open already (the thread's batch), so
/// they never begin or commit one themselves.
enum SQLiteOperations {
    // MARK: Creating tickets

    /// Ticket, `created` event and pages in the store thread's transaction;
    /// with `claim`, the pages are inserted already claimed if the lease
    /// check (as ``claimPages(_:_:lease:token:now:)``, at the ticket's
    /// `createdAt`) holds, else unclaimed (see
    /// ``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``).
    static func insertTicket(_ db: SQLiteConnection, _ new: NewTicket, claim: LeaseClaim? = nil,
                             makePages: (TicketNumber) -> [PageDraft]) throws -> TicketCommit {
        try db.run("""
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
            ])
        let number = TicketNumber(db.lastInsertRowID)
        try insertEvents(db, [new.createdEvent(number: number)], ticket: number, firstSeq: 1)
        let pages = makePages(number)
        try validate(pages)
        var claimed: Bool?
        if let claim, !pages.isEmpty {
            let lease = try readLease(db, claim.lease)
            claimed = lease.map { $0.token == claim.token && $0.expiresAt > new.createdAt } ?? false
        }
        let records = try insertPages(db, pages, ticket: number,
                                      claimedBy: claimed == true ? claim.map { ($0.token, new.createdAt) } : nil)
        return TicketCommit(stored: StoredTicket(ticket: new.ticket(number: number), version: 1), pages: records,
                            pageClaim: claimed.map { $0 ? .claimed : .fenced })
    }

    // MARK: Updating tickets

    static func updateTicket(
        _ db: SQLiteConnection, _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
        cancelUnsentPages: Bool
    ) throws -> TicketCommit {
        let number = ticket.number
        if let stray = events.first(where: { $0.ticket != number }) {
            throw TicketStoreError.invalid("an event of ticket \(stray.ticket) was given with an update of \(number)")
        }
        try Self.validate(pages)
        let changed = try db.run("""
            UPDATE tickets SET version = version + 1, updated_at = ?, customer_number = ?,
                customer_name = ?, contact_network = ?, contact_nick = ?, contact_account = ?,
                customer_group = ?, tier = ?, severity = ?, summary = ?, description = ?, language = ?,
                state = ?, assignee = ?, responded_at = ?, contract_claim_pin_locked = ?
            WHERE number = ? AND version = ?
            """, [
                SQLiteValue(ticket.updatedAt), SQLiteValue(ticket.customerNumber),
                SQLiteValue(ticket.customerName), SQLiteValue(ticket.contact.network),
                SQLiteValue(ticket.contact.nick), SQLiteValue(ticket.contact.account),
                SQLiteValue(ticket.group.rawValue), SQLiteValue(ticket.tier),
                SQLiteValue(ticket.severity.rawValue), SQLiteValue(ticket.summary),
                SQLiteValue(ticket.description), SQLiteValue(ticket.language),
                SQLiteValue(ticket.state.rawValue), SQLiteValue(ticket.assignee),
                SQLiteValue(ticket.respondedAt), SQLiteValue(ticket.contractClaimPINLocked),
                SQLiteValue(number.rawValue), SQLiteValue(expectedVersion),
            ])
        if changed == 0 {
            let current = try db.queryFirst("SELECT version FROM tickets WHERE number = ?",
                                            [SQLiteValue(number.rawValue)]) { try $0.int64(0) }
            guard let current else { throw TicketStoreError.ticketNotFound(number) }
            throw TicketStoreError.conflict(number, expectedVersion: expectedVersion, currentVersion: current)
        }
        if cancelUnsentPages {
            try db.run("""
                UPDATE pages SET cancelled_at = ?
                WHERE ticket = ? AND sent_at IS NULL AND cancelled_at IS NULL
                """, [SQLiteValue(ticket.updatedAt), SQLiteValue(number.rawValue)])
        }
        if !events.isEmpty {
            let last = try db.queryFirst("SELECT COALESCE(MAX(seq), 0) FROM ticket_events WHERE ticket = ?",
                                         [SQLiteValue(number.rawValue)]) { try $0.int64(0) } ?? 0
            try Self.insertEvents(db, events, ticket: number, firstSeq: last + 1)
        }
        for step in Set(pages.map(\.step)).sorted() {
            let exists = try db.queryFirst("SELECT 1 FROM pages WHERE ticket = ? AND step = ? LIMIT 1",
                                           [SQLiteValue(number.rawValue), SQLiteValue(step)]) { _ in true }
            if exists == true { throw TicketStoreError.escalationStepExists(number, step: step) }
        }
        let records = try Self.insertPages(db, pages, ticket: number)
        guard let stored = try Self.readTicket(db, number) else {
            throw TicketStoreError.ticketNotFound(number)
        }
        return TicketCommit(stored: stored, pages: records)
    }

    static func insertEvents(_ db: SQLiteConnection, _ events: [TicketEvent], ticket: TicketNumber,
                             firstSeq: Int64) throws {
        var seq = firstSeq
        for event in events {
            try db.run("""
                INSERT INTO ticket_events (ticket, seq, at, actor, kind, from_value, to_value, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [
                    SQLiteValue(ticket.rawValue), SQLiteValue(seq), SQLiteValue(event.at),
                    SQLiteValue(event.actor.description), SQLiteValue(event.kind.rawValue), SQLiteValue(event.from),
                    SQLiteValue(event.to), SQLiteValue(event.note),
                ])
            seq += 1
        }
    }

    /// Inserts `pages` of `ticket`; with `claimedBy`, claimed with that
    /// token at that time (the caller checked the lease in this transaction).
    static func insertPages(_ db: SQLiteConnection, _ pages: [PageDraft], ticket: TicketNumber,
                            claimedBy claim: (token: FencingToken, at: Date)? = nil) throws -> [PageRecord] {
        var records: [PageRecord] = []
        records.reserveCapacity(pages.count)
        for page in pages {
            try db.run("""
                INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at,
                    claimed_token, claimed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [
                    SQLiteValue(ticket.rawValue), SQLiteValue(page.step), SQLiteValue(page.network),
                    SQLiteValue(page.target), SQLiteValue(page.targetKind.rawValue), SQLiteValue(page.text), SQLiteValue(page.createdAt),
                    SQLiteValue(page.dueAt), SQLiteValue(claim?.token.rawValue), SQLiteValue(claim?.at),
                ])
            records.append(PageRecord(id: PageID(rawValue: db.lastInsertRowID), ticket: ticket, step: page.step,
                                      network: page.network, target: page.target, targetKind: page.targetKind,
                                      text: page.text,
                                      createdAt: page.createdAt, dueAt: page.dueAt))
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

    /// The columns `readStoredTicket` reads, in its order.
    static let ticketColumns: SQL = """
        SELECT number, version, created_at, updated_at, customer_number, customer_name, contact_network,
            contact_nick, contact_account, customer_group, tier, severity, summary, description, language, state,
            assignee, responded_at, contract_claim_pin_locked
        FROM tickets
        """

    static func readStoredTicket(_ row: SQLiteRow) throws -> StoredTicket {
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
            customerNumber: try row.optionalText(4), customerName: try row.text(5),
            contact: ChatIdentity(network: try row.text(6), nick: try row.text(7), account: try row.optionalText(8)),
            group: group, tier: try row.optionalText(10), severity: severity, summary: try row.text(12),
            description: try row.text(13), language: try row.text(14), state: state,
            assignee: try row.optionalText(16), respondedAt: try row.optionalDate(17),
            contractClaimPINLocked: try row.int64(18) != 0)
        return StoredTicket(ticket: ticket, version: try row.int64(1))
    }

    static func readTicket(_ db: SQLiteConnection, _ number: TicketNumber) throws -> StoredTicket? {
        try db.queryFirst(ticketColumns + " WHERE number = ?", [SQLiteValue(number.rawValue)], readStoredTicket)
    }

    static func events(_ db: SQLiteConnection, of number: TicketNumber) throws -> [TicketEvent] {
        try db.query("""
            SELECT at, actor, kind, from_value, to_value, note FROM ticket_events
            WHERE ticket = ? ORDER BY seq
            """, [SQLiteValue(number.rawValue)]) { row in
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
                               from: try row.optionalText(3), to: try row.optionalText(4), note: try row.text(5))
        }
    }

    static func openTickets(_ db: SQLiteConnection) throws -> [StoredTicket] {
        // The WHERE clause is the partial index `tickets_open`'s, letter
        // for letter, so SQLite reads only the open tickets.
        try db.query(Self.ticketColumns + " WHERE state NOT IN " + Schema.closedStatesSQL + " ORDER BY number",
                     [], Self.readStoredTicket)
    }

    static func tickets(_ db: SQLiteConnection, contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        if let account = contact.account {
            try db.query(Self.ticketColumns + """
                 WHERE contact_network = ?1 AND contact_account = ?2 COLLATE NOCASE
                    AND (?3 = 0 OR state NOT IN
                """ + Schema.closedStatesSQL + ") ORDER BY number DESC LIMIT ?4",
                [SQLiteValue(contact.network), SQLiteValue(account), SQLiteValue(openOnly), SQLiteValue(limit)],
                Self.readStoredTicket)
        } else {
            try db.query(Self.ticketColumns + """
                 WHERE contact_network = ?1 AND contact_account IS NULL AND contact_nick = ?2 COLLATE NOCASE
                    AND (?3 = 0 OR state NOT IN
                """ + Schema.closedStatesSQL + ") ORDER BY number DESC LIMIT ?4",
                [SQLiteValue(contact.network), SQLiteValue(contact.nick), SQLiteValue(openOnly),
                 SQLiteValue(limit)],
                Self.readStoredTicket)
        }
    }

    static func tickets(_ db: SQLiteConnection, customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try db.query(Self.ticketColumns + " WHERE customer_number = ?1 AND (?2 = 0 OR state NOT IN "
            + Schema.closedStatesSQL + ") ORDER BY number DESC LIMIT ?3",
            [SQLiteValue(customerNumber), SQLiteValue(openOnly), SQLiteValue(limit)], Self.readStoredTicket)
    }

    static func recentTickets(_ db: SQLiteConnection, limit: Int) throws -> [StoredTicket] {
        try db.query(Self.ticketColumns + " ORDER BY number DESC LIMIT ?", [SQLiteValue(limit)],
                     Self.readStoredTicket)
    }

    static func tickets(_ db: SQLiteConnection, createdFrom from: Date, until: Date, limit: Int) throws -> [StoredTicket] {
        try db.query(Self.ticketColumns + " WHERE created_at >= ? AND created_at < ? ORDER BY created_at, number LIMIT ?",
                     [SQLiteValue(from), SQLiteValue(until), SQLiteValue(limit)], Self.readStoredTicket)
    }

    // MARK: Outbox

    static let pageColumns: SQL = """
        SELECT id, ticket, step, network, target, text, created_at, due_at, sent_at, cancelled_at, attempts,
            last_error, target_kind
        FROM pages
        """

    static func readPage(_ row: SQLiteRow) throws -> PageRecord {
        let id = PageID(rawValue: try row.int64(0))
        let kindText = try row.text(12)
        guard let kind = PageTargetKind(rawValue: kindText) else {
            throw TicketStoreError.corrupt("\(id): target kind '\(kindText)' is unknown (pages.target_kind)")
        }
        return PageRecord(id: id, ticket: TicketNumber(try row.int64(1)), step: try row.int(2),
                          network: try row.text(3), target: try row.text(4), targetKind: kind,
                          text: try row.text(5), createdAt: try row.date(6), dueAt: try row.date(7),
                          sentAt: try row.optionalDate(8), cancelledAt: try row.optionalDate(9),
                          attempts: try row.int(10), lastError: try row.optionalText(11))
    }

    static func pendingPages(_ db: SQLiteConnection, dueBy: Date, limit: Int) throws -> [PageRecord] {
        try db.query(Self.pageColumns + """
             WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?
            """, [SQLiteValue(dueBy), SQLiteValue(limit)], Self.readPage)
    }

    static func nextPageDue(_ db: SQLiteConnection) throws -> Date? {
        try db.queryFirst("SELECT MIN(due_at) FROM pages WHERE sent_at IS NULL AND cancelled_at IS NULL") {
            try $0.optionalDate(0)
        } ?? nil
    }

    static func pages(_ db: SQLiteConnection, of number: TicketNumber) throws -> [PageRecord] {
        try db.query(Self.pageColumns + " WHERE ticket = ? ORDER BY id", [SQLiteValue(number.rawValue)],
                     Self.readPage)
    }

    static func markPageSent(_ db: SQLiteConnection, _ id: PageID, at: Date) throws {
        let changed = try db.run("UPDATE pages SET sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL",
                                 [SQLiteValue(at), SQLiteValue(id.rawValue)])
        if changed == 0 { try Self.requirePage(db, id) }
    }

    static func markPageFailed(_ db: SQLiteConnection, _ id: PageID, error: String, retryAt: Date) throws {
        let changed = try db.run("""
            UPDATE pages SET attempts = attempts + 1, last_error = ?, due_at = ?
            WHERE id = ? AND sent_at IS NULL
            """, [SQLiteValue(error), SQLiteValue(retryAt), SQLiteValue(id.rawValue)])
        if changed == 0 { try Self.requirePage(db, id) }
    }

    static func requirePage(_ db: SQLiteConnection, _ id: PageID) throws {
        let exists = try db.queryFirst("SELECT 1 FROM pages WHERE id = ?", [SQLiteValue(id.rawValue)]) { _ in true }
        if exists != true { throw TicketStoreError.pageNotFound(id) }
    }

    static func escalationSteps(_ db: SQLiteConnection, of number: TicketNumber) throws -> Set<Int> {
        Set(try db.query("SELECT DISTINCT step FROM pages WHERE ticket = ?", [SQLiteValue(number.rawValue)]) {
            try $0.int(0)
        })
    }

    // MARK: Roster overrides

    static let overrideColumns: SQL =
        "SELECT id, agent, starts_at, ends_at, created_by, created_at, reason FROM roster_overrides"

    static func readOverride(_ row: SQLiteRow) throws -> SavedRosterOverride {
        let id = RosterOverrideID(rawValue: try row.int64(0))
        let createdByText = try row.text(4)
        guard let createdBy = Actor(stored: createdByText) else {
            throw TicketStoreError.corrupt("\(id): actor '\(createdByText)' is unknown (roster_overrides.created_by)")
        }
        return SavedRosterOverride(id: id, agent: try row.text(1), from: try row.date(2), until: try row.date(3),
                                   reason: try row.text(6), createdBy: createdBy, createdAt: try row.date(5))
    }

    static func addRosterOverride(_ db: SQLiteConnection, _ draft: RosterOverrideDraft) throws -> SavedRosterOverride {
        guard draft.until > draft.from else {
            throw TicketStoreError.invalid("roster override for \(draft.agent) ends (\(draft.until)) "
                + "before it starts (\(draft.from))")
        }
        try db.run("""
            INSERT INTO roster_overrides (agent, starts_at, ends_at, created_by, created_at, reason)
            VALUES (?, ?, ?, ?, ?, ?)
            """, [SQLiteValue(draft.agent), SQLiteValue(draft.from), SQLiteValue(draft.until),
                  SQLiteValue(draft.createdBy.description), SQLiteValue(draft.createdAt),
                  SQLiteValue(draft.reason)])
        return SavedRosterOverride(id: RosterOverrideID(rawValue: db.lastInsertRowID), agent: draft.agent,
                                   from: draft.from, until: draft.until, reason: draft.reason,
                                   createdBy: draft.createdBy, createdAt: draft.createdAt)
    }

    static func rosterOverrides(_ db: SQLiteConnection, activeAt instant: Date) throws -> [SavedRosterOverride] {
        try db.query(Self.overrideColumns + """
             WHERE starts_at <= ?1 AND ends_at > ?1 ORDER BY created_at DESC, id DESC
            """, [SQLiteValue(instant)], Self.readOverride)
    }

    static func rosterOverrides(_ db: SQLiteConnection, endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try db.query(Self.overrideColumns + " WHERE ends_at > ? ORDER BY starts_at, id",
                     [SQLiteValue(instant)], Self.readOverride)
    }

    @discardableResult
    static func removeRosterOverride(_ db: SQLiteConnection, _ id: RosterOverrideID) throws -> Bool {
        try db.run("DELETE FROM roster_overrides WHERE id = ?", [SQLiteValue(id.rawValue)]) > 0
    }

    // MARK: Counters

    @discardableResult
    static func incrementCounter(_ db: SQLiteConnection, _ name: String, key: String, by delta: Int64) throws -> Int64 {
        try db.queryFirst("""
            INSERT INTO counters (name, key, value) VALUES (?1, ?2, ?3)
            ON CONFLICT (name, key) DO UPDATE SET value = value + excluded.value
            RETURNING value
            """, [SQLiteValue(name), SQLiteValue(key), SQLiteValue(delta)]) { try $0.int64(0) } ?? delta
    }

    static func counters(_ db: SQLiteConnection, _ name: String) throws -> [String: Int64] {
        let pairs = try db.query("SELECT key, value FROM counters WHERE name = ?", [SQLiteValue(name)]) {
            (try $0.text(0), try $0.int64(1))
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Network state

    static func networkState(_ db: SQLiteConnection, network: String, key: String) throws -> String? {
        try db.queryFirst("SELECT value FROM network_state WHERE network = ? AND key = ?",
                          [SQLiteValue(network), SQLiteValue(key)]) { try $0.text(0) }
    }

    static func setNetworkState(_ db: SQLiteConnection, network: String, key: String, value: String, at: Date) throws {
        try db.run("""
            INSERT INTO network_state (network, key, value, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (network, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [SQLiteValue(network), SQLiteValue(key), SQLiteValue(value), SQLiteValue(at)])
    }
}
