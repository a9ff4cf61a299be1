import Core
import Foundation

/// How the bot proves who it is.
public enum MatrixCredentials: Sendable, Hashable {
    /// `m.login.password` (the password comes from `{env:}`/`{file:}`).
    case password(String)
    /// A token issued beforehand; cannot be renewed by the client.
    case accessToken(String)
}

/// A session with one homeserver, as one user (spec "Client-Server API"
/// v1.x, `/_matrix/client/v3`): login or a given access token, `/whoami`,
/// `/sync` with a filter, sending with transaction ids, joining, inviting,
/// direct rooms and account data.
///
/// What every request gets here, so no caller repeats it:
/// - **Rate limits.** `429 M_LIMIT_EXCEEDED` is waited out for
///   `retry_after_ms` (on the injected clock) and the request sent again,
///   up to ``maximumRateLimitRetries`` times.
/// - **Expired tokens.** `401 M_UNKNOWN_TOKEN` is logged as an error; with a
///   password the client logs in again (same device id, so transaction ids
///   stay deduplicated) and sends the request once more; with only an access
///   token it throws (an operator must issue a new one).
///
/// The long-poll `/sync` goes through its own transport (its own
/// connection), so sends never wait behind a 30-second poll.
public actor MatrixClient<C: WallClock> {
    public typealias Credentials = MatrixCredentials

    public let homeserver: URL
    /// The configured user id (`@switchboard:example.org`).
    public let userID: String
    private let credentials: Credentials
    private let transport: any MatrixHTTPTransport
    private let syncTransport: any MatrixHTTPTransport
    private let clock: C
    private let logger: Logger
    private let deviceDisplayName: String
    /// The access token in use; nil before login.
    public private(set) var accessToken: String?
    /// The device the session runs as: given (reused from the store) or the
    /// one the homeserver assigned at the first login.
    public private(set) var deviceID: String?
    /// Logins done (the first one and renewals after `M_UNKNOWN_TOKEN`).
    public private(set) var logins = 0
    public var maximumRateLimitRetries = 8
    private var random = SeededRandom()
    private var backoff = SyncBackoff(base: .seconds(1), cap: .seconds(60))

    /// - Parameters:
    ///   - deviceID: the device of an earlier run (from the store), reused so
    ///     the homeserver deduplicates transaction ids across restarts.
    ///   - transport: requests other than `/sync`.
    ///   - syncTransport: the long-poll `/sync` (its own connection).
    public init(homeserver: URL, userID: String, credentials: Credentials, deviceID: String?,
                deviceDisplayName: String = "Switchboard", transport: any MatrixHTTPTransport,
                syncTransport: (any MatrixHTTPTransport)? = nil, clock: C, logger: Logger) {
        self.homeserver = homeserver
        self.userID = userID
        self.credentials = credentials
        self.deviceID = deviceID
        self.deviceDisplayName = deviceDisplayName
        self.transport = transport
        self.syncTransport = syncTransport ?? transport
        self.clock = clock
        self.logger = logger
        if case .accessToken(let token) = credentials { accessToken = token }
    }

    // MARK: - Session

    /// Logs in as `deviceID` from now on (the device of an earlier run, so
    /// the homeserver keeps deduplicating transaction ids).
    public func reuseDevice(_ deviceID: String) { self.deviceID = deviceID }

    /// Logs in with the password (`POST /login`, `m.login.password`),
    /// asking for the stored device id when there is one. With an access
    /// token this only checks it (`/whoami`).
    @discardableResult
    public func login() async throws -> (userID: String, deviceID: String?) {
        guard case .password(let password) = credentials else {
            let me = try await whoami()
            if deviceID == nil { deviceID = me.deviceID }
            return me
        }
        var body: [String: JSONValue] = [
            "type": .string("m.login.password"),
            "identifier": .object(["type": .string("m.id.user"), "user": .string(userID)]),
            "password": .string(password),
            "initial_device_display_name": .string(deviceDisplayName),
        ]
        if let deviceID { body["device_id"] = .string(deviceID) }
        let answer = try await call("POST", ["login"], body: .object(body), authenticated: false)
        guard let token = answer["access_token"]?.string, let user = answer["user_id"]?.string else {
            throw MatrixClientError("login answer without access_token/user_id")
        }
        guard user == userID else {
            throw MatrixClientError("logged in as \(user), but the configuration names \(userID)")
        }
        accessToken = token
        deviceID = answer["device_id"]?.string ?? deviceID
        logins += 1
        logger.info("logged in", ["user": user, "device": deviceID ?? "-"])
        return (user, deviceID)
    }

    /// Who the token belongs to (`GET /account/whoami`).
    public func whoami() async throws -> (userID: String, deviceID: String?) {
        let answer = try await call("GET", ["account", "whoami"])
        guard let user = answer["user_id"]?.string else { throw MatrixClientError("whoami answer without user_id") }
        guard user == userID else {
            throw MatrixClientError("the access token belongs to \(user), but the configuration names \(userID)")
        }
        return (user, answer["device_id"]?.string)
    }

    // MARK: - Sync

    /// Stores `filter` on the homeserver (`POST /user/{id}/filter`) and
    /// returns its id for ``sync(since:filter:timeout:)``.
    public func uploadFilter(_ filter: JSONValue) async throws -> String {
        let answer = try await call("POST", ["user", userID, "filter"], body: filter)
        guard let id = answer["filter_id"]?.string else { throw MatrixClientError("filter answer without filter_id") }
        return id
    }

    /// One `/sync`: what happened after `since` (everything recent when
    /// nil), waiting up to `timeout` for something to happen.
    public func sync(since: String?, filter: String?, timeout: Duration) async throws -> MatrixSyncResponse {
        var query: [(String, String)] = [("timeout", String(timeout.wholeMilliseconds))]
        if let since { query.append(("since", since)) }
        if let filter { query.append(("filter", filter)) }
        let data = try await raw("GET", ["sync"], query: query, body: nil, authenticated: true,
                                 timeout: timeout + .seconds(30), via: syncTransport)
        do {
            return try JSONDecoder().decode(MatrixSyncResponse.self, from: data)
        } catch {
            throw MatrixClientError("unreadable /sync answer: \(error)")
        }
    }

    // MARK: - Rooms

    /// Sends an event (`PUT /rooms/{id}/send/{type}/{txnId}`); the same
    /// `txnID` from the same device is one event, however often it is sent.
    /// Returns the event id.
    @discardableResult
    public func send(room: String, type: String, transactionID: String, content: JSONValue) async throws -> String {
        let answer = try await call("PUT", ["rooms", room, "send", type, transactionID], body: content)
        return answer["event_id"]?.string ?? ""
    }

    /// Marks `eventID` and everything before it in `room` as read by the
    /// user (`POST /rooms/{id}/receipt/m.read/{eventId}`, spec §"Receipts").
    public func markRead(room: String, eventID: String) async throws {
        _ = try await call("POST", ["rooms", room, "receipt", "m.read", eventID], body: .object([:]))
    }

    /// Joins a room by id or alias (`POST /join/{idOrAlias}`); returns its id.
    @discardableResult
    public func join(_ room: String) async throws -> String {
        let answer = try await call("POST", ["join", room], body: .object([:]))
        guard let id = answer["room_id"]?.string else { throw MatrixClientError("join answer without room_id") }
        return id
    }

    /// Leaves a room (an invite refused, a room no longer wanted).
    public func leave(_ room: String) async throws {
        _ = try await call("POST", ["rooms", room, "leave"], body: .object([:]))
    }

    /// Invites `user` to `room`.
    public func invite(_ user: String, to room: String) async throws {
        _ = try await call("POST", ["rooms", room, "invite"], body: .object(["user_id": .string(user)]))
    }

    /// Creates a private, unencrypted direct room with `user` invited
    /// (`is_direct`, preset `trusted_private_chat`); returns its id.
    public func createDirectRoom(with user: String) async throws -> String {
        let body: JSONValue = .object([
            "preset": .string("trusted_private_chat"), "is_direct": .bool(true),
            "invite": .array([.string(user)]),
        ])
        let answer = try await call("POST", ["createRoom"], body: body)
        guard let id = answer["room_id"]?.string else { throw MatrixClientError("createRoom answer without room_id") }
        return id
    }

    /// The rooms the user has joined (`GET /joined_rooms`).
    public func joinedRooms() async throws -> [String] {
        let answer = try await call("GET", ["joined_rooms"])
        return answer["joined_rooms"]?.array?.compactMap(\.string) ?? []
    }

    /// The members of `room` who have joined or are invited, with that
    /// membership (`GET /rooms/{id}/members`, state now; those who left or
    /// were banned are not listed).
    public func members(of room: String) async throws -> [String: String] {
        let answer = try await call("GET", ["rooms", room, "members"])
        var members: [String: String] = [:]
        for event in answer["chunk"]?.array ?? [] {
            guard let user = event["state_key"]?.string, let membership = event["content"]?["membership"]?.string,
                  membership == "join" || membership == "invite" else { continue }
            members[user] = membership
        }
        return members
    }

    /// The room id an alias names (`GET /directory/room/{alias}`).
    public func resolve(alias: String) async throws -> String {
        let answer = try await call("GET", ["directory", "room", alias])
        guard let id = answer["room_id"]?.string else { throw MatrixClientError("alias answer without room_id") }
        return id
    }

    /// The user's account data of `type` (`m.direct`), nil when never set.
    public func accountData(_ type: String) async throws -> JSONValue? {
        do {
            return try await call("GET", ["user", userID, "account_data", type])
        } catch let error as MatrixError where error.errcode == "M_NOT_FOUND" {
            return nil
        }
    }

    /// Replaces the user's account data of `type`.
    public func setAccountData(_ type: String, _ content: JSONValue) async throws {
        _ = try await call("PUT", ["user", userID, "account_data", type], body: content)
    }

    // MARK: - Requests

    /// A JSON request to `/_matrix/client/v3/<path>`, its JSON answer, with
    /// the rate-limit and token handling of every request (for endpoints
    /// this type has no method for, e.g. a test creating a room).
    public func call(_ method: String, _ path: [String], query: [(String, String)] = [], body: JSONValue? = nil,
              authenticated: Bool = true) async throws -> JSONValue {
        let data = try await raw(method, path, query: query, body: body.map { try JSONEncoder().encode($0) },
                                 authenticated: authenticated, timeout: .seconds(30), via: transport)
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw MatrixClientError("unreadable answer to \(method) /\(path.first ?? ""): \(error)")
        }
    }

    private func raw(_ method: String, _ path: [String], query: [(String, String)], body: Data?, authenticated: Bool,
                     timeout: Duration, via transport: any MatrixHTTPTransport) async throws -> Data {
        var rateLimited = 0
        var renewed = false
        while true {
            if authenticated, accessToken == nil { try await login() }
            var request = MatrixHTTPRequest(method: method, url: MatrixPath.url(homeserver, path, query: query), body: body,
                                            timeout: timeout)
            if body != nil { request.headers["Content-Type"] = "application/json" }
            if authenticated, let accessToken { request.headers["Authorization"] = "Bearer \(accessToken)" }
            let response = try await transport.perform(request)
            if (200..<300).contains(response.status) {
                backoff.succeeded()
                return response.body
            }
            let error = MatrixError.from(status: response.status, body: response.body)
            if error.status == 429 || error.errcode == "M_LIMIT_EXCEEDED", rateLimited < maximumRateLimitRetries {
                rateLimited += 1
                let wait = backoff.rateLimited(retryAfterMilliseconds: error.retryAfterMilliseconds, random: &random)
                logger.notice("rate limited by the homeserver; waiting", ["request": "/\(path.first ?? "")",
                                                                           "wait_ms": wait.wholeMilliseconds])
                try await clock.sleep(for: wait)
                continue
            }
            if error.errcode == "M_UNKNOWN_TOKEN", authenticated {
                logger.error("the homeserver no longer accepts the access token (M_UNKNOWN_TOKEN)",
                             ["user": userID, "soft_logout": "\(error.error)",
                              "action": isPasswordLogin ? "logging in again" : "configure a new access token"])
                if isPasswordLogin, !renewed {
                    renewed = true
                    accessToken = nil
                    continue
                }
            }
            throw error
        }
    }

    private var isPasswordLogin: Bool {
        if case .password = credentials { true } else { false }
    }
}

/// Where a client-server API request goes.
public enum MatrixPath {
    /// `homeserver/_matrix/client/v3/a/b?k=v`, each path part and query
    /// value percent-encoded (room ids carry `!` and `:`, txn ids anything).
    public static func url(_ homeserver: URL, _ path: [String], query: [(String, String)]) -> URL {
        var text = homeserver.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += "/_matrix/client/v3"
        for part in path { text += "/" + encode(part) }
        if !query.isEmpty {
            text += "?" + query.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        }
        return URL(string: text)!
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    public static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
