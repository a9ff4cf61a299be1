import Foundation

/// A token bucket: holds at most `capacity` tokens, gains one every
/// `interval`, and a line may be sent when a whole token is there.
///
/// This is the shape of the flood control of the common IRC servers
/// (ircd-ratbox/Solanum "flood burst then one line per interval", InspIRCd's
/// `commandrate` with `threshold`), so a client that keeps within it is never
/// throttled or killed with "Excess Flood". Time is passed in.
public struct TokenBucket: Sendable, Hashable {
    public let capacity: Double
    public let interval: TimeInterval
    /// Tokens at ``updatedAt``.
    public private(set) var tokens: Double
    public private(set) var updatedAt: Date

    /// A full bucket at `now`.
    public init(capacity: Int, interval: Duration, now: Date) {
        self.capacity = Double(max(1, capacity))
        self.interval = max(interval.timeInterval, 1e-9)
        self.tokens = self.capacity
        self.updatedAt = now
    }

    /// Tokens available at `now` (not stored).
    public func available(at now: Date) -> Double {
        guard now > updatedAt else { return tokens }
        return min(capacity, tokens + now.timeIntervalSince(updatedAt) / interval)
    }

    /// Whether a whole token is there at `now`.
    public func canTake(at now: Date) -> Bool { available(at: now) >= 1 - Self.epsilon }

    /// Takes one token if there is one; returns whether it did.
    public mutating func take(at now: Date) -> Bool {
        refill(now)
        guard tokens >= 1 - Self.epsilon else { return false }
        tokens = max(0, tokens - 1)
        return true
    }

    /// Takes one token if there is one, and does nothing otherwise (for
    /// lines that must not wait but still count, such as PONG).
    public mutating func takeIfAvailable(at now: Date) { _ = take(at: now) }

    /// When the next whole token is there (`now` if one is there already).
    public func nextTokenDate(after now: Date) -> Date {
        let have = available(at: now)
        if have >= 1 - Self.epsilon { return now }
        return now.addingTimeInterval((1 - have) * interval)
    }

    /// Refills to full (a fresh connection: the server counts from zero).
    public mutating func reset(now: Date) {
        tokens = capacity
        updatedAt = now
    }

    private mutating func refill(_ now: Date) {
        tokens = available(at: now)
        if now > updatedAt { updatedAt = now }
    }

    /// Tolerance for `Date` arithmetic: a `Date` near today is exact to
    /// about 0.1 µs, so a deadline computed for the next token may land a
    /// hair before it. A thousandth of a token (2 ms at 2 s per line).
    static let epsilon = 1e-3
}
