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
public struct MembershipTracker: Sendable {
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

    public init() {}

    public func key(_ name: String) -> String { caseMapping.lowercased(name) }

    /// Forgets everything (the connection ended).
    public mutating func reset() {
        users.removeAll()
        channels.removeAll()
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

    /// We joined `channel` (our own JOIN came back).
    public mutating func selfJoined(_ channel: String, me: IRCHostmask, account: AccountState) {
        channels[key(channel)] = Channel(name: channel, members: [:])
        join(channel, user: me, account: account)
    }

    /// Someone (maybe we) joined a channel we are in. `account` is from
    /// extended-join, or `.unknown`.
    public mutating func join(_ channel: String, user: IRCHostmask, account: AccountState) {
        let channelKey = key(channel)
        guard channels[channelKey] != nil else { return }
        let userKey = key(user.nick)
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
        join(channel, user: IRCHostmask(parsing: rest), account: .unknown)
        channels[key(channel)]!.members[key(IRCHostmask(parsing: rest).nick)] = prefixes
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
            return
        }
        let userKey = key(nick)
        channels[channelKey]?.members[userKey] = nil
        users[userKey]?.channels.remove(channelKey)
        if users[userKey]?.channels.isEmpty == true { users[userKey] = nil }
    }

    /// `nick` quit: gone from every channel.
    public mutating func quit(_ nick: String) {
        let userKey = key(nick)
        guard let user = users.removeValue(forKey: userKey) else { return }
        for channel in user.channels { channels[channel]?.members[userKey] = nil }
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
