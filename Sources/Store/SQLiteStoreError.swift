import Foundation

/// Why an ``SQLiteDeskStore`` could not be opened. Each case names the file and
/// says what to do about it.
public enum SQLiteStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The directory the database file is to be in does not exist.
    case directoryMissing(path: String, directory: String)
    /// The parent path exists but is not a directory.
    case notADirectory(path: String, directory: String)
    /// The directory cannot be written (SQLite needs to create the `-wal`
    /// and `-shm` files next to the database); `reason` is the errno text.
    case directoryNotWritable(path: String, directory: String, reason: String)
    /// The database file exists but cannot be read and written.
    case fileNotWritable(path: String, reason: String)
    /// The path is a directory.
    case isADirectory(path: String)
    /// SQLite could not open the file at all.
    case cannotOpen(path: String, reason: String)
    /// The file exists but is not an SQLite database (or is encrypted or
    /// damaged in its header).
    case notADatabase(path: String, reason: String)
    /// The file is an SQLite database of some other program.
    case notASwitchboardDatabase(path: String, detail: String)
    /// The file was written by a newer Switchboard (schema version `found`,
    /// this code knows up to `supported`). Nothing was changed.
    case databaseTooNew(path: String, found: Int, supported: Int)
    /// The two places the schema version is kept disagree (the
    /// `schema_migrations` table and the header's `user_version`): the file
    /// was changed by something else. Nothing was changed.
    case schemaVersionMismatch(path: String, tableVersion: Int, userVersion: Int)
    /// WAL journaling could not be switched on (e.g. a network file system).
    case walUnavailable(path: String, journalMode: String)
    /// A setting the store relies on is not available in this SQLite build.
    case unsupportedSQLite(path: String, detail: String)
    /// A schema migration failed and was rolled back.
    case migrationFailed(path: String, version: Int, name: String, reason: String)

    public var description: String {
        switch self {
        case .directoryMissing(let path, let directory):
            "cannot open the store \(path): directory \(directory) does not exist"
        case .notADirectory(let path, let directory):
            "cannot open the store \(path): \(directory) is not a directory"
        case .directoryNotWritable(let path, let directory, let reason):
            "cannot open the store \(path): directory \(directory) is not writable (\(reason)); "
                + "SQLite must create \(URL(fileURLWithPath: path).lastPathComponent)-wal and -shm there"
        case .fileNotWritable(let path, let reason):
            "cannot open the store \(path): the file cannot be read and written (\(reason))"
        case .isADirectory(let path):
            "cannot open the store \(path): it is a directory, not a database file"
        case .cannotOpen(let path, let reason):
            "cannot open the store \(path): \(reason)"
        case .notADatabase(let path, let reason):
            "cannot open the store \(path): the file is not an SQLite database (\(reason))"
        case .notASwitchboardDatabase(let path, let detail):
            "cannot open the store \(path): it is an SQLite database of another program (\(detail))"
        case .databaseTooNew(let path, let found, let supported):
            "cannot open the store \(path): its schema version is \(found), this Switchboard knows versions "
                + "up to \(supported); it was written by a newer Switchboard — upgrade, or restore a backup"
        case .schemaVersionMismatch(let path, let tableVersion, let userVersion):
            "cannot open the store \(path): its schema_migrations table says version \(tableVersion) but its "
                + "user_version says \(userVersion); the file was changed outside Switchboard — restore a backup"
        case .walUnavailable(let path, let journalMode):
            "cannot open the store \(path): WAL journaling is not available there (journal mode stayed "
                + "\(journalMode)); put the file on a local file system"
        case .unsupportedSQLite(let path, let detail):
            "cannot open the store \(path): \(detail)"
        case .migrationFailed(let path, let version, let name, let reason):
            "cannot open the store \(path): schema migration \(version) (\(name)) failed and was rolled back: "
                + reason
        }
    }
}
