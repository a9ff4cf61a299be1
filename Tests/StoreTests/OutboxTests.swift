import Core
import Desk
import Foundation
import Store
import Testing

/// The outbox of pages: written with the ticket, pending until sent.
@Suite struct OutboxTests {
    @Test func pagesArePendingUntilMarkedSent() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket(), pages: firstPages())
            let ids = created.pages.map(\.id)
            #expect(try store.pendingPages(dueBy: monday, limit: 10).map(\.id) == ids)
            #expect(try store.nextPageDue() == monday)

            let sentAt = monday.addingTimeInterval(0.4)
            try store.markPageSent(ids[0], at: sentAt)
            #expect(try store.pendingPages(dueBy: monday, limit: 10).map(\.id) == [ids[1]])
            // Marking again keeps the first time.
            try store.markPageSent(ids[0], at: sentAt.addingTimeInterval(30))
            let first = try #require(try store.pages(of: created.number).first)
            #expect(first.sentAt == sentAt && first.attempts == 1 && !first.isPending)

            try store.markPageSent(ids[1], at: sentAt)
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: 10).isEmpty)
            #expect(try store.nextPageDue() == nil)
            #expect(throws: TicketStoreError.pageNotFound(PageID(rawValue: 999))) {
                try store.markPageSent(PageID(rawValue: 999), at: sentAt)
            }
        }
    }

    @Test func pendingPagesComeInDueOrderUpToTheGivenTime() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            func page(_ target: String, dueIn seconds: TimeInterval) -> PageDraft {
                PageDraft(step: 0, network: "libera", target: target, text: "page \(target)", createdAt: monday,
                          dueAt: monday.addingTimeInterval(seconds))
            }
            let a = try store.createTicket(newTicket(1), pages: [page("late", dueIn: 600), page("now", dueIn: 0)])
            let b = try store.createTicket(newTicket(2), pages: [page("soon", dueIn: 300), page("now2", dueIn: 0)])
            #expect(try store.pendingPages(dueBy: monday, limit: 10).map(\.target) == ["now", "now2"])
            #expect(try store.pendingPages(dueBy: monday.addingTimeInterval(300), limit: 10).map(\.target)
                == ["now", "now2", "soon"])
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: 10).map(\.target)
                == ["now", "now2", "soon", "late"])
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: 2).map(\.target) == ["now", "now2"])
            #expect(try store.pendingPages(dueBy: monday.addingTimeInterval(-1), limit: 10).isEmpty)
            #expect(Set(try store.pendingPages(dueBy: .distantFuture, limit: 10).map(\.ticket)) == [a.number, b.number])
        }
    }

    @Test func aFailedPageIsRetriedAtTheGivenTimeWithItsError() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket(), pages: [firstPages()[0]])
            let id = created.pages[0].id
            let retry = monday.addingTimeInterval(30)
            try store.markPageFailed(id, error: "not connected to libera", retryAt: retry)
            #expect(try store.pendingPages(dueBy: monday, limit: 10).isEmpty)
            #expect(try store.nextPageDue() == retry)
            let pending = try store.pendingPages(dueBy: retry, limit: 10)
            #expect(pending.count == 1)
            #expect(pending.first?.attempts == 1)
            #expect(pending.first?.lastError == "not connected to libera")
            #expect(pending.first?.dueAt == retry)
            #expect(pending.first?.createdAt == monday)

            try store.markPageFailed(id, error: "401 bob :No such nick", retryAt: retry.addingTimeInterval(60))
            try store.markPageSent(id, at: retry.addingTimeInterval(60))
            let page = try #require(try store.pages(of: created.number).first)
            #expect(page.attempts == 3 && page.lastError == "401 bob :No such nick" && page.sentAt != nil)
            // A late failure report does not reopen a sent page.
            try store.markPageFailed(id, error: "late", retryAt: retry)
            #expect(try store.pages(of: created.number).first == page)
            #expect(throws: TicketStoreError.pageNotFound(PageID(rawValue: 77))) {
                try store.markPageFailed(PageID(rawValue: 77), error: "x", retryAt: retry)
            }
        }
    }

    @Test func escalationStepsAreWrittenOnceAndSurviveReopen() throws {
        try withTemporaryDirectory { dir in
            var store = try openStore(dir.storePath)
            let created = try store.createTicket(newTicket(), pages: firstPages())
            #expect(try store.escalationSteps(of: created.number) == [0])

            // Five minutes later, step 1: on-duty again and the backup.
            let later = monday.addingTimeInterval(300)
            var ticket = created.ticket
            ticket.state = .paged
            ticket.updatedAt = later
            let step1 = [
                PageDraft(step: 1, network: "libera", target: "bob", text: "reminder", createdAt: later),
                PageDraft(step: 1, network: "libera", target: "carol", text: "backup", createdAt: later),
            ]
            let commit = try store.updateTicket(
                ticket, expectedVersion: 1,
                events: [TicketEvent(ticket: created.number, at: later, actor: .system, kind: .paged, to: "1")],
                pages: step1, cancelUnsentPages: false)
            #expect(commit.pages.map(\.step) == [1, 1])
            store.close()

            // After a restart the escalation sees steps 0 and 1 and cannot
            // write step 1 again.
            store = try openStore(dir.storePath)
            defer { store.close() }
            #expect(try store.escalationSteps(of: created.number) == [0, 1])
            let stored = try #require(try store.ticket(created.number))
            #expect(throws: TicketStoreError.escalationStepExists(created.number, step: 1)) {
                try store.update(stored, to: stored.ticket, events: [], pages: [step1[0]])
            }
            #expect(try store.pages(of: created.number).count == 4)
            #expect(try store.pendingPages(dueBy: later, limit: 10).count == 4)
        }
    }

    @Test func acknowledgingCancelsTheUnsentPagesOnly() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let created = try store.createTicket(newTicket(), pages: firstPages())
            try store.markPageSent(created.pages[0].id, at: monday)
            var ticket = created.ticket
            let ackTime = monday.addingTimeInterval(45)
            ticket.state = .acknowledged
            ticket.respondedAt = ackTime
            ticket.updatedAt = ackTime
            _ = try store.updateTicket(
                ticket, expectedVersion: 1,
                events: [TicketEvent(ticket: created.number, at: ackTime, actor: .agent("bob"), kind: .acknowledged)],
                pages: [], cancelUnsentPages: true)
            let pages = try store.pages(of: created.number)
            #expect(pages[0].sentAt == monday && pages[0].cancelledAt == nil)
            #expect(pages[1].sentAt == nil && pages[1].cancelledAt == ackTime)
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: 10).isEmpty)
            // The cancelled step still counts as written.
            #expect(try store.escalationSteps(of: created.number) == [0])
        }
    }

    @Test func invalidPagesAreRefusedBeforeAnythingIsWritten() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let negative = PageDraft(step: -1, network: "libera", target: "bob", text: "x", createdAt: monday)
            let noNetwork = PageDraft(step: 0, network: "", target: "bob", text: "x", createdAt: monday)
            #expect(throws: TicketStoreError.self) { try store.createTicket(newTicket(), pages: [negative]) }
            #expect(throws: TicketStoreError.self) { try store.createTicket(newTicket(), pages: [noNetwork]) }
            #expect(try store.recentTickets(limit: 10).isEmpty)
        }
    }
}
