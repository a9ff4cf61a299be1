/// The size limits of the IRC wire format.
///
/// - RFC 1459 §2.3 / RFC 2812 §2.3: a message is at most 512 bytes including
///   the terminating CR LF, with at most 15 parameters.
/// - IRCv3 message-tags ("Size limit"): the tag section, including the
///   leading `@` and the trailing space, adds at most 8191 bytes on top.
/// - ISUPPORT `LINELEN` lets a server announce a longer body limit.
public enum IRCLimits {
    /// Maximum bytes of a message without its tag section, CR LF included (RFC 1459 §2.3).
    public static let lineLength = 512
    /// Maximum bytes of the tag section, `@` and the trailing space included (IRCv3 message-tags).
    public static let tagSectionLength = 8191
    /// Maximum number of parameters of one message (RFC 1459 §2.3).
    public static let parameterCount = 15
    /// Maximum bytes of one framed line without its line ending: the tag
    /// section plus the body, both at their limits, minus the CR LF.
    public static let framedLineLength = tagSectionLength + lineLength - 2
    /// The relayed-source length the line splitter assumes when the caller
    /// does not know its own `:nick!user@host ` prefix (colon and space included).
    public static let assumedRelayPrefixLength = 100
}
