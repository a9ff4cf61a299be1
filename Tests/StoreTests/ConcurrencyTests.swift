import Core
import Desk
import Dispatch
import Foundation
import Store
import Synchronization
import Testing

/// Several threads on one store: every creator gets its own number for its
/// own ticket, and only one of two racing updates wins.
@Suite struct ConcurrencyTests {
    /// Runs `body(thread)` on `count` threads started together.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for thread in 0..<count {
            group.enter()
            Thread {
                start.wait()
                body(thread)
                group.leave()
            }.start()
        }
        for _ in 0..<count { start.signal() }
        group.wait()
    }

    @Test func concurrentCreatorsGetDistinctNumbersForTheirOwnTickets() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let threads = 8
            let perThread = 40
            let results = Mutex<[(summary: String, commit: TicketCommit)]>([])
            let failures = Mutex<[String]>([])
            Self.onThreads(threads) { thread in
                for index in 0..<perThread {
                    var ticket = newTicket(index)
                    ticket.summary = "thread \(thread) ticket \(index)"
                    let pages = index % 2 == 0 ? firstPages(summary: ticket.summary) : []
                    do {
                        let commit = try store.createTicket(ticket, pages: pages)
                        results.withLock { $0.append((ticket.summary, commit)) }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            let all = results.withLock { $0 }
            #expect(all.count == threads * perThread)
            let numbers = all.map(\.commit.number.rawValue)
            #expect(Set(numbers).count == numbers.count)
            #expect(Set(numbers) == Set(1...Int64(threads * perThread)))
            // Each caller got the number of the ticket it asked for, with
            // the pages it asked for.
            for (summary, commit) in all {
                let stored = try store.ticket(commit.number)
                #expect(stored?.ticket.summary == summary)
                #expect(stored == commit.stored)
                #expect(try store.events(of: commit.number).map(\.note) == [summary])
                let pages = try store.pages(of: commit.number)
                #expect(pages == commit.pages)
                #expect(pages.allSatisfy { $0.text.hasSuffix(summary) })
            }
            // And numbers grow in each thread's own order.
            for thread in 0..<threads {
                let mine = all.filter { $0.summary.hasPrefix("thread \(thread) ") }.map(\.commit.number)
                #expect(mine == mine.sorted())
            }
        }
    }

    @Test func ofRacingUpdatesFromTheSameVersionExactlyOneWins() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            for round in 0..<20 {
                let created = try store.createTicket(newTicket(round))
                let winners = Mutex<[String]>([])
                let conflicts = Mutex(0)
                Self.onThreads(4) { thread in
                    var ticket = created.ticket
                    ticket.assignee = "agent\(thread)"
                    ticket.state = .inProgress
                    do {
                        _ = try store.update(created.stored, to: ticket, events: [
                            TicketEvent(ticket: ticket.number, at: monday, actor: .agent("agent\(thread)"),
                                        kind: .assigned, to: "agent\(thread)"),
                        ])
                        winners.withLock { $0.append("agent\(thread)") }
                    } catch TicketStoreError.conflict {
                        conflicts.withLock { $0 += 1 }
                    } catch {
                        Issue.record("unexpected \(error)")
                    }
                }
                let winner = winners.withLock { $0 }
                #expect(winner.count == 1)
                #expect(conflicts.withLock { $0 } == 3)
                let stored = try store.ticket(created.number)
                #expect(stored?.ticket.assignee == winner.first && stored?.version == 2)
                #expect(try store.events(of: created.number).count == 2)
            }
        }
    }
}
