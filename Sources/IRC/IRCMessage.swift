/// One IRC message: tags, source, command and parameters (RFC 1459 §2.3.1,
/// RFC 2812 §2.3.1, IRCv3 message-tags; modern.ircdocs.horse "Messages").
///
/// ```
/// @account=alice;time=2025-03-01T12:00:00.000Z :alice!a@host PRIVMSG #help :hi there
/// └─────────────── tags ─────────────────────┘ └─ source ──┘ └command┘ └ parameters ┘
/// ```
///
/// - Parse with ``init(parsing:)-(String)`` (or feed bytes to ``IRCLineFramer``).
/// - Build with the convenience constructors (``privmsg(to:text:)`` …), which
///   make user text safe, or with ``init(tags:source:command:parameters:)``.
/// - Send with ``serialized(lineLimit:)``, which refuses anything that could
///   change the meaning of the line on the wire.
///
/// The last parameter is an ordinary element of ``parameters``: whether it
/// was sent as a `:trailing` parameter is a matter of encoding, which the
/// serializer decides (RFC 1459 §2.3.1). Equal messages serialise equally.
public struct IRCMessage: Sendable, Hashable, CustomStringConvertible {
    /// IRCv3 message tags, in order.
    public var tags: IRCTags
    /// Who sent it; nil for messages from our own client.
    public var source: IRCSource?
    /// The verb.
    public var command: IRCCommand
    /// The parameters, the trailing one last, without its `:`.
    public var parameters: [String]

    /// A message from its parts, not validated: ``serialized(lineLimit:)``
    /// and ``validate(lineLimit:)`` report what cannot be sent.
    @inlinable
    public init(tags: IRCTags = IRCTags(), source: IRCSource? = nil, command: IRCCommand, parameters: [String] = []) {
        self.tags = tags
        self.source = source
        self.command = command
        self.parameters = parameters
    }

    /// The last parameter: for PRIVMSG/NOTICE the text, for PING the token…
    public var trailing: String? { parameters.last }

    /// The parameter at `index`, nil when there are fewer.
    public func parameter(_ index: Int) -> String? {
        index >= 0 && index < parameters.count ? parameters[index] : nil
    }

    /// The line as it would be sent, without CR LF, for logs. Never fails: a
    /// CR, LF or NUL that the serializer would refuse shows as `␍`, `␊` or `␀`.
    public var description: String {
        var bytes: [UInt8] = []
        _ = IRCSerializer.write(self, into: &bytes, validate: false)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case 0x0D: out.append(contentsOf: "\u{240D}".utf8)
            case 0x0A: out.append(contentsOf: "\u{240A}".utf8)
            case 0x00: out.append(contentsOf: "\u{2400}".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
