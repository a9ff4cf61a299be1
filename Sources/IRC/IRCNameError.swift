/// Why a nickname, channel name or mask is not valid.
public struct IRCNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the name.
    public enum Reason: Sendable, Hashable {
        case empty
        case tooLong(length: Int, limit: Int)
        /// A character that may not appear in this kind of name.
        case forbiddenCharacter(Character)
        /// A character that may not start this kind of name.
        case forbiddenFirstCharacter(Character)
        /// A channel name that does not start with one of the network's channel types.
        case missingChannelType(allowed: String)
        /// A hostmask pattern without `@` (it would match nicks only).
        case missingHostPart
    }

    /// What kind of name: "nickname", "channel name", "mask".
    public let kind: String
    /// The rejected text.
    public let name: String
    /// What is wrong.
    public let reason: Reason

    public init(kind: String, name: String, reason: Reason) {
        self.kind = kind
        self.name = name
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .empty: what = "is empty"
        case .tooLong(let length, let limit): what = "is \(length) bytes long (limit \(limit))"
        case .forbiddenCharacter(let c): what = "contains \(Self.show(c)), which is not allowed"
        case .forbiddenFirstCharacter(let c): what = "starts with \(Self.show(c)), which is not allowed"
        case .missingChannelType(let allowed): what = "does not start with a channel type (\(allowed))"
        case .missingHostPart: what = "has no '@host' part, so it would match by nick alone"
        }
        return "\(kind) \"\(name)\" \(what)"
    }

    static func show(_ c: Character) -> String {
        if let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1, scalar.value < 0x20 || scalar.value == 0x7F {
            return "control character U+\(String(scalar.value, radix: 16, uppercase: true))"
        }
        return "'\(c)'"
    }
}
