import Core
import Foundation

/// Where a session keeps what must survive a restart: the `/sync` position
/// (`since`) and the device id. The gateway backs it with the store's
/// ``Desk/NetworkStateStore``; tests with a dictionary.
public protocol MatrixStateStorage: Sendable {
    func load(_ key: String) async throws -> String?
    func save(_ key: String, _ value: String) async throws
    /// Which of the events `ids` the bots recorded as handled (in their
    /// step's own commit), so a batch delivered again after a restart skips
    /// them; storage without such a record answers none.
    func handledEvents(among ids: [String]) async throws -> Set<String>
    /// Forgets the handled events recorded before `instant`.
    func forgetHandledEvents(before instant: Date) async throws
}

extension MatrixStateStorage {
    public func handledEvents(among ids: [String]) async throws -> Set<String> { [] }
    public func forgetHandledEvents(before instant: Date) async throws {}
}

/// The keys a session stores.
public enum MatrixStateKey {
    /// The `next_batch` of the last `/sync` whose events were handled.
    public static let since = "since"
    /// The messages of the batch under way that the bots already have: the
    /// position the batch was fetched from, then one event id a line. A
    /// crash before ``since`` moves on fetches that batch again, and these
    /// are not handed over twice. Read only (written by earlier versions):
    /// the bots now record each message in their step's own commit
    /// (``MatrixStateStorage/handledEvents(among:)``).
    public static let handledEvents = "handled_events"
    /// The device the bot logged in as.
    public static let deviceID = "device_id"
}

/// The `/sync` loop: logs in, uploads the filter, then long-polls forever,
/// handing each answer to the caller and storing its `next_batch` only
/// after the caller has handled it (a crash in between hands the same
/// events over again rather than losing them; the caller skips those it
/// had handled, see ``MatrixStateKey/handledEvents``).
///
/// A fresh account (no stored position) syncs once with `timeout=0` and
/// that answer is marked `initial`: its timeline is history, which the bots
/// must not answer. Errors are retried after ``SyncBackoff`` with jitter on
/// the injected clock (rate limits wait `retry_after_ms` inside the
/// client); a `MatrixClientError` (wrong user, unreadable answer) is retried
/// the same way but logged as an error.
public struct MatrixSyncer<C: WallClock>: Sendable {
    /// What one `/sync` brought.
    public struct Batch: Sendable {
        public var response: MatrixSyncResponse
        /// The first sync of an account with no stored position: history.
        public var isInitial: Bool
        /// The position it was fetched from (nil: the first sync); the same
        /// position fetches the same events again, and more.
        public var since: String?
    }

    /// Changes of the loop's health, for the adapter's status.
    public enum Health: Sendable, Hashable {
        case syncing
        case failing(String, retryIn: Duration)
    }

    public let client: MatrixClient<C>
    public let storage: any MatrixStateStorage
    public let clock: C
    public let logger: Logger
    /// The long-poll time of each `/sync` (the spec's `timeout`).
    public var pollTimeout: Duration = .seconds(30)
    public var backoffBase: Duration = .seconds(1)
    public var backoffCap: Duration = .seconds(60)

    public init(client: MatrixClient<C>, storage: any MatrixStateStorage, clock: C, logger: Logger) {
        self.client = client
        self.storage = storage
        self.clock = clock
        self.logger = logger
    }

    /// The filter: only what the bots read (messages, encrypted-event
    /// markers, membership for direct rooms and mentions, `m.direct`); no
    /// presence, receipts, typing or room account data.
    ///
    /// The bot's own events stay in (no `not_senders`), although it never
    /// answers them: measured with MatrixBench against Synapse 1.163 (seven
    /// runs with the filter, three without), leaving them out made Synapse
    /// finish the bot's own `PUT /send` later than a plain client's — its
    /// logged response-send time (handler done → response written) mean
    /// 3.5–10 ms against 2–4 ms, p90 8–20 ms against 4–9 ms, in every run —
    /// and equal to it without. Likely cause: the bot's long-poll, woken by
    /// its own event, is worked through to an empty answer on Synapse's one
    /// event loop before the PUT's answer is written.
    public static var filter: JSONValue {
        let none: JSONValue = .object(["types": .array([])])
        let roomTypes = ["m.room.message", "m.room.encrypted", "m.room.encryption", "m.room.member"]
        return .object([
            "presence": none,
            "account_data": .object(["types": .array([.string("m.direct")])]),
            "room": .object([
                "ephemeral": none,
                "account_data": none,
                "state": .object(["types": .array(["m.room.member", "m.room.encryption"].map { .string($0) })]),
                "timeline": .object(["types": .array(roomTypes.map { .string($0) }), "limit": .number(100)]),
            ]),
        ])
    }

    /// Runs until cancelled. `handle` is awaited before the position moves on.
    public func run(health: @Sendable (Health) async -> Void, handle: @Sendable (Batch) async -> Void) async throws {
        var random = SeededRandom()
        var backoff = SyncBackoff(base: backoffBase, cap: backoffCap)
        var filterID: String?
        var since: String?
        var loadedSince = false
        while !Task.isCancelled {
            do {
                if !loadedSince {
                    since = try await storage.load(MatrixStateKey.since)
                    loadedSince = true
                }
                if filterID == nil {
                    if await client.deviceID == nil, let stored = try await storage.load(MatrixStateKey.deviceID) {
                        await client.reuseDevice(stored)
                    }
                    try await client.login()
                    if let device = await client.deviceID { try await storage.save(MatrixStateKey.deviceID, device) }
                    filterID = try await client.uploadFilter(Self.filter)
                }
                let initial = since == nil
                let response = try await client.sync(since: since, filter: filterID,
                                                     timeout: initial ? .zero : pollTimeout)
                await health(.syncing)
                backoff.succeeded()
                await handle(Batch(response: response, isInitial: initial, since: since))
                try await storage.save(MatrixStateKey.since, response.nextBatch)
                since = response.nextBatch
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                let wait = backoff.failed(random: &random)
                if error is MatrixClientError || (error as? MatrixError)?.status == 401
                    || (error as? MatrixError)?.status == 403 {
                    logger.error("matrix sync failed", ["error": "\(error)", "retry_ms": wait.wholeMilliseconds])
                } else {
                    logger.warning("matrix sync failed", ["error": "\(error)", "retry_ms": wait.wholeMilliseconds])
                }
                if let error = error as? MatrixError, error.errcode == "M_UNKNOWN_TOKEN" { filterID = nil }
                await health(.failing("\(error)", retryIn: wait))
                try await clock.sleep(for: wait)
            }
        }
    }
}

/// State kept in memory only (`switchboard matrix`, tests): a restart
/// starts as a fresh account (history is not answered).
public actor MemoryMatrixStateStorage: MatrixStateStorage {
    public private(set) var values: [String: String]
    public init(_ values: [String: String] = [:]) { self.values = values }
    public func load(_ key: String) async throws -> String? { values[key] }
    public func save(_ key: String, _ value: String) async throws { values[key] = value }
}
