import Desk
import Foundation

/// The Berlin wall clock, as the tests speak of times.
let berlin = ZonedCalendar.berlin

/// `at("2026-03-30 09:00")` or with seconds `at("2026-03-30 08:59:59")`:
/// that wall-clock time in Berlin (first occurrence if it repeats).
func at(_ text: String, in zone: ZonedCalendar = berlin) -> Date {
    let parts = text.split(separator: " ")
    let date = CalendarDate(text: String(parts[0]))!
    let clock = parts[1].split(separator: ":").map { Int($0)! }
    let base = zone.instant(on: date, at: LocalTime(hour: clock[0], minute: clock[1])!)
    return base.addingTimeInterval(TimeInterval(clock.count > 2 ? clock[2] : 0))
}

/// An instant given in UTC: `utc("2026-03-30T07:00:00Z")`.
func utc(_ text: String) -> Date {
    try! Date(text, strategy: .iso8601)
}

/// A ticket with sensible defaults.
func makeTicket(
    _ number: Int64, created: Date, group: CustomerGroup = .contract, tier: String? = "premium",
    severity: Severity = .major, state: TicketState = .new, assignee: String? = nil, respondedAt: Date? = nil,
    contact: ChatIdentity = ChatIdentity(network: "demo", nick: "alice", account: "alice")
) -> Ticket {
    Ticket(number: TicketNumber(number), createdAt: created, customerNumber: group == .contract ? "10042" : nil,
           customerName: "Speicherstadt Logistik GmbH", contact: contact, group: group,
           tier: group == .contract ? tier : nil, severity: severity, summary: "VPN down",
           description: "The site-to-site VPN to the warehouse is down.", language: "en",
           state: state, assignee: assignee, respondedAt: respondedAt)
}
