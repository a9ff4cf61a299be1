#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for i in 0..<count where a[i] != b[i] { return false }
    return true
}

/// The IRCv3 message tags of one message (IRCv3 "Message Tags",
/// https://ircv3.net/specs/extensions/message-tags).
///
/// Tags are held as their escaped wire text (`account=alice;time=…`), so a
/// received tag section re-serialises byte for byte — order, duplicates and
/// escapes included — and parsing costs one string per message. Iteration
/// and lookup decode on the fly; lookup by key returns the *last* value of
/// that key ("Parsers SHOULD disregard all but the final occurrence").
///
/// A tag without a value (`draft/foo`) and one with an empty value
/// (`draft/foo=`) are the same tag ("Implementations MUST interpret empty tag
/// values … as equivalent to missing tag values"): both read as `""`, and
/// tags added through this API with an empty value are written as `draft/foo`.
/// Two tag sets are equal when each key has the same effective value.
public struct IRCTags: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One tag: a key (with its optional `+` client prefix and `vendor/`) and an unescaped value.
    public struct Tag: Sendable, Hashable {
        /// The key, e.g. `time`, `+draft/reply`, `example.com/x`.
        public var key: String
        /// The unescaped value; `""` for a tag without value.
        public var value: String

        public init(key: String, value: String = "") {
            self.key = key
            self.value = value
        }
    }

    /// The escaped wire text, without the leading `@` and trailing space.
    public private(set) var wireText: String

    /// The first key given through this API that is not a valid tag key
    /// (e.g. `a;b`, which would read back as two tags). Keys cannot be
    /// escaped, so the serializer refuses such tags rather than send them.
    var invalidKey: String?

    /// No tags.
    public init() { wireText = "" }

    /// Tags in the given order; values are escaped here.
    public init(_ tags: some Sequence<Tag>) {
        var bytes: [UInt8] = []
        for tag in tags {
            if invalidKey == nil, !Self.isValidKey(tag.key) { invalidKey = tag.key }
            Self.appendTag(key: tag.key, value: tag.value, to: &bytes)
        }
        wireText = String(decoding: bytes, as: UTF8.self)
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { Tag(key: $0.0, value: $0.1) })
    }

    /// Tags from received wire text (already known to be UTF-8 without space, CR, LF or NUL).
    init(wireText: String) { self.wireText = wireText }

    /// Whether there is no tag.
    public var isEmpty: Bool {
        Self.withBytes(wireText) { p in
            var offset = 0
            while offset < p.count {
                let segment = Self.segment(p, at: offset)
                if segment.keyEnd > segment.start { return false }
                offset = segment.next
            }
            return true
        }
    }

    /// The number of tags, duplicates included.
    public var count: Int { reduce(0) { n, _ in n + 1 } }

    public func makeIterator() -> Iterator { Iterator(tags: self) }

    /// Decodes the tags one by one. Segments with an empty key are skipped.
    public struct Iterator: IteratorProtocol, Sendable {
        let wireText: String
        var offset = 0

        init(tags: IRCTags) { wireText = tags.wireText }

        public mutating func next() -> Tag? {
            var tag: Tag?
            var offset = self.offset
            IRCTags.withBytes(wireText) { p in
                while offset < p.count, tag == nil {
                    let segment = IRCTags.segment(p, at: offset)
                    offset = segment.next
                    if segment.keyEnd > segment.start {
                        tag = Tag(key: IRCTags.string(p, segment.start, segment.keyEnd),
                                  value: IRCTags.value(p, segment))
                    }
                }
            }
            self.offset = offset
            return tag
        }
    }

    /// The value of the last tag with this key; nil when absent. Setting a
    /// value replaces the first occurrence and removes later duplicates (or
    /// appends); setting nil removes every occurrence.
    public subscript(key: String) -> String? {
        get {
            var key = key
            return key.withUTF8 { k in
                Self.withBytes(wireText) { p -> String? in
                    var found: Segment?
                    var offset = 0
                    while offset < p.count {
                        let segment = Self.segment(p, at: offset)
                        offset = segment.next
                        if segment.keyEnd - segment.start == k.count,
                           k.isEmpty || memoryEqual(p.baseAddress! + segment.start, k.baseAddress!, k.count)
                        {
                            found = segment
                        }
                    }
                    return found.map { Self.value(p, $0) }
                }
            }
        }
        set {
            var tags = Array(self)
            if let first = tags.firstIndex(where: { $0.key == key }) {
                if let newValue {
                    tags[first].value = newValue
                    tags = tags.enumerated().filter { $0.offset <= first || $0.element.key != key }.map(\.element)
                } else {
                    tags.removeAll { $0.key == key }
                }
            } else if let newValue {
                tags.append(Tag(key: key, value: newValue))
            }
            self = IRCTags(tags)
        }
    }

    /// Appends a tag (even if the key is already present).
    public mutating func append(key: String, value: String = "") {
        if invalidKey == nil, !Self.isValidKey(key) { invalidKey = key }
        var bytes = Array(wireText.utf8)
        Self.appendTag(key: key, value: value, to: &bytes)
        wireText = String(decoding: bytes, as: UTF8.self)
    }

    /// The `account` tag: the sender's services account (IRCv3 account-tag).
    public var account: String? { self["account"] }

    /// The `msgid` tag (IRCv3 message-ids).
    public var messageID: String? { self["msgid"] }

    /// The `batch` tag: the reference tag of the batch this message belongs to (IRCv3 batch).
    public var batch: String? { self["batch"] }

    /// The `label` tag (IRCv3 labeled-response).
    public var label: String? { self["label"] }

    /// The `time` tag parsed as a date (IRCv3 server-time), nil when absent or
    /// not a valid timestamp. See ``IRCServerTime``.
    public var serverTime: Date? { self["time"].flatMap(IRCServerTime.parse) }

    /// The escaped wire text (``wireText``).
    public var description: String { wireText }

    /// Each key's effective (last) value: what the tags mean.
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        for tag in self { result[tag.key] = tag.value }
        return result
    }

    /// Equal when they mean the same: the same keys with the same effective
    /// values. Order and overridden duplicates do not matter (the spec gives
    /// them no meaning); ``wireText`` keeps them for exact re-serialisation.
    public static func == (lhs: IRCTags, rhs: IRCTags) -> Bool {
        lhs.invalidKey == rhs.invalidKey && (lhs.wireText == rhs.wireText || lhs.dictionary == rhs.dictionary)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dictionary)
    }

    // MARK: Wire text

    struct Segment {
        var start: Int
        var keyEnd: Int
        /// Index of the value's first byte, or -1 without `=`.
        var valueStart: Int
        var end: Int
        var escaped: Bool
        var next: Int { end + 1 }
    }

    /// The `key[=value]` segment starting at `offset`, up to the next `;`.
    @inline(__always)
    static func segment(_ p: UnsafeBufferPointer<UInt8>, at offset: Int) -> Segment {
        var end = offset
        var equals = -1
        var escaped = false
        while end < p.count {
            let byte = p[end]
            if byte == 0x3B { break }
            if byte == 0x3D, equals < 0 { equals = end }
            if byte == 0x5C { escaped = true }
            end += 1
        }
        return Segment(start: offset, keyEnd: equals >= 0 ? equals : end, valueStart: equals >= 0 ? equals + 1 : -1,
                       end: end, escaped: escaped)
    }

    static func value(_ p: UnsafeBufferPointer<UInt8>, _ segment: Segment) -> String {
        guard segment.valueStart >= 0, segment.end > segment.valueStart else { return "" }
        let raw = UnsafeBufferPointer(start: p.baseAddress! + segment.valueStart, count: segment.end - segment.valueStart)
        return segment.escaped ? unescape(raw) : String(decoding: raw, as: UTF8.self)
    }

    static func string(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p.baseAddress! + start, count: end - start), as: UTF8.self)
    }

    static func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = text
        return copy.withUTF8(body)
    }

    static func appendTag(key: String, value: String, to bytes: inout [UInt8]) {
        if !bytes.isEmpty { bytes.append(0x3B) }
        bytes.append(contentsOf: key.utf8)
        if !value.isEmpty {
            bytes.append(0x3D)
            appendEscaped(value, to: &bytes)
        }
    }

    // MARK: Escaping (message-tags "Escaping values")

    /// Appends `value` escaped: `;` → `\:`, space → `\s`, `\` → `\\`,
    /// CR → `\r`, LF → `\n`. NUL has no escape; the serializer refuses it.
    static func appendEscaped(_ value: String, to bytes: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case 0x3B: bytes.append(0x5C); bytes.append(0x3A)
            case 0x20: bytes.append(0x5C); bytes.append(0x73)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            default: bytes.append(byte)
            }
        }
    }
    /// Unescapes a raw tag value: the five escapes above; a backslash before
    /// any other character is dropped (`\b` → `b`); a trailing lone
    /// backslash is dropped.
    static func unescape(_ p: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: p.count) { out in
            var o = 0
            var i = 0
            while i < p.count {
                let byte = p[i]
                i += 1
                if byte != 0x5C {
                    out[o] = byte
                    o += 1
                    continue
                }
                guard i < p.count else { break }
                let next = p[i]
                i += 1
                switch next {
                case 0x3A: out[o] = 0x3B
                case 0x73: out[o] = 0x20
                case 0x72: out[o] = 0x0D
                case 0x6E: out[o] = 0x0A
                default: out[o] = next
                }
                o += 1
            }
            return o
        }
    }

    static func isValidKey(_ key: String) -> Bool {
        withBytes(key) { isValidKey($0) }
    }

    /// Whether `key` may be sent: non-empty; an optional leading `+`; then
    /// ASCII letters, digits, `-`, `.` and `/` (vendor prefix).
    static func isValidKey(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        if key.first == 0x2B { start = 1 }
        guard key.count > start else { return false }
        for i in start..<key.count {
            switch key[i] {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x2F: continue
            default: return false
            }
        }
        return true
    }
}

/// IRCv3 server-time timestamps (https://ircv3.net/specs/extensions/server-time):
/// ISO 8601 in UTC with millisecond precision, `2011-10-19T16:40:51.620Z`.
public enum IRCServerTime {
    /// Parses a `time` tag value. Accepts the spec's form, a fraction of 0–9
    /// digits, and (leniently) a `±hh:mm` offset instead of `Z`.
    /// Returns nil for anything else.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    static func parse(_ p: UnsafeBufferPointer<UInt8>) -> Date? {
        guard p.count >= 20 else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int? {
            var value = 0
            for i in at..<(at + count) {
                let d = p[i] &- 0x30
                guard d < 10 else { return nil }
                value = value * 10 + Int(d)
            }
            return value
        }
        guard let year = digits(0, 4), p[4] == 0x2D, let month = digits(5, 2), p[7] == 0x2D,
              let day = digits(8, 2), p[10] == 0x54 || p[10] == 0x74,
              let hour = digits(11, 2), p[13] == 0x3A, let minute = digits(14, 2), p[16] == 0x3A,
              let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if p[i] == 0x2E {
            i += 1
            var scale = 0.1
            let start = i
            while i < p.count, p[i] &- 0x30 < 10 {
                fraction += Double(p[i] &- 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
        }
        guard i < p.count else { return nil }
        var offset = 0
        switch p[i] {
        case 0x5A, 0x7A:
            i += 1
        case 0x2B, 0x2D:
            guard p.count - i == 6, let oh = digits(i + 1, 2), p[i + 3] == 0x3A, let om = digits(i + 4, 2),
                  oh < 24, om < 60
            else { return nil }
            offset = (oh * 60 + om) * 60 * (p[i] == 0x2B ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == p.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Formats a date as a `time` tag value: `2011-10-19T16:40:51.620Z`.
    public static func format(_ date: Date) -> String {
        let millisecondsTotal = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = millisecondsTotal / 86_400_000
        var rest = millisecondsTotal % 86_400_000
        if rest < 0 {
            rest += 86_400_000
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        let hour = rest / 3_600_000
        let minute = rest / 60_000 % 60
        let second = rest / 1000 % 60
        let milli = rest % 1000
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):"
            + "\(pad(second, 2)).\(pad(milli, 3))Z"
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
