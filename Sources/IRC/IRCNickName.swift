/// A validated nickname whose equality and hashing follow the network's case
/// mapping: under `rfc1459`, `Agent[1]` and `agent{1}` are the same nick.
///
/// The value stores its folded key, so `Hashable` is consistent with `==`
/// and a `Set<IRCNickName>` or dictionary key works as the server would
/// compare. Compare nicks of one network only (one mapping).
///
/// Validation follows modern.ircdocs.horse "Clients" (nicknames): not empty;
/// no space, `,`, `*`, `?`, `!`, `@`, `.` or control characters; not
/// starting with `$`, `:`, a channel type (`#`, `&`) or a membership prefix
/// (`~`, `&`, `@`, `%`, `+`). Servers may be stricter (a leading digit is
/// refused by most); that is for the server to say with 432.
public struct IRCNickName: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The nick as given.
    public let name: String
    /// The mapping used for comparison.
    public let caseMapping: IRCCaseMapping
    /// The folded form: equal for equal nicks.
    public let key: String

    /// - Parameter maximumLength: ISUPPORT `NICKLEN`, if known (bytes).
    public init(_ name: String, caseMapping: IRCCaseMapping = .rfc1459, maximumLength: Int? = nil)
        throws(IRCNameError)
    {
        func fail(_ reason: IRCNameError.Reason) -> IRCNameError {
            IRCNameError(kind: "nickname", name: name, reason: reason)
        }
        guard let first = name.first else { throw fail(.empty) }
        if let maximumLength, name.utf8.count > maximumLength {
            throw fail(.tooLong(length: name.utf8.count, limit: maximumLength))
        }
        if "$:#&~@%+".contains(first) { throw fail(.forbiddenFirstCharacter(first)) }
        for character in name {
            if character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                || " ,*?!@.".contains(character)
            {
                throw fail(.forbiddenCharacter(character))
            }
        }
        self.name = name
        self.caseMapping = caseMapping
        self.key = caseMapping.lowercased(name)
    }

    public var description: String { name }

    public static func == (lhs: IRCNickName, rhs: IRCNickName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    public static func < (lhs: IRCNickName, rhs: IRCNickName) -> Bool { lhs.key < rhs.key }
}

extension IRCNickName {
    /// A nickname validated against what the server announced in ISUPPORT.
    public init(_ name: String, isupport: ISupport) throws(IRCNameError) {
        try self.init(name, caseMapping: isupport.caseMapping, maximumLength: isupport.nickLength)
    }
}
