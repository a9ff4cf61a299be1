import Core
import Config
import Foundation
import IRC
import IRCClient

/// One IRC network as configured in `switchboard.json5`.
public struct IRCNetworkSettings: Sendable, Hashable {
    /// The name used everywhere else (`demo`, `libera`): in agents'
    /// `accounts`, in the audit trail, in logs.
    public var name: String
    public var host: String
    public var port: UInt16
    /// Nil: plain TCP.
    public var tls: TLSSettings?
    public var nick: String
    /// Tried in order when the nick is taken (then the nick with digits).
    public var alternativeNicks: [String]
    public var user: String
    public var realName: String
    /// The server password (`PASS`), if the network needs one.
    public var password: SecretSource?
    public var sasl: SASLSettings?
    public var channels: [Channel]
    /// Where pages and announcements go; one of `channels`.
    public var agentsChannel: String?
    /// Channels where customers may address the bot (`switchboard: help`).
    public var supportChannels: [String]
    /// The language of channel lines (`de` or `en`).
    public var language: String
    /// Whether agents are recognised by network account (a network with
    /// services and account-tag) or by `nick!user@host` mask.
    public var identifyAgentsByAccount: Bool
    public var sendQueue: SendQueueSettings

    public struct TLSSettings: Sendable, Hashable {
        /// False only for a self-signed test server; logged as a warning at every connect.
        public var verify: Bool
        public var caFile: URL?
        /// The name the certificate must carry (default: the host).
        public var serverName: String?
        public var clientCertificate: URL?
        public var clientKey: URL?
    }

    public enum SASLMechanism: String, Sendable, Hashable {
        case plain = "PLAIN"
        case external = "EXTERNAL"
    }

    public struct SASLSettings: Sendable, Hashable {
        public var mechanism: SASLMechanism
        public var account: String?
        public var password: SecretSource?
        /// Stop (and retry later) when SASL fails, rather than going on
        /// without an account. Default true: a bot whose account matters
        /// (channel access, being recognised) should not run without it.
        public var required: Bool
    }

    public struct Channel: Sendable, Hashable {
        public var name: String
        public var key: SecretSource?
    }

    /// The send queue's flood limits: the IRC client's own settings, with
    /// its `standard` and `fast` presets.
    public typealias SendQueueSettings = IRCClientConfiguration.SendQueueSettings

    init(_ entry: NetworkEntry, document: ConfigDocument, path: ConfigPath, base: URL) throws(ConfigError) {
        var issues: [ConfigIssue] = []
        func issue(_ message: String, _ components: ConfigPath.Component...) {
            issues.append(document.issue(message, at: path.appending(ConfigPath(components: components))))
        }
        func file(_ path: String) -> URL {
            path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path).standardizedFileURL
        }
        func secret(_ entry: SecretEntry?, _ components: ConfigPath.Component...) -> SecretSource? {
            guard let entry else { return nil }
            let at = path.appending(ConfigPath(components: components))
            switch (entry.env, entry.file) {
            case (let env?, nil) where !env.isEmpty: return .environment(env)
            case (nil, let name?) where !name.isEmpty: return .file(file(name))
            default:
                issues.append(document.issue(
                    "a secret is given as { env: \"VARIABLE\" } or { file: \"path\" } (exactly one of them)", at: at))
                return nil
            }
        }

        for field in MatrixNetworkSettings.matrixOnlyFields where entry.has(field) {
            issue("\"\(field)\" is a field of Matrix networks (kind: \"matrix\"), not of IRC networks", .key(field))
        }
        for field in ["server", "nick"] where !entry.has(field) {
            issues.append(document.issue("missing field '\(field)'", at: path)
                .with(field: path.appending(.key(field)).description))
        }
        let server = entry.server ?? ""
        let entryNick = entry.nick ?? "switchboard"
        name = entry.name
        if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            issue("a network name is letters, digits, - and _ (found \"\(entry.name)\")", "name")
        }
        let defaultPort: UInt16 = entry.tls == nil ? 6667 : 6697
        if let endpoint = HostPort(server, defaultPort: defaultPort), endpoint.port != 0 {
            host = endpoint.host
            port = endpoint.port
        } else {
            host = ""
            port = 0
            if entry.server != nil { issue("expected host:port like \"irc.libera.chat:6697\", found \"\(server)\"", "server") }
        }
        if let t = entry.tls {
            tls = TLSSettings(verify: t.verify ?? true, caFile: t.caFile.map(file), serverName: t.serverName,
                              clientCertificate: t.clientCertificate.map(file), clientKey: t.clientKey.map(file))
            if (t.clientCertificate == nil) != (t.clientKey == nil) {
                issue("clientCertificate and clientKey go together", "tls")
            }
        } else {
            tls = nil
        }
        nick = entryNick
        alternativeNicks = entry.alternativeNicks ?? [entryNick + "_", entryNick + "__"]
        for (i, candidate) in ([entryNick] + alternativeNicks).enumerated() where !Self.isValidNick(candidate) {
            if i == 0 {
                issue("\"\(candidate)\" is not a valid IRC nick", "nick")
            } else {
                issue("\"\(candidate)\" is not a valid IRC nick", "alternativeNicks", .index(i - 1))
            }
        }
        user = entry.user ?? entryNick
        if user.isEmpty || user.contains(where: { $0 == " " || $0 == "@" || !$0.isASCII || $0.isNewline }) {
            issue("the user name must be ASCII without spaces or @", "user")
        }
        realName = entry.realName ?? "Switchboard support bot"
        if realName.contains(where: \.isNewline) { issue("the real name must be one line", "realName") }
        password = secret(entry.password, "password")

        if let s = entry.sasl {
            if let mechanism = SASLMechanism(rawValue: s.mechanism.uppercased()) {
                let password = secret(s.password, "sasl", "password")
                if mechanism == .plain && (s.account == nil || password == nil) {
                    issue("SASL PLAIN needs account and password ({ env: … } or { file: … })", "sasl")
                }
                if mechanism == .external && entry.tls?.clientCertificate == nil {
                    issue("SASL EXTERNAL needs a TLS client certificate (tls.clientCertificate, tls.clientKey)", "sasl")
                }
                sasl = SASLSettings(mechanism: mechanism, account: s.account, password: password,
                                    required: s.required ?? true)
            } else {
                sasl = nil
                issue("unknown SASL mechanism \"\(s.mechanism)\" (expected \"PLAIN\" or \"EXTERNAL\")", "sasl", "mechanism")
            }
        } else {
            sasl = nil
        }

        var channels: [Channel] = []
        for (i, c) in (entry.channels ?? []).enumerated() {
            if !Self.isValidChannel(c.name) {
                issue("\"\(c.name)\" is not a channel name (it starts with #, &, + or ! and has no spaces or commas)",
                      "channels", .index(i), "name")
            }
            channels.append(Channel(name: c.name, key: secret(c.key, "channels", .index(i), "key")))
        }
        self.channels = channels
        let joined = Set(channels.map { $0.name.lowercased() })
        agentsChannel = entry.agentsChannel
        if let agents = entry.agentsChannel, !joined.contains(agents.lowercased()) {
            issue("the agents' channel \"\(agents)\" is not in this network's channels", "agentsChannel")
        }
        supportChannels = entry.supportChannels ?? []
        for (i, c) in supportChannels.enumerated() where !joined.contains(c.lowercased()) {
            issue("\"\(c)\" is not in this network's channels", "supportChannels", .index(i))
        }
        language = entry.language ?? "en"
        if !["de", "en"].contains(language) { issue("language is \"de\" or \"en\"", "language") }
        switch entry.identifyAgentsBy ?? (entry.sasl != nil ? "account" : "mask") {
        case "account": identifyAgentsByAccount = true
        case "mask": identifyAgentsByAccount = false
        default:
            identifyAgentsByAccount = false
            issue("identifyAgentsBy is \"account\" (networks with services and account-tag) or \"mask\"",
                  "identifyAgentsBy")
        }

        var queue = SendQueueSettings.standard
        if let q = entry.sendQueue {
            switch q.preset {
            case nil, "standard": break
            case "fast": queue = .fast
            case let other?: issue("unknown preset \"\(other)\" (expected \"standard\" or \"fast\")", "sendQueue", "preset")
            }
            if let burst = q.burst {
                if burst < 1 { issue("burst must be at least 1", "sendQueue", "burst") }
                queue.burst = burst
            }
            if let interval = q.interval { queue.interval = interval.duration }
            if let expire = q.expireAfter { queue.bulkExpiry = expire.duration }
        }
        sendQueue = queue
        guard issues.isEmpty else { throw ConfigError(issues) }
    }

    /// A nick the protocol layer accepts, and that does not start with a
    /// digit or `-` (RFC 2812 §2.3.1; most servers refuse those with 432, and
    /// the bot would never register).
    static func isValidNick(_ nick: String) -> Bool {
        guard let first = nick.first, !first.isNumber, first != "-", nick.allSatisfy(\.isASCII) else { return false }
        return (try? IRCNickName(nick, maximumLength: 30)) != nil
    }

    /// A channel name the protocol layer accepts (RFC 2812 §1.3).
    static func isValidChannel(_ name: String) -> Bool {
        (try? IRCChannelName(name, channelTypes: "#&+!")) != nil
    }
}
