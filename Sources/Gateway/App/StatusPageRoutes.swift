import Bots
import Core
import Desk
import Foundation
import StatusPage

/// The status page's routes (issue 13): `GET /` (the page), `/live` (its
/// live part, fetched by the page's script every `refreshSeconds`),
/// `/tickets/N` (a ticket's audit trail and pages, like `switchboard
/// tickets show`) and `/static/…` (the script and the style sheet).
///
/// Everything is read from the store at each request — tickets, pages,
/// roster overrides, counters — with the desk's configuration as the
/// running gateway has it now (after a reload), so every instance sharing
/// a store shows the same. Read-only: no route changes anything.
struct StatusPageRoutes: Sendable {
    let store: any DeskStore
    /// The desk's configuration in force now.
    let desk: @Sendable () -> DeskConfiguration
    let now: @Sendable () -> Date
    /// The running gateway's networks (nothing when not given).
    var networks: @Sendable () async -> [NetworkRow] = { [] }
    let refreshSeconds: Int
    let logger: Logger

    /// Tickets the charts read at most (14 days).
    static let historyLimit = 50_000
    /// Pages the live part lists at most.
    static let pageLimit = 200
    /// How far back given-up pages are listed.
    static let givenUpWindow: TimeInterval = 7 * 86_400

    func respond(_ request: HTTPRequest) async -> HTTPResponse? {
        switch request.path {
        case StatusPageAssets.scriptPath:
            return HTTPResponse(contentType: "text/javascript; charset=utf-8", body: StatusPageAssets.script)
        case StatusPageAssets.stylePath:
            return HTTPResponse(contentType: "text/css; charset=utf-8", body: StatusPageAssets.style)
        case "/", "/live":
            return await reading(request.path) { [self] in
                let desk = desk(), now = now()
                let snapshot = try await snapshot(desk: desk, now: now)
                if request.path == "/live" { return StatusPageHTML.live(snapshot) }
                return StatusPageHTML.page(snapshot, history: try await history(desk: desk, now: now),
                                           refreshSeconds: refreshSeconds)
            }
        default:
            guard request.path.hasPrefix("/tickets/"),
                  let number = TicketNumber(text: String(request.path.dropFirst("/tickets/".count)))
            else { return nil }
            return await ticketPage(number)
        }
    }

    /// A page made by `body`, or 503 when the store fails (logged).
    private func reading(_ path: String, _ body: @Sendable () async throws -> String) async -> HTTPResponse {
        do {
            return HTTPResponse(contentType: "text/html; charset=utf-8", body: try await body())
        } catch {
            logger.error("status page: store read failed", ["path": path, "error": error])
            return HTTPResponse(status: 503, contentType: "text/html; charset=utf-8", body: StatusPageHTML.message(
                title: "Store unavailable", text: "The store could not be read; the page will try again."))
        }
    }

    private func ticketPage(_ number: TicketNumber) async -> HTTPResponse {
        let desk = desk(), now = now()
        do {
            guard let stored = try await store.ticket(number) else {
                return HTTPResponse(status: 404, contentType: "text/html; charset=utf-8",
                                    body: StatusPageHTML.message(title: "No ticket \(number)", text: "There is no ticket \(number)."))
            }
            let events = try await store.events(of: number)
            let pages = try await store.pages(of: number).map(Self.row)
            return HTTPResponse(contentType: "text/html; charset=utf-8", body: StatusPageHTML.ticket(
                stored, events: events, pages: pages, sla: desk.sla.status(of: stored.ticket, at: now), now: now,
                zone: desk.zone))
        } catch {
            logger.error("status page: store read failed", ["ticket": number.description, "error": error])
            return HTTPResponse(status: 503, contentType: "text/html; charset=utf-8", body: StatusPageHTML.message(
                title: "Store unavailable", text: "The store could not be read; try again."))
        }
    }

    /// The live part: the roster with the overrides in the store, the open
    /// tickets, and the pages not sent (pending, or given up lately).
    func snapshot(desk: DeskConfiguration, now: Date) async throws -> StatusSnapshot {
        var roster = desk.roster
        for saved in try await store.rosterOverrides(endingAfter: now) {
            try? roster.restoreOverride(saved.rosterOverride)  // an agent since removed from the configuration
        }
        let open = try await store.openTickets().map(\.ticket)
        let pages = try await store.pendingPages(dueBy: .distantFuture, limit: Self.pageLimit).map(Self.row)
            .filter { $0.status == .inFlight || now.timeIntervalSince($0.page.createdAt) < Self.givenUpWindow }
        return StatusSnapshot(now: now, zone: desk.zone,
                              duty: DutyOverview.make(roster: roster, calendar: desk.calendar, now: now),
                              tickets: StatusSnapshot.ordered(open, sla: desk.sla, now: now), pages: pages,
                              networks: await networks())
    }

    /// The last 14 days from the tickets created in them and the per-day
    /// count of accepted KB suggestions.
    func history(desk: DeskConfiguration, now: Date, days: Int = 14) async throws -> StatusHistory {
        let first = desk.zone.startOfDay(desk.zone.date(of: now).adding(days: -(days - 1)))
        let tickets = try await store.tickets(createdFrom: first, until: now.addingTimeInterval(1), limit: Self.historyLimit)
        var accepted: [CalendarDate: Int] = [:]
        for (key, value) in try await store.counters(CounterName.deflectedByDay) {
            if let date = CalendarDate(text: key) { accepted[date] = Int(value) }
        }
        return StatusHistory.make(tickets: tickets.map(\.ticket), kbAcceptedByDay: accepted, sla: desk.sla,
                                  zone: desk.zone, now: now, dayCount: days)
    }

    static func row(_ page: PageRecord) -> PageRow {
        PageRow(page: page, status: GivenUpPage.isGivenUp(page) ? .givenUp : .inFlight)
    }
}
