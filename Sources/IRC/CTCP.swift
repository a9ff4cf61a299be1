/// A CTCP message inside a PRIVMSG (request) or NOTICE (reply):
/// `\x01COMMAND parameters\x01` (modern.ircdocs.horse "Client-to-Client Protocol").
///
/// ACTION (`/me`), VERSION and PING are what Switchboard answers or sends.
/// Low-level CTCP quoting (`\x10`) is not implemented: the modern
/// specification has no escaping, and current clients do not use it.
/// Parameters can never contain `\x01`, CR, LF or NUL: ``encoded`` drops
/// `\x01` and turns the others into spaces.
public struct CTCP: Sendable, Hashable, CustomStringConvertible {
    /// The command, upper-cased (`ACTION`).
    public var command: String
    /// Everything after the command and one space; `""` when none.
    public var parameters: String

    /// A CTCP message; the command is upper-cased.
    public init(command: String, parameters: String = "") {
        self.command = command.uppercased()
        self.parameters = parameters
    }

    /// An ACTION (`/me waves`).
    public static func action(_ text: String) -> CTCP { CTCP(command: "ACTION", parameters: text) }

    /// Parses a PRIVMSG/NOTICE text; nil unless it starts with `\x01`. The
    /// closing `\x01` may be missing ("MAY be omitted" in the spec).
    public init?(parsing text: String) {
        guard text.utf8.first == 0x01 else { return nil }
        var body = text.utf8.dropFirst()
        if body.last == 0x01 { body = body.dropLast() }
        guard !body.isEmpty else { return nil }
        let bytes = Array(body)
        if let space = bytes.firstIndex(of: 0x20) {
            command = String(decoding: bytes[..<space], as: UTF8.self).uppercased()
            parameters = String(decoding: bytes[(space + 1)...], as: UTF8.self)
        } else {
            command = String(decoding: bytes, as: UTF8.self).uppercased()
            parameters = ""
        }
        guard !command.isEmpty else { return nil }
    }

    /// Whether this is an ACTION (`/me`).
    public var isAction: Bool { command == "ACTION" }

    /// `\x01COMMAND parameters\x01`, made wire-safe (see the type's documentation).
    public var encoded: String {
        let command = IRCText.sanitizedLine(command).replacingSpaces()
        let parameters = IRCText.sanitizedLine(parameters)
        return "\u{1}" + command + (parameters.isEmpty ? "" : " " + parameters) + "\u{1}"
    }

    public var description: String { parameters.isEmpty ? command : "\(command) \(parameters)" }
}

extension String {
    fileprivate func replacingSpaces() -> String {
        String(decoding: utf8.filter { $0 != 0x20 }, as: UTF8.self)
    }
}

extension IRCMessage {
    /// The CTCP message carried by a PRIVMSG or NOTICE, if any.
    public var ctcp: CTCP? {
        guard command == .privmsg || command == .notice, parameters.count >= 2 else { return nil }
        return CTCP(parsing: parameters[parameters.count - 1])
    }

    /// A CTCP request (PRIVMSG), e.g. `.ctcpRequest(to: "alice", CTCP(command: "VERSION"))`.
    public static func ctcpRequest(to target: String, _ ctcp: CTCP) -> IRCMessage {
        IRCMessage(command: .privmsg, parameters: [target, ctcp.encoded])
    }

    /// A CTCP reply (NOTICE), e.g. to VERSION or PING.
    public static func ctcpReply(to target: String, _ ctcp: CTCP) -> IRCMessage {
        IRCMessage(command: .notice, parameters: [target, ctcp.encoded])
    }

    /// `/me text` to a channel or user. For text that may be long, use
    /// ``IRCLineSplitter`` with `ctcpAction: true`.
    public static func action(to target: String, text: String) -> IRCMessage {
        ctcpRequest(to: target, .action(text))
    }
}
