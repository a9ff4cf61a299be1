/// What a server announced in its `005 RPL_ISUPPORT` replies
/// (modern.ircdocs.horse "Feature Advertisement"; draft-hardy-irc-isupport).
///
/// Feed every 005 message to ``apply(_:)``; later values replace earlier
/// ones and `-TOKEN` withdraws a token. Values are unescaped (`\x20` → space).
/// The typed accessors give the documented defaults when a token is absent.
public struct ISupport: Sendable, Hashable {
    /// Every token announced, by upper-cased name; the value is `""` for a
    /// token without `=value`.
    public private(set) var tokens: [String: String] = [:]
    /// New token names refused because ``maximumTokens`` were already held.
    public private(set) var ignoredTokenCount = 0

    /// The most tokens kept: real servers announce a few dozen; a server
    /// sending endless 005 lines with new names cannot grow the table beyond it.
    public static let maximumTokens = 512

    /// Nothing announced yet: every accessor gives its default.
    public init() {}

    /// Tokens from `TOKEN[=value]` strings (as in a 005 line).
    public init(tokens: some Sequence<String>) {
        apply(tokens: tokens)
    }

    /// Applies a `005` message: parameters between our nick and the final
    /// human-readable text. Other messages are ignored.
    public mutating func apply(_ message: IRCMessage) {
        guard message.command == .numeric(.isupport), message.parameters.count >= 2 else { return }
        apply(tokens: message.parameters.dropFirst().dropLast())
    }

    /// Applies `TOKEN`, `TOKEN=value` and `-TOKEN` strings.
    public mutating func apply(tokens announced: some Sequence<String>) {
        for token in announced where !token.isEmpty {
            if token.hasPrefix("-") {
                tokens.removeValue(forKey: String(token.dropFirst()).uppercased())
                continue
            }
            let equals = token.firstIndex(of: "=")
            let name = String(token[..<(equals ?? token.endIndex)]).uppercased()
            if self.tokens[name] == nil, self.tokens.count >= Self.maximumTokens {
                ignoredTokenCount += 1
                continue
            }
            self.tokens[name] = equals.map { Self.unescape(token[token.index(after: $0)...]) } ?? ""
        }
    }

    /// The raw value of a token: nil when not announced, `""` when announced without value.
    public subscript(token: String) -> String? { tokens[token.uppercased()] }

    /// `CASEMAPPING`: ``IRCCaseMapping/rfc1459`` when absent. An unknown
    /// mapping (e.g. `rfc8265`) gives ``IRCCaseMapping/ascii``: comparing
    /// fewer names as equal than the server does can fail to recognise a
    /// user, but never mistakes one user for another.
    public var caseMapping: IRCCaseMapping {
        guard let value = tokens["CASEMAPPING"] else { return .rfc1459 }
        return IRCCaseMapping(isupportValue: value) ?? .ascii
    }

    /// `CHANTYPES`: the characters that start a channel name (default `#&`, RFC 1459).
    public var channelTypes: String { tokens["CHANTYPES"] ?? "#&" }

    /// `PREFIX`: channel membership modes and their prefixes, highest first
    /// (default `(ov)@+`).
    public var prefixes: [(mode: Character, prefix: Character)] {
        guard let value = tokens["PREFIX"] else { return [("o", "@"), ("v", "+")] }
        guard value.hasPrefix("("), let close = value.firstIndex(of: ")") else { return [] }
        let modes = value[value.index(after: value.startIndex)..<close]
        let symbols = value[value.index(after: close)...]
        return Array(zip(modes, symbols)).map { (mode: $0.0, prefix: $0.1) }
    }

    /// The prefix characters alone (`@+`), for stripping NAMES entries and
    /// status-message targets (`@#chan`). Read for every message received,
    /// so taken from the token without building ``prefixes``.
    public var prefixCharacters: String {
        guard let value = tokens["PREFIX"] else { return "@+" }
        guard value.hasPrefix("("), let close = value.firstIndex(of: ")") else { return "" }
        let modes = value[value.index(after: value.startIndex)..<close]
        return String(value[value.index(after: close)...].prefix(modes.count))  // as `prefixes` pairs them
    }

    /// `NICKLEN`, if announced.
    public var nickLength: Int? { integer("NICKLEN") }
    /// `CHANNELLEN`, if announced.
    public var channelLength: Int? { integer("CHANNELLEN") }
    /// `TOPICLEN`, if announced.
    public var topicLength: Int? { integer("TOPICLEN") }
    /// `LINELEN`: the line limit in bytes, CR LF included (default 512).
    public var lineLength: Int { integer("LINELEN").map { max($0, IRCLimits.lineLength) } ?? IRCLimits.lineLength }
    /// `WHOX`: the server supports `WHO <mask> %fields` (IRCv3 WHOX).
    public var supportsWHOX: Bool { tokens["WHOX"] != nil }
    /// `NETWORK`: the network's name.
    public var network: String? { tokens["NETWORK"].flatMap { $0.isEmpty ? nil : $0 } }
    /// `MODES`: how many parameterised modes one MODE may carry; nil when
    /// unlimited (`MODES` without value) or not announced.
    public var modesPerCommand: Int? { integer("MODES") }
    /// `CHANMODES=A,B,C,D`: list modes, modes with a parameter always, with
    /// a parameter when set, and without parameter.
    public var channelModes: (list: String, alwaysParameter: String, setParameter: String, noParameter: String) {
        let parts = (tokens["CHANMODES"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func part(_ i: Int) -> String { i < parts.count ? parts[i] : "" }
        return (part(0), part(1), part(2), part(3))
    }

    /// `TARGMAX`: the most targets a command accepts in one message. nil
    /// when the command is not listed or unlimited (`JOIN:`).
    public func maximumTargets(for command: IRCCommand) -> Int? {
        guard let value = tokens["TARGMAX"] else { return nil }
        for entry in value.split(separator: ",") {
            let pair = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            if pair.count == 2, pair[0].uppercased() == command.verb.uppercased() { return Int(pair[1]) }
        }
        return nil
    }

    private func integer(_ token: String) -> Int? {
        tokens[token].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// Unescapes `\xHH` sequences in a value (modern.ircdocs.horse "RPL_ISUPPORT").
    static func unescape(_ value: Substring) -> String {
        guard value.contains("\\") else { return String(value) }
        var bytes: [UInt8] = []
        let utf8 = Array(value.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == 0x5C, i + 3 < utf8.count, utf8[i + 1] == 0x78,
               let high = hexValue(utf8[i + 2]), let low = hexValue(utf8[i + 3])
            {
                bytes.append(high << 4 | low)
                i += 4
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x37
        case 0x61...0x66: byte - 0x57
        default: nil
        }
    }

    public static func == (lhs: ISupport, rhs: ISupport) -> Bool { lhs.tokens == rhs.tokens }
    public func hash(into hasher: inout Hasher) { hasher.combine(tokens) }
}
