/// Where a message comes from: the `:prefix` of a line (RFC 1459 §2.3.1;
/// modern.ircdocs.horse "Source").
///
/// A source with `!` or `@` is a user. A bare name is a server when it
/// contains a dot (nicknames cannot, see ``IRCNickName``) and a user known
/// only by nick otherwise (`:coolguy PRIVMSG …`).
public enum IRCSource: Sendable, Hashable, CustomStringConvertible {
    /// A server, by name (`irc.example.net`).
    case server(String)
    /// A user (`nick!user@host`, or just `nick`).
    case user(IRCHostmask)

    /// Classifies a source text as described above. Never fails.
    public init(parsing text: String) {
        var text = text
        self = text.withUTF8 { IRCSource(validated: $0, ascii: false) }
    }

    /// From bytes known to be valid UTF-8 (and ASCII when `ascii`).
    init(validated p: UnsafeBufferPointer<UInt8>, ascii: Bool) {
        let (bang, at) = IRCHostmask.separators(p)
        if bang >= 0 || at >= 0 {
            self = .user(IRCHostmask(validated: p, bang: bang, at: at, ascii: ascii))
        } else if p.contains(0x2E) {
            self = .server(IRCText.string(validated: p, ascii: ascii))
        } else {
            self = .user(IRCHostmask(nick: IRCText.string(validated: p, ascii: ascii)))
        }
    }

    /// The sender's nick; nil for a server.
    public var nick: String? {
        if case .user(let mask) = self { return mask.nick }
        return nil
    }

    /// The sender's hostmask; nil for a server.
    public var hostmask: IRCHostmask? {
        if case .user(let mask) = self { return mask }
        return nil
    }

    /// Whether the message comes from a server.
    public var isServer: Bool {
        if case .server = self { return true }
        return false
    }

    /// The source as it appears after the `:`.
    public var description: String {
        switch self {
        case .server(let name): name
        case .user(let mask): mask.description
        }
    }
}
