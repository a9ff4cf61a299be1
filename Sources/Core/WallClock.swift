import Foundation
import Synchronization

/// A point in wall-clock time that a `Clock` can hand out.
///
/// Switchboard's timers (keep-alive, reconnect backoff, escalation, SLA,
/// the roster's handovers) need both things a clock gives: durations to sleep
/// and calendar instants to compare with a rota in `Europe/Berlin`. Swift's
/// `ContinuousClock` gives only the first; this instant wraps a `Date`, so a
/// `Clock` whose `Instant` is `WallInstant` gives both, and tests swap in
/// ``ManualClock`` to move time by hand.
public struct WallInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    public var date: Date

    public init(_ date: Date) { self.date = date }

    public func advanced(by duration: Duration) -> WallInstant {
        WallInstant(date.addingTimeInterval(duration.timeInterval))
    }

    public func duration(to other: WallInstant) -> Duration {
        .seconds(other.date.timeIntervalSince(date))
    }

    public static func < (lhs: WallInstant, rhs: WallInstant) -> Bool { lhs.date < rhs.date }

    public var description: String { date.formatted(.iso8601) }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

/// A clock whose instants are wall-clock dates. Every timer in Switchboard is
/// generic over it, so production runs on ``SystemClock`` and tests on
/// ``ManualClock`` without sleeping.
public protocol WallClock: Clock where Instant == WallInstant, Duration == Swift.Duration {}

extension WallClock {
    /// The current instant as a `Date`.
    public var date: Date { now.date }
}

/// The machine's clock: `Date()` for instants, the continuous clock for sleeps
/// (so a wall-clock step by NTP does not stretch or cut a sleep).
public struct SystemClock: WallClock {
    public init() {}

    public var now: WallInstant { WallInstant(Date()) }

    public var minimumResolution: Duration { .microseconds(1) }

    public func sleep(until deadline: WallInstant, tolerance: Duration? = nil) async throws {
        let delay = now.duration(to: deadline)
        if delay > .zero {
            try await Task.sleep(for: delay, tolerance: tolerance, clock: .continuous)
        } else {
            try Task.checkCancellation()
        }
    }
}

/// A clock that moves only when told to: `advance(by:)` wakes every sleeper
/// whose deadline has come, in deadline order. For tests and simulations.
public final class ManualClock: WallClock {
    private struct Sleeper {
        let deadline: WallInstant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: WallInstant
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// A clock standing at `start` (default: 2026-03-02 09:00:00 UTC, a Monday).
    public init(start: Date = Date(timeIntervalSince1970: 1_772_442_000)) {
        state = Mutex(State(now: WallInstant(start)))
    }

    public var now: WallInstant { state.withLock { $0.now } }

    public var minimumResolution: Duration { .nanoseconds(1) }

    /// How many tasks sleep on this clock now. Tests wait for a timer to be
    /// armed before they advance time.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline any sleeper waits for.
    public var nextDeadline: WallInstant? {
        state.withLock { $0.sleepers.values.map(\.deadline).min() }
    }

    public func sleep(until deadline: WallInstant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    if deadline <= s.now || Task.isCancelled { return true }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes the sleepers that are due.
    public func advance(by duration: Duration) {
        advance(to: now.advanced(by: duration))
    }

    /// Moves the clock to `instant` (never backwards) and wakes the sleepers
    /// that are due, earliest deadline first.
    public func advance(to instant: WallInstant) {
        let due: [Sleeper] = state.withLock { s in
            if instant > s.now { s.now = instant }
            let ready = s.sleepers.filter { $0.value.deadline <= s.now }
            for key in ready.keys { s.sleepers.removeValue(forKey: key) }
            return ready.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (yielding, never sleeping) until at least `count` tasks sleep on
    /// this clock, or `maxYields` yields have passed. Returns whether they do.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, maxYields: Int = 100_000) async -> Bool {
        for _ in 0..<maxYields {
            if sleeperCount >= count { return true }
            await Task.yield()
        }
        return sleeperCount >= count
    }

    /// Waits (yielding, never sleeping) until at least `count` tasks sleep on
    /// this clock, or `limit` of real time has passed. For tests whose tasks
    /// wait on real I/O between sleeps (a store on its own thread), where a
    /// fixed number of yields runs out on a loaded machine.
    @discardableResult
    public func waitForSleepers(_ count: Int, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while sleeperCount < count {
            if ContinuousClock.now >= deadline { return false }
            await Task.yield()
        }
        return true
    }
}
