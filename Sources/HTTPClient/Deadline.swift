import Core

/// Runs `body` until `deadline` on `clock`: if the deadline comes first,
/// `body` is cancelled (every wait in Transport honours that) and the error
/// `onTimeout` makes is thrown. Cancelling the calling task cancels both and
/// throws `CancellationError`.
///
/// The deadline is an instant fixed by the caller before any I/O starts, so
/// a test's `ManualClock.advance` after it saw the request cannot be missed.
func withDeadline<Value: Sendable>(
    _ deadline: WallInstant, clock: any WallClock,
    _ body: @escaping @Sendable () async throws -> Value,
    onTimeout: @escaping @Sendable () -> any Error
) async throws -> Value {
    try await withThrowingTaskGroup(of: DeadlineOutcome<Value>.self) { group in
        group.addTask { .finished(try await body()) }
        group.addTask {
            try await clock.sleep(until: deadline, tolerance: nil)
            return .expired
        }
        defer { group.cancelAll() }
        switch try await group.next() {
        case .finished(let value):
            return value
        case .expired:
            throw onTimeout()
        case nil:
            preconditionFailure("a task group with two tasks returned no result")
        }
    }
}

private enum DeadlineOutcome<Value: Sendable>: Sendable {
    case finished(Value)
    case expired
}
