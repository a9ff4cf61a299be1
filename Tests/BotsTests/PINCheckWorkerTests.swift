import Bots
import Dispatch
import Foundation
import Synchronization
import Testing

/// A hash the test controls: each call records its job, then blocks until
/// the test opens the gate once for it. No sleeps: the order is forced.
final class GatedHash: Sendable {
    private let startedJobs = Mutex<[String]>([])
    private let gate = DispatchSemaphore(value: 0)

    var started: [String] { startedJobs.withLock { $0 } }

    @Sendable func hash(_ job: String) -> String {
        startedJobs.withLock { $0.append(job) }
        gate.wait()
        return "checked " + job
    }

    /// Lets `count` calls (running or to come) finish.
    func open(_ count: Int) {
        for _ in 0..<count { gate.signal() }
    }
}

/// Waits (yielding, never sleeping) until `condition` holds; the worker's
/// threads are real threads, so this gives them time without a timer.
func eventually(_ what: String, within seconds: Double = 20, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting until \(what)")
            throw CancellationError()
        }
        await Task.yield()
    }
}

/// The line of PIN checks on its own: round robin by sender, bounded.
@Suite struct PINCheckQueueTests {
    typealias Queue = PINCheckQueue<String, String>

    static func drain(_ queue: inout Queue) -> [String] {
        var order: [String] = []
        while let entry = queue.dequeue() {
            order.append(entry.job)
            queue.finished(sender: entry.sender)
        }
        return order
    }

    @Test func aNewcomerRunsBeforeTheFloodersSecondAttempt() throws {
        var queue = Queue(perSenderLimit: 10, totalLimit: 100)
        for n in 1...5 { _ = try queue.enqueue("a\(n)", sender: "attacker") }
        #expect(queue.dequeue()?.job == "a1")
        _ = try queue.enqueue("b1", sender: "bea")
        _ = try queue.enqueue("c1", sender: "carl")
        queue.finished(sender: "attacker")
        #expect(Self.drain(&queue) == ["b1", "c1", "a2", "a3", "a4", "a5"])
    }

    @Test func twoBusySendersTakeTurns() throws {
        var queue = Queue(perSenderLimit: 10, totalLimit: 100)
        for n in 1...3 { _ = try queue.enqueue("a\(n)", sender: "a") }
        for n in 1...3 { _ = try queue.enqueue("b\(n)", sender: "b") }
        #expect(Self.drain(&queue) == ["a1", "b1", "a2", "b2", "a3", "b3"])
    }

    @Test func sendingOneAtATimeDoesNotJumpTheLine() throws {
        // The attacker's queue runs dry after each job, and it sends the
        // next one at once: it still waits behind the others' jobs.
        var queue = Queue(perSenderLimit: 10, totalLimit: 100)
        _ = try queue.enqueue("a1", sender: "a")
        _ = try queue.enqueue("b1", sender: "b")
        _ = try queue.enqueue("b2", sender: "b")
        #expect(queue.dequeue()?.job == "a1")
        queue.finished(sender: "a")
        _ = try queue.enqueue("a2", sender: "a")
        #expect(queue.dequeue()?.job == "b1")
        queue.finished(sender: "b")
        _ = try queue.enqueue("a3", sender: "a")
        // a2 (round 1) ties with b2 (round 1) and came later; a3 is round 2.
        #expect(Self.drain(&queue) == ["b2", "a2", "a3"])
    }

    @Test func limitsRefuseAtOnceAndCountRunningChecks() throws {
        var queue = Queue(perSenderLimit: 2, totalLimit: 3)
        _ = try queue.enqueue("a1", sender: "a")
        _ = try queue.enqueue("a2", sender: "a")
        #expect(throws: PINCheckRefusal.senderBusy(limit: 2)) { try queue.enqueue("a3", sender: "a") }
        let dequeued = queue.dequeue()
        let running = try #require(dequeued)
        // Still two outstanding: one running, one waiting.
        #expect(throws: PINCheckRefusal.senderBusy(limit: 2)) { try queue.enqueue("a3", sender: "a") }
        queue.finished(sender: running.sender)
        _ = try queue.enqueue("a3", sender: "a")
        _ = try queue.enqueue("b1", sender: "b")
        #expect(queue.count == 3)
        #expect(throws: PINCheckRefusal.workerFull(limit: 3)) { try queue.enqueue("c1", sender: "c") }
    }

    @Test func endingAConversationWithdrawsItsWaitingChecksOnly() throws {
        var queue = Queue(perSenderLimit: 5, totalLimit: 10)
        _ = try queue.enqueue("a1", sender: "a")
        _ = try queue.enqueue("a2", sender: "a")
        _ = try queue.enqueue("b1", sender: "b")
        let id = try queue.enqueue("a3", sender: "a")
        #expect(queue.remove(id: id)?.job == "a3")
        #expect(queue.remove(id: id) == nil)
        _ = queue.dequeue()  // a1 runs
        #expect(queue.removeAll(of: "a").map(\.job) == ["a2"])
        #expect(queue.outstanding(of: "a") == 1)  // a1 is still running
        #expect(Self.drain(&queue) == ["b1"])
    }
}

/// The worker: dedicated threads, round robin, refusals without hashing.
@Suite struct PINCheckWorkerTests {
    @Test func aFloodFromOneSenderDelaysAnotherCustomerByAtMostOneHash() async throws {
        let fake = GatedHash()
        let worker = PINCheckWorker<String, String, String>(threads: 1, perSenderLimit: 10, totalLimit: 100,
                                                             hash: fake.hash)
        defer { worker.shutDown() }
        var attacker: [Task<String, any Error>] = []
        for n in 1...5 {
            attacker.append(Task { try await worker.check(sender: "attacker", "a\(n)") })
            // Each in line before the next (so the test knows the order of arrival).
            if n == 1 {
                try await eventually("a1 hashes") { fake.started == ["a1"] }
            } else {
                try await eventually("a\(n) waits") { worker.statistics.waiting == n - 1 }
            }
        }
        let customer = Task { try await worker.check(sender: "customer", "c1") }
        try await eventually("c1 waits") { worker.statistics.waiting == 5 }
        // The rest of the program goes on while a hash runs: this test does.
        #expect(worker.statistics.running == 1)
        fake.open(6)
        #expect(try await customer.value == "checked c1")
        for task in attacker { _ = try await task.value }
        // The customer's check ran right after the one hashing when it came.
        #expect(fake.started == ["a1", "c1", "a2", "a3", "a4", "a5"])
        #expect(worker.statistics.checked == 6)
    }

    @Test func pastTheLimitsACheckIsRefusedAtOnceWithoutHashing() async throws {
        let fake = GatedHash()
        let worker = PINCheckWorker<String, String, String>(threads: 1, perSenderLimit: 2, totalLimit: 3,
                                                             hash: fake.hash)
        defer { worker.shutDown() }
        let a1 = Task { try await worker.check(sender: "a", "a1") }
        try await eventually("a1 hashes") { fake.started == ["a1"] }
        let a2 = Task { try await worker.check(sender: "a", "a2") }
        try await eventually("a2 waits") { worker.statistics.waiting == 1 }
        await #expect(throws: PINCheckRefusal.senderBusy(limit: 2)) {
            try await worker.check(sender: "a", "a3")
        }
        let b1 = Task { try await worker.check(sender: "b", "b1") }
        // b1 in line before c1 comes (two tasks started together may arrive in either order).
        try await eventually("b1 waits") { worker.statistics.waiting == 2 }
        let c1 = Task { try await worker.check(sender: "c", "c1") }
        try await eventually("b1 and c1 wait") { worker.statistics.waiting == 3 }
        await #expect(throws: PINCheckRefusal.workerFull(limit: 3)) {
            try await worker.check(sender: "d", "d1")
        }
        #expect(fake.started == ["a1"])
        #expect(worker.statistics.refused == 2)
        fake.open(4)
        for task in [a1, a2, b1, c1] { _ = try await task.value }
        #expect(fake.started == ["a1", "b1", "c1", "a2"])
    }

    @Test func anEndedConversationsWaitingChecksAreWithdrawnUnhashed() async throws {
        let fake = GatedHash()
        let worker = PINCheckWorker<String, String, String>(threads: 1, perSenderLimit: 5, totalLimit: 10,
                                                             hash: fake.hash)
        defer { worker.shutDown() }
        let a1 = Task { try await worker.check(sender: "a", "a1") }
        try await eventually("a1 hashes") { fake.started == ["a1"] }
        let a2 = Task { try await worker.check(sender: "a", "a2") }
        let a3 = Task { try await worker.check(sender: "a", "a3") }
        try await eventually("a2 and a3 wait") { worker.statistics.waiting == 2 }
        #expect(worker.cancel(sender: "a") == 2)
        await #expect(throws: PINCheckRefusal.cancelled) { try await a2.value }
        await #expect(throws: PINCheckRefusal.cancelled) { try await a3.value }
        fake.open(1)
        #expect(try await a1.value == "checked a1")  // the running one ends normally
        try await eventually("a1 counted") { worker.statistics.checked == 1 }
        #expect(fake.started == ["a1"])
        #expect(worker.statistics.withdrawn == 2)
    }

    @Test func cancellingTheCallersTaskWithdrawsItsCheck() async throws {
        let fake = GatedHash()
        let worker = PINCheckWorker<String, String, String>(threads: 1, hash: fake.hash)
        defer { worker.shutDown() }
        let a1 = Task { try await worker.check(sender: "a", "a1") }
        try await eventually("a1 hashes") { fake.started == ["a1"] }
        let b1 = Task { try await worker.check(sender: "b", "b1") }
        try await eventually("b1 waits") { worker.statistics.waiting == 1 }
        b1.cancel()
        await #expect(throws: PINCheckRefusal.cancelled) { try await b1.value }
        #expect(worker.statistics.waiting == 0)
        fake.open(1)
        _ = try await a1.value
        #expect(fake.started == ["a1"])
    }

    @Test func afterShutDownChecksAreRefused() async throws {
        let fake = GatedHash()
        let worker = PINCheckWorker<String, String, String>(threads: 2, hash: fake.hash)
        worker.shutDown()
        await #expect(throws: PINCheckRefusal.shutDown) { try await worker.check(sender: "a", "a1") }
        #expect(fake.started.isEmpty)
    }

    @Test func twoThreadsHashTwoSendersAtOnce() async throws {
        let fake = GatedHash()
        let worker = PINCheckWorker<String, String, String>(threads: 2, hash: fake.hash)
        defer { worker.shutDown() }
        let a = Task { try await worker.check(sender: "a", "a1") }
        let b = Task { try await worker.check(sender: "b", "b1") }
        try await eventually("both hash") { worker.statistics.running == 2 }
        fake.open(2)
        #expect(try await a.value == "checked a1")
        #expect(try await b.value == "checked b1")
    }
}
