import Glibc
import Synchronization

/// A socket descriptor registered with the event loop.
///
/// It guards the descriptor's lifetime: `close()` may be called from any
/// thread at any time, and the number is released to the kernel
/// (`Glibc.close`) only after the registration is gone and no system call is
/// using it, so a concurrent `recv` can never hit a descriptor number the
/// kernel has already handed to someone else.
final class Descriptor: Sendable {
    private struct State {
        var users = 0
        var closed = false
    }

    let fd: Int32
    let registration: EventLoop.Registration
    let loop: EventLoop
    private let state = Mutex(State())

    /// Registers `fd` with the event loop. On failure the descriptor is left
    /// open: it still belongs to the caller.
    /// `loop`: the loop to register with (nil: the shared one; tests pass
    /// a loop of their own).
    init(registering fd: Int32, operation: String, loop: EventLoop? = nil) throws {
        let loop = try loop ?? EventLoop.sharedLoop()
        self.fd = fd
        self.loop = loop
        self.registration = try loop.register(fd, operation: operation)
    }

    deinit {
        // Nobody can be using it: every user holds a reference.
        let open = state.withLock { !$0.closed }
        if open {
            loop.deregister(registration)
            Glibc.close(fd)
        }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Runs `body` with the descriptor, which stays open until `body` returns.
    /// Throws `TransportError.closed` after `close()`.
    func withFD<T>(_ operation: String, _ body: (Int32) throws -> T) throws -> T {
        let acquired = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.users += 1
            return true
        }
        guard acquired else { throw TransportError.closed(operation: operation) }
        defer { release() }
        return try body(fd)
    }

    /// The readiness counters now (take before trying the system call).
    func snapshot(_ operation: String) throws -> ReadinessSnapshot {
        do {
            return try loop.snapshot(registration)
        } catch {
            throw TransportError.closed(operation: operation)
        }
    }

    /// Waits for `direction` readiness newer than `snapshot`. Throws
    /// `CancellationError` on task cancellation and `TransportError.closed`
    /// when the descriptor is closed meanwhile.
    nonisolated(nonsending) func wait(for direction: IODirection, after snapshot: ReadinessSnapshot,
                                      _ operation: String) async throws {
        do {
            try await loop.wait(registration, for: direction, after: snapshot[direction])
        } catch is DeregisteredError {
            throw TransportError.closed(operation: operation)
        }
    }

    /// Tasks waiting for readiness now.
    var waiterCount: Int { loop.waiterCount(registration) }

    /// Closes: new operations fail at once, waiting ones wake with
    /// `TransportError.closed`, and the number goes back to the kernel when
    /// the last system call using it returns. Idempotent.
    func close() {
        let first = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.closed = true
            state.users += 1  // this close is a user until deregistration is done
            return true
        }
        guard first else { return }
        loop.deregister(registration)
        release()
    }

    private func release() {
        let last = state.withLock { state -> Bool in
            state.users -= 1
            return state.closed && state.users == 0
        }
        if last { Glibc.close(fd) }
    }
}

/// One step of a non-blocking operation.
enum IOStep<Value> {
    /// Finished with a value.
    case done(Value)
    /// Would block until the descriptor is ready in this direction.
    case wait(IODirection)
    /// Interrupted (EINTR): try again at once.
    case retry
}

extension Descriptor {
    /// Drives a non-blocking operation: snapshot readiness, try the call, and
    /// wait for readiness when it would block, until it is done. Checks for
    /// cancellation before every try. Runs on the caller's executor (see
    /// ``Connection/read(maxBytes:)``).
    nonisolated(nonsending) func perform<Value>(_ operation: String, _ attempt: (Int32) throws -> IOStep<Value>) async throws -> Value {
        while true {
            try Task.checkCancellation()
            let before = try snapshot(operation)
            switch try withFD(operation, attempt) {
            case .done(let value):
                return value
            case .retry:
                continue
            case .wait(let direction):
                try await wait(for: direction, after: before, operation)
            }
        }
    }
}
