import Bots
import Core
import Desk
import Foundation
import IRCAdapter
import IRCClient
import Matrix
import MatrixAdapter
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
    /// - Parameters:
    ///   - state: where an adapter keeps values across restarts (Matrix: the
    ///     sync position and device id); nil keeps them in memory.
    ///   - definitions: the bots' texts an adapter says itself (Matrix: the
    ///     encrypted-room explanation).
    public static func make<C: WallClock>(_ settings: NetworkSettings, clock: C, logger: Logger,
                                          state: (any NetworkStateStore)? = nil, definitions: BotDefinitions? = nil)
        throws -> any ChatNetwork
    {
        switch settings {
        case .irc(let irc):
            return IRCChatNetwork(name: irc.name, configuration: try ircClientConfiguration(irc), clock: clock,
                                  logger: logger)
        case .matrix(let m):
            let storage: any MatrixStateStorage = state.map { NetworkStateStorage(store: $0, network: m.name) }
                ?? MemoryMatrixStateStorage()
            let transports = HTTPClientTransport.pair(tls: matrixTLS(m), clock: clock, logger: logger)
            return MatrixChatNetwork(name: m.name, configuration: try matrixConfiguration(m, definitions: definitions),
                                     transport: transports.requests, syncTransport: transports.sync, storage: storage,
                                     deviceID: nil, clock: clock, logger: logger)
        }
    }

    /// TLS for the homeserver: the system CA store, or `caFile` instead;
    /// the certificate and host name are always verified.
    static func matrixTLS(_ m: MatrixNetworkSettings) -> TLSOptions {
        TLSOptions(caFile: m.caFile?.path)
    }

    /// The Matrix adapter's configuration, secrets read; the encrypted-room
    /// text in the network's language first, then the other.
    static func matrixConfiguration(_ m: MatrixNetworkSettings, definitions: BotDefinitions?) throws
        -> MatrixNetworkConfiguration
    {
        let first: Language = m.language == "de" ? .de : .en
        let languages: [Language] = first == .de ? [.de, .en] : [.en, .de]
        let text = definitions.map { d in
            languages.map { d.support.render(.encryptedRoom, $0) }.joined(separator: "\n\n")
        } ?? "This room is encrypted, and I cannot read encrypted messages. Please open an unencrypted direct chat."
        return MatrixNetworkConfiguration(homeserver: m.homeserver, userID: m.userID, credentials: try m.credentials(),
                                          rooms: m.rooms, invitesFrom: m.invitesFrom, encryptedRoomText: text,
                                          deviceDisplayName: m.deviceName, readReceipts: m.readReceipts)
    }

    /// The bots' settings for a configured network.
    public static func botSettings(_ n: NetworkSettings) -> NetworkBotSettings {
        NetworkBotSettings(name: n.name, agentsChannel: n.agentsChannel, supportChannels: n.supportChannels,
                           hasAccounts: n.identifyAgentsByAccount, trustsAgentIDs: false, language: n.language,
                           addressesByAccount: n.matrix != nil)
    }

    /// Why an agent's `mask` cannot recognise anyone on `network`, or nil.
    /// Masks are used on networks without accounts, by the network's own
    /// matcher; each kind says what a valid mask is.
    public static func maskProblem(_ mask: String, on network: NetworkSettings) -> String? {
        switch network {
        case .irc: IRCChatNetwork<SystemClock>.maskProblem(mask)
        // Agents on Matrix are recognised by user id (`accounts`); masks
        // are for other networks and simply unused here.
        case .matrix: nil
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
