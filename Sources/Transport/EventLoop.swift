import CLinux
import Core
import Foundation
import Glibc
import Synchronization

/// Which readiness an operation waits for.
enum IODirection: Int, Sendable {
    case read = 0
    case write = 1
}

/// Readiness counters of one registered descriptor at one moment. An
/// operation takes a snapshot *before* it tries its system call; if the call
/// would block it waits until the counter for its direction has moved past
/// the snapshot. An event that arrives between the call and the wait has
/// already moved the counter, so no wake-up is lost.
struct ReadinessSnapshot: Sendable {
    var read: UInt64
    var write: UInt64

    subscript(direction: IODirection) -> UInt64 {
        direction == .read ? read : write
    }
}

/// Thrown by `EventLoop.wait` when the descriptor was deregistered (closed)
/// before or while waiting; callers turn it into `TransportError.closed`.
struct DeregisteredError: Error {}

/// The one owner of readiness, and the executor the gateway's message path
/// runs on: a dedicated thread that waits in `epoll_wait` and, between
/// waits, runs the Swift jobs queued on it (issue 12).
///
/// **Readiness.** Every socket is registered once, edge-triggered
/// (`EPOLLET`) for input, output and hang-up; each event bumps the
/// descriptor's readiness counters and resumes the continuations of the
/// tasks waiting for that direction. All of that is thread-safe (state
/// sits behind one mutex, `epoll_ctl` is safe from any thread).
///
/// Every continuation is resumed exactly once: it is stored in the state and
/// whoever removes it under the lock (an event, cancellation, deregistration)
/// resumes it; a continuation that is never stored is resumed at once.
///
/// **Executor.** The loop is a `SerialExecutor`: an actor that returns it as
/// its `unownedExecutor` (the IRC client, the bots' runtime) runs on this
/// thread. A task waiting in such an actor for a socket is resumed by the
/// loop itself — the job is queued where the loop runs it next, with no
/// wake-up of another thread — and reads, parses, runs the bots and writes
/// the answer in that turn. Its ``taskExecutor`` is the same thread as a
/// `TaskExecutor`: a task started with it as preference
/// (`Task(executorPreference:)`) also runs its nonisolated async code here
/// (an adapter's glue, a store façade's call up to its hand-off to the
/// store's thread) instead of hopping to Swift's cooperative pool and back.
///
/// A turn: wait for readiness — without blocking when jobs are queued —,
/// resume the waiters it reports, then run at most ``jobsPerTurn`` queued
/// jobs, oldest first; jobs queued meanwhile wait for the next turn beyond
/// that, so a job that keeps re-queueing itself cannot keep sockets from
/// being looked at. Jobs queued from another thread while the loop is
/// parked in `epoll_wait` wake it through an eventfd; queued from the loop's
/// own thread, or while it is busy, they cost no system call. Idle, the
/// thread sleeps in `epoll_wait` with no timeout: no polling.
///
/// What must not run here: anything that blocks (a durable commit, a DNS
/// look-up, hashing a PIN) — it would stall every socket. The store, the
/// resolver and the PIN worker keep threads of their own, and callers here
/// await them.
public final class EventLoop: SerialExecutor, Sendable {
    /// A registered descriptor.
    struct Registration: Sendable, Hashable {
        let id: UInt64
        let fd: Int32
    }

    private struct Waiter {
        let id: UInt64
        let direction: IODirection
        let after: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Source {
        var readiness = ReadinessSnapshot(read: 0, write: 0)
        var waiters: [Waiter] = []
    }

    private struct State {
        var sources: [UInt64: Source] = [:]
        var nextID: UInt64 = 1  // 0 is the wake-up eventfd
    }

    /// At most this many jobs run between two looks at the sockets.
    public static var jobsPerTurn: Int { 128 }

    private let epollFD: Int32
    private let wakeFD: Int32
    private let state = Mutex(State())
    private let jobs: LoopJobQueue
    private let nextWaiterID = Atomic<UInt64>(0)
    private let threadID = Atomic<UInt>(0)
    private let parkedWakeUps = Atomic<Int>(0)
    private let turnCount = Atomic<Int>(0)

    /// The loop as a `TaskExecutor` (the same thread and queue).
    public let taskExecutor: EventLoopTaskExecutor

    /// The process-wide loop, started on first use; its thread lives as long
    /// as the process. Every `Connection` and `Listener` is registered with
    /// it. Crashes with the reason if the loop cannot be made (no epoll or
    /// eventfd: the process could not do any I/O).
    public static var shared: EventLoop {
        do {
            return try sharedLoop()
        } catch {
            fatalError("cannot start the event loop: \(error)")
        }
    }

    /// ``shared``, or why it could not be made.
    static func sharedLoop() throws -> EventLoop {
        try sharedResult.get()
    }

    private static let sharedResult: Result<EventLoop, any Error> = Result { try EventLoop(name: "switchboard.io") }

    /// A loop with a thread of its own (tests; the process uses ``shared``).
    /// Its thread lives as long as the process.
    init(name: String) throws {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw TransportError.posix("epoll_create1") }
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeFD >= 0 else {
            let error = TransportError.posix("eventfd")
            Glibc.close(epollFD)
            throw error
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            let error = TransportError.posix("epoll_ctl(ADD eventfd)")
            Glibc.close(wakeFD)
            Glibc.close(epollFD)
            throw error
        }
        jobs = LoopJobQueue(wakeFD: wakeFD)
        taskExecutor = EventLoopTaskExecutor(jobs)
        let thread = Thread { [self] in
            nameCurrentThread(name)  // at most 15 bytes are kept
            run()
        }
        thread.start()
    }

    // MARK: Executor

    public func enqueue(_ job: consuming ExecutorJob) {
        jobs.append(LoopJobQueue.Job(job: UnownedJob(job), isTaskJob: false))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Whether the caller runs on the loop's thread (so it is isolated to
    /// every actor that runs on the loop: they share its one thread).
    public var isCurrent: Bool {
        threadID.load(ordering: .acquiring) == UInt(bitPattern: Int(bitPattern: pthread_self()))
    }

    public func isIsolatingCurrentContext() -> Bool? { isCurrent }

    public func checkIsolated() {
        precondition(isCurrent, "not on the event loop's thread")
    }

    /// How often the loop woke from an `epoll_wait` without a timeout (it
    /// had parked with nothing to do): for tests that check an idle loop
    /// stays asleep and a job queued from another thread wakes it.
    public var wakeUps: Int { parkedWakeUps.load(ordering: .relaxed) }

    /// How many turns the loop has run (see the type's documentation).
    public var turns: Int { turnCount.load(ordering: .relaxed) }

    /// Whether the loop sleeps in `epoll_wait` without a timeout now (for
    /// tests that must know it parked before they act).
    var isParked: Bool { jobs.isParked }

    /// Registers `fd` for edge-triggered readiness. Register before the first
    /// operation so no edge is missed.
    func register(_ fd: Int32, operation: String) throws -> Registration {
        let id = state.withLock { state -> UInt64 in
            let id = state.nextID
            state.nextID += 1
            state.sources[id] = Source()
            return id
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.u64 = id
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            let error = TransportError.posix("\(operation): epoll_ctl(ADD)")
            _ = state.withLock { $0.sources.removeValue(forKey: id) }
            throw error
        }
        return Registration(id: id, fd: fd)
    }

    /// Removes the registration (call before closing the descriptor) and
    /// wakes every task still waiting on it with `DeregisteredError`.
    func deregister(_ registration: Registration) {
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, registration.fd, &event)
        let source = state.withLock { $0.sources.removeValue(forKey: registration.id) }
        for waiter in source?.waiters ?? [] {
            waiter.continuation.resume(throwing: DeregisteredError())
        }
    }

    /// The readiness counters now; throws `DeregisteredError` after `deregister`.
    func snapshot(_ registration: Registration) throws -> ReadinessSnapshot {
        guard let readiness = state.withLock({ $0.sources[registration.id]?.readiness }) else {
            throw DeregisteredError()
        }
        return readiness
    }

    /// Suspends until the `direction` counter moves past `after` (see
    /// `ReadinessSnapshot`). Throws `CancellationError` when the task is
    /// cancelled and `DeregisteredError` when the descriptor is deregistered.
    /// The waiting task resumes on the executor it called from.
    nonisolated(nonsending) func wait(_ registration: Registration, for direction: IODirection,
                                      after: UInt64) async throws {
        let waiterID = nextWaiterID.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = state.withLock { state in
                    guard let readiness = state.sources[registration.id]?.readiness else {
                        return .failure(DeregisteredError())
                    }
                    if readiness[direction] > after { return .success(()) }
                    // Checked under the lock: a cancel that ran its handler
                    // before this point found nothing to remove.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.sources[registration.id]!.waiters.append(
                        Waiter(id: waiterID, direction: direction, after: after, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.sources[registration.id]?.waiters.firstIndex(where: { $0.id == waiterID })
                else { return nil }
                return state.sources[registration.id]?.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// How many tasks wait on `registration` now (for tests that must know a
    /// reader is blocked before they act).
    func waiterCount(_ registration: Registration) -> Int {
        state.withLock { $0.sources[registration.id]?.waiters.count ?? 0 }
    }

    private func run() {
        threadID.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .releasing)
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        let readMask = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        let writeMask = EPOLLOUT.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        let serial = asUnownedSerialExecutor()
        let task = taskExecutor.asUnownedTaskExecutor()
        var ready: [CheckedContinuation<Void, any Error>] = []
        // Jobs taken from the queue and not run yet (oldest first).
        var local: [LoopJobQueue.Job] = []
        var next = 0
        while true {
            // Park only when no job is waiting; otherwise just look.
            var timeout: Int32 = 0
            if next == local.count {
                local.removeAll(keepingCapacity: true)
                next = 0
                if jobs.takeOrPark(into: &local) { timeout = -1 }
            }
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            if timeout < 0 {
                jobs.unpark()
                if count > 0 { parkedWakeUps.add(1, ordering: .relaxed) }
            }
            turnCount.add(1, ordering: .relaxed)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                fatalError("epoll_wait: \(errorText(code)) (errno \(code))")
            }
            state.withLock { state in
                for index in 0..<Int(count) {
                    let event = events[index]
                    let id = event.data.u64
                    if id == 0 {  // the wake-up eventfd: reset it
                        var value: UInt64 = 0
                        _ = Glibc.read(wakeFD, &value, MemoryLayout<UInt64>.size)
                        continue
                    }
                    guard state.sources[id] != nil else { continue }  // deregistered meanwhile
                    if event.events & readMask != 0 { state.sources[id]!.readiness.read &+= 1 }
                    if event.events & writeMask != 0 { state.sources[id]!.readiness.write &+= 1 }
                    guard !state.sources[id]!.waiters.isEmpty else { continue }
                    let readiness = state.sources[id]!.readiness
                    state.sources[id]!.waiters.removeAll { waiter in
                        guard readiness[waiter.direction] > waiter.after else { return false }
                        if waiter.direction == .read { HopTrace.mark(.readable) }
                        ready.append(waiter.continuation)
                        return true
                    }
                }
            }
            // A waiter whose task runs on this loop is queued here, without a wake-up.
            for continuation in ready { continuation.resume() }
            ready.removeAll(keepingCapacity: true)
            var budget = Self.jobsPerTurn
            while budget > 0 {
                if next == local.count {
                    local.removeAll(keepingCapacity: true)
                    next = 0
                    jobs.take(into: &local)
                    if local.isEmpty { break }
                }
                let queued = local[next]
                next += 1
                budget -= 1
                // An actor's job runs with the loop as its task executor
                // too: a task that prefers the loop then goes from one
                // actor on the loop to another, or back, without being
                // queued again (Swift switches in place only when both the
                // serial and the task executor stay the same).
                if queued.isTaskJob {
                    queued.job.runSynchronously(on: task)
                } else {
                    queued.job.runSynchronously(isolatedTo: serial, taskExecutor: task)
                }
            }
        }
    }
}

/// The event loop's thread as a `TaskExecutor` (``EventLoop/taskExecutor``):
/// a task that prefers it runs its nonisolated async code on the loop, so
/// the path from an actor on the loop through glue code and back stays on
/// one thread.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    private let jobs: LoopJobQueue

    fileprivate init(_ jobs: LoopJobQueue) {
        self.jobs = jobs
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        jobs.append(LoopJobQueue.Job(job: UnownedJob(job), isTaskJob: true))
    }
}

/// The jobs queued on an event loop, and its wake-up: a job queued while
/// the loop is parked in `epoll_wait` writes the loop's eventfd.
private final class LoopJobQueue: Sendable {
    /// A queued job and how it was queued: to the serial executor (an
    /// actor's job) or to the task executor (a task's nonisolated code).
    struct Job {
        let job: UnownedJob
        let isTaskJob: Bool
    }

    private struct State {
        var pending: [Job] = []
        /// The loop is in (or about to enter) `epoll_wait` without a
        /// timeout: whoever queues a job must wake it.
        var parked = false
    }

    private let state = Mutex(State())
    private let wakeFD: Int32

    init(wakeFD: Int32) {
        self.wakeFD = wakeFD
    }

    /// Queues `job`; wakes the loop if it is parked.
    func append(_ job: Job) {
        let wake = state.withLock { state -> Bool in
            state.pending.append(job)
            guard state.parked else { return false }
            state.parked = false
            return true
        }
        if wake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, MemoryLayout<UInt64>.size)
        }
    }

    /// Moves the queued jobs into `local` (empty); true, with nothing
    /// moved, when none is queued: the loop is parked from now on.
    func takeOrPark(into local: inout [Job]) -> Bool {
        state.withLock { state in
            if state.pending.isEmpty {
                state.parked = true
                return true
            }
            swap(&local, &state.pending)
            return false
        }
    }

    /// Moves the queued jobs into `local` (empty).
    func take(into local: inout [Job]) {
        state.withLock { swap(&local, &$0.pending) }
    }

    /// Whether the loop is parked (or about to park) with nothing queued.
    var isParked: Bool { state.withLock { $0.parked } }

    /// The loop left `epoll_wait`: later jobs need no wake-up.
    func unpark() {
        state.withLock { $0.parked = false }
    }
}
