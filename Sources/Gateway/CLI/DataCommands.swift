import Bots
import Core
import Desk
import Foundation
import KB
import PINHashing
import Store

/// `switchboard tickets`, `switchboard kb search|show|explain|gaps`, `switchboard hash-pin`:
/// looking at the data without running the gateway.
enum DataCommands {
    static let tickets = SwitchboardCommand(
        name: "tickets",
        summary: "list tickets, or show one with its audit trail and pages",
        usage: """
            usage: switchboard tickets [list] [--open] [--limit N] [--config PATH]
                   switchboard tickets show N [--config PATH]

            Reads the store named in the configuration (default \(GatewayConfiguration.defaultPath)).
            """
    ) { words in
        var args = try Arguments(words, flagNames: ["open"])
        let configuration = try loadGatewayConfiguration(&args)
        let verb = args.positionals.first ?? "list"
        switch verb {
        case "list":
            let limit = try positiveNumber(&args, "limit") ?? 50
            let openOnly = args.flag("open")
            try args.finish(maxPositionals: 1)
            // Open tickets oldest first: with --limit N the N waiting longest.
            // All tickets newest first.
            let tickets = try await openStore(configuration).use { store in
                openOnly ? Self.longestWaiting(try await store.openTickets(), limit: limit)
                    : try await store.recentTickets(limit: limit)
            }
            if tickets.isEmpty {
                print(openOnly ? "no open tickets" : "no tickets yet")
            }
            for stored in tickets {
                print(TicketFormatting.line(stored.ticket, zone: TimeZone.current))
            }
            return 0
        case "show":
            try args.finish(maxPositionals: 2)
            guard args.positionals.count == 2, let number = TicketNumber(text: args.positionals[1]) else {
                throw UsageError("tickets show takes a ticket number, e.g. `tickets show 42`")
            }
            let found = try await openStore(configuration).use { store -> (StoredTicket, [TicketEvent], [PageRecord])? in
                guard let stored = try await store.ticket(number) else { return nil }
                return (stored, try await store.events(of: number), try await store.pages(of: number))
            }
            guard let (stored, events, pages) = found else {
                FileHandle.standardError.write(Data("switchboard tickets: there is no ticket \(number)\n".utf8))
                return 1
            }
            print(TicketFormatting.details(stored, events: events, pages: pages, zone: TimeZone.current))
            return 0
        default:
            throw UsageError("unknown tickets command \"\(verb)\" (expected list or show)")
        }
    }

    static let kb = SwitchboardCommand(
        name: "kb",
        summary: "search the knowledge base as the bots do",
        usage: """
            usage: switchboard kb search WORDS… [--limit N] [--config PATH]
                   switchboard kb show ID [--config PATH]
                   switchboard kb explain WORDS… [--config PATH]
                       why an article is or is not offered: the normalised query, stems,
                       expansions, each candidate's score parts and confidence, the threshold
                   switchboard kb gaps [--days N] [--limit N] [--config PATH]
                       what the KB fails to answer: the tickets opened in the last N days
                       (default 30) whose description the KB offers nothing for, grouped by
                       the nearest article below the threshold, at most N per group (default 10)
            """
    ) { words in
        var args = try Arguments(words)
        let configuration = try loadGatewayConfiguration(&args)
        if args.positionals.first == "gaps" {
            return try await KBGaps.run(&args, configuration: configuration)
        }
        let limit = try positiveNumber(&args, "limit") ?? 3
        try args.finish(maxPositionals: .max)
        guard let verb = args.positionals.first, ["search", "show", "explain"].contains(verb),
              args.positionals.count > 1 else {
            throw UsageError("expected `kb search WORDS…`, `kb explain WORDS…`, `kb show ID` or `kb gaps`")
        }
        let (definitions, base) = try loadKnowledgeBase(configuration)
        if verb == "show" {
            guard let article = base.article(id: args.positionals[1]) else {
                print("no article \(args.positionals[1])")
                return 1
            }
            print("\(article.id)  \(article.title)\n\(article.url.absoluteString)\n\n\(article.summary)")
            return 0
        }
        let query = args.positionals.dropFirst().joined(separator: " ")
        if verb == "explain" {
            let threshold = definitions.supportSettings.suggestionThreshold
            for line in base.explain(query, threshold: threshold) { print(line) }
            return 0
        }
        let hits = base.search(query, limit: limit)
        if hits.isEmpty { print("nothing found for \"\(query)\"") }
        for (i, hit) in hits.enumerated() {
            let score = String(format: "%.2f", hit.score)
            let confidence = String(format: "%.2f", hit.confidence)
            print("\(i + 1). \(hit.article.id)  \(hit.article.title)  \(hit.article.url.absoluteString)  "
                + "[\(hit.article.language.rawValue), score \(score), confidence \(confidence)]")
        }
        return 0
    }

    /// The `limit` open tickets that have waited longest, oldest first.
    static func longestWaiting(_ open: [StoredTicket], limit: Int) -> [StoredTicket] {
        Array(open.sorted { ($0.ticket.createdAt, $0.ticket.number.rawValue) < ($1.ticket.createdAt, $1.ticket.number.rawValue) }
            .prefix(limit))
    }

    static let hashPIN = SwitchboardCommand(
        name: "hash-pin",
        summary: "make the salted hash of a contract PIN for customers.json5",
        usage: """
            usage: switchboard hash-pin [--iterations N] < pin.txt

            Reads the PIN from standard input (first line) so it stays out of the
            shell history, and prints the value for a customer's `pinHash`.
            """
    ) { words in
        var args = try Arguments(words)
        let iterations = try args.option("iterations").map { text -> Int in
            guard let n = Int(text), (PINHash.minimumIterations...PINHash.maximumIterations).contains(n) else {
                throw UsageError("--iterations takes a number from \(PINHash.minimumIterations) to \(PINHash.maximumIterations)")
            }
            return n
        } ?? PINHash.defaultIterations
        try args.finish()
        if isatty(0) != 0 {
            FileHandle.standardError.write(Data("PIN (input is not hidden; pipe it in to keep it off the screen): ".utf8))
        }
        guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
            throw UsageError("no PIN on standard input")
        }
        print(try PBKDF2PINVerifier().hash(pin: line, iterations: iterations).encoded)
        return 0
    }
}

/// Reads `--config PATH` (default `config/switchboard.json5`) and loads it.
func loadGatewayConfiguration(_ args: inout Arguments) throws -> GatewayConfiguration {
    let path = try args.option("config") ?? GatewayConfiguration.defaultPath
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw UsageError("no configuration at \(path) (run from the repository root, or give --config PATH)")
    }
    return try GatewayConfiguration.load(from: url)
}

/// The value of `--name` as a positive number, or nil when not given.
func positiveNumber(_ args: inout Arguments, _ name: String) throws -> Int? {
    try args.option(name).map { text -> Int in
        guard let n = Int(text), n > 0 else { throw UsageError("--\(name) takes a positive number") }
        return n
    }
}

/// The bot definitions and the knowledge base from the folder and
/// vocabulary the KB bot's definition names, as the gateway reads them;
/// articles that do not load are warned about on standard error.
func loadKnowledgeBase(_ configuration: GatewayConfiguration) throws -> (BotDefinitions, KnowledgeBase) {
    let definitions = try BotDefinitions.load(folder: configuration.botsFolder)
    let (base, errors) = KnowledgeBase.load(from: definitions.kbFolder, vocabulary: definitions.kbSettings.vocabulary)
    for error in errors {
        FileHandle.standardError.write(Data("warning: \(error)\n".utf8))
    }
    return (definitions, base)
}

/// Opens the configured store (``StoreFactory``) for a command-line tool.
func openStore(_ configuration: GatewayConfiguration, logger: Logger = .disabled) throws -> OpenedStore {
    try StoreFactory.open(configuration.store, logger: logger)
}

