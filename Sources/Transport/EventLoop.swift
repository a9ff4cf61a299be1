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

/// The one owner of readiness: a dedicated thread blocked in `epoll_wait`.
///
/// Every socket is registered once, edge-triggered (`EPOLLET`) for input,
/// output and hang-up; each event bumps the descriptor's readiness counters
/// and resumes the continuations of the tasks waiting for that direction.
/// The thread never runs user code: resuming a continuation only schedules
/// the waiting task on Swift's cooperative pool. All methods are thread-safe
/// (state sits behind one mutex, `epoll_ctl` is safe from any thread).
///
/// Every continuation is resumed exactly once: it is stored in the state and
/// whoever removes it under the lock (an event, cancellation, deregistration)
/// resumes it; a continuation that is never stored is resumed at once.
final class EventLoop: Sendable {
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
        var nextID: UInt64 = 1
    }

    private let epollFD: Int32
    private let state = Mutex(State())
    private let nextWaiterID = Atomic<UInt64>(0)

    /// The process-wide loop, started on first use; its thread lives as long
    /// as the process.
    static func shared() throws -> EventLoop {
        try sharedLoop.get()
    }

    private static let sharedLoop: Result<EventLoop, any Error> = Result { try EventLoop() }

    private init() throws {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw TransportError.posix("epoll_create1") }
        let thread = Thread { [self] in run() }
        thread.name = "switchboard.transport.epoll"
        thread.start()
    }

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
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        let readMask = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        let writeMask = EPOLLOUT.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        var ready: [CheckedContinuation<Void, any Error>] = []
        while true {
            let count = epoll_wait(epollFD, events, Int32(capacity), -1)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                fatalError("epoll_wait: \(errorText(code)) (errno \(code))")
            }
            state.withLock { state in
                for index in 0..<Int(count) {
                    let event = events[index]
                    let id = event.data.u64
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
            for continuation in ready { continuation.resume() }
            ready.removeAll(keepingCapacity: true)
        }
    }
}
