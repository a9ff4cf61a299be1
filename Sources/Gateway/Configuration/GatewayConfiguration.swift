import Config
import Core
import DeskFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The gateway's own configuration file (`config/switchboard.json5` by
/// default): where the desk's files, the bot definitions and the store are,
/// how to log, and which chat networks to join. Paths are relative to the
/// file's folder. Secrets (SASL passwords, channel keys) are never written
/// in it: it names an environment variable or a file that holds them.
public struct GatewayConfiguration: Sendable {
    /// The file this was read from.
    public var file: URL
    /// The folder with `tiers.json5`, `agents.json5`, `escalation.json5`.
    public var deskFolder: URL
    /// The customer files (`.json5`, CRM `.csv`), named one by one in the
    /// file (`customers: [...]`, relative to the desk folder): a named file
    /// that is missing is an error, so a deleted file cannot quietly turn
    /// contract customers into unknown ones.
    public var customerFiles: [URL]
    /// The folder with the bot definitions (`support.json5`, `agent.json5`, `kb.json5`).
    public var botsFolder: URL
    /// Which store to open, and where (the `store` section).
    public var store: StoreSettings
    public var log: LogSettings
    /// The HTTP endpoint (`/healthz`, `/metrics`, the status page), if any.
    public var http: HTTPSettings?
    /// The chat networks, each with its kind (``NetworkSettings``).
    public var networks: [NetworkSettings]
    /// How this instance holds the store's lease when several share it
    /// (`instance: { lease: { ttlSeconds: 6, renewSeconds: 2 } }`; the
    /// defaults when absent).
    public var lease = LeaseTiming()

    /// The `store` section: `{ kind: "sqlite", path: "../var/switchboard.sqlite" }`
    /// (`kind` defaults to `sqlite`, so the older `{ path: … }` still works)
    /// or `{ kind: "postgres", url: { env: "SWITCHBOARD_DATABASE_URL" } }`
    /// (the URL holds a password, so it is a secret: never in the file).
    /// ``StoreFactory`` opens what it names.
    public enum StoreSettings: Sendable, Hashable, CustomStringConvertible {
        /// One SQLite file.
        case sqlite(path: URL)
        /// A PostgreSQL database; the connection URL (libpq's
        /// `postgresql://…` or `key=value` form) comes from `url`.
        case postgres(url: SecretSource)

        /// For logs: the file, or where the URL comes from (never the URL).
        public var description: String {
            switch self {
            case .sqlite(let path): path.path
            case .postgres(let url): "PostgreSQL (URL from the \(url))"
            }
        }
    }

    /// The SQLite file of an SQLite store, nil for PostgreSQL; setting it
    /// chooses an SQLite store at that path.
    public var storePath: URL? {
        get {
            switch store {
            case .sqlite(let path): path
            case .postgres: nil
            }
        }
        set { if let newValue { store = .sqlite(path: newValue) } }
    }

    public struct LogSettings: Sendable, Hashable {
        public var format: Logger.Format
        public var level: Logger.Level
    }

    /// The `http` section: `{ listen: "127.0.0.1:9464" }` (loopback only),
    /// or with `auth: { token: { env: "SWITCHBOARD_STATUS_TOKEN" } }` (or
    /// `{ file: … }`) any address, every request then needing the token.
    public struct HTTPSettings: Sendable, Hashable {
        public var host: String
        public var port: UInt16
        /// Where the access token is; nil: no token, loopback only.
        public var token: SecretSource?

        public init(host: String, port: UInt16, token: SecretSource? = nil) {
            self.host = host
            self.port = port
            self.token = token
        }
    }

    /// The desk's files to load (``DeskFiles/load(_:verifier:)``).
    public var deskPaths: DeskFiles.Paths {
        DeskFiles.Paths(tiers: deskFolder.appendingPathComponent("tiers.json5").path,
                        customers: customerFiles.map(\.path),
                        agents: deskFolder.appendingPathComponent("agents.json5").path,
                        escalation: deskFolder.appendingPathComponent("escalation.json5").path)
    }

    /// The default file, relative to the working directory.
    public static let defaultPath = "config/switchboard.json5"

    /// Reads and checks the file. Every problem is reported with file, line
    /// and field; secrets are not read here (see ``SecretSource/resolve(file:field:)``).
    public static func load(from url: URL) throws(ConfigError) -> GatewayConfiguration {
        let document = try ConfigDocument(contentsOf: url, displayName: url.relativePath)
        let raw = try document.decode(GatewayFile.self)
        let base = url.deletingLastPathComponent()
        func resolve(_ path: String) -> URL {
            path.hasPrefix("/") ? URL(fileURLWithPath: path).standardizedFileURL
                : base.appendingPathComponent(path).standardizedFileURL
        }
        var issues: [ConfigIssue] = []

        var log = LogSettings(format: .logfmt, level: .info)
        if let format = raw.log?.format {
            if let parsed = Logger.Format(rawValue: format) {
                log.format = parsed
            } else {
                issues.append(document.issue("unknown log format \"\(format)\" (expected \"logfmt\" or \"json\")",
                                             at: ConfigPath("log", "format")))
            }
        }
        if let level = raw.log?.level {
            if let parsed = Logger.Level(name: level) {
                log.level = parsed
            } else {
                let names = Logger.Level.allCases.map { "\"\($0)\"" }.joined(separator: ", ")
                issues.append(document.issue("unknown log level \"\(level)\" (expected one of \(names))",
                                             at: ConfigPath("log", "level")))
            }
        }

        var http: HTTPSettings?
        var httpToken: SecretSource?
        if let token = raw.http?.auth?.token {
            switch (token.env, token.file) {
            case (let env?, nil) where !env.isEmpty: httpToken = .environment(env)
            case (nil, let name?) where !name.isEmpty: httpToken = .file(resolve(name))
            default:
                issues.append(document.issue(
                    "a secret is given as { env: \"VARIABLE\" } or { file: \"path\" } (exactly one of them)",
                    at: ConfigPath("http", "auth", "token")))
            }
        }
        if let listen = raw.http?.listen {
            if let endpoint = HostPort(listen, defaultPort: nil), endpoint.port != 0 {
                if httpToken == nil, !HostPort.isNumericLoopback(endpoint.host) {
                    issues.append(document.issue(
                        "without http.auth the endpoint listens on a loopback IP address (127.0.0.1 or ::1), not \"\(endpoint.host)\""
                            + (HostPort.isLoopback(endpoint.host) ? " (a host name is not resolved here: write the address)"
                                : "; to listen there, set http.auth: { token: { env: \"VARIABLE\" } }"),
                        at: ConfigPath("http", "listen")))
                }
                http = HTTPSettings(host: endpoint.host, port: endpoint.port, token: httpToken)
            } else {
                issues.append(document.issue("expected host:port like \"127.0.0.1:9464\", found \"\(listen)\"",
                                             at: ConfigPath("http", "listen")))
            }
        }

        let storePath = resolve(raw.store?.path ?? "../var/switchboard.sqlite")
        var store = StoreSettings.sqlite(path: storePath)
        switch raw.store?.kind ?? "sqlite" {
        case "sqlite":
            store = .sqlite(path: storePath)
            if raw.store?.url != nil {
                issues.append(document.issue("an SQLite store has a path, not a url (for PostgreSQL write "
                    + "kind: \"postgres\")", at: ConfigPath("store", "url")))
            }
        case "postgres", "postgresql":
            if raw.store?.path != nil {
                issues.append(document.issue("a PostgreSQL store has a url, not a path", at: ConfigPath("store", "path")))
            }
            switch (raw.store?.url?.env, raw.store?.url?.file) {
            case (let env?, nil) where !env.isEmpty:
                store = .postgres(url: .environment(env))
            case (nil, let name?) where !name.isEmpty:
                store = .postgres(url: .file(resolve(name)))
            default:
                issues.append(document.issue("a PostgreSQL store needs url: { env: \"VARIABLE\" } or "
                    + "{ file: \"path\" } (exactly one; the URL holds a password, so never the URL itself)",
                    at: ConfigPath("store", "url")))
            }
        case let kind:
            issues.append(document.issue("unknown store kind \"\(kind)\" (expected \"sqlite\" or \"postgres\")",
                                         at: ConfigPath("store", "kind")))
        }

        var lease = LeaseTiming()
        if let entry = raw.instance?.lease {
            let defaults = LeaseTiming()
            do {
                lease = try LeaseTiming(ttlSeconds: entry.ttlSeconds ?? defaults.ttl.timeInterval,
                                        renewSeconds: entry.renewSeconds ?? defaults.renewEvery.timeInterval)
            } catch {
                issues.append(document.issue("\(error)", at: ConfigPath("instance", "lease", .key(error.field))))
            }
        }

        var networks: [NetworkSettings] = []
        var names: Set<String> = []
        if raw.networks.isEmpty {
            issues.append(document.issue("at least one network is needed", at: ConfigPath("networks")))
        }
        for (index, entry) in raw.networks.enumerated() {
            let path = ConfigPath("networks", .index(index))
            do {
                let network = try NetworkSettings(entry, document: document, path: path, base: base)
                if !names.insert(network.name).inserted {
                    issues.append(document.issue("network name \"\(network.name)\" is used twice",
                                                 at: path.appending("name")))
                }
                networks.append(network)
            } catch {
                issues += error.issues
            }
        }
        let deskFolder = resolve(raw.desk ?? ".")
        var customerFiles: [URL] = []
        switch raw.customers {
        case nil:
            issues.append(document.issue(
                "missing field 'customers': name every customer file, relative to the desk folder, e.g. "
                    + "customers: [\"customers.json5\", \"customers.csv\"] (a file not named is not read)",
                at: .root).with(field: "customers"))
        case let names? where names.isEmpty:
            issues.append(document.issue("no customer files: name at least one (customers.json5 or a CRM .csv export)",
                                         at: ConfigPath("customers")))
        case let names?:
            for (index, name) in names.enumerated() {
                let lower = name.lowercased()
                if !(lower.hasSuffix(".json5") || lower.hasSuffix(".json") || lower.hasSuffix(".csv")) {
                    issues.append(document.issue("a customer file is .json5 or .csv, found \"\(name)\"",
                                                 at: ConfigPath("customers", .index(index))))
                }
                let file = name.hasPrefix("/") ? URL(fileURLWithPath: name).standardizedFileURL
                    : deskFolder.appendingPathComponent(name).standardizedFileURL
                if customerFiles.contains(file) {
                    issues.append(document.issue("\"\(name)\" is named twice", at: ConfigPath("customers", .index(index))))
                }
                customerFiles.append(file)
            }
        }
        guard issues.isEmpty else { throw ConfigError(issues) }
        return GatewayConfiguration(
            file: url, deskFolder: deskFolder, customerFiles: customerFiles, botsFolder: resolve(raw.bots ?? "../bots"),
            store: store, log: log, http: http,
            networks: networks, lease: lease)
    }
}

/// Where a secret comes from: an environment variable or a file (the first
/// line, without its line break). Never the configuration file itself.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    case environment(String)
    case file(URL)

    /// The secret's value, or an error naming the variable or file.
    public func resolve(field: String) throws -> String {
        switch self {
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw SecretError(description: "\(field): the environment variable \(name) is not set")
            }
            return value
        case .file(let url):
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw SecretError(description: "\(field): cannot read \(url.path): \(error.localizedDescription)")
            }
            guard let line = text.split(whereSeparator: \.isNewline).first, !line.isEmpty else {
                throw SecretError(description: "\(field): \(url.path) is empty")
            }
            return String(line)
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let url): "file \(url.path)"
        }
    }
}

/// A secret could not be read.
public struct SecretError: Error, CustomStringConvertible {
    public let description: String
}

/// `host:port`, `[v6]:port` or `host` (with a default port).
struct HostPort: Hashable {
    var host: String
    var port: UInt16

    init?(_ text: String, defaultPort: UInt16?) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
        if let portText {
            guard let port = UInt16(portText) else { return nil }
            self.port = port
        } else {
            guard let defaultPort else { return nil }
            self.port = defaultPort
        }
        self.host = String(host)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A numeric loopback address (127.0.0.0/8 or ::1): what the HTTP
    /// endpoint can bind without a name lookup.
    static func isNumericLoopback(_ host: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
    }
}

// MARK: - The file as written

struct GatewayFile: Decodable {
    var desk: String?
    var customers: [String]?
    var bots: String?
    var store: StoreEntry?
    var log: LogEntry?
    var http: HTTPEntry?
    var networks: [NetworkEntry]
    var instance: InstanceEntry?

    struct StoreEntry: Decodable {
        var kind: String?
        var path: String?
        var url: SecretEntry?
    }
    struct LogEntry: Decodable {
        var format: String?
        var level: String?
    }
    struct HTTPEntry: Decodable {
        var listen: String?
        var auth: HTTPAuthEntry?
    }
    struct HTTPAuthEntry: Decodable { var token: SecretEntry? }
    struct InstanceEntry: Decodable { var lease: LeaseEntry? }
    struct LeaseEntry: Decodable {
        var ttlSeconds: Double?
        var renewSeconds: Double?
    }
}

struct SecretEntry: Decodable {
    var env: String?
    var file: String?
}

/// A `networks` entry as written: the fields of every kind (strict
/// decoding refuses other keys); each kind's settings refuse the other
/// kinds' fields and name its own missing ones.
struct NetworkEntry: Decodable {
    /// `irc` (the default when absent) or `matrix`.
    var kind: String?
    var name: String
    var server: String?
    var tls: TLSEntry?
    var nick: String?
    var alternativeNicks: [String]?
    var user: String?
    var realName: String?
    var password: SecretEntry?
    var sasl: SASLEntry?
    var channels: [ChannelEntry]?
    var agentsChannel: String?
    var supportChannels: [String]?
    var language: String?
    var identifyAgentsBy: String?
    var sendQueue: SendQueueEntry?
    // Matrix (``MatrixNetworkSettings``); `user`, `password` and `language` are shared.
    var homeserver: String?
    var accessToken: SecretEntry?
    var rooms: [String]?
    var agentsRoom: String?
    var supportRooms: [String]?
    var invitesFrom: [String]?
    var deviceName: String?
    var caFile: String?
    var readReceipts: Bool?

    /// Whether the entry sets `field` (one of the kind-specific ones).
    func has(_ field: String) -> Bool {
        switch field {
        case "server": server != nil
        case "nick": nick != nil
        case "tls": tls != nil
        case "alternativeNicks": alternativeNicks != nil
        case "realName": realName != nil
        case "sasl": sasl != nil
        case "channels": channels != nil
        case "agentsChannel": agentsChannel != nil
        case "supportChannels": supportChannels != nil
        case "identifyAgentsBy": identifyAgentsBy != nil
        case "sendQueue": sendQueue != nil
        case "homeserver": homeserver != nil
        case "accessToken": accessToken != nil
        case "rooms": rooms != nil
        case "agentsRoom": agentsRoom != nil
        case "supportRooms": supportRooms != nil
        case "invitesFrom": invitesFrom != nil
        case "deviceName": deviceName != nil
        case "caFile": caFile != nil
        case "readReceipts": readReceipts != nil
        default: false
        }
    }

    struct TLSEntry: Decodable {
        var verify: Bool?
        var caFile: String?
        var serverName: String?
        var clientCertificate: String?
        var clientKey: String?
    }
    struct SASLEntry: Decodable {
        var mechanism: String
        var account: String?
        var password: SecretEntry?
        var required: Bool?
    }
    struct ChannelEntry: Decodable {
        var name: String
        var key: SecretEntry?
    }
    struct SendQueueEntry: Decodable {
        var preset: String?
        var burst: Int?
        var interval: ConfigDuration?
        var expireAfter: ConfigDuration?
    }
}
