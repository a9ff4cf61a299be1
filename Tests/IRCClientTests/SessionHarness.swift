import Core
import Foundation
import IRC
@testable import IRCClient

/// Drives an `IRCSession` the way the driver does, with lines as text:
/// `feed` what the server says, `take` what the client would write now.
struct SessionHarness {
    var session: IRCSession
    var now: Date
    let logs = MemoryLogSink()

    static let start = Date(timeIntervalSince1970: 1_772_442_000)

    init(_ configuration: IRCClientConfiguration, seed: UInt64 = 42) {
        now = Self.start
        let logger = Logger(sink: logs, minimumLevel: .debug)
        session = IRCSession(configuration: configuration, logger: logger, now: now, seed: seed)
    }

    static func configuration(
        nick: String = "bot", sasl: IRCClientConfiguration.SASL? = nil,
        channels: [IRCClientConfiguration.Channel] = [],
        sendQueue: IRCClientConfiguration.SendQueueSettings = .standard
    ) -> IRCClientConfiguration {
        IRCClientConfiguration(host: "irc.test", port: 6667, nick: nick, alternativeNicks: [nick + "_"],
                               user: "sb", realName: "Switchboard", sasl: sasl, channels: channels,
                               sendQueue: sendQueue)
    }

    /// Starts and opens the first connection.
    mutating func connect() {
        if session.phase == .idle { session.start(now: now) }
        if let at = session.connectAt, at > now { now = at }
        session.connecting(now: now)
        session.connectionOpened(server: "irc.test:6667", now: now)
    }

    mutating func feed(_ lines: String...) {
        for line in lines {
            session.receive(try! IRCMessage(parsing: line), now: now)
        }
    }

    /// Every line the client would write now, as text without CR LF.
    mutating func take() -> [String] {
        var lines: [String] = []
        session.tick(now: now)
        while let line = session.nextLine(now: now) {
            lines.append(String(decoding: line.bytes.dropLast(2), as: UTF8.self))
            session.lineWritten(now: now)
        }
        return lines
    }

    /// Moves time forward and runs what is due.
    mutating func advance(_ seconds: Double) {
        now = now.addingTimeInterval(seconds)
        session.tick(now: now)
    }

    mutating func events() -> [IRCClientEvent] { session.takeEvents() }

    /// Registration on a server without CAP (421), through end of MOTD.
    mutating func registerPlain(nick: String = "bot", host: String = "host.example") -> [String] {
        connect()
        var lines = take()
        feed(":irc.test 421 * CAP :Unknown command",
             ":irc.test 001 \(nick) :Welcome to the Test IRC Network \(nick)!sb@\(host)",
             ":irc.test 005 \(nick) CASEMAPPING=rfc1459 PREFIX=(ov)@+ CHANTYPES=# :are supported by this server",
             ":irc.test 376 \(nick) :End of MOTD")
        lines += take()
        return lines
    }

    /// Registration with CAP 302 offering `offered`, acknowledging all requested.
    mutating func registerWithCaps(_ offered: String, nick: String = "bot", isupport: String = "CASEMAPPING=rfc1459") -> [String] {
        connect()
        var lines = take()
        feed(":irc.test CAP * LS :\(offered)")
        let out = take()
        lines += out
        for line in out where line.hasPrefix("CAP REQ ") {
            let caps = line.dropFirst("CAP REQ ".count).drop { $0 == ":" }
            feed(":irc.test CAP * ACK :\(caps)")
        }
        lines += take()
        feed(":irc.test 001 \(nick) :Welcome \(nick)!sb@host.example",
             ":irc.test 005 \(nick) \(isupport) :are supported",
             ":irc.test 376 \(nick) :End of MOTD")
        lines += take()
        return lines
    }
}

extension Array where Element == IRCClientEvent {
    var messages: [IRCIncomingMessage] {
        compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }
}
