// Shared by the test targets: fixtures for real servers and small helpers.
import Foundation

/// The calling thread's name as the system shows it (`/proc/thread-self/comm`:
/// what `top -H`, perf and GatewayBench's per-thread figures print).
public func systemThreadName() -> String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
}
