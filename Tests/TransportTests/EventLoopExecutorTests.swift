import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing
@testable import Transport

/// The event loop as the executor of the gateway's message path (issue 12):
/// actors on it run on its thread, in order, woken from `epoll_wait` when a
/// job comes from elsewhere, asleep when there is nothing to do, and a job
/// that keeps re-queueing itself does not keep the sockets from being read.
@Suite(.timeLimit(.minutes(1))) struct EventLoopExecutorTests {
    /// A flag shared between tasks.
    final class Flag: Sendable {
        private let value = Atomic(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// An actor that runs on `loop`.
    actor OnLoop {
        nonisolated let loop: EventLoop
        nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
        var order: [Int] = []
        var offLoop = 0

        init(_ loop: EventLoop) { self.loop = loop }

        /// Starts `count` tasks on this actor, one after the other, each
        /// noting its index; returns when all have run.
        func startTasks(_ count: Int) async {
            var tasks: [Task<Void, Never>] = []
            for index in 0..<count {
                tasks.append(Task { self.note(index) })
            }
            for task in tasks { await task.value }
        }

        func note(_ index: Int) {
            if !loop.isCurrent { offLoop += 1 }
            order.append(index)
        }

        /// On the loop's thread now?
        func onLoopThread() -> Bool { loop.isCurrent }

        /// Writes `bytes` to `connection` (without waiting: the socket takes
        /// them), then re-queues itself (yields) until `stop` is set or
        /// `limit` yields passed; how many it took. Writing from here, on the
        /// loop, leaves nothing to the cooperative pool (a loaded pool would
        /// delay a write from the test's task while this spins).
        func spin(writing bytes: [UInt8], to connection: Connection, until stop: Flag, limit: Int) async throws -> Int {
            guard try connection.writeAvailable(bytes) == bytes.count else { return -1 }
            var count = 0
            while !stop.isSet, count < limit {
                count += 1
                await Task.yield()
            }
            return count
        }
    }

    /// Yields (never sleeps) until `loop` is parked in `epoll_wait`.
    func untilParked(_ loop: EventLoop) async -> Bool {
        for _ in 0..<1_000_000 {
            if loop.isParked { return true }
            await Task.yield()
        }
        return loop.isParked
    }

    @Test("Jobs queued on the loop run on its thread, in the order they were queued")
    func jobsRunInOrder() async throws {
        let loop = try EventLoop(name: "test.order")
        let actor = OnLoop(loop)
        await actor.startTasks(500)
        #expect(await actor.order == Array(0..<500))
        #expect(await actor.offLoop == 0)
    }

    @Test("A job queued from another thread wakes the loop from epoll_wait, and runs on the loop's thread")
    func wakesWhenAJobComesFromAnotherThread() async throws {
        let loop = try EventLoop(name: "test.wake")
        let actor = OnLoop(loop)
        #expect(await actor.onLoopThread())  // the loop has started
        #expect(await untilParked(loop))
        let before = loop.wakeUps
        // From a pool thread (this test's task is not on the loop).
        #expect(!loop.isCurrent)
        let ran = await Task.detached { await actor.onLoopThread() }.value
        #expect(ran)
        #expect(loop.wakeUps >= before + 1)
    }

    @Test("An idle loop sleeps: no wake-up and no turn while nothing is queued and no socket is ready")
    func idleLoopDoesNotSpin() async throws {
        let loop = try EventLoop(name: "test.idle")
        let actor = OnLoop(loop)
        #expect(await actor.onLoopThread())
        #expect(await untilParked(loop))
        let (turns, wakeUps) = (loop.turns, loop.wakeUps)
        // A real interval (no clock drives the loop): a loop that polled
        // would turn thousands of times in it.
        try await Task.sleep(for: .milliseconds(50))
        #expect(loop.turns == turns)
        #expect(loop.wakeUps == wakeUps)
        #expect(loop.isParked)
    }

    @Test("A job that keeps re-queueing itself does not keep a socket on the same loop from being read")
    func busyJobDoesNotStarveSockets() async throws {
        // A loop of its own: a spinner on the shared loop would slow every
        // other test's client down while it spins.
        let loop = try EventLoop(name: "test.fair")
        let spinner = OnLoop(loop)
        let reader = OnLoop(loop)
        let (fdA, fdB) = try SocketPair.make()
        let a = try Connection(adopting: fdA, loop: loop)
        let b = try Connection(adopting: fdB, loop: loop)
        defer {
            a.close()
            b.close()
        }
        let stop = Flag()
        // The reader waits on the loop for the socket and, on the loop, says
        // stop once it has the bytes; the spinner keeps the loop's queue
        // full meanwhile. Only a loop that looks at its sockets between jobs
        // lets the reader see the bytes before the spinner gives up.
        // Both tasks prefer the loop as task executor: nothing in the test
        // then waits for the cooperative pool, which a full parallel test
        // run keeps busy (a task without the preference is resumed through
        // the pool after a socket wait before it reaches the loop's actor).
        let read = Task(executorPreference: loop.taskExecutor) { try await reader.read(a, thenSet: stop) }
        #expect(await eventually { a.pendingWaiterCount == 1 })
        // With the loop as its task executor, each yield also queues the
        // spinner on the loop again (without, it would wait on the pool in
        // between and the loop would run dry on its own).
        let spin = Task(executorPreference: loop.taskExecutor) {
            try await spinner.spin(writing: bytes("ping"), to: b, until: stop, limit: 200_000)
        }
        let spun = try await spin.value
        #expect(text(try await read.value) == "ping")
        #expect(spun >= 0, "the socket did not take 4 bytes")
        #expect(spun < 200_000, "the reader was starved until the spinner gave up")
    }
}

extension EventLoopExecutorTests.OnLoop {
    /// Reads `connection` from this actor (on the loop), then sets `flag` there.
    func read(_ connection: Connection, thenSet flag: EventLoopExecutorTests.Flag) async throws -> [UInt8] {
        let bytes = try await connection.read()
        flag.set()
        return bytes
    }
}
