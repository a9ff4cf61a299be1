import Core
import Desk
import Foundation
import Synchronization

/// How an instance holds the gateway lease (issue 10). With the defaults a
/// standby asks every 2 s and a lease lasts 6 s, so a dead active instance is
/// replaced at most 6 s (its last renewal's TTL) + 2 s (the standby's next
/// try) + the time to connect after its death: within the 10 s the issue asks.
/// Configurable as `instance: { lease: { ttlSeconds: 6, renewSeconds: 2 } }`
/// (``init(ttlSeconds:renewSeconds:)`` says what is accepted).
public struct LeaseTiming: Sendable, Hashable {
    /// How long a grant or renewal lasts (by the store's deciding clock).
    public var ttl: Duration
    /// How often the active instance renews and a standby tries to acquire.
    public var renewEvery: Duration
    /// How soon a failed renewal is tried again (while the lease lasts).
    public var retryAfterError: Duration
    /// The active instance gives up this long before its own view of the
    /// lease's end, so it has stopped before a standby may start.
    public var safetyMargin: Duration
    /// Lines are handed to a network only while the lease lasts this much
    /// longer than ``safetyMargin`` (time for a line to leave the process);
    /// a step past that holds its lines until the renewal confirms the lease
    /// (``BotRuntime/leaseRenewed()``). Reached only when a renewal is late
    /// by `ttl − renewEvery − safetyMargin − sendMargin` (2.5 s by default).
    public var sendMargin: Duration

    public init(ttl: Duration = .seconds(6), renewEvery: Duration = .seconds(2),
                retryAfterError: Duration = .milliseconds(500), safetyMargin: Duration = .milliseconds(500),
                sendMargin: Duration = .seconds(1)) {
        self.ttl = ttl
        self.renewEvery = renewEvery
        self.retryAfterError = retryAfterError
        self.safetyMargin = safetyMargin
        self.sendMargin = sendMargin
    }

    /// The timing of a configuration's `instance.lease`, or why it cannot
    /// work: the TTL within 3–300 s (the margins take 1.5 s of it); a
    /// renewal at least every 0.2 s and more often than every TTL/2, so a
    /// failed renewal is retried before the lease runs out; and at least 2 s
    /// between a renewal and the point where lines wait for the next one.
    public init(ttlSeconds: Double, renewSeconds: Double) throws(LeaseTimingError) {
        let defaults = LeaseTiming()
        guard ttlSeconds.isFinite, ttlSeconds >= 3, ttlSeconds <= 300 else {
            throw LeaseTimingError(field: "ttlSeconds", "must be between 3 and 300 seconds, found \(ttlSeconds)")
        }
        guard renewSeconds.isFinite, renewSeconds >= 0.2 else {
            throw LeaseTimingError(field: "renewSeconds", "must be at least 0.2 seconds, found \(renewSeconds)")
        }
        guard renewSeconds < ttlSeconds / 2 else {
            throw LeaseTimingError(field: "renewSeconds", "must be less than half of ttlSeconds (\(ttlSeconds / 2) s), "
                + "found \(renewSeconds): a failed renewal needs a retry before the lease runs out")
        }
        guard ttlSeconds - renewSeconds >= 2 else {
            throw LeaseTimingError(field: "renewSeconds", "ttlSeconds − renewSeconds must be at least 2 s, found "
                + "\(ttlSeconds - renewSeconds): the instance stops 0.5 s and holds its lines 1.5 s before the lease's end")
        }
        self.init(ttl: .milliseconds(Int64((ttlSeconds * 1000).rounded())),
                  renewEvery: .milliseconds(Int64((renewSeconds * 1000).rounded())),
                  retryAfterError: min(defaults.retryAfterError, .milliseconds(Int64((renewSeconds * 1000).rounded()))))
    }
}

/// An `instance.lease` timing that cannot work (``LeaseTiming/init(ttlSeconds:renewSeconds:)``).
public struct LeaseTimingError: Error, Sendable, CustomStringConvertible {
    /// `ttlSeconds` or `renewSeconds`.
    public var field: String
    public var problem: String
    init(field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { "\(field) \(problem)" }
}

/// The role of one gateway instance as a state machine with no I/O: what
/// to ask the store next and when, and what an answer means. The driver
/// (``InstanceLease``) asks and feeds the answers back; tests drive it on
/// plain dates.
///
/// ```
///             granted                    refused (token superseded)
///   standby ───────────▶ active ─────────────────────────────▶ lost
///     ▲  │ refused/failed  │ │ renewed: valid until asked + TTL     ▲
///     └──┘ (retry)          │ └──── failed, still valid: retry soon │
///                           └── failed past valid − margin, or not ─┘
///                               renewed in time (hung, stopped)
/// ```
/// `lost` is final: the gateway fences its outbox, disconnects and exits;
/// the service manager starts it again as a standby. (Going back to standby
/// in-process would mean tearing down every conversation, timer and
/// connection it holds in memory; a fresh start rebuilds them from the
/// store — the path every crash takes and the tests exercise.)
///
/// Validity is counted from when the renewal was *asked*, not answered: a
/// slow answer cannot make the instance believe it holds the lease longer
/// than the store granted it.
struct LeaseRole: Sendable {
    enum Phase: Sendable, Equatable {
        case standby(since: Date)
        case active(LeaseGrant, validUntil: Date)
        case lost(reason: String)
    }

    /// What the store said to one request.
    enum Answer: Sendable, Equatable {
        case granted(LeaseGrant)
        /// Someone else holds it (acquire), or the token was superseded (renew).
        case refused
        case failed(String)
    }

    /// What to ask the store.
    enum Request: Sendable, Equatable {
        case acquire
        case renew(FencingToken)
    }

    /// What changed with an answer or with time.
    enum Change: Sendable, Equatable {
        /// `waited`: seconds standing by before the grant.
        case becameActive(LeaseGrant, waited: TimeInterval)
        case lost(reason: String)
    }

    let timing: LeaseTiming
    private(set) var phase: Phase
    private var lastAsked: Date?
    /// When the holder's lease ends as last read (a standby asks again right
    /// then, if that is sooner than its regular interval).
    private var holderExpires: Date?
    private var lastFailure: String?
    private var failedSince: Date?

    init(timing: LeaseTiming, now: Date) {
        self.timing = timing
        phase = .standby(since: now)
    }

    var isActive: Bool { if case .active = phase { true } else { false } }

    /// Until when an answer to a renewal is worth waiting for: the active
    /// instance's own view of its lease's end, less the safety margin. A
    /// store that does not answer by then (a partition: the call hangs) is
    /// taken as lost.
    var answerDeadline: Date? {
        guard case .active(_, let validUntil) = phase else { return nil }
        return validUntil.addingTimeInterval(-timing.safetyMargin.timeInterval)
    }

    /// Until when the active instance hands lines to a network: its own
    /// view of the lease's end less the safety and send margins; nil when it
    /// is not active. Moved on by every renewal, counted from its ask.
    var sendDeadline: Date? {
        answerDeadline?.addingTimeInterval(-timing.sendMargin.timeInterval)
    }

    /// The next request and when to make it.
    func next(now: Date) -> (request: Request, at: Date)? {
        switch phase {
        case .standby:
            guard let lastAsked else { return (.acquire, now) }
            var at = lastAsked.addingTimeInterval(timing.renewEvery.timeInterval)
            if let holderExpires, holderExpires > lastAsked { at = min(at, holderExpires.addingTimeInterval(0.05)) }
            return (.acquire, at)
        case .active(let grant, _):
            let wait = failedSince == nil ? timing.renewEvery : timing.retryAfterError
            return (.renew(grant.token), (lastAsked ?? now).addingTimeInterval(wait.timeInterval))
        case .lost:
            return nil
        }
    }

    /// A standby read the holder's lease: it asks again when that ends (by
    /// the store's clock, here only a hint: the store decides).
    mutating func holderSeen(expiresAt: Date) {
        holderExpires = expiresAt
    }

    /// Whether the active instance's own view of its lease has run out (a
    /// renewal that never came: the process was stopped or hung): then it is
    /// lost, whatever a late answer says.
    mutating func checkExpiry(now: Date) -> Change? {
        guard case .active(_, let validUntil) = phase,
              now >= validUntil.addingTimeInterval(-timing.safetyMargin.timeInterval) else { return nil }
        let reason = if let lastFailure {
            "store unreachable: renewing failed since \(Self.format(failedSince ?? now)) (\(lastFailure))"
        } else {
            "not renewed in time (the lease ran out at \(Self.format(validUntil)); was the process stopped or hung?)"
        }
        phase = .lost(reason: reason)
        return .lost(reason: reason)
    }

    /// Feeds the answer to the request made at `askedAt`.
    mutating func answered(_ answer: Answer, askedAt: Date, now: Date) -> Change? {
        lastAsked = askedAt
        switch (phase, answer) {
        case (.standby(let since), .granted(let grant)):
            phase = .active(grant, validUntil: askedAt.addingTimeInterval(timing.ttl.timeInterval))
            failedSince = nil
            lastFailure = nil
            return .becameActive(grant, waited: max(0, now.timeIntervalSince(since)))
        case (.standby, .refused), (.standby, .failed):
            return nil
        case (.active, .granted(let grant)):
            if let change = checkExpiry(now: now) { return change }
            phase = .active(grant, validUntil: askedAt.addingTimeInterval(timing.ttl.timeInterval))
            failedSince = nil
            lastFailure = nil
            return nil
        case (.active(let grant, _), .refused):
            let reason = "token \(grant.token) superseded: another instance acquired the lease"
            phase = .lost(reason: reason)
            return .lost(reason: reason)
        case (.active, .failed(let error)):
            if failedSince == nil { failedSince = askedAt }
            lastFailure = error
            return checkExpiry(now: now)
        case (.lost, _):
            return nil
        }
    }

    static func format(_ date: Date) -> String { date.formatted(.iso8601) }
}

/// Where an instance stands (``LeaseRole``'s phase, for people and metrics).
public enum InstanceRole: String, Sendable, Hashable {
    /// Waiting for the lease: store connected, no networks, no timers.
    case standby
    /// Holding the lease: networks, timers, pages.
    case active
    /// Lost the lease: fenced, disconnecting, about to exit.
    case lost
}

/// What `/healthz` and `/metrics` show about the lease.
public struct LeaseStatus: Sendable, Hashable {
    public var role: InstanceRole
    /// This instance's holder id.
    public var instance: String
    /// The lease as last read or granted (holder, token, takeovers); nil
    /// before the store was first asked or when it was never taken.
    public var lease: LeaseGrant?
}

/// Holds the gateway lease for one instance: waits as a standby until it is
/// granted, then renews it until it is lost (``LeaseRole`` decides; this
/// does the store calls and the sleeping on `clock`).
public final class InstanceLease<C: WallClock>: Sendable {
    /// The lease's name in the store: one active instance per store.
    public static var defaultName: String { "gateway" }

    let store: any LeaseStore
    let name: String
    let instance: String
    let clock: C
    let logger: Logger
    private let role: Mutex<LeaseRole>
    private let seen = Mutex<LeaseGrant?>(nil)

    public init(store: any LeaseStore, name: String = InstanceLease.defaultName, instance: String,
                timing: LeaseTiming = LeaseTiming(), clock: C, logger: Logger) {
        self.store = store
        self.name = name
        self.instance = instance
        self.clock = clock
        self.logger = logger.with(["component": "lease", "instance": instance])
        role = Mutex(LeaseRole(timing: timing, now: clock.date))
    }

    /// Until when this instance may hand a line to a network, by its own
    /// clock (``LeaseRole/sendDeadline``); nil when it is not active. The
    /// bots ask before every step's lines go out and hold them past it.
    public var sendableUntil: Date? {
        role.withLock { $0.sendDeadline }
    }

    /// For `/healthz` and `/metrics`.
    public var status: LeaseStatus {
        let phase = role.withLock { $0.phase }
        let role: InstanceRole = switch phase {
        case .standby: .standby
        case .active: .active
        case .lost: .lost
        }
        return LeaseStatus(role: role, instance: instance, lease: seen.withLock { $0 })
    }

    /// Waits as a standby until the lease is granted and returns the grant;
    /// nil when the task is cancelled first. Logs "became active (token N)
    /// after …" with the previous holder.
    public func waitUntilActive() async -> LeaseGrant? {
        var announced = false
        if let stored = try? await store.lease(name) { seen.withLock { $0 = stored } }
        while !Task.isCancelled {
            guard let (_, at) = role.withLock({ $0.next(now: clock.date) }) else { return nil }
            guard await sleep(until: at) else { return nil }
            let previous = seen.withLock { $0 }
            let askedAt = clock.date
            let answer: LeaseRole.Answer
            do {
                answer = try await store.acquireLease(name, holder: instance, ttl: timing.ttl.timeInterval, now: askedAt)
                    .map { .granted($0) } ?? .refused
            } catch {
                answer = .failed("\(error)")
                logger.warning("lease store call failed; standing by", ["error": "\(error)"])
            }
            let change = role.withLock { $0.answered(answer, askedAt: askedAt, now: clock.date) }
            if case .becameActive(let grant, let waited)? = change {
                seen.withLock { $0 = grant }
                // The holder before: another instance (a takeover) or this
                // one's previous incarnation (a restart under the same name).
                let before = previous.map { "\($0.holder) (token \($0.token))" } ?? "none"
                let expiredAgo = previous.map { Self.rounded(askedAt.timeIntervalSince($0.expiresAt)) } ?? 0
                logger.notice("became active (token \(grant.token)) after \(Self.rounded(waited)) s standing by",
                              ["token": grant.token.rawValue, "previous_holder": before,
                               "previous_expired_s_ago": expiredAgo, "takeovers": grant.takeovers])
                return grant
            }
            if case .refused = answer {
                let holder = try? await store.lease(name)
                seen.withLock { $0 = holder ?? $0 }
                if let holder { role.withLock { $0.holderSeen(expiresAt: holder.expiresAt) } }
                if !announced, let holder {
                    announced = true
                    logger.notice("standing by", ["active": holder.holder, "token": holder.token.rawValue,
                                                  "expires_in_s": Self.rounded(holder.expiresAt.timeIntervalSince(askedAt))])
                }
            }
        }
        return nil
    }

    /// Renews the lease until it is lost and returns why ("token 7
    /// superseded …", "store unreachable …", "not renewed in time …"); nil
    /// when the task is cancelled first. `renewed` is called after every
    /// renewal the store granted (the bots send the lines they held while
    /// it was late); it should return at once.
    public func holdUntilLost(renewed: (@Sendable () -> Void)? = nil) async -> String? {
        while !Task.isCancelled {
            if let change = role.withLock({ $0.checkExpiry(now: clock.date) }), case .lost(let reason) = change {
                return reason
            }
            guard let (request, at) = role.withLock({ $0.next(now: clock.date) }),
                  case .renew(let token) = request else { return nil }
            guard await sleep(until: at) else { return nil }
            if let change = role.withLock({ $0.checkExpiry(now: clock.date) }), case .lost(let reason) = change {
                return reason
            }
            let askedAt = clock.date
            let deadline = role.withLock { $0.answerDeadline } ?? askedAt
            let answer = await renew(token, askedAt: askedAt, answerBy: deadline)
            guard !Task.isCancelled else { return nil }  // Stopped holding: not a store failure.
            if case .failed(let error) = answer {
                logger.warning("renewing the lease failed; retrying while it lasts", ["error": error])
            }
            if case .granted(let grant) = answer { seen.withLock { $0 = grant } }
            if case .lost(let reason)? = role.withLock({ $0.answered(answer, askedAt: askedAt, now: clock.date) }) {
                return reason
            }
            if case .granted = answer { renewed?() }
        }
        return nil
    }

    /// One renewal, waited for until `answerBy` at most: a store cut off by
    /// a partition may not answer at all (the call stays blocked on its
    /// connection), and the instance must stop before its lease runs out
    /// whether or not the store ever answers. The call itself runs on in an
    /// unstructured task (a blocked database call cannot be cancelled).
    private func renew(_ token: FencingToken, askedAt: Date, answerBy: Date) async -> LeaseRole.Answer {
        let (store, name, ttl, clock) = (self.store, self.name, timing.ttl.timeInterval, self.clock)
        let (answers, continuation) = AsyncStream<LeaseRole.Answer>.makeStream()
        let call = Task {
            do {
                let grant = try await store.renewLease(name, token: token, ttl: ttl, now: askedAt)
                continuation.yield(grant.map { .granted($0) } ?? .refused)
            } catch {
                continuation.yield(.failed("\(error)"))
            }
        }
        let timer = Task {
            if (try? await clock.sleep(until: WallInstant(answerBy), tolerance: nil)) != nil {
                continuation.yield(.failed("no answer from the store by \(LeaseRole.format(answerBy))"))
            }
        }
        var first: LeaseRole.Answer = .failed("cancelled")
        for await answer in answers {
            first = answer
            break
        }
        timer.cancel()
        _ = call
        return first
    }

    /// Ends the lease in the store if this instance still holds it (a clean
    /// stop: the standby takes over at its next try, not after the TTL).
    public func release() async {
        guard case .active(let grant, _) = role.withLock({ $0.phase }) else { return }
        do {
            if try await store.releaseLease(name, token: grant.token, now: clock.date) {
                logger.notice("lease released", ["token": grant.token.rawValue])
            }
        } catch {
            logger.warning("releasing the lease failed; the standby takes over when it expires", ["error": "\(error)"])
        }
    }

    var timing: LeaseTiming { role.withLock { $0.timing } }

    /// Sleeps until `date` on the clock; false when cancelled.
    private func sleep(until date: Date) async -> Bool {
        guard date > clock.date else { return !Task.isCancelled }
        do {
            try await clock.sleep(until: WallInstant(date), tolerance: nil)
            return true
        } catch {
            return false
        }
    }

    static func rounded(_ seconds: TimeInterval) -> Double { (seconds * 1000).rounded() / 1000 }
}
