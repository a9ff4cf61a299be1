import Bots
import Core
import Desk
import Foundation
import IRCAdapter
import IRCClient
import Store
import Transport

/// Makes a running network from its settings; ``GatewayService`` takes one
/// (tests pass a fake network).
public typealias NetworkMaker<C: WallClock> = @Sendable (NetworkSettings, C, Logger) throws -> any ChatNetwork

/// The one place that names concrete chat adapters: settings in, a
/// ``Bots/ChatNetwork`` out, and what each kind checks in the configuration.
public enum NetworkFactory {
    /// The adapter for `settings`.
    /// - Throws: when a secret the settings name cannot be read.
    public static func make<C: WallClock>(_ settings: NetworkSettings, clock: C, logger: Logger) throws
        -> any ChatNetwork
    {
        switch settings {
        case .irc(let irc):
            IRCChatNetwork(name: irc.name, configuration: try ircClientConfiguration(irc), clock: clock, logger: logger)
        }
    }

    /// The bots' settings for a configured network.
    public static func botSettings(_ n: NetworkSettings) -> NetworkBotSettings {
        NetworkBotSettings(name: n.name, agentsChannel: n.agentsChannel, supportChannels: n.supportChannels,
                           hasAccounts: n.identifyAgentsByAccount, trustsAgentIDs: false, language: n.language)
    }

    /// Why an agent's `mask` cannot recognise anyone on `network`, or nil.
    /// Masks are used on networks without accounts, by the network's own
    /// matcher; each kind says what a valid mask is.
    public static func maskProblem(_ mask: String, on network: NetworkSettings) -> String? {
        switch network {
        case .irc: IRCChatNetwork<SystemClock>.maskProblem(mask)
        }
    }

    /// The IRC client's configuration from the gateway's settings, with
    /// secrets read from the environment or files.
    static func ircClientConfiguration(_ s: IRCNetworkSettings) throws -> IRCClientConfiguration {
        var tls: TLSOptions?
        if let t = s.tls {
            var options = TLSOptions()
            options.verifyPeer = t.verify
            options.serverName = t.serverName
            options.caFile = t.caFile?.path
            options.clientCertificateFile = t.clientCertificate?.path
            options.clientKeyFile = t.clientKey?.path
            tls = options
        }
        var sasl: IRCClientConfiguration.SASL?
        if let config = s.sasl {
            switch config.mechanism {
            case .plain:
                let password = try config.password?.resolve(field: "networks.\(s.name).sasl.password") ?? ""
                sasl = .plain(account: config.account ?? s.nick, password: password, required: config.required)
            case .external:
                sasl = .external(required: config.required)
            }
        }
        let channels = try s.channels.map { channel in
            IRCClientConfiguration.Channel(
                channel.name, key: try channel.key?.resolve(field: "networks.\(s.name).channels.\(channel.name).key"))
        }
        return IRCClientConfiguration(
            host: s.host, port: s.port, tls: tls, nick: s.nick, alternativeNicks: s.alternativeNicks, user: s.user,
            realName: s.realName, password: try s.password?.resolve(field: "networks.\(s.name).password"), sasl: sasl,
            channels: channels,
            sendQueue: s.sendQueue)
    }
}
