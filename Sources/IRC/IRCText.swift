/// Text on the wire: UTF-8 validation, the Latin-1 fallback for received
/// lines, and making user text safe to send.
///
/// Outgoing user text is *plain text*: it can never end a line or start a
/// CTCP request. ``sanitizedLine(_:)`` replaces CR, LF and NUL with a space
/// (RFC 1459 §2.3.1 forbids them inside a message) and removes `\x01`
/// (the CTCP delimiter, so a customer cannot make the bot send a CTCP
/// request to an agent). CTCP messages are built with ``CTCP``.
public enum IRCText {
    /// `text` with CR, LF and NUL replaced by a space and `\x01` removed.
    /// Returns the same string when there is nothing to change.
    public static func sanitizedLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 || $0 == 0x01 }) else {
            return text
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x0D, 0x0A, 0x00: bytes.append(0x20)
            case 0x01: continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the bytes are well-formed UTF-8 (Unicode §3.9, table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF).
    static func isValidUTF8(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = p.count
        guard n > 0 else { return true }
        let base = UnsafeRawPointer(p.baseAddress!)
        var i = 0
        while i < n {
            if i + 8 <= n {
                let high = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & Bytes.highBits
                if high == 0 {
                    i += 8
                    continue
                }
                i += high.trailingZeroBitCount >> 3
            } else if p[i] < 0x80 {
                i += 1
                continue
            }
            let length = utf8SequenceLength(p, at: i)
            if length == 0 { return false }
            i += length
        }
        return true
    }

    /// The length of the well-formed UTF-8 sequence starting with the
    /// non-ASCII byte at `i`, or 0 when it is ill-formed (Unicode §3.9 table 3-7).
    @inline(__always)
    static func utf8SequenceLength(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let n = p.count
        let b = p[i]
        if b < 0xC2 { return 0 }
        if b < 0xE0 {
            return i + 1 < n && p[i + 1] & 0xC0 == 0x80 ? 2 : 0
        }
        if b < 0xF0 {
            guard i + 2 < n else { return 0 }
            let b1 = p[i + 1]
            guard b1 & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80 else { return 0 }
            if b == 0xE0 && b1 < 0xA0 { return 0 }
            if b == 0xED && b1 >= 0xA0 { return 0 }
            return 3
        }
        if b < 0xF5 {
            guard i + 3 < n else { return 0 }
            let b1 = p[i + 1]
            guard b1 & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else { return 0 }
            if b == 0xF0 && b1 < 0x90 { return 0 }
            if b == 0xF4 && b1 >= 0x90 { return 0 }
            return 4
        }
        return 0
    }

    /// A String from bytes already known to be valid UTF-8, without
    /// validating them again (the stdlib's `String(decoding:)` would, at
    /// about 1 ns per non-ASCII byte). `ascii`: the bytes are known ASCII.
    @inline(__always)
    static func string(validated p: UnsafeBufferPointer<UInt8>, ascii: Bool) -> String {
        if #available(macOS 26.0, *) {
            return String(copying: unsafe UTF8Span(unchecked: p.span, isKnownASCII: ascii))
        } else {
            return String(decoding: p, as: UTF8.self)
        }
    }

    /// Latin-1 bytes re-encoded as UTF-8 (each byte is the code point of the same value).
    static func latin1ToUTF8(_ p: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(p.count * 2)
        for byte in p {
            if byte < 0x80 {
                out.append(byte)
            } else {
                out.append(0xC0 | byte >> 6)
                out.append(0x80 | byte & 0x3F)
            }
        }
        return out
    }

    /// A received line as text: UTF-8 when valid, Latin-1 otherwise.
    static func decodeLine(_ p: UnsafeBufferPointer<UInt8>) -> String {
        if isValidUTF8(p) { return String(decoding: p, as: UTF8.self) }
        let utf8 = latin1ToUTF8(p)
        return String(decoding: utf8, as: UTF8.self)
    }
}

/// Word-at-a-time byte tests ("SWAR"): eight bytes in a UInt64.
enum Bytes {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func broadcast(_ byte: UInt8) -> UInt64 { ones &* UInt64(byte) }

    /// High bit set in each zero byte of `x`; bytes above the lowest zero
    /// byte may be flagged falsely (borrow), so only the lowest flag is exact.
    @inline(__always)
    static func zeroMask(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highBits }

    @inline(__always)
    static func hasZero(_ x: UInt64) -> Bool { zeroMask(x) != 0 }

    /// Non-zero when some byte of `x` is below `limit` (≤ 0x80); may also
    /// flag a byte at or above `limit` next to one below it, never misses.
    @inline(__always)
    static func lessThanMask(_ x: UInt64, _ limit: UInt8) -> UInt64 {
        (x &- broadcast(limit)) & ~x & highBits
    }
}
