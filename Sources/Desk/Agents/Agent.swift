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
    /// Masks as configured (IRC: `nick!user@host` globs), used only on
    /// networks without accounts. Desk does not read them: the network's
    /// adapter validates them at configuration time and matches them.
    public var masks: [String]

    public init(id: String, name: String, nick: String, accounts: [String: String] = [:], masks: [String] = []) {
        self.id = id
        self.name = name
        self.nick = nick
        self.accounts = accounts
        self.masks = masks
    }
}

/// The configured agents, and the one rule that decides whether a chat
/// principal is an agent (SPEC "Roles"):
///
/// - on a network with accounts (IRCv3 `account-tag`/`extended-join`/WHOX,
///   SASL; Matrix): by the account only — a user who is not logged in is no
///   agent, whatever their nick or host;
/// - on a network without accounts: by a mask the network's matcher accepts;
/// - never by nick alone.
///
/// How names compare is the network's business (IRC folds case, Matrix ids
/// are case-sensitive), so the caller passes the network's rule; Desk knows
/// no chat protocol.
///
/// Masks are the weak link: on a network anyone can join, whoever gets the
/// nick and can appear to come from a matching host (a shared bouncer or
/// shell host, a cloak anyone can request, an ident the user sets himself)
/// passes. Use accounts wherever the network has them, and masks only with
/// a host that only the agent controls.
public struct AgentDirectory: Sendable {
    public let all: [Agent]
    private let byID: [String: Agent]

    public init(_ agents: [Agent]) {
        all = agents
        var ids: [String: Agent] = [:]
        for agent in agents where ids[agent.id] == nil { ids[agent.id] = agent }
        byID = ids
    }

    public func agent(id: String) -> Agent? { byID[id] }

    /// The agent configured with this nick, compared by `normalize` (the
    /// network's rule for user names). For *naming* an agent in a command
    /// (`!oncall override ben …`), never for deciding who is speaking.
    public func agent(nick: String, normalize: (String) -> String) -> Agent? {
        let wanted = normalize(nick)
        return all.first { normalize($0.nick) == wanted }
    }

    /// The agent whose account on `network` is `account`, both sides
    /// compared by `normalize` (the network's rule for accounts). The
    /// account must be one the network vouches for.
    public func agent(network: String, account: String, normalize: (String) -> String) -> Agent? {
        let wanted = normalize(account)
        return all.first { agent in agent.accounts[network].map { normalize($0) == wanted } ?? false }
    }

    /// The first agent with a mask `matches` accepts (the network's matcher
    /// applied to the sender): for networks without accounts.
    public func agent(matchingMask matches: (String) -> Bool) -> Agent? {
        all.first { $0.masks.contains(where: matches) }
    }
}
