/// How a network compares nicknames and channel names, from ISUPPORT
/// `CASEMAPPING` (modern.ircdocs.horse "CASEMAPPING Parameter"; RFC 2812 §2.2).
///
/// - ``ascii``: `A`–`Z` fold to `a`–`z`.
/// - ``rfc1459``: additionally `[` `]` `\` `~` fold to `{` `}` `|` `^`
///   (the default when a server does not say).
/// - ``strictRFC1459``: additionally `[` `]` `\` only (not `~`).
///
/// Other bytes, including all non-ASCII text, are left as they are.
public enum IRCCaseMapping: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ascii
    case rfc1459
    case strictRFC1459 = "strict-rfc1459"

    /// The mapping for an ISUPPORT `CASEMAPPING` value; nil when unknown
    /// (e.g. `rfc7613`/`precis`, which fold Unicode — see ``ISupport/caseMapping``).
    public init?(isupportValue value: String) {
        switch value.lowercased() {
        case "ascii": self = .ascii
        case "rfc1459": self = .rfc1459
        case "strict-rfc1459": self = .strictRFC1459
        default: return nil
        }
    }

    public var description: String { rawValue }

    /// The folded form of one byte.
    @inline(__always)
    public func fold(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x41...0x5A: return byte | 0x20
        case 0x5B, 0x5C, 0x5D: return self == .ascii ? byte : byte + 0x20  // [ \ ] → { | }
        case 0x7E: return self == .rfc1459 ? 0x5E : byte  // ~ → ^
        default: return byte
        }
    }

    /// `text` folded to lower case under this mapping: two names are the
    /// same on the network exactly when their folded forms are equal.
    public func lowercased(_ text: String) -> String {
        guard text.utf8.contains(where: { fold($0) != $0 }) else { return text }
        return String(decoding: text.utf8.map(fold), as: UTF8.self)
    }

    /// Whether two names are the same under this mapping.
    public func equals(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { fold($0) == fold($1) }
    }
}
