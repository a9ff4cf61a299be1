import Config
import Core
import Foundation

/// One configured chat network, by kind: the entry's `kind` field in
/// `switchboard.json5` (`irc` when absent, so older files keep working).
/// ``NetworkFactory`` turns each into a running ``Bots/ChatNetwork``.
public enum NetworkSettings: Sendable, Hashable {
    case irc(IRCNetworkSettings)
    case matrix(MatrixNetworkSettings)

    /// The IRC settings, when this is an IRC network.
    public var irc: IRCNetworkSettings? {
        if case .irc(let irc) = self { irc } else { nil }
    }

    /// The Matrix settings, when this is a Matrix network.
    public var matrix: MatrixNetworkSettings? {
        if case .matrix(let matrix) = self { matrix } else { nil }
    }

    /// The kinds a network entry may name.
    static let kinds = ["irc", "matrix"]

    /// The name used everywhere else (agents' `accounts`, the audit trail, logs).
    public var name: String {
        switch self {
        case .irc(let irc): irc.name
        case .matrix(let m): m.name
        }
    }

    /// The agents' channel or room, if any.
    public var agentsChannel: String? {
        switch self {
        case .irc(let irc): irc.agentsChannel
        case .matrix(let m): m.agentsRoom
        }
    }

    /// Rooms where customers may address the bot.
    public var supportChannels: [String] {
        switch self {
        case .irc(let irc): irc.supportChannels
        case .matrix(let m): m.supportRooms
        }
    }

    /// `de` or `en`: the language of the network's rooms.
    public var language: String {
        switch self {
        case .irc(let irc): irc.language
        case .matrix(let m): m.language
        }
    }

    /// Whether agents are recognised by account (else by mask).
    public var identifyAgentsByAccount: Bool {
        switch self {
        case .irc(let irc): irc.identifyAgentsByAccount
        case .matrix: true
        }
    }

    /// One line for `check-config`.
    public var summary: String {
        switch self {
        case .irc(let n):
            "\(n.name) (IRC \(n.host):\(n.port)\(n.tls == nil ? "" : ", TLS")"
                + "\(n.sasl.map { ", SASL \($0.mechanism.rawValue)" } ?? "")"
                + ", agents by \(n.identifyAgentsByAccount ? "account" : "mask"))"
        case .matrix(let m):
            "\(m.name) (Matrix \(m.homeserver.absoluteString) as \(m.userID), \(m.rooms.count) room(s), "
                + "agents by user id)"
        }
    }

    init(_ entry: NetworkEntry, document: ConfigDocument, path: ConfigPath, base: URL) throws(ConfigError) {
        switch entry.kind ?? "irc" {
        case "irc":
            self = .irc(try IRCNetworkSettings(entry, document: document, path: path, base: base))
        case "matrix":
            self = .matrix(try MatrixNetworkSettings(entry, document: document, path: path, base: base))
        case let kind:
            throw ConfigError([document.issue(
                "unknown network kind \"\(kind)\" (kinds: \(Self.kinds.joined(separator: ", ")))",
                at: path.appending("kind"))])
        }
    }
}
