import Desk
import Foundation

/// A value bound to a statement's parameter. Each driver turns it into its
/// own form (SQLite: its storage classes; libpq: parameter text), so values
/// never travel inside the SQL text.
public enum StoreValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes(Data)
    /// SQLite: 1 or 0; PostgreSQL: boolean.
    case bool(Bool)

    /// Text, or NULL for nil.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// An integer, or NULL for nil.
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    /// An integer, or NULL for nil.
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Bool) { self = .bool(value) }
    /// A time as seconds since 2001-01-01 UTC (`Date`'s reference date), which
    /// gives back exactly the same `Date`; NULL for nil.
    public init(_ value: Date?) { self = value.map { .real($0.timeIntervalSinceReferenceDate) } ?? .null }
}

/// One store connection as the shared operations (``StoreDatabase``'s
/// extension) see it: statements with bound parameters, plus the few places
/// where SQLite and PostgreSQL differ. It lives on the store's
/// ``WorkerThread``; the writing operations run inside the thread's
/// transaction and never begin or commit one.
///
/// **Parameters** are written `$1`, `$2`, … in the shared SQL: PostgreSQL's
/// own form, and SQLite reads `$1` as a named parameter whose index is its
/// number (the SQLite connection checks that at prepare time). Statements
/// are prepared once per connection and cached by their text.
public protocol StoreDatabase: AnyObject {
    associatedtype Row: StoreRow

    /// The rows of a query, each read by `read`.
    func query<T>(_ sql: String, _ values: [StoreValue], _ read: (Row) throws -> T) throws -> [T]

    /// The first row of a query read by `read`, or nil when there is none.
    func queryFirst<T>(_ sql: String, _ values: [StoreValue], _ read: (Row) throws -> T) throws -> T?

    /// Runs a statement that returns no rows; how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [StoreValue]) throws -> Int

    /// Runs an `INSERT` of one row into a table with an `id` key and returns
    /// the new row's id (SQLite: its rowid, without the cost of `RETURNING`;
    /// PostgreSQL: `RETURNING id`).
    func insertReturningID(_ sql: String, _ values: [StoreValue]) throws -> Int64

    // MARK: Where the dialects differ

    /// The value bound to a `LIMIT` for `limit` (PostgreSQL: NULL is "all").
    func limitValue(_ limit: Int) -> StoreValue

    /// `COLLATE …` that sorts text by its bytes (SQLite's default already).
    var byteOrderCollation: String { get }

    /// `a = b` ignoring ASCII case, as the store's index on the column is built.
    func asciiCaseInsensitiveEquals(_ column: String, _ parameter: String) -> String

    /// Serialises PIN reservations across every connection until the
    /// transaction ends (SQLite: `BEGIN IMMEDIATE` did already).
    func lockPINReservations() throws

    /// Whether `token` is lease `name`'s current token and unexpired by the
    /// deciding clock (SQLite: `now`; PostgreSQL: the server's), locking the
    /// lease row against a change of holder until the transaction ends.
    func leaseAdmits(_ name: String, token: FencingToken, now: Date) throws -> Bool

    /// Locks a page row for a claim until the transaction ends (a suffix of its `SELECT`).
    var pageClaimLock: String { get }

    /// SQL that holds for an open ticket's row (``TicketState/isOpen``):
    /// letter for letter the `WHERE` of the store's partial index
    /// `tickets_open`, which the open-ticket queries must repeat to use it.
    /// By default `state NOT IN` ``StoreRows/closedStatesSQL``.
    var openTicketCondition: String { get }

    // MARK: Pages by ticket

    /// SQL that holds for the pages of the ticket whose number is bound as
    /// `parameter`, written so the store finds them by an index. By default
    /// `ticket = parameter` (PostgreSQL's `pages_ticket` index).
    func pagesOfTicket(_ parameter: String) -> String

    /// The ids of `count` new pages of `ticket` where the store chooses
    /// them (SQLite from schema 11: ids in the ticket's own range); nil
    /// where the database gives each new row its id. `ticketIsNew`: the
    /// ticket is being created in this transaction (it has no pages yet).
    /// By default nil.
    func newPageIDs(of ticket: TicketNumber, count: Int, ticketIsNew: Bool) throws -> [Int64]?

    // MARK: The `created` event

    /// Ticket `number`'s `created` event where the store derives it from the
    /// ticket's row instead of keeping it as an event row (SQLite from
    /// schema 10, while the ticket is at version 1: the row then still holds
    /// everything the event says); nil where the event is a row like the
    /// others. By default nil.
    func createdEventInRow(of number: TicketNumber) throws -> TicketEvent?

    /// Called by an update of ticket `number` at `expectedVersion` before it
    /// changes the row: where the `created` event is still derived from the
    /// row (``createdEventInRow(of:)``), it is written as event 1 first, so
    /// the audit trail keeps what the ticket was created with. By default
    /// nothing.
    func keepCreatedEvent(of number: TicketNumber, expectedVersion: Int64) throws

    // MARK: Operations only the dialect can write

    /// See ``TicketRecordStore/createTicket(_:claimingPagesFor:makePages:)``.
    func insertTicket(_ new: NewTicket, claim: LeaseClaim?, makePages: (TicketNumber) -> [PageDraft]) throws
        -> TicketCommit
    /// Whether ``insertTicket(_:claim:makePages:)`` is one statement (may run without BEGIN/COMMIT).
    static var ticketCreationIsOneStatement: Bool { get }

    func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) throws -> LeaseGrant?
    func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) throws -> LeaseGrant?
    func releaseLease(_ name: String, token: FencingToken, now: Date) throws -> Bool
    /// The time a claim records, as SQL and the value it binds (SQLite:
    /// `now`, bound as `parameter`; PostgreSQL: the server's clock, nothing bound).
    func claimTime(_ now: Date, parameter: String) -> (sql: String, value: StoreValue?)

    /// The schema version of the open database.
    func schemaVersion() throws -> Int
}

extension StoreDatabase {
    public var openTicketCondition: String { "state NOT IN " + StoreRows.closedStatesSQL }

    public func pagesOfTicket(_ parameter: String) -> String { "ticket = " + parameter }

    public func newPageIDs(of ticket: TicketNumber, count: Int, ticketIsNew: Bool) throws -> [Int64]? { nil }

    public func createdEventInRow(of number: TicketNumber) throws -> TicketEvent? { nil }

    public func keepCreatedEvent(of number: TicketNumber, expectedVersion: Int64) throws {}
}
