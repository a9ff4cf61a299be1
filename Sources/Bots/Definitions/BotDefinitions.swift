import Core
import Config
import Desk
import KB
import Foundation

/// The bot definitions: every text the bots say, in German and English,
/// the commands' names and help, and a few settings — read from
/// `support.json5`, `agent.json5` and `kb.json5` in one folder (`bots/`).
///
/// File format (JSON5, strict: unknown keys are errors):
///
/// ```json5
/// {
///   settings: { … },                       // per bot, see SupportSettings etc.
///   texts: {
///     askPIN: {                            // a key the code needs (SupportText, AgentText, KBText)
///       de: "Bitte nennen Sie die Vertrags-PIN zu {number}.",
///       en: "Please give the contract PIN for {number}.",
///     },
///     askSeverity: { de: ["line 1", "line 2"], en: ["…", "…"] },  // a list is one text of several lines
///   },
///   commands: {
///     reply: { names: ["reply", "antwort"], usage: { de: "N Text", en: "N text" },
///              help: { de: "…", en: "…" } },
///   },
/// }
/// ```
///
/// Loading checks, and reports every problem with file, line and key:
/// a text missing in one language; a text the code needs that the file
/// lacks; a text the code does not know (a typo); placeholders that differ
/// between the languages, that the code does not fill in, or that a text
/// must contain and lacks; control characters; commands with no names or
/// names used twice.
public struct BotDefinitions: Sendable {
    /// The folder the files were read from.
    public let folder: URL

    public let support: TextTable<SupportText>
    public let supportCommands: CommandSet<SupportCommand>
    public let supportSettings: SupportSettings

    public let agent: TextTable<AgentText>
    public let agentCommands: CommandSet<AgentCommand>
    public let agentSettings: AgentSettings

    public let kb: TextTable<KBText>
    public let kbCommands: CommandSet<KBCommand>
    public let kbSettings: KBSettings

    /// The folder of KB articles the KB bot's definition names (relative
    /// paths are relative to the definitions folder): `bots/kb`.
    public var kbFolder: URL { kbSettings.articles }

    /// The file names in the folder.
    public static let supportFile = "support.json5"
    public static let agentFile = "agent.json5"
    public static let kbFile = "kb.json5"

    /// Reads and checks the three files in `folder`; every problem of every
    /// file is reported in one ``ConfigError``.
    public static func load(folder: URL) throws(ConfigError) -> BotDefinitions {
        var loader = DefinitionLoader()
        let support = loader.file(folder, supportFile, SupportSettingsEntry.self, SupportText.self, SupportCommand.self)
        let agent = loader.file(folder, agentFile, AgentSettingsEntry.self, AgentText.self, AgentCommand.self)
        let kb = loader.file(folder, kbFile, KBSettingsEntry.self, KBText.self, KBCommand.self)
        loader.checkNamesAcrossBots([
            (supportFile, support?.document, support?.commands.all ?? []),
            (agentFile, agent?.document, agent?.commands.all ?? []),
            (kbFile, kb?.document, kb?.commands.all ?? []),
        ])
        var kbSettings: KBSettings?
        if let kb {
            let path = kb.settings.articles
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                loader.issues.append(kb.document.issue("the article folder \(url.path) does not exist",
                                                       at: ConfigPath("settings", "articles")))
            }
            if !(1...10).contains(kb.settings.results) {
                loader.issues.append(kb.document.issue("expected 1 to 10 results, found \(kb.settings.results)",
                                                       at: ConfigPath("settings", "results")))
            }
            var vocabulary = Vocabulary.empty
            let vocabularyFiles = (kb.settings.vocabulary ?? []).map { path in
                path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            }
            do {
                vocabulary = try Vocabulary.load(vocabularyFiles)
            } catch {
                loader.issues += error.issues
            }
            // A missing dictionary is not fatal: the search works without
            // it, and the gateway says so (check-config, start-up, reload).
            var dictionaryProblem: String?
            if let path = kb.settings.dictionary {
                let file = path.hasPrefix("/") ? path : folder.appendingPathComponent(path).path
                do {
                    vocabulary.dictionary = try BilingualDictionary.load(path: file)
                } catch {
                    dictionaryProblem = "\(kb.document.file): settings.dictionary: \(error)"
                }
            }
            kbSettings = KBSettings(articles: url, answerExpiry: kb.settings.answerExpiry.timeInterval,
                                    results: kb.settings.results, vocabularyFiles: vocabularyFiles,
                                    vocabulary: vocabulary, dictionaryProblem: dictionaryProblem)
        }
        var supportSettings: SupportSettings?
        if let support {
            let s = support.settings
            if !(256...65536).contains(s.descriptionLimit) {
                loader.issues.append(support.document.issue(
                    "expected a limit between 256 and 65536 bytes, found \(s.descriptionLimit)",
                    at: ConfigPath("settings", "descriptionLimit")))
            }
            if s.idleTimeout.seconds < 60 {
                loader.issues.append(support.document.issue("an idle timeout under a minute would end conversations "
                    + "while the customer types", at: ConfigPath("settings", "idleTimeout")))
            }
            let expiry = s.conversationExpiry ?? SupportSettings.defaultConversationExpiry
            if expiry < s.idleTimeout {
                loader.issues.append(support.document.issue("a conversation expiry (\(expiry)) shorter than the idle "
                    + "timeout (\(s.idleTimeout)) would drop conversations the gateway still continues",
                    at: ConfigPath("settings", "conversationExpiry")))
            }
            if !(0.0...1.0).contains(s.suggestionThreshold) {
                loader.issues.append(support.document.issue("expected a confidence between 0 and 1, found \(s.suggestionThreshold)",
                                                            at: ConfigPath("settings", "suggestionThreshold")))
            }
            if s.conversationsPerNetwork < 1 {
                loader.issues.append(support.document.issue("expected at least 1, found \(s.conversationsPerNetwork)",
                                                            at: ConfigPath("settings", "conversationsPerNetwork")))
            }
            if s.conversationsTotal < 1 {
                loader.issues.append(support.document.issue("expected at least 1, found \(s.conversationsTotal)",
                                                            at: ConfigPath("settings", "conversationsTotal")))
            }
            supportSettings = SupportSettings(
                descriptionLimit: s.descriptionLimit, repromptInterval: s.repromptInterval.timeInterval,
                idleTimeout: s.idleTimeout.timeInterval, suggestionThreshold: s.suggestionThreshold,
                unknownNumberAttempts: max(1, s.unknownNumberAttempts), relayBurstWindow: s.relayBurstWindow.timeInterval,
                conversationsPerNetwork: s.conversationsPerNetwork, conversationsTotal: s.conversationsTotal,
                pinLockedClaimGroup: s.pinLockedClaimGroup ?? .contract, conversationExpiry: expiry.timeInterval)
        }
        var agentSettings: AgentSettings?
        if let agent {
            if !(1...50).contains(agent.settings.queueLength) {
                loader.issues.append(agent.document.issue("expected 1 to 50, found \(agent.settings.queueLength)",
                                                          at: ConfigPath("settings", "queueLength")))
            }
            if !(1...100).contains(agent.settings.pageAttempts) {
                loader.issues.append(agent.document.issue("expected 1 to 100, found \(agent.settings.pageAttempts)",
                                                          at: ConfigPath("settings", "pageAttempts")))
            }
            if agent.settings.backlogWarning.timeInterval < 5 {
                loader.issues.append(agent.document.issue("a backlog warning under 5 s would fire on every burst",
                                                          at: ConfigPath("settings", "backlogWarning")))
            }
            agentSettings = AgentSettings(queueLength: agent.settings.queueLength,
                                          pageDeliveryTimeout: agent.settings.pageDeliveryTimeout.timeInterval,
                                          pageAttempts: agent.settings.pageAttempts,
                                          backlogWarning: agent.settings.backlogWarning.timeInterval)
        }
        guard loader.issues.isEmpty, let support, let agent, let kb, let supportSettings, let agentSettings,
              let kbSettings else {
            throw ConfigError(loader.issues)
        }
        return BotDefinitions(folder: folder, support: support.texts, supportCommands: support.commands,
                              supportSettings: supportSettings, agent: agent.texts, agentCommands: agent.commands,
                              agentSettings: agentSettings, kb: kb.texts, kbCommands: kb.commands,
                              kbSettings: kbSettings)
    }

    /// ``load(folder:)`` with a path.
    public static func load(folder path: String) throws(ConfigError) -> BotDefinitions {
        try load(folder: URL(fileURLWithPath: path))
    }
}

/// `settings` of `support.json5`.
public struct SupportSettings: Sendable, Hashable {
    /// At most this many bytes (UTF-8) of a description are kept; the
    /// customer is told when it was cut.
    public var descriptionLimit: Int
    /// A question is repeated at most once in this time (a pasted text of
    /// many lines gets one re-prompt, not one per line).
    public var repromptInterval: TimeInterval
    /// A conversation with no message for this long ends politely.
    public var idleTimeout: TimeInterval
    /// The KB's confidence needed to suggest an article (0…1).
    public var suggestionThreshold: Double
    /// Unknown customer numbers accepted before the bot goes on without one.
    public var unknownNumberAttempts: Int
    /// A customer's lines on a ticket within this time of each other are
    /// relayed to the agent together (a paste becomes one message).
    public var relayBurstWindow: TimeInterval
    /// Conversations tracked at once on one network: a new customer past it
    /// is told the desk is busy (a flood of strangers, or nick-change churn,
    /// cannot grow memory without end).
    public var conversationsPerNetwork: Int
    /// Conversations tracked at once over all networks (the same answer).
    public var conversationsTotal: Int
    /// The group of a ticket whose contract was claimed while the number's
    /// PIN checks were locked (issue 14): `contract` (default: the
    /// contract's priority, flagged for the agent to verify by phone) or
    /// `none` (served as without a contract, flagged all the same).
    public var pinLockedClaimGroup: CustomerGroup = .contract
    /// A half-finished conversation is stored (issue 8 item 4); after a
    /// restart it goes on unless the customer's last message is older than
    /// this — then it is abandoned and deleted. Never shorter than
    /// ``idleTimeout``.
    public var conversationExpiry: TimeInterval

    /// 24 hours: `conversationExpiry` when the file does not set it.
    static let defaultConversationExpiry = ConfigDuration(seconds: 86_400)
}

/// `settings` of `agent.json5`.
public struct AgentSettings: Sendable, Hashable {
    /// How many tickets `!queue` lists.
    public var queueLength: Int
    /// A page the network has not confirmed within this time is sent again.
    public var pageDeliveryTimeout: TimeInterval
    /// Attempts at a page the network refuses before it is given up: then
    /// the next escalation step is paged and the agents' channel warned.
    public var pageAttempts: Int
    /// When the oldest line in a network's send queue has waited longer, the
    /// agents' channel is warned (once, again after the queue cleared) and
    /// told to ask the network for a flood exemption for the bot.
    public var backlogWarning: TimeInterval
}

/// `settings` of `kb.json5`.
public struct KBSettings: Sendable, Hashable {
    /// The article folder.
    public var articles: URL
    /// A `!kb` answer not sent within this time is dropped.
    public var answerExpiry: TimeInterval
    /// How many articles `!kb <words>` lists.
    public var results: Int
    /// The vocabulary files (`settings.vocabulary`, relative to the
    /// definitions folder), in order.
    public var vocabularyFiles: [URL] = []
    /// Their concepts, read and checked with the definitions (a bad file is
    /// a problem of the definitions, so a reload keeps the previous one).
    public var vocabulary: Vocabulary = .empty
    /// Why the dictionary `settings.dictionary` names is not in use
    /// (missing, unreadable), or nil: a warning, not an error; the
    /// vocabulary then has no dictionary.
    public var dictionaryProblem: String?
}

// MARK: - File shapes

struct SupportSettingsEntry: Decodable {
    var descriptionLimit: Int
    var repromptInterval: ConfigDuration
    var idleTimeout: ConfigDuration
    var suggestionThreshold: Double
    var unknownNumberAttempts: Int
    var relayBurstWindow: ConfigDuration
    var conversationsPerNetwork: Int
    var conversationsTotal: Int
    var pinLockedClaimGroup: CustomerGroup?
    var conversationExpiry: ConfigDuration?
}

struct AgentSettingsEntry: Decodable {
    var queueLength: Int
    var pageDeliveryTimeout: ConfigDuration
    var pageAttempts: Int
    var backlogWarning: ConfigDuration
}

struct KBSettingsEntry: Decodable {
    var articles: String
    var answerExpiry: ConfigDuration
    var results: Int
    var vocabulary: [String]?
    var dictionary: String?
}

/// A text as written: one string, or a list of lines.
struct TextValue: Decodable {
    var text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            text = single
        } else if let lines = try? container.decode([String].self) {
            text = lines.joined(separator: "\n")
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                debugDescription: "expected a text in quotes, or a list of lines [\"…\", \"…\"]"))
        }
    }
}

/// `{ de: …, en: … }` — both optional here so that all missing ones are
/// reported together by the checks.
struct LocalizedEntry: Decodable {
    var de: TextValue?
    var en: TextValue?

    func text(_ language: Language) -> TextValue? {
        switch language {
        case .de: de
        case .en: en
        }
    }
}

struct CommandEntry: Decodable {
    var names: [String]
    var usage: LocalizedEntry?
    var help: LocalizedEntry
}

struct DefinitionFile<Settings: Decodable>: Decodable {
    var settings: Settings
    var texts: [String: LocalizedEntry]
    var commands: [String: CommandEntry]
}

/// What one file gave.
struct LoadedBot<Settings, Key: BotTextKey, ID: RawRepresentable<String> & CaseIterable & Hashable & Sendable> {
    var document: ConfigDocument
    var settings: Settings
    var texts: TextTable<Key>
    var commands: CommandSet<ID>
}

/// Collects the issues of all files.
struct DefinitionLoader {
    var issues: [ConfigIssue] = []

    mutating func file<Settings: Decodable, Key: BotTextKey, ID: RawRepresentable<String> & CaseIterable & Hashable & Sendable>(
        _ folder: URL, _ name: String, _: Settings.Type, _: Key.Type, _: ID.Type
    ) -> LoadedBot<Settings, Key, ID>? {
        let url = folder.appendingPathComponent(name)
        let display = folder.lastPathComponent.isEmpty ? name : folder.lastPathComponent + "/" + name
        let document: ConfigDocument
        let file: DefinitionFile<Settings>
        do {
            document = try ConfigDocument(contentsOf: url, displayName: display)
            file = try document.decode(DefinitionFile<Settings>.self)
        } catch {
            issues += error.issues
            return nil
        }
        let before = issues.count
        let texts: TextTable<Key> = checkTexts(file.texts, document)
        let commands: CommandSet<ID> = checkCommands(file.commands, document)
        guard issues.count == before else { return nil }
        return LoadedBot(document: document, settings: file.settings, texts: texts, commands: commands)
    }

    mutating func add(_ document: ConfigDocument, _ path: ConfigPath, _ message: String) {
        issues.append(document.issue(message, at: path))
    }

    static func list(_ names: some Sequence<String>) -> String {
        let sorted = names.sorted()
        return sorted.isEmpty ? "none" : sorted.map { "{\($0)}" }.joined(separator: ", ")
    }

    static func languageName(_ language: Language) -> String {
        switch language {
        case .de: "German ('de')"
        case .en: "English ('en')"
        }
    }

    mutating func checkTexts<Key: BotTextKey>(_ texts: [String: LocalizedEntry], _ document: ConfigDocument)
        -> TextTable<Key> {
        var entries: [Key: LocalizedTemplate] = [:]
        let known = Set(Key.allCases.map(\.rawValue))
        for (name, entry) in texts.sorted(by: { $0.key < $1.key }) {
            let path = ConfigPath("texts", .key(name))
            guard let key = Key(rawValue: name) else {
                var message = "unknown text '\(name)': the bot never says it"
                if let guess = ConfigDocument.closest(to: name, in: known) { message += " — did you mean '\(guess)'?" }
                add(document, path, message)
                continue
            }
            let allowed = Set(key.placeholders)
            var templates: [Language: TextTemplate] = [:]
            for language in Language.allCases {
                let languagePath = path.appending(.key(language.rawValue))
                guard let value = entry.text(language) else {
                    add(document, path, "the \(Self.languageName(language)) text is missing: every text exists in "
                        + Language.allCases.map(\.rawValue).joined(separator: " and "))
                    continue
                }
                if value.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    add(document, languagePath, "the text is empty")
                    continue
                }
                if !Sanitizer.isCleanDefinitionText(value.text) {
                    add(document, languagePath, "the text contains a control character (only line breaks are allowed)")
                    continue
                }
                switch TextTemplate.parse(value.text) {
                case .failure(let error):
                    add(document, languagePath, error.description)
                case .success(let template):
                    for unknown in template.placeholders.subtracting(allowed).sorted() {
                        var message = "unknown placeholder {\(unknown)}: this text can use \(Self.list(allowed))"
                        if let guess = ConfigDocument.closest(to: unknown, in: allowed) {
                            message += " — did you mean {\(guess)}?"
                        }
                        add(document, languagePath, message)
                    }
                    let missing = Set(key.required).subtracting(template.placeholders)
                    if !missing.isEmpty {
                        add(document, languagePath, "the text must contain \(Self.list(missing)) "
                            + "(without it the message would not say what it must)")
                    }
                    templates[language] = template
                }
            }
            if let de = templates[.de], let en = templates[.en], de.placeholders != en.placeholders {
                let onlyDE = de.placeholders.subtracting(en.placeholders)
                let onlyEN = en.placeholders.subtracting(de.placeholders)
                var parts: [String] = []
                if !onlyDE.isEmpty { parts.append("only the German text uses \(Self.list(onlyDE))") }
                if !onlyEN.isEmpty { parts.append("only the English text uses \(Self.list(onlyEN))") }
                add(document, path.appending("en"), "the languages differ in placeholders: " + parts.joined(separator: "; "))
            }
            if templates.count == Language.allCases.count {
                entries[key] = LocalizedTemplate(templates: templates)
            }
        }
        for key in Key.allCases where texts[key.rawValue] == nil {
            let values = key.placeholders.isEmpty ? "no placeholders" : "placeholders \(Self.list(key.placeholders))"
            add(document, ConfigPath("texts"), "the text '\(key.rawValue)' is missing: the bot needs it (\(values))")
        }
        return TextTable(entries: entries)
    }

    mutating func checkCommands<ID: RawRepresentable<String> & CaseIterable & Hashable & Sendable>(
        _ commands: [String: CommandEntry], _ document: ConfigDocument
    ) -> CommandSet<ID> {
        var byID: [ID: CommandDefinition] = [:]
        var byName: [String: ID] = [:]
        let known = Set(ID.allCases.map(\.rawValue))
        for (name, entry) in commands.sorted(by: { $0.key < $1.key }) {
            let path = ConfigPath("commands", .key(name))
            guard let id = ID(rawValue: name) else {
                var message = "unknown command '\(name)': the bot has no such command"
                if let guess = ConfigDocument.closest(to: name, in: known) { message += " — did you mean '\(guess)'?" }
                add(document, path, message)
                continue
            }
            if entry.names.isEmpty { add(document, path.appending("names"), "give at least one name users type") }
            var names: [String] = []
            for (index, typed) in entry.names.enumerated() {
                let word = typed.lowercased()
                let namePath = path.appending("names").appending(.index(index))
                guard !word.isEmpty, word.count <= 20,
                      word.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) })
                else {
                    add(document, namePath, "\"\(typed)\" is not a command name (ASCII letters and digits, without '!')")
                    continue
                }
                if let other = byName[word] {
                    add(document, namePath, "the name '\(word)' is also used by the command '\(other.rawValue)'")
                    continue
                }
                byName[word] = id
                names.append(word)
            }
            var help: [Language: String] = [:]
            var usage: [Language: String] = [:]
            for language in Language.allCases {
                if let text = entry.help.text(language)?.text, !text.trimmingCharacters(in: .whitespaces).isEmpty {
                    if Sanitizer.isCleanDefinitionText(text), !text.contains("\n") {
                        help[language] = text
                    } else {
                        add(document, path.appending("help").appending(.key(language.rawValue)),
                            "a help text is one line without control characters")
                    }
                } else {
                    add(document, path.appending("help"), "the \(Self.languageName(language)) help text is missing")
                }
                if let entryUsage = entry.usage {
                    if let text = entryUsage.text(language)?.text, Sanitizer.isCleanDefinitionText(text), !text.contains("\n") {
                        usage[language] = text
                    } else {
                        add(document, path.appending("usage"),
                            "the \(Self.languageName(language)) usage is missing or not one line")
                    }
                }
            }
            byID[id] = CommandDefinition(id: name, names: names, usage: usage, help: help)
        }
        for id in ID.allCases where commands[id.rawValue] == nil {
            add(document, ConfigPath("commands"), "the command '\(id.rawValue)' is missing: the bot needs its names and help")
        }
        return CommandSet(byID: byID, byName: byName)
    }

    /// A name typed after `!` must mean one thing: only the bots' `help`
    /// commands may share names (the agent bot answers agents, the support
    /// bot everyone else).
    mutating func checkNamesAcrossBots(_ bots: [(file: String, document: ConfigDocument?, commands: [CommandDefinition])]) {
        var seen: [String: (file: String, id: String)] = [:]
        for bot in bots {
            guard let document = bot.document else { continue }
            for command in bot.commands {
                for (index, name) in command.names.enumerated() {
                    if let other = seen[name], other.file != bot.file, !(other.id == "help" && command.id == "help") {
                        add(document, ConfigPath("commands", .key(command.id), "names", .index(index)),
                            "the name '\(name)' is also a command of \(other.file) ('\(other.id)'); "
                                + "a typed command must mean one thing")
                    }
                    if seen[name] == nil { seen[name] = (bot.file, command.id) }
                }
            }
        }
    }
}
