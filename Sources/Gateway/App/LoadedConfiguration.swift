import Bots
import Config
import Core
import Desk
import DeskFiles
import Foundation
import Matrix
import KB
import PINHashing

/// Everything the gateway reads at start, checked together: the gateway
/// file, the desk's files, the bot definitions and the KB articles. Errors of
/// every file are collected, so `check-config` shows them all at once.
public struct LoadedConfiguration: Sendable {
    public var gateway: GatewayConfiguration
    public var desk: DeskConfiguration
    public var definitions: BotDefinitions
    /// The KB articles from the folder the KB bot's definition names,
    /// loaded once here (the gateway serves this value; a reload swaps in
    /// the next one).
    public var knowledgeBase: KnowledgeBase
    /// Articles that did not load (the rest did); warnings, not fatal.
    public var kbErrors: [KBLoadError]
    public var articleCount: Int { knowledgeBase.count }

    /// Says once what the KB's dictionary adds (``KBSettings/dictionarySummary``),
    /// or, as a warning, why the one `kb.json5` names is not in use.
    func logDictionary(_ logger: Logger) {
        if let problem = dictionaryProblem {
            logger.warning("KB dictionary not in use", ["error": problem])
        } else if let summary = knowledgeBase.dictionarySummary {
            logger.info("KB dictionary read", ["dictionary": summary])
        }
    }

    /// Why the dictionary `kb.json5` names is not in use (missing, or
    /// unreadable when the index was built), or nil.
    public var dictionaryProblem: String? {
        definitions.kbSettings.dictionaryProblem ?? knowledgeBase.dictionaryProblem
    }

    /// Cross-checks between the files (names that must match).
    static func crossCheck(gateway: GatewayConfiguration, desk: DeskConfiguration) -> [String] {
        var problems: [String] = []
        let networks = Set(gateway.networks.map(\.name))
        problems += maskProblems(gateway: gateway, desk: desk)
        problems += matrixAccountProblems(gateway: gateway, desk: desk)
        for agent in desk.agents.all {
            for network in agent.accounts.keys.sorted() where !networks.contains(network) && network != "console" {
                problems.append("\(gateway.deskPaths.agents): agent \(agent.id) has an account on network \"\(network)\", "
                    + "which \(gateway.file.relativePath) does not configure (networks: \(networks.sorted().joined(separator: ", ")))")
            }
        }
        return problems
    }

    /// Agents' masks checked by each configured network's own rule (Desk
    /// keeps them as text): file, line and field of each bad one.
    static func maskProblems(gateway: GatewayConfiguration, desk: DeskConfiguration) -> [String] {
        let agents = desk.agents.all
        guard agents.contains(where: { !$0.masks.isEmpty }) else { return [] }
        let document = try? ConfigDocument(contentsOf: URL(fileURLWithPath: gateway.deskPaths.agents),
                                           displayName: gateway.deskPaths.agents)
        var problems: [String] = []
        for (i, agent) in agents.enumerated() {
            for (m, mask) in agent.masks.enumerated() {
                var seen: Set<String> = []
                for network in gateway.networks {
                    guard let problem = NetworkFactory.maskProblem(mask, on: network), seen.insert(problem).inserted
                    else { continue }
                    let path = ConfigPath("agents", .index(i), "masks", .index(m))
                    problems.append(document?.issue(problem, at: path).description
                        ?? "\(gateway.deskPaths.agents): \(path): \(problem)")
                }
            }
        }
        return problems
    }

    /// Agents' accounts on Matrix networks, which must be user ids
    /// (`@anna:example.org`): the adapter vouches for nothing else, and a page
    /// goes to that id.
    static func matrixAccountProblems(gateway: GatewayConfiguration, desk: DeskConfiguration) -> [String] {
        var problems: [String] = []
        for (i, agent) in desk.agents.all.enumerated() {
            for network in gateway.networks where network.matrix != nil {
                guard let account = agent.accounts[network.name], !MatrixID.isUserID(account) else { continue }
                problems.append("\(gateway.deskPaths.agents): agents[\(i)].accounts.\(network.name): \"\(account)\" "
                    + "is not a Matrix user id (like \"@\(agent.nick):example.org\")")
            }
        }
        return problems
    }

    /// Loads and checks everything named by the gateway file at `url`.
    /// `previousKB` (on a reload) keeps an article whose file is now broken
    /// at its last good version.
    /// - Throws: ``ConfigurationProblems`` listing every problem found.
    public static func load(from url: URL, previousKB: KnowledgeBase? = nil) throws -> LoadedConfiguration {
        var problems: [String] = []
        let gateway: GatewayConfiguration
        do {
            gateway = try GatewayConfiguration.load(from: url)
        } catch {
            throw ConfigurationProblems(problems: error.issues.map(\.description))
        }
        var desk: DeskConfiguration?
        do {
            desk = try DeskFiles.load(gateway.deskPaths, verifier: PBKDF2PINVerifier())
        } catch {
            problems += error.issues.map(\.description)
        }
        var definitions: BotDefinitions?
        do {
            definitions = try BotDefinitions.load(folder: gateway.botsFolder)
        } catch {
            problems += error.issues.map(\.description)
        }
        var kbErrors: [KBLoadError] = []
        var knowledgeBase: KnowledgeBase?
        if let definitions {
            let (base, errors) = KnowledgeBase.load(from: definitions.kbFolder,
                                                     vocabulary: definitions.kbSettings.vocabulary, previous: previousKB)
            kbErrors = errors
            knowledgeBase = base
            if base.count == 0 {
                problems.append("\(definitions.kbFolder.path): no KB article loaded")
            }
        }
        if let desk { problems += crossCheck(gateway: gateway, desk: desk) }
        guard problems.isEmpty, let desk, let definitions, let knowledgeBase else {
            throw ConfigurationProblems(problems: problems)
        }
        return LoadedConfiguration(gateway: gateway, desk: desk, definitions: definitions,
                                   knowledgeBase: knowledgeBase, kbErrors: kbErrors)
    }
}

/// The configuration has problems; each names its file, line and field.
public struct ConfigurationProblems: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String {
        "the configuration has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  " + $0 }.joined(separator: "\n")
    }
}
