import Foundation

/// A support agent from the configuration.
public struct Agent: Sendable, Hashable, Identifiable {
    /// Stable id (audit trail, roster, assignments): `anna`.
    public var id: String
    /// For people: `Anna Berg`.
    public var name: String
    /// The nick the bots mention in the agents' channel. It names the agent;
    /// it never proves who someone is.
    public var nick: String
    /// Network name → services account (`demo` → `anna`).
    public var accounts: [String: String]
    /// `nick!user@host` masks, used only on networks without accounts.
    public var masks: [ChatMask]

    public init(id: String, name: String, nick: String, accounts: [String: String] = [:], masks: [ChatMask] = []) {
        self.id = id
        self.name = name
        self.nick = nick
        self.accounts = accounts
        self.masks = masks
    }
}

/// The configured agents, and the one rule that decides whether a chat
/// identity is an agent (SPEC "Roles"):
///
/// - on a network with accounts (IRCv3 `account-tag`/`extended-join`/WHOX,
///   SASL): by the services account only — a user who is not logged in is
///   no agent, whatever their nick or host;
/// - on a network without accounts: by a `nick!user@host` mask;
/// - never by nick alone.
///
/// Masks are the weak link: on a network anyone can join, whoever gets the
/// nick and can appear to come from a matching host (a shared bouncer or
/// shell host, a cloak anyone can request, an ident the user sets himself)
/// passes. Use accounts wherever the network has them, and masks only with
/// a host that only the agent controls.
public struct AgentDirectory: Sendable {
    public let all: [Agent]
    private let byID: [String: Agent]
    private let byNick: [String: Agent]
    /// network + folded account → agent id
    private let byAccount: [String: String]

    public init(_ agents: [Agent]) {
        all = agents
        var ids: [String: Agent] = [:], nicks: [String: Agent] = [:], accounts: [String: String] = [:]
        for agent in agents where ids[agent.id] == nil {
            ids[agent.id] = agent
            let nick = ChatCaseFolding.rfc1459(agent.nick)
            if nicks[nick] == nil { nicks[nick] = agent }
            for (network, account) in agent.accounts {
                let key = Self.accountKey(network, account)
                if accounts[key] == nil { accounts[key] = agent.id }
            }
        }
        byID = ids
        byNick = nicks
        byAccount = accounts
    }

    static func accountKey(_ network: String, _ account: String) -> String {
        network + "\u{0}" + ChatCaseFolding.rfc1459(account)
    }

    public func agent(id: String) -> Agent? { byID[id] }

    /// The agent configured with this nick (RFC 1459 case-insensitive). For
    /// *naming* an agent in a command (`!oncall override ben …`), never for
    /// deciding who is speaking.
    public func agent(nick: String) -> Agent? { byNick[ChatCaseFolding.rfc1459(nick)] }

    /// The agent `identity` is, or nil.
    ///
    /// - Parameters:
    ///   - identity: who wrote (network, nick, account if logged in).
    ///   - user: the ident (`user` of `nick!user@host`), when known.
    ///   - host: the host, when known.
    ///   - networkHasAccounts: whether the network tells accounts (the
    ///     gateway knows: `account-tag` or `extended-join` was acknowledged,
    ///     or the network is Matrix). Then only the account counts.
    public func agent(for identity: ChatIdentity, user: String?, host: String?, networkHasAccounts: Bool) -> Agent? {
        if networkHasAccounts {
            guard let account = identity.account else { return nil }
            return byAccount[Self.accountKey(identity.network, account)].flatMap { byID[$0] }
        }
        guard let user, let host, !user.isEmpty, !host.isEmpty else { return nil }
        return all.first { agent in agent.masks.contains { $0.matches(nick: identity.nick, user: user, host: host) } }
    }
}
