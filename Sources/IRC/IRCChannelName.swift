/// A validated channel name whose equality and hashing follow the network's
/// case mapping (`#NordBox` == `#nordbox`).
///
/// Validation follows modern.ircdocs.horse "Channels": starts with one of
/// the network's channel types (ISUPPORT `CHANTYPES`, default `#&`); no
/// space, comma, BEL (`\x07`), CR, LF or NUL; at most `CHANNELLEN` bytes
/// when given.
public struct IRCChannelName: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The name as given.
    public let name: String
    /// The mapping used for comparison.
    public let caseMapping: IRCCaseMapping
    /// The folded form: equal for equal channels.
    public let key: String

    /// Validates `name` (see the type's rules); throws with the reason.
    /// - Parameters:
    ///   - channelTypes: ISUPPORT `CHANTYPES`.
    ///   - maximumLength: ISUPPORT `CHANNELLEN`, if known (bytes).
    public init(_ name: String, caseMapping: IRCCaseMapping = .rfc1459, channelTypes: String = "#&",
                maximumLength: Int? = nil) throws(IRCNameError)
    {
        func fail(_ reason: IRCNameError.Reason) -> IRCNameError {
            IRCNameError(kind: "channel name", name: name, reason: reason)
        }
        guard let first = name.first else { throw fail(.empty) }
        guard channelTypes.contains(first) else { throw fail(.missingChannelType(allowed: channelTypes)) }
        if let maximumLength, name.utf8.count > maximumLength {
            throw fail(.tooLong(length: name.utf8.count, limit: maximumLength))
        }
        for character in name {
            if character.unicodeScalars.contains(where: { [0x00, 0x07, 0x0A, 0x0D, 0x20, 0x2C].contains($0.value) }) {
                throw fail(.forbiddenCharacter(character))
            }
        }
        self.name = name
        self.caseMapping = caseMapping
        self.key = caseMapping.lowercased(name)
    }

    /// A channel name validated against what the server announced in ISUPPORT.
    public init(_ name: String, isupport: ISupport) throws(IRCNameError) {
        try self.init(name, caseMapping: isupport.caseMapping, channelTypes: isupport.channelTypes,
                      maximumLength: isupport.channelLength)
    }

    public var description: String { name }

    public static func == (lhs: IRCChannelName, rhs: IRCChannelName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public static func < (lhs: IRCChannelName, rhs: IRCChannelName) -> Bool { lhs.key < rhs.key }
}
