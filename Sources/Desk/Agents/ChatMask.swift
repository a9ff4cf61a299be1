/// Case folding and `nick!user@host` wildcard masks, as IRC servers compare
/// them. Desk does not import the IRC target (STYLE.md: the domain knows no
/// chat protocol), so the two small rules it needs to decide who an agent
/// is live here.
public enum ChatCaseFolding {
    /// RFC 1459 §2.2: "the characters {}| are considered to be the lower
    /// case equivalents of the characters []\ respectively" — and `~` of `^`
    /// (the `rfc1459` CASEMAPPING most servers announce). Other bytes, and
    /// all non-ASCII text, are left as they are.
    public static func rfc1459(_ text: String) -> String {
        String(decoding: text.utf8.map(foldByte), as: UTF8.self)
    }

    @inline(__always)
    static func foldByte(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
        case UInt8(ascii: "["): UInt8(ascii: "{")
        case UInt8(ascii: "]"): UInt8(ascii: "}")
        case UInt8(ascii: "\\"): UInt8(ascii: "|")
        case UInt8(ascii: "^"): UInt8(ascii: "~")
        default: byte
        }
    }
}

/// A `nick!user@host` mask with the wildcards `*` (any run of characters,
/// also none) and `?` (exactly one character), RFC 2812 §2.5 ("mask"),
/// compared under RFC 1459 case folding. There is no escape character:
/// `*` and `?` cannot occur in nicks, idents or host names.
public struct ChatMask: Sendable, Hashable, CustomStringConvertible {
    /// The mask as configured.
    public let pattern: String
    private let folded: [UInt8]

    /// Why a mask was refused.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notNickUserHost(String)
        case hostMatchesAnything(String)
        case invalidCharacter(String)

        public var description: String {
            switch self {
            case .notNickUserHost(let mask):
                "\"\(mask)\" is not a nick!user@host mask (e.g. \"anna!*@staff.nordlicht.example\")"
            case .hostMatchesAnything(let mask):
                "\"\(mask)\" matches any host: anyone could use that nick and be taken for an agent; "
                    + "name the host (or a host pattern like *.nordlicht.example)"
            case .invalidCharacter(let mask):
                "\"\(mask)\" contains a space or control character"
            }
        }
    }

    /// A mask that must name a host: `*!*@*` or `anna!*@*` would let anyone
    /// who takes the nick pass as the agent, so they are refused.
    public init(_ pattern: String) throws(Problem) {
        guard !pattern.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw .invalidCharacter(pattern)
        }
        guard let bang = pattern.firstIndex(of: "!"), let at = pattern.lastIndex(of: "@"), bang < at,
              pattern.index(after: bang) < at, pattern.startIndex < bang, pattern.index(after: at) < pattern.endIndex
        else { throw .notNickUserHost(pattern) }
        let host = pattern[pattern.index(after: at)...]
        if host.allSatisfy({ $0 == "*" || $0 == "?" || $0 == "." }) { throw .hostMatchesAnything(pattern) }
        self.pattern = pattern
        folded = pattern.utf8.map(ChatCaseFolding.foldByte)
    }

    /// Whether `nick!user@host` matches.
    public func matches(nick: String, user: String, host: String) -> Bool {
        Self.glob(folded, "\(nick)!\(user)@\(host)".utf8.map(ChatCaseFolding.foldByte))
    }

    /// Glob match of `*` and `?` over bytes (already case-folded), with the
    /// usual single-backtrack algorithm: linear in practice, no recursion.
    /// `?` matches one byte; masks compare ASCII nicks and hosts, where a
    /// byte is a character.
    public static func glob(_ pattern: [UInt8], _ subject: [UInt8]) -> Bool {
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < subject.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                starP = p
                starS = s
                p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == subject[s] {
                p += 1
                s += 1
            } else if starP >= 0 {
                p = starP + 1
                starS += 1
                s = starS
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    public var description: String { pattern }
}
