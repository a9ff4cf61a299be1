/// The command (verb) of an IRC message.
///
/// The commands Switchboard acts on are typed cases; a three-digit reply is
/// ``numeric(_:)``; everything else is kept in ``other(_:)`` with the spelling
/// it arrived in, so an unknown line still re-serialises exactly.
///
/// Verbs are case-insensitive on the wire (RFC 1459 §2.3.1): parsing `privmsg`
/// gives ``privmsg``, which serialises as `PRIVMSG`. Construct unknown verbs
/// with ``init(_:)`` rather than ``other(_:)`` so that a known verb is never
/// held as `.other` (which would not compare equal to its typed case).
public enum IRCCommand: Sendable, Hashable, CustomStringConvertible {
    case privmsg
    case notice
    case join
    case part
    case quit
    case nick
    case ping
    case pong
    case cap
    case authenticate
    case account
    case kick
    case mode
    case topic
    case user
    case who
    case pass
    case error
    case away
    case invite
    case tagmsg
    case batch
    case chghost
    case setname
    /// A three-digit server reply (RFC 2812 §5).
    case numeric(IRCNumeric)
    /// Any other verb, spelled as it arrived or was given.
    case other(String)

    /// The command for a verb: a typed case when known (case-insensitively),
    /// ``numeric(_:)`` for exactly three ASCII digits, otherwise ``other(_:)``.
    /// The verb is not validated here; the serializer refuses an invalid one.
    public init(_ verb: String) {
        var verb = verb
        self = verb.withUTF8 { IRCCommand(verbBytes: $0) } ?? .other(verb)
    }

    /// Parses a verb from bytes; nil when it is not a known command or a
    /// numeric (the caller then builds ``other(_:)``). `eightReadable`: eight
    /// bytes from the verb's start may be read (the line goes on after it),
    /// so a verb of up to eight bytes is loaded and upper-cased as one word.
    init?(verbBytes p: UnsafeBufferPointer<UInt8>, eightReadable: Bool = false) {
        let n = p.count
        if n == 3, p[0] &- 0x30 < 10, p[1] &- 0x30 < 10, p[2] &- 0x30 < 10 {
            let code = UInt16(p[0] &- 0x30) * 100 + UInt16(p[1] &- 0x30) * 10 + UInt16(p[2] &- 0x30)
            self = .numeric(IRCNumeric(validated: code))
            return
        }
        guard n >= 3, n <= 8 else {
            if n == 12, Self.equalsIgnoringCase(p, "AUTHENTICATE") { self = .authenticate; return }
            return nil
        }
        // Pack up to eight bytes, upper-cased for ASCII letters, big-endian into one word.
        var word: UInt64 = 0
        if eightReadable {
            var x = UnsafeRawPointer(p.baseAddress!).loadUnaligned(as: UInt64.self).littleEndian
            if n < 8 { x &= (1 &<< (8 &* UInt64(n))) &- 1 }
            // Per byte, without carries between bytes: 0x61...0x7A loses its 0x20 bit.
            let low7 = x & ~Bytes.highBits
            let atLeastA = low7 &+ Bytes.broadcast(0x80 - 0x61)
            let aboveZ = low7 &+ Bytes.broadcast(0x80 - 0x7B)
            x ^= (atLeastA & ~aboveZ & ~x & Bytes.highBits) >> 2
            word = x.byteSwapped >> (64 &- 8 &* UInt64(n))
        } else {
            for i in 0..<n {
                var byte = p[i]
                if byte &- 0x61 < 26 { byte &-= 0x20 }
                word = word << 8 | UInt64(byte)
            }
        }
        switch word {
        case Packed.privmsg: self = .privmsg
        case Packed.notice: self = .notice
        case Packed.join: self = .join
        case Packed.part: self = .part
        case Packed.quit: self = .quit
        case Packed.nick: self = .nick
        case Packed.ping: self = .ping
        case Packed.pong: self = .pong
        case Packed.cap: self = .cap
        case Packed.account: self = .account
        case Packed.kick: self = .kick
        case Packed.mode: self = .mode
        case Packed.topic: self = .topic
        case Packed.user: self = .user
        case Packed.who: self = .who
        case Packed.pass: self = .pass
        case Packed.error: self = .error
        case Packed.away: self = .away
        case Packed.invite: self = .invite
        case Packed.tagmsg: self = .tagmsg
        case Packed.batch: self = .batch
        case Packed.chghost: self = .chghost
        case Packed.setname: self = .setname
        default: return nil
        }
    }

    /// The verb as it goes on the wire (`PRIVMSG`, `001`, or the ``other(_:)`` text).
    public var verb: String {
        switch self {
        case .privmsg: "PRIVMSG"
        case .notice: "NOTICE"
        case .join: "JOIN"
        case .part: "PART"
        case .quit: "QUIT"
        case .nick: "NICK"
        case .ping: "PING"
        case .pong: "PONG"
        case .cap: "CAP"
        case .authenticate: "AUTHENTICATE"
        case .account: "ACCOUNT"
        case .kick: "KICK"
        case .mode: "MODE"
        case .topic: "TOPIC"
        case .user: "USER"
        case .who: "WHO"
        case .pass: "PASS"
        case .error: "ERROR"
        case .away: "AWAY"
        case .invite: "INVITE"
        case .tagmsg: "TAGMSG"
        case .batch: "BATCH"
        case .chghost: "CHGHOST"
        case .setname: "SETNAME"
        case .numeric(let numeric): numeric.code
        case .other(let verb): verb
        }
    }

    /// The reply code when this is a numeric.
    public var numeric: IRCNumeric? {
        if case .numeric(let numeric) = self { return numeric }
        return nil
    }

    public var description: String { verb }

    /// Whether `verb` is a valid verb on the wire: one or more ASCII letters,
    /// or exactly three ASCII digits (RFC 1459 §2.3.1 `<command>`).
    static func isValidVerb(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        if p.isEmpty { return false }
        if p.count == 3, p.allSatisfy({ $0 &- 0x30 < 10 }) { return true }
        return p.allSatisfy { ($0 | 0x20) &- 0x61 < 26 }
    }

    static func equalsIgnoringCase(_ p: UnsafeBufferPointer<UInt8>, _ upper: StaticString) -> Bool {
        guard p.count == upper.utf8CodeUnitCount else { return false }
        let q = upper.utf8Start
        for i in 0..<p.count {
            var byte = p[i]
            if byte &- 0x61 < 26 { byte &-= 0x20 }
            if byte != q[i] { return false }
        }
        return true
    }

    /// Known verbs packed big-endian into a word, as `init(verbBytes:)` packs
    /// them (literals, so the switch compiles to plain integer compares).
    enum Packed {
        static let privmsg: UInt64 = 0x505249564D5347  // PRIVMSG
        static let notice: UInt64 = 0x4E4F54494345  // NOTICE
        static let join: UInt64 = 0x4A4F494E  // JOIN
        static let part: UInt64 = 0x50415254  // PART
        static let quit: UInt64 = 0x51554954  // QUIT
        static let nick: UInt64 = 0x4E49434B  // NICK
        static let ping: UInt64 = 0x50494E47  // PING
        static let pong: UInt64 = 0x504F4E47  // PONG
        static let cap: UInt64 = 0x434150  // CAP
        static let account: UInt64 = 0x4143434F554E54  // ACCOUNT
        static let kick: UInt64 = 0x4B49434B  // KICK
        static let mode: UInt64 = 0x4D4F4445  // MODE
        static let topic: UInt64 = 0x544F504943  // TOPIC
        static let user: UInt64 = 0x55534552  // USER
        static let who: UInt64 = 0x57484F  // WHO
        static let pass: UInt64 = 0x50415353  // PASS
        static let error: UInt64 = 0x4552524F52  // ERROR
        static let away: UInt64 = 0x41574159  // AWAY
        static let invite: UInt64 = 0x494E56495445  // INVITE
        static let tagmsg: UInt64 = 0x5441474D5347  // TAGMSG
        static let batch: UInt64 = 0x4241544348  // BATCH
        static let chghost: UInt64 = 0x434847484F5354  // CHGHOST
        static let setname: UInt64 = 0x5345544E414D45  // SETNAME
    }
}
