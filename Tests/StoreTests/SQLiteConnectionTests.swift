import Foundation
import Store
import StoreCore
import Testing

/// The thin SQLite layer: bound values, errors that say what failed, and
/// statements that never keep a transaction open.
@Suite struct SQLiteConnectionTests {
    /// The statements shared with PostgreSQL use `$1`-style parameters;
    /// SQLite binds each by its number, not by where it first appears (its
    /// own `$name` parameters would give `$2` index 1 here), and a `$` in a
    /// string literal that is not a parameter stays as it is.
    @Test func portableStatementsBindParametersByTheirNumber() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            let row = try db.queryFirst(SQL(portable: "SELECT $2, $1, $2 + $1, 'US$ 5'"),
                                        [.integer(10), .text("second")]) {
                (try $0.text(0), try $0.int64(1), try $0.int64(2), try $0.text(3))
            }
            #expect(row?.0 == "second" && row?.1 == 10 && row?.2 == 10 && row?.3 == "US$ 5")
            // The shared operations' form: `StoreValue`s through `StoreDatabase`.
            let shared = try db.queryFirst("SELECT $3, $1", [.text("a"), .null, .bool(true)]) {
                (try $0.bool(0), try $0.text(1))
            }
            #expect(shared?.0 == true && shared?.1 == "a")
        }
    }

    @Test func errorsCarryTheResultCodeTheMessageTheSQLAndTheFile() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT")
            try db.run("INSERT INTO t (name) VALUES (?)", ["alice"])
            #expect {
                try db.run("INSERT INTO t (name) VALUES (?)", ["alice"])
            } throws: { error in
                guard let error = error as? SQLiteError else { return false }
                return error.code == 19 && error.extendedCode == 2067
                    && error.message.contains("UNIQUE constraint failed: t.name")
                    && error.sql == "INSERT INTO t (name) VALUES (?)" && error.path == dir.storePath
                    && error.description.contains("constraint failed") && error.description.contains(dir.storePath)
            }
            #expect {
                try db.run("INSERT INTO t (name) VALUES (?)", [])
            } throws: { error in
                (error as? SQLiteError)?.message.contains("1 parameters, 0 values") == true
            }
            #expect {
                try db.query("SELECT nope FROM t") { _ in 0 }
            } throws: { error in
                guard let error = error as? SQLiteError else { return false }
                return error.code == 1 && error.message.contains("no such column: nope")
            }
            // Reading NULL as a non-optional names the column.
            #expect {
                try db.queryFirst("SELECT NULL AS missing") { try $0.text(0) }
            } throws: { error in
                (error as? SQLiteError)?.message.contains("column missing is NULL, expected TEXT") == true
            }
        }
    }

    @Test func valuesRoundTripThroughBoundParameters() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            try db.execute("CREATE TABLE v (t TEXT, i INTEGER, r REAL, b BLOB, n TEXT)")
            let text = "Robert'); DROP TABLE v;--\r\n\u{0}ümlaut 🚀"
            let date = Date(timeIntervalSinceReferenceDate: 812_345_678.987_654_321)
            try db.run("INSERT INTO v VALUES (?, ?, ?, ?, ?)",
                       [SQLiteValue(text), .integer(Int64.min), SQLiteValue(date), .blob([0, 255, 10, 13]), nil])
            let row = try db.queryFirst("SELECT t, i, r, b, n FROM v") {
                (try $0.text(0), try $0.int64(1), try $0.date(2), try $0.blob(3), try $0.optionalText(4), $0.isNull(4))
            }
            #expect(row?.0 == text)
            #expect(row?.1 == Int64.min)
            #expect(row?.2 == date)
            #expect(row?.3 == [0, 255, 10, 13])
            #expect(row?.4 == nil && row?.5 == true)
            #expect(try db.queryFirst("SELECT COUNT(*) FROM v") { try $0.int(0) } == 1)
            #expect(try db.queryFirst("SELECT ?", [""]) { try $0.text(0) } == "")
        }
    }

    /// Bound text is copied into one buffer per connection and read by
    /// SQLite from there (no copy per value): every value must still arrive
    /// whole — many texts in one statement, a statement whose text needs the
    /// buffer to grow, shared-statement (`StoreValue`) text, and a statement
    /// run while another one's row is being read, which must not overwrite
    /// the text that one is still bound to.
    @Test func boundTextStaysIntactAcrossStatementsGrowthAndNesting() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            try db.execute("CREATE TABLE w (a TEXT, b TEXT, c TEXT) STRICT")
            let short = ["ä\u{0}b", "", "Grüße 🚀"]
            try db.run("INSERT INTO w VALUES (?, ?, ?)", short.map { SQLiteValue($0) })
            let long = [String(repeating: "x", count: 5_000), String(repeating: "ü", count: 3_000), "end"]
            try db.run("INSERT INTO w VALUES ($1, $2, $3)", long.map { StoreValue($0) })
            let rows = try db.query("SELECT a, b, c FROM w ORDER BY rowid") { [try $0.text(0), try $0.text(1), try $0.text(2)] }
            #expect(rows == [short, long])

            // A statement with text parameters stepped row by row; inside its
            // map another statement binds (longer) text on the same connection.
            var seen: [String] = []
            let matched = try db.query("SELECT a, ? FROM w WHERE a <> ? ORDER BY rowid", ["marker", "none"]) { row in
                let inner = try db.queryFirst("SELECT ? || ?", [SQLiteValue(String(repeating: "y", count: 9_000)), "!"]) {
                    try $0.text(0)
                }
                seen.append(inner ?? "")
                return try row.text(1)
            }
            #expect(matched == ["marker", "marker"])
            #expect(seen == Array(repeating: String(repeating: "y", count: 9_000) + "!", count: 2))
            // The outer statement's text binding is reused correctly afterwards too.
            #expect(try db.queryFirst("SELECT COUNT(*) FROM w WHERE c = ?", ["end"]) { try $0.int(0) } == 1)
        }
    }

    @Test func aQueryStoppedAfterItsFirstRowDoesNotBlockOtherWriters() throws {
        try withTemporaryDirectory { dir in
            let reader = try SQLiteConnection(path: dir.storePath, busyTimeout: .zero)
            defer { reader.close() }
            try reader.execute("PRAGMA journal_mode = DELETE; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            // Without WAL a reader's open statement would keep a shared lock
            // and the writer below would get SQLITE_BUSY at once.
            #expect(try reader.queryFirst("SELECT x FROM t ORDER BY x") { try $0.int(0) } == 1)
            let writer = try SQLiteConnection(path: dir.storePath, busyTimeout: .zero)
            defer { writer.close() }
            try writer.run("INSERT INTO t VALUES (4)")
            #expect(try reader.queryFirst("SELECT COUNT(*) FROM t") { try $0.int(0) } == 4)
            #expect(reader.isAutocommit)
        }
    }

    @Test func nestedTransactionsAreRefused() throws {
        try withTemporaryDirectory { dir in
            let db = try SQLiteConnection(path: dir.storePath)
            defer { db.close() }
            try db.execute("CREATE TABLE t (x INTEGER)")
            #expect(throws: SQLiteError.self) {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES (1)")
                    try db.transaction { try db.run("INSERT INTO t VALUES (2)") }
                }
            }
            #expect(try db.queryFirst("SELECT COUNT(*) FROM t") { try $0.int(0) } == 0)
            #expect(db.isAutocommit)
        }
    }
}
