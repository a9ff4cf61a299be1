import Config
import Foundation
import Matrix

/// One Matrix network as configured in `switchboard.json5` (`kind: "matrix"`):
///
/// ```json5
/// { kind: "matrix", name: "matrix", homeserver: "https://matrix.example.org",
///   user: "@switchboard:example.org", password: { env: "SWITCHBOARD_MATRIX_PASSWORD" },
///   rooms: ["#support-agents:example.org", "#support:example.org"],
///   agentsRoom: "#support-agents:example.org", supportRooms: ["#support:example.org"],
///   invitesFrom: [":example.org"], language: "de" }   // caFile: "hs-ca.pem" for a private CA,
///                                                      // readReceipts: true to mark handled messages read
/// ```
public struct MatrixNetworkSettings: Sendable, Hashable {
    public var name: String
    /// `https://…` (`http://` only for a loopback test homeserver).
    public var homeserver: URL
    /// The bot's user id.
    public var userID: String
    /// Exactly one of `password` (logs in, renews an expired token) and
    /// `accessToken`.
    public var password: SecretSource?
    public var accessToken: SecretSource?
    /// Rooms joined at start: ids (`!…:server`) or aliases (`#…:server`).
    public var rooms: [String]
    /// Where pages and announcements go; one of `rooms`.
    public var agentsRoom: String?
    /// Rooms where customers may address the bot; each one of `rooms`.
    public var supportRooms: [String]
    /// Who may invite the bot into a direct room: user ids, `:server` for a
    /// whole homeserver, or `*`. Default: users of the bot's own homeserver.
    public var invitesFrom: [String]
    /// `de` or `en`.
    public var language: String
    /// The device's display name in the user's session list.
    public var deviceName: String
    /// A PEM file of CA certificates trusted for the homeserver *instead of*
    /// the system store (a homeserver with a private CA); the host name is
    /// still verified. Relative to the configuration file.
    public var caFile: URL?
    /// Marks the customer messages the bots handled as read (`m.read`
    /// receipts). Default false.
    public var readReceipts: Bool

    /// The fields of an IRC entry, refused in a Matrix entry (and the other way round).
    static let ircOnlyFields = ["server", "nick", "tls", "alternativeNicks", "realName", "sasl", "channels",
                                "agentsChannel", "supportChannels", "identifyAgentsBy", "sendQueue"]
    static let matrixOnlyFields = ["homeserver", "accessToken", "rooms", "agentsRoom", "supportRooms", "invitesFrom",
                                   "deviceName", "caFile", "readReceipts"]

    init(_ entry: NetworkEntry, document: ConfigDocument, path: ConfigPath, base: URL) throws(ConfigError) {
        var issues: [ConfigIssue] = []
        func issue(_ message: String, _ components: ConfigPath.Component...) {
            issues.append(document.issue(message, at: path.appending(ConfigPath(components: components))))
        }
        func secret(_ entry: SecretEntry?, _ field: String) -> SecretSource? {
            guard let entry else { return nil }
            switch (entry.env, entry.file) {
            case (let env?, nil) where !env.isEmpty: return .environment(env)
            case (nil, let name?) where !name.isEmpty:
                return .file(name.hasPrefix("/") ? URL(fileURLWithPath: name)
                    : base.appendingPathComponent(name).standardizedFileURL)
            default:
                issue("a secret is given as { env: \"VARIABLE\" } or { file: \"path\" } (exactly one of them)", .key(field))
                return nil
            }
        }
        for field in Self.ircOnlyFields where entry.has(field) {
            issue("\"\(field)\" is a field of IRC networks; a Matrix network has homeserver, user, password or "
                + "accessToken, rooms, agentsRoom, supportRooms, invitesFrom, language, deviceName, caFile, readReceipts",
                  .key(field))
        }

        name = entry.name
        if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            issue("a network name is letters, digits, - and _ (found \"\(entry.name)\")", "name")
        }
        let homeserverText = entry.homeserver ?? ""
        if let url = URL(string: homeserverText), let scheme = url.scheme?.lowercased(), let host = url.host,
           scheme == "https" || (scheme == "http" && HostPort.isLoopback(host)), url.query == nil {
            homeserver = url
        } else {
            homeserver = URL(string: "https://invalid.invalid")!
            if entry.homeserver == nil {
                issues.append(document.issue("missing field 'homeserver' (e.g. \"https://matrix.example.org\")",
                                             at: path).with(field: path.appending("homeserver").description))
            } else {
                issue("expected an https:// URL like \"https://matrix.example.org\" (http:// only for a loopback "
                    + "test server), found \"\(homeserverText)\"", "homeserver")
            }
        }
        userID = entry.user ?? ""
        if !MatrixID.isUserID(userID) {
            if entry.user == nil {
                issues.append(document.issue("missing field 'user' (the bot's user id, e.g. \"@switchboard:example.org\")",
                                             at: path).with(field: path.appending("user").description))
            } else {
                issue("\"\(userID)\" is not a Matrix user id (like \"@switchboard:example.org\")", "user")
            }
        }
        password = secret(entry.password, "password")
        accessToken = secret(entry.accessToken, "accessToken")
        if (entry.password == nil) == (entry.accessToken == nil) {
            issue("give exactly one of password and accessToken ({ env: … } or { file: … })",
                  entry.password == nil ? "user" : "accessToken")
        }
        rooms = entry.rooms ?? []
        for (i, room) in rooms.enumerated() where !(MatrixID.isRoomID(room) || MatrixID.isRoomAlias(room)) {
            issue("\"\(room)\" is not a room id (!id:server) or alias (#name:server)", "rooms", .index(i))
        }
        agentsRoom = entry.agentsRoom
        if let agents = agentsRoom, !rooms.contains(agents) {
            issue("the agents' room \"\(agents)\" is not in this network's rooms", "agentsRoom")
        }
        supportRooms = entry.supportRooms ?? []
        for (i, room) in supportRooms.enumerated() where !rooms.contains(room) {
            issue("\"\(room)\" is not in this network's rooms", "supportRooms", .index(i))
        }
        invitesFrom = entry.invitesFrom ?? MatrixID.server(userID).map { [":" + $0] } ?? []
        for (i, rule) in invitesFrom.enumerated()
        where !(rule == "*" || MatrixID.isUserID(rule) || (rule.hasPrefix(":") && rule.count > 1)) {
            issue("\"\(rule)\" is not a user id, \":server\" or \"*\"", "invitesFrom", .index(i))
        }
        language = entry.language ?? "en"
        if !["de", "en"].contains(language) { issue("language is \"de\" or \"en\"", "language") }
        deviceName = entry.deviceName ?? "Switchboard"
        caFile = entry.caFile.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0)
            : base.appendingPathComponent($0).standardizedFileURL }
        if let caFile, homeserver.scheme?.lowercased() != "https" {
            issue("caFile is for an https:// homeserver (found \"\(caFile.path)\" with \(homeserverText))", "caFile")
        }
        readReceipts = entry.readReceipts ?? false
        guard issues.isEmpty else { throw ConfigError(issues) }
    }

    /// The credentials, secrets read now.
    /// - Throws: ``SecretError`` naming the variable or file.
    public func credentials() throws -> MatrixCredentials {
        if let password { return .password(try password.resolve(field: "networks.\(name).password")) }
        if let accessToken { return .accessToken(try accessToken.resolve(field: "networks.\(name).accessToken")) }
        throw SecretError(description: "networks.\(name): no password or accessToken")
    }
}
