import Core
import Desk
import Foundation
import Store
import Testing

/// Tickets and their audit trail: numbers, versions, queries.
@Suite struct TicketTests {
    @Test func createsATicketWithItsCreatedEventAndPages() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let new = newTicket()
            let commit = try store.createTicket(new, pages: firstPages())
            #expect(commit.number == TicketNumber(1))
            #expect(commit.version == 1)
            #expect(commit.ticket == new.ticket(number: commit.number))
            #expect(commit.ticket.state == .new)
            #expect(try store.ticket(commit.number) == commit.stored)
            #expect(try store.events(of: commit.number) == [
                TicketEvent(ticket: commit.number, at: monday, actor: .customer("libera:alice"), kind: .created,
                            from: nil, to: "P2", note: "VPN down (1)"),
            ])
            #expect(commit.pages.map(\.target) == ["bob", "#support-agents"])
            #expect(try store.pages(of: commit.number) == commit.pages)
            #expect(commit.pages.allSatisfy { $0.isPending && $0.ticket == commit.number && $0.attempts == 0 })
            #expect(try store.ticket(TicketNumber(2)) == nil)
        }
    }

    @Test func numbersStrictlyIncreaseAndNeverRepeatAcrossReopenAndDeletion() throws {
        try withTemporaryDirectory { dir in
            var store = try openStore(dir.storePath)
            var numbers = try (1...3).map { try store.createTicket(newTicket($0)).number }
            store.close()

            store = try openStore(dir.storePath)
            numbers.append(try store.createTicket(newTicket(4)).number)
            store.close()

            // Deleting the newest ticket behind the store's back would let its
            // number be handed out again (the next number is the largest + 1,
            // schema 8): the store refuses it, and the ticket stays.
            let db = try SQLiteConnection(path: dir.storePath)
            try db.execute("PRAGMA foreign_keys = ON")
            #expect(throws: SQLiteError.self) {
                try db.run("DELETE FROM tickets WHERE number = ?", [SQLiteValue(numbers.last!.rawValue)])
            }
            db.close()

            store = try openStore(dir.storePath)
            defer { store.close() }
            numbers.append(try store.createTicket(newTicket(5)).number)
            numbers.append(try store.createTicket(newTicket(6)).number)
            #expect(numbers.map(\.rawValue) == [1, 2, 3, 4, 5, 6])
            #expect(try store.ticket(numbers[3])?.ticket.summary == "VPN down (4)")
            #expect(try store.events(of: numbers[3]).count == 1)
        }
    }

    @Test func anUpdateBasedOnAStaleVersionConflictsAndChangesNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket())
            let number = created.number

            // Two agents read version 1 and type `!take` at once.
            func take(by agent: String, from stored: StoredTicket) throws -> TicketCommit {
                var ticket = stored.ticket
                ticket.state = .inProgress
                ticket.assignee = agent
                ticket.updatedAt = monday.addingTimeInterval(60)
                return try store.update(stored, to: ticket, events: [
                    TicketEvent(ticket: number, at: ticket.updatedAt, actor: .agent(agent), kind: .assigned,
                                from: nil, to: agent),
                ])
            }
            let bobs = try take(by: "bob", from: created.stored)
            #expect(bobs.version == 2)
            #expect(throws: TicketStoreError.conflict(number, expectedVersion: 1, currentVersion: 2)) {
                try take(by: "carol", from: created.stored)
            }
            #expect(try store.ticket(number)?.ticket.assignee == "bob")
            #expect(try store.ticket(number)?.version == 2)
            #expect(try store.events(of: number).map(\.actor) == [.customer("libera:alice"), .agent("bob")])

            // Carol reads again and is told who has it; an update from the
            // fresh version goes through.
            let fresh = try #require(try store.ticket(number))
            var resolved = fresh.ticket
            resolved.state = .resolved
            let done = try store.update(fresh, to: resolved, events: [
                TicketEvent(ticket: number, at: monday, actor: .agent("bob"), kind: .stateChanged,
                            from: "in_progress", to: "resolved", note: "firmware 4.2 fixes it"),
            ])
            #expect(done.version == 3)
            #expect(String(describing: TicketStoreError.conflict(number, expectedVersion: 1, currentVersion: 2))
                .contains("#1"))
        }
    }

    @Test func updatingAMissingTicketOrWithAStrayEventFails() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket())
            var ghost = created.ticket
            ghost.number = TicketNumber(99)
            #expect(throws: TicketStoreError.ticketNotFound(TicketNumber(99))) {
                try store.updateTicket(ghost, expectedVersion: 1, events: [])
            }
            let stray = TicketEvent(ticket: TicketNumber(99), at: monday, actor: .system, kind: .note, note: "x")
            #expect(throws: TicketStoreError.self) {
                try store.updateTicket(created.ticket, expectedVersion: 1, events: [stray])
            }
            #expect(try store.ticket(created.number)?.version == 1)
        }
    }

    @Test func eventsRoundTripExactlyIncludingCustomerTextVerbatim() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            // What a customer may paste: umlauts, ß, emoji with a ZWJ,
            // right-to-left text, CR/LF, a NUL, a tab, quotes and SQL.
            let customerText = "Grüße aus Köln — Straße 5\r\nZeile 2: 👩‍💻 fällt aus\n\tשלום\u{0}\"'); DROP TABLE tickets;--"
            let contact = ChatIdentity(network: "matrix-main", nick: "@jürgen:example.org", account: nil)
            let created = try store.createTicket(newTicket(description: customerText).with(contact: contact))
            let number = created.number
            let oddTime = Date(timeIntervalSinceReferenceDate: 794_135_000.123_456_7)
            let events = [
                TicketEvent(ticket: number, at: oddTime, actor: .customer(contact.description),
                            kind: .customerMessage, from: nil, to: nil, note: customerText),
                TicketEvent(ticket: number, at: oddTime.addingTimeInterval(0.000_001), actor: .agent("bob"),
                            kind: .severityChanged, from: "2", to: "1", note: "whole office offline"),
                TicketEvent(ticket: number, at: oddTime, actor: .system, kind: .slaWarning, from: "", to: nil,
                            note: ""),
                TicketEvent(ticket: number, at: Date(timeIntervalSince1970: 0), actor: .agent("a:b:c"),
                            kind: .agentReply, from: nil, to: nil, note: "\r\n"),
            ]
            var ticket = created.ticket
            ticket.description = customerText
            ticket.updatedAt = oddTime
            let commit = try store.updateTicket(ticket, expectedVersion: 1, events: events)
            let stored = try store.events(of: number)
            #expect(stored.count == 5)
            #expect(stored.first?.kind == .created)
            #expect(Array(stored.dropFirst()) == events)
            #expect(stored[1].note.utf8.elementsEqual(customerText.utf8))
            #expect(try store.ticket(number)?.ticket == commit.ticket)
            #expect(try store.ticket(number)?.ticket.description == customerText)
            #expect(try store.ticket(number)?.ticket.contact == contact)
            #expect(try store.ticket(number)?.ticket.updatedAt == oddTime)
            #expect(TicketEvent.Kind.allCases.count == 11)
        }
    }

    @Test func everyEventKindAndActorIsStored() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket())
            let actors: [Actor] = [.system, .customer("libera:~nick"), .agent("bob")]
            let events = TicketEvent.Kind.allCases.enumerated().map { index, kind in
                TicketEvent(ticket: created.number, at: monday.addingTimeInterval(Double(index)),
                            actor: actors[index % actors.count], kind: kind, from: "\(index)", to: nil, note: "n\(index)")
            }
            _ = try store.updateTicket(created.ticket, expectedVersion: 1, events: events)
            #expect(Array(try store.events(of: created.number).dropFirst()) == events)
        }
    }

    @Test func openTicketsAreExactlyTheOpenStates() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            var expected: [TicketNumber] = []
            for (index, state) in TicketState.allCases.enumerated() {
                let created = try store.createTicket(newTicket(index))
                var ticket = created.ticket
                ticket.state = state
                _ = try store.updateTicket(ticket, expectedVersion: 1, events: [])
                if state.isOpen { expected.append(created.number) }
            }
            let open = try store.openTickets()
            #expect(open.map(\.number) == expected)
            #expect(open.allSatisfy { $0.ticket.state.isOpen && $0.version == 2 })
            #expect(expected.count == 5)
        }
    }

    @Test func findsTicketsByContactAndByCustomerNumber() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let aliceAccount = ChatIdentity(network: "libera", nick: "alice", account: "Alice")
            let aliceNickOnly = ChatIdentity(network: "libera", nick: "alice", account: nil)
            let aliceElsewhere = ChatIdentity(network: "oftc", nick: "alice", account: "alice")
            let a1 = try store.createTicket(newTicket(1, contact: aliceAccount)).number
            let a2 = try store.createTicket(newTicket(2, contact: aliceAccount)).number
            let n1 = try store.createTicket(newTicket(3, customerNumber: nil, contact: aliceNickOnly,
                                                      group: .noContract)).number
            let o1 = try store.createTicket(newTicket(4, customerNumber: "20077", contact: aliceElsewhere)).number
            // Close a1.
            let first = try #require(try store.ticket(a1))
            var closed = first.ticket
            closed.state = .closed
            _ = try store.update(first, to: closed, events: [])

            // By account: case-insensitive, same network only, newest first.
            let byAccount = ChatIdentity(network: "libera", nick: "someone-else", account: "ALICE")
            #expect(try store.tickets(contact: byAccount, openOnly: false, limit: 10).map(\.number) == [a2, a1])
            #expect(try store.tickets(contact: byAccount, openOnly: true, limit: 10).map(\.number) == [a2])
            #expect(try store.tickets(contact: byAccount, openOnly: false, limit: 1).map(\.number) == [a2])
            // A nick alone never matches a logged-in customer's tickets.
            #expect(try store.tickets(contact: ChatIdentity(network: "libera", nick: "ALICE"), openOnly: false,
                                      limit: 10).map(\.number) == [n1])
            #expect(try store.tickets(contact: aliceElsewhere, openOnly: false, limit: 10).map(\.number) == [o1])

            #expect(try store.tickets(customerNumber: "10042", openOnly: false, limit: 10).map(\.number) == [a2, a1])
            #expect(try store.tickets(customerNumber: "10042", openOnly: true, limit: 10).map(\.number) == [a2])
            #expect(try store.tickets(customerNumber: "20077", openOnly: true, limit: 10).map(\.number) == [o1])
            #expect(try store.tickets(customerNumber: "99999", openOnly: false, limit: 10).isEmpty)

            #expect(try store.recentTickets(limit: 3).map(\.number) == [o1, n1, a2])
        }
    }

    @Test func aTransactionThatThrowsHalfWayLeavesNothingBehind() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket(), pages: firstPages())
            // The update writes the ticket, cancels its unsent pages and
            // appends an event before it finds that step 0 already exists.
            var ticket = created.ticket
            ticket.state = .paged
            ticket.severity = .critical
            let event = TicketEvent(ticket: created.number, at: monday, actor: .system, kind: .paged)
            let repeated = PageDraft(step: 0, network: "libera", target: "carol", text: "again", createdAt: monday)
            #expect(throws: TicketStoreError.escalationStepExists(created.number, step: 0)) {
                try store.updateTicket(ticket, expectedVersion: 1, events: [event], pages: [repeated],
                                       cancelUnsentPages: true)
            }
            #expect(try store.ticket(created.number) == created.stored)
            #expect(try store.events(of: created.number).count == 1)
            #expect(try store.pages(of: created.number) == created.pages)

            // The same at the connection level: rows inserted before the
            // throw are gone, and the connection is usable afterwards.
            struct Oops: Error {}
            let db = try SQLiteConnection(path: dir.storePath)
            #expect(throws: Oops.self) {
                try db.transaction {
                    try db.run("INSERT INTO counters (name, key, value) VALUES ('half', 'way', 1)")
                    #expect(try db.queryFirst("SELECT COUNT(*) FROM counters") { try $0.int(0) } == 1)
                    throw Oops()
                }
            }
            #expect(db.isAutocommit)
            #expect(try db.queryFirst("SELECT COUNT(*) FROM counters") { try $0.int(0) } == 0)
            db.close()
            #expect(try store.counters("half").isEmpty)
        }
    }

    @Test func aFailingWriteInABatchFailsAloneAndTheOthersShareOneCommit() async throws {
        try await withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let bad = PageDraft(step: 0, network: "libera", target: "", text: "no target", createdAt: monday)
            let before = store.desk.batchStatistics
            let creations: [@Sendable (SQLiteDeskStore) async throws -> TicketCommit] = [
                { store in try await store.createTicket(newTicket(1), pages: firstPages()) },
                { store in try await store.createTicket(newTicket(2), pages: [bad]) },
                { store in try await store.createTicket(newTicket(3)) },
            ]
            let results = await StoreThreadTests.inOneBatch(store.desk, creations)
            #expect(results.count == 3)
            let first = try results[0].get()
            let third = try results[2].get()
            #expect(throws: TicketStoreError.self) { try results[1].get() }
            #expect(first.number.rawValue == 1 && third.number.rawValue == 2)
            #expect(try store.recentTickets(limit: 10).map(\.ticket.summary) == ["VPN down (3)", "VPN down (1)"])
            #expect(try store.pages(of: first.number).count == 2)
            let after = store.desk.batchStatistics
            #expect(after.transactions - before.transactions == 1)
            #expect(after.writes - before.writes == 3)
        }
    }
}

extension NewTicket {
    func with(contact: ChatIdentity) -> NewTicket {
        var copy = self
        copy.contact = contact
        copy.createdBy = .customer(contact.description)
        return copy
    }
}
