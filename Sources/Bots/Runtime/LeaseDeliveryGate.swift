import Core
import Foundation
import Synchronization

/// The runtime's lease view as a synchronous check for the networks' send
/// queues (issue 10): a page line may be written only while this instance's
/// own view of the lease covers it and the runtime is not fenced.
///
/// The runtime asks the lease view before it hands a step's lines to a
/// network, but a network with a flood-limited send queue (IRC: a burst of
/// 5, then a line every 2 s) may write a page line seconds later; the queue
/// asks ``mayDeliver()`` again at that moment. Synchronous and cheap (a
/// lock and a clock read): it is called on the network's write path.
final class LeaseDeliveryGate<C: WallClock>: Sendable {
    private let sendableUntil: @Sendable () -> Date?
    private let clock: C
    private let fenced = Atomic<Bool>(false)

    init(sendableUntil: @escaping @Sendable () -> Date?, clock: C) {
        self.sendableUntil = sendableUntil
        self.clock = clock
    }

    /// Whether a page line may be written now: the lease view covers this
    /// instant and the runtime was not fenced.
    @Sendable func mayDeliver() -> Bool {
        guard !fenced.load(ordering: .acquiring), let until = sendableUntil() else { return false }
        return clock.date < until
    }

    /// The lease is lost for good: no page line is written any more.
    func fence() { fenced.store(true, ordering: .releasing) }
}
