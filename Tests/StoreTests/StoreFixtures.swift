import Core
import Desk
import Foundation
import Store

/// Runs `body` with a fresh temporary directory and removes it afterwards.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("switchboard-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(TemporaryDirectory(url: url))
}

struct TemporaryDirectory {
    let url: URL
    /// A path inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    /// `store.sqlite` inside the directory.
    var storePath: String { path("store.sqlite") }
}

/// 2026-03-02 09:00:00 UTC, a Monday (ManualClock's default start).
let monday = Date(timeIntervalSince1970: 1_772_442_000)

func openStore(_ path: String) throws -> BlockingSQLiteStore {
    try BlockingSQLiteStore(path: path, logger: .disabled, now: monday)
}

/// A ticket as the conversation would hand it to the store.
func newTicket(
    _ index: Int = 1, at date: Date = monday, customerNumber: String? = "10042",
    contact: ChatIdentity = ChatIdentity(network: "libera", nick: "alice", account: "alice"),
    group: CustomerGroup = .contract, severity: Severity = .major,
    description: String = "The VPN tunnel to the Hamburg office is down since this morning."
) -> NewTicket {
    NewTicket(createdAt: date, createdBy: .customer(contact.description), customerNumber: customerNumber,
              customerName: "Elbe Logistik GmbH", contact: contact, group: group,
              tier: group == .contract ? "premium" : nil, severity: severity,
              summary: "VPN down (\(index))", description: description, language: "de")
}

/// `ticket` as anna's `!take` leaves it a minute after Monday 09:00: in
/// progress, assigned to her, with the assignment's event.
func takenByAnna(_ ticket: Ticket) -> (ticket: Ticket, event: TicketEvent) {
    var taken = ticket
    taken.state = .inProgress
    taken.assignee = "anna"
    taken.updatedAt = monday.addingTimeInterval(60)
    return (taken, TicketEvent(ticket: taken.number, at: taken.updatedAt, actor: .agent("anna"), kind: .assigned,
                               to: "anna"))
}

/// The two pages of a contract ticket's first notification.
func firstPages(at date: Date = monday, summary: String = "VPN down") -> [PageDraft] {
    [
        PageDraft(step: 0, network: "libera", target: "bob", text: "P2 new ticket: \(summary)", createdAt: date),
        PageDraft(step: 0, network: "libera", target: "#support-agents", text: "bob: P2 new ticket: \(summary)",
                  createdAt: date),
    ]
}

/// ``withTemporaryDirectory(_:)`` for async tests.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("switchboard-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(TemporaryDirectory(url: url))
}
