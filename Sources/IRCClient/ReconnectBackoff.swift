import Foundation

/// Reconnect delays: exponential backoff with jitter.
///
/// The n-th consecutive failure (from 0) waits `initial · 2ⁿ`, capped at
/// `maximum`, times a random factor in `[1 − jitter, 1 + jitter]`, and never
/// more than `maximum` (with the defaults: about 2, 4, 8 … 256, then 240–300
/// seconds). The jitter spreads the reconnects of many clients after a
/// netsplit. A connection that stayed registered for `resetAfter` resets
/// the sequence, so one drop after a week waits about 2 s, while a server
/// that accepts and drops at once is retried ever more slowly.
public struct ReconnectBackoff: Sendable {
    public let settings: IRCClientConfiguration.Backoff
    /// Consecutive failures so far.
    public private(set) var attempts = 0

    public init(settings: IRCClientConfiguration.Backoff) {
        self.settings = settings
    }

    /// The base delay (without jitter) of the next attempt.
    public var nextBaseDelay: Duration {
        let initial = settings.initial.timeInterval
        let factor = pow(2.0, Double(min(attempts, 40)))
        return .seconds(min(settings.maximum.timeInterval, initial * factor))
    }

    /// The delay before the next attempt, and counts the failure.
    /// `random` gives a value in `0..<1` (injected so tests choose it).
    public mutating func nextDelay(random: Double) -> Duration {
        let base = nextBaseDelay.timeInterval
        attempts += 1
        let factor = 1 - settings.jitter + 2 * settings.jitter * min(max(random, 0), 1)
        return .seconds(min(settings.maximum.timeInterval, base * factor))
    }

    /// The connection was registered from `registeredAt` until `now`: if that
    /// is at least `resetAfter`, the next delay starts from `initial` again.
    public mutating func connectionEnded(registeredAt: Date?, now: Date) {
        if let registeredAt, now.timeIntervalSince(registeredAt) >= settings.resetAfter.timeInterval {
            attempts = 0
        }
    }

    /// Starts from `initial` again.
    public mutating func reset() { attempts = 0 }
}
