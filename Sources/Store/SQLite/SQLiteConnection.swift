import CSQLite
import Foundation

/// SQL text that can only come from string literals in the code.
///
/// `SQL` is `ExpressibleByStringLiteral` with `StaticString` as its literal
/// type and has no string interpolation, so data cannot be spliced into a
/// statement: every value goes in as a bound parameter (``SQLiteValue``).
/// Literals can be joined with `+` to share a column list.
///
/// A literal is kept as the `StaticString` itself, so using a statement
/// copies and hashes no text: the connection finds its prepared statement by
/// the literal's address (``cacheKey``).
public struct SQL: ExpressibleByStringLiteral, Hashable, Sendable, CustomStringConvertible {
    private enum Storage: Sendable {
        case literal(StaticString)
        case joined(String)
        /// Shared SQL with `$1`-style parameters (``init(portable:)``).
        case portable(String)
    }

    private let storage: Storage

    public init(stringLiteral value: StaticString) {
        storage = value.hasPointerRepresentation ? .literal(value) : .joined(value.description)
    }

    private init(text: String) { storage = .joined(text) }

    /// A statement written for both stores, with PostgreSQL-style `$1`
    /// parameters: prepared as SQLite's `?1` (numbered exactly, which
    /// SQLite's own `$name` parameters are not). The text is rewritten only
    /// when the statement is prepared, once per connection; the rewrite does
    /// not know string literals, so a literal must not hold `$` and a digit.
    public init(portable text: String) { storage = .portable(text) }

    /// The statement's text.
    public var text: String {
        switch storage {
        case .literal(let literal): literal.description
        case .joined(let text), .portable(let text): text
        }
    }

    /// The two literals one after the other.
    public static func + (lhs: SQL, rhs: SQL) -> SQL { SQL(text: lhs.text + rhs.text) }

    public var description: String { text }

    public static func == (lhs: SQL, rhs: SQL) -> Bool { lhs.text == rhs.text }

    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// What the statement cache is keyed by: a literal's address and length
    /// (literals live as long as the program), or a joined statement's text.
    enum CacheKey: Hashable {
        case literal(UnsafeRawPointer, Int)
        case text(String)
    }

    var cacheKey: CacheKey {
        switch storage {
        case .literal(let literal): .literal(UnsafeRawPointer(literal.utf8Start), literal.utf8CodeUnitCount)
        case .joined(let text), .portable(let text): .text(text)
        }
    }

    /// Calls `body` with the statement's UTF-8 bytes and their count (not NUL-terminated).
    func withUTF8<T>(_ body: (UnsafePointer<CChar>, Int) throws -> T) rethrows -> T {
        switch storage {
        case .literal(let literal):
            return try literal.utf8Start.withMemoryRebound(to: CChar.self, capacity: literal.utf8CodeUnitCount) {
                try body($0, literal.utf8CodeUnitCount)
            }
        case .joined(let text):
            return try text.withCString { try body($0, text.utf8.count) }
        case .portable(let text):
            var bytes = Array(text.utf8)
            for index in bytes.indices.dropLast() where bytes[index] == UInt8(ascii: "$")
                && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]) {
                bytes[index] = UInt8(ascii: "?")
            }
            bytes.append(0)
            return try bytes.withUnsafeBufferPointer { buffer in
                try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!, $0.count - 1) }
            }
        }
    }
}

/// A value bound to a statement parameter or read from a column.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }

    /// Text, or NULL for nil.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// An integer, or NULL for nil.
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    /// An integer, or NULL for nil.
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    /// 1 or 0.
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }
    /// A date as REAL seconds since the Foundation reference date
    /// (2001-01-01 00:00:00 UTC), which gives back exactly the same `Date`
    /// (a Unix-epoch REAL would round away the last bit of some dates).
    /// NULL for nil. In the `sqlite3` shell:
    /// `datetime(created_at + 978307200, 'unixepoch')`.
    public init(_ value: Date?) { self = value.map { .real($0.timeIntervalSinceReferenceDate) } ?? .null }
}

/// One result row while a statement is stepped. Valid only inside the
/// closure it is passed to. Reading NULL from a non-optional accessor, or a
/// column of another type, throws a ``SQLiteError`` naming the column.
public struct SQLiteRow {
    fileprivate let statement: OpaquePointer
    fileprivate let connection: SQLiteConnection

    fileprivate init(statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    /// Whether the column is NULL.
    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(statement, column) == SQLITE_NULL
    }

    public func int64(_ column: Int32) throws(SQLiteError) -> Int64 {
        try expect(column, SQLITE_INTEGER, "INTEGER")
        return sqlite3_column_int64(statement, column)
    }

    public func optionalInt64(_ column: Int32) throws(SQLiteError) -> Int64? {
        isNull(column) ? nil : try int64(column)
    }

    public func int(_ column: Int32) throws(SQLiteError) -> Int {
        Int(try int64(column))
    }

    public func double(_ column: Int32) throws(SQLiteError) -> Double {
        let type = sqlite3_column_type(statement, column)
        guard type == SQLITE_FLOAT || type == SQLITE_INTEGER else {
            throw mismatch(column, expected: "REAL", found: type)
        }
        return sqlite3_column_double(statement, column)
    }

    public func text(_ column: Int32) throws(SQLiteError) -> String {
        try expect(column, SQLITE_TEXT, "TEXT")
        // Length-delimited, so a NUL inside the text is kept.
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    public func optionalText(_ column: Int32) throws(SQLiteError) -> String? {
        isNull(column) ? nil : try text(column)
    }

    public func blob(_ column: Int32) throws(SQLiteError) -> [UInt8] {
        try expect(column, SQLITE_BLOB, "BLOB")
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// A date stored by `SQLiteValue(_: Date?)`.
    public func date(_ column: Int32) throws(SQLiteError) -> Date {
        Date(timeIntervalSinceReferenceDate: try double(column))
    }

    public func optionalDate(_ column: Int32) throws(SQLiteError) -> Date? {
        isNull(column) ? nil : try date(column)
    }

    /// The column's value whatever its type.
    public func value(_ column: Int32) throws(SQLiteError) -> SQLiteValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT: .text(try text(column))
        case SQLITE_BLOB: .blob(try blob(column))
        default: .null
        }
    }

    /// The column's name in the result (for error messages).
    public func name(_ column: Int32) -> String {
        sqlite3_column_name(statement, column).map { String(cString: $0) } ?? "column \(column)"
    }

    private func expect(_ column: Int32, _ type: Int32, _ typeName: String) throws(SQLiteError) {
        let found = sqlite3_column_type(statement, column)
        if found != type { throw mismatch(column, expected: typeName, found: found) }
    }

    private func mismatch(_ column: Int32, expected: String, found: Int32) -> SQLiteError {
        let foundName = switch found {
        case SQLITE_INTEGER: "INTEGER"
        case SQLITE_FLOAT: "REAL"
        case SQLITE_TEXT: "TEXT"
        case SQLITE_BLOB: "BLOB"
        default: "NULL"
        }
        let sql = sqlite3_sql(statement).map { String(cString: $0) }
        return SQLiteError(code: SQLITE_MISMATCH, extendedCode: SQLITE_MISMATCH,
                           message: "column \(name(column)) is \(foundName), expected \(expected)",
                           sql: sql, path: connection.path)
    }
}

/// One connection to an SQLite database file: a thin, safe layer over the C
/// API.
///
/// - Statements are prepared once and cached by their SQL text; values are
///   always bound parameters (``SQL`` cannot hold data).
/// - A statement is reset and its bindings cleared as soon as it has been
///   stepped, so no statement holds a read transaction open.
/// - ``transaction(_:)`` is `BEGIN IMMEDIATE` … `COMMIT`, rolled back on any
///   error thrown inside.
/// - Every failure is an ``SQLiteError`` with the result code, the text of
///   `sqlite3_errmsg`, the SQL and the file.
///
/// Not thread-safe: it lives on one thread (``StoreThread``). The connection is opened in multi-thread mode (`NOMUTEX`).
public final class SQLiteConnection {
    /// The database file.
    public let path: String
    private var handle: OpaquePointer?
    private var statements: [SQL.CacheKey: OpaquePointer] = [:]
    /// Called after each commit (``setWALHook(_:)``); kept alive by the connection.
    private var walHook: WALCheckpointer.CommitHook?
    /// Where the text of the statement being bound is copied (see ``bind(_:to:_:)``).
    private var textArena = TextArena()

    /// Opens (and, if `create`, creates) the file. Sets the busy timeout; no
    /// other settings — see ``SQLiteDeskStore`` for the store's pragmas.
    public init(path: String, create: Bool = true, readOnly: Bool = false,
                busyTimeout: Duration = .seconds(5)) throws(SQLiteError) {
        self.path = path
        SQLiteConnection.configureSQLite
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        // The default VFS with the WAL's writes gathered into one per commit
        // (``CoalescingWALVFS``).
        let rc = sqlite3_open_v2(path, &db, flags, CoalescingWALVFS.registered)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc & 0xFF, extendedCode: rc, message: message, sql: nil, path: path)
        }
        handle = db
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(db, Int32(clamping: milliseconds))
    }

    deinit { close() }

    /// Process-wide settings made once, before the first connection opens:
    /// memory statistics off (see `switchboard_sqlite3_disable_memstatus`).
    private static let configureSQLite: Void = {
        _ = switchboard_sqlite3_disable_memstatus()
    }()

    /// Makes the process-wide settings every connection makes on opening;
    /// for programs that call SQLite's C API before opening a connection
    /// (StoreBench's raw reference), since the settings only take before
    /// SQLite's first use.
    public static func configureProcess() { configureSQLite }

    /// Finalizes every cached statement and closes the file (a WAL database
    /// is checkpointed by the last connection to close). Further calls throw.
    public func close() {
        if let handle, walHook != nil { sqlite3_wal_hook(handle, nil, nil) }
        walHook = nil
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        textArena.free()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { handle == nil }

    /// Makes `hook` see the WAL's length after each commit of this
    /// connection (`sqlite3_wal_hook`, on the connection's thread), instead
    /// of SQLite's automatic checkpoint; nothing after ``close()``.
    func setWALHook(_ hook: WALCheckpointer.CommitHook) {
        guard let handle else { return }
        walHook = hook
        sqlite3_wal_hook(handle, { context, db, _, frames in
            guard let context, let db else { return SQLITE_OK }
            Unmanaged<WALCheckpointer.CommitHook>.fromOpaque(context).takeUnretainedValue()
                .committed(frames: Int(frames), on: db)
            return SQLITE_OK
        }, Unmanaged.passUnretained(hook).toOpaque())
    }

    /// Runs a checkpoint of the WAL into the database file
    /// (`sqlite3_wal_checkpoint_v2` with `mode`, e.g. `SQLITE_CHECKPOINT_PASSIVE`):
    /// the WAL's length in frames and how many of them are now copied.
    @discardableResult
    func checkpoint(mode: Int32) throws(SQLiteError) -> (frames: Int, copied: Int) {
        let db = try open()
        var frames: Int32 = 0
        var copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(db, nil, mode, &frames, &copied)
        guard rc == SQLITE_OK else { throw error(rc, nil) }
        return (Int(frames), Int(copied))
    }

    /// The writes SQLite made to this connection's WAL file and those that
    /// reached it since the file was opened (``CoalescingWALVFS`` gathers a
    /// commit's frames into one): nil while no WAL is open (not in WAL mode,
    /// nothing read yet). For tests and StoreBench.
    public var walWriteStatistics: WALWriteStatistics? {
        guard let handle else { return nil }
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(handle, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) == SQLITE_OK, let file,
              file.pointee.pMethods != nil else { return nil }
        return CoalescingWALVFS.statistics(of: file)
    }

    /// The SQL of every statement prepared on this connection so far (the
    /// cache's): what the store ran, for tests that check each one's plan.
    var preparedSQL: [String] {
        statements.values.compactMap { sqlite3_sql($0).map { String(cString: $0) } }
    }

    // MARK: Statements

    /// Runs SQL without parameters, possibly several statements separated by
    /// `;` (schema, pragmas). Nothing is cached.
    public func execute(_ sql: SQL) throws(SQLiteError) {
        let db = try open()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql.text, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: rc & 0xFF, extendedCode: sqlite3_extended_errcode(db), message: message,
                              sql: sql.text, path: path)
        }
    }

    /// Runs one statement that returns no rows (or whose rows are ignored)
    /// and returns how many rows it changed.
    @discardableResult
    public func run(_ sql: SQL, _ bindings: [SQLiteValue] = []) throws -> Int {
        try runBound(sql, bindings)
    }

    /// Runs a query and maps each row.
    public func query<T>(
        _ sql: SQL, _ bindings: [SQLiteValue] = [], _ map: (SQLiteRow) throws -> T
    ) throws -> [T] {
        try queryBound(sql, bindings, map)
    }

    /// The first row of a query, mapped, or nil when there is none.
    public func queryFirst<T>(
        _ sql: SQL, _ bindings: [SQLiteValue] = [], _ map: (SQLiteRow) throws -> T
    ) throws -> T? {
        try queryFirstBound(sql, bindings, map)
    }

    // The three above for any parameter type: the shared operations bind
    // their `StoreValue`s directly, with no array of `SQLiteValue` made per
    // statement (see `SQLiteParameter`).

    @discardableResult
    func runBound<Value: SQLiteParameter>(_ sql: SQL, _ bindings: [Value]) throws -> Int {
        let db = try open()
        try withStatement(sql, bindings) { statement in
            while try step(statement, sql) {}
        }
        return Int(sqlite3_changes64(db))
    }

    func queryBound<T, Value: SQLiteParameter>(
        _ sql: SQL, _ bindings: [Value], _ map: (SQLiteRow) throws -> T
    ) throws -> [T] {
        try withStatement(sql, bindings) { (statement) throws in
            var rows: [T] = []
            while try step(statement, sql) {
                rows.append(try map(SQLiteRow(statement: statement, connection: self)))
            }
            return rows
        }
    }

    func queryFirstBound<T, Value: SQLiteParameter>(
        _ sql: SQL, _ bindings: [Value], _ map: (SQLiteRow) throws -> T
    ) throws -> T? {
        try withStatement(sql, bindings) { (statement) throws in
            guard try step(statement, sql) else { return nil }
            return try map(SQLiteRow(statement: statement, connection: self))
        }
    }

    /// The rowid of the last row inserted on this connection.
    public var lastInsertRowID: Int64 {
        handle.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    /// Whether no transaction is open.
    public var isAutocommit: Bool {
        handle.map { sqlite3_get_autocommit($0) != 0 } ?? true
    }

    // MARK: Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is
    /// taken at once, waiting up to the busy timeout for another writer) and
    /// commits. Any error thrown by `body` or by `COMMIT` rolls everything
    /// back and is rethrown; `body`'s result is returned only after the
    /// commit succeeded.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        guard isAutocommit else {
            throw SQLiteError(code: SQLITE_MISUSE, extendedCode: SQLITE_MISUSE,
                              message: "a transaction is already open on this connection (nested transaction)",
                              sql: "BEGIN IMMEDIATE", path: path)
        }
        try run("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            rollback()
            throw error
        }
    }

    /// Runs `body` inside a savepoint of the open transaction: an error
    /// thrown by `body` undoes only what `body` did, and is rethrown.
    @discardableResult
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT switchboard_savepoint")
        do {
            let result = try body()
            try run("RELEASE switchboard_savepoint")
            return result
        } catch {
            // Roll back to the savepoint and remove it; if even that fails
            // the enclosing transaction is rolled back by its own handler.
            _ = try? run("ROLLBACK TO switchboard_savepoint")
            _ = try? run("RELEASE switchboard_savepoint")
            throw error
        }
    }

    private func rollback() {
        // SQLite may already have rolled back by itself (e.g. SQLITE_FULL
        // during COMMIT); then there is nothing to do.
        if !isAutocommit { _ = try? run("ROLLBACK") }
    }

    // MARK: Internals

    private func open() throws(SQLiteError) -> OpaquePointer {
        guard let handle else {
            throw SQLiteError(code: SQLITE_MISUSE, extendedCode: SQLITE_MISUSE,
                              message: "the connection is closed", sql: nil, path: path)
        }
        return handle
    }

    /// Prepares (or takes from the cache) `sql`, binds, runs `body`, and
    /// resets the statement and clears its bindings whatever happens.
    private func withStatement<T, Value: SQLiteParameter>(
        _ sql: SQL, _ bindings: [Value], _ body: (OpaquePointer) throws -> T
    ) throws -> T {
        let statement = try prepared(sql)
        if textArena.inUse {
            // A statement run while another one's row is read (inside its
            // `map`) must not overwrite that one's text: it gets its own.
            var arena = TextArena()
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
                arena.free()
            }
            try bind(bindings, to: statement, sql, arena: &arena)
            return try body(statement)
        }
        textArena.inUse = true
        defer {
            // The statement lets go of the arena's text before it is reused.
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            textArena.inUse = false
        }
        try bind(bindings, to: statement, sql, arena: &textArena)
        return try body(statement)
    }

    private func prepared(_ sql: SQL) throws(SQLiteError) -> OpaquePointer {
        let key = sql.cacheKey
        if let cached = statements[key] { return cached }
        let db = try open()
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rc = sql.withUTF8 { text, count in
            sqlite3_prepare_v3(db, text, Int32(count), UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
        }
        guard rc == SQLITE_OK, let statement else {
            throw error(rc, sql)
        }
        statements[key] = statement
        return statement
    }

    /// Binds `values` to the statement's parameters. Text is copied once
    /// into `arena` (the connection's ``textArena``) and bound without a
    /// copy by SQLite (`SQLITE_STATIC`): the statement is reset and its
    /// bindings cleared (``withStatement(_:_:_:)``) before the arena is
    /// written again.
    private func bind<Value: SQLiteParameter>(_ values: [Value], to statement: OpaquePointer, _ sql: SQL,
                                              arena: inout TextArena) throws(SQLiteError) {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == values.count else {
            throw SQLiteError(code: SQLITE_RANGE, extendedCode: SQLITE_RANGE,
                              message: "statement has \(expected) parameters, \(values.count) values were bound",
                              sql: sql.text, path: path)
        }
        var textBytes = 0
        for value in values { textBytes += value.textByteCount }
        arena.reserve(textBytes)
        arena.used = 0
        for (offset, value) in values.enumerated() {
            let rc = value.bind(to: statement, at: Int32(offset + 1), arena: &arena)
            if rc != SQLITE_OK { throw error(rc, sql) }
        }
    }

    /// One step: true for a row, false when done.
    private func step(_ statement: OpaquePointer, _ sql: SQL) throws(SQLiteError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw error(rc, sql)
        }
    }

    /// The error for `rc`, read at once (before a reset could change it).
    private func error(_ rc: Int32, _ sql: SQL?) -> SQLiteError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        let extended = handle.map { sqlite3_extended_errcode($0) } ?? rc
        return SQLiteError(code: rc & 0xFF, extendedCode: extended, message: message, sql: sql?.text, path: path)
    }
}

@available(*, unavailable, message: "one thread at a time: keep it behind a lock")
extension SQLiteConnection: Sendable {}

/// A value that can be bound to a statement parameter: the connection's own
/// ``SQLiteValue`` and the shared operations' `StoreValue`.
protocol SQLiteParameter {
    /// The UTF-8 bytes of text this value binds (0 if it is not text).
    var textByteCount: Int { get }
    /// Binds the value at the 1-based `index`; text goes into `arena`
    /// (which holds ``textByteCount`` free bytes for it) and is bound from there.
    func bind(to statement: OpaquePointer, at index: Int32, arena: inout TextArena) -> Int32
}

/// Memory for the text bound to one statement: grown when a statement needs
/// more, reused by the next. Bound with `SQLITE_STATIC`, so SQLite reads the
/// text where it is instead of allocating and copying every value.
struct TextArena {
    private var base: UnsafeMutablePointer<UInt8>?
    private var capacity = 0
    var used = 0
    /// A statement bound from this arena is being stepped.
    var inUse = false

    /// Makes room for `count` bytes; only between statements (moves the memory).
    mutating func reserve(_ count: Int) {
        guard count > capacity else { return }
        let newCapacity = max(count, 2 * capacity, 1024)
        base?.deallocate()
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        capacity = newCapacity
        used = 0
    }

    /// Binds `text` at `index`, copied into the arena.
    mutating func bindText(_ text: String, to statement: OpaquePointer, at index: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { bytes -> Int32 in
            guard let source = bytes.baseAddress else { return sqlite3_bind_text(statement, index, "", 0, sqliteTransient) }
            guard let base, used + bytes.count <= capacity else {
                // A caller that did not reserve room: SQLite copies the text.
                return source.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text64(statement, index, $0, UInt64(bytes.count), sqliteTransient, UInt8(SQLITE_UTF8))
                }
            }
            let start = base + used
            start.update(from: source, count: bytes.count)
            used += bytes.count
            // Bound with its byte length, so a NUL inside is kept.
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(statement, index, $0, UInt64(bytes.count), sqliteStatic, UInt8(SQLITE_UTF8))
            }
        }
    }

    mutating func free() {
        base?.deallocate()
        base = nil
        capacity = 0
        used = 0
    }
}

extension SQLiteValue: SQLiteParameter {
    var textByteCount: Int { if case .text(let text) = self { text.utf8.count } else { 0 } }

    func bind(to statement: OpaquePointer, at index: Int32, arena: inout TextArena) -> Int32 {
        switch self {
        case .null: sqlite3_bind_null(statement, index)
        case .integer(let integer): sqlite3_bind_int64(statement, index, integer)
        case .real(let real): sqlite3_bind_double(statement, index, real)
        case .text(let text): arena.bindText(text, to: statement, at: index)
        case .blob(let blob): bindBlob(blob, to: statement, at: index)
        }
    }
}

/// Binds a blob (SQLite copies it). An empty blob has no base address;
/// bound as a pointer it would become NULL, so it is bound as a zero-length blob.
func bindBlob(_ blob: some ContiguousBytes & Collection, to statement: OpaquePointer, at index: Int32) -> Int32 {
    blob.isEmpty ? sqlite3_bind_zeroblob(statement, index, 0) : blob.withUnsafeBytes { bytes in
        sqlite3_bind_blob64(statement, index, bytes.baseAddress, UInt64(bytes.count), sqliteTransient)
    }
}

/// `SQLITE_STATIC`: the value stays where it is until the statement is reset
/// or rebound (``TextArena``).
private let sqliteStatic: sqlite3_destructor_type? = nil

/// `SQLITE_TRANSIENT`, which Swift does not import: SQLite copies the value.
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A failed SQLite call: the result code, SQLite's message, the SQL and the
/// database file.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The primary result code (`SQLITE_CONSTRAINT` = 19, `SQLITE_BUSY` = 5, …).
    public var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE` = 2067, …).
    public var extendedCode: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public var message: String
    /// The statement that failed, if it was one.
    public var sql: String?
    /// The database file.
    public var path: String

    public init(code: Int32, extendedCode: Int32, message: String, sql: String?, path: String) {
        self.code = code
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
        self.path = path
    }

    public var description: String {
        var text = "SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))"
        if extendedCode != code { text += ", extended code \(extendedCode)" }
        text += "): \(message) in \(path)"
        if let sql {
            let oneLine = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
            text += " — SQL: \(oneLine)"
        }
        return text
    }
}
