import Core
import Dispatch
import Foundation
import IRC
import IRCClient
import Transport

/// `switchboard irc`: connects to a network with the gateway's IRC client,
/// joins channels and prints every event — a debugging tool for operators
/// (does the bot get in, is SASL accepted, which accounts does it see?).
enum IRCCommand {
    static let command = SwitchboardCommand(
        name: "irc",
        summary: "connect to an IRC network, join, and print what arrives (debugging)",
        usage: """
            usage: switchboard irc --server HOST[:PORT] --nick NICK [--join CHANNEL]... [--tls] [--insecure]
                                   [--ca-file PEM] [--sasl-account ACCOUNT] [--sasl-external --client-cert PEM]
                                   [--sasl-optional] [--fast] [--quit-after-join] [--log-level LEVEL]

            Connects with the same client the gateway uses (CAP, SASL, keep-alive,
            reconnects), joins the channels and prints one line per event until Ctrl-C,
            which sends QUIT. Messages show the sender's account when it is known.

              --server HOST[:PORT]   default port 6667, or 6697 with --tls
              --tls                  TLS with certificate verification
              --insecure             TLS without verification (self-signed test servers only)
              --sasl-account A       SASL PLAIN as A; the password is read from the
                                     environment variable SWITCHBOARD_SASL_PASSWORD
              --sasl-external        SASL EXTERNAL with the TLS client certificate --client-cert
              --sasl-optional        go on without an account when SASL fails
              --fast                 no flood throttle (test servers only)
              --quit-after-join      QUIT and exit 0 once every channel is joined (scripts, timing)
            """
    ) { words in
        var args = try Arguments(words, flagNames: ["tls", "insecure", "sasl-external", "sasl-optional", "fast",
                                                    "quit-after-join"])
        guard let serverText = try args.option("server") else { throw UsageError("--server is required") }
        guard let nick = try args.option("nick") else { throw UsageError("--nick is required") }
        let channels = args.options("join")
        let insecure = args.flag("insecure")
        let useTLS = args.flag("tls") || insecure
        let caFile = try args.option("ca-file")
        let clientCertificate = try args.option("client-cert")
        let saslAccount = try args.option("sasl-account")
        let saslExternal = args.flag("sasl-external")
        let saslOptional = args.flag("sasl-optional")
        let fast = args.flag("fast")
        let quitAfterJoin = args.flag("quit-after-join")
        let levelName = try args.option("log-level") ?? "warning"
        try args.finish()

        guard let endpoint = HostPort(serverText, defaultPort: useTLS ? 6697 : 6667), endpoint.port != 0 else {
            throw UsageError("--server: expected HOST[:PORT], found \"\(serverText)\"")
        }
        guard let level = Logger.Level(name: levelName) else {
            throw UsageError("--log-level: one of debug, info, notice, warning, error")
        }
        for channel in channels where (try? IRCChannelName(channel, channelTypes: "#&+!")) == nil {
            throw UsageError("--join: \"\(channel)\" is not a channel name")
        }
        var sasl: IRCClientConfiguration.SASL?
        if let saslAccount {
            guard let password = ProcessInfo.processInfo.environment["SWITCHBOARD_SASL_PASSWORD"], !password.isEmpty
            else { throw UsageError("--sasl-account needs the password in SWITCHBOARD_SASL_PASSWORD") }
            sasl = .plain(account: saslAccount, password: password, required: !saslOptional)
        } else if saslExternal {
            guard clientCertificate != nil, useTLS else {
                throw UsageError("--sasl-external needs --tls and --client-cert")
            }
            sasl = .external(required: !saslOptional)
        }
        let tls: TLSOptions? = useTLS
            ? TLSOptions(verifyPeer: !insecure, caFile: caFile, clientCertificateFile: clientCertificate) : nil

        let configuration = IRCClientConfiguration(
            host: endpoint.host, port: endpoint.port, tls: tls, nick: nick, sasl: sasl,
            channels: channels.map { .init($0) }, sendQueue: fast ? .fast : .standard)
        let logger = Logger(minimumLevel: level)
        let client = IRCClient(configuration: configuration, clock: SystemClock(), logger: logger)

        // Ctrl-C (or SIGTERM): QUIT politely, then exit.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let signals = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler {
                Task { await client.shutdown(quitMessage: "switchboard irc: interrupted", drainFor: .seconds(2)) }
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        let printer = Task {
            var waiting = Set(channels.map { $0.lowercased() })
            for await event in client.events {
                // One write per event, as it happens: `print` goes through
                // the C library, which holds lines back in a 4 KiB block when
                // standard output is a file or a pipe (`| grep`) until exit.
                FileHandle.standardOutput.write(Data((line(for: event) + "\n").utf8))
                if quitAfterJoin, case .joined(let channel) = event {
                    waiting.remove(channel.lowercased())
                    if waiting.isEmpty {
                        Task { await client.shutdown(quitMessage: "switchboard irc: done", drainFor: .seconds(1)) }
                    }
                }
            }
        }
        try await client.run()
        await printer.value
        return 0
    }

    /// One line per event: time, kind, details (messages with the account).
    static func line(for event: IRCClientEvent) -> String {
        let time = Date().formatted(.iso8601.time(includingFractionalSeconds: true))
        let text: String
        switch event {
        case .connected(let server): text = "connected to \(server)"
        case .registered(let nick): text = "registered as \(nick)"
        case .loggedIn(let account): text = "logged in as account \(account)"
        case .saslFailed(let reason): text = "SASL FAILED: \(reason)"
        case .joined(let channel): text = "joined \(channel)"
        case .parted(let channel): text = "parted \(channel)"
        case .kicked(let channel, let by, let reason): text = "kicked from \(channel) by \(by): \(reason)"
        case .joinFailed(let channel, let reason, let retryAt):
            text = "cannot join \(channel): \(reason)" + (retryAt.map { "; retry at \($0.formatted(.iso8601))" } ?? "")
        case .nickChanged(let old, let new, let isSelf): text = "nick \(old) → \(new)" + (isSelf ? " (us)" : "")
        case .accountChanged(let nick, let account): text = "account of \(nick): \(account ?? "(not logged in)")"
        case .message(let m):
            let account = m.account.map { "[\($0)]" } ?? (m.accountSource == .tagAbsent ? "[not logged in]" : "[?]")
            let kind = m.isNotice ? "notice" : m.isAction ? "action" : "message"
            text = "\(kind) \(m.channel ?? "(private)") <\(m.senderNick)\(account)> \(visible(m.text))"
        case .delivered(let id, _): text = "delivered \(id)"
        case .expired(let id): text = "expired \(id)"
        case .superseded(let id): text = "superseded \(id)"
        case .dropped(let id, let reason): text = "dropped \(id): \(reason)"
        case .withheld(let id, let reason): text = "withheld \(id): \(reason)"
        case .error(let message): text = "ERROR: \(message)"
        case .disconnected(let reason, let at):
            text = "disconnected: \(reason)" + (at.map { "; reconnecting at \($0.formatted(.iso8601))" } ?? "")
        }
        return "\(time) \(text)"
    }

    /// Text safe for a terminal: control characters (IRC formatting codes,
    /// escape sequences) shown as `\xNN`.
    static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                out += String(format: "\\x%02X", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
