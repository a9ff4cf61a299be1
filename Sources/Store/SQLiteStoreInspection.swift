import CSQLite
import Foundation

/// What `check-config` learns about the configured SQLite store without
/// changing it: the file is opened read-only (or not at all when it does
/// not exist yet), identified as ours, and its schema version read.
public struct SQLiteStoreInspection: Sendable, Hashable, CustomStringConvertible {
    /// The database file.
    public var path: String
    /// False when the gateway will create the file (and its folder) on start.
    public var exists: Bool
    /// The file's schema version (0 for a file that does not exist yet or is empty).
    public var schemaVersion: Int
    /// The newest schema version this code knows.
    public var latestVersion: Int

    /// Whether `run` will migrate the file when it opens it.
    public var needsMigration: Bool { schemaVersion < latestVersion }

    /// One line for `check-config`.
    public var description: String {
        if !exists { return "SQLite store \(path) does not exist yet; it will be created (schema version \(latestVersion))" }
        if needsMigration {
            return "SQLite store \(path): schema version \(schemaVersion), will be migrated to \(latestVersion) on start"
        }
        return "SQLite store \(path): schema version \(schemaVersion) (current)"
    }
}

extension SQLiteDeskStore {
    /// Looks at the store at `path` without writing to it: the checks `run`
    /// makes before it changes anything (location writable, an SQLite file,
    /// ours, not from newer code), and the schema version.
    ///
    /// - Throws: the ``SQLiteStoreError`` that opening the store for `run`
    ///   would throw (not a database, another program's, too new, versions
    ///   disagree, not writable, …).
    public static func inspect(path: String) throws -> SQLiteStoreInspection {
        let latest = Schema.latestVersion
        if !FileManager.default.fileExists(atPath: path) {
            try checkCreatable(path)
            return SQLiteStoreInspection(path: path, exists: false, schemaVersion: 0, latestVersion: latest)
        }
        try checkLocation(path)
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path, create: false, readOnly: true)
        } catch {
            throw SQLiteStoreError.cannotOpen(path: path, reason: "\(error.message) (SQLite code \(error.code))")
        }
        defer { db.close() }
        let version: Int
        do {
            version = try Schema.currentVersion(db)
        } catch let error as SQLiteError where error.code == SQLITE_NOTADB {
            throw SQLiteStoreError.notADatabase(path: path, reason: error.message)
        }
        guard version <= latest else {
            throw SQLiteStoreError.databaseTooNew(path: path, found: version, supported: latest)
        }
        return SQLiteStoreInspection(path: path, exists: true, schemaVersion: version, latestVersion: latest)
    }

    /// For a file that does not exist: the nearest existing folder above it
    /// must be a writable directory (the gateway creates the rest).
    private static func checkCreatable(_ path: String) throws {
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        guard isDirectory.boolValue else {
            throw SQLiteStoreError.notADirectory(path: path, directory: directory.path)
        }
        if access(directory.path, W_OK | X_OK) != 0 {
            throw SQLiteStoreError.directoryNotWritable(path: path, directory: directory.path,
                                                        reason: String(cString: strerror(errno)))
        }
    }
}
