import Core
import Desk
import Foundation
import PostgresStore
import Store

/// The one place that names concrete stores (STYLE.md): opens or inspects
/// the store the configuration's `store` section chooses.
public enum StoreFactory {
    /// Opens the configured store, creating its folder if needed (SQLite),
    /// and migrates it. Blocks while the file is opened or the database
    /// connected (once, at start).
    ///
    /// - Throws: the store's own error saying what is wrong (e.g.
    ///   ``SQLiteStoreError``), or a file system error for the folder.
    public static func open(_ settings: GatewayConfiguration.StoreSettings, logger: Logger) throws -> OpenedStore {
        switch settings {
        case .sqlite(let path):
            let folder = path.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return OpenedStore(desk: try SQLiteDeskStore(path: path.path, logger: logger))
        case .postgres(let url):
            let resolved = try url.resolve(field: "store.url")
            return OpenedStore(desk: try PostgresDeskStore(url: resolved, logger: logger))
        }
    }

    /// What `check-config` says about the configured store, found without
    /// writing to it: the schema version, or that it will be created. For
    /// PostgreSQL it connects (so a wrong URL, password or certificate
    /// fails here, not at `run`).
    ///
    /// - Throws: the error `run` would fail with (not ours, too new, not writable, …).
    public static func inspect(_ settings: GatewayConfiguration.StoreSettings) throws -> String {
        switch settings {
        case .sqlite(let path):
            try SQLiteDeskStore.inspect(path: path.path).description
        case .postgres(let url):
            try PostgresDeskStore.inspect(url: url.resolve(field: "store.url"))
        }
    }
}

/// An open store, as the bots and the command-line tools use it: through
/// the ``DeskStore`` protocols only, whatever the configured kind.
public final class OpenedStore: Sendable {
    /// The store through the ``DeskStore`` protocols.
    public let desk: any DeskStore

    init(desk: any DeskStore) {
        self.desk = desk
    }

    /// Lets the calls already made finish, then closes the store.
    public func close() async { await desk.close() }

    /// Runs `body` with the store and closes it afterwards, also when
    /// `body` throws (the command-line tools' one-shot use).
    public func use<T>(_ body: (any DeskStore) async throws -> T) async throws -> T {
        do {
            let result = try await body(desk)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }
}
