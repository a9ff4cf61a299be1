import Desk
import Foundation

/// The status page's HTML: the whole page (`GET /`), its live part alone
/// (`GET /live`, what the page's script swaps in every few seconds), a
/// ticket's page (`GET /tickets/N`), the login form and short error pages.
///
/// Every text that comes from a customer, an agent or a network is escaped
/// (``HTML/escape(_:)``); the only script is the external
/// ``StatusPageAssets/script`` (the server's `Content-Security-Policy`
/// allows no other), and the page reads fully without it.
public enum StatusPageHTML {
    /// The whole page: the live part (duty, open tickets, pages) in
    /// `<section id="live">`, refreshed from `livePath` every
    /// `refreshSeconds` by the script, and the charts of `history`.
    public static func page(_ snapshot: StatusSnapshot, history: StatusHistory, refreshSeconds: Int = 10,
                            livePath: String = "/live") -> String {
        var body = "<header><h1>Switchboard support desk</h1>"
            + "<p class=\"sub\">Read-only status · refreshes every \(refreshSeconds) s · times in "
            + "\(HTML.escape(snapshot.zone.timeZone.identifier))</p></header><main>"
        body += "<section id=\"live\" data-refresh=\"\(HTML.escape(livePath))\" data-interval=\"\(refreshSeconds)\" "
            + "data-refreshes=\"0\" aria-live=\"polite\">" + live(snapshot) + "</section>"
        body += historySection(history)
        body += "</main>"
        return document(title: "Switchboard status", body: body)
    }

    /// The live part alone: what `GET /live` answers and the script puts
    /// into `#live`.
    public static func live(_ snapshot: StatusSnapshot) -> String {
        var html = "<p class=\"stamp\">As of <time data-role=\"as-of\">"
            + "\(StatusFormat.clock(snapshot.now, zone: snapshot.zone))</time></p>"
        html += dutySection(snapshot.duty, zone: snapshot.zone)
        html += ticketsSection(snapshot.tickets, now: snapshot.now, zone: snapshot.zone)
        html += pagesSection(snapshot.pages, networks: snapshot.networks, zone: snapshot.zone)
        return html
    }

    // MARK: - Duty

    static func dutySection(_ duty: DutyOverview, zone: ZonedCalendar) -> String {
        func person(_ person: DutyOverview.Person?) -> String {
            guard let person else { return "<strong class=\"nobody\">no one</strong>" }
            return "<strong>\(HTML.escape(person.name))</strong> <span class=\"nick\">(\(HTML.escape(person.nick)))</span>"
        }
        var html = "<section id=\"duty\"><h2>On duty</h2><dl class=\"duty\">"
        html += "<dt>Now</dt><dd data-role=\"on-duty\">\(person(duty.onDuty))"
        if let reason = duty.onDutyOverride { html += " <span class=\"override\">override: \(HTML.escape(reason))</span>" }
        if duty.onDuty == nil { html += " <span class=\"warn\">pages go to the backup</span>" }
        html += "</dd><dt>Backup</dt><dd data-role=\"backup\">\(person(duty.backup))</dd></dl>"
        html += "<h3>Handovers, next 7 days</h3>"
        if duty.handovers.isEmpty {
            html += "<p class=\"empty\">No handover in the next 7 days.</p>"
        } else {
            html += "<ul class=\"handovers\">"
            for handover in duty.handovers {
                html += "<li><time>\(StatusFormat.weekdayTime(handover.at, zone: zone))</time> \(person(handover.agent))"
                if let reason = handover.overrideReason {
                    html += " <span class=\"override\">override: \(HTML.escape(reason))</span>"
                }
                html += "</li>"
            }
            html += "</ul>"
        }
        if !duty.holidays.isEmpty {
            html += "<ul class=\"holidays\">"
            for holiday in duty.holidays {
                html += "<li><span class=\"holiday\">holiday</span> \(holiday.date): \(HTML.escape(holiday.name)) "
                    + "(closed; business-hours SLAs pause)</li>"
            }
            html += "</ul>"
        }
        return html + "</section>"
    }

    // MARK: - Tickets

    static func ticketsSection(_ rows: [TicketRow], now: Date, zone: ZonedCalendar) -> String {
        var html = "<section id=\"tickets\"><h2>Open tickets <span class=\"count\">\(rows.count)</span></h2>"
        guard !rows.isEmpty else { return html + "<p class=\"empty\">No open tickets.</p></section>" }
        html += "<table class=\"tickets\"><thead><tr><th>Ticket</th><th>Priority</th><th>Customer</th><th>Summary</th>"
            + "<th>Age</th><th>State</th><th>Held by</th><th>SLA</th></tr></thead><tbody>"
        for row in rows {
            let t = row.ticket
            let customer = t.customerNumber.map { "\(HTML.escape(t.customerName)) <span class=\"num\">(\(HTML.escape($0)))</span>" }
                ?? HTML.escape(t.customerName)
            let holder = t.assignee.map { HTML.escape($0) }
                ?? row.queuePosition.map { "<span class=\"waiting\">waiting, #\($0) in queue</span>" } ?? "–"
            html += "<tr data-ticket=\"\(t.number.rawValue)\" class=\"\(t.group == .contract ? "contract" : "no-contract")\">"
                + "<td><a href=\"/tickets/\(t.number.rawValue)\">\(t.number)</a></td>"
                + "<td class=\"prio p\(t.priority.rank)\">\(t.priority.label)\(t.contractClaimPINLocked ? " <span class=\"warn\" title=\"contract claimed, PIN locked: verify by phone\">!</span>" : "")</td>"
                + "<td>\(customer)</td><td class=\"summary\">\(HTML.escape(t.summary, max: 120))</td>"
                + "<td>\(StatusFormat.duration(now.timeIntervalSince(t.createdAt)))</td>"
                + "<td>\(HTML.escape(t.state.rawValue))</td><td>\(holder)</td>" + slaCell(row.sla) + "</tr>"
        }
        return html + "</tbody></table></section>"
    }

    /// The SLA cell: time left (or overdue) with its state as a class —
    /// `sla-ok`, `sla-warning` (80 % used, amber), `sla-breached` (red).
    static func slaCell(_ status: SLAStatus?) -> String {
        guard let status else { return "<td class=\"sla sla-none\">no SLA</td>" }
        let text: String
        switch status.state {
        case .ok, .warning: text = "\(StatusFormat.duration(status.remaining)) left"
        case .breached: text = "breached \(StatusFormat.duration(-status.remaining)) ago"
        case .met: text = "met"
        case .missed: text = "missed by \(StatusFormat.duration(-status.remaining))"
        }
        let used = status.target > 0 ? Int((status.elapsed / status.target * 100).rounded(.down)) : 100
        return "<td class=\"sla sla-\(status.state.rawValue)\" data-sla=\"\(status.state.rawValue)\" "
            + "title=\"\(used) % of \(StatusFormat.duration(status.target)) used (\(HTML.escape(status.tier)), "
            + "\(status.coverage.rawValue))\">\(text)</td>"
    }

    // MARK: - Pages

    /// A page's Step cell: its escalation step, or a notice's name
    /// (``PageRecord/stepLabel``: `confirmation` for the customer's ticket
    /// confirmation kept in the outbox, not "1000"; `command answer`,
    /// `customer notice` for an agent command's lines).
    static func stepCell(_ page: PageRecord) -> String {
        page.isNotice ? page.stepLabel : "\(page.step)"
    }

    static func pagesSection(_ rows: [PageRow], networks: [NetworkRow], zone: ZonedCalendar) -> String {
        let inFlight = rows.filter { $0.status == .inFlight }, givenUp = rows.filter { $0.status == .givenUp }
        var html = "<section id=\"pages\"><h2>Pages</h2>"
        if !networks.isEmpty {
            html += "<ul class=\"networks\">"
            for network in networks {
                var queue = "send queue \(network.queuedTexts)"
                if let wait = network.oldestWait { queue += ", oldest waiting \(Int(wait.rounded())) s" }
                html += "<li class=\"\(network.isReady ? "ready" : "down")\" data-network=\"\(HTML.escape(network.name))\">"
                    + "<strong>\(HTML.escape(network.name))</strong>: \(HTML.escape(network.status)); \(queue)</li>"
            }
            html += "</ul>"
        }
        html += "<h3>In flight <span class=\"count\">\(inFlight.count)</span></h3>"
        html += inFlight.isEmpty ? "<p class=\"empty\">No page waiting to go out.</p>" : pageTable(inFlight, zone: zone)
        html += "<h3>Failed <span class=\"count\">\(givenUp.count)</span></h3>"
        html += givenUp.isEmpty ? "<p class=\"empty\">No page given up.</p>" : pageTable(givenUp, zone: zone)
        return html + "</section>"
    }

    static func pageTable(_ rows: [PageRow], zone: ZonedCalendar) -> String {
        var html = "<table class=\"pages\"><thead><tr><th>Ticket</th><th>Step</th><th>To</th><th>Due</th>"
            + "<th>Attempts</th><th>Last error</th></tr></thead><tbody>"
        for row in rows {
            let p = row.page
            let due = row.status == .givenUp ? "given up" : StatusFormat.time(p.dueAt, zone: zone)
            html += "<tr class=\"\(row.status == .givenUp ? "failed" : "in-flight")\">"
                + "<td><a href=\"/tickets/\(p.ticket.rawValue)\">\(p.ticket)</a></td><td>\(stepCell(p))</td>"
                + "<td>\(HTML.escape(p.network))/\(HTML.escape(p.target))</td><td>\(due)</td><td>\(p.attempts)</td>"
                + "<td>\(HTML.escape(p.lastError ?? "–", max: 160))</td></tr>"
        }
        return html + "</tbody></table>"
    }

    // MARK: - History

    static func historySection(_ history: StatusHistory) -> String {
        var html = "<section id=\"history\"><h2>Last \(history.days.count) days</h2>"
        html += "<figure><figcaption>Tickets per day</figcaption>\(SVGCharts.ticketsPerDay(history.days))</figure>"
        for tier in history.tiers {
            html += "<figure><figcaption>First response, tier \(HTML.escape(tier.tierName)): median and p90 "
                + "as share of the SLA response time</figcaption>\(SVGCharts.responses(tier))"
            var facts = "\(tier.responded) responded"
            if let median = tier.medianSeconds, let p90 = tier.p90Seconds {
                facts += ", median \(StatusFormat.duration(median)), p90 \(StatusFormat.duration(p90))"
            }
            if tier.unanswered > 0 { facts += ", \(tier.unanswered) open without a response" }
            let targets = tier.targets.map { "severity \($0.severity): \(StatusFormat.duration($0.seconds))" }
                .joined(separator: ", ")
            html += "<p class=\"facts\">\(facts). SLA: \(HTML.escape(targets)).</p></figure>"
        }
        let tickets = history.days.map(\.tickets).reduce(0, +), accepted = history.days.map(\.kbAccepted).reduce(0, +)
        let rate = tickets + accepted > 0 ? Int((Double(accepted) / Double(tickets + accepted) * 100).rounded()) : 0
        html += "<figure><figcaption>KB suggestions accepted vs tickets (deflection \(rate) %)</figcaption>"
            + "\(SVGCharts.deflection(history.days))</figure>"
        return html + "</section>"
    }

    // MARK: - A ticket

    /// A ticket's page, like `switchboard tickets show`: its facts, the
    /// customer's description, the audit trail and its pages.
    public static func ticket(_ stored: StoredTicket, events: [TicketEvent], pages: [PageRow], sla: SLAStatus?,
                              now: Date, zone: ZonedCalendar) -> String {
        let t = stored.ticket
        var body = "<header><p><a href=\"/\">← Status</a></p><h1>Ticket \(t.number) "
            + "<span class=\"prio p\(t.priority.rank)\">\(t.priority.label)</span></h1></header><main><section id=\"ticket\">"
        body += "<dl class=\"facts\">"
        body += "<dt>Group</dt><dd>\(t.group == .contract ? "contract \(HTML.escape(t.tier ?? "?"))" : "no contract"), severity \(t.severity)</dd>"
        body += "<dt>State</dt><dd>\(HTML.escape(t.state.rawValue))\(t.assignee.map { ", taken by \(HTML.escape($0))" } ?? "")</dd>"
        body += "<dt>Customer</dt><dd>\(HTML.escape(t.customerName))\(t.customerNumber.map { " (\(HTML.escape($0)))" } ?? "") "
            + "via \(HTML.escape(t.contact.description)), nick \(HTML.escape(t.contact.nick))</dd>"
        body += "<dt>Opened</dt><dd>\(StatusFormat.time(t.createdAt, zone: zone)) "
            + "(\(StatusFormat.duration(now.timeIntervalSince(t.createdAt))) ago)</dd>"
        body += "<dt>Updated</dt><dd>\(StatusFormat.time(t.updatedAt, zone: zone))</dd>"
        if let responded = t.respondedAt {
            body += "<dt>First response</dt><dd>\(StatusFormat.time(responded, zone: zone))</dd>"
        }
        body += "<dt>SLA</dt><dd><table class=\"inline\"><tr>\(slaCell(sla))</tr></table></dd>"
        body += "<dt>Language</dt><dd>\(HTML.escape(t.language)), version \(stored.version)</dd>"
        if t.contractClaimPINLocked {
            body += "<dt>Verify</dt><dd class=\"warn\">contract claimed, PIN locked (too many wrong PINs): verify the customer by phone before acting</dd>"
        }
        body += "<dt>Summary</dt><dd class=\"summary\">\(HTML.escape(t.summary))</dd></dl>"
        body += "<h2>Description</h2><pre class=\"description\">\(HTML.escape(t.description))</pre>"
        body += "<h2>Audit trail</h2>"
        if events.isEmpty {
            body += "<p class=\"empty\">No events.</p>"
        } else {
            body += "<table class=\"events\"><thead><tr><th>Time</th><th>Who</th><th>What</th><th>Change</th><th>Note</th></tr></thead><tbody>"
            for e in events {
                let change = (e.from != nil || e.to != nil) ? "\(HTML.escape(e.from ?? ""))→\(HTML.escape(e.to ?? ""))" : ""
                body += "<tr><td>\(StatusFormat.time(e.at, zone: zone))</td><td>\(HTML.escape(e.actor.description))</td>"
                    + "<td>\(HTML.escape(e.kind.rawValue))</td><td>\(change)</td><td class=\"note\">\(HTML.escape(e.note))</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "<h2>Pages</h2>"
        if pages.isEmpty {
            body += "<p class=\"empty\">No pages.</p>"
        } else {
            body += "<table class=\"pages\"><thead><tr><th>Step</th><th>To</th><th>Status</th><th>Text</th></tr></thead><tbody>"
            for row in pages {
                let p = row.page
                let status: String
                if let sent = p.sentAt {
                    status = "sent \(StatusFormat.time(sent, zone: zone))"
                } else if let cancelled = p.cancelledAt {
                    status = "cancelled \(StatusFormat.time(cancelled, zone: zone))"
                } else if row.status == .givenUp {
                    status = "<span class=\"warn\">given up</span> (\(HTML.escape(p.lastError ?? "–")))"
                } else {
                    status = "pending (due \(StatusFormat.time(p.dueAt, zone: zone)), \(p.attempts) attempts"
                        + (p.lastError.map { ", last error: \(HTML.escape($0))" } ?? "") + ")"
                }
                body += "<tr><td>\(stepCell(p))</td><td>\(HTML.escape(p.network))/\(HTML.escape(p.target))</td><td>\(status)</td>"
                    + "<td class=\"note\">\(HTML.escape(p.text))</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "</section></main>"
        return document(title: "Ticket \(t.number) · Switchboard", body: body)
    }

    // MARK: - Login and errors

    /// The login form: the token is posted to `/login`, which answers with
    /// an `HttpOnly`, `SameSite=Strict` cookie. `failed` says the last
    /// token was wrong.
    public static func login(failed: Bool) -> String {
        var body = "<header><h1>Switchboard status</h1></header><main><section id=\"login\">"
        if failed { body += "<p class=\"warn\" data-role=\"login-failed\">That token is not right.</p>" }
        body += "<form method=\"post\" action=\"/login\"><label for=\"token\">Access token</label> "
            + "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required> "
            + "<button type=\"submit\">Open</button></form>"
            + "<p class=\"sub\">Or send <code>Authorization: Bearer &lt;token&gt;</code>.</p></section></main>"
        return document(title: "Log in · Switchboard status", body: body)
    }

    /// A short page for an error or a notice (`404`, `401`).
    public static func message(title: String, text: String) -> String {
        document(title: title, body: "<header><h1>\(HTML.escape(title))</h1></header><main><p>\(HTML.escape(text))</p>"
            + "<p><a href=\"/\">Status page</a></p></main>")
    }

    static func document(title: String, body: String) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>\(HTML.escape(title))</title><link rel=\"stylesheet\" href=\"\(StatusPageAssets.stylePath)\">"
            + "<script src=\"\(StatusPageAssets.scriptPath)\" defer></script></head><body>\(body)</body></html>"
    }
}
