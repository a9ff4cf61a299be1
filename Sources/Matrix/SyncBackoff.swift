import Foundation

/// How long to wait after the `n`th failed request in a row: exponential
/// from `base` to `cap`, with "full jitter" (a uniform draw from half the
/// step to the step), so gateways that lost the same homeserver do not all
/// come back in the same millisecond. A value without I/O: the caller
/// sleeps on its clock; tests pass a seeded generator.
public struct SyncBackoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration
    /// Failures in a row so far.
    public private(set) var failures = 0

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(60)) {
        self.base = base
        self.cap = cap
    }

    /// Records a failure and returns how long to wait before the next try.
    public mutating func failed(random: inout some RandomNumberGenerator) -> Duration {
        failures += 1
        let step = min(cap, base * Int(1 << min(failures - 1, 20)))
        let milliseconds = max(1, step.wholeMilliseconds)
        let low = milliseconds / 2
        return .milliseconds(Int64.random(in: low...milliseconds, using: &random))
    }

    /// A request succeeded: the next failure starts from `base` again.
    public mutating func succeeded() { failures = 0 }

    /// The homeserver said when to come back (`429 M_LIMIT_EXCEEDED` with
    /// `retry_after_ms`): that time, at least 10 ms, at most `cap`; without
    /// a time, the next backoff step.
    public mutating func rateLimited(retryAfterMilliseconds: Int?, random: inout some RandomNumberGenerator)
        -> Duration
    {
        guard let ms = retryAfterMilliseconds else { return failed(random: &random) }
        return min(cap, .milliseconds(Int64(max(10, ms))))
    }
}

extension Duration {
    /// The duration in whole milliseconds (JSON fields and log values).
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
