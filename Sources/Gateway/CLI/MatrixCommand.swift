import Bots
import Core
import Dispatch
import Foundation
import Matrix
import MatrixAdapter
import Transport

/// `switchboard matrix`: logs in to a homeserver with the gateway's Matrix
/// adapter, joins rooms and prints one line per event — the Matrix twin of
/// `switchboard irc` (does the bot get in, which user ids does it see?).
enum MatrixCommand {
    static let command = SwitchboardCommand(
        name: "matrix",
        summary: "log in to a Matrix homeserver, join rooms, and print what arrives (debugging)",
        usage: """
            usage: switchboard matrix --homeserver URL --user @BOT:SERVER [--room ID_OR_ALIAS]...
                                      [--invites-from RULE]... [--ca-file PEM] [--exit-after-sync]
                                      [--log-level LEVEL]

            Logs in with the adapter the gateway uses (password from the environment
            variable SWITCHBOARD_MATRIX_PASSWORD, or an access token from
            SWITCHBOARD_MATRIX_TOKEN), joins the rooms, syncs and prints one line per
            event until Ctrl-C. Messages show the sender's user id (never a display
            name) and the room. History from before the start is not printed.

              --room R            a room id (!id:server) or alias (#name:server) to join
              --invites-from R    accept direct-room invites from a user id, :server or *
              --ca-file PEM       trust these CA certificates for the homeserver instead of
                                  the system's (a private CA); the host name is still checked
              --exit-after-sync   exit 0 after the first sync (scripts, checks)
            """
    ) { words in
        var args = try Arguments(words, flagNames: ["exit-after-sync"])
        guard let homeserverText = try args.option("homeserver") else { throw UsageError("--homeserver is required") }
        guard let user = try args.option("user") else { throw UsageError("--user is required") }
        let rooms = args.options("room")
        let invitesFrom = args.options("invites-from")
        let exitAfterSync = args.flag("exit-after-sync")
        let levelName = try args.option("log-level") ?? "warning"
        let caFile = try args.option("ca-file")
        try args.finish()

        guard let homeserver = URL(string: homeserverText), let scheme = homeserver.scheme,
              ["http", "https"].contains(scheme.lowercased()), homeserver.host != nil else {
            throw UsageError("--homeserver: expected a URL like https://matrix.example.org, found \"\(homeserverText)\"")
        }
        guard MatrixID.isUserID(user) else { throw UsageError("--user: \"\(user)\" is not a user id (@bot:server)") }
        for room in rooms where !(MatrixID.isRoomID(room) || MatrixID.isRoomAlias(room)) {
            throw UsageError("--room: \"\(room)\" is not a room id (!id:server) or alias (#name:server)")
        }
        guard let level = Logger.Level(name: levelName) else {
            throw UsageError("--log-level: one of debug, info, notice, warning, error")
        }
        let environment = ProcessInfo.processInfo.environment
        let credentials: MatrixCredentials
        if let password = environment["SWITCHBOARD_MATRIX_PASSWORD"], !password.isEmpty {
            credentials = .password(password)
        } else if let token = environment["SWITCHBOARD_MATRIX_TOKEN"], !token.isEmpty {
            credentials = .accessToken(token)
        } else {
            throw UsageError("set SWITCHBOARD_MATRIX_PASSWORD (or SWITCHBOARD_MATRIX_TOKEN) in the environment")
        }
        let logger = Logger(minimumLevel: level)
        let transports = HTTPClientTransport.pair(tls: TLSOptions(caFile: caFile), logger: logger)
        let configuration = MatrixNetworkConfiguration(
            homeserver: homeserver, userID: user, credentials: credentials, rooms: rooms, invitesFrom: invitesFrom,
            encryptedRoomText: "This room is encrypted, and I cannot read encrypted messages. "
                + "Please open an unencrypted direct chat with me.", deviceDisplayName: "switchboard matrix")
        let network = MatrixChatNetwork(name: "matrix", configuration: configuration, transport: transports.requests,
                                        syncTransport: transports.sync, storage: MemoryMatrixStateStorage(),
                                        deviceID: nil, clock: SystemClock(), logger: logger)

        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let signals = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler { Task { await network.shutdown(message: "", deadline: .seconds(1)) } }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        try await network.run(events: { event in
            FileHandle.standardOutput.write(Data((line(for: event) + "\n").utf8))
            if exitAfterSync, case .connected = event {
                Task { await network.shutdown(message: "", deadline: .seconds(1)) }
            }
        }, deliveries: { _ in })
        return 0
    }

    /// One line per event: time, kind, details (messages with the user id).
    static func line(for event: ChatEvent) -> String {
        let time = Date().formatted(.iso8601.time(includingFractionalSeconds: true))
        let text: String
        switch event {
        case .connected: text = "syncing"
        case .disconnected(_, let reason): text = "not syncing: \(reason)"
        case .message(let m):
            let kind = m.isAction ? "action" : "message"
            let place = m.place == .direct ? "(direct)" : m.place.description
            text = "\(kind) \(place) <\(m.principal.account ?? m.sender.nick)>"
                + "\(m.addressedToBot && m.place != .direct ? " [to the bot]" : "") \(IRCCommand.visible(m.text))"
        case .nickChanged(_, let from, let to): text = "nick \(from) → \(to)"
        case .accountChanged(_, let nick, let account): text = "account of \(nick): \(account ?? "-")"
        }
        return "\(time) \(text)"
    }
}
