import Foundation

/// Which keys of which objects a decoding pass looked at.
///
/// A `Decodable` type silently ignores keys it does not declare, so a typo
/// (`untill:`) would be dropped and a default used instead. The strict
/// loader therefore decodes over the ``JSON5Node`` tree with
/// ``TreeDecoder``, which notes every key the type asks for (`decode`, `decodeIfPresent`, `contains`, nested containers);
/// a key in the file that no one asked for is unknown. This works for
/// synthesized `Decodable` conformances, which never list their keys.
final class KeyRecorder {
    /// Object id → keys asked for (present or not).
    var asked: [Int: Set<String>] = [:]
    /// Objects that were opened as keyed containers.
    var opened: Set<Int> = []

    /// Every key in the tree that was never asked for, with the keys that
    /// were asked for in the same object (for "did you mean …").
    func unknownKeys(in root: JSON5Node) -> [(path: ConfigPath, member: JSON5Member, known: Set<String>)] {
        var found: [(ConfigPath, JSON5Member, Set<String>)] = []
        func walk(_ node: JSON5Node, _ path: ConfigPath) {
            switch node.value {
            case .object(let id, let members):
                guard opened.contains(id) else { return }
                let known = asked[id] ?? []
                for member in members {
                    if known.contains(member.key) {
                        walk(member.value, path.appending(.key(member.key)))
                    } else {
                        found.append((path.appending(.key(member.key)), member, known))
                    }
                }
            case .array(let elements):
                for (index, element) in elements.enumerated() { walk(element, path.appending(.index(index))) }
            default:
                return
            }
        }
        walk(root, .root)
        return found
    }
}

/// The coding key of a list element; `Index <n>` like `JSONDecoder`'s, so
/// ``ConfigPath/init(codingPath:)`` reads both the same way.
struct IndexCodingKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(_ index: Int) {
        intValue = index
        stringValue = "Index \(index)"
    }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.init(intValue) }
}

/// A plain named key (`super`).
struct NamedCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// A `Decoder` over a ``JSON5Node`` tree that records the keys it is asked
/// for. Its rules match `JSONDecoder`'s defaults (numbers are exact for
/// integers, `Date` is a number of seconds since 2001, `Data` is Base64,
/// `URL` a string), and its messages are written for people: "expected a
/// whole number, found the number 1.5".
struct TreeDecoder: Decoder {
    let node: JSON5Node
    let codingPath: [any CodingKey]
    let recorder: KeyRecorder
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let id, let members) = node.value else {
            throw Self.mismatch([String: Int].self, "expected an object { … }", node, codingPath)
        }
        recorder.opened.insert(id)
        return KeyedDecodingContainer(TreeKeyedContainer<Key>(
            id: id, node: node, members: members, codingPath: codingPath, recorder: recorder))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node.value else {
            throw Self.mismatch([Int].self, "expected a list [ … ]", node, codingPath)
        }
        return TreeUnkeyedContainer(elements: elements, codingPath: codingPath, recorder: recorder)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        TreeSingleValueContainer(node: node, codingPath: codingPath, recorder: recorder)
    }

    // MARK: - Values

    static func mismatch(_ type: Any.Type, _ expected: String, _ node: JSON5Node,
                         _ path: [any CodingKey]) -> DecodingError {
        if case .null = node.value {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "\(expected), found null"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "\(expected), found \(node.foundDescription)"))
    }

    /// Decodes any `Decodable` from `node`.
    static func decode<T: Decodable>(_ type: T.Type, from node: JSON5Node, path: [any CodingKey],
                                     recorder: KeyRecorder) throws -> T {
        if let value = try primitive(type, from: node, path: path) { return value }
        do {
            return try T(from: TreeDecoder(node: node, codingPath: path, recorder: recorder))
        } catch let error as DecodingError {
            // A value type that knows what it looks like says so when the
            // file holds the wrong kind of value (a number for a date).
            guard let described = T.self as? any ConfigValue.Type else { throw error }
            switch error {
            case .typeMismatch(_, let context) where context.codingPath.count == path.count,
                 .valueNotFound(_, let context) where context.codingPath.count == path.count:
                throw DecodingError.dataCorrupted(.init(
                    codingPath: path,
                    debugDescription: "expected \(described.configExpectation), found \(node.foundDescription)"))
            default:
                throw error
            }
        }
    }

    /// The types `JSONDecoder` treats as primitives; nil for any other type.
    private static func primitive<T>(_ type: T.Type, from node: JSON5Node, path: [any CodingKey]) throws -> T? {
        switch type {
        case is String.Type: return try string(node, path) as? T
        case is Bool.Type:
            guard case .bool(let value) = node.value else { throw mismatch(Bool.self, "expected true or false", node, path) }
            return value as? T
        case is Double.Type: return try floating(Double.self, node, path) as? T
        case is Float.Type: return try floating(Float.self, node, path) as? T
        case is Int.Type: return try integer(Int.self, node, path) as? T
        case is Int8.Type: return try integer(Int8.self, node, path) as? T
        case is Int16.Type: return try integer(Int16.self, node, path) as? T
        case is Int32.Type: return try integer(Int32.self, node, path) as? T
        case is Int64.Type: return try integer(Int64.self, node, path) as? T
        case is UInt.Type: return try integer(UInt.self, node, path) as? T
        case is UInt8.Type: return try integer(UInt8.self, node, path) as? T
        case is UInt16.Type: return try integer(UInt16.self, node, path) as? T
        case is UInt32.Type: return try integer(UInt32.self, node, path) as? T
        case is UInt64.Type: return try integer(UInt64.self, node, path) as? T
        case is Date.Type:
            return Date(timeIntervalSinceReferenceDate: try floating(Double.self, node, path)) as? T
        case is URL.Type:
            let text = try string(node, path)
            guard let url = URL(string: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path,
                                                        debugDescription: "expected a URL, found \(node.foundDescription)"))
            }
            return url as? T
        case is Data.Type:
            let text = try string(node, path)
            guard let data = Data(base64Encoded: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path,
                                                        debugDescription: "expected Base64 data, found \(node.foundDescription)"))
            }
            return data as? T
        case is Decimal.Type:
            guard case .number(let number) = node.value, let decimal = Decimal(string: number.text) else {
                throw mismatch(Decimal.self, "expected a number", node, path)
            }
            return decimal as? T
        default:
            return nil
        }
    }

    static func string(_ node: JSON5Node, _ path: [any CodingKey]) throws -> String {
        guard case .string(let text) = node.value else { throw mismatch(String.self, "expected a text in quotes", node, path) }
        return text
    }

    static func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: JSON5Node, _ path: [any CodingKey]) throws -> I {
        guard case .number(let number) = node.value else { throw mismatch(I.self, "expected a whole number", node, path) }
        if let exact = number.integer.flatMap({ I(exactly: $0) }) ?? number.unsigned.flatMap({ I(exactly: $0) }) {
            return exact
        }
        if number.integer == nil, number.unsigned == nil {
            // 1e3 or 2.0 are whole numbers written as decimals; take them when exact.
            if number.double.isFinite, number.double.rounded() == number.double, let value = I(exactly: number.double) {
                return value
            }
            throw DecodingError.typeMismatch(I.self, .init(codingPath: path,
                debugDescription: "expected a whole number, found the number \(number.text)"))
        }
        throw DecodingError.dataCorrupted(.init(codingPath: path,
            debugDescription: "the number \(number.text) is out of range (\(I.min)…\(I.max))"))
    }

    static func floating<F: BinaryFloatingPoint & LosslessStringConvertible>(
        _ type: F.Type, _ node: JSON5Node, _ path: [any CodingKey]
    ) throws -> F {
        guard case .number(let number) = node.value else { throw mismatch(F.self, "expected a number", node, path) }
        let value = F(number.double)
        if value.isInfinite, number.double.isFinite {
            throw DecodingError.dataCorrupted(.init(codingPath: path,
                debugDescription: "the number \(number.text) is out of range"))
        }
        return value
    }
}

private struct TreeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let id: Int
    let node: JSON5Node
    let members: [JSON5Member]
    let codingPath: [any CodingKey]
    let recorder: KeyRecorder

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    private func note(_ key: some CodingKey) {
        recorder.asked[id, default: []].insert(key.stringValue)
    }

    private func child(_ key: Key) throws -> JSON5Node {
        note(key)
        guard let member = members.first(where: { $0.key == key.stringValue }) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath,
                                                       debugDescription: "missing field '\(key.stringValue)'"))
        }
        return member.value
    }

    func contains(_ key: Key) -> Bool {
        note(key)
        return members.contains { $0.key == key.stringValue }
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try child(key).value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try TreeDecoder.decode(type, from: try child(key), path: codingPath + [key], recorder: recorder)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try generic(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try generic(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try generic(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try generic(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try generic(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try generic(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try generic(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try generic(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try generic(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try generic(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try generic(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try generic(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try generic(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try generic(type, key) }

    private func generic<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try TreeDecoder.decode(type, from: try child(key), path: codingPath + [key], recorder: recorder)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(node: try child(key), codingPath: codingPath + [key], recorder: recorder).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(node: try child(key), codingPath: codingPath + [key], recorder: recorder).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = NamedCodingKey("super")
        note(key)
        let value = members.first { $0.key == "super" }?.value ?? JSON5Node(value: .null, position: node.position)
        return TreeDecoder(node: value, codingPath: codingPath + [key], recorder: recorder)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        note(key)
        let value = members.first { $0.key == key.stringValue }?.value ?? JSON5Node(value: .null, position: node.position)
        return TreeDecoder(node: value, codingPath: codingPath + [key], recorder: recorder)
    }
}

private struct TreeUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSON5Node]
    let codingPath: [any CodingKey]
    let recorder: KeyRecorder
    private(set) var currentIndex = 0

    init(elements: [JSON5Node], codingPath: [any CodingKey], recorder: KeyRecorder) {
        self.elements = elements
        self.codingPath = codingPath
        self.recorder = recorder
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private func current(_ type: Any.Type) throws -> JSON5Node {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [IndexCodingKey(currentIndex)],
                                                          debugDescription: "the list has too few elements"))
        }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        if case .null = try current(Never.self).value {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let node = try current(type)
        let value = try TreeDecoder.decode(type, from: node, path: codingPath + [IndexCodingKey(currentIndex)],
                                           recorder: recorder)
        currentIndex += 1
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try generic(type) }
    mutating func decode(_ type: String.Type) throws -> String { try generic(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try generic(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try generic(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try generic(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try generic(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try generic(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try generic(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try generic(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try generic(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try generic(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try generic(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try generic(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try generic(type) }

    private mutating func generic<T: Decodable>(_ type: T.Type) throws -> T { try decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey> {
        let decoder = TreeDecoder(node: try current(type), codingPath: codingPath + [IndexCodingKey(currentIndex)],
                                  recorder: recorder)
        let container = try decoder.container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let decoder = TreeDecoder(node: try current([Any].self),
                                  codingPath: codingPath + [IndexCodingKey(currentIndex)], recorder: recorder)
        let container = try decoder.unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = TreeDecoder(node: try current(Any.self),
                                  codingPath: codingPath + [IndexCodingKey(currentIndex)], recorder: recorder)
        currentIndex += 1
        return decoder
    }
}

private struct TreeSingleValueContainer: SingleValueDecodingContainer {
    let node: JSON5Node
    let codingPath: [any CodingKey]
    let recorder: KeyRecorder

    func decodeNil() -> Bool {
        if case .null = node.value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try TreeDecoder.decode(type, from: node, path: codingPath, recorder: recorder)
    }

    func decode(_ type: Bool.Type) throws -> Bool { try generic(type) }
    func decode(_ type: String.Type) throws -> String { try generic(type) }
    func decode(_ type: Double.Type) throws -> Double { try generic(type) }
    func decode(_ type: Float.Type) throws -> Float { try generic(type) }
    func decode(_ type: Int.Type) throws -> Int { try generic(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try generic(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try generic(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try generic(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try generic(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try generic(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try generic(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try generic(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try generic(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try generic(type) }

    private func generic<T: Decodable>(_ type: T.Type) throws -> T {
        try TreeDecoder.decode(type, from: node, path: codingPath, recorder: recorder)
    }
}
