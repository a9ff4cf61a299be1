import Desk
import Foundation

/// The decisions of a customer's PIN check, from the intake's request to
/// the answer it is told (issue 14): reserve in the store first, hash on
/// the worker only what was reserved, try a check refused as busy again by
/// itself a few times, record the result, and warn the agents when wrong
/// PINs for one number make an attack (``PINAttackMonitor``).
///
/// Events in — ``requested(_:workerWaiting:now:)``,
/// ``reservation(_:for:now:)``, ``hashed(_:reservation:ok:now:)``,
/// ``retryDue(_:stillVerifying:workerWaiting:now:)`` — and ``Effect``s out,
/// which the runtime carries out (store calls, the worker, timers, texts).
/// Pure: the caller passes `now`, so tests drive it on a `ManualClock`
/// with no runtime, store or worker.
struct PINChecks: Sendable {
    /// One check: whose, for which conversation (found again by its serial
    /// when the customer changed nick meanwhile), and how often it was
    /// retried as busy. The PIN itself goes no further than the worker.
    struct Check: Sendable, Hashable {
        var key: ConversationKey
        var serial: UInt64
        var identity: ChatIdentity
        var number: String
        var pin: String
        var retries: Int = 0
    }

    /// What the runtime does for a check.
    enum Effect: Sendable, Hashable {
        /// Ask the store to reserve the check against the budgets; answer
        /// with ``PINChecks/reservation(_:for:now:)``.
        case reserve(Check)
        /// Hash the PIN on the worker; answer with ``PINChecks/hashed(_:reservation:ok:now:)``.
        case hash(Check, PINReservationID)
        /// At `at`, answer with ``PINChecks/retryDue(_:stillVerifying:workerWaiting:now:)``.
        case retry(Check, at: Date)
        /// Record the reservation's outcome in the store.
        case finish(PINReservationID, PINCheckOutcome)
        /// A check was refused (counted and logged; `reason` for the log).
        case refused(Check, reason: String)
        /// Tell the intake the PIN was right or wrong.
        case checked(Check, ok: Bool)
        /// Tell the intake no PIN was hashed: `refusal` a budget's, nil
        /// when the store could not record the reservation.
        case notChecked(Check, PINRefusal?)
        /// Warn the agents' channel of an attack on the check's number.
        case warnAgents(Check, PINAttackMonitor.Warning)
    }

    /// The budgets the store counts reservations against.
    var policy = PINAttemptPolicy.standard
    /// Wrong PINs per number, for the agents' warning.
    var attacks = PINAttackMonitor()

    /// Times a check refused as busy is tried again by itself.
    static var busyRetries: Int { 5 }

    /// PIN checks waiting for the worker at most; past it a check is
    /// refused at once (``SupportText/pinBusy``).
    static var queueLimit: Int { 100 }

    /// The intake asked to check a PIN. A full worker line refuses before
    /// anything is reserved (the worker's own refusal after the reservation
    /// would leave it counted as wrong).
    func requested(_ check: Check, workerWaiting: Int, now: Date) -> [Effect] {
        if workerWaiting >= Self.queueLimit {
            return [.refused(check, reason: "the worker's line is full")]
                + busy(check, retryAt: now.addingTimeInterval(1))
        }
        return [.reserve(check)]
    }

    /// The store's answer to ``Effect/reserve(_:)``; nil when it failed
    /// (then no check runs: fail closed).
    mutating func reservation(_ reservation: PINReservation?, for check: Check, now: Date) -> [Effect] {
        switch reservation {
        case nil:
            return [.notChecked(check, nil)]
        case .reserved(let id):
            return [.hash(check, id)]
        case .refused(let refusal):
            var effects: [Effect] = [.refused(check, reason: refusal.description)]
            if case .numberLocked = refusal { effects += wrong(check, now: now) }
            if case .globalBusy(let retryAt) = refusal { return effects + busy(check, retryAt: retryAt) }
            return effects + [.notChecked(check, refusal)]
        }
    }

    /// The worker's answer to ``Effect/hash(_:_:)``. `ok` nil: the worker
    /// withdrew the check (the conversation ended) or refused it; the
    /// reservation stays unfinished, which counts as wrong.
    mutating func hashed(_ check: Check, reservation: PINReservationID, ok: Bool?, now: Date) -> [Effect] {
        guard let ok else { return [.notChecked(check, .globalBusy(retryAt: now))] }
        return [.finish(reservation, ok ? .right : .wrong)] + (ok ? [] : wrong(check, now: now))
            + [.checked(check, ok: ok)]
    }

    /// A busy check's retry time came; it runs again only if the
    /// conversation still waits for it.
    func retryDue(_ check: Check, stillVerifying: Bool, workerWaiting: Int, now: Date) -> [Effect] {
        stillVerifying ? requested(check, workerWaiting: workerWaiting, now: now) : []
    }

    /// Too many checks at once is not the customer's doing: try again at
    /// `retryAt`, a few times, then ask for the PIN again.
    private func busy(_ check: Check, retryAt: Date) -> [Effect] {
        guard check.retries < Self.busyRetries else { return [.notChecked(check, .globalBusy(retryAt: retryAt))] }
        var next = check
        next.retries += 1
        return [.retry(next, at: retryAt)]
    }

    /// Counts a wrong (or locked-out) PIN; a warning when it makes an attack.
    private mutating func wrong(_ check: Check, now: Date) -> [Effect] {
        attacks.wrongPIN(number: check.number, sender: check.identity.description, at: now)
            .map { [.warnAgents(check, $0)] } ?? []
    }
}
