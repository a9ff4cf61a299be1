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
    /// The nickname (may be empty, e.g. `!user@host`).
    public var nick: String
    /// The username (ident); nil when there was no `!`.
    public var user: String?
    /// The hostname; nil when there was no `@`.
    public var host: String?

    /// A hostmask from its parts (nil: the separator is absent).
    public init(nick: String, user: String? = nil, host: String? = nil) {
        self.nick = nick
        self.user = user
        self.host = host
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
        let base = p.baseAddress!
        let nickEnd = bang >= 0 ? bang : (at >= 0 ? at : p.count)
        nick = IRCText.string(validated: UnsafeBufferPointer(start: base, count: nickEnd), ascii: ascii)
        if bang >= 0 {
            let userEnd = at >= 0 ? at : p.count
            user = IRCText.string(validated: UnsafeBufferPointer(start: base + bang + 1, count: userEnd - bang - 1),
                                  ascii: ascii)
        } else {
            user = nil
        }
        if at >= 0 {
            host = IRCText.string(validated: UnsafeBufferPointer(start: base + at + 1, count: p.count - at - 1),
                                  ascii: ascii)
        } else {
            host = nil
        }
    }

    /// `nick!user@host` exactly as parsed.
    public var description: String {
        var text = nick
        if let user { text += "!" + user }
        if let host { text += "@" + host }
        return text
    }
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
