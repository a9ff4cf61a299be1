import Core
import Desk
import Foundation
import Store

/// The one place that names concrete stores (STYLE.md): opens or inspects
/// the store the configuration's `store` section chooses.
public enum StoreFactory {
    /// Opens the configured store, creating its folder if needed, and
    /// migrates it. Blocks while the file is opened (once, at start).
    ///
    /// - Throws: the store's own error saying what is wrong (e.g.
    ///   ``SQLiteStoreError``), or a file system error for the folder.
    public static func open(_ settings: GatewayConfiguration.StoreSettings, logger: Logger) throws -> OpenedStore {
        switch settings {
        case .sqlite(let path):
            let folder = path.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let store = try SQLiteDeskStore(path: path.path, logger: logger)
            let synchronous = SQLiteStore(store)
            return OpenedStore(desk: store, ticketStore: synchronous, closeSynchronously: { synchronous.close() })
        }
    }

    /// What `check-config` says about the configured store, found without
    /// writing to it: the schema version, or that it will be created.
    ///
    /// - Throws: the error `run` would fail with (not ours, too new, not writable, …).
    public static func inspect(_ settings: GatewayConfiguration.StoreSettings) throws -> String {
        switch settings {
        case .sqlite(let path):
            try SQLiteDeskStore.inspect(path: path.path).description
        }
    }
}

/// An open store: the async protocols, and for now the synchronous view the
/// bots still call (both share one connection).
public final class OpenedStore: Sendable {
    /// The store through the ``DeskStore`` protocols.
    public let desk: any DeskStore
    /// The synchronous ``TicketStore`` over the same store; it goes when the
    /// bots call ``desk``.
    public let ticketStore: any TicketStore
    private let closeSynchronously: @Sendable () -> Void

    init(desk: any DeskStore, ticketStore: any TicketStore, closeSynchronously: @escaping @Sendable () -> Void) {
        self.desk = desk
        self.ticketStore = ticketStore
        self.closeSynchronously = closeSynchronously
    }

    /// Lets the calls already made finish, then closes the store.
    public func close() async { await desk.close() }

    /// ``close()`` for synchronous callers (the command-line tools); blocks.
    public func closeBlocking() { closeSynchronously() }
}
