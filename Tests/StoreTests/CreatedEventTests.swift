import Desk
import Foundation
import Testing

@testable import Store

/// Schema 10 (issue 12): a new ticket's `created` event is read from the
/// ticket's row instead of being written as an event row of its own (one
/// B-tree insert and ~1.9 WAL pages less per ticket). The audit trail reads
/// the same: the event says what the ticket was created with, also after
/// updates changed the row, and older tickets keep their event rows.
@Suite struct CreatedEventTests {
    private func eventRows(_ path: String) throws -> [String] {
        let db = try SQLiteConnection(path: path)
        defer { db.close() }
        return try db.query("SELECT ticket, seq, kind, to_value, note FROM ticket_events ORDER BY ticket, seq", []) {
            "\(try $0.int64(0)).\(try $0.int64(1)) \(try $0.text(2)) \(try $0.optionalText(3) ?? "-") \(try $0.text(4))"
        }
    }

    @Test func aNewTicketWritesNoEventRowAndItsCreatedEventReadsAsBefore() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let new = newTicket(1, group: .noContract, severity: .minor)
            let commit = try store.createTicket(new, pages: firstPages())
            #expect(try store.events(of: commit.number) == [new.createdEvent(number: commit.number)])
            store.close()
            #expect(try eventRows(dir.storePath) == [])
        }
    }

    /// The row changes with every update; the `created` event must not. The
    /// first update writes it as event 1 before it changes the row, whether
    /// it brings events of its own or none.
    @Test func updatesKeepWhatTheTicketWasCreatedWith() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let new = newTicket(1, severity: .major)
            let created = try store.createTicket(new, pages: firstPages())
            let createdEvent = new.createdEvent(number: created.number)
            var changed = created.ticket
            changed.severity = .critical
            changed.summary = "VPN down everywhere"
            changed.updatedAt = monday.addingTimeInterval(30)
            let second = try store.updateTicket(changed, expectedVersion: created.version, events: [])
            #expect(try store.events(of: created.number) == [createdEvent])
            #expect(createdEvent.to == "P2" && createdEvent.note == "VPN down (1)")

            let (taken, assigned) = takenByAnna(second.ticket)
            _ = try store.updateTicket(taken, expectedVersion: second.version, events: [assigned])
            #expect(try store.events(of: created.number) == [createdEvent, assigned])

            // A ticket whose first update brings an event.
            let other = try store.createTicket(newTicket(2))
            let (otherTaken, otherAssigned) = takenByAnna(other.ticket)
            _ = try store.updateTicket(otherTaken, expectedVersion: other.version, events: [otherAssigned])
            #expect(try store.events(of: other.number)
                == [newTicket(2).createdEvent(number: other.number), otherAssigned])
            store.close()
            #expect(try eventRows(dir.storePath) == [
                "1.1 created P2 VPN down (1)", "1.2 assigned anna ",
                "2.1 created P2 VPN down (2)", "2.2 assigned anna ",
            ])
        }
    }

    /// An update that fails (a conflict) leaves no event row behind: the
    /// `created` event is still read from the unchanged row.
    @Test func aConflictingUpdateWritesNoCreatedEvent() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            let created = try store.createTicket(newTicket(1))
            var changed = created.ticket
            changed.summary = "changed"
            #expect(throws: TicketStoreError.self) {
                try store.updateTicket(changed, expectedVersion: 7, events: [])
            }
            #expect(try store.events(of: created.number) == [newTicket(1).createdEvent(number: created.number)])
            store.close()
            #expect(try eventRows(dir.storePath) == [])
        }
    }

    /// A store made by schema 9 (the statements of that code): its tickets
    /// keep their event rows, updated or not, and get no second `created`
    /// event; tickets made after the migration have none until updated.
    @Test func aStoreOfSchemaNineKeepsItsEventsAndGetsNoSecondCreatedEvent() throws {
        try withTemporaryDirectory { dir in
            let db = try storeOfSchema(9, at: dir.storePath)
            let old = try (1...2).map { try db.insertTicketAsBeforeSchema10(newTicket($0), pages: firstPages()) }
            let (taken, assigned) = takenByAnna(old[1].ticket)
            _ = try db.updateTicketAsBeforeSchema10(taken, expectedVersion: old[1].version, events: [assigned])
            db.close()

            let store = try openStore(dir.storePath)
            let oldCreated = old.map { newTicket(Int($0.number.rawValue)).createdEvent(number: $0.number) }
            #expect(try store.events(of: old[0].number) == [oldCreated[0]])
            #expect(try store.events(of: old[1].number) == [oldCreated[1], assigned])
            #expect(try store.pages(of: old[0].number) == SQLiteConnection.renumberedBySchema11(old[0].pages))
            // The old ticket at version 1: its first update under the new
            // code adds its own event only.
            let (firstTaken, firstAssigned) = takenByAnna(old[0].ticket)
            _ = try store.updateTicket(firstTaken, expectedVersion: old[0].version, events: [firstAssigned])
            #expect(try store.events(of: old[0].number) == [oldCreated[0], firstAssigned])
            let new = try store.createTicket(newTicket(3), pages: firstPages())
            #expect(new.number.rawValue == 3)
            #expect(try store.events(of: new.number) == [newTicket(3).createdEvent(number: new.number)])
            store.close()
            #expect(try eventRows(dir.storePath) == [
                "1.1 created P2 VPN down (1)", "1.2 assigned anna ",
                "2.1 created P2 VPN down (2)", "2.2 assigned anna ",
            ])
        }
    }
}
