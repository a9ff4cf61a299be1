import Core
import Desk
import Foundation
import Glibc
@testable import Store
import TestSupport
import Testing

/// The store thread: SQLite runs on it and nowhere else, writes queued
/// together share one commit, and closing lets queued calls finish.
@Suite struct StoreThreadTests {
    /// Runs `operations` concurrently such that all of them are queued on
    /// the store thread before it runs any (``StoreThread/holdUntilQueued(_:)``);
    /// results in the order of `operations`.
    static func inOneBatch<T: Sendable>(
        _ store: SQLiteDeskStore, _ operations: [@Sendable (SQLiteDeskStore) async throws -> T]
    ) async -> [Result<T, any Error>] {
        store.thread.holdUntilQueued(operations.count)
        return await withTaskGroup(of: (Int, Result<T, any Error>).self) { group in
            for (index, operation) in operations.enumerated() {
                group.addTask {
                    do { return (index, .success(try await operation(store))) } catch { return (index, .failure(error)) }
                }
            }
            var results = [Result<T, any Error>?](repeating: nil, count: operations.count)
            for await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }

    @Test func sqliteRunsOnOneThreadOfItsOwnNotOnTheCallersThread() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            let callers = await withTaskGroup(of: (caller: UInt, store: UInt).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let caller = UInt(pthread_self())
                        let onStore = try? await store.thread.read { _ in UInt(pthread_self()) }
                        return (caller, onStore ?? 0)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let storeThreads = Set(callers.map(\.store))
            #expect(storeThreads.count == 1)
            #expect(!storeThreads.contains(0))
            #expect(Set(callers.map(\.caller)).isDisjoint(with: storeThreads))
            await store.close()
        }
    }

    @Test func theStoreThreadCarriesItsNameAsTheSystemShowsIt() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            #expect(try await store.thread.read { _ in systemThreadName() } == "switchboard-db")
            await store.close()
        }
    }

    @Test func writesQueuedTogetherShareOneCommitAndEachGetsItsOwnNumber() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            let operations: [@Sendable (SQLiteDeskStore) async throws -> TicketCommit] = (1...20).map { index in
                { store in try await store.createTicket(newTicket(index)) }
            }
            let results = await Self.inOneBatch(store, operations)
            let commits = try results.map { try $0.get() }
            #expect(Set(commits.map(\.number)).count == 20)
            for (index, commit) in commits.enumerated() {
                #expect(try await store.ticket(commit.number)?.ticket.summary == "VPN down (\(index + 1))")
            }
            #expect(store.batchStatistics.transactions == 1)
            #expect(store.batchStatistics.writes == 20)
            await store.close()
        }
    }

    @Test func withBatchingOffEveryWriteHasItsOwnCommit() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday, maxBatchedWrites: 1)
            let operations: [@Sendable (SQLiteDeskStore) async throws -> TicketCommit] = (1...5).map { index in
                { store in try await store.createTicket(newTicket(index)) }
            }
            _ = try await Self.inOneBatch(store, operations).map { try $0.get() }
            #expect(store.batchStatistics.transactions == 5)
            await store.close()
        }
    }

    /// The hold is in force from the moment it is set: a write queued while
    /// the thread is still busy with an earlier job waits for the others
    /// instead of being taken alone when the thread comes back to its queue
    /// (TicketTests' batch test once saw two commits in CI that way).
    @Test func aHoldSetWhileTheThreadIsBusyStillGathersAllItsWrites() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            for _ in 0..<20 {
                let busy = DispatchSemaphore(value: 0)
                let reading = DispatchSemaphore(value: 0)
                store.thread.submitRead({ _ in
                    reading.signal()
                    busy.wait()
                }, done: { _ in })
                reading.wait()
                let before = store.batchStatistics
                store.thread.holdUntilQueued(3)
                let (answers, answer) = AsyncStream.makeStream(of: Bool.self)
                func queueCreation(_ index: Int) {
                    store.thread.submitWrite({ db in
                        try db.insertTicket(newTicket(index), claim: nil, makePages: { _ in [] })
                    }, done: { answer.yield((try? $0.get()) != nil) })
                }
                queueCreation(1)
                // The thread goes back to its queue while only the first is in it.
                busy.signal()
                queueCreation(2)
                queueCreation(3)
                var created = 0
                for await ok in answers.prefix(3) where ok { created += 1 }
                #expect(created == 3)
                let after = store.batchStatistics
                #expect(after.transactions - before.transactions == 1)
                #expect(after.writes - before.writes == 3)
            }
            await store.close()
        }
    }

    @Test func closeLetsQueuedCallsFinishAndLaterCallsThrowClosed() async throws {
        try await withTemporaryDirectory { dir in
            let store = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            store.thread.holdUntilQueued(11)
            let created = await withTaskGroup(of: Int.self) { group in
                for index in 1...10 {
                    group.addTask { (try? await store.createTicket(newTicket(index))) != nil ? 1 : 0 }
                }
                group.addTask {
                    // Queued after the ten creations or before some of them;
                    // either way none of them is lost or left hanging.
                    await store.close()
                    return 0
                }
                return await group.reduce(0, +)
            }
            await #expect(throws: TicketStoreError.closed) { try await store.openTickets() }
            await store.close() // twice is harmless
            let reopened = try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday)
            #expect(try await reopened.recentTickets(limit: 100).count == created)
            await reopened.close()
        }
    }
}
