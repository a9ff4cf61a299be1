import Core
import Desk
import Foundation
@testable import Gateway
import Store
import Testing

/// The status page's routes on a real SQLite store: what the store holds
/// (tickets, roster overrides made at run time, counters) is what the page shows.
@Suite struct StatusPageRoutesTests {
    @Test func thePageShowsTheStoresTicketsOverridesAndCounters() async throws {
        let (loaded, folder) = try await NetworkSeamTests.configuration()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-29 10:53 Berlin
        let store = try SQLiteDeskStore(path: folder + "/status.sqlite", logger: .disabled, now: now)
        defer { Task { await store.close() } }
        let contact = ChatIdentity(network: "e2e", nick: "werft")
        func draft(_ created: Date, severity: Severity, summary: String) -> NewTicket {
            NewTicket(createdAt: created, createdBy: .customer(contact.description), customerNumber: "20001",
                      customerName: "Kieler Werft AG", contact: contact, group: .contract, tier: "enterprise",
                      severity: severity, summary: summary, description: summary, language: "en")
        }
        // Open for 13 of its 15 minutes: past 80 %.
        let open = try await store.createTicket(draft(now.addingTimeInterval(-13 * 60), severity: .critical,
                                                      summary: "Crane <control> offline"))
        // Three days ago, answered after 6 of 15 minutes, closed.
        let old = try await store.createTicket(draft(now.addingTimeInterval(-3 * 86_400), severity: .critical,
                                                     summary: "Old one"))
        var answered = old.ticket
        answered.state = .closed
        answered.respondedAt = old.ticket.createdAt.addingTimeInterval(6 * 60)
        _ = try await store.update(old.stored, to: answered, events: [])
        _ = try await store.addRosterOverride(RosterOverrideDraft(
            agent: "chris", from: now.addingTimeInterval(3600), until: now.addingTimeInterval(3 * 3600),
            reason: "set by ben", createdBy: .agent("ben"), createdAt: now))
        let today = loaded.desk.zone.date(of: now)
        try await store.incrementCounter(CounterName.deflectedByDay, key: today.description, by: 4)

        let routes = StatusPageRoutes(store: store, desk: { loaded.desk }, now: { now }, refreshSeconds: 10,
                                      logger: .disabled)
        func get(_ path: String) async -> HTTPResponse? {
            await routes.respond(HTTPRequest(method: "GET", target: path, path: path, query: nil, minorVersion: 1,
                                             headers: []))
        }
        let page = try #require(await get("/"))
        #expect(page.status == 200 && page.contentType.hasPrefix("text/html"))
        #expect(page.body.contains("<tr data-ticket=\"\(open.number.rawValue)\""))
        #expect(page.body.contains("class=\"sla sla-warning\""), "13 of 15 minutes used")
        #expect(page.body.contains("Crane &lt;control&gt; offline"))
        #expect(!page.body.contains("Old one</td>"), "a closed ticket is not listed")
        #expect(page.body.contains("<strong>Chris Petersen</strong> <span class=\"nick\">(chris)</span> "
            + "<span class=\"override\">override: set by ben</span>"), "the store's override is a handover")
        #expect(page.body.contains("\(today): 4 solved by a KB article"))
        #expect(page.body.contains("median 40 % of the SLA (1 responded)"), "6 of 15 minutes, three days ago")

        let live = try #require(await get("/live"))
        #expect(!live.body.contains("<html") && live.body.contains("<section id=\"tickets\">"))
        #expect(!live.body.contains("id=\"history\""), "the charts are not refreshed")

        let ticket = try #require(await get("/tickets/\(old.number.rawValue)"))
        #expect(ticket.status == 200 && ticket.body.contains("<td>created</td>"))
        #expect(await get("/tickets/999")?.status == 404)
        #expect(await get("/tickets/abc") == nil)
        #expect(await get("/static/status.js")?.contentType == "text/javascript; charset=utf-8")
    }
}
