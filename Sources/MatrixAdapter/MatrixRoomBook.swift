import Bots
import Desk
import Foundation
import Matrix

/// What the adapter knows about rooms, and how `/sync` events become what
/// the bots see. A value with no I/O: the adapter feeds it each sync batch
/// and carries out what it returns; tests feed it events directly.
///
/// - **Places.** A configured room (by id, or an alias resolved at start)
///   is a channel under its configured name; a direct room (`m.direct`, an
///   invite with `is_direct`, or a room of just the bot and one other user)
///   is `.direct`; any other room is ignored.
/// - **Who wrote.** The `sender` user id, which the homeserver
///   authenticates, is the principal (``ChatPrincipal/account(_:)``) and the
///   nick; display names are never read.
/// - **What counts.** `m.text` and `m.emote` (an action); notices (other
///   bots), the bot's own events, edits and redactions are not answered.
/// - **Encrypted rooms.** An `m.room.encrypted` event or an
///   `m.room.encryption` state marks the room; the adapter explains once.
public struct MatrixRoomBook: Sendable {
    /// The bot's user id.
    public let ownUserID: String
    public let network: String
    /// Configured room id → the name the bots use (the alias or id as written).
    public private(set) var configured: [String: String] = [:]
    /// Direct rooms: room id → the other user.
    public private(set) var directRooms: [String: String] = [:]
    /// The direct room to write to for each user (the newest known).
    public private(set) var directRoomOf: [String: String] = [:]
    /// Joined members per room (the bot in every room of the `join` section),
    /// from state and timeline.
    public private(set) var members: [String: Set<String>] = [:]
    /// Rooms with encryption enabled.
    public private(set) var encrypted: Set<String> = []

    public init(ownUserID: String, network: String) {
        self.ownUserID = ownUserID
        self.network = network
    }

    /// What a sync batch asks of the adapter.
    public enum Outcome: Sendable, Hashable {
        /// A message for the bots, with its room and event id (to skip it
        /// when the same batch comes again after a crash; to mark it read).
        case message(ChatMessage, room: String, eventID: String?)
        /// The bot was invited; `direct`: the invite says `is_direct`.
        case invited(room: String, by: String, direct: Bool)
        /// An encrypted event or encryption turned on in a room.
        case encryptedRoom(String)
        /// `m.direct` changed from what the homeserver told (nothing to do
        /// but keep it) — or the adapter learnt a direct room the account
        /// data lacks and should add it.
        case directRoomLearnt(room: String, user: String)
    }

    /// Names a configured room's id.
    public mutating func configure(roomID: String, name: String) { configured[roomID] = name }

    /// The room id of a configured name (alias or id), if resolved.
    public func roomID(named name: String) -> String? {
        configured.first { $0.value == name }?.key ?? (MatrixID.isRoomID(name) ? name : nil)
    }

    /// Records a direct room with `user` (joined on their invite, created by
    /// the bot, or from `m.direct`).
    public mutating func addDirect(room: String, user: String) {
        guard configured[room] == nil else { return }
        directRooms[room] = user
        if !encrypted.contains(room) { directRoomOf[user] = room }
    }

    /// Stops writing to `room` as a direct room (the bot cannot send there).
    public mutating func forgetDirect(room: String) {
        guard let user = directRooms.removeValue(forKey: room) else { return }
        if directRoomOf[user] == room { directRoomOf[user] = nil }
    }

    /// The room to write to `user` in: a known direct room that is not
    /// encrypted (the bot could not read the answer there).
    public func directRoom(for user: String) -> String? {
        guard let room = directRoomOf[user], !encrypted.contains(room) else { return nil }
        return room
    }

    /// `m.direct` content: user id → [room id].
    public mutating func applyDirectAccountData(_ content: JSONValue) {
        for (user, rooms) in content.object ?? [:] {
            for room in rooms.array?.compactMap(\.string) ?? [] {
                addDirect(room: room, user: user)
            }
        }
    }

    /// The `m.direct` content for the rooms known now.
    public var directAccountData: JSONValue {
        var byUser: [String: [JSONValue]] = [:]
        for (room, user) in directRooms.sorted(by: { $0.key < $1.key }) { byUser[user, default: []].append(.string(room)) }
        return .object(byUser.mapValues { .array($0) })
    }

    /// Applies a sync batch; returns what the adapter must do, in order.
    /// An `initial` batch (a fresh account's history) yields no messages and
    /// no encryption notices, only state and invites.
    public mutating func apply(_ sync: MatrixSyncResponse, initial: Bool) -> [Outcome] {
        var outcomes: [Outcome] = []
        for event in sync.accountData where event.type == "m.direct" { applyDirectAccountData(event.content) }
        for (room, joined) in sync.rooms.join.sorted(by: { $0.key < $1.key }) {
            for event in joined.state { applyState(event, room: room) }
            for event in joined.timeline {
                if event.stateKey != nil { applyState(event, room: room) }
                if initial { continue }
                if event.type == "m.room.encrypted" || event.type == "m.room.encryption" {
                    outcomes.append(.encryptedRoom(room))
                    continue
                }
                if let message = message(event, room: room) { outcomes.append(.message(message, room: room, eventID: event.eventID)) }
            }
            // A room in `join` is one the bot has joined, whatever older state
            // in the batch says (its own join may lie before the timeline).
            members[room, default: []].insert(ownUserID)
            if !initial, joined.state.contains(where: { $0.type == "m.room.encryption" }) {
                outcomes.append(.encryptedRoom(room))
            }
            if directRooms[room] == nil, configured[room] == nil, let other = soleOtherMember(room) {
                addDirect(room: room, user: other)
                outcomes.append(.directRoomLearnt(room: room, user: other))
            }
        }
        for room in sync.rooms.leave.keys {
            members[room] = nil
            if let user = directRooms.removeValue(forKey: room), directRoomOf[user] == room { directRoomOf[user] = nil }
        }
        for (room, invited) in sync.rooms.invite.sorted(by: { $0.key < $1.key }) {
            guard let me = invited.inviteState.last(where: {
                $0.type == "m.room.member" && $0.stateKey == ownUserID && $0.content["membership"]?.string == "invite"
            }), let inviter = me.sender else { continue }
            if invited.inviteState.contains(where: { $0.type == "m.room.encryption" }) { encrypted.insert(room) }
            outcomes.append(.invited(room: room, by: inviter, direct: me.content["is_direct"]?.bool ?? false))
        }
        // Several encryption markers for a room in one batch are one outcome.
        var seen = Set<String>()
        return outcomes.filter { outcome in
            if case .encryptedRoom(let room) = outcome { return seen.insert(room).inserted }
            return true
        }
    }

    private mutating func applyState(_ event: MatrixEvent, room: String) {
        switch event.type {
        case "m.room.member":
            guard let user = event.stateKey else { return }
            if event.content["membership"]?.string == "join" {
                members[room, default: []].insert(user)
            } else {
                members[room, default: []].remove(user)
            }
        case "m.room.encryption":
            encrypted.insert(room)
            if let user = directRooms[room], directRoomOf[user] == room { directRoomOf[user] = nil }
        default:
            break
        }
    }

    /// The one member besides the bot, in a room of exactly two.
    private func soleOtherMember(_ room: String) -> String? {
        guard let joined = members[room], joined.count == 2, joined.contains(ownUserID) else { return nil }
        return joined.first { $0 != ownUserID }
    }

    /// The bots' view of a timeline event, or nil for what they must not answer.
    func message(_ event: MatrixEvent, room: String) -> ChatMessage? {
        guard event.type == "m.room.message", let sender = event.sender, sender != ownUserID,
              MatrixID.isUserID(sender) else { return nil }
        let msgtype = event.content["msgtype"]?.string
        guard msgtype == "m.text" || msgtype == "m.emote", var body = event.content["body"]?.string else { return nil }
        // An edit (`m.replace`) repeats a message already answered.
        if event.content["m.relates_to"]?["rel_type"]?.string == "m.replace" { return nil }
        if event.content["m.relates_to"]?["m.in_reply_to"] != nil { body = Self.withoutReplyFallback(body) }
        let time = event.originServerTS.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
        let identity = ChatIdentity(network: network, nick: sender)
        let isAction = msgtype == "m.emote"
        let place: ChatPlace
        var addressed = true
        var text = body
        if let name = configured[room] {
            place = .channel(name)
            if !isAction {
                let mentioned = event.content["m.mentions"]?["user_ids"]?.array?.contains(.string(ownUserID)) ?? false
                let (byName, stripped) = stripAddress(body)
                addressed = mentioned || byName
                text = byName ? stripped : mentioned ? Self.withoutLeadingPill(body, event.content) : body
            } else {
                addressed = false
            }
        } else if directRooms[room] == sender {
            place = .direct
        } else {
            return nil
        }
        return ChatMessage(sender: identity, principal: .account(sender), place: place, text: text,
                           addressedToBot: addressed, time: time, isAction: isAction, sourceID: event.eventID)
    }

    /// `switchboard: help`, `@switchboard:example.org: help` →
    /// (true, "help"); anything else unchanged. Clients write a mention pill
    /// as the display name in `body`, which is why ``message(_:room:)``
    /// also takes `m.mentions`.
    func stripAddress(_ text: String) -> (Bool, String) {
        for name in [ownUserID, MatrixID.localpart(ownUserID)] {
            guard text.count > name.count, text.lowercased().hasPrefix(name.lowercased()) else { continue }
            let rest = text.dropFirst(name.count)
            guard let mark = rest.first, mark == ":" || mark == "," else { continue }
            return (true, rest.dropFirst().trimmingCharacters(in: .whitespaces))
        }
        return (false, text)
    }

    /// A line that starts with a pill for the bot (`Switchboard: help`,
    /// the display name in `body`, the link in `formatted_body`) without it.
    static func withoutLeadingPill(_ body: String, _ content: JSONValue) -> String {
        guard content["formatted_body"]?.string?.hasPrefix("<a href=\"https://matrix.to/#/") == true,
              let colon = body.firstIndex(of: ":"), body.distance(from: body.startIndex, to: colon) <= 64
        else { return body }
        return body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// A reply's `body` without the quoted fallback (`> <@a:b> …` lines and
    /// the blank line after them; spec §"Fallbacks for rich replies").
    static func withoutReplyFallback(_ body: String) -> String {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.hasPrefix("> ") == true else { return body }
        let rest = lines.drop { $0.hasPrefix(">") }.drop { $0.isEmpty }
        return rest.joined(separator: "\n")
    }
}
