import Core

/// Runs blocking test code (a synchronous socket exchange, a client's
/// blocking waits) on a thread of its own and awaits its result, so it never
/// holds one of the threads of Swift's cooperative pool: the whole suite
/// shares that pool (two threads on two cores), and every test with a
/// real-time deadline waits while a thread is held.
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await onThreadOfItsOwn(named: "test.offload", body)
}
