import Foundation

/// How many contract-PIN checks may run (issue 14): pure, so every store
/// applies the same rule inside its own transaction.
///
/// A check is reserved before the PIN is hashed. Counted as *wrong* are the
/// checks finished wrong and those never finished (still pending, or lost in
/// a crash); a check finished right does not count. Three budgets, checked in
/// this order:
///
/// 1. **Sender identity**: at most ``wrongPerIdentity`` (3) wrong checks per
///    chat identity (account, or nick without one) in ``window`` (15 min),
///    over all customer numbers; then refused until the oldest leaves the window.
/// 2. **Customer number**: ``wrongPerNumber`` (5) wrong checks in ``window``
///    are free; after that each further check waits after the number's last
///    check, 1 min for the first one over the budget, doubling with each
///    (1, 2, 4, 8 … min), at most ``maxDelay`` (15 min). With the default
///    window that is at most 9 guesses per number in the first 15 minutes
///    and about 5 per 15 minutes after, over all senders together.
/// 3. **Global**: at most ``checksPerSecond`` (20) checks of any outcome
///    started in the last second over the whole store, so a flood of numbers
///    cannot turn the gateway into a hashing oven.
///
/// Past a budget the answer is immediate and no PIN is hashed.
public struct PINAttemptPolicy: Sendable, Hashable {
    /// How far back wrong checks count.
    public var window: TimeInterval
    /// Wrong checks per customer number in ``window`` before delays start.
    public var wrongPerNumber: Int
    /// The delay for the first check over ``wrongPerNumber``; doubles with each further one.
    public var firstDelay: TimeInterval
    /// The longest delay between checks of a locked number.
    public var maxDelay: TimeInterval
    /// Wrong checks per sender identity in ``window``.
    public var wrongPerIdentity: Int
    /// Checks started per second over the whole store.
    public var checksPerSecond: Int

    public init(window: TimeInterval = 15 * 60, wrongPerNumber: Int = 5, firstDelay: TimeInterval = 60,
                maxDelay: TimeInterval = 15 * 60, wrongPerIdentity: Int = 3, checksPerSecond: Int = 20) {
        self.window = window
        self.wrongPerNumber = wrongPerNumber
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.wrongPerIdentity = wrongPerIdentity
        self.checksPerSecond = checksPerSecond
    }

    /// The defaults above.
    public static let standard = PINAttemptPolicy()

    /// Whether a check may start at `now`, given what the store counted.
    public func decide(_ budget: PINBudgetState, now: Date) -> PINDecision {
        if budget.identityWrong >= wrongPerIdentity {
            let oldest = budget.identityOldestWrong ?? now
            return .refuse(.identityLimited(retryAt: oldest.addingTimeInterval(window)))
        }
        if let retryAt = numberLockedUntil(wrong: budget.numberWrong, lastCheck: budget.numberLastCheck),
           now < retryAt {
            return .refuse(.numberLocked(retryAt: retryAt))
        }
        if budget.globalChecksLastSecond >= checksPerSecond {
            let oldest = budget.globalOldestLastSecond ?? now
            return .refuse(.globalBusy(retryAt: oldest.addingTimeInterval(1)))
        }
        return .allow
    }

    /// When the next check of a number with `wrong` wrong checks in the
    /// window (the last at `lastCheck`) may run; nil while under budget.
    public func numberLockedUntil(wrong: Int, lastCheck: Date?) -> Date? {
        guard wrong >= wrongPerNumber, let lastCheck else { return nil }
        let doublings = min(wrong - wrongPerNumber, 30)
        let delay = min(firstDelay * Double(1 << doublings), maxDelay)
        return lastCheck.addingTimeInterval(delay)
    }
}

/// What a store counted, inside its transaction, for ``PINAttemptPolicy/decide(_:now:)``.
public struct PINBudgetState: Sendable, Hashable {
    /// Wrong or unfinished checks of the customer number in the window.
    public var numberWrong: Int
    /// When the number's latest check (any outcome) in the window was reserved.
    public var numberLastCheck: Date?
    /// Wrong or unfinished checks by the sender identity in the window.
    public var identityWrong: Int
    /// The oldest of those.
    public var identityOldestWrong: Date?
    /// Checks of any outcome reserved in the last second, store-wide.
    public var globalChecksLastSecond: Int
    /// The oldest of those.
    public var globalOldestLastSecond: Date?

    public init(numberWrong: Int, numberLastCheck: Date?, identityWrong: Int, identityOldestWrong: Date?,
                globalChecksLastSecond: Int, globalOldestLastSecond: Date?) {
        self.numberWrong = numberWrong
        self.numberLastCheck = numberLastCheck
        self.identityWrong = identityWrong
        self.identityOldestWrong = identityOldestWrong
        self.globalChecksLastSecond = globalChecksLastSecond
        self.globalOldestLastSecond = globalOldestLastSecond
    }
}

/// The policy's answer.
public enum PINDecision: Sendable, Hashable {
    case allow
    case refuse(PINRefusal)
}

/// Why a PIN check may not run now, and when to try again.
public enum PINRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The customer number had too many wrong checks (from anyone).
    case numberLocked(retryAt: Date)
    /// This sender had too many wrong checks.
    case identityLimited(retryAt: Date)
    /// Too many checks store-wide in the last second.
    case globalBusy(retryAt: Date)

    public var retryAt: Date {
        switch self {
        case .numberLocked(let at), .identityLimited(let at), .globalBusy(let at): at
        }
    }

    public var description: String {
        switch self {
        case .numberLocked(let at): "customer number locked until \(at)"
        case .identityLimited(let at): "sender limited until \(at)"
        case .globalBusy(let at): "too many PIN checks, retry at \(at)"
        }
    }
}

/// The id of a reserved PIN check.
public struct PINReservationID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { "PIN check \(rawValue)" }
}

/// What ``PINAttemptStore/reservePINCheck(customerNumber:identity:at:policy:)`` answers.
public enum PINReservation: Sendable, Hashable {
    /// Recorded as pending: the check may run now; finish it with the outcome.
    case reserved(PINReservationID)
    /// Not recorded: no check may run.
    case refused(PINRefusal)
}

/// How a reserved check ended.
public enum PINCheckOutcome: String, Sendable, Hashable {
    case right
    case wrong
}

/// A customer number's attack picture for the agents' warning.
public struct PINAttackState: Sendable, Hashable {
    /// Wrong or unfinished checks of the number in the window.
    public var wrongInWindow: Int
    /// How many distinct sender identities made them.
    public var distinctIdentities: Int
    /// When the next check may run, if the number is locked now.
    public var lockedUntil: Date?

    public init(wrongInWindow: Int, distinctIdentities: Int, lockedUntil: Date?) {
        self.wrongInWindow = wrongInWindow
        self.distinctIdentities = distinctIdentities
        self.lockedUntil = lockedUntil
    }
}
