/// A user's address on an IRC network: `nick!user@host` (RFC 2812 §2.3.1
/// `prefix`; modern.ircdocs.horse "Source").
///
/// Parsing never fails and keeps what was there, following the
/// irc-parser-tests `userhost-split` vectors: `coolguy@127.0.0.1` has no
/// user, `coolguy!ag` no host. `user`/`host` are nil when their separator is
/// absent and `""` when it is present but empty, so ``description`` gives
/// back the exact text. Server-supplied hosts may contain control characters
/// (vhosts with colour codes); they are kept as they are.
///
/// A hostmask identifies a connection, not a person: authorise with
/// ``IRCMask`` on networks without accounts, and prefer the account.
public struct IRCHostmask: Sendable, Hashable, CustomStringConvertible {
    /// The mask as one text, `nick!user@host` as received or as built from
    /// its parts: a parsed source costs one string, not three; the parts
    /// are cut out of it when read.
    private var text: String
    /// UTF-8 offsets of the `!` and `@` that separate the parts in `text`;
    /// -1 when that separator (and so `user` or `host`) is absent. Together
    /// with `text` they determine nick, user and host, so the synthesised
    /// equality and hash are those of the three parts.
    private var bang: Int
    private var at: Int

    /// The nickname (may be empty, e.g. `!user@host`).
    public var nick: String {
        get { part(0, bang >= 0 ? bang : at >= 0 ? at : text.utf8.count) }
        set { self = IRCHostmask(nick: newValue, user: user, host: host) }
    }

    /// The username (ident); nil when there was no `!`.
    public var user: String? {
        get { bang >= 0 ? part(bang + 1, at >= 0 ? at : text.utf8.count) : nil }
        set { self = IRCHostmask(nick: nick, user: newValue, host: host) }
    }

    /// The hostname; nil when there was no `@`.
    public var host: String? {
        get { at >= 0 ? part(at + 1, text.utf8.count) : nil }
        set { self = IRCHostmask(nick: nick, user: user, host: newValue) }
    }

    /// A hostmask from its parts (nil: the separator is absent).
    public init(nick: String, user: String? = nil, host: String? = nil) {
        var text = nick
        var bang = -1
        var at = -1
        if let user {
            bang = text.utf8.count
            text += "!" + user
        }
        if let host {
            at = text.utf8.count
            text += "@" + host
        }
        self.text = text
        self.bang = bang
        self.at = at
    }

    /// Splits `nick!user@host` at the first `!` and the first `@` after it
    /// (or the first `@` when there is no `!`).
    public init(parsing text: String) {
        var text = text
        self = text.withUTF8 { IRCHostmask(validated: $0, ascii: false) }
    }

    /// From bytes known to be valid UTF-8 (and ASCII when `ascii`).
    init(validated p: UnsafeBufferPointer<UInt8>, ascii: Bool) {
        let (bang, at) = Self.separators(p)
        self.init(validated: p, bang: bang, at: at, ascii: ascii)
    }

    /// The offsets of the first `!` and of the first `@` (after the `!`, if
    /// any); -1 where there is none.
    @inline(__always)
    static func separators(_ p: UnsafeBufferPointer<UInt8>) -> (bang: Int, at: Int) {
        var bang = -1
        for i in 0..<p.count {
            let byte = p[i]
            if byte == 0x21, bang < 0 {
                bang = i
            } else if byte == 0x40 {
                return (bang, i)
            }
        }
        return (bang, -1)
    }

    /// Splits at the given separator offsets (-1: absent).
    init(validated p: UnsafeBufferPointer<UInt8>, bang: Int, at: Int, ascii: Bool) {
        text = IRCText.string(validated: p, ascii: ascii)
        self.bang = bang
        self.at = at
    }

    /// The bytes `start..<end` of `text` as a string. The cuts are at ASCII
    /// separators, so each part is valid UTF-8 as well.
    private func part(_ start: Int, _ end: Int) -> String {
        IRCTags.withBytes(text) { p in
            IRCText.string(validated: UnsafeBufferPointer(rebasing: p[start..<end]), ascii: false)
        }
    }

    /// `nick!user@host` exactly as parsed.
    public var description: String { text }
}

extension IRCHostmask {
    /// Whether `name` is a valid DNS hostname for a server or client host
    /// (RFC 1123 §2.1, RFC 952; irc-parser-tests `validate-hostname`): at
    /// least two labels; each 1–63 letters, digits or `-`, not starting or
    /// ending with `-`; at most 253 bytes. (Received hosts are never
    /// validated — vhosts may contain anything; this is for configuration.)
    public static func isValidHostname(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard (1...63).contains(label.count), label.first != 0x2D, label.last != 0x2D else { return false }
            for byte in label {
                switch byte {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D: continue
                default: return false
                }
            }
        }
        return true
    }
}
