import Foundation
import IRC
import Transport

/// Everything an ``IRCClient`` needs to connect to one network and stay there.
///
/// The defaults are the ones that keep a bot alive for weeks on a
/// Libera-class network: a polite send queue (5 lines at once, then one every
/// 2 s), a keep-alive PING after 90 s of silence, reconnects that back off
/// from 2 s to 5 min with jitter.
public struct IRCClientConfiguration: Sendable {
    /// A channel to join after every registration, with its key if it has one.
    public struct Channel: Sendable, Hashable {
        public var name: String
        public var key: String?

        public init(_ name: String, key: String? = nil) {
            self.name = name
            self.key = key
        }
    }

    /// SASL authentication during registration (IRCv3 sasl-3.1).
    public struct SASL: Sendable, Hashable {
        public enum Mechanism: Sendable, Hashable {
            /// `PLAIN` (RFC 4616): account and password, sent base64-encoded.
            case plain(account: String, password: String)
            /// `EXTERNAL` (RFC 4422 appendix A): the TLS client certificate
            /// identifies the account (CertFP).
            case external
        }

        public var mechanism: Mechanism
        /// When SASL fails (or the server offers no SASL): `true` closes the
        /// connection and retries with backoff; `false` goes on without an
        /// account, logged as an error on every connection.
        public var required: Bool

        public init(_ mechanism: Mechanism, required: Bool = true) {
            self.mechanism = mechanism
            self.required = required
        }

        public static func plain(account: String, password: String, required: Bool = true) -> SASL {
            SASL(.plain(account: account, password: password), required: required)
        }

        public static func external(required: Bool = true) -> SASL {
            SASL(.external, required: required)
        }

        /// The mechanism's name on the wire.
        public var mechanismName: String {
            switch mechanism {
            case .plain: "PLAIN"
            case .external: "EXTERNAL"
            }
        }
    }

    /// The send queue's flood limits: a token bucket holding `burst` lines,
    /// refilled by one line every `interval` (see ``SendQueue``).
    public struct SendQueueSettings: Sendable, Hashable {
        public var burst: Int
        public var interval: Duration
        /// A bulk-lane text sent without its own expiry is dropped when it
        /// has not gone out within this time (nil: bulk texts never expire).
        public var bulkExpiry: Duration?

        public init(burst: Int, interval: Duration, bulkExpiry: Duration? = .seconds(120)) {
            self.burst = max(1, burst)
            self.interval = interval
            self.bulkExpiry = bulkExpiry
        }

        /// Safe on Libera-class networks (Solanum, InspIRCd, UnrealIRCd
        /// defaults): 5 lines at once, then one every 2 s.
        public static let standard = SendQueueSettings(burst: 5, interval: .seconds(2))
        /// For test servers with flood control off (ngircd `MaxPenaltyTime = 0`):
        /// 1,000 lines at once, then one every 50 µs (20,000 lines/s). It
        /// must not be what paces a benchmark: at one every 200 µs (5,000
        /// lines/s, before) sequential `!kb` answers of 3–4 lines were held
        /// to ~1,300/s by the bucket, each waiting 0.8 ms for its tokens.
        public static let fast = SendQueueSettings(burst: 1000, interval: .microseconds(50))
    }

    /// Detecting a dead connection: after `idle` without any line from the
    /// server the client sends `PING`; without any line within `timeout`
    /// after that, the connection is declared dead and re-established.
    public struct KeepAlive: Sendable, Hashable {
        public var idle: Duration
        public var timeout: Duration

        public init(idle: Duration = .seconds(90), timeout: Duration = .seconds(60)) {
            self.idle = idle
            self.timeout = timeout
        }
    }

    /// Reconnect delays: `initial`, doubling per failed attempt up to
    /// `maximum`, each multiplied by a random factor in `1 ± jitter`
    /// (never above `maximum`). A connection that stayed registered for
    /// `resetAfter` starts the sequence again from `initial`.
    public struct Backoff: Sendable, Hashable {
        public var initial: Duration
        public var maximum: Duration
        public var jitter: Double
        public var resetAfter: Duration

        public init(initial: Duration = .seconds(2), maximum: Duration = .seconds(300), jitter: Double = 0.2,
                    resetAfter: Duration = .seconds(60)) {
            self.initial = initial
            self.maximum = max(initial, maximum)
            self.jitter = min(max(jitter, 0), 1)
            self.resetAfter = resetAfter
        }
    }

    /// Rejoining channels we could not join or were kicked from.
    public struct Rejoin: Sendable, Hashable {
        /// First delay after a KICK; doubles for each kick from the same
        /// channel within `kickMemory`, up to `maximumDelay`.
        public var afterKick: Duration
        /// First delay after a join error (471 full, 473 invite only, 474
        /// banned, 475 bad key, 477 needs an account, 437 unavailable);
        /// doubles per failure, up to `maximumDelay`.
        public var afterJoinError: Duration
        public var maximumDelay: Duration
        /// A channel kicked from again within this time counts as a repeat.
        public var kickMemory: Duration

        public init(afterKick: Duration = .seconds(5), afterJoinError: Duration = .seconds(60),
                    maximumDelay: Duration = .seconds(1800), kickMemory: Duration = .seconds(600)) {
            self.afterKick = afterKick
            self.afterJoinError = afterJoinError
            self.maximumDelay = maximumDelay
            self.kickMemory = kickMemory
        }
    }

    /// Timeouts of the registration steps.
    public struct Timeouts: Sendable, Hashable {
        /// Opening the TCP (and TLS) connection.
        public var connect: Duration
        /// From connecting to `001 RPL_WELCOME`.
        public var registration: Duration
        /// From `AUTHENTICATE <mechanism>` to the final SASL numeric.
        /// Services that are down may never answer (InspIRCd relays
        /// AUTHENTICATE to a services server that is gone).
        public var sasl: Duration
        /// After `001`, how long to wait for the end of the MOTD (376/422)
        /// before joining channels anyway.
        public var motd: Duration
        /// After `QUIT`, how long to wait for the server to close.
        public var quit: Duration

        public init(connect: Duration = .seconds(30), registration: Duration = .seconds(60),
                    sasl: Duration = .seconds(20), motd: Duration = .seconds(10), quit: Duration = .seconds(3)) {
            self.connect = connect
            self.registration = registration
            self.sasl = sasl
            self.motd = motd
            self.quit = quit
        }
    }

    /// How much of what a server tells us is kept, so a malicious or very
    /// large server cannot make the client's memory grow without end. When
    /// a bound is hit the client logs one warning (per connection) and
    /// ignores the excess; what is ignored is only ever *less* knowledge
    /// (an untracked user's account is unknown, never guessed).
    public struct Limits: Sendable, Hashable {
        /// Channels we are in that are tracked (forced joins beyond it are not).
        public var channels: Int
        /// Users tracked across all our channels (members and accounts).
        public var users: Int
        /// Capabilities remembered from `CAP LS` / `CAP NEW`.
        public var capabilities: Int
        /// Protocol lines (PONG, WHO, …) waiting to be written; PONGs beyond
        /// it are not queued (a server that sends PINGs but does not read).
        public var sessionLines: Int

        public init(channels: Int = 100, users: Int = 20_000, capabilities: Int = 256, sessionLines: Int = 1_000) {
            self.channels = channels
            self.users = users
            self.capabilities = capabilities
            self.sessionLines = sessionLines
        }
    }

    /// The capabilities requested when the server offers them (IRCv3
    /// capability negotiation). `sasl` is requested only when ``sasl`` is set.
    public static let defaultCapabilities = [
        "message-tags", "server-time", "account-tag", "extended-join", "echo-message", "sasl",
        "account-notify", "cap-notify", "multi-prefix", "chghost", "userhost-in-names",
    ]

    public var host: String
    public var port: UInt16
    /// TLS settings (certificate verification is on by default; a client
    /// certificate here is what SASL EXTERNAL uses); nil for plain TCP.
    public var tls: TLSOptions?
    public var nick: String
    /// Tried in order when the nick is taken before registration; after
    /// them, the nick with three digits.
    public var alternativeNicks: [String]
    public var user: String
    public var realName: String
    /// The server password (`PASS`), if the network needs one.
    public var password: String?
    public var sasl: SASL?
    public var channels: [Channel]
    public var sendQueue: SendQueueSettings
    public var keepAlive: KeepAlive
    public var backoff: Backoff
    public var rejoin: Rejoin
    public var timeouts: Timeouts
    /// How often to try `NICK <nick>` after registering under another nick
    /// when the server has no `MONITOR` (ISUPPORT); the holder's QUIT or
    /// NICK, when seen, triggers a try at once.
    public var nickRegainInterval: Duration
    /// The answer to CTCP VERSION; nil: VERSION is not answered.
    public var ctcpVersion: String?
    /// What to request when offered, see ``defaultCapabilities``.
    public var capabilities: [String]
    /// Bounds on what the client keeps of what the server says.
    public var limits: Limits

    public init(
        host: String,
        port: UInt16 = 6667,
        tls: TLSOptions? = nil,
        nick: String,
        alternativeNicks: [String]? = nil,
        user: String? = nil,
        realName: String = "Switchboard support bot",
        password: String? = nil,
        sasl: SASL? = nil,
        channels: [Channel] = [],
        sendQueue: SendQueueSettings = .standard,
        keepAlive: KeepAlive = KeepAlive(),
        backoff: Backoff = Backoff(),
        rejoin: Rejoin = Rejoin(),
        timeouts: Timeouts = Timeouts(),
        nickRegainInterval: Duration = .seconds(120),
        ctcpVersion: String? = "Switchboard support gateway",
        capabilities: [String] = IRCClientConfiguration.defaultCapabilities,
        limits: Limits = Limits()
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.nick = nick
        self.alternativeNicks = alternativeNicks ?? [nick + "_", nick + "__"]
        self.user = user ?? nick
        self.realName = realName
        self.password = password
        self.sasl = sasl
        self.channels = channels
        self.sendQueue = sendQueue
        self.keepAlive = keepAlive
        self.backoff = backoff
        self.rejoin = rejoin
        self.timeouts = timeouts
        self.nickRegainInterval = nickRegainInterval
        self.ctcpVersion = ctcpVersion
        self.capabilities = capabilities
        self.limits = limits
    }
}
