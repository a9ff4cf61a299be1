import Core
import Desk
import Foundation
import Store
import Synchronization
import Testing

/// `createTicket(_:makePages:)`: pages that name the ticket's number are
/// written in the transaction that assigns it.
@Suite struct PagesFromNumberTests {
    static func pages(for number: TicketNumber, summary: String) -> [PageDraft] {
        [
            PageDraft(step: 0, network: "libera", target: "bob", text: "\(number) P2 \(summary)", createdAt: monday),
            PageDraft(step: 0, network: "libera", target: "#support-agents",
                      text: "bob: \(number) P2 \(summary)", createdAt: monday),
        ]
    }

    @Test func pagesNameTheAssignedNumberAndAreStoredWithTheTicket() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            _ = try store.createTicket(newTicket(1))
            let seen = Mutex<[TicketNumber]>([])
            let commit = try store.createTicket(newTicket(2)) { number in
                seen.withLock { $0.append(number) }
                return Self.pages(for: number, summary: "VPN down")
            }
            #expect(commit.number == TicketNumber(2))
            #expect(seen.withLock { $0 } == [commit.number])
            #expect(commit.pages.map(\.text) == ["#2 P2 VPN down", "bob: #2 P2 VPN down"])
            #expect(try store.pages(of: commit.number) == commit.pages)
            #expect(try store.escalationSteps(of: commit.number) == [0])
        }
    }

    @Test func invalidMadePagesFailTheCreationAndStoreNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            #expect(throws: TicketStoreError.self) {
                try store.createTicket(newTicket()) { number in
                    [PageDraft(step: 0, network: "", target: "bob", text: "\(number)", createdAt: monday)]
                }
            }
            #expect(try store.recentTickets(limit: 10).isEmpty)
            #expect(try store.pendingPages(dueBy: .distantFuture, limit: 10).isEmpty)
            // The next ticket still gets created normally.
            let next = try store.createTicket(newTicket()) { Self.pages(for: $0, summary: "ok") }
            #expect(next.pages.count == 2)
        }
    }

    @Test func concurrentCreatorsOnTheGroupCommitPathGetPagesWithTheirOwnNumber() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let commits = Mutex<[(String, TicketCommit)]>([])
            let failures = Mutex<[String]>([])
            ConcurrencyTests.onThreads(6) { thread in
                for index in 0..<25 {
                    var ticket = newTicket(index)
                    ticket.summary = "t\(thread)-\(index)"
                    let summary = ticket.summary
                    do {
                        let commit = try store.createTicket(ticket) { Self.pages(for: $0, summary: summary) }
                        commits.withLock { $0.append((summary, commit)) }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            let all = commits.withLock { $0 }
            #expect(all.count == 150)
            for (summary, commit) in all {
                let pages = try store.pages(of: commit.number)
                #expect(pages.map(\.text) == ["\(commit.number) P2 \(summary)", "bob: \(commit.number) P2 \(summary)"])
                #expect(try store.ticket(commit.number)?.ticket.summary == summary)
            }
            // Every creation went through the store thread's write batches.
            #expect(store.desk.batchStatistics.writes == 150)
        }
    }
}
