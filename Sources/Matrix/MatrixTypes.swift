import Foundation

// The client-server API's shapes that Switchboard uses (Matrix spec v1.x,
// "Client-Server API"). Only the fields read are declared; Foundation's
// decoder ignores the rest, so a homeserver adding fields breaks nothing.

/// An error answer (spec §"Standard error response"): `errcode` such as
/// `M_LIMIT_EXCEEDED` or `M_UNKNOWN_TOKEN`, a human `error`, and for rate
/// limits `retry_after_ms`.
public struct MatrixError: Error, Sendable, Hashable, CustomStringConvertible, Decodable {
    /// The HTTP status (0 when the body was not a Matrix error).
    public var status: Int
    public var errcode: String
    public var error: String
    public var retryAfterMilliseconds: Int?

    enum CodingKeys: String, CodingKey {
        case errcode, error
        case retryAfterMilliseconds = "retry_after_ms"
    }

    public init(status: Int, errcode: String, error: String, retryAfterMilliseconds: Int? = nil) {
        self.status = status
        self.errcode = errcode
        self.error = error
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = 0
        errcode = try c.decode(String.self, forKey: .errcode)
        error = try c.decodeIfPresent(String.self, forKey: .error) ?? ""
        retryAfterMilliseconds = try c.decodeIfPresent(Int.self, forKey: .retryAfterMilliseconds)
    }

    /// The answer to `status` with `body`: the Matrix error it carries, or a
    /// generic one naming the status and the start of the body.
    public static func from(status: Int, body: Data) -> MatrixError {
        if var error = try? JSONDecoder().decode(MatrixError.self, from: body) {
            error.status = status
            return error
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return MatrixError(status: status, errcode: "HTTP_\(status)", error: text)
    }

    public var description: String {
        "\(errcode) (HTTP \(status))\(error.isEmpty ? "" : ": \(error)")"
    }
}

/// The client cannot go on (bad credentials, unusable answer): said once,
/// clearly, rather than retried forever.
public struct MatrixClientError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// An event as `/sync` delivers it (spec §"ClientEvent without room_id").
public struct MatrixEvent: Sendable, Hashable, Codable {
    public var type: String
    public var sender: String?
    public var eventID: String?
    public var originServerTS: Int64?
    public var stateKey: String?
    public var content: JSONValue

    enum CodingKeys: String, CodingKey {
        case type, sender, content
        case eventID = "event_id"
        case originServerTS = "origin_server_ts"
        case stateKey = "state_key"
    }

    public init(type: String, sender: String? = nil, eventID: String? = nil, originServerTS: Int64? = nil,
                stateKey: String? = nil, content: JSONValue = .object([:])) {
        self.type = type
        self.sender = sender
        self.eventID = eventID
        self.originServerTS = originServerTS
        self.stateKey = stateKey
        self.content = content
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        sender = try c.decodeIfPresent(String.self, forKey: .sender)
        eventID = try c.decodeIfPresent(String.self, forKey: .eventID)
        originServerTS = try c.decodeIfPresent(Int64.self, forKey: .originServerTS)
        stateKey = try c.decodeIfPresent(String.self, forKey: .stateKey)
        content = try c.decodeIfPresent(JSONValue.self, forKey: .content) ?? .object([:])
    }
}

/// A `/sync` answer (spec §"GET /_matrix/client/v3/sync").
public struct MatrixSyncResponse: Sendable, Hashable, Decodable {
    public var nextBatch: String
    public var rooms: Rooms
    /// Global account data (`m.direct`).
    public var accountData: [MatrixEvent]

    public struct Rooms: Sendable, Hashable, Decodable {
        public var join: [String: JoinedRoom] = [:]
        public var invite: [String: InvitedRoom] = [:]
        public var leave: [String: JoinedRoom] = [:]

        public init(join: [String: JoinedRoom] = [:], invite: [String: InvitedRoom] = [:],
                    leave: [String: JoinedRoom] = [:]) {
            self.join = join
            self.invite = invite
            self.leave = leave
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            join = try c.decodeIfPresent([String: JoinedRoom].self, forKey: .join) ?? [:]
            invite = try c.decodeIfPresent([String: InvitedRoom].self, forKey: .invite) ?? [:]
            leave = try c.decodeIfPresent([String: JoinedRoom].self, forKey: .leave) ?? [:]
        }
        enum CodingKeys: String, CodingKey { case join, invite, leave }
    }

    /// A room the bot is in: state before the timeline, then the timeline.
    public struct JoinedRoom: Sendable, Hashable, Decodable {
        public var state: [MatrixEvent] = []
        public var timeline: [MatrixEvent] = []

        public init(state: [MatrixEvent] = [], timeline: [MatrixEvent] = []) {
            self.state = state
            self.timeline = timeline
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            state = try c.decodeIfPresent(EventList.self, forKey: .state)?.events ?? []
            timeline = try c.decodeIfPresent(EventList.self, forKey: .timeline)?.events ?? []
        }
        enum CodingKeys: String, CodingKey { case state, timeline }
    }

    /// A room the bot is invited to: the stripped state the inviter shares.
    public struct InvitedRoom: Sendable, Hashable, Decodable {
        public var inviteState: [MatrixEvent] = []

        public init(inviteState: [MatrixEvent]) { self.inviteState = inviteState }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            inviteState = try c.decodeIfPresent(EventList.self, forKey: .inviteState)?.events ?? []
        }
        enum CodingKeys: String, CodingKey { case inviteState = "invite_state" }
    }

    struct EventList: Decodable {
        var events: [MatrixEvent]
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            events = try c.decodeIfPresent([MatrixEvent].self, forKey: .events) ?? []
        }
        enum CodingKeys: String, CodingKey { case events }
    }

    public init(nextBatch: String, rooms: Rooms = Rooms(), accountData: [MatrixEvent] = []) {
        self.nextBatch = nextBatch
        self.rooms = rooms
        self.accountData = accountData
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nextBatch = try c.decode(String.self, forKey: .nextBatch)
        rooms = try c.decodeIfPresent(Rooms.self, forKey: .rooms) ?? Rooms()
        accountData = try c.decodeIfPresent(EventList.self, forKey: .accountData)?.events ?? []
    }
    enum CodingKeys: String, CodingKey {
        case rooms
        case nextBatch = "next_batch"
        case accountData = "account_data"
    }
}

/// A `@localpart:server` user id (spec appendix "Identifier grammar").
public enum MatrixID {
    /// Whether `text` has the form of a user id: `@`, a non-empty
    /// localpart, `:`, a non-empty server name, no spaces.
    public static func isUserID(_ text: String) -> Bool {
        guard text.hasPrefix("@"), let colon = text.firstIndex(of: ":") else { return false }
        let local = text[text.index(after: text.startIndex)..<colon]
        let server = text[text.index(after: colon)...]
        return !local.isEmpty && !server.isEmpty && text.utf8.count <= 255
            && !text.contains(where: { $0.isWhitespace || $0 == "/" })
    }

    /// `!opaque:server`, or `!opaque` alone (room version 12 ids carry no
    /// server name).
    public static func isRoomID(_ text: String) -> Bool {
        text.hasPrefix("!") && text.count > 1 && !text.contains(where: { $0.isWhitespace || $0 == "/" })
    }

    /// `#alias:server`.
    public static func isRoomAlias(_ text: String) -> Bool {
        text.hasPrefix("#") && text.dropFirst().contains(":") && !text.contains(where: \.isWhitespace)
    }

    /// The localpart of a user id (`anna` of `@anna:example.org`).
    public static func localpart(_ userID: String) -> String {
        guard userID.hasPrefix("@"), let colon = userID.firstIndex(of: ":") else { return userID }
        return String(userID[userID.index(after: userID.startIndex)..<colon])
    }

    /// The server name of a user or room id (`example.org`).
    public static func server(_ id: String) -> String? {
        id.firstIndex(of: ":").map { String(id[id.index(after: $0)...]) }
    }
}
