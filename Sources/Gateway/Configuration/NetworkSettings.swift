import Config
import Core
import Foundation

/// One configured chat network, by kind: the entry's `kind` field in
/// `switchboard.json5` (`irc` when absent, so older files keep working).
/// ``NetworkFactory`` turns each into a running ``Bots/ChatNetwork``; a
/// Matrix network will be one more case.
public enum NetworkSettings: Sendable, Hashable {
    case irc(IRCNetworkSettings)

    /// The IRC settings, when this is an IRC network.
    public var irc: IRCNetworkSettings? {
        switch self {
        case .irc(let irc): irc
        }
    }

    /// The kinds a network entry may name.
    static let kinds = ["irc"]

    /// The name used everywhere else (agents' `accounts`, the audit trail, logs).
    public var name: String {
        switch self {
        case .irc(let irc): irc.name
        }
    }

    /// The agents' channel or room, if any.
    public var agentsChannel: String? {
        switch self {
        case .irc(let irc): irc.agentsChannel
        }
    }

    /// Rooms where customers may address the bot.
    public var supportChannels: [String] {
        switch self {
        case .irc(let irc): irc.supportChannels
        }
    }

    /// `de` or `en`: the language of the network's rooms.
    public var language: String {
        switch self {
        case .irc(let irc): irc.language
        }
    }

    /// Whether agents are recognised by account (else by mask).
    public var identifyAgentsByAccount: Bool {
        switch self {
        case .irc(let irc): irc.identifyAgentsByAccount
        }
    }

    /// One line for `check-config`.
    public var summary: String {
        switch self {
        case .irc(let n):
            "\(n.name) (IRC \(n.host):\(n.port)\(n.tls == nil ? "" : ", TLS")"
                + "\(n.sasl.map { ", SASL \($0.mechanism.rawValue)" } ?? "")"
                + ", agents by \(n.identifyAgentsByAccount ? "account" : "mask"))"
        }
    }

    init(_ entry: NetworkEntry, document: ConfigDocument, path: ConfigPath, base: URL) throws(ConfigError) {
        switch entry.kind ?? "irc" {
        case "irc":
            self = .irc(try IRCNetworkSettings(entry, document: document, path: path, base: base))
        case let kind:
            throw ConfigError([document.issue(
                "unknown network kind \"\(kind)\" (kinds: \(Self.kinds.joined(separator: ", ")))",
                at: path.appending("kind"))])
        }
    }
}
