import Desk
import Foundation
@testable import Gateway
import KB
import PostgresStore
import Store
import Testing
import TestSupport

/// `switchboard kb gaps`: the tickets a KB offers nothing for, grouped by
/// the nearest article, as an operator reads them at a terminal.
@Suite struct KBGapsTests {
    /// Two articles: the fluxmeter one is the nearest article for the
    /// "close" descriptions, the portal one for others.
    static let articles = [
        "KB-9001.md": """
            ---
            id: KB-9001
            title: Resetting the password of the customer portal
            url: https://docs.nordlicht.example/kb/KB-9001
            tags: password, portal, login
            language: en
            ---
            When you forgot the password of the customer portal, ask for a reset link on the login page.
            """,
        "KB-9002.md": """
            ---
            id: KB-9002
            title: Calibrating the fluxmeter
            url: https://docs.nordlicht.example/kb/KB-9002
            tags: fluxmeter, calibration
            language: en
            ---
            How to calibrate the fluxmeter after a firmware update.
            """,
    ]

    static let answered = "How do I calibrate the fluxmeter?"
    /// Near the fluxmeter article, closer than `fluxmeterFarther` (about 0.39 and 0.24 at writing).
    static let fluxmeterCloser = "my fluxmeter shows wrong values since the update of the printer driver"
    static let fluxmeterFarther = "the fluxmeter display flickers and the printer jams"
    /// Near the portal article (about 0.27 at writing), one of them twice.
    static let portalTwice = "the customer portal shows a printer error"
    static let portalOnce = "the portal is slow when the printer prints"
    static let noCandidate = "Zyxqor wibbles plonk"
    static let hostile = "\u{1B}[31mURGENT\u{1B}[0m the printer\r\nis \u{202E}on fire\u{0}\u{1B}]0;owned\u{07}"
    static let paste = String(repeating: "plonk ", count: 1_700) + "end"
    static let outsideTheWindow = "the fluxmeter beeps when the printer prints"
    /// Offered the fluxmeter article, less confidently than `portalPassword`
    /// the portal article (about 0.71 and 0.83 at writing, against 1.00).
    static let calibrateOnNewPrinter = "how do I calibrate the fluxmeter on the new printer"
    static let measuresNonsense = "the fluxmeter needs a calibration, it measures nonsense"
    static let portalPassword = "I forgot the password of the customer portal, where is the reset link on the login page?"
    /// Offered the fluxmeter article first (about 0.83), the portal article beside it (0.71).
    static let offeredBoth = "fluxmeter calibration and customer portal login"

    /// Creates the tickets (in this order, so numbers 1…10) in `store`:
    /// one 40 days old, the rest within the last days. `withNUL: false`
    /// for PostgreSQL, which refuses to store one.
    static func createTickets(_ store: some DeskStore, now: Date, withNUL: Bool = true) async throws {
        try await create([
            (outsideTheWindow, 40 * 24), (fluxmeterFarther, 50), (answered, 48), (portalTwice, 47),
            (fluxmeterCloser, 30), (noCandidate, 20), (portalOnce, 10), (hostile, 9), (paste, 8), (portalTwice, 2),
        ], in: store, now: now, withNUL: withNUL)
    }

    /// Creates a ticket for each description, created the hours ago given,
    /// numbered 1… in this order.
    static func create(_ described: [(String, Double)], in store: some DeskStore, now: Date,
                       withNUL: Bool = true) async throws {
        for (index, (text, hoursAgo)) in described.enumerated() {
            let description = withNUL ? text : text.replacingOccurrences(of: "\u{0}", with: "")
            let contact = ChatIdentity(network: "e2e", nick: "guest\(index)")
            _ = try await store.createTicket(NewTicket(
                createdAt: now.addingTimeInterval(-hoursAgo * 3600), createdBy: .customer(contact.description),
                customerNumber: nil, customerName: "Guest \(index)", contact: contact, group: .noContract, tier: nil,
                severity: .minor, summary: String(description.prefix(40)), description: description, language: "en"),
                pages: [])
        }
    }

    /// The line of `output` that starts with `prefix` (after leading spaces), or nil.
    static func index(_ lines: [String], _ prefix: String) -> Int? {
        lines.firstIndex { $0.drop(while: { $0 == " " }).hasPrefix(prefix) }
    }

    /// The whole report on a real SQLite file: counts, groups closest first
    /// (not by size or id), descriptions closest first within a group, an
    /// identical description once with both tickets, the ones near no
    /// article last, the window, and customer text made safe and short.
    @Test func groupsWhatTheKBOffersNothingForClosestFirst() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try fixture.moveKB(to: "articles-gaps", files: Self.articles)
        let now = Date()
        let store = try SQLiteDeskStore(path: fixture.storePath, logger: .disabled, now: now)
        try await Self.createTickets(store, now: now)
        await store.close()

        let (status, output) = try await fixture.run(["kb", "gaps"])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains { $0.hasPrefix("Tickets opened in the last 30 days (since ") && $0.hasSuffix("threshold 0.60:") },
                "\(output)")
        #expect(lines.contains("  9 looked at"), "\(output)")
        #expect(lines.contains { $0.hasPrefix("  1 would be offered an article now") }, "\(output)")
        #expect(lines.contains("  8 offered nothing: 5 below the threshold of 2 articles, 3 near no article"), "\(output)")

        // The fluxmeter group first: its closest description is closer,
        // although the portal group has more tickets and the lower id.
        let day = { (hoursAgo: Double) in TicketFormatting.day(now.addingTimeInterval(-hoursAgo * 3600), zone: .current) }
        let fluxmeter = try #require(Self.index(lines, "KB-9002  Calibrating the fluxmeter  confidence "), "\(output)")
        let portal = try #require(Self.index(lines, "KB-9001  Resetting the password of the customer portal  confidence "),
                                  "\(output)")
        let nothing = try #require(Self.index(lines, "Near no article (3 tickets):"), "\(output)")
        #expect(fluxmeter < portal && portal < nothing, "\(output)")
        #expect(lines[fluxmeter].hasSuffix(", 2 tickets") && lines[portal].hasSuffix(", 3 tickets"), "\(output)")
        let closer = try #require(lines.firstIndex { $0.contains("#5  \(day(30))  en  \"\(Self.fluxmeterCloser)\"") }, "\(output)")
        let farther = try #require(lines.firstIndex { $0.contains("#2  \(day(50))  en  \"\(Self.fluxmeterFarther)\"") }, "\(output)")
        #expect(fluxmeter < closer && closer < farther && farther < portal, "closest first, not oldest first: \(output)")
        // The confidence range of the group is its lowest and highest.
        let confidence = { (line: String) in String(line.drop(while: { $0 == " " }).prefix(4)) }
        #expect(lines[fluxmeter].contains("confidence \(confidence(lines[farther]))–\(confidence(lines[closer])), "),
                "\(output)")
        // An identical description is printed once, with both tickets.
        let twice = lines.filter { $0.contains("\"\(Self.portalTwice)\"") }
        #expect(twice.count == 1 && twice[0].contains("#4  \(day(47))") && twice[0].hasSuffix("(also #10 \(day(2)))"),
                "\(output)")
        #expect(lines.contains { $0.contains("#7  \(day(10))  en  \"\(Self.portalOnce)\"") }, "\(output)")

        // Near no article: last, oldest first, made safe and short.
        #expect(lines[nothing + 1] == "  #6  \(day(20))  en  \"\(Self.noCandidate)\"", "\(output)")
        #expect(lines[nothing + 2] == "  #8  \(day(9))  en  \"URGENT the printer is on fire\"", "\(output)")
        let pasted = lines[nothing + 3]
        #expect(pasted.hasPrefix("  #9  \(day(8))  en  \"plonk plonk ") && pasted.hasSuffix("…\""), "\(output)")
        #expect(pasted.count < 200, "a 10 KB paste is cut: \(pasted.count) characters")
        for control in ["\u{1B}", "\r", "\u{0}", "\u{202E}", "\u{07}", "[31m", "owned"] {
            #expect(!output.contains(control), "\(control.unicodeScalars.map(\.value)) reached the terminal: \(output)")
        }
        // The window: the ticket of 40 days ago is not looked at.
        #expect(!output.contains(Self.outsideTheWindow) && !output.contains("#1 "), "\(output)")
        #expect(output.contains("bots/kb/README.md") && output.contains("switchboard kb explain"), "\(output)")

        // A wider window takes it in; --limit 1 prints one description per group.
        let wider = try await fixture.run(["kb", "gaps", "--days", "50", "--limit", "1"])
        #expect(wider.status == 0, "\(wider.output)")
        #expect(wider.output.contains("  10 looked at") && wider.output.contains("#5  \(day(30))")
            && !wider.output.contains(Self.fluxmeterFarther) && !wider.output.contains(Self.outsideTheWindow), "\(wider.output)")
        #expect(wider.output.contains("  … 2 more (--limit N shows more)"), "\(wider.output)")
        #expect(wider.output.contains("KB-9002  Calibrating the fluxmeter  confidence ") && wider.output.contains(", 3 tickets"),
                "\(wider.output)")
    }

    /// Descriptions the KB offers an article for are a ticket opened
    /// anyway: a second section after the ones offered nothing, grouped by
    /// the article offered first, the most tickets first (not by
    /// confidence or id), the least confident descriptions first in each,
    /// an identical description once, the others offered beside it named,
    /// `--limit` per group.
    @Test func groupsWhatWasOfferedAnywayByTheFirstArticleBiggestFirst() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try fixture.moveKB(to: "articles-gaps", files: Self.articles)
        let now = Date()
        let store = try SQLiteDeskStore(path: fixture.storePath, logger: .disabled, now: now)
        try await Self.create([
            (Self.calibrateOnNewPrinter, 50), (Self.measuresNonsense, 40), (Self.portalPassword, 30),
            (Self.fluxmeterFarther, 20), (Self.calibrateOnNewPrinter.uppercased(), 10), (Self.offeredBoth, 5),
        ], in: store, now: now)
        await store.close()

        let (status, output) = try await fixture.run(["kb", "gaps"])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The summary counts the section's tickets and groups.
        #expect(lines.contains("  6 looked at"), "\(output)")
        #expect(lines.contains("  5 would be offered an article now (the customer declined it, or the KB has changed since): "
            + "2 articles offered first"), "\(output)")
        #expect(lines.contains("  1 offered nothing: 1 below the threshold of 1 article, 0 near no article"), "\(output)")

        // After the descriptions offered nothing (the operator's main work).
        let nothing = try #require(Self.index(lines, "Offered nothing, by the nearest article"), "\(output)")
        let anyway = try #require(Self.index(lines, "Offered, and a ticket was opened anyway, by the article offered first"),
                                  "\(output)")
        let farther = try #require(lines.firstIndex { $0.contains("#4  ") && $0.contains("\"\(Self.fluxmeterFarther)\"") },
                                   "\(output)")
        #expect(nothing < farther && farther < anyway, "\(output)")

        // The fluxmeter article first: four tickets, although the portal
        // one has one ticket, the lower id and the higher confidence.
        let day = { (hoursAgo: Double) in TicketFormatting.day(now.addingTimeInterval(-hoursAgo * 3600), zone: .current) }
        let fluxmeter = try #require(lines.indices.first {
            $0 > anyway && lines[$0].hasPrefix("KB-9002  Calibrating the fluxmeter  confidence ")
        }, "\(output)")
        let portal = try #require(lines.indices.first {
            $0 > anyway && lines[$0].hasPrefix("KB-9001  Resetting the password of the customer portal  confidence ")
        }, "\(output)")
        #expect(fluxmeter < portal, "the most tickets first: \(output)")
        #expect(lines[fluxmeter].hasSuffix(", 4 tickets") && lines[portal].hasSuffix(", 1 ticket"), "\(output)")
        let confidence = { (line: String) in Double(line.drop(while: { $0 == " " }).prefix(4)) ?? 0 }
        #expect(confidence(lines[portal + 1]) > confidence(lines[fluxmeter + 1]), "not by confidence: \(output)")
        // The least confident descriptions first (the likeliest wrong
        // offers, unlike the first section); the same question twice
        // (in other case) once, with both tickets; a description offered
        // both articles names the other beside the first.
        let nonsense = try #require(lines.firstIndex { $0.contains("#2  \(day(40))  en  \"\(Self.measuresNonsense)\"") },
                                    "\(output)")
        let both = try #require(lines.firstIndex { $0.contains("#6  \(day(5))  en  \"\(Self.offeredBoth)\"") }, "\(output)")
        let twice = lines.indices.filter { lines[$0].localizedCaseInsensitiveContains("\"\(Self.calibrateOnNewPrinter)\"") }
        #expect(twice.count == 1, "\(output)")
        let printer = try #require(twice.first, "\(output)")
        #expect(lines[printer].contains("#1  \(day(50))") && lines[printer].hasSuffix("(also #5 \(day(10)))"), "\(output)")
        #expect(fluxmeter < printer && printer < nonsense && printer < both && nonsense < portal && both < portal,
                "\(output)")
        #expect(confidence(lines[printer]) < confidence(lines[nonsense]), "\(output)")
        #expect(lines[both + 1].hasPrefix("        also offered KB-9001 0."), "\(output)")
        #expect(lines[portal + 1].contains("#3  \(day(30))  en  \"\(Self.portalPassword)\""), "\(output)")
        #expect(output.contains("reword or narrow its `questions:`"), "\(output)")

        // --limit 1: one description per group, the rest counted.
        let limited = try await fixture.run(["kb", "gaps", "--limit", "1"])
        #expect(limited.status == 0, "\(limited.output)")
        let shown = limited.output.split(separator: "\n").map(String.init)
        let first = try #require(shown.firstIndex { $0.hasPrefix("Offered, and a ticket was opened anyway") }, "\(limited.output)")
        #expect(shown[(first + 1)...].filter { $0.hasPrefix("  0.") || $0.hasPrefix("  1.") }.count == 2, "\(limited.output)")
        #expect(shown[(first + 1)...].contains("  … 2 more (--limit N shows more)"), "\(limited.output)")
        #expect(limited.output.contains(Self.calibrateOnNewPrinter) && !limited.output.contains(Self.measuresNonsense),
                "the least confident is the one shown: \(limited.output)")
    }

    /// The same on a PostgreSQL store, through the same seam.
    @Test func readsAPostgresStore() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        try fixture.moveKB(to: "articles-gaps", files: Self.articles)
        try fixture.usePostgres(urlFrom: "SWITCHBOARD_DATABASE_URL")
        let url = try await PostgresServer.shared().createDatabase("gaps_" + UUID().uuidString.lowercased()
            .replacingOccurrences(of: "-", with: "_"))
        let store = try PostgresDeskStore(url: url, logger: .disabled)
        let now = Date()
        try await Self.createTickets(store, now: now, withNUL: false)
        await store.close()
        let (status, output) = try await fixture.run(["kb", "gaps"], environment: ["SWITCHBOARD_DATABASE_URL": url])
        #expect(status == 0, "\(output)")
        #expect(output.contains("  9 looked at") && output.contains("  1 would be offered an article now")
            && output.contains("  8 offered nothing: 5 below the threshold of 2 articles, 3 near no article"), "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        let fluxmeter = try #require(Self.index(lines, "KB-9002  Calibrating the fluxmeter"), "\(output)")
        let portal = try #require(Self.index(lines, "KB-9001  Resetting the password"), "\(output)")
        #expect(fluxmeter < portal, "\(output)")
    }

    /// A configuration that does not load, a store file that is not there
    /// (it is not created) and a database that does not answer are each
    /// one clear error, and no report.
    @Test func aBrokenConfigurationOrAMissingStoreIsAClearError() async throws {
        let fixture = try CommandFixture(ircPort: try FreePort.next(), httpPort: try FreePort.next())
        let missing = try await fixture.run(["kb", "gaps"])
        #expect(missing.status == 1 && missing.output.contains("there is no store at \(fixture.storePath)"),
                "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: fixture.storePath), "kb gaps only reads")

        let port = try FreePort.next()
        try fixture.usePostgres(urlFrom: "SWITCHBOARD_DATABASE_URL")
        let unreachable = try await fixture.run(["kb", "gaps"], environment: [
            "SWITCHBOARD_DATABASE_URL": "postgresql://postgres:pw-n0t-shown@127.0.0.1:\(port)/none?connect_timeout=5",
        ])
        #expect(unreachable.status == 1 && unreachable.output.contains("cannot connect to postgresql://postgres@127.0.0.1:\(port)/none"), "\(unreachable.output)")
        #expect(!unreachable.output.contains("pw-n0t-shown") && !unreachable.output.contains("looked at"), "\(unreachable.output)")

        let usage = try await fixture.run(["kb", "gaps", "--days", "0"])
        #expect(usage.status == 64 && usage.output.contains("--days takes a positive number"), "\(usage.output)")

        try "{ desk: \".\", store: ".write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let broken = try await fixture.run(["kb", "gaps"])
        #expect(broken.status != 0 && broken.output.contains("switchboard.json5:1:"), "\(broken.output)")
    }

    /// A description nearly as close to a second article as to its
    /// nearest names the second under it: on studied sets the nearest
    /// article was a right one for about half of the answerable misses,
    /// one of the near ones for about 0.7.
    @Test func aDescriptionNearTwoArticlesNamesTheSecondToo() throws {
        let articles = [
            Article(id: "KB-9001", title: "Resetting the password of the customer portal",
                    url: URL(string: "https://docs.nordlicht.example/kb/KB-9001")!, tags: ["password", "portal", "login"],
                    language: .en, summary: "", body: "Ask for a reset link on the login page of the portal.", source: "KB-9001.md"),
            Article(id: "KB-9002", title: "Calibrating the fluxmeter",
                    url: URL(string: "https://docs.nordlicht.example/kb/KB-9002")!, tags: ["fluxmeter", "calibration"],
                    language: .en, summary: "", body: "How to calibrate the fluxmeter after a firmware update.",
                    source: "KB-9002.md"),
        ]
        let ticket = Ticket(number: TicketNumber(3), createdAt: Date(timeIntervalSince1970: 1_772_442_000), customerNumber: nil,
                            customerName: "Guest", contact: ChatIdentity(network: "e2e", nick: "guest"), group: .noContract,
                            tier: nil, severity: .minor, summary: "", description: "fluxmeter customer portal printer",
                            language: "en")
        let report = KBGaps.report([ticket], base: KnowledgeBase(articles: articles), threshold: 0.6)
        let group = try #require(report.near.first, "\(report)")
        let other = group.article.id == "KB-9001" ? "KB-9002" : "KB-9001"
        #expect(group.misses.first?.alsoNear.map(\.article.id) == [other], "\(report)")
        let lines = KBGaps.lines(report, days: 30, since: ticket.createdAt, threshold: 0.6, limit: 10,
                                 zone: TimeZone(identifier: "UTC")!)
        let described = try #require(lines.firstIndex { $0.contains("#3  2026-03-02  en  \"fluxmeter customer portal printer\"") },
                                     "\(lines)")
        #expect(lines[described + 1].hasPrefix("        also near \(other) 0."), "\(lines)")
    }

    /// Two long pastes that differ only after the printed part are two
    /// descriptions, not one with two tickets; the same text in other case
    /// is one.
    @Test func onlyWholeIdenticalDescriptionsAreMerged() {
        let start = String(repeating: "the same long start ", count: 20)
        let at = Date(timeIntervalSince1970: 1_772_442_000)
        let tickets = [start + "ends one way", start + "ends another way", (start + "ends one way").uppercased()]
            .enumerated().map { index, description in
                Ticket(number: TicketNumber(Int64(index + 1)), createdAt: at, customerNumber: nil, customerName: "Guest",
                       contact: ChatIdentity(network: "e2e", nick: "guest"), group: .noContract, tier: nil,
                       severity: .minor, summary: "", description: description, language: "en")
            }
        let report = KBGaps.report(tickets, base: .empty, threshold: 0.6)
        #expect(report.total == 3 && report.offered == 0 && report.near.isEmpty)
        #expect(report.unmatched.map { $0.tickets.map(\.number.rawValue) } == [[1, 3], [2]])
        #expect(report.unmatched.allSatisfy { $0.text.count == KBGaps.descriptionLength && $0.text.hasSuffix("…") })
    }
}
