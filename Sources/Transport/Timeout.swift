/// Runs `body` and throws `TransportError.timedOut(operation:after:)` if it
/// has not finished within `duration`, cancelling it. `body` must honour
/// cancellation (every wait in this target does). Cancelling the calling task
/// cancels `body` and throws `CancellationError`.
func withTimeout<Value: Sendable>(
    _ duration: Duration, operation: String, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    guard duration > .zero else { throw TransportError.timedOut(operation: operation, after: duration) }
    return try await withThrowingTaskGroup(of: TimeoutOutcome<Value>.self) { group in
        group.addTask { .finished(try await body()) }
        group.addTask {
            try await Task.sleep(for: duration)
            return .timedOut
        }
        defer { group.cancelAll() }
        switch try await group.next() {
        case .finished(let value):
            return value
        case .timedOut:
            throw TransportError.timedOut(operation: operation, after: duration)
        case nil:
            preconditionFailure("a task group with two tasks returned no result")
        }
    }
}

private enum TimeoutOutcome<Value: Sendable>: Sendable {
    case finished(Value)
    case timedOut
}
