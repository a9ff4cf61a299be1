import Core
import Desk
import Foundation
import StoreCore
import Testing

@testable import Store

/// Issue 12: the store copies its WAL into the database on a connection of
/// its own, off the commit path, and the WAL still stays bounded when
/// commits come back to back — with nothing lost (the SIGKILL test in
/// `CrashTests` runs the same store).
@Suite struct WALCheckpointerTests {
    @Test func theWALStaysBoundedOverManyCommitsAndEveryTicketIsKept() async throws {
        try await withTemporaryDirectory { dir in
            let limits = WALCheckpointer.Limits(background: 40, inline: 160)
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday, checkpoints: limits)
            var numbers: [TicketNumber] = []
            for index in 1...400 {
                numbers.append(try await store.createTicket(newTicket(index), claimingPagesFor: nil,
                                                            makePages: { _ in firstPages() }).number)
            }
            let statistics = store.checkpointStatistics
            // A ticket writes ~12 frames: one commit may pass the limit
            // before the check after it.
            #expect(statistics.longestWAL <= limits.inline + 40, "\(statistics)")
            #expect(statistics.longestWAL >= limits.background, "\(statistics)")
            #expect(statistics.background >= 1, "\(statistics)")
            // 400 tickets are ~4,800 frames: without checkpoints the WAL would be ~5 MB.
            #expect(statistics.background + statistics.inline >= 4800 / (limits.inline + 40), "\(statistics)")
            await store.close()

            let reopened = try openStore(dir.storePath)
            defer { reopened.close() }
            for (index, number) in numbers.enumerated() {
                #expect(try reopened.ticket(number)?.ticket.summary == "VPN down (\(index + 1))")
                #expect(try reopened.pages(of: number).count == 2)
            }
        }
    }

    /// With the background connection doing the copying, the committing
    /// connection's own checkpoint is only the bound: when the background
    /// has copied the WAL before the next commit (the pause between two
    /// customers' tickets, here made explicit), that commit starts the WAL
    /// again, and no commit ever checkpoints.
    @Test func theBackgroundConnectionCopiesTheWALBetweenCommits() async throws {
        try await withTemporaryDirectory { dir in
            let limits = WALCheckpointer.Limits(background: 50, inline: 400)
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday, checkpoints: limits)
            for index in 1...100 {
                _ = try await store.createTicket(newTicket(index), claimingPagesFor: nil,
                                                 makePages: { _ in firstPages() })
                store.checkpointer.waitUntilIdle()
            }
            let statistics = store.checkpointStatistics
            #expect(statistics.inline == 0, "\(statistics)")
            // ~1,200 frames in all, copied every ≥ 50.
            #expect(statistics.background >= 12, "\(statistics)")
            // The migrations' frames come first; then the WAL starts again
            // after each copy, never near the 400 frames of the inline limit.
            #expect(statistics.longestWAL <= 2 * limits.background + 40, "\(statistics)")
            await store.close()
        }
    }
}
