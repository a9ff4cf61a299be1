import CPostgres
import Desk
import Foundation
import Synchronization

/// A bound parameter as libpq receives it: text (PostgreSQL parses it as the
/// type the statement expects) or SQL NULL. Every value of a statement
/// travels this way, never spliced into the SQL text.
enum PGValue: Sendable, Equatable {
    case text(String)
    case null

    /// Text cannot hold a NUL character in PostgreSQL (and a C string would
    /// end there, silently cutting the value): refused, nothing is stored.
    static func checked(_ value: String) throws -> PGValue {
        if containsNUL(value) {
            throw TicketStoreError.invalid("a text value contains a NUL character, which PostgreSQL cannot store")
        }
        return .text(value)
    }

    /// A byte scan with `memchr` over the string's UTF-8 storage (a generic
    /// `utf8.contains(0)` walked it a byte at a time, with index checks).
    private static func containsNUL(_ value: String) -> Bool {
        value.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? value.utf8.contains(0)
    }

    static func checked(_ value: String?) throws -> PGValue {
        guard let value else { return .null }
        return try checked(value)
    }

    init(_ value: Int64) { self = .text(String(value)) }
    init(_ value: Int) { self = .text(String(value)) }
    init(_ value: Bool) { self = .text(value ? "true" : "false") }

    /// Times are `double precision` seconds since 2001-01-01 UTC, like the
    /// SQLite store's REAL: Swift prints the shortest text that reads back to
    /// the same Double and PostgreSQL (extra_float_digits 1, the default)
    /// answers the same way, so a `Date` comes back exactly.
    init(_ date: Date) { self = .text(String(date.timeIntervalSinceReferenceDate)) }

    init(_ date: Date?) { self = date.map(PGValue.init) ?? .null }

    /// `bytea` in its hex input form.
    init(_ data: Data) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + data.count * 2)
        for byte in data {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        self = .text(String(decoding: text, as: UTF8.self))
    }
}

/// An error libpq or the server reported.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// The server's five-character SQLSTATE (e.g. `40001`), empty when the
    /// error came from libpq itself (a lost connection).
    public let sqlState: String
    /// The server's or libpq's message.
    public let message: String
    /// The connection is gone (the caller cannot know whether a COMMIT in
    /// flight was applied).
    public let connectionLost: Bool

    public var description: String {
        let state = sqlState.isEmpty ? "" : " (SQLSTATE \(sqlState))"
        return (connectionLost ? "PostgreSQL connection lost: " : "PostgreSQL: ") + message + state
    }
}

/// One row of a result, values as the server's text output (a ``StoreRow``,
/// so the shared decoders read it).
public struct PGRow {
    let values: [String?]
    /// The statement's text (shared, not copied), for corrupt-data errors.
    let sql: String

    /// Names the statement in corrupt-data errors: made only for an error,
    /// never per row read.
    var context: String { String(sql.prefix(60)).replacingOccurrences(of: "\n", with: " ") }

    private func require(_ index: Int) throws -> String {
        guard index < values.count, let value = values[index] else {
            throw TicketStoreError.corrupt("\(context): column \(index) is NULL or missing")
        }
        return value
    }

    public func text(_ index: Int) throws -> String { try require(index) }

    public func optionalText(_ index: Int) -> String? { index < values.count ? values[index] : nil }

    public func int64(_ index: Int) throws -> Int64 {
        let text = try require(index)
        guard let value = Int64(text) else {
            throw TicketStoreError.corrupt("\(context): column \(index) is '\(text)', not an integer")
        }
        return value
    }

    func int(_ index: Int) throws -> Int { Int(try int64(index)) }

    /// A `bigint[]` column in text form (`{1,2,3}`), read byte by byte (a
    /// split into substrings and a map cost ~2 µs per ticket creation,
    /// which reads its page ids this way).
    func int64Array(_ index: Int) throws -> [Int64] {
        let text = try require(index)
        let values = text.utf8.withContiguousStorageIfAvailable(Self.int64Array) ?? Array(text.utf8)
            .withUnsafeBufferPointer(Self.int64Array)
        guard let values else {
            throw TicketStoreError.corrupt("\(context): column \(index) is '\(text)', not an integer array")
        }
        return values
    }

    /// `{}`, `{7}`, `{1,-2,3}`; nil for anything else (also an element
    /// out of `Int64`'s range).
    private static func int64Array(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int64]? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "{"), bytes[bytes.count - 1] == UInt8(ascii: "}") else {
            return nil
        }
        let end = bytes.count - 1
        var values: [Int64] = []
        var position = 1
        if position == end { return values }
        while true {
            let negative = bytes[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            var value: Int64 = 0
            let start = position
            while position < end, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                let digit = Int64(bytes[position] - UInt8(ascii: "0"))
                let (shifted, overflowTimes) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowAdd) = negative ? shifted.subtractingReportingOverflow(digit)
                    : shifted.addingReportingOverflow(digit)
                if overflowTimes || overflowAdd { return nil }
                value = next
                position += 1
            }
            if position == start { return nil }
            values.append(value)
            if position == end { return values }
            guard bytes[position] == UInt8(ascii: ",") else { return nil }
            position += 1
        }
    }

    public func bool(_ index: Int) throws -> Bool {
        switch try require(index) {
        case "t": return true
        case "f": return false
        case let other: throw TicketStoreError.corrupt("\(context): column \(index) is '\(other)', not a boolean")
        }
    }

    public func date(_ index: Int) throws -> Date {
        let text = try require(index)
        guard let seconds = Double(text) else {
            throw TicketStoreError.corrupt("\(context): column \(index) is '\(text)', not a time")
        }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    public func optionalDate(_ index: Int) throws -> Date? {
        guard index < values.count, values[index] != nil else { return nil }
        return try date(index)
    }

    /// A `bytea` column in hex output form (`\x0a1b…`).
    public func bytes(_ index: Int) throws -> Data {
        let text = Array(try require(index).utf8)
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            throw TicketStoreError.corrupt("\(context): column \(index) is not bytea in hex form")
        }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: throw TicketStoreError.corrupt("\(context): column \(index) has a bad hex digit")
            }
        }
        var data = Data(capacity: (text.count - 2) / 2)
        var index = 2
        while index < text.count {
            data.append(try nibble(text[index]) << 4 | nibble(text[index + 1]))
            index += 2
        }
        return data
    }
}

/// What a statement returned: its rows (copied out of libpq) and how many
/// rows it changed.
struct PGResult {
    var rows: [PGRow]
    var affected: Int
}

/// A statement its caller keeps and runs many times (ticket creation's, one
/// per shape): its text, and the name it is prepared under in the
/// connection's current session, so running it again looks nothing up by
/// its text (hashing creation's 1.5 KB of SQL for the lookup cost more than
/// the rest of the statement's bookkeeping). Lives on the connection's
/// thread, like the connection.
final class PGStatement {
    let sql: String
    fileprivate var name: String?
    /// The connection session ``name`` was prepared in.
    fileprivate var session = -1

    init(_ sql: String) { self.sql = sql }
}

/// One libpq connection. Not thread-safe: it lives on the store's thread
/// (``PGThread``), which is the only caller.
///
/// Statements with parameters are prepared once per connection (by their
/// text) and then run with `PQexecPrepared`; parameters are always bound,
/// in text form.
///
/// Public only as the type the shared store façade
/// (`StoreCore.DatabaseDeskStore`) names; its members stay internal.
public final class PGConnection {
    /// Requests sent to a server and answered, by every connection of this
    /// process (`PQexec`, `PQprepare`, `PQexecPrepared`: one round trip
    /// each), for the benchmark's round trips per ticket.
    static let roundTrips = Atomic<Int>(0)
    /// The same, of this connection alone.
    private(set) var requests = 0

    private var handle: OpaquePointer?
    /// Statement names prepared in this session, by statement text.
    private var prepared: [String: String] = [:]
    /// Counts sessions: a reconnect or close ends the prepared statements,
    /// and a ``PGStatement`` named in an earlier session is prepared again.
    private var session = 0
    /// The bound values' bytes (each NUL-terminated) and the pointers libpq
    /// takes, kept between statements so binding allocates nothing once
    /// they have grown to the largest statement's size.
    private var parameterBytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var parameterPointers: [UnsafePointer<CChar>?] = []
    /// Where it is connected, without the password (for logs and errors).
    private(set) var target: String

    /// Connects with `url` (a `postgresql://` URL or `key=value` string).
    /// Settings the store needs are fixed here: UTF-8, an application name,
    /// a 10 s connect timeout and TCP keepalives (so a dead peer is noticed)
    /// — the URL's own values win for all but the encoding.
    init(url: String) throws {
        // Keywords before `dbname` are defaults the expanded URL overrides;
        // those after it override the URL.
        let pairs: [(String, String)] = [
            ("application_name", "switchboard"), ("connect_timeout", "10"),
            ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"), ("keepalives_count", "3"),
            ("dbname", url),
            ("client_encoding", "UTF8"),
        ]
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPointers = keys.map { UnsafePointer<CChar>($0) } + [nil]
        var valuePointers = values.map { UnsafePointer<CChar>($0) } + [nil]
        let connection = keyPointers.withUnsafeMutableBufferPointer { keyBuffer in
            valuePointers.withUnsafeMutableBufferPointer { valueBuffer in
                PQconnectdbParams(keyBuffer.baseAddress, valueBuffer.baseAddress, 1)
            }
        }
        handle = connection
        target = Self.describe(connection)
        // libpq prints the server's notices (e.g. "relation already exists,
        // skipping") on standard error; the store's log is the place for
        // what matters, so they are dropped.
        if let connection { PQsetNoticeProcessor(connection, { _, _ in }, nil) }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            // No connection at all: libpq (loaded on first use) is missing, or memory ran out.
            let message = connection.map { Self.errorText($0) }
                ?? shim_pq_load_error().map { "libpq could not be loaded: " + String(cString: $0) } ?? "out of memory"
            PQfinish(connection)
            handle = nil
            throw PGError(sqlState: "", message: "cannot connect to \(target): \(message)", connectionLost: true)
        }
    }

    deinit {
        close()
        parameterBytes.deallocate()
    }

    private static func describe(_ connection: OpaquePointer?) -> String {
        guard let connection else { return "PostgreSQL" }
        func field(_ value: UnsafeMutablePointer<CChar>?) -> String { value.map { String(cString: $0) } ?? "" }
        let host = field(PQhost(connection))
        let port = field(PQport(connection))
        let database = field(PQdb(connection))
        let user = field(PQuser(connection))
        return "postgresql://\(user.isEmpty ? "" : user + "@")\(host)\(port.isEmpty ? "" : ":" + port)/\(database)"
    }

    private static func errorText(_ connection: OpaquePointer) -> String {
        guard let text = PQerrorMessage(connection) else { return "unknown error" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the connection is usable.
    var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Whether a transaction is open (or failed and not yet rolled back).
    var inTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Reads what the server sent while the connection was idle (without
    /// waiting): if it closed the connection, ``isConnected`` turns false.
    func noticeClosedConnection() {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        _ = PQconsumeInput(handle)
    }

    /// The ticket number the last creation took ahead from the sequence,
    /// and when (see ``nextTicketNumber()``); valid
    /// across reconnects (a sequence never hands a number out twice).
    var reservedTicketNumber: (number: Int64, at: ContinuousClock.Instant)?

    /// The ticket creation statement's text by its shape (pages, claim),
    /// built once per connection (see ``insertTicket(_:claim:makePages:)``).
    var creationStatements: [Int: PGStatement] = [:]

    /// Whether the open transaction failed (a statement errored and no
    /// savepoint was rolled back): its COMMIT would silently roll back.
    var transactionFailed: Bool { handle.map { PQtransactionStatus($0) == PQTRANS_INERROR } ?? true }

    /// Connects again with the same settings (after a lost connection).
    /// Prepared statements are gone with the old session.
    func reconnect() throws {
        guard let handle else { throw PGError(sqlState: "", message: "the connection is closed", connectionLost: true) }
        prepared.removeAll()
        session += 1
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PGError(sqlState: "", message: "cannot reconnect to \(target): \(Self.errorText(handle))",
                          connectionLost: true)
        }
    }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared.removeAll()
        session += 1
    }

    /// The server's version number (e.g. 150018).
    var serverVersion: Int { handle.map { Int(PQserverVersion($0)) } ?? 0 }

    /// Runs SQL without parameters (may hold several statements: DDL,
    /// `BEGIN`, `COMMIT`).
    @discardableResult
    func execute(_ sql: String) throws -> PGResult {
        let handle = try requireHandle()
        Self.roundTrips.add(1, ordering: .relaxed)
        requests += 1
        return try collect(PQexec(handle, sql), sql: sql)
    }

    /// Runs one statement with bound parameters (prepared on first use).
    @discardableResult
    func run(_ sql: String, _ parameters: [PGValue] = []) throws -> PGResult {
        let handle = try requireHandle()
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = try prepare(sql, handle)
        }
        return try collect(execute(prepared: name, parameters, handle), sql: sql)
    }

    /// Runs a kept statement with bound parameters: prepared on its first
    /// run in this session, and then run by the name it remembers.
    @discardableResult
    func run(_ statement: PGStatement, _ parameters: [PGValue]) throws -> PGResult {
        let handle = try requireHandle()
        let name: String
        if statement.session == session, let known = statement.name {
            name = known
        } else {
            name = try prepared[statement.sql] ?? prepare(statement.sql, handle)
            statement.name = name
            statement.session = session
        }
        return try collect(execute(prepared: name, parameters, handle), sql: statement.sql)
    }

    /// Prepares `sql` under a new name (one round trip) and remembers it.
    private func prepare(_ sql: String, _ handle: OpaquePointer) throws -> String {
        let name = "s\(prepared.count + 1)"
        Self.roundTrips.add(1, ordering: .relaxed)
        requests += 1
        _ = try collect(PQprepare(handle, name, sql, 0, nil), sql: sql)
        prepared[sql] = name
        return name
    }

    /// Sends a prepared statement with `parameters` in text form and waits
    /// for its result. The values are copied, each NUL-terminated, into
    /// one buffer kept between statements; a NULL is a null pointer.
    private func execute(prepared name: String, _ parameters: [PGValue], _ handle: OpaquePointer) -> OpaquePointer? {
        var size = 0
        for case .text(let text) in parameters { size += text.utf8.count + 1 }
        if size > parameterBytes.count {
            parameterBytes.deallocate()
            parameterBytes = .allocate(byteCount: max(size, 2 * parameterBytes.count, 1024),
                                       alignment: MemoryLayout<CChar>.alignment)
        }
        parameterPointers.removeAll(keepingCapacity: true)
        var offset = 0
        for parameter in parameters {
            guard case .text(var text) = parameter else {
                parameterPointers.append(nil)
                continue
            }
            let start = parameterBytes.baseAddress! + offset
            let count = text.withUTF8 { utf8 in
                if let source = utf8.baseAddress { start.copyMemory(from: source, byteCount: utf8.count) }
                return utf8.count
            }
            start.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
            parameterPointers.append(UnsafePointer(start.assumingMemoryBound(to: CChar.self)))
            offset += count + 1
        }
        Self.roundTrips.add(1, ordering: .relaxed)
        requests += 1
        return parameterPointers.withUnsafeBufferPointer { pointers in
            PQexecPrepared(handle, name, Int32(parameters.count), parameters.isEmpty ? nil : pointers.baseAddress,
                           nil, nil, 0)
        }
    }

    /// The rows of a query, each read by `read`.
    func query<T>(_ sql: String, _ parameters: [PGValue] = [], _ read: (PGRow) throws -> T) throws -> [T] {
        try run(sql, parameters).rows.map(read)
    }

    /// The first row of a query read by `read`, or nil when there is none.
    func queryFirst<T>(_ sql: String, _ parameters: [PGValue] = [], _ read: (PGRow) throws -> T) throws -> T? {
        try run(sql, parameters).rows.first.map(read)
    }

    private func requireHandle() throws -> OpaquePointer {
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            throw PGError(sqlState: "", message: "not connected to \(target)", connectionLost: true)
        }
        return handle
    }

    private func collect(_ result: OpaquePointer?, sql: String) throws -> PGResult {
        defer { PQclear(result) }
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let lost = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
            var message = "failed"
            var state = ""
            if let result, let text = PQresultErrorMessage(result), text.pointee != 0 {
                message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
                if let code = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { state = String(cString: code) }
            } else if let handle {
                message = Self.errorText(handle)
            }
            throw PGError(sqlState: state, message: message, connectionLost: lost)
        }
        guard let result else { return PGResult(rows: [], affected: 0) }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var rows: [PGRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PGRow(values: values, sql: sql))
        }
        let affectedText = PQcmdTuples(result).map { String(cString: $0) } ?? ""
        return PGResult(rows: rows, affected: Int(affectedText) ?? 0)
    }
}
