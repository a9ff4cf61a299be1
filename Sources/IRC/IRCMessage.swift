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
///
/// A parsed message is one allocation: the parameters (the trailing text is
/// created once, as their last element) and the known verb are made while
/// parsing, because every consumer reads them; the tag section and the
/// source are kept as the line's bytes and become ``IRCTags`` and
/// ``IRCSource`` only when read (most server lines are never asked who sent
/// them). Copying a message copies one reference. Each read of ``tags`` or
/// ``source`` makes them anew: a caller that asks several times keeps one copy.
public struct IRCMessage: @unchecked Sendable, Hashable, CustomStringConvertible {
    // @unchecked: the storage is a ManagedBuffer (not Sendable by
    // declaration) that is never changed after it is made; setters make a new one.

    /// Header: the eager parts and where the lazy ones are; elements: the
    /// tag section's wire text followed by the source's bytes.
    typealias Storage = ManagedBuffer<Header, UInt8>

    struct Header {
        var command: IRCCommand
        var parameters: [String]
        /// Tags and source given as values (a message built from parts, or
        /// changed through a setter); nil: read them from the bytes.
        var built: Built?
        /// Bytes `0..<tagsEnd` are the tag section without `@`;
        /// `tagsEnd..<sourceEnd` the source without `:`; `sourceEnd == tagsEnd`: no source.
        var tagsEnd: Int32
        var sourceEnd: Int32
        /// The bytes are known to be ASCII (saves a scan when making strings).
        var ascii: Bool
    }

    struct Built {
        var tags: IRCTags
        var source: IRCSource?
    }

    var storage: Storage

    /// IRCv3 message tags, in order.
    public var tags: IRCTags {
        get {
            storage.withUnsafeMutablePointers { header, base in
                if let built = header.pointee.built { return built.tags }
                let end = Int(header.pointee.tagsEnd)
                if end == 0 { return IRCTags() }
                return IRCTags(wireText: IRCText.string(validated: UnsafeBufferPointer(start: base, count: end),
                                                        ascii: header.pointee.ascii))
            }
        }
        set { self = IRCMessage(tags: newValue, source: source, command: command, parameters: parameters) }
    }

    /// Who sent it; nil for messages from our own client.
    public var source: IRCSource? {
        get {
            storage.withUnsafeMutablePointers { header, base in
                if let built = header.pointee.built { return built.source }
                let start = Int(header.pointee.tagsEnd), end = Int(header.pointee.sourceEnd)
                if end == start { return nil }
                return IRCSource(validated: UnsafeBufferPointer(start: base + start, count: end - start),
                                 ascii: header.pointee.ascii)
            }
        }
        set { self = IRCMessage(tags: tags, source: newValue, command: command, parameters: parameters) }
    }

    /// The verb.
    public var command: IRCCommand {
        get { storage.withUnsafeMutablePointerToHeader { $0.pointee.command } }
        set { self = IRCMessage(tags: tags, source: source, command: newValue, parameters: parameters) }
    }

    /// The parameters, the trailing one last, without its `:`.
    public var parameters: [String] {
        get { storage.withUnsafeMutablePointerToHeader { $0.pointee.parameters } }
        set { self = IRCMessage(tags: tags, source: source, command: command, parameters: newValue) }
    }

    /// A message from its parts, not validated: ``serialized(lineLimit:)``
    /// and ``validate(lineLimit:)`` report what cannot be sent.
    public init(tags: IRCTags = IRCTags(), source: IRCSource? = nil, command: IRCCommand, parameters: [String] = []) {
        storage = Storage.create(minimumCapacity: 0) { _ in
            Header(command: command, parameters: parameters, built: Built(tags: tags, source: source),
                   tagsEnd: 0, sourceEnd: 0, ascii: false)
        }
    }

    /// A parsed message: `tags` and `source` are the raw bytes of the tag
    /// section (without `@`) and of the source (without `:`), either may be empty.
    init(command: IRCCommand, parameters: [String], tags: UnsafeBufferPointer<UInt8>,
         source: UnsafeBufferPointer<UInt8>, ascii: Bool) {
        let tagCount = tags.count, sourceCount = source.count
        storage = Storage.create(minimumCapacity: tagCount + sourceCount) { _ in
            Header(command: command, parameters: parameters, built: nil, tagsEnd: Int32(tagCount),
                   sourceEnd: Int32(tagCount + sourceCount), ascii: ascii)
        }
        storage.withUnsafeMutablePointerToElements { base in
            if tagCount > 0 { base.initialize(from: tags.baseAddress!, count: tagCount) }
            if sourceCount > 0 { (base + tagCount).initialize(from: source.baseAddress!, count: sourceCount) }
        }
    }

    public static func == (lhs: IRCMessage, rhs: IRCMessage) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.command == rhs.command && lhs.parameters == rhs.parameters && lhs.source == rhs.source
            && lhs.tags == rhs.tags
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(command)
        hasher.combine(parameters)
        hasher.combine(source)
        hasher.combine(tags)
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
