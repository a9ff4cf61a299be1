import Core
import Synchronization
import Testing

/// A costly test fixture (a knowledge base built and evaluated, an index
/// with the installed dictionary) computed once per test process, on a
/// thread of its own, the first time a test asks for it; every later or
/// concurrent ask awaits the same result.
///
/// Not a `static let`: a lazy global is computed on the first asker's
/// thread — one of the two threads of Swift's cooperative pool that the
/// whole suite shares — and every other asker blocks its own pool thread
/// in the one-time initialisation meanwhile, so two such fixtures stalled
/// every test of a run for most of a minute. Not a suite's `init` either:
/// Swift Testing makes one suite instance per test.
public final class SharedFixture<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case computing([CheckedContinuation<Value, any Error>])
        case done(Result<Value, any Error>)
    }

    private enum Next {
        case start, wait
        case finished(Result<Value, any Error>)
    }

    private let name: String
    private let compute: @Sendable () throws -> Value
    private let state = Mutex(State.idle)

    /// `name` names the computing thread (in a debugger, `top -H`).
    public init(_ name: String, _ compute: @escaping @Sendable () throws -> Value) {
        self.name = name
        self.compute = compute
    }

    /// The value, computed on the first call.
    public func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let next = state.withLock { state -> Next in
                switch state {
                case .idle:
                    state = .computing([continuation])
                    return .start
                case .computing(var waiting):
                    waiting.append(continuation)
                    state = .computing(waiting)
                    return .wait
                case .done(let result):
                    return .finished(result)
                }
            }
            switch next {
            case .wait: break
            case .finished(let result): continuation.resume(with: result)
            case .start:
                Task { [name, compute] in
                    let result: Result<Value, any Error>
                    do {
                        result = .success(try await onThreadOfItsOwn(named: name, compute))
                    } catch {
                        result = .failure(error)
                    }
                    let waiting = state.withLock { state -> [CheckedContinuation<Value, any Error>] in
                        defer { state = .done(result) }
                        if case .computing(let waiting) = state { return waiting }
                        return []
                    }
                    for waiter in waiting { waiter.resume(with: result) }
                }
            }
        }
    }
}

/// A suite or test trait: each test first awaits `prepare` (typically a
/// ``SharedFixture`` that touches the lazy statics the tests then read
/// synchronously), so those statics are initialised on the fixture's own
/// thread, never in a test's body on the cooperative pool, where every
/// other test that reads them meanwhile would block its thread in the
/// one-time initialisation.
public struct AwaitingTrait: SuiteTrait, TestTrait, TestScoping {
    let prepare: @Sendable () async throws -> Void

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        if testCase != nil { try await prepare() }
        try await function()
    }
}

extension Trait where Self == AwaitingTrait {
    /// Each test awaits `prepare` before it runs (see ``AwaitingTrait``).
    public static func awaiting(_ prepare: @escaping @Sendable () async throws -> Void) -> Self {
        AwaitingTrait(prepare: prepare)
    }
}
