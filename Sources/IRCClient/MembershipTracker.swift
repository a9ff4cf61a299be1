import Foundation
import IRC

/// What we know of a user's services account.
public enum AccountState: Sendable, Hashable {
    /// Not known (no account-tag, extended-join, account-notify or WHOX told us).
    case unknown
    /// Known not to be logged in.
    case loggedOut
    /// Logged in as this account.
    case loggedIn(String)

    /// The account name, nil unless logged in.
    public var account: String? {
        if case .loggedIn(let name) = self { return name }
        return nil
    }

    /// From an extended-join / ACCOUNT / WHOX value: `*` (and WHOX's `0`) mean
    /// "not logged in" (IRCv3 extended-join, account-notify; WHOX `%a`).
    init(wireValue: String, notLoggedIn: Set<String> = ["*"]) {
        self = notLoggedIn.contains(wireValue) || wireValue.isEmpty ? .loggedOut : .loggedIn(wireValue)
    }
}

/// The channels we are in, who is in them, and each user's account — for
/// users who share a channel with us only, because only for them does the
/// server tell us about QUIT, NICK and ACCOUNT changes (so only their
/// tracked account stays true). Every comparison uses the network's case
/// mapping (ISUPPORT `CASEMAPPING`).
///
/// Bounded (``IRCClientConfiguration/Limits``): JOIN, NAMES and WHO data
/// for channels we are not in are ignored; beyond `channels` channels or
/// `users` users nothing new is tracked (the bound hit is reported once by
/// ``takeLimitHits()``); tables that shrank to a quarter of their capacity
/// are rebuilt, so memory goes back after a flood of users left.
public struct MembershipTracker: Sendable {
    /// A bound that was hit.
    public enum LimitHit: Sendable, Hashable {
        case channels(limit: Int, ignored: String)
        case users(limit: Int, channel: String)
    }

    public struct User: Sendable, Hashable {
        public var nick: String
        public var user: String?
        public var host: String?
        public var account: AccountState
        /// Keys of the channels we share.
        public var channels: Set<String>
    }

    public struct Channel: Sendable, Hashable {
        public var name: String
        /// Member key → membership prefixes (`@`, `+`, … as NAMES gives them).
        public var members: [String: String]
    }

    public private(set) var caseMapping: IRCCaseMapping = .rfc1459
    public private(set) var users: [String: User] = [:]
    public private(set) var channels: [String: Channel] = [:]
    public let maximumChannels: Int
    public let maximumUsers: Int
    /// Bounds hit since the last ``reset()`` (each kind reported once).
    private var hitKinds: Set<Int> = []
    private var newHits: [LimitHit] = []

    public init(maximumChannels: Int = 100, maximumUsers: Int = 20_000) {
        self.maximumChannels = maximumChannels
        self.maximumUsers = maximumUsers
    }

    /// Bounds hit for the first time since the last ``reset()``: log each.
    public mutating func takeLimitHits() -> [LimitHit] {
        defer { newHits.removeAll() }
        return newHits
    }

    private mutating func hit(_ limit: LimitHit) {
        let kind = switch limit {
        case .channels: 0
        case .users: 1
        }
        if hitKinds.insert(kind).inserted { newHits.append(limit) }
    }

    public func key(_ name: String) -> String { caseMapping.lowercased(name) }

    /// Forgets everything (the connection ended).
    public mutating func reset() {
        users.removeAll()
        channels.removeAll()
        hitKinds.removeAll()
        newHits.removeAll()
    }

    /// Applies a new case mapping to the keys already held.
    public mutating func setCaseMapping(_ mapping: IRCCaseMapping) {
        guard mapping != caseMapping else { return }
        caseMapping = mapping
        var newUsers: [String: User] = [:]
        for var user in users.values {
            user.channels = Set(user.channels.map { mapping.lowercased($0) })
            newUsers[mapping.lowercased(user.nick)] = user
        }
        var newChannels: [String: Channel] = [:]
        for var channel in channels.values {
            channel.members = Dictionary(channel.members.map { (mapping.lowercased($0.key), $0.value) },
                                         uniquingKeysWith: { a, _ in a })
            newChannels[mapping.lowercased(channel.name)] = channel
        }
        users = newUsers
        channels = newChannels
    }

    // MARK: Queries

    public func isJoined(_ channel: String) -> Bool { channels[key(channel)] != nil }

    public func user(_ nick: String) -> User? { users[key(nick)] }

    /// Whether `nick` is in a channel we are in.
    public func sharesChannel(with nick: String) -> Bool { !(users[key(nick)]?.channels.isEmpty ?? true) }

    public func members(of channel: String) -> [String] {
        channels[key(channel)].map { $0.members.keys.compactMap { users[$0]?.nick }.sorted() } ?? []
    }

    // MARK: Changes

    /// We joined `channel` (our own JOIN came back). Returns whether it is
    /// tracked (false beyond ``maximumChannels``).
    @discardableResult
    public mutating func selfJoined(_ channel: String, me: IRCHostmask, account: AccountState) -> Bool {
        let channelKey = key(channel)
        if channels[channelKey] == nil, channels.count >= maximumChannels {
            hit(.channels(limit: maximumChannels, ignored: channel))
            return false
        }
        channels[channelKey] = Channel(name: channel, members: [:])
        join(channel, user: me, account: account)
        return true
    }

    /// Someone (maybe we) joined a channel we are in. `account` is from
    /// extended-join, or `.unknown`.
    public mutating func join(_ channel: String, user: IRCHostmask, account: AccountState) {
        let channelKey = key(channel)
        guard channels[channelKey] != nil else { return }
        let userKey = key(user.nick)
        if users[userKey] == nil, users.count >= maximumUsers {
            hit(.users(limit: maximumUsers, channel: channel))
            return
        }
        var entry = users[userKey] ?? User(nick: user.nick, user: nil, host: nil, account: .unknown, channels: [])
        entry.nick = user.nick
        if let u = user.user { entry.user = u }
        if let h = user.host { entry.host = h }
        if account != .unknown { entry.account = account }
        entry.channels.insert(channelKey)
        users[userKey] = entry
        if channels[channelKey]!.members[userKey] == nil { channels[channelKey]!.members[userKey] = "" }
    }

    /// A NAMES (353) entry: `@+nick` or, with userhost-in-names, `@nick!user@host`.
    public mutating func namesEntry(_ channel: String, entry: String, prefixCharacters: String) {
        let prefixes = String(entry.prefix { prefixCharacters.contains($0) })
        let rest = String(entry.dropFirst(prefixes.count))
        guard !rest.isEmpty, channels[key(channel)] != nil else { return }
        let mask = IRCHostmask(parsing: rest)
        join(channel, user: mask, account: .unknown)
        let userKey = key(mask.nick)
        if users[userKey] != nil { channels[key(channel)]!.members[userKey] = prefixes }
    }

    /// `nick` left `channel` (PART or KICK). When it is `me`, we left: the
    /// channel and everyone we no longer share a channel with are forgotten.
    public mutating func leave(_ channel: String, nick: String, me: String) {
        let channelKey = key(channel)
        if key(nick) == key(me) {
            guard let removed = channels.removeValue(forKey: channelKey) else { return }
            for member in removed.members.keys {
                users[member]?.channels.remove(channelKey)
                if users[member]?.channels.isEmpty == true, member != key(me) { users[member] = nil }
            }
            giveMemoryBack()
            return
        }
        let userKey = key(nick)
        channels[channelKey]?.members[userKey] = nil
        users[userKey]?.channels.remove(channelKey)
        if users[userKey]?.channels.isEmpty == true { users[userKey] = nil }
        giveMemoryBack(channel: channelKey)
    }

    /// `nick` quit: gone from every channel.
    public mutating func quit(_ nick: String) {
        let userKey = key(nick)
        guard let user = users.removeValue(forKey: userKey) else { return }
        for channel in user.channels {
            channels[channel]?.members[userKey] = nil
            giveMemoryBack(channel: channel)
        }
        giveMemoryBack()
    }

    /// Rebuilds a table whose entries fell to a quarter of its capacity
    /// (a `Dictionary` never shrinks by itself). Amortised O(1): a rebuild
    /// of n entries follows at least 3n removals.
    private mutating func giveMemoryBack(channel: String? = nil) {
        if Self.isSparse(users) { users = Self.rebuilt(users) }
        if let channel, let members = channels[channel]?.members, Self.isSparse(members) {
            channels[channel]!.members = Self.rebuilt(members)
        }
    }

    static func isSparse<V>(_ table: [String: V]) -> Bool {
        table.capacity > 64 && table.count < table.capacity / 4
    }

    static func rebuilt<V>(_ table: [String: V]) -> [String: V] {
        var fresh = [String: V](minimumCapacity: table.count)
        for (key, value) in table { fresh[key] = value }
        return fresh
    }

    /// `old` is now `new`.
    public mutating func rename(_ old: String, to new: String) {
        let oldKey = key(old)
        let newKey = key(new)
        guard var user = users.removeValue(forKey: oldKey) else { return }
        user.nick = new
        for channel in user.channels {
            if let prefixes = channels[channel]?.members.removeValue(forKey: oldKey) {
                channels[channel]?.members[newKey] = prefixes
            }
        }
        users[newKey] = user
    }

    /// Sets a tracked user's account; returns whether it changed. Users we
    /// share no channel with are not tracked (nothing would keep it true).
    @discardableResult
    public mutating func setAccount(_ nick: String, _ account: AccountState) -> Bool {
        let userKey = key(nick)
        guard var user = users[userKey], account != .unknown, user.account != account else { return false }
        user.account = account
        users[userKey] = user
        return true
    }

    /// A tracked user's user and host changed (CHGHOST, WHOX).
    public mutating func setUserHost(_ nick: String, user: String?, host: String?) {
        let userKey = key(nick)
        guard users[userKey] != nil else { return }
        if let user { users[userKey]!.user = user }
        if let host { users[userKey]!.host = host }
    }
}
