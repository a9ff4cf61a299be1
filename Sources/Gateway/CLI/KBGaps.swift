import Bots
import Desk
import Foundation
import KB

/// `switchboard kb gaps`: what the knowledge base fails to answer, read from
/// the tickets customers opened.
///
/// A ticket exists exactly when no suggested article solved the customer's
/// problem. Each ticket's description goes through the suggestion path the
/// conversation uses (``KnowledgeBase/suggestions(for:limit:threshold:)``
/// with the support bot's threshold, as `Intake` asks it), and the ones the
/// KB still offers nothing for are grouped by the article that came closest
/// below the threshold: the operator adds a `questions:` line to that
/// article, or sees that an article is missing. The ones it does offer an
/// article for are grouped by that article: the customer declined it (or
/// the KB has changed since), so the operator sees which articles are
/// offered for problems they do not answer.
enum KBGaps {
    /// How many descriptions of one group are printed unless `--limit` says otherwise.
    static let defaultLimit = 10
    /// How many characters of a description are printed (a 10 KB paste is cut).
    static let descriptionLength = 160
    /// At most this many tickets are read (the status page's bound too).
    static let ticketLimit = 50_000

    /// `switchboard kb gaps [--days N] [--limit N]` (after `--config`).
    static func run(_ args: inout Arguments, configuration: GatewayConfiguration) async throws -> Int32 {
        let days = try positiveNumber(&args, "days") ?? 30
        let limit = try positiveNumber(&args, "limit") ?? defaultLimit
        try args.finish(maxPositionals: 1)
        guard days <= 36_600 else { throw UsageError("--days takes at most 36600 (a hundred years)") }
        let (definitions, base) = try loadKnowledgeBase(configuration)
        let now = Date()
        let since = now.addingTimeInterval(-Double(days) * 86_400)
        let tickets = try await tickets(configuration, from: since, until: now).map(\.ticket)
        let threshold = definitions.supportSettings.suggestionThreshold
        let report = report(tickets, base: base, threshold: threshold)
        for line in lines(report, days: days, since: since, threshold: threshold, limit: limit, zone: .current) {
            print(line)
        }
        if tickets.count == ticketLimit {
            FileHandle.standardError.write(Data("warning: only the first \(ticketLimit) tickets of the window were looked at; give fewer --days\n".utf8))
        }
        return 0
    }

    /// The tickets created in the window, oldest first, from the configured
    /// store, opened as `switchboard tickets` opens it (an older schema is
    /// migrated); no ticket is changed. A SQLite file that does not exist
    /// is an error here (a wrong path, most likely), not an empty store
    /// made on the way.
    private static func tickets(_ configuration: GatewayConfiguration, from: Date, until: Date) async throws -> [StoredTicket] {
        if case .sqlite(let path) = configuration.store, !FileManager.default.fileExists(atPath: path.path) {
            throw NoStore(description: "there is no store at \(path.path) (the gateway creates it when it first runs; "
                + "is this the configuration it runs with?)")
        }
        // The stores' own errors say which store and why (a PostgreSQL URL without its password).
        return try await openStore(configuration).use {
            try await $0.tickets(createdFrom: from, until: until, limit: ticketLimit)
        }
    }

    /// The configured SQLite file is not there.
    struct NoStore: Error, CustomStringConvertible {
        let description: String
    }

    /// One description (or several identical ones) a ticket was opened for.
    struct Miss: Equatable {
        /// The description on one line, made safe for a terminal and shortened.
        var text: String
        /// The whole description so made, folded: what makes two the same.
        var key: String
        /// The tickets that carry it, oldest first.
        var tickets: [Ticket]
        /// The confidence of the nearest article, or of the one offered
        /// first (0 without a candidate).
        var confidence: Double
        /// Offered nothing: the next nearest articles, nearly as close (what
        /// the conversation would offer beside the nearest at threshold 0).
        /// Offered an article: the others offered beside it.
        var alsoNear: [KBHit]
    }

    /// The descriptions whose nearest article (below the threshold), or the
    /// article offered first, is `article`.
    struct Group: Equatable {
        var article: Article
        /// Closest first.
        var misses: [Miss]
        var ticketCount: Int { KBGaps.ticketCount(misses) }
        var best: Double { misses.map(\.confidence).max() ?? 0 }
        var worst: Double { misses.map(\.confidence).min() ?? 0 }
    }

    /// What the knowledge base answers now for a window's tickets.
    struct Report: Equatable {
        /// Tickets looked at.
        var total: Int
        /// Tickets the conversation would offer an article for now.
        var offered: Int
        /// Tickets offered nothing, by their nearest article, closest groups first.
        var near: [Group]
        /// Tickets offered nothing with no candidate article at all.
        var unmatched: [Miss]
        /// Tickets offered an article now, by the article offered first,
        /// the biggest groups first.
        var offeredAnyway: [Group]
        var offeredNothing: Int { total - offered }
    }

    /// Runs each ticket's description through the conversation's suggestion
    /// path at `threshold`; for those offered nothing, finds the most
    /// confident article below it and those nearly as close (the same path
    /// at threshold 0: its first hit is the best-ranked candidate, the
    /// others what it would offer beside it). On three studied sets the
    /// nearest article was a right one for 0.51 to 0.62 of the answerable
    /// descriptions offered nothing, one of these for 0.65 to 0.79.
    /// A ticket offered an article goes to the group of the article
    /// offered first, with the others offered beside it.
    static func report(_ tickets: [Ticket], base: KnowledgeBase, threshold: Double) -> Report {
        var offered = 0
        var nearGroups: [String: Group] = [:]
        var offeredGroups: [String: Group] = [:]
        var unmatched: [Miss] = []
        for ticket in tickets {
            // The call `Intake.nextQuestion` makes for the description.
            let offers = base.suggestions(for: ticket.description, limit: 3, threshold: threshold)
            let hits = offers.isEmpty
                ? base.suggestions(for: ticket.description, limit: 3, threshold: 0).filter { $0.confidence > 0 } : offers
            let miss = Miss(text: TerminalText.line(ticket.description, limit: descriptionLength),
                            key: TerminalText.line(ticket.description, limit: .max).lowercased(),
                            tickets: [ticket], confidence: hits.first?.confidence ?? 0, alsoNear: Array(hits.dropFirst()))
            if let first = hits.first, !offers.isEmpty {
                offered += 1
                offeredGroups[first.article.id, default: Group(article: first.article, misses: [])].misses.append(miss)
            } else if let nearest = hits.first {
                nearGroups[nearest.article.id, default: Group(article: nearest.article, misses: [])].misses.append(miss)
            } else {
                unmatched.append(miss)
            }
        }
        let near = nearGroups.values.map { Group(article: $0.article, misses: merged($0.misses)) }
            .sorted { ($1.best, $1.ticketCount, $0.article.id) < ($0.best, $0.ticketCount, $1.article.id) }
        // The biggest first: an article offered for many tickets that were
        // opened anyway is the likeliest to be offered for the wrong problem.
        // In a group the least confident first: those are the likeliest
        // wrong offers (on four labelled sets, of the 97 descriptions whose
        // first offered article is not a right one, the three least
        // confident of each group show 68, the three most confident 29).
        let offeredAnyway = offeredGroups.values
            .map { Group(article: $0.article, misses: merged($0.misses, closestFirst: false)) }
            .sorted { ($1.ticketCount, $1.best, $0.article.id) < ($0.ticketCount, $0.best, $1.article.id) }
        return Report(total: tickets.count, offered: offered, near: near, unmatched: merged(unmatched),
                      offeredAnyway: offeredAnyway)
    }

    /// Identical descriptions (a customer asking again) as one miss listing
    /// every ticket; closest first (or, `closestFirst: false`, the least
    /// confident first), then oldest.
    private static func merged(_ misses: [Miss], closestFirst: Bool = true) -> [Miss] {
        var order: [String] = []
        var byText: [String: Miss] = [:]
        for miss in misses {
            if var seen = byText[miss.key] {
                seen.tickets += miss.tickets
                seen.confidence = max(seen.confidence, miss.confidence)
                byText[miss.key] = seen
            } else {
                order.append(miss.key)
                byText[miss.key] = miss
            }
        }
        return order.compactMap { byText[$0] }.map { miss in
            var sorted = miss
            sorted.tickets.sort { $0.number < $1.number }
            return sorted
        }.sorted {
            closestFirst ? ($1.confidence, $0.tickets[0].number) < ($0.confidence, $1.tickets[0].number)
                : ($0.confidence, $0.tickets[0].number) < ($1.confidence, $1.tickets[0].number)
        }
    }

    /// The report for a terminal: the summary, the groups offered nothing
    /// closest first (each with at most `limit` descriptions), the
    /// descriptions near no article, the groups offered an article biggest
    /// first, and how to act on them.
    static func lines(_ report: Report, days: Int, since: Date, threshold: Double, limit: Int, zone: TimeZone) -> [String] {
        let window = "in the last \(days) day\(days == 1 ? "" : "s") (since \(TicketFormatting.time(since, zone: zone)))"
        guard report.total > 0 else { return ["no tickets were opened \(window)"] }
        var out = [
            "Tickets opened \(window), suggestion threshold \(format(threshold)):",
            "  \(report.total) looked at",
            "  \(report.offered) would be offered an article now (the customer declined it, or the KB has changed since): "
                + "\(count(report.offeredAnyway.count, "article")) offered first",
            "  \(report.offeredNothing) offered nothing: "
                + "\(ticketCount(report.near.flatMap(\.misses))) below the threshold of \(count(report.near.count, "article")), "
                + "\(ticketCount(report.unmatched)) near no article",
        ]
        if !report.near.isEmpty {
            out += ["", "Offered nothing, by the nearest article (closest first):"]
        }
        out += groupLines(report.near, limit: limit, zone: zone, alsoLabel: "also near")
        if !report.unmatched.isEmpty {
            out += ["", "Near no article (\(count(ticketCount(report.unmatched), "ticket"))):"]
            out += missLines(report.unmatched, limit: limit, zone: zone, confidence: false, alsoLabel: "also near")
        }
        if !report.offeredAnyway.isEmpty {
            out += ["", "Offered, and a ticket was opened anyway, by the article offered first "
                + "(the most tickets first; in each, the least confident first):"]
            out += groupLines(report.offeredAnyway, limit: limit, zone: zone, alsoLabel: "also offered")
        }
        if report.offeredNothing > 0 {
            out += ["", "To have messages offered nothing answered, add how customers ask to the nearest article's `questions:`",
                    "header, or write the article that is missing."]
        }
        if report.offered > 0 {
            out += ["", "Where an article was offered for what it does not answer, reword or narrow its `questions:` and `tags:`;",
                    "where no article answers such messages, write the one that does; where it does answer them, the tickets",
                    "say what its text leaves out."]
        }
        out += ["See bots/kb/README.md, \"Finding what your KB misses\"; `switchboard kb explain WORDS…` shows how one message is read."]
        return out
    }

    /// Each group's header (id, title, confidence range, tickets) and its descriptions.
    private static func groupLines(_ groups: [Group], limit: Int, zone: TimeZone, alsoLabel: String) -> [String] {
        var out: [String] = []
        for group in groups {
            let range = group.best == group.worst ? format(group.best) : "\(format(group.worst))–\(format(group.best))"
            out += ["", "\(group.article.id)  \(TerminalText.line(group.article.title, limit: 120))  "
                + "confidence \(range), \(count(group.ticketCount, "ticket"))"]
            out += missLines(group.misses, limit: limit, zone: zone, confidence: true, alsoLabel: alsoLabel)
        }
        return out
    }

    private static func missLines(_ misses: [Miss], limit: Int, zone: TimeZone, confidence: Bool, alsoLabel: String) -> [String] {
        var out: [String] = []
        for miss in misses.prefix(limit) {
            let first = miss.tickets[0]
            let others = miss.tickets.dropFirst().prefix(5).map { "\($0.number) \(TicketFormatting.day($0.createdAt, zone: zone))" }
            let more = miss.tickets.count > 6 ? ", +\(miss.tickets.count - 6)" : ""
            out.append("  " + (confidence ? format(miss.confidence) + "  " : "")
                + "\(first.number)  \(TicketFormatting.day(first.createdAt, zone: zone))  "
                + "\(TerminalText.line(first.language, limit: 5))  \"\(miss.text)\""
                + (others.isEmpty ? "" : "  (also \(others.joined(separator: ", "))\(more))"))
            if !miss.alsoNear.isEmpty {
                out.append("        \(alsoLabel) " + miss.alsoNear.map {
                    "\($0.article.id) \(format($0.confidence)) \"\(TerminalText.line($0.article.title, limit: 50))\""
                }.joined(separator: ", "))
            }
        }
        if misses.count > limit {
            out.append("  … \(misses.count - limit) more (--limit N shows more)")
        }
        return out
    }

    private static func ticketCount(_ misses: [Miss]) -> Int { misses.reduce(0) { $0 + $1.tickets.count } }

    private static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    private static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
