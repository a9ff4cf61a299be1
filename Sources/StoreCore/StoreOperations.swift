import Desk
import Foundation

/// The store's operations whose statements are the same on SQLite and
/// PostgreSQL, written once (the dialects supply only what differs, see
/// ``StoreDatabase``). They run on the store's worker thread; the writing
/// ones inside its transaction.
///
/// Concurrency: on SQLite the transaction is `BEGIN IMMEDIATE` (the write
/// lock is held from the first read to the commit, also against other
/// processes). On PostgreSQL (READ COMMITTED) an update names the ticket's
/// version in its `WHERE`, so of two racing updates the second waits for the
/// first's row lock, re-reads the row and changes nothing (a conflict); the
/// ticket's row lock also serialises the escalation-step check of updates to
/// one ticket, and PIN reservations take a transaction lock first.
extension StoreDatabase {
    // MARK: Tickets

    /// Refuses pages the outbox could never send.
    public static func validate(_ pages: [PageDraft]) throws {
        for page in pages {
            if page.step < 0 { throw TicketStoreError.invalid("page step \(page.step) is negative") }
            if page.network.isEmpty { throw TicketStoreError.invalid("page to \(page.target) has no network") }
            if page.target.isEmpty { throw TicketStoreError.invalid("page on \(page.network) has no target") }
        }
    }

    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft], cancelUnsentPages: Bool,
        handledMessages: [HandledMessage] = [], conversation: ConversationSnapshot? = nil
    ) throws -> TicketCommit {
        let number = ticket.number
        if let stray = events.first(where: { $0.ticket != number }) {
            throw TicketStoreError.invalid("an event of ticket \(stray.ticket) was given with an update of \(number)")
        }
        try Self.validate(pages)
        try keepCreatedEvent(of: number, expectedVersion: expectedVersion)
        let updated = try queryFirst("""
            UPDATE tickets SET version = version + 1, updated_at = $1, customer_number = $2,
                customer_name = $3, contact_network = $4, contact_nick = $5, contact_account = $6,
                customer_group = $7, tier = $8, severity = $9, summary = $10, description = $11, language = $12,
                state = $13, assignee = $14, responded_at = $15, contract_claim_pin_locked = $16
            WHERE number = $17 AND version = $18
            RETURNING
            """ + StoreRows.ticketColumnList, [
                StoreValue(ticket.updatedAt), StoreValue(ticket.customerNumber),
                StoreValue(ticket.customerName), StoreValue(ticket.contact.network),
                StoreValue(ticket.contact.nick), StoreValue(ticket.contact.account),
                StoreValue(ticket.group.rawValue), StoreValue(ticket.tier),
                StoreValue(ticket.severity.rawValue), StoreValue(ticket.summary),
                StoreValue(ticket.description), StoreValue(ticket.language),
                StoreValue(ticket.state.rawValue), StoreValue(ticket.assignee),
                StoreValue(ticket.respondedAt), StoreValue(ticket.contractClaimPINLocked),
                StoreValue(number.rawValue), StoreValue(expectedVersion),
            ], StoreRows.storedTicket)
        guard let stored = updated else {
            let current = try queryFirst("SELECT version FROM tickets WHERE number = $1",
                                         [StoreValue(number.rawValue)]) { try $0.int64(0) }
            guard let current else { throw TicketStoreError.ticketNotFound(number) }
            throw TicketStoreError.conflict(number, expectedVersion: expectedVersion, currentVersion: current)
        }
        if cancelUnsentPages {
            // Pages to agents only: a notice (a confirmation, a command's
            // answer) is still said after a later change of the ticket.
            try run("UPDATE pages SET cancelled_at = $1 WHERE " + pagesOfTicket("$2")
                + " AND sent_at IS NULL AND cancelled_at IS NULL AND step < $3",
                [StoreValue(ticket.updatedAt), StoreValue(number.rawValue), StoreValue(PageDraft.firstNoticeStep)])
        }
        if !events.isEmpty {
            let last = try queryFirst("SELECT COALESCE(MAX(seq), 0) FROM ticket_events WHERE ticket = $1",
                                      [StoreValue(number.rawValue)]) { try $0.int64(0) } ?? 0
            try insertEvents(events, ticket: number, firstSeq: last + 1)
        }
        for step in Set(pages.filter { !$0.isNotice }.map(\.step)).sorted() {  // A notice may repeat
            let exists = try queryFirst("SELECT 1 FROM pages WHERE " + pagesOfTicket("$1") + " AND step = $2 LIMIT 1",
                                        [StoreValue(number.rawValue), StoreValue(step)]) { _ in true }
            if exists == true { throw TicketStoreError.escalationStepExists(number, step: step) }
        }
        let records = try insertPages(pages, ticket: number)
        try insertHandledMessages(handledMessages, at: ticket.updatedAt)
        if let conversation { try saveConversation(conversation) }
        return TicketCommit(stored: stored, pages: records)
    }

    public func insertEvents(_ events: [TicketEvent], ticket: TicketNumber, firstSeq: Int64) throws {
        var seq = firstSeq
        for event in events {
            try run("""
                INSERT INTO ticket_events (ticket, seq, at, actor, kind, from_value, to_value, note)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [
                    StoreValue(ticket.rawValue), StoreValue(seq), StoreValue(event.at),
                    StoreValue(event.actor.description), StoreValue(event.kind.rawValue), StoreValue(event.from),
                    StoreValue(event.to), StoreValue(event.note),
                ])
            seq += 1
        }
    }

    /// Inserts `pages` of `ticket`; with `claimedBy`, claimed with that
    /// token at that time (the caller checked the lease in this
    /// transaction). `ticketIsNew`: see ``newPageIDs(of:count:ticketIsNew:)``.
    public func insertPages(_ pages: [PageDraft], ticket: TicketNumber,
                            claimedBy claim: (token: FencingToken, at: Date)? = nil,
                            ticketIsNew: Bool = false) throws -> [PageRecord] {
        var records: [PageRecord] = []
        records.reserveCapacity(pages.count)
        let ids = pages.isEmpty ? nil : try newPageIDs(of: ticket, count: pages.count, ticketIsNew: ticketIsNew)
        for (offset, page) in pages.enumerated() {
            var values = [
                StoreValue(ticket.rawValue), StoreValue(page.step), StoreValue(page.network),
                StoreValue(page.target), StoreValue(page.targetKind.rawValue), StoreValue(page.text),
                StoreValue(page.createdAt), StoreValue(page.dueAt), StoreValue(claim?.token.rawValue),
                StoreValue(claim?.at),
            ]
            let id: Int64
            if let ids {
                id = ids[offset]
                values.append(StoreValue(id))
                try run("""
                    INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at,
                        claimed_token, claimed_at, id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                    """, values)
            } else {
                id = try insertReturningID("""
                    INSERT INTO pages (ticket, step, network, target, target_kind, text, created_at, due_at,
                        claimed_token, claimed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    """, values)
            }
            records.append(PageRecord(id: PageID(rawValue: id), ticket: ticket, step: page.step,
                                      network: page.network, target: page.target, targetKind: page.targetKind,
                                      text: page.text, createdAt: page.createdAt, dueAt: page.dueAt))
        }
        return records
    }

    public func readTicket(_ number: TicketNumber) throws -> StoredTicket? {
        try queryFirst(StoreRows.ticketColumns + " WHERE number = $1", [StoreValue(number.rawValue)],
                       StoreRows.storedTicket)
    }

    public func events(of number: TicketNumber) throws -> [TicketEvent] {
        let rows = try query(StoreRows.eventColumns + " WHERE ticket = $1 ORDER BY seq", [StoreValue(number.rawValue)]) {
            try StoreRows.event(of: number, $0)
        }
        guard let created = try createdEventInRow(of: number) else { return rows }
        return [created] + rows
    }

    public func openTickets() throws -> [StoredTicket] {
        // The WHERE clause is the partial index `tickets_open`'s, letter
        // for letter, so only the open tickets are read.
        try query(StoreRows.ticketColumns + " WHERE " + openTicketCondition + " ORDER BY number",
                  [], StoreRows.storedTicket)
    }

    private func openFilter(_ openOnly: Bool) -> String {
        openOnly ? " AND " + openTicketCondition : ""
    }

    public func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        let (column, value, filter) = if let account = contact.account {
            ("contact_account", account, "contact_account IS NOT NULL")
        } else {
            ("contact_nick", contact.nick, "contact_account IS NULL")
        }
        return try query(StoreRows.ticketColumns + " WHERE contact_network = $1 AND " + filter + " AND "
            + asciiCaseInsensitiveEquals(column, "$2") + openFilter(openOnly)
            + " ORDER BY number DESC LIMIT $3",
            [StoreValue(contact.network), StoreValue(value), limitValue(limit)], StoreRows.storedTicket)
    }

    /// Reads the whole table: no index serves it since SQLite schema 6 /
    /// PostgreSQL schema 5, because nothing in the gateway calls it (only
    /// tests); an index on it cost every contract ticket a B-tree write.
    public func tickets(customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try query(StoreRows.ticketColumns + " WHERE customer_number = $1" + openFilter(openOnly)
            + " ORDER BY number DESC LIMIT $2",
            [StoreValue(customerNumber), limitValue(limit)], StoreRows.storedTicket)
    }

    public func recentTickets(limit: Int) throws -> [StoredTicket] {
        try query(StoreRows.ticketColumns + " ORDER BY number DESC LIMIT $1", [limitValue(limit)],
                  StoreRows.storedTicket)
    }

    public func tickets(createdFrom from: Date, until: Date, limit: Int) throws -> [StoredTicket] {
        try query(StoreRows.ticketColumns
            + " WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, number LIMIT $3",
            [StoreValue(from), StoreValue(until), limitValue(limit)], StoreRows.storedTicket)
    }

    // MARK: Outbox

    public func pendingPages(dueBy: Date, limit: Int) throws -> [PageRecord] {
        try query(StoreRows.pageColumns + """
             WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2
            """, [StoreValue(dueBy), limitValue(limit)], StoreRows.page)
    }

    public func nextPageDue() throws -> Date? {
        try queryFirst("SELECT MIN(due_at) FROM pages WHERE sent_at IS NULL AND cancelled_at IS NULL", []) {
            try $0.optionalDate(0)
        } ?? nil
    }

    public func pages(of number: TicketNumber) throws -> [PageRecord] {
        try query(StoreRows.pageColumns + " WHERE " + pagesOfTicket("$1") + " ORDER BY id", [StoreValue(number.rawValue)],
                  StoreRows.page)
    }

    public func markPageSent(_ id: PageID, at: Date) throws {
        let changed = try run("UPDATE pages SET sent_at = $1, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL",
                              [StoreValue(at), StoreValue(id.rawValue)])
        if changed == 0 { try requirePage(id) }
    }

    public func markPageFailed(_ id: PageID, error: String, retryAt: Date) throws {
        let changed = try run("""
            UPDATE pages SET attempts = attempts + 1, last_error = $1, due_at = $2
            WHERE id = $3 AND sent_at IS NULL
            """, [StoreValue(error), StoreValue(retryAt), StoreValue(id.rawValue)])
        if changed == 0 { try requirePage(id) }
    }

    private func requirePage(_ id: PageID) throws {
        let exists = try queryFirst("SELECT 1 FROM pages WHERE id = $1", [StoreValue(id.rawValue)]) { _ in true }
        if exists != true { throw TicketStoreError.pageNotFound(id) }
    }

    public func escalationSteps(of number: TicketNumber) throws -> Set<Int> {
        Set(try query("SELECT DISTINCT step FROM pages WHERE " + pagesOfTicket("$1"), [StoreValue(number.rawValue)]) {
            try $0.int(0)
        })
    }

    // MARK: Roster overrides

    public func addRosterOverride(_ draft: RosterOverrideDraft) throws -> SavedRosterOverride {
        guard draft.until > draft.from else {
            throw TicketStoreError.invalid("roster override for \(draft.agent) ends (\(draft.until)) "
                + "before it starts (\(draft.from))")
        }
        let id = try insertReturningID("""
            INSERT INTO roster_overrides (agent, starts_at, ends_at, created_by, created_at, reason)
            VALUES ($1, $2, $3, $4, $5, $6)
            """, [StoreValue(draft.agent), StoreValue(draft.from), StoreValue(draft.until),
                  StoreValue(draft.createdBy.description), StoreValue(draft.createdAt),
                  StoreValue(draft.reason)])
        return SavedRosterOverride(id: RosterOverrideID(rawValue: id), agent: draft.agent, from: draft.from,
                                   until: draft.until, reason: draft.reason, createdBy: draft.createdBy,
                                   createdAt: draft.createdAt)
    }

    public func rosterOverrides(activeAt instant: Date) throws -> [SavedRosterOverride] {
        try query(StoreRows.overrideColumns + " WHERE starts_at <= $1 AND ends_at > $1 ORDER BY created_at DESC, id DESC",
                  [StoreValue(instant)], StoreRows.rosterOverride)
    }

    public func rosterOverrides(endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try query(StoreRows.overrideColumns + " WHERE ends_at > $1 ORDER BY starts_at, id", [StoreValue(instant)],
                  StoreRows.rosterOverride)
    }

    public func removeRosterOverride(_ id: RosterOverrideID) throws -> Bool {
        try run("DELETE FROM roster_overrides WHERE id = $1", [StoreValue(id.rawValue)]) > 0
    }

    // MARK: Counters

    public func incrementCounter(_ name: String, key: String, by delta: Int64) throws -> Int64 {
        try queryFirst("""
            INSERT INTO counters (name, key, value) VALUES ($1, $2, $3)
            ON CONFLICT (name, key) DO UPDATE SET value = counters.value + excluded.value
            RETURNING value
            """, [StoreValue(name), StoreValue(key), StoreValue(delta)]) { try $0.int64(0) } ?? delta
    }

    public func counters(_ name: String) throws -> [String: Int64] {
        let pairs = try query("SELECT key, value FROM counters WHERE name = $1", [StoreValue(name)]) {
            (try $0.text(0), try $0.int64(1))
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Network state

    public func networkState(network: String, key: String) throws -> String? {
        try queryFirst("SELECT value FROM network_state WHERE network = $1 AND key = $2",
                       [StoreValue(network), StoreValue(key)]) { try $0.text(0) }
    }

    public func setNetworkState(network: String, key: String, value: String, at: Date) throws {
        try run("""
            INSERT INTO network_state (network, key, value, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (network, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [StoreValue(network), StoreValue(key), StoreValue(value), StoreValue(at)])
    }

    // MARK: Handled chat messages

    /// Records `messages` as handled at `at` (inside the caller's
    /// transaction: a ticket's creation, a conversation's snapshot, or
    /// alone); one already recorded keeps its first time.
    public func insertHandledMessages(_ messages: [HandledMessage], at: Date) throws {
        for message in messages {
            try run("""
                INSERT INTO handled_messages (network, source_id, handled_at) VALUES ($1, $2, $3)
                ON CONFLICT (network, source_id) DO NOTHING
                """, [StoreValue(message.network), StoreValue(message.sourceID), StoreValue(at)])
        }
    }

    /// Which of `ids` are recorded as handled on `network` (one lookup by
    /// primary key each: a batch of messages holds a few).
    public func handledMessages(network: String, among ids: [String]) throws -> Set<String> {
        var found = Set<String>()
        for id in Set(ids) {
            let known = try queryFirst("SELECT 1 FROM handled_messages WHERE network = $1 AND source_id = $2",
                                       [StoreValue(network), StoreValue(id)]) { _ in true }
            if known == true { found.insert(id) }
        }
        return found
    }

    public func forgetHandledMessages(network: String, before instant: Date) throws -> Int {
        try run("DELETE FROM handled_messages WHERE network = $1 AND handled_at < $2",
                [StoreValue(network), StoreValue(instant)])
    }

    // MARK: PIN checks

    /// The column value an identity is counted by: the account on the
    /// network when there is one, else the nick among identities without an
    /// account (a nick never matches a logged-in sender). ASCII
    /// case-insensitive; the network is length-prefixed so no network name
    /// can make two identities collide.
    public static func identityKey(_ identity: ChatIdentity) -> String {
        let network = "\(identity.network.utf8.count):\(identity.network)"
        if let account = identity.account { return network + "|a|" + asciiLowercased(account) }
        return network + "|n|" + asciiLowercased(identity.nick)
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Wrong, or never finished: what counts against a budget.
    private static var countsAsWrong: String { "(outcome IS NULL OR outcome = 'wrong')" }

    public func reservePINCheck(customerNumber: String, identity: ChatIdentity, at now: Date,
                                policy: PINAttemptPolicy) throws -> PINReservation {
        // Every reservation passes this lock one at a time, so the budgets
        // read below are still true when the row is inserted.
        try lockPINReservations()
        let since = StoreValue(now.addingTimeInterval(-policy.window))
        let identityKey = Self.identityKey(identity)
        let number = try queryFirst("SELECT COUNT(*), MAX(reserved_at) FROM pin_checks "
            + "WHERE customer_number = $1 AND reserved_at > $2 AND " + Self.countsAsWrong,
            [StoreValue(customerNumber), since]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let sender = try queryFirst("SELECT COUNT(*), MIN(reserved_at) FROM pin_checks "
            + "WHERE identity_key = $1 AND reserved_at > $2 AND " + Self.countsAsWrong,
            [StoreValue(identityKey), since]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let global = try queryFirst("SELECT COUNT(*), MIN(reserved_at) FROM pin_checks WHERE reserved_at > $1",
            [StoreValue(now.addingTimeInterval(-1))]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let budget = PINBudgetState(numberWrong: number.0, numberLastCheck: number.1, identityWrong: sender.0,
                                    identityOldestWrong: sender.1, globalChecksLastSecond: global.0,
                                    globalOldestLastSecond: global.1)
        switch policy.decide(budget, now: now) {
        case .refuse(let refusal):
            return .refused(refusal)
        case .allow:
            let id = try insertReturningID("""
                INSERT INTO pin_checks (customer_number, network, nick, account, identity_key, reserved_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                """, [StoreValue(customerNumber), StoreValue(identity.network), StoreValue(identity.nick),
                      StoreValue(identity.account), StoreValue(identityKey), StoreValue(now)])
            return .reserved(PINReservationID(rawValue: id))
        }
    }

    public func finishPINCheck(_ id: PINReservationID, outcome: PINCheckOutcome, at: Date) throws {
        let changed = try run(
            "UPDATE pin_checks SET outcome = $1, finished_at = $2 WHERE id = $3 AND outcome IS NULL",
            [StoreValue(outcome.rawValue), StoreValue(at), StoreValue(id.rawValue)])
        if changed == 0 {
            let exists = try queryFirst("SELECT 1 FROM pin_checks WHERE id = $1", [StoreValue(id.rawValue)]) { _ in
                true
            }
            if exists != true { throw TicketStoreError.invalid("\(id) was never reserved") }
        }
    }

    public func pinAttackState(customerNumber: String, at now: Date, policy: PINAttemptPolicy) throws
        -> PINAttackState {
        let row = try queryFirst("SELECT COUNT(*), COUNT(DISTINCT identity_key), MAX(reserved_at) FROM pin_checks "
            + "WHERE customer_number = $1 AND reserved_at > $2 AND " + Self.countsAsWrong,
            [StoreValue(customerNumber), StoreValue(now.addingTimeInterval(-policy.window))]) {
            (try $0.int(0), try $0.int(1), try $0.optionalDate(2))
        } ?? (0, 0, nil)
        let lockedUntil = policy.numberLockedUntil(wrong: row.0, lastCheck: row.2).flatMap { $0 > now ? $0 : nil }
        return PINAttackState(wrongInWindow: row.0, distinctIdentities: row.1, lockedUntil: lockedUntil)
    }

    // MARK: Conversation snapshots

    public func saveConversation(_ snapshot: ConversationSnapshot) throws {
        guard snapshot.expiresAt > snapshot.updatedAt else {
            throw TicketStoreError.invalid("conversation \(snapshot.key) expires (\(snapshot.expiresAt)) "
                + "before it was updated (\(snapshot.updatedAt))")
        }
        try run("""
            INSERT INTO conversations (network, key, format_version, state, updated_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (network, key) DO UPDATE SET format_version = $3, state = $4, updated_at = $5,
                expires_at = $6
            """, [StoreValue(snapshot.key.network), StoreValue(snapshot.key.key),
                  StoreValue(snapshot.formatVersion), .bytes(snapshot.state),
                  StoreValue(snapshot.updatedAt), StoreValue(snapshot.expiresAt)])
        try insertHandledMessages(snapshot.handledMessages, at: snapshot.updatedAt)
    }

    public func conversations(unexpiredAt instant: Date) throws -> [ConversationSnapshot] {
        // Byte order, whatever the database's locale.
        try query(StoreRows.conversationColumns + " WHERE expires_at > $1 ORDER BY network"
            + byteOrderCollation + ", key" + byteOrderCollation, [StoreValue(instant)], StoreRows.conversation)
    }

    public func deleteConversation(_ key: ConversationKey, handledMessages: [HandledMessage] = [],
                                   at: Date = Date()) throws -> Bool {
        let deleted = try run("DELETE FROM conversations WHERE network = $1 AND key = $2",
                              [StoreValue(key.network), StoreValue(key.key)]) > 0
        try insertHandledMessages(handledMessages, at: at)
        return deleted
    }

    public func deleteExpiredConversations(at instant: Date) throws -> Int {
        try run("DELETE FROM conversations WHERE expires_at <= $1", [StoreValue(instant)])
    }

    // MARK: Lease

    public func lease(_ name: String) throws -> LeaseGrant? {
        try queryFirst("SELECT " + StoreRows.leaseColumnList + " FROM leases WHERE name = $1", [StoreValue(name)],
                       StoreRows.lease)
    }

    /// See ``LeaseStore/claimPages(_:lease:token:now:)``: the lease is
    /// checked (``leaseAdmits(_:token:now:)``) and each page read and
    /// locked in this transaction, so a claim is ordered before or after a
    /// change of holder, never across it.
    public func claimPages(_ ids: [PageID], lease name: String, token: FencingToken, now: Date) throws
        -> [PageID: PageClaim] {
        let valid = try leaseAdmits(name, token: token, now: now)
        var claims: [PageID: PageClaim] = [:]
        for id in ids {
            guard let (sent, cancelled, claimedBy) = try queryFirst("""
                SELECT sent_at IS NOT NULL, cancelled_at IS NOT NULL, COALESCE(claimed_token, 0)
                FROM pages WHERE id = $1
                """ + pageClaimLock, [StoreValue(id.rawValue)], { row in
                    (try row.bool(0), try row.bool(1), try row.int64(2))
                })
            else { throw TicketStoreError.pageNotFound(id) }
            if !valid || claimedBy > token.rawValue {
                claims[id] = .fenced
            } else if sent || cancelled {
                claims[id] = .notPending
            } else {
                claims[id] = .claimed
            }
        }
        guard valid, claims.values.contains(.claimed) else { return claims }
        for (id, claim) in claims where claim == .claimed {
            let time = claimTime(now, parameter: "$3")
            try run("UPDATE pages SET claimed_token = $1, claimed_at = " + time.sql + " WHERE id = $2",
                    [StoreValue(token.rawValue), StoreValue(id.rawValue)] + (time.value.map { [$0] } ?? []))
        }
        return claims
    }
}
