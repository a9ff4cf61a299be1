import CSQLite
import Core
import Desk
import Dispatch
import Foundation
import Synchronization

/// The default ``TicketStore``: one SQLite file (SPEC.md, "Data").
///
/// The file is opened in WAL mode with `synchronous=FULL` (a commit is on
/// disk when it returns, also after a power failure), foreign keys on and a
/// busy timeout of 5 s (another process, e.g. `switchboard tickets`, may hold
/// the write lock for a moment). The schema is migrated on open.
///
/// One connection, used by one thread at a time behind a lock: SQLite
/// serialises writers anyway, and a commit costs ~0.15 ms.
///
/// **Group commit.** ``createTicket(_:makePages:)`` (and
/// ``createTicket(_:pages:)``) calls that arrive while a commit is running are gathered and written by the next commit in one
/// transaction (each in its own savepoint, so one bad request fails alone).
/// Every caller still gets its number only after the transaction that holds
/// its ticket committed; if that commit fails, every caller in it gets the
/// error. A single caller pays nothing for this.
public final class SQLiteStore: TicketStore {
    /// The database file.
    public let path: String
    private let connection: Mutex<SQLiteConnection?>
    private let commitQueue = Mutex(CommitQueue())
    private let logger: Logger
    private let creationTransactions = Atomic<Int>(0)
    private let createdTickets = Atomic<Int>(0)

    /// At most this many ticket creations go into one group commit.
    static let maxGroupCommit = 256

    /// Opens (creating if needed) the store at `path` and migrates its schema.
    ///
    /// - Parameters:
    ///   - now: recorded as the time of any schema migration applied now.
    /// - Throws: ``SQLiteStoreError`` saying what is wrong with the file or
    ///   its directory, or an ``SQLiteError``.
    public init(path: String, logger: Logger, now: Date = Date()) throws {
        self.path = path
        self.logger = logger.with(["component": "store"])
        try Self.checkLocation(path)
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path)
        } catch {
            throw SQLiteStoreError.cannotOpen(path: path, reason: "\(error.message) (SQLite code \(error.code))")
        }
        do {
            try Self.configure(db)
            try Schema.migrate(db, now: now, logger: self.logger)
        } catch let error as SQLiteError where error.code == SQLITE_NOTADB {
            db.close()
            throw SQLiteStoreError.notADatabase(path: path, reason: error.message)
        } catch {
            db.close()
            throw error
        }
        connection = Mutex(db)
    }

    deinit {
        connection.withLock { db in
            db?.close()
            db = nil
        }
    }

    /// Closes the file. Later calls throw ``TicketStoreError/closed``.
    public func close() {
        connection.withLock { db in
            db?.close()
            db = nil
        }
    }

    // MARK: Opening

    private static func checkLocation(_ path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var info = stat()
        if stat(directory, &info) != 0 {
            let code = errno
            if code == ENOENT { throw SQLiteStoreError.directoryMissing(path: path, directory: directory) }
            throw SQLiteStoreError.directoryNotWritable(path: path, directory: directory,
                                                        reason: String(cString: strerror(code)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw SQLiteStoreError.notADirectory(path: path, directory: directory)
        }
        if access(directory, W_OK | X_OK) != 0 {
            throw SQLiteStoreError.directoryNotWritable(path: path, directory: directory,
                                                        reason: String(cString: strerror(errno)))
        }
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw SQLiteStoreError.isADirectory(path: path) }
            if access(path, R_OK | W_OK) != 0 {
                throw SQLiteStoreError.fileNotWritable(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }

    private static func configure(_ db: SQLiteConnection) throws {
        // The first statement reads the file's header: a file that is not a
        // database fails here with SQLITE_NOTADB.
        let mode = try db.queryFirst("PRAGMA journal_mode = WAL") { try $0.text(0) } ?? "unknown"
        guard mode.lowercased() == "wal" else {
            throw SQLiteStoreError.walUnavailable(path: db.path, journalMode: mode)
        }
        try db.execute("""
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA journal_size_limit = 67108864;
            PRAGMA trusted_schema = OFF;
            """)
        let synchronous = try db.queryFirst("PRAGMA synchronous") { try $0.int64(0) }
        let foreignKeys = try db.queryFirst("PRAGMA foreign_keys") { try $0.int64(0) }
        guard synchronous == 2, foreignKeys == 1 else {
            throw SQLiteStoreError.unsupportedSQLite(
                path: db.path, detail: "synchronous=FULL and foreign keys are required "
                    + "(got synchronous=\(synchronous.map(String.init) ?? "none"), "
                    + "foreign_keys=\(foreignKeys.map(String.init) ?? "unsupported"))")
        }
    }

    /// Runs `body` with the connection, under the lock.
    @discardableResult
    private func withConnection<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try connection.withLock { db throws -> T in
            guard let db else { throw TicketStoreError.closed }
            return try body(db)
        }
    }

    // MARK: Creating tickets

    public func createTicket(_ ticket: NewTicket, pages: [PageDraft]) throws -> TicketCommit {
        try Self.validate(pages)
        return try createTicket(ticket, makePages: { _ in pages })
    }

    /// Creates a ticket whose pages are made from its number inside the
    /// transaction that assigns it (see ``TicketStore/createTicket(_:makePages:)``);
    /// takes part in the group commit like ``createTicket(_:pages:)``.
    public func createTicket(_ ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit {
        let request = PendingCreate(ticket: ticket, makePages: makePages)
        let leads = commitQueue.withLock { queue in
            queue.waiting.append(request)
            if queue.leaderActive { return false }
            queue.leaderActive = true
            return true
        }
        if !leads {
            request.wakeUp.wait()
            if let result = request.result { return try result.get() }
            // No result: the previous leader handed the next commit to us.
        }
        leadGroupCommit(own: request)
        guard let result = request.result else {
            preconditionFailure("group commit left a request without a result")
        }
        return try result.get()
    }

    /// Commits the waiting creations (ours first among them), hands each
    /// waiter its result, and hands leadership to the first request that
    /// arrived meanwhile.
    private func leadGroupCommit(own: PendingCreate) {
        let batch = commitQueue.withLock { queue in
            let batch = Array(queue.waiting.prefix(Self.maxGroupCommit))
            queue.waiting.removeFirst(batch.count)
            return batch
        }
        let results = createTickets(made: batch.map { ($0.ticket, $0.makePages) })
        creationTransactions.add(1, ordering: .relaxed)
        createdTickets.add(batch.count, ordering: .relaxed)
        for (request, result) in zip(batch, results) { request.result = result }
        let next = commitQueue.withLock { queue -> PendingCreate? in
            guard let first = queue.waiting.first else {
                queue.leaderActive = false
                return nil
            }
            return first
        }
        for request in batch where request !== own { request.wakeUp.signal() }
        next?.wakeUp.signal()
    }

    /// How many `createTicket` calls were committed in how many
    /// transactions since the store was opened (their ratio is the average
    /// group-commit size; for metrics and the benchmark).
    public var groupCommitStatistics: (transactions: Int, tickets: Int) {
        (creationTransactions.load(ordering: .relaxed), createdTickets.load(ordering: .relaxed))
    }

    /// Creates several tickets in one transaction (one durable commit for
    /// all): each with its `created` event and pages, each in its own
    /// savepoint, so a request that fails (e.g. a constraint) fails alone.
    /// If the transaction cannot commit, every request fails with that
    /// error. Results are in the order of `requests`.
    public func createTickets(_ requests: [(ticket: NewTicket, pages: [PageDraft])])
        -> [Result<TicketCommit, any Error>] {
        var results = [Result<TicketCommit, any Error>?](repeating: nil, count: requests.count)
        var made: [(ticket: NewTicket, makePages: @Sendable (TicketNumber) -> [PageDraft])] = []
        var madeIndex: [Int] = []
        for (index, request) in requests.enumerated() {
            do {
                try Self.validate(request.pages)
                let pages = request.pages
                made.append((request.ticket, { _ in pages }))
                madeIndex.append(index)
            } catch {
                results[index] = .failure(error)
            }
        }
        for (index, result) in zip(madeIndex, createTickets(made: made)) { results[index] = result }
        return results.map { $0 ?? .failure(TicketStoreError.invalid("internal: request without a result")) }
    }

    /// ``createTickets(_:)`` with pages made from each ticket's number
    /// inside the transaction; a request whose pages are invalid fails alone.
    private func createTickets(made requests: [(ticket: NewTicket, makePages: @Sendable (TicketNumber) -> [PageDraft])])
        -> [Result<TicketCommit, any Error>] {
        var results = [Result<TicketCommit, any Error>?](repeating: nil, count: requests.count)
        let valid = Array(requests.indices)
        if !valid.isEmpty {
            do {
                let committed = try withConnection { db in
                    try db.transaction { () throws -> [Result<TicketCommit, any Error>] in
                        if valid.count == 1 {
                            let request = requests[valid[0]]
                            return [.success(try Self.insertTicket(db, request.ticket, makePages: request.makePages))]
                        }
                        var committed: [Result<TicketCommit, any Error>] = []
                        committed.reserveCapacity(valid.count)
                        for index in valid {
                            let request = requests[index]
                            do {
                                let commit = try db.savepoint {
                                    try Self.insertTicket(db, request.ticket, makePages: request.makePages)
                                }
                                committed.append(.success(commit))
                            } catch {
                                // SQLite rolls back the whole transaction by
                                // itself on some errors (I/O, full disk); then
                                // nothing of this batch is stored.
                                if db.isAutocommit { throw error }
                                committed.append(.failure(error))
                            }
                        }
                        return committed
                    }
                }
                for (index, result) in zip(valid, committed) { results[index] = result }
            } catch {
                logger.error("ticket creation failed", ["error": error, "tickets": valid.count])
                for index in valid { results[index] = .failure(error) }
            }
        }
        return results.map { $0 ?? .failure(TicketStoreError.invalid("internal: request without a result")) }
    }

    private static func insertTicket(_ db: SQLiteConnection, _ new: NewTicket,
                                     makePages: (TicketNumber) -> [PageDraft]) throws -> TicketCommit {
        try db.run("""
            INSERT INTO tickets (version, created_at, updated_at, customer_number, customer_name,
                contact_network, contact_nick, contact_account, customer_group, tier, severity, summary,
                description, language, state, assignee, responded_at)
            VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
            """, [
                SQLiteValue(new.createdAt), SQLiteValue(new.createdAt), SQLiteValue(new.customerNumber),
                SQLiteValue(new.customerName), SQLiteValue(new.contact.network), SQLiteValue(new.contact.nick),
                SQLiteValue(new.contact.account), SQLiteValue(new.group.rawValue), SQLiteValue(new.tier),
                SQLiteValue(new.severity.rawValue), SQLiteValue(new.summary), SQLiteValue(new.description),
                SQLiteValue(new.language), SQLiteValue(TicketState.new.rawValue),
            ])
        let number = TicketNumber(db.lastInsertRowID)
        try insertEvents(db, [new.createdEvent(number: number)], ticket: number, firstSeq: 1)
        let pages = makePages(number)
        try validate(pages)
        let records = try insertPages(db, pages, ticket: number)
        return TicketCommit(stored: StoredTicket(ticket: new.ticket(number: number), version: 1), pages: records)
    }

    // MARK: Updating tickets

    public func updateTicket(
        _ ticket: Ticket, expectedVersion: Int64, events: [TicketEvent], pages: [PageDraft],
        cancelUnsentPages: Bool
    ) throws -> TicketCommit {
        let number = ticket.number
        if let stray = events.first(where: { $0.ticket != number }) {
            throw TicketStoreError.invalid("an event of ticket \(stray.ticket) was given with an update of \(number)")
        }
        try Self.validate(pages)
        return try withConnection { db in
            try db.transaction {
                let changed = try db.run("""
                    UPDATE tickets SET version = version + 1, updated_at = ?, customer_number = ?,
                        customer_name = ?, contact_network = ?, contact_nick = ?, contact_account = ?,
                        customer_group = ?, tier = ?, severity = ?, summary = ?, description = ?, language = ?,
                        state = ?, assignee = ?, responded_at = ?
                    WHERE number = ? AND version = ?
                    """, [
                        SQLiteValue(ticket.updatedAt), SQLiteValue(ticket.customerNumber),
                        SQLiteValue(ticket.customerName), SQLiteValue(ticket.contact.network),
                        SQLiteValue(ticket.contact.nick), SQLiteValue(ticket.contact.account),
                        SQLiteValue(ticket.group.rawValue), SQLiteValue(ticket.tier),
                        SQLiteValue(ticket.severity.rawValue), SQLiteValue(ticket.summary),
                        SQLiteValue(ticket.description), SQLiteValue(ticket.language),
                        SQLiteValue(ticket.state.rawValue), SQLiteValue(ticket.assignee),
                        SQLiteValue(ticket.respondedAt), SQLiteValue(number.rawValue), SQLiteValue(expectedVersion),
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
        }
    }

    private static func insertEvents(_ db: SQLiteConnection, _ events: [TicketEvent], ticket: TicketNumber,
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

    private static func insertPages(_ db: SQLiteConnection, _ pages: [PageDraft], ticket: TicketNumber) throws
        -> [PageRecord] {
        var records: [PageRecord] = []
        records.reserveCapacity(pages.count)
        for page in pages {
            try db.run("""
                INSERT INTO pages (ticket, step, network, target, text, created_at, due_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [
                    SQLiteValue(ticket.rawValue), SQLiteValue(page.step), SQLiteValue(page.network),
                    SQLiteValue(page.target), SQLiteValue(page.text), SQLiteValue(page.createdAt),
                    SQLiteValue(page.dueAt),
                ])
            records.append(PageRecord(id: PageID(rawValue: db.lastInsertRowID), ticket: ticket, step: page.step,
                                      network: page.network, target: page.target, text: page.text,
                                      createdAt: page.createdAt, dueAt: page.dueAt))
        }
        return records
    }

    private static func validate(_ pages: [PageDraft]) throws {
        for page in pages {
            if page.step < 0 { throw TicketStoreError.invalid("page step \(page.step) is negative") }
            if page.network.isEmpty { throw TicketStoreError.invalid("page to \(page.target) has no network") }
            if page.target.isEmpty { throw TicketStoreError.invalid("page on \(page.network) has no target") }
        }
    }

    // MARK: Reading tickets

    /// The columns `readStoredTicket` reads, in its order.
    private static let ticketColumns: SQL = """
        SELECT number, version, created_at, updated_at, customer_number, customer_name, contact_network,
            contact_nick, contact_account, customer_group, tier, severity, summary, description, language, state,
            assignee, responded_at
        FROM tickets
        """

    private static func readStoredTicket(_ row: SQLiteRow) throws -> StoredTicket {
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
            assignee: try row.optionalText(16), respondedAt: try row.optionalDate(17))
        return StoredTicket(ticket: ticket, version: try row.int64(1))
    }

    private static func readTicket(_ db: SQLiteConnection, _ number: TicketNumber) throws -> StoredTicket? {
        try db.queryFirst(ticketColumns + " WHERE number = ?", [SQLiteValue(number.rawValue)], readStoredTicket)
    }

    public func ticket(_ number: TicketNumber) throws -> StoredTicket? {
        try withConnection { db in try Self.readTicket(db, number) }
    }

    public func events(of number: TicketNumber) throws -> [TicketEvent] {
        try withConnection { db in
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
    }

    public func openTickets() throws -> [StoredTicket] {
        try withConnection { db in
            // The WHERE clause is the partial index `tickets_open`'s, letter
            // for letter, so SQLite reads only the open tickets.
            try db.query(Self.ticketColumns + " WHERE state NOT IN " + Schema.closedStatesSQL + " ORDER BY number",
                         [], Self.readStoredTicket)
        }
    }

    public func tickets(contact: ChatIdentity, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try withConnection { db in
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
    }

    public func tickets(customerNumber: String, openOnly: Bool, limit: Int) throws -> [StoredTicket] {
        try withConnection { db in
            try db.query(Self.ticketColumns + " WHERE customer_number = ?1 AND (?2 = 0 OR state NOT IN "
                + Schema.closedStatesSQL + ") ORDER BY number DESC LIMIT ?3",
                [SQLiteValue(customerNumber), SQLiteValue(openOnly), SQLiteValue(limit)], Self.readStoredTicket)
        }
    }

    public func recentTickets(limit: Int) throws -> [StoredTicket] {
        try withConnection { db in
            try db.query(Self.ticketColumns + " ORDER BY number DESC LIMIT ?", [SQLiteValue(limit)],
                         Self.readStoredTicket)
        }
    }

    // MARK: Outbox

    private static let pageColumns: SQL = """
        SELECT id, ticket, step, network, target, text, created_at, due_at, sent_at, cancelled_at, attempts,
            last_error
        FROM pages
        """

    private static func readPage(_ row: SQLiteRow) throws -> PageRecord {
        PageRecord(id: PageID(rawValue: try row.int64(0)), ticket: TicketNumber(try row.int64(1)),
                   step: try row.int(2), network: try row.text(3), target: try row.text(4), text: try row.text(5),
                   createdAt: try row.date(6), dueAt: try row.date(7), sentAt: try row.optionalDate(8),
                   cancelledAt: try row.optionalDate(9), attempts: try row.int(10),
                   lastError: try row.optionalText(11))
    }

    public func pendingPages(dueBy: Date, limit: Int) throws -> [PageRecord] {
        try withConnection { db in
            try db.query(Self.pageColumns + """
                 WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?
                """, [SQLiteValue(dueBy), SQLiteValue(limit)], Self.readPage)
        }
    }

    public func nextPageDue() throws -> Date? {
        try withConnection { db in
            try db.queryFirst("SELECT MIN(due_at) FROM pages WHERE sent_at IS NULL AND cancelled_at IS NULL") {
                try $0.optionalDate(0)
            } ?? nil
        }
    }

    public func pages(of number: TicketNumber) throws -> [PageRecord] {
        try withConnection { db in
            try db.query(Self.pageColumns + " WHERE ticket = ? ORDER BY id", [SQLiteValue(number.rawValue)],
                         Self.readPage)
        }
    }

    public func markPageSent(_ id: PageID, at: Date) throws {
        try withConnection { db in
            let changed = try db.run("UPDATE pages SET sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL",
                                     [SQLiteValue(at), SQLiteValue(id.rawValue)])
            if changed == 0 { try Self.requirePage(db, id) }
        }
    }

    public func markPageFailed(_ id: PageID, error: String, retryAt: Date) throws {
        try withConnection { db in
            let changed = try db.run("""
                UPDATE pages SET attempts = attempts + 1, last_error = ?, due_at = ?
                WHERE id = ? AND sent_at IS NULL
                """, [SQLiteValue(error), SQLiteValue(retryAt), SQLiteValue(id.rawValue)])
            if changed == 0 { try Self.requirePage(db, id) }
        }
    }

    private static func requirePage(_ db: SQLiteConnection, _ id: PageID) throws {
        let exists = try db.queryFirst("SELECT 1 FROM pages WHERE id = ?", [SQLiteValue(id.rawValue)]) { _ in true }
        if exists != true { throw TicketStoreError.pageNotFound(id) }
    }

    public func escalationSteps(of number: TicketNumber) throws -> Set<Int> {
        try withConnection { db in
            Set(try db.query("SELECT DISTINCT step FROM pages WHERE ticket = ?", [SQLiteValue(number.rawValue)]) {
                try $0.int(0)
            })
        }
    }

    // MARK: Roster overrides

    private static let overrideColumns: SQL =
        "SELECT id, agent, starts_at, ends_at, created_by, created_at, reason FROM roster_overrides"

    private static func readOverride(_ row: SQLiteRow) throws -> SavedRosterOverride {
        let id = RosterOverrideID(rawValue: try row.int64(0))
        let createdByText = try row.text(4)
        guard let createdBy = Actor(stored: createdByText) else {
            throw TicketStoreError.corrupt("\(id): actor '\(createdByText)' is unknown (roster_overrides.created_by)")
        }
        return SavedRosterOverride(id: id, agent: try row.text(1), from: try row.date(2), until: try row.date(3),
                                   reason: try row.text(6), createdBy: createdBy, createdAt: try row.date(5))
    }

    public func addRosterOverride(_ draft: RosterOverrideDraft) throws -> SavedRosterOverride {
        guard draft.until > draft.from else {
            throw TicketStoreError.invalid("roster override for \(draft.agent) ends (\(draft.until)) "
                + "before it starts (\(draft.from))")
        }
        return try withConnection { db in
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
    }

    public func rosterOverrides(activeAt instant: Date) throws -> [SavedRosterOverride] {
        try withConnection { db in
            try db.query(Self.overrideColumns + """
                 WHERE starts_at <= ?1 AND ends_at > ?1 ORDER BY created_at DESC, id DESC
                """, [SQLiteValue(instant)], Self.readOverride)
        }
    }

    public func rosterOverrides(endingAfter instant: Date) throws -> [SavedRosterOverride] {
        try withConnection { db in
            try db.query(Self.overrideColumns + " WHERE ends_at > ? ORDER BY starts_at, id",
                         [SQLiteValue(instant)], Self.readOverride)
        }
    }

    @discardableResult
    public func removeRosterOverride(_ id: RosterOverrideID) throws -> Bool {
        try withConnection { db in
            try db.run("DELETE FROM roster_overrides WHERE id = ?", [SQLiteValue(id.rawValue)]) > 0
        }
    }

    // MARK: Counters

    @discardableResult
    public func incrementCounter(_ name: String, key: String, by delta: Int64) throws -> Int64 {
        try withConnection { db in
            try db.queryFirst("""
                INSERT INTO counters (name, key, value) VALUES (?1, ?2, ?3)
                ON CONFLICT (name, key) DO UPDATE SET value = value + excluded.value
                RETURNING value
                """, [SQLiteValue(name), SQLiteValue(key), SQLiteValue(delta)]) { try $0.int64(0) } ?? delta
        }
    }

    public func counters(_ name: String) throws -> [String: Int64] {
        try withConnection { db in
            let pairs = try db.query("SELECT key, value FROM counters WHERE name = ?", [SQLiteValue(name)]) {
                (try $0.text(0), try $0.int64(1))
            }
            return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        }
    }

    // MARK: Failed PIN attempts

    public func recordFailedPIN(_ attempt: FailedPINAttempt) throws {
        try withConnection { db in
            try db.run("""
                INSERT INTO failed_pins (customer_number, network, nick, account, at) VALUES (?, ?, ?, ?, ?)
                """, [SQLiteValue(attempt.customerNumber), SQLiteValue(attempt.identity.network),
                      SQLiteValue(attempt.identity.nick), SQLiteValue(attempt.identity.account),
                      SQLiteValue(attempt.at)])
        }
    }

    public func failedPINAttempts(customerNumber: String?, identity: ChatIdentity?, since: Date) throws
        -> [FailedPINAttempt] {
        try withConnection { db in
            // ?3 is the network (NULL: any identity); an identity with an
            // account matches by account, one without by nick among the
            // attempts made without an account (as `tickets(contact:)`).
            try db.query("""
                SELECT customer_number, network, nick, account, at FROM failed_pins
                WHERE at >= ?1
                    AND (?2 IS NULL OR customer_number = ?2)
                    AND (?3 IS NULL OR (network = ?3 AND (
                        (?4 IS NOT NULL AND account = ?4 COLLATE NOCASE)
                        OR (?4 IS NULL AND account IS NULL AND nick = ?5 COLLATE NOCASE))))
                ORDER BY at, id
                """, [SQLiteValue(since), SQLiteValue(customerNumber), SQLiteValue(identity?.network),
                      SQLiteValue(identity?.account), SQLiteValue(identity?.nick)]) { row in
                FailedPINAttempt(customerNumber: try row.text(0),
                                 identity: ChatIdentity(network: try row.text(1), nick: try row.text(2),
                                                        account: try row.optionalText(3)),
                                 at: try row.date(4))
            }
        }
    }
}

/// One `createTicket` call waiting for a group commit. The leader writes
/// `result` before it signals `wakeUp`; the waiter reads it after `wait()`
/// returns (the semaphore orders the two), so no lock is needed.
private final class PendingCreate: @unchecked Sendable {
    let ticket: NewTicket
    let makePages: @Sendable (TicketNumber) -> [PageDraft]
    var result: Result<TicketCommit, any Error>?
    let wakeUp = DispatchSemaphore(value: 0)

    init(ticket: NewTicket, makePages: @escaping @Sendable (TicketNumber) -> [PageDraft]) {
        self.ticket = ticket
        self.makePages = makePages
    }
}

/// The creations waiting for the next group commit; `leaderActive` while a
/// caller is committing (or has been handed the next commit).
private struct CommitQueue: ~Copyable {
    var waiting: [PendingCreate] = []
    var leaderActive = false
}
