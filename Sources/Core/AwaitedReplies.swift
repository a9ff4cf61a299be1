import Glibc
import Synchronization

/// How many answers a thread awaits now from work it handed to another
/// thread (issue 12): the gateway's event loop counts the store jobs its
/// tasks queued and not yet answered, so that, with nothing else to do, it
/// can look for the answer for a short while instead of parking in
/// `epoll_wait` and being woken through its eventfd a moment later.
///
/// A thread that wants the count registers one with ``register(_:)`` (the
/// event loop does, on its own thread); a worker that takes a job from a
/// caller reads ``current`` on the caller's thread, calls ``expect()`` then
/// and ``arrived()`` after it handed the answer back (after the caller's
/// continuation was resumed, so the caller's job is queued by then). On a
/// thread that registered nothing ``current`` is nil and nothing is counted.
public final class AwaitedReplies: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    /// Answers expected and not yet handed back.
    public var outstanding: Int { count.load(ordering: .acquiring) }

    /// A job was handed to another thread; its answer will come back.
    public func expect() {
        count.add(1, ordering: .relaxed)
    }

    /// The answer of an expected job was handed back (or the job failed).
    public func arrived() {
        count.subtract(1, ordering: .releasing)
    }

    /// The counter the calling thread registered, or nil.
    public static var current: AwaitedReplies? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<AwaitedReplies>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Makes `replies` the calling thread's ``current`` for the rest of the
    /// thread's life (it is retained until the process ends).
    public static func register(_ replies: AwaitedReplies) {
        let pointer = Unmanaged.passRetained(replies).toOpaque()
        pthread_setspecific(key, pointer)
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let result = pthread_key_create(&key, nil)
        precondition(result == 0, "pthread_key_create failed (\(result))")
        return key
    }()
}
