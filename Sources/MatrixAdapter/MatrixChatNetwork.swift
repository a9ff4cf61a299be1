import Bots
import Core
import Desk
import Foundation
import Matrix

/// A Matrix network as configured: who the bot is, which rooms it sits in,
/// who may invite it. Secrets are already read.
public struct MatrixNetworkConfiguration: Sendable {
    public var homeserver: URL
    /// `@switchboard:example.org`.
    public var userID: String
    public var credentials: MatrixCredentials
    /// Rooms to join at start (ids `!…:server` or aliases `#…:server`),
    /// under these names the bots see them (agents' room, support rooms).
    public var rooms: [String]
    /// Who may invite the bot into a direct room: user ids (`@anna:example.org`),
    /// whole homeservers (`:example.org`) or `*` (anyone). Other invites are
    /// declined.
    public var invitesFrom: [String]
    /// Said once in an encrypted room (both languages): the bot cannot read
    /// it and asks for an unencrypted direct chat.
    public var encryptedRoomText: String
    public var deviceDisplayName: String
    /// Marks the customer messages the bots handled as read (`m.read`
    /// receipts: the customer's client shows the bot has seen them). Off by
    /// default: each receipt is one more request and wakes the room's
    /// long-polls.
    public var readReceipts: Bool
    /// How long the next `/sync` may wait, after a batch whose handling
    /// queued urgent texts (a page), for those texts' `PUT`s to be
    /// answered; zero re-polls at once. The homeserver then gets the page
    /// before the re-poll, rather than both at once on its one event loop.
    /// Nothing is lost or skipped by the wait: the re-poll asks from the
    /// stored position, so it only starts later, by at most this long.
    public var repollHold: Duration
    /// How long other texts may wait while a page's `PUT` is under way, so
    /// the homeserver works on the page alone: the customer's confirmation
    /// and the agents' room line of the same step start when the page is
    /// answered, or after this long, whichever comes first; zero starts
    /// them beside it. On Synapse with SQLite every request's queries wait
    /// in turn for its one database connection, so texts sent beside the
    /// page lengthen its `PUT` by their own database work.
    public var pageFirstHold: Duration

    public init(homeserver: URL, userID: String, credentials: MatrixCredentials, rooms: [String],
                invitesFrom: [String], encryptedRoomText: String, deviceDisplayName: String = "Switchboard",
                readReceipts: Bool = false, repollHold: Duration = .milliseconds(5),
                pageFirstHold: Duration = .milliseconds(100)) {
        self.homeserver = homeserver
        self.userID = userID
        self.credentials = credentials
        self.rooms = rooms
        self.invitesFrom = invitesFrom
        self.encryptedRoomText = encryptedRoomText
        self.deviceDisplayName = deviceDisplayName
        self.readReceipts = readReceipts
        self.repollHold = repollHold
        self.pageFirstHold = pageFirstHold
    }

    /// Whether `user` may invite the bot (``invitesFrom``).
    public func mayInvite(_ user: String) -> Bool {
        invitesFrom.contains { rule in
            rule == "*" || rule == user || (rule.hasPrefix(":") && MatrixID.server(user) == String(rule.dropFirst()))
        }
    }
}

/// The store's per-network values as the Matrix session's storage.
public struct NetworkStateStorage: MatrixStateStorage {
    public let store: any NetworkStateStore
    public let network: String
    public init(store: any NetworkStateStore, network: String) {
        self.store = store
        self.network = network
    }
    public func load(_ key: String) async throws -> String? { try await store.networkState(network: network, key: key) }
    public func save(_ key: String, _ value: String) async throws {
        try await store.setNetworkState(network: network, key: key, value: value)
    }
    public func handledEvents(among ids: [String]) async throws -> Set<String> {
        try await store.handledMessages(network: network, among: ids)
    }
    public func forgetHandledEvents(before instant: Date) async throws {
        try await store.forgetHandledMessages(network: network, before: instant)
    }
}

/// A Matrix network as the bots see it: the ``ChatNetwork`` adapter over
/// ``Matrix/MatrixClient`` and ``Matrix/MatrixSyncer``.
///
/// What it decides for the bots:
/// - **Who wrote.** The event's `sender`, a user id the homeserver
///   authenticates, as ``ChatPrincipal/account(_:)`` and as the nick. A
///   display name is never read, so naming oneself "anna" proves nothing.
///   Agents' `accounts` on a Matrix network are user ids.
/// - **How names compare.** Unchanged: user ids and room ids are
///   case-sensitive; no masks (``principal(_:matchesMask:)`` is false).
/// - **Where.** Direct rooms are `.direct`; configured rooms are channels
///   under their configured name (``MatrixRoomBook``). The bot joins
///   configured rooms at start and direct rooms on an allowed invite
///   (keeping `m.direct`); a text to a user with no direct room creates one.
/// - **What goes out.** ``MatrixMessageFormat``: notices, or `m.text` with
///   real mentions when the text names a member; a page's transaction id is
///   derived from its outbox id (a re-send after a crash is one event), and
///   so is a ticket's confirmation's, and an agent command's answer and
///   other lines' (the bots write them to the outbox with the change whose
///   commit records the message, on lower lanes: they do not alert).
///   Urgent lines go first; a homeserver that fails is retried with backoff.
/// - **Restarts.** The `/sync` position and device id are in the store:
///   old messages are not answered again, new ones are not missed, and the
///   first start of an account answers no history. A batch fetched again
///   after a crash skips the messages whose bot step is stored (the bots
///   record each event id in that step's commit, ``Desk/HandledMessage``).
/// - **Encrypted rooms.** Explained once per room (remembered in the
///   store); encrypted events are never answered, and never make it loop.
public final class MatrixChatNetwork<C: WallClock>: ChatNetwork {
    public let name: String
    public let configuration: MatrixNetworkConfiguration
    public let client: MatrixClient<C>
    let engine: MatrixEngine<C>

    /// - Parameters:
    ///   - transport: requests other than `/sync`; `syncTransport`: the long
    ///     poll, on its own connection.
    ///   - storage: the store's network state (or memory for tools).
    ///   - deviceID: the device of an earlier run, if known (else the
    ///     sync loop reads it from `storage` before logging in).
    public init(name: String, configuration: MatrixNetworkConfiguration, transport: any MatrixHTTPTransport,
                syncTransport: any MatrixHTTPTransport, storage: any MatrixStateStorage, deviceID: String?,
                clock: C, logger: Logger) {
        self.name = name
        self.configuration = configuration
        let logger = logger.with(["network": name])
        client = MatrixClient(homeserver: configuration.homeserver, userID: configuration.userID,
                              credentials: configuration.credentials, deviceID: deviceID,
                              deviceDisplayName: configuration.deviceDisplayName, transport: transport,
                              syncTransport: syncTransport, clock: clock, logger: logger)
        engine = MatrixEngine(network: name, configuration: configuration, client: client, storage: storage,
                              clock: clock, logger: logger)
    }

    public func normalized(_ name: String, kind: ChatNameKind) -> String { name }

    public func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool { false }

    public var ownNick: String { get async { configuration.userID } }

    public var status: ChatNetworkStatus { get async { await engine.status } }

    public var backlog: ChatBacklog { get async { await engine.backlog } }

    public func send(_ action: ChatAction) async { await engine.enqueue([action]) }

    /// Queues a bot step's texts in one go, so the step's pages start first
    /// (``MatrixNetworkConfiguration/pageFirstHold``), not after the texts
    /// the bots said before them (the customer is told first).
    public func send(_ actions: [ChatAction]) async { await engine.enqueue(actions) }

    /// The engine asks `gate` just before a page's `PUT` starts, also after
    /// the page waited in the queue (a rate limit's `retry_after_ms`, a
    /// backoff after errors, another page under way); refused, the page is
    /// not sent and is reported ``ChatDelivery/withheld(id:reason:)``, so it
    /// stays pending for whoever holds the lease (issue 10). A `PUT` already
    /// started is the in-flight case: the homeserver deduplicates a resend
    /// with the same transaction id from the same device.
    public func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) async { await engine.setDeliveryGate(gate) }

    /// The homeserver keeps one event per transaction id and device (the
    /// device id is reused across restarts). The client-server API sets no
    /// minimum time; Synapse keeps the id for at least 30 minutes in memory
    /// and 24 hours in its database. 20 minutes stays inside both.
    public var resendWindow: Duration? { .seconds(20 * 60) }

    public func run(events: @escaping @Sendable (ChatEvent) async -> Void,
                    deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {
        try await engine.run(events: events, deliveries: deliveries)
    }

    public func shutdown(message: String, deadline: Duration) async {
        await engine.shutdown(deadline: deadline)
    }
}
