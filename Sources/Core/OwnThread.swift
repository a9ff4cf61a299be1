import Foundation

/// Runs `body` on a new thread named `name` and awaits its result.
///
/// For work that blocks or computes for long — reading and indexing the
/// configuration on a reload, a test's blocking socket exchange — in an
/// async context: the caller suspends, and no thread of Swift's cooperative
/// pool (as many threads as cores, two on a small machine) waits or
/// computes meanwhile, so the tasks that answer customers and send pages
/// keep their threads. Not cancellable: `body` runs to its end.
public func onThreadOfItsOwn<T: Sendable>(named name: String,
                                          _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            nameCurrentThread(name)
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
