import Bots
import Desk
import Foundation

/// How tickets look on a terminal (`switchboard tickets`).
enum TicketFormatting {
    /// Date and minute: `2026-11-29 14:03`.
    static func time(_ date: Date, zone: TimeZone) -> String {
        verbatim(date, "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)", zone: zone)
    }

    /// The day alone: `2026-11-29`.
    static func day(_ date: Date, zone: TimeZone) -> String {
        verbatim(date, "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)", zone: zone)
    }

    private static func verbatim(_ date: Date, _ format: Date.FormatString, zone: TimeZone) -> String {
        var style = Date.VerbatimFormatStyle(format: format, timeZone: zone, calendar: Calendar(identifier: .gregorian))
        style.locale = Locale(identifier: "en_US_POSIX")
        return date.formatted(style)
    }

    /// One line: `#42  P2  in_progress  anna  2026-11-29 14:03  Acme GmbH (10042)  VPN down`
    /// (`P2!` when the contract was claimed but the PIN check was locked).
    static func line(_ ticket: Ticket, zone: TimeZone) -> String {
        let customer = ticket.customerNumber.map { "\(ticket.customerName) (\($0))" } ?? ticket.customerName
        return [
            ticket.number.description.padding(toLength: 7, withPad: " ", startingAt: 0),
            ticket.priority.label + (ticket.contractClaimPINLocked ? "!" : ""),
            ticket.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0),
            (ticket.assignee ?? "-").padding(toLength: 8, withPad: " ", startingAt: 0),
            time(ticket.createdAt, zone: zone),
            customer,
            oneLine(ticket.summary, max: 60),
        ].joined(separator: "  ")
    }

    static func details(_ stored: StoredTicket, events: [TicketEvent], pages: [PageRecord], zone: TimeZone) -> String {
        let t = stored.ticket
        var out = """
            Ticket \(t.number)  \(t.priority.label) (\(t.group == .contract ? "contract \(t.tier ?? "?")" : "no contract"), severity \(t.severity))
            state:     \(t.state.rawValue)\(t.assignee.map { ", taken by \($0)" } ?? "")
            customer:  \(t.customerName)\(t.customerNumber.map { " (\($0))" } ?? "")  via \(t.contact) nick \(t.contact.nick)
            opened:    \(time(t.createdAt, zone: zone))   updated: \(time(t.updatedAt, zone: zone))\(t.respondedAt.map { "   first response: \(time($0, zone: zone))" } ?? "")
            language:  \(t.language)   version: \(stored.version)\(t.contractClaimPINLocked ? "\nverify:    contract claimed, PIN locked (too many wrong PINs): verify the customer by phone before acting" : "")
            summary:   \(oneLine(t.summary, max: 200))

            \(t.description.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map { "  | " + oneLine(String($0), max: 500) }.joined(separator: "\n"))

            Audit trail:
            """
        for e in events {
            var change = ""
            if e.from != nil || e.to != nil { change = " \(e.from ?? "")→\(e.to ?? "")" }
            out += "\n  \(time(e.at, zone: zone))  \(e.actor)  \(e.kind.rawValue)\(change)\(e.note.isEmpty ? "" : "  \(oneLine(e.note, max: 200))")"
        }
        if !pages.isEmpty {
            out += "\n\nPages:"
            for p in pages {
                let givenUp: String? = GivenUpPage.isGivenUp(p) ? "GIVEN UP (\(p.lastError ?? "-"))" : nil
                let status = p.sentAt.map { "sent \(time($0, zone: zone))" }
                    ?? p.cancelledAt.map { "cancelled \(time($0, zone: zone))" }
                    ?? givenUp
                    ?? "pending (due \(time(p.dueAt, zone: zone)), \(p.attempts) attempts\(p.lastError.map { ", last error: \($0)" } ?? ""))"
                out += "\n  \(p.stepLabel)  \(p.network)/\(p.target)  \(status)  \(oneLine(p.text, max: 120))"
            }
        }
        return out
    }

    /// The text on one line for a terminal: line breaks shown as `⏎`, then
    /// ``TerminalText/line(_:limit:)`` (escape sequences, other control
    /// characters and bidirectional overrides removed), cut at `max`.
    static func oneLine(_ text: String, max: Int) -> String {
        var marked = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" { marked.append("⏎") } else { marked.append(scalar) }
        }
        return TerminalText.line(String(marked), limit: max)
    }
}
