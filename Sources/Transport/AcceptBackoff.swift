import Glibc

/// What an `accept(2)` failure means for the accept loop, and how long to
/// wait before trying again. Pure: `Listener.accept()` applies it.
///
/// Nothing here ends the loop except a listener that is itself broken: a
/// server that stops accepting after one EMFILE answers no health check
/// again even once descriptors are free (issue 14), so every resource error
/// is waited out.
enum AcceptFailure: Equatable, Sendable {
    /// The queued connection failed, not the listener: accept the next one
    /// at once. ECONNABORTED (reset while queued), EPERM (a firewall rule),
    /// and the network errors accept(2) says Linux passes on from the new
    /// socket and that "should be treated like EAGAIN": ENETDOWN, EPROTO,
    /// ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH.
    case transient
    /// The process or system is out of something (EMFILE, ENFILE, ENOBUFS,
    /// ENOMEM, and any errno not known here): back off and try again, since
    /// readiness will not report that descriptors were freed. With
    /// edge-triggered epoll the queued connection raises no new edge, so the
    /// retry must call accept again rather than wait for readiness.
    case resource
    /// The listening socket is unusable (EBADF, EINVAL: not listening,
    /// ENOTSOCK, EFAULT): trying again cannot help.
    case fatal

    init(errno code: Int32) {
        switch code {
        case ECONNABORTED, EPERM, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
             ENETUNREACH:
            self = .transient
        case EBADF, EINVAL, ENOTSOCK, EFAULT:
            self = .fatal
        default:
            self = .resource
        }
    }
}

/// The pause after each resource failure in a row: short at first so a
/// momentary shortage costs little, doubling up to a cap so a lasting one
/// does not spin (10 ms, 20 ms, 40 ms, … 1 s, 1 s, …). A success resets it.
struct AcceptBackoff: Sendable {
    let initial: Duration
    let maximum: Duration
    private(set) var failures = 0

    init(initial: Duration = .milliseconds(10), maximum: Duration = .seconds(1)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// Counts one more failure and returns how long to wait before the next try.
    mutating func next() -> Duration {
        var delay = initial
        for _ in 0..<min(failures, 40) where delay < maximum { delay *= 2 }
        failures += 1
        return min(delay, maximum)
    }

    mutating func reset() { failures = 0 }
}
