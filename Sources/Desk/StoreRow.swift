import Foundation

/// One row of a store query's result, read column by column (by position in
/// the statement's column list). Each store's driver (SQLite, libpq) adapts
/// its own row to this, so the decoders that turn rows into tickets, pages,
/// events and leases are written once for every store.
///
/// A getter throws when the column is NULL where a value is required, or
/// holds something of another type; the error names the column.
public protocol StoreRow {
    /// An integer column.
    func int64(_ column: Int) throws -> Int64
    /// An integer column that may be NULL.
    func optionalInt64(_ column: Int) throws -> Int64?
    /// A text column.
    func text(_ column: Int) throws -> String
    /// A text column that may be NULL.
    func optionalText(_ column: Int) throws -> String?
    /// A time, stored as seconds since 2001-01-01 UTC (`Date`'s reference date).
    func date(_ column: Int) throws -> Date
    /// A time that may be NULL.
    func optionalDate(_ column: Int) throws -> Date?
    /// A truth value (SQLite: an integer, 0 is false; PostgreSQL: boolean).
    func bool(_ column: Int) throws -> Bool
    /// Bytes (SQLite: BLOB; PostgreSQL: bytea).
    func bytes(_ column: Int) throws -> Data
}

extension StoreRow {
    /// An integer column as `Int`.
    public func int(_ column: Int) throws -> Int { Int(try int64(column)) }
}
