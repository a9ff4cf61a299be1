import Synchronization

/// A FIFO lock for async code: `lock()` suspends (cancellably) while another
/// task holds it. Used so that concurrent `write` calls never interleave
/// their bytes (and OpenSSL sees one `SSL_write` retry sequence at a time).
final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Takes the lock, waiting in line. Throws `CancellationError` if the
    /// task is cancelled while waiting (the lock is then not held).
    func lock() async throws {
        let id: UInt64? = state.withLock { state in
            if !state.locked {
                state.locked = true
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = state.withLock { state in
                    if !state.locked {  // released meanwhile
                        state.locked = true
                        return .success(())
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let removed = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            removed?.resume(throwing: CancellationError())
        }
    }

    /// Takes the lock if it is free now; false (and not held) when another
    /// task holds it or waits for it.
    func tryLock() -> Bool {
        state.withLock { state in
            guard !state.locked else { return false }
            state.locked = true
            return true
        }
    }

    /// Releases the lock, handing it to the first waiter if there is one.
    func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            precondition(state.locked, "AsyncLock.unlock() without lock()")
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst().continuation  // stays locked: ownership passes on
        }
        next?.resume()
    }
}
