import Desk
import Foundation
import StatusPage
import Testing

// The status page's HTML and SVG, from desk values: what the support lead
// sees, and that no customer-written text can become markup.

let zone = ZonedCalendar.berlin

func at(_ text: String) -> Date {
    let parts = text.split(separator: " ")
    let clock = parts[1].split(separator: ":").map { Int($0)! }
    return zone.instant(on: CalendarDate(text: String(parts[0]))!, at: LocalTime(hour: clock[0], minute: clock[1])!)
}

/// `premium`: severity 1 answered within 1 h, severity 2 within 4 h, around the clock.
let tiers = TierCatalog([
    Tier(id: "premium", name: "Premium", terms: [
        .critical: TierTerms(responseTime: 3600, coverage: .allDay),
        .major: TierTerms(responseTime: 4 * 3600, coverage: .allDay),
    ]),
])
let sla = SLAPolicy(tiers: tiers, calendar: .always(zone))
let agents = AgentDirectory([Agent(id: "anna", name: "Anna Berg", nick: "anna"),
                             Agent(id: "ben", name: "Ben Schröder", nick: "ben")])
let roster = Roster(zone: zone, agents: agents,
                    rotation: Rotation(start: CalendarDate(text: "2026-11-30")!, time: LocalTime(hour: 9, minute: 0)!,
                                       order: ["anna", "ben"]),
                    backup: "ben")

let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"

func ticket(_ number: Int64, created: Date, group: CustomerGroup = .contract, severity: Severity = .critical,
            state: TicketState = .new, assignee: String? = nil, respondedAt: Date? = nil,
            name: String = "Kieler Werft AG", summary: String = "VPN down", description: String = "VPN down") -> Ticket {
    Ticket(number: TicketNumber(number), createdAt: created, customerNumber: group == .contract ? "20001" : nil,
           customerName: name, contact: ChatIdentity(network: "e2e", nick: "werft"), group: group,
           tier: group == .contract ? "premium" : nil, severity: severity, summary: summary, description: description,
           language: "en", state: state, assignee: assignee, respondedAt: respondedAt)
}

func snapshot(_ tickets: [Ticket], pages: [PageRow] = [], now: Date, roster: Roster = roster) -> StatusSnapshot {
    StatusSnapshot(now: now, zone: zone, duty: DutyOverview.make(roster: roster, calendar: .always(zone), now: now),
                   tickets: StatusSnapshot.ordered(tickets, sla: sla, now: now), pages: pages)
}

/// The `<tr>` of ticket `number` in `html`.
func row(_ number: Int64, in html: String) -> String? {
    guard let start = html.range(of: "<tr data-ticket=\"\(number)\"") else { return nil }
    guard let end = html.range(of: "</tr>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.lowerBound..<end.upperBound])
}

@Suite struct EscapingTests {
    @Test func everyCustomerWrittenTextIsShownAsText() {
        let now = at("2026-12-05 10:00")
        let evil = ticket(7, created: at("2026-12-05 09:50"), name: "Evil \"Corp\" & <b>Sons</b>", summary: hostile,
                          description: "line one\n" + hostile)
        let live = StatusPageHTML.live(snapshot([evil], now: now))
        #expect(!live.contains("<script>"))
        #expect(!live.contains("<img"))
        #expect(!live.contains("<b>"))
        #expect(live.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(live.contains("Evil &quot;Corp&quot; &amp; &lt;b&gt;Sons&lt;/b&gt;"))

        let events = [TicketEvent(ticket: evil.number, at: now, actor: .customer("e2e:~\"><svg onload=x>"),
                                  kind: .customerMessage, note: "</td><script>alert(3)</script>")]
        let pages = [PageRow(page: PageRecord(id: PageID(rawValue: 1), ticket: evil.number, step: 0, network: "e2e",
                                              target: "anna", text: "#7 P1 " + hostile, createdAt: now, dueAt: now,
                                              attempts: 2, lastError: "<b>gone</b>"), status: .givenUp)]
        let page = StatusPageHTML.ticket(StoredTicket(ticket: evil, version: 1), events: events, pages: pages,
                                         sla: sla.status(of: evil, at: now), now: now, zone: zone)
        #expect(!page.contains("<script>"), "only the external script tag: \(page)")
        #expect(page.components(separatedBy: "<script").count == 2, "the one external script in the head")
        #expect(page.contains("<script src=\"/static/status.js\" defer></script>"))
        #expect(!page.contains("<img") && !page.contains("<svg onload") && !page.contains("<b>gone"))
        #expect(page.contains("line one\n&lt;script&gt;"), "the description keeps its lines, escaped")
        #expect(page.contains("&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;"))
    }

    @Test func escapeHandlesQuotesAndDropsControlCharacters() {
        #expect(HTML.escape("a'b\"c&<>") == "a&#39;b&quot;c&amp;&lt;&gt;")
        #expect(HTML.escape("bell\u{07}esc\u{1B}[31m\r\nnext\tok") == "bellesc[31m\nnext\tok")
        #expect(HTML.escape(String(repeating: "x", count: 10), max: 5) == "xxxx…")
    }
}

@Suite struct LiveSectionTests {
    @Test func emptyDeskSaysSoInEverySection() {
        let html = StatusPageHTML.live(snapshot([], now: at("2026-12-05 10:00")))
        #expect(html.contains("No open tickets."))
        #expect(html.contains("No page waiting to go out."))
        #expect(html.contains("No page given up."))
        #expect(!html.contains("<table class=\"tickets\""))
    }

    @Test func eachSLAStateHasItsColourClassAndTimeLeft() {
        let now = at("2026-12-05 10:00")
        let fresh = ticket(1, created: at("2026-12-05 09:50"))          // 10 of 60 min: ok, 50m left
        let amber = ticket(2, created: at("2026-12-05 09:10"))          // 50 of 60 min: >80 %, 10m left
        let red = ticket(3, created: at("2026-12-05 08:30"))            // 90 of 60 min: breached 30m ago
        let none = ticket(4, created: at("2026-12-05 09:00"), group: .noContract)
        let html = StatusPageHTML.live(snapshot([none, red, amber, fresh], now: now))
        let ok = row(1, in: html), warning = row(2, in: html), breached = row(3, in: html), plain = row(4, in: html)
        #expect(ok?.contains("class=\"sla sla-ok\"") == true && ok?.contains("50m left") == true, "\(ok ?? "")")
        #expect(warning?.contains("class=\"sla sla-warning\"") == true && warning?.contains("10m left") == true)
        #expect(breached?.contains("class=\"sla sla-breached\"") == true && breached?.contains("breached 30m ago") == true)
        #expect(plain?.contains("no SLA") == true)
        #expect(plain?.contains("P5") == true)
        // `!next` order: contract P1s oldest first, then the non-contract ticket.
        let order = [3, 2, 1, 4].compactMap { html.range(of: "<tr data-ticket=\"\($0)\"")?.lowerBound }
        #expect(order.count == 4 && order == order.sorted())
    }

    @Test func aHeldTicketNamesItsAgentAndAWaitingOneItsPlace() {
        let now = at("2026-12-05 10:00")
        let held = ticket(1, created: at("2026-12-05 09:00"), state: .inProgress, assignee: "anna",
                          respondedAt: at("2026-12-05 09:20"))
        let waiting = ticket(2, created: at("2026-12-05 09:30"), severity: .major)
        let html = StatusPageHTML.live(snapshot([held, waiting], now: now))
        #expect(row(1, in: html)?.contains("<td>anna</td>") == true)
        #expect(row(1, in: html)?.contains("sla-met") == true)
        #expect(row(2, in: html)?.contains("waiting, #1 in queue") == true)
        #expect(row(2, in: html)?.contains("30m") == true, "age")
    }

    @Test func dutyShowsNowBackupHandoversAndOverrides() {
        var withOverride = roster
        try! withOverride.addOverride(agent: "ben", from: at("2026-12-06 12:00"), until: at("2026-12-06 18:00"),
                                      reason: "set by anna", createdBy: "anna")
        let html = StatusPageHTML.live(snapshot([], now: at("2026-12-05 10:00"), roster: withOverride))
        // Week of 2026-11-30 is anna's; ben from Monday 07.12. 09:00.
        #expect(html.contains("<dd data-role=\"on-duty\"><strong>Anna Berg</strong>"))
        #expect(html.contains("<dd data-role=\"backup\"><strong>Ben Schröder</strong>"))
        #expect(html.contains("Sun 06.12. 12:00</time> <strong>Ben Schröder</strong>"))
        #expect(html.contains("override: set by anna"))
        #expect(html.contains("Sun 06.12. 18:00</time> <strong>Anna Berg</strong>"))
        #expect(html.contains("Mon 07.12. 09:00</time> <strong>Ben Schröder</strong>"))
    }

    @Test func pagesInFlightAndGivenUpAreListedApart() {
        let now = at("2026-12-05 10:00")
        func page(_ id: Int64, error: String?) -> PageRecord {
            PageRecord(id: PageID(rawValue: id), ticket: TicketNumber(5), step: 1, network: "e2e", target: "anna",
                       text: "page", createdAt: now, dueAt: now, attempts: error == nil ? 0 : 3, lastError: error)
        }
        let html = StatusPageHTML.live(snapshot([], pages: [PageRow(page: page(1, error: nil), status: .inFlight),
                                                            PageRow(page: page(2, error: "no such nick"), status: .givenUp)],
                                                now: now))
        #expect(html.contains("In flight <span class=\"count\">1</span>"))
        #expect(html.contains("Failed <span class=\"count\">1</span>"))
        #expect(html.contains("<tr class=\"failed\">") && html.contains("no such nick"))
    }

    /// A Matrix ticket's confirmation to the customer is kept in the outbox
    /// as an entry beyond every escalation step; people see it named, not
    /// as "step 1000", on the live list, the ticket's page and `tickets show`.
    @Test func aCustomersConfirmationInTheOutboxIsNamedNotShownAsAStep() {
        let now = at("2026-12-05 10:00")
        let confirmation = PageRecord(id: PageID(rawValue: 3), ticket: TicketNumber(5),
                                      step: PageDraft.customerConfirmationStep, network: "matrix",
                                      target: "@kim:example.org", text: "Ticket #5 is open.", createdAt: now, dueAt: now)
        let agentPage = PageRecord(id: PageID(rawValue: 4), ticket: TicketNumber(5), step: 1, network: "matrix",
                                   target: "@anna:example.org", text: "#5 P1", createdAt: now, dueAt: now)
        let rows = [PageRow(page: confirmation, status: .inFlight), PageRow(page: agentPage, status: .inFlight)]
        let live = StatusPageHTML.live(snapshot([], pages: rows, now: now))
        #expect(live.contains("<td>confirmation</td>") && live.contains("<td>1</td>"))
        #expect(!live.contains("1000"))

        let stored = StoredTicket(ticket: ticket(5, created: now), version: 1)
        let page = StatusPageHTML.ticket(stored, events: [], pages: rows, sla: sla.status(of: stored.ticket, at: now),
                                         now: now, zone: zone)
        #expect(page.contains("<tr><td>confirmation</td>") && !page.contains("1000"))
        #expect(confirmation.stepLabel == "confirmation" && agentPage.stepLabel == "step 1")
        // An agent command's lines kept in the outbox (Matrix) are named too.
        var answer = agentPage, notice = confirmation
        answer.step = PageDraft.commandAnswerStep
        notice.step = PageDraft.customerNoticeStep
        let commandRows = [PageRow(page: answer, status: .givenUp), PageRow(page: notice, status: .inFlight)]
        let commandLive = StatusPageHTML.live(snapshot([], pages: commandRows, now: now))
        #expect(commandLive.contains("<td>command answer</td>") && commandLive.contains("<td>customer notice</td>"))
        #expect(!commandLive.contains("1001") && !commandLive.contains("1002"))
    }

    @Test func aNetworkThatCannotSendIsMarkedWithItsBacklog() {
        var live = snapshot([], now: at("2026-12-05 10:00"))
        live.networks = [NetworkRow(name: "libera", isReady: true, status: "connected (irc.libera.chat:6697)",
                                    queuedTexts: 0, oldestWait: nil),
                         NetworkRow(name: "oftc<x>", isReady: false, status: "not connected (timed out)",
                                    queuedTexts: 7, oldestWait: 42.4)]
        let html = StatusPageHTML.live(live)
        #expect(html.contains("<li class=\"ready\" data-network=\"libera\"><strong>libera</strong>: "
            + "connected (irc.libera.chat:6697); send queue 0</li>"))
        #expect(html.contains("<li class=\"down\" data-network=\"oftc&lt;x&gt;\"><strong>oftc&lt;x&gt;</strong>: "
            + "not connected (timed out); send queue 7, oldest waiting 42 s</li>"))
    }

    @Test func thePageCarriesTheLiveSectionForTheScriptAndNoInlineScript() {
        let now = at("2026-12-05 10:00")
        let history = StatusHistory.make(tickets: [], kbAcceptedByDay: [:], sla: sla, zone: zone, now: now)
        let html = StatusPageHTML.page(snapshot([], now: now), history: history, refreshSeconds: 10)
        #expect(html.contains("<section id=\"live\" data-refresh=\"/live\" data-interval=\"10\" data-refreshes=\"0\""))
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(html.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "no inline event handler")
        #expect(StatusPageAssets.script.contains("setInterval(refresh, seconds * 1000)"))
    }
}

@Suite struct HistoryTests {
    @Test func fourteenDaysOfTicketsByGroupAndDeflections() {
        let now = at("2026-12-05 10:00")
        let tickets = [
            ticket(1, created: at("2026-12-05 08:00")),
            ticket(2, created: at("2026-12-05 09:00"), group: .noContract),
            ticket(3, created: at("2026-11-22 09:00")),             // first of the 14 days
            ticket(4, created: at("2026-11-21 23:59")),             // before them: not counted
        ]
        let history = StatusHistory.make(tickets: tickets, kbAcceptedByDay: [CalendarDate(text: "2026-12-04")!: 3],
                                         sla: sla, zone: zone, now: now)
        #expect(history.days.count == 14)
        #expect(history.days.first?.date == CalendarDate(text: "2026-11-22"))
        #expect(history.days.last?.date == CalendarDate(text: "2026-12-05"))
        #expect(history.days.last.map { ($0.contractTickets, $0.noContractTickets) } ?? (0, 0) == (1, 1))
        #expect(history.days.first?.contractTickets == 1)
        #expect(history.days[12].kbAccepted == 3)
        #expect(history.days.map(\.tickets).reduce(0, +) == 3)
    }

    @Test func responseMedianAndP90AreSharesOfTheSLA() {
        let now = at("2026-12-05 20:00")
        // Five severity-1 tickets (SLA 1 h) answered after 6, 12, 30, 48 and 90 minutes.
        let minutes = [6, 12, 30, 48, 90]
        let tickets = minutes.enumerated().map { index, minutes in
            ticket(Int64(index + 1), created: at("2026-12-05 10:00"), state: .inProgress, assignee: "anna",
                   respondedAt: at("2026-12-05 10:00").addingTimeInterval(Double(minutes) * 60))
        } + [ticket(9, created: at("2026-12-05 11:00"))]  // open, unanswered
        let history = StatusHistory.make(tickets: tickets, kbAcceptedByDay: [:], sla: sla, zone: zone, now: now)
        let premium = try! #require(history.tiers.first)
        #expect(premium.responded == 5)
        #expect(premium.unanswered == 1)
        #expect(premium.days.last?.median == 0.5)
        #expect(premium.days.last?.p90 == 1.5)
        #expect(premium.medianSeconds == 1800)
        #expect(premium.days.first?.median == nil)

        let svg = SVGCharts.responses(premium)
        #expect(svg.contains("data-chart=\"responses-premium\""))
        #expect(svg.contains("median 50 % of the SLA (5 responded)"))
        #expect(svg.contains("p90 150 % of the SLA"))
        #expect(svg.contains("<title>SLA</title>"))
    }

    @Test func chartsDrawOneMarkPerValueAndSayWhenEmpty() {
        let now = at("2026-12-05 10:00")
        let empty = StatusHistory.make(tickets: [], kbAcceptedByDay: [:], sla: sla, zone: zone, now: now)
        #expect(SVGCharts.ticketsPerDay(empty.days).contains("No tickets in these days"))
        #expect(SVGCharts.deflection(empty.days).contains("No tickets and no accepted KB suggestions"))
        #expect(SVGCharts.responses(empty.tiers[0]).contains("No first responses in these days"))

        let tickets = (1...3).map { ticket(Int64($0), created: at("2026-12-04 09:00")) }
            + [ticket(4, created: at("2026-12-05 09:00"), group: .noContract)]
        let history = StatusHistory.make(tickets: tickets, kbAcceptedByDay: [CalendarDate(text: "2026-12-05")!: 2],
                                         sla: sla, zone: zone, now: now)
        let bars = SVGCharts.ticketsPerDay(history.days)
        #expect(bars.contains("<title>2026-12-04: 3 contract</title>"))
        #expect(bars.contains("<title>2026-12-05: 1 without contract</title>"))
        #expect(bars.components(separatedBy: "<rect").count - 1 == 2 + 2, "two bars and two legend squares")
        #expect(bars.contains(">22.11.</text>") && bars.contains(">05.12.</text>"), "14 day labels from 22.11.")
        let deflection = SVGCharts.deflection(history.days)
        #expect(deflection.contains("<title>2026-12-05: 2 solved by a KB article</title>"))
        #expect(deflection.contains("<title>2026-12-04: 3 tickets</title>"))
        let page = StatusPageHTML.page(snapshot(tickets, now: now), history: history)
        #expect(page.contains("deflection 33 %"), "2 accepted of 6 conversations")
    }
}
