import Bots
import Core
import Config
import Desk
import Foundation
import TestSupport
import Testing

/// The bot definitions: every text in both languages, checked at load time.
@Suite struct DefinitionsTests {
    /// A copy of the shipped `bots/` folder (without the KB articles) whose
    /// files the test can edit.
    static func editableCopy(_ edit: (inout [String: String]) -> Void) throws -> (TemporaryDirectory, URL) {
        let directory = try TemporaryDirectory()
        let folder = directory.url.appendingPathComponent("bots")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("kb"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("bots/vocabulary"),
                                         to: folder.appendingPathComponent("vocabulary"))
        var files: [String: String] = [:]
        for name in ["support.json5", "agent.json5", "kb.json5"] {
            files[name] = try String(contentsOf: repositoryRoot.appendingPathComponent("bots/\(name)"), encoding: .utf8)
        }
        edit(&files)
        for (name, text) in files { try Data(text.utf8).write(to: folder.appendingPathComponent(name)) }
        return (directory, folder)
    }

    /// Loads the definitions in `folder` on a thread of its own: parsing the
    /// vocabulary files takes most of a second in a debug build, which would
    /// hold a thread of the cooperative pool.
    static func load(_ folder: URL) async throws(ConfigError) -> BotDefinitions {
        let result = try? await offload { () -> Result<BotDefinitions, ConfigError> in
            do throws(ConfigError) { return .success(try BotDefinitions.load(folder: folder)) } catch { return .failure(error) }
        }
        return try result!.get()
    }

    static func issues(_ edit: (inout [String: String]) -> Void) async throws -> [ConfigIssue] {
        let (directory, folder) = try editableCopy(edit)
        defer { _ = directory }
        do {
            _ = try await load(folder)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func theShippedDefinitionsLoadAndNameTheKBFolder() async throws {
        let definitions = try await Self.load(repositoryRoot.appendingPathComponent("bots"))
        #expect(definitions.kbFolder.standardizedFileURL.path
            == repositoryRoot.appendingPathComponent("bots/kb").standardizedFileURL.path)
        #expect(definitions.supportSettings.descriptionLimit == 8192)
        #expect(definitions.supportSettings.idleTimeout == 1800)
        #expect(definitions.supportSettings.conversationExpiry == 86_400)
        #expect(definitions.agentCommands.command(named: "TAKE") == .take)
        #expect(definitions.supportCommands.command(named: "hilfe") == .help)
        #expect(definitions.kbCommands.command(named: "kb") == .kb)
        // The severity question and its four choices are one line that fits
        // one IRC message (each line costs ~2 s under the flood limit), in
        // both languages.
        for language in Language.allCases {
            let question = definitions.support.render(.askSeverity, language)
            #expect(!question.contains("\n"))
            #expect(question.utf8.count <= 400)
            #expect((1...4).allSatisfy { n in question.contains("\(n) (") })
        }
        // The non-contract text is honest and links the contract page.
        let queued = definitions.support.render(.ticketQueued, .de, ["ticket": "#7", "priority": "P8", "position": "3"])
        #expect(queued.contains("kein Anspruch") && queued.contains("https://nordlicht.example/support/vertrag"))
        let queuedEN = definitions.support.render(.ticketQueued, .en, ["ticket": "#7", "priority": "P8", "position": "3"])
        #expect(queuedEN.contains("no entitlement") && queuedEN.contains("https://nordlicht.example/support/contract"))
    }

    /// Where a ticket goes whose contract was claimed while the number's PIN
    /// checks were locked: the contract group unless the file says "none";
    /// anything else is refused with the file and the field.
    @Test func thePINLockedClaimGroupIsReadAndCheckedWhereItStands() async throws {
        let shipped = try await Self.load(repositoryRoot.appendingPathComponent("bots"))
        #expect(shipped.supportSettings.pinLockedClaimGroup == .contract)
        let (directory, folder) = try Self.editableCopy { files in
            files["support.json5"] = files["support.json5"]!.replacingOccurrences(
                of: #"pinLockedClaimGroup: "contract","#, with: #"pinLockedClaimGroup: "none","#)
        }
        defer { _ = directory }
        #expect(try await Self.load(folder).supportSettings.pinLockedClaimGroup == .noContract)
        let issues = try await Self.issues { files in
            files["support.json5"] = files["support.json5"]!.replacingOccurrences(
                of: #"pinLockedClaimGroup: "contract","#, with: #"pinLockedClaimGroup: "gold","#)
        }
        #expect(issues.count == 1)
        #expect(issues.first.map { "\($0)" }?.contains("support.json5") == true)
        #expect(issues.first.map { "\($0)" }?.contains("pinLockedClaimGroup") == true, "\(issues)")
    }

    @Test func aTextMissingInOneLanguageIsAnErrorWithFileLineAndKey() async throws {
        let issues = try await Self.issues { files in
            files["support.json5"] = files["support.json5"]!.replacingOccurrences(
                of: "      en: \"Customer number {number} has a service contract. Please give the contract PIN (you'll find it in your contract documents).\",\n",
                with: "")
        }
        #expect(issues.count == 1)
        let issue = try #require(issues.first)
        #expect(issue.file.hasSuffix("bots/support.json5"))
        #expect(issue.field == "texts.askPIN")
        #expect(issue.message.contains("English ('en') text is missing"))
        let line = try #require(issue.line)
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("bots/support.json5"), encoding: .utf8)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false)[line - 1].contains("askPIN"))
    }

    @Test func placeholdersMustMatchBetweenLanguagesAndBeKnown() async throws {
        let issues = try await Self.issues { files in
            files["support.json5"] = files["support.json5"]!
                .replacingOccurrences(of: "Diese PIN stimmt leider nicht. Sie haben noch {remaining} Versuch(e).",
                                      with: "Diese PIN stimmt leider nicht ({number}). Sie haben noch {remaining} Versuch(e).")
                .replacingOccurrences(of: "I can't find customer number {number}.", with: "I can't find customer number {numbr}.")
        }
        let messages = issues.map(\.description)
        #expect(messages.contains { $0.contains("texts.pinWrong.de") && $0.contains("unknown placeholder {number}") })
        #expect(messages.contains { $0.contains("texts.pinWrong.en") && $0.contains("only the German text uses {number}") })
        #expect(messages.contains { $0.contains("texts.unknownCustomerNumber.en") && $0.contains("did you mean {number}?") })
    }

    @Test func aTextWithoutARequiredPlaceholderIsRefused() async throws {
        let issues = try await Self.issues { files in
            files["support.json5"] = files["support.json5"]!.replacingOccurrences(
                of: "Ihr Ticket {ticket} ({priority}) ist gespeichert. Ich habe soeben",
                with: "Ihr Ticket ist gespeichert. Ich habe soeben")
        }
        #expect(issues.contains { $0.field == "texts.ticketPaged.de" && $0.message.contains("{priority}, {ticket}") })
    }

    @Test func unknownAndMissingTextsAndKeysAreReported() async throws {
        let issues = try await Self.issues { files in
            files["agent.json5"] = files["agent.json5"]!
                .replacingOccurrences(of: "    nextNone: {", with: "    nextNon: {")
                .replacingOccurrences(of: "    queueLength: 8,", with: "    queueLenght: 8,")
        }
        let messages = issues.map(\.description)
        // A misspelt settings key stops that file's decoding with a clear message.
        #expect(messages.contains { $0.contains("agent.json5") && $0.contains("settings.queueLength")
            && $0.contains("the file has 'queueLenght' — a typo?") }, "\(messages)")

        let textIssues = try await Self.issues { files in
            files["agent.json5"] = files["agent.json5"]!.replacingOccurrences(of: "    nextNone: {", with: "    nextNon: {")
        }
        let textMessages = textIssues.map(\.description)
        #expect(textMessages.contains { $0.contains("unknown text 'nextNon'") && $0.contains("did you mean 'nextNone'?") })
        #expect(textMessages.contains { $0.contains("the text 'nextNone' is missing") })
    }

    @Test func controlCharactersAndUnclosedBracesAreRefused() async throws {
        let issues = try await Self.issues { files in
            files["kb.json5"] = files["kb.json5"]!
                .replacingOccurrences(of: "de: \"Artikel zu „{query}“:\"", with: "de: \"Artikel zu \\u0007„{query}“:\"")
                .replacingOccurrences(of: "en: \"Articles for “{query}”:\"", with: "en: \"Articles for “{query”:\"")
        }
        let messages = issues.map(\.description)
        #expect(messages.contains { $0.contains("texts.resultsIntro.de") && $0.contains("control character") })
        #expect(messages.contains { $0.contains("texts.resultsIntro.en") && $0.contains("no matching '}'") })
    }

    @Test func aCommandNameMeansOneThing() async throws {
        let issues = try await Self.issues { files in
            files["kb.json5"] = files["kb.json5"]!.replacingOccurrences(of: "names: [\"kb\"]", with: "names: [\"kb\", \"status\"]")
        }
        #expect(issues.contains { $0.file.hasSuffix("kb.json5") && $0.message.contains("'status' is also a command of support.json5") })
    }

    /// `kb.json5` `settings.vocabulary`: the files are read with the
    /// definitions, so a bad one fails the load (a reload keeps the previous
    /// definitions and vocabulary) with the vocabulary file's line.
    @Test func theKBVocabularyFilesAreLoadedAndCheckedWithTheDefinitions() async throws {
        #expect(shippedDefinitions.kbSettings.vocabulary.concepts.count >= 1_000)
        #expect(shippedDefinitions.kbSettings.vocabularyFiles.map(\.lastPathComponent) == ["it-support.json5", "general.json5", "local.json5"])
        let missing = try await Self.issues { files in
            files["kb.json5"] = files["kb.json5"]!.replacingOccurrences(of: "vocabulary/local.json5", with: "vocabulary/ours.json5")
        }
        #expect(missing.contains { $0.file.hasSuffix("vocabulary/ours.json5") }, "\(missing.map(\.description))")
        let (directory, folder) = try Self.editableCopy { _ in }
        defer { _ = directory }
        try Data("{ concepts: [\n  { de: [\"Drucker\"], en: [] },\n] }".utf8)
            .write(to: folder.appendingPathComponent("vocabulary/local.json5"))
        do {
            _ = try await Self.load(folder)
            Issue.record("a bad vocabulary file loaded")
        } catch {
            #expect(error.issues.contains { $0.file.hasSuffix("local.json5") && $0.line == 2
                && $0.message.contains("at least two words") }, "\(error.issues.map(\.description))")
        }
    }

    /// `kb.json5` `settings.dictionary` (issue 11): read with the
    /// definitions; a missing file is no error of the definitions (the
    /// search runs without it) but a problem they report, with how to
    /// install it; a relative path is relative to the bots folder.
    @Test func theKBDictionaryIsOptionalAndAMissingOneIsReportedNotRefused() async throws {
        #expect(shippedDefinitions.kbSettings.vocabulary.dictionary?.path == "/usr/share/trans/de-en")
        #expect(shippedDefinitions.kbSettings.dictionaryProblem == nil)
        let (directory, folder) = try Self.editableCopy { files in
            files["kb.json5"] = files["kb.json5"]!.replacingOccurrences(of: #"dictionary: "/usr/share/trans/de-en""#,
                                                                        with: #"dictionary: "de-en""#)
        }
        defer { _ = directory }
        let missing = try await Self.load(folder)
        #expect(missing.kbSettings.vocabulary.dictionary == nil)
        let problem = missing.kbSettings.dictionaryProblem ?? ""
        #expect(problem.contains(folder.appendingPathComponent("de-en").path + " is missing"), "\(problem)")
        #expect(problem.contains("apt-get install trans-de-en"), "\(problem)")
        try Data("Akku {m} :: battery\n".utf8).write(to: folder.appendingPathComponent("de-en"))
        let present = try await Self.load(folder)
        #expect(present.kbSettings.dictionaryProblem == nil)
        #expect(present.kbSettings.vocabulary.dictionary?.path == folder.appendingPathComponent("de-en").path)
    }

    @Test func aConversationExpiryShorterThanTheIdleTimeoutIsRefused() async throws {
        let issues = try await Self.issues { files in
            files["support.json5"] = files["support.json5"]!.replacingOccurrences(of: #"conversationExpiry: "24h","#,
                                                                                  with: #"conversationExpiry: "10m","#)
        }
        #expect(issues.contains { $0.field == "settings.conversationExpiry" && $0.message.contains("idle timeout") },
                "\(issues.map(\.description))")
    }

    @Test func valuesNeverBringLineBreaksOrControlCharacters() {
        let text = shippedDefinitions.support.render(.agentReply, .en, [
            "ticket": "#4", "agent": "anna", "text": "line one\r\nPRIVMSG #agents :owned\u{0}\u{3}4red\u{202E}",
        ])
        #expect(text == "[#4] anna: line one PRIVMSG #agents :owned4red")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
    }
}
