import Core
import Foundation
import Matrix
import MatrixAdapter

/// A person on the test homeserver (a customer, an agent, an impostor):
/// logs in with the same client library the adapter uses, syncs in the
/// background and keeps every timeline event it sees, so a test reads like
/// the conversation ("say this, expect that from the bot").
public actor MatrixTestUser {
    public let userID: String
    public let client: MatrixClient<SystemClock>
    /// Every timeline event seen, by room, with when it arrived.
    public private(set) var seen: [(room: String, event: MatrixEvent, at: ContinuousClock.Instant)] = []
    private var syncTask: Task<Void, Never>?
    private var sequence = 0

    public init(server: SynapseServer, name: String, password: String) {
        userID = server.userID(name)
        let transports = HTTPClientTransport.pair(logger: .disabled)
        client = MatrixClient(homeserver: server.url, userID: userID, credentials: .password(password), deviceID: nil,
                              transport: transports.requests, syncTransport: transports.sync, clock: SystemClock(),
                              logger: .disabled)
    }

    /// Logs in, syncs once (history is not "seen") and keeps syncing;
    /// with `filter` (uploaded first) every `/sync` uses it, as the
    /// adapter's does with ``MatrixSyncer/filter``.
    public static func start(server: SynapseServer, name: String, password: String,
                             filter: JSONValue? = nil) async throws -> MatrixTestUser {
        let user = MatrixTestUser(server: server, name: name, password: password)
        try await user.client.login()
        var filterID: String?
        if let filter { filterID = try await user.client.uploadFilter(filter) }
        let first = try await user.client.sync(since: nil, filter: filterID, timeout: .zero)
        await user.keepSyncing(from: first.nextBatch, filter: filterID)
        return user
    }

    private func keepSyncing(from since: String, filter: String?) {
        let client = self.client
        syncTask = Task { [weak self] in
            var since = since
            while !Task.isCancelled {
                do {
                    let response = try await client.sync(since: since, filter: filter, timeout: .seconds(10))
                    since = response.nextBatch
                    await self?.record(response)
                    // Invites are accepted at once (a bot opening a direct room).
                    for room in response.rooms.invite.keys { _ = try? await client.join(room) }
                } catch {
                    if Task.isCancelled { return }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }

    private func record(_ response: MatrixSyncResponse) {
        let now = ContinuousClock.now
        for (room, joined) in response.rooms.join {
            for event in joined.timeline { seen.append((room, event, now)) }
        }
    }

    public func stop() {
        syncTask?.cancel()
        syncTask = nil
    }

    /// Creates a room; returns its id.
    public func createRoom(alias: String? = nil, isPublic: Bool = false, invite: [String] = [], direct: Bool = false,
                           encrypted: Bool = false) async throws -> String {
        var body: [String: JSONValue] = [
            "preset": .string(isPublic ? "public_chat" : (direct ? "trusted_private_chat" : "private_chat")),
            "invite": .array(invite.map { .string($0) }),
            "is_direct": .bool(direct),
        ]
        if let alias { body["room_alias_name"] = .string(alias) }
        if encrypted {
            body["initial_state"] = .array([.object([
                "type": .string("m.room.encryption"), "state_key": .string(""),
                "content": .object(["algorithm": .string("m.megolm.v1.aes-sha2")]),
            ])])
        }
        let answer = try await client.call("POST", ["createRoom"], body: .object(body))
        guard let room = answer["room_id"]?.string else { throw MatrixClientError("createRoom: no room_id") }
        return room
    }

    /// Sends a plain `m.text`; returns its event id.
    @discardableResult
    public func say(_ text: String, in room: String) async throws -> String {
        sequence += 1
        return try await client.send(room: room, type: "m.room.message", transactionID: "test-\(sequence)-\(UUID())",
                                     content: .object(["msgtype": .string("m.text"), "body": .string(text)]))
    }

    /// Sends an event of any type (an encrypted-looking one, a raw one).
    public func send(type: String, content: JSONValue, in room: String) async throws {
        sequence += 1
        try await client.send(room: room, type: type, transactionID: "test-\(sequence)-\(UUID())", content: content)
    }

    /// Sets the display name (an impostor calling themselves "anna").
    public func setDisplayName(_ name: String) async throws {
        _ = try await client.call("PUT", ["profile", userID, "displayname"], body: .object(["displayname": .string(name)]))
    }

    public func join(_ room: String) async throws -> String { try await client.join(room) }

    /// The `m.room.message` events from `sender` seen so far (in `room`, if given).
    public func messages(from sender: String, in room: String? = nil)
        -> [(room: String, event: MatrixEvent, at: ContinuousClock.Instant)]
    {
        seen.filter { $0.event.type == "m.room.message" && $0.event.sender == sender && (room == nil || $0.room == room) }
    }

    /// Waits for a message from `sender` whose body contains `text`, seen
    /// after `after` messages from them; fails after `timeout` listing what came.
    @discardableResult
    /// `outside`: a room the message must not be in (a page's direct room
    /// versus the agents' room line, which may arrive first).
    public func expectMessage(from sender: String, containing text: String, in room: String? = nil,
                              outside excluded: String? = nil, timeout: Duration = .seconds(15),
                              poll: Duration = .milliseconds(10))
        async throws -> (room: String, event: MatrixEvent, at: ContinuousClock.Instant)
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        // `seen` only grows: each poll looks at the events that came since
        // the last one. Scanning them all every poll cost MatrixBench's
        // process ~18 ms of CPU per page (thousands of events by the end of
        // a run, a poll every 2 ms), burnt beside Synapse on two cores while
        // the page's PUT was under way: the adapter's send returns at once,
        // cust's only when its PUT is answered, so only the page paid.
        var checked = 0
        while ContinuousClock.now < deadline {
            let events = seen
            if let found = events[checked...].first(where: {
                $0.event.type == "m.room.message" && $0.event.sender == sender && (room == nil || $0.room == room)
                    && $0.room != excluded && ($0.event.content["body"]?.string ?? "").contains(text)
            }) {
                return found
            }
            checked = events.count
            try await Task.sleep(for: poll)
        }
        let bodies = messages(from: sender).map { "[\($0.room)] \($0.event.content["body"]?.string ?? "")" }
        throw MatrixClientError("\(userID): no message from \(sender) containing \"\(text)\" within \(timeout); "
            + "got: \(bodies.joined(separator: " | "))")
    }
}
