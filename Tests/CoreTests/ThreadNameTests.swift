import Core
import Foundation
import TestSupport
import Testing

/// A thread's name as the system shows it (`/proc/.../comm`): what `top -H`,
/// perf and GatewayBench's per-thread figures print.
@Suite struct ThreadNameTests {
    /// Runs `body` on a new thread and returns what it returned.
    static func onNewThread(_ body: @escaping @Sendable () -> String) async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    @Test func aThreadNamesItselfAndTheSystemKeepsAtMost15Bytes() async {
        let short = await Self.onNewThread {
            nameCurrentThread("sb-test")
            return systemThreadName()
        }
        #expect(short == "sb-test")
        let long = await Self.onNewThread {
            nameCurrentThread("switchboard-db-checkpoint")
            return systemThreadName()
        }
        #expect(long == "switchboard-db-")
    }

    @Test func foundationsThreadNameAloneDoesNotReachTheSystem() async {
        // Why `nameCurrentThread` exists: on Linux a new thread keeps its
        // creator's name whatever `Thread.name` says.
        let name = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: systemThreadName()) }
            thread.name = "sb-foundation"
            thread.start()
        }
        #expect(name != "sb-foundation")
    }
}
