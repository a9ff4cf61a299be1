import Core
import Glibc

/// A listening TCP socket on a numeric address — for the gateway's loopback
/// HTTP endpoint (`/healthz`, `/metrics`) and for local servers in tests.
/// Accepted connections are plain `Connection`s (no TLS server side).
/// `Sendable`; `accept` and `close` may be called from any task.
///
/// `accept` survives resource exhaustion: when the process runs out of
/// descriptors (EMFILE) or the system of memory or buffers, it backs off
/// (10 ms doubling to 1 s, on the injected clock) and tries again, and
/// accepts as soon as descriptors are free again. Each kind of failure is
/// logged at most once a minute (see `AcceptFailure`, `RateLimitedLogger`).
///
/// It holds a few descriptors in reserve (`DescriptorReserve`): on EMFILE
/// or ENFILE it frees them at once, so the rest of the process — the
/// store, the IRC connection, the Swift runtime's thread pool, which
/// crashes the process when it cannot open a file — is not left without
/// one, and it accepts again only after it has taken the reserve back.
public final class Listener: Sendable {
    /// `accept4` on the listening descriptor: the new descriptor and peer,
    /// or -1 and the errno. Replaced in tests to fail on purpose.
    typealias AcceptCall = @Sendable (Int32) -> (fd: Int32, peer: SocketAddress?, errno: Int32)

    let descriptor: Descriptor
    let logger: Logger
    /// Accept failures, at most one line per errno and minute.
    let failureLog: RateLimitedLogger
    let clock: any WallClock
    let acceptCall: AcceptCall
    /// Descriptors given up when the process runs out (see the type's comment).
    let reserve: DescriptorReserve
    /// The bound address, `"127.0.0.1:40123"` or `"[::1]:40123"`.
    public let address: String
    /// The bound port (the one the kernel chose when binding port 0).
    public let port: UInt16

    private init(descriptor: Descriptor, address: String, port: UInt16, logger: Logger, clock: any WallClock) {
        self.descriptor = descriptor
        self.reserve = DescriptorReserve()
        self.address = address
        self.port = port
        self.logger = logger
        self.clock = clock
        self.failureLog = RateLimitedLogger(logger, interval: .seconds(60), clock: clock)
        self.acceptCall = { fd in
            let (accepted, peer) = SocketCalls.accept(fd)
            return (accepted, peer, accepted >= 0 ? 0 : errno)
        }
    }

    /// The same listener with another accept call and reserve (tests).
    init(_ other: Listener, reserve: DescriptorReserve? = nil, acceptCall: @escaping AcceptCall) {
        descriptor = other.descriptor
        self.reserve = reserve ?? other.reserve
        address = other.address
        port = other.port
        logger = other.logger
        clock = other.clock
        failureLog = other.failureLog
        self.acceptCall = acceptCall
    }

    /// Binds and listens. `host` must be a numeric IPv4 or IPv6 address
    /// (`"127.0.0.1"`, `"::1"`, `"0.0.0.0"`); `port` 0 lets the kernel choose
    /// (read it from `port`). Sets `SO_REUSEADDR`, and `IPV6_V6ONLY` for IPv6.
    ///
    /// `clock` times the back-off after resource failures and the log's
    /// once-a-minute limit.
    public static func bind(
        host: String = "127.0.0.1", port: UInt16 = 0, backlog: Int32 = 128, logger: Logger = .disabled,
        clock: any WallClock = SystemClock()
    ) throws -> Listener {
        let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let operation = "listen on \(shown)"
        guard let address = SocketAddress(numericHost: host, port: port) else {
            throw TransportError.invalidArgument(
                operation: operation, reason: "the host must be a numeric IPv4 or IPv6 address such as 127.0.0.1 or ::1")
        }
        let fd = try SocketCalls.makeStreamSocket(family: address.family, operation: operation)
        do {
            try SocketCalls.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "\(operation): set SO_REUSEADDR")
            if address.family == AF_INET6 {
                try SocketCalls.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "\(operation): set IPV6_V6ONLY")
            }
            guard address.withSockAddr({ Glibc.bind(fd, $0, $1) }) == 0 else {
                throw TransportError.posix("\(operation): bind")
            }
            guard Glibc.listen(fd, backlog) == 0 else { throw TransportError.posix("\(operation): listen") }
            let bound = SocketCalls.localAddress(fd) ?? address
            let descriptor = try Descriptor(registering: fd, operation: operation)
            logger.debug("listening", ["address": bound.description])
            return Listener(descriptor: descriptor, address: bound.description, port: bound.port ?? port,
                            logger: logger, clock: clock)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Waits for the next connection. Throws `TransportError.closed` after
    /// `close()` (also when it was waiting or backing off),
    /// `CancellationError` when the task is cancelled, and `.system` only
    /// when the listening socket itself is broken (`AcceptFailure.fatal`).
    /// Every other failure is waited out here (see the type's comment).
    public func accept() async throws -> Connection {
        let operation = "accept on \(address)"
        var backoff = AcceptBackoff()
        var firstFailure: WallInstant?
        while true {
            // Out of descriptors lately: accept only once the reserve is
            // back, so the process keeps it; until then connections wait
            // in the backlog.
            if !reserve.restore() {
                if firstFailure == nil { firstFailure = clock.now }
                try await pause(backoff.next(), operation)
                continue
            }
            let attempt = try await descriptor.perform(operation) { fd -> IOStep<(fd: Int32, peer: SocketAddress?, errno: Int32)> in
                let result = acceptCall(fd)
                if result.fd >= 0 { return .done(result) }
                switch result.errno {
                case EAGAIN, EWOULDBLOCK: return .wait(.read)
                case EINTR: return .retry
                default:
                    if AcceptFailure(errno: result.errno) == .transient {
                        failureLog.log(.debug, key: "accept errno \(result.errno)", "accept: dropped a queued connection",
                                       ["error": TransportError.posix(operation, errno: result.errno)])
                        return .retry
                    }
                    return .done(result)
                }
            }
            if attempt.fd < 0 {
                let error = TransportError.posix(operation, errno: attempt.errno)
                if AcceptFailure(errno: attempt.errno) == .fatal { throw error }
                let released = attempt.errno == EMFILE || attempt.errno == ENFILE ? reserve.release() : 0
                let delay = backoff.next()
                if firstFailure == nil { firstFailure = clock.now }
                failureLog.warning(key: "accept errno \(attempt.errno)", "accept failed; backing off and retrying",
                                   ["error": error, "retry_in": delay, "reserve_freed": released])
                try await pause(delay, operation)
                continue
            }
            do {
                let connection = try adopt(attempt.fd, peer: attempt.peer, operation: operation)
                if let since = firstFailure {
                    failureLog.notice(key: "accept recovered", "accepting again", [
                        "failures": backoff.failures, "after": since.duration(to: clock.now),
                    ])
                }
                return connection
            } catch let error as TransportError {
                Glibc.close(attempt.fd)
                // Registration failing (epoll out of memory or watches) is a
                // resource failure; options failing on a connection the peer
                // already reset concern that connection only.
                failureLog.warning(key: "accept setup \(error.errno ?? 0)", "accepted connection could not be set up",
                                   ["error": error])
                if case .system(let what, let code, _) = error, what.hasSuffix("epoll_ctl(ADD)") || code == ENOMEM {
                    if firstFailure == nil { firstFailure = clock.now }
                    try await pause(backoff.next(), operation)
                }
            }
        }
    }

    /// The accepted descriptor as a `Connection` (options set, registered).
    /// On failure `fd` is still the caller's to close.
    private func adopt(_ fd: Int32, peer: SocketAddress?, operation: String) throws -> Connection {
        let family = peer?.family ?? AF_INET
        try SocketCalls.configureConnected(fd, family: family, operation: operation)
        let descriptor = try Descriptor(registering: fd, operation: operation)
        let remote = peer?.description ?? "?"
        let local = SocketCalls.localAddress(fd)?.description ?? address
        return Connection(descriptor: descriptor, tls: nil, tlsInfo: nil,
                          remoteAddress: remote, localAddress: local, logger: logger)
    }

    /// Sleeps `delay` on the clock, but wakes at once with
    /// `TransportError.closed` when the listener is closed meanwhile.
    private func pause(_ delay: Duration, _ operation: String) async throws {
        let clock = self.clock
        let descriptor = self.descriptor
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await clock.sleep(until: clock.now.advanced(by: delay), tolerance: nil)
            }
            group.addTask {
                // New connections also raise readiness; only closing ends this.
                while true {
                    let before = try descriptor.snapshot(operation)
                    try await descriptor.wait(for: .read, after: before, operation)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Stops listening; a pending `accept` fails with `.closed`. Idempotent.
    /// Writes the count of accept failures the log held back.
    public func close() {
        descriptor.close()
        reserve.release()
        failureLog.flush()
    }
}
