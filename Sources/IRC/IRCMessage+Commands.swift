/// Convenience constructors for the messages a client sends (RFC 2812 §3,
/// IRCv3 capability-negotiation and sasl-3.1, modern.ircdocs.horse).
///
/// They never throw. Free text a person wrote — message text, reasons,
/// topics, real names — goes through ``IRCText/sanitizedLine(_:)``: CR, LF
/// and NUL become spaces and `\x01` is removed, so it can neither end the
/// line nor start a CTCP request. Identifiers (targets, channels, nicks,
/// masks, tokens) are kept as given; if one is not valid on the wire (say a
/// channel containing a space in a middle position), ``serialized(lineLimit:)``
/// refuses the message instead of sending it. A text too long for one line
/// makes ``serialized(lineLimit:)`` throw: send long text through ``IRCLineSplitter``.
extension IRCMessage {
    /// `PRIVMSG <target> :<text>`.
    public static func privmsg(to target: String, text: String) -> IRCMessage {
        IRCMessage(command: .privmsg, parameters: [target, IRCText.sanitizedLine(text)])
    }

    /// `NOTICE <target> :<text>` (never answered automatically; RFC 2812 §3.3.2).
    public static func notice(to target: String, text: String) -> IRCMessage {
        IRCMessage(command: .notice, parameters: [target, IRCText.sanitizedLine(text)])
    }

    /// `JOIN <channel>{,<channel>} [<key>{,<key>}]` (RFC 2812 §3.2.1). Keys
    /// pair with the first channels; channels with keys should come first.
    public static func join(_ channels: [String], keys: [String] = []) -> IRCMessage {
        var parameters = [channels.joined(separator: ",")]
        if !keys.isEmpty { parameters.append(keys.joined(separator: ",")) }
        return IRCMessage(command: .join, parameters: parameters)
    }

    /// `JOIN <channel> [<key>]`.
    public static func join(_ channel: String, key: String? = nil) -> IRCMessage {
        join([channel], keys: key.map { [$0] } ?? [])
    }

    /// `PART <channel>{,<channel>} [:<reason>]` (RFC 2812 §3.2.2).
    public static func part(_ channels: [String], reason: String? = nil) -> IRCMessage {
        var parameters = [channels.joined(separator: ",")]
        if let reason { parameters.append(IRCText.sanitizedLine(reason)) }
        return IRCMessage(command: .part, parameters: parameters)
    }

    /// `QUIT [:<reason>]` (RFC 2812 §3.1.7).
    public static func quit(reason: String? = nil) -> IRCMessage {
        IRCMessage(command: .quit, parameters: reason.map { [IRCText.sanitizedLine($0)] } ?? [])
    }

    /// `NICK <nick>` (RFC 2812 §3.1.2).
    public static func nick(_ nick: String) -> IRCMessage {
        IRCMessage(command: .nick, parameters: [nick])
    }

    /// `USER <username> 0 * :<realname>` (modern.ircdocs.horse "USER message").
    public static func user(_ username: String, realName: String) -> IRCMessage {
        let realName = IRCText.sanitizedLine(realName)
        return IRCMessage(command: .user, parameters: [username, "0", "*", realName.isEmpty ? username : realName])
    }

    /// `PASS <password>` (RFC 2812 §3.1.1); sent before NICK/USER.
    public static func pass(_ password: String) -> IRCMessage {
        IRCMessage(command: .pass, parameters: [password])
    }

    /// `PING <token>`.
    public static func ping(_ token: String) -> IRCMessage {
        IRCMessage(command: .ping, parameters: [token])
    }

    /// `PONG <token>`: the answer to a server's `PING <token>` (RFC 2812 §3.7.3).
    public static func pong(_ token: String) -> IRCMessage {
        IRCMessage(command: .pong, parameters: [token])
    }

    /// The `PONG` answering `ping` (its last parameter echoed), nil if `ping` is not a PING.
    public static func pong(answering ping: IRCMessage) -> IRCMessage? {
        guard ping.command == .ping, let token = ping.parameters.last else { return nil }
        return .pong(token)
    }

    /// `CAP LS 302` (IRCv3 capability-negotiation).
    public static func capabilityList(version: Int = 302) -> IRCMessage {
        IRCMessage(command: .cap, parameters: ["LS", String(version)])
    }

    /// `CAP REQ :<cap> <cap>…`.
    public static func capabilityRequest(_ capabilities: [String]) -> IRCMessage {
        IRCMessage(command: .cap, parameters: ["REQ", capabilities.joined(separator: " ")])
    }

    /// `CAP END`: ends negotiation so registration completes.
    public static func capabilityEnd() -> IRCMessage {
        IRCMessage(command: .cap, parameters: ["END"])
    }

    /// `AUTHENTICATE <mechanism>` or one payload chunk; `+` is an empty payload, `*` aborts.
    public static func authenticate(_ argument: String) -> IRCMessage {
        IRCMessage(command: .authenticate, parameters: [argument])
    }

    /// A base64 SASL payload as AUTHENTICATE messages (IRCv3 sasl-3.1
    /// "AUTHENTICATE"): 400-byte chunks; an empty payload, or one whose last
    /// chunk is exactly 400 bytes, ends with `AUTHENTICATE +`.
    public static func authenticate(base64Payload payload: String) -> [IRCMessage] {
        let bytes = Array(payload.utf8)
        var messages: [IRCMessage] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 400, bytes.count)
            messages.append(.authenticate(String(decoding: bytes[offset..<end], as: UTF8.self)))
            offset = end
        }
        if bytes.count % 400 == 0 { messages.append(.authenticate("+")) }
        return messages
    }

    /// `WHO <mask> [%<fields>[,<token>]]`: with `whoxFields` a WHOX query
    /// (e.g. `"tcuhnfa"` and token `"152"`, replies come as 354).
    public static func who(_ mask: String, whoxFields: String? = nil, token: String? = nil) -> IRCMessage {
        guard let whoxFields else { return IRCMessage(command: .who, parameters: [mask]) }
        return IRCMessage(command: .who, parameters: [mask, "%" + whoxFields + (token.map { "," + $0 } ?? "")])
    }

    /// `MODE <target> [<modes> <arguments>…]`.
    public static func mode(_ target: String, _ modes: String? = nil, arguments: [String] = []) -> IRCMessage {
        IRCMessage(command: .mode, parameters: [target] + (modes.map { [$0] + arguments } ?? []))
    }

    /// `TOPIC <channel> [:<topic>]`: queries the topic, or sets it.
    public static func topic(_ channel: String, text: String? = nil) -> IRCMessage {
        IRCMessage(command: .topic, parameters: [channel] + (text.map { [IRCText.sanitizedLine($0)] } ?? []))
    }

    /// `KICK <channel> <nick> [:<reason>]`.
    public static func kick(_ channel: String, nick: String, reason: String? = nil) -> IRCMessage {
        IRCMessage(command: .kick, parameters: [channel, nick] + (reason.map { [IRCText.sanitizedLine($0)] } ?? []))
    }

    /// `AWAY [:<message>]`: no message marks us back.
    public static func away(_ message: String? = nil) -> IRCMessage {
        IRCMessage(command: .away, parameters: message.map { [IRCText.sanitizedLine($0)] } ?? [])
    }
}
