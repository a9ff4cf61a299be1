import Desk
import Foundation

/// The outbox part: pages handed to a network and not yet confirmed, and
/// what happens to a page the network refuses. A value with no I/O — the
/// runtime reads and marks pages in the store and sends the actions this
/// returns.
///
/// A refused page is retried after 30 s, 60 s, 120 s, … (at most 300 s)
/// until it has had `maximumAttempts` attempts; then it is given up (the
/// runtime pages the next escalation step and warns the agents' channel).
/// A page not confirmed within the delivery timeout is sent again.
struct Outbox {
    /// Pages handed to a network, by id.
    private(set) var inFlight: [PageID: InFlightPage] = [:]

    /// What to do after a failed attempt.
    enum FailureDecision: Equatable {
        /// Try again at this time; `attempts` so far.
        case retry(at: Date, attempts: Int)
        /// Stop: `attempts` were made.
        case giveUp(attempts: Int)
    }

    func isInFlight(_ id: PageID) -> Bool { inFlight[id] != nil }

    /// The actions that hand `records` (those not in flight already) to
    /// their networks, the page id as delivery id; `lane` says each one's
    /// lane and `recipient` whether its target is a person or a room (the
    /// network's rule: the outbox knows no chat protocol).
    mutating func handOver(_ records: [PageRecord], lane: (PageRecord) -> ChatLane,
                           recipient: (PageRecord) -> ChatRecipient, now: Date) -> [ChatAction] {
        var actions: [ChatAction] = []
        for record in records where inFlight[record.id] == nil {
            actions.append(ChatAction(network: record.network, recipient: recipient(record), text: record.text,
                                      lane: lane(record), deliveryID: record.id.rawValue))
            inFlight[record.id] = InFlightPage(ticket: record.ticket, step: record.step, target: record.target,
                                               attempts: record.attempts, handedOver: now)
        }
        return actions
    }

    /// Forgets the pages in flight for `timeout` or longer, so they are sent
    /// again; returns them.
    mutating func expire(now: Date, timeout: TimeInterval) -> [(id: PageID, page: InFlightPage)] {
        let expired = inFlight.filter { now.timeIntervalSince($0.value.handedOver) >= timeout }
        for id in expired.keys { inFlight.removeValue(forKey: id) }
        return expired.map { ($0.key, $0.value) }.sorted { $0.id < $1.id }
    }

    /// Forgets a page handed over but not sent after all (its claim was
    /// refused or failed): it stays pending in the store.
    mutating func forget(_ id: PageID) { inFlight.removeValue(forKey: id) }

    /// The network confirmed the page.
    mutating func delivered(_ id: PageID) -> InFlightPage? { inFlight.removeValue(forKey: id) }

    /// The network refused the page: retry or give up.
    mutating func failed(_ id: PageID, now: Date, maximumAttempts: Int) -> (page: InFlightPage?, FailureDecision) {
        let page = inFlight.removeValue(forKey: id)
        let attempts = (page?.attempts ?? 0) + 1
        if attempts >= maximumAttempts { return (page, .giveUp(attempts: attempts)) }
        let delay = min(300, 30 * pow(2, Double(min(attempts, 10) - 1)))
        return (page, .retry(at: now.addingTimeInterval(delay), attempts: attempts))
    }

    /// When the page timer must wake: the earliest delivery timeout, or
    /// `pendingDue` (the first page waiting in the store and not in flight).
    func nextWake(pendingDue: Date?, timeout: TimeInterval) -> Date? {
        let timeouts = inFlight.values.map { $0.handedOver.addingTimeInterval(timeout) }
        return (timeouts + [pendingDue].compactMap { $0 }).min()
    }
}
