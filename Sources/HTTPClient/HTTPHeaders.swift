/// One header field as it was sent or received: the name keeps its spelling,
/// the value has no leading or trailing whitespace.
public struct HTTPField: Sendable, Equatable, CustomStringConvertible {
    /// The name as spelled on the wire (compare with `HTTPHeaders`' lookups,
    /// which ignore case).
    public var name: String
    /// The value without surrounding spaces and tabs.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}

/// Header fields in wire order. Names compare case-insensitively (RFC 9110
/// §5.1), so `headers["content-type"]` finds `Content-Type`; a name that
/// occurs several times keeps every value (`values(for:)`).
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The fields in the order they were added or received.
    public private(set) var fields: [HTTPField]

    /// Headers from fields in wire order.
    public init(_ fields: [HTTPField] = []) {
        self.fields = fields
    }

    /// `["Content-Type": "application/json"]`: fields in the literal's order.
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    /// The first value of `name` (case-insensitive), nil if absent.
    public subscript(name: String) -> String? {
        fields.first { HTTPHeaders.sameName($0.name, name) }?.value
    }

    /// Every value of `name` (case-insensitive), in order.
    public func values(for name: String) -> [String] {
        fields.filter { HTTPHeaders.sameName($0.name, name) }.map(\.value)
    }

    /// Whether a field called `name` is present (case-insensitive).
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPHeaders.sameName($0.name, name) }
    }

    /// The comma-separated list elements of every `name` field, trimmed and
    /// lowercased (RFC 9110 §5.6.1): `Connection: Keep-Alive, Upgrade` gives
    /// `["keep-alive", "upgrade"]`. Empty elements are dropped.
    public func tokens(for name: String) -> [String] {
        values(for: name).flatMap { value in
            value.split(separator: ",").map { asciiLowercased($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
        }
    }

    /// Appends a field (an existing one of the same name stays).
    public mutating func add(name: String, value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Removes every field called `name`, then appends one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name)
        add(name: name, value: value)
    }

    /// Removes every field called `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPHeaders.sameName($0.name, name) }
    }

    /// Fields, counting a repeated name once per occurrence.
    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[HTTPField]> { fields.makeIterator() }

    public var description: String {
        fields.map(\.description).joined(separator: "\n")
    }

    /// ASCII case-insensitive equality (header names are ASCII tokens).
    static func sameName(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { lowerASCII($0) == lowerASCII($1) }
    }
}

func lowerASCII(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
}

func asciiLowercased(_ text: some StringProtocol) -> String {
    String(decoding: text.utf8.map(lowerASCII), as: UTF8.self)
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's OWS).
    func trimmingWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return Substring(self[first...last])
    }
}

/// RFC 9110 §5.6.2 `tchar`: what a header name or method may contain.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}
