import Core
import Synchronization
import Transport

/// The open connections of one `HTTPClient`, per origin (scheme, host,
/// port): at most `limit` at a time per origin, each either busy with one
/// request or idle and waiting to be reused (most recently used first).
///
/// A request takes a lease: an idle connection, or the right to open a new
/// one (`.fresh`). When the origin is at its limit it waits, in order, for a
/// connection to be released or discarded. An idle connection older than
/// `idleTimeout`, or one the server has closed or sent stray bytes on
/// (`Connection.isOpenAndQuiet`), is closed rather than reused: servers close
/// idle connections on their own schedule, and a stale one would fail the
/// next request.
final class ConnectionPool: Sendable {
    enum Lease: Sendable {
        /// A connection that carried an earlier request.
        case idle(Connection)
        /// A slot: the caller opens a connection and later releases or discards it.
        case fresh
    }

    private struct Idle {
        let connection: Connection
        let since: WallInstant
    }

    private struct Waiter {
        let id: UInt64
        let reuse: Bool
        let continuation: CheckedContinuation<Lease, any Error>
    }

    private struct Host {
        var idle: [Idle] = []
        /// Connections counted against the limit: idle, busy, or being opened.
        var open = 0
        var waiters: [Waiter] = []
    }

    private struct State {
        var hosts: [Origin: Host] = [:]
        var nextID: UInt64 = 0
        var isShutDown = false
    }

    private let state = Mutex(State())
    let limit: Int
    let idleTimeout: Duration
    let clock: any WallClock

    init(limit: Int, idleTimeout: Duration, clock: any WallClock) {
        precondition(limit > 0, "the connection limit must be positive")
        self.limit = limit
        self.idleTimeout = idleTimeout
        self.clock = clock
    }

    /// A lease for `origin`. With `reuse == false` an idle connection is not
    /// handed out (it is closed to make room if needed): for the retry after
    /// a stale connection. Throws `HTTPClientError.shutDown`, or
    /// `CancellationError` when the task is cancelled while waiting.
    func acquire(_ origin: Origin, reuse: Bool) async throws -> Lease {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let now = clock.now
                var toClose: [Connection] = []
                let outcome: Result<Lease, any Error>? = state.withLock { s in
                    if s.isShutDown { return .failure(HTTPClientError.shutDown) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    var host = s.hosts[origin] ?? Host()
                    defer { s.hosts[origin] = host }
                    // Drop connections idle for too long.
                    let expired = host.idle.filter { $0.since.duration(to: now) >= idleTimeout }
                    if !expired.isEmpty {
                        host.idle.removeAll { $0.since.duration(to: now) >= idleTimeout }
                        host.open -= expired.count
                        toClose += expired.map(\.connection)
                    }
                    // Most recently used first; one the server closed meanwhile is dropped.
                    while reuse, let last = host.idle.popLast() {
                        if last.connection.isOpenAndQuiet { return .success(.idle(last.connection)) }
                        host.open -= 1
                        toClose.append(last.connection)
                    }
                    if host.open < limit {
                        host.open += 1
                        return .success(.fresh)
                    }
                    if let oldest = host.idle.first {
                        host.idle.removeFirst()
                        toClose.append(oldest.connection)
                        return .success(.fresh)
                    }
                    host.waiters.append(Waiter(id: id, reuse: reuse, continuation: continuation))
                    return nil
                }
                for connection in toClose { connection.close() }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard var host = s.hosts[origin], let index = host.waiters.firstIndex(where: { $0.id == id })
                else { return nil }
                let waiter = host.waiters.remove(at: index)
                s.hosts[origin] = host
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns a healthy connection after a complete response: to the first
    /// waiter, else to the idle list.
    func release(_ origin: Origin, _ connection: Connection) {
        let now = clock.now
        let (waiter, lease, close): (Waiter?, Lease?, Bool) = state.withLock { s in
            guard var host = s.hosts[origin] else { return (nil, nil, true) }
            defer { s.hosts[origin] = host }
            if s.isShutDown {
                host.open -= 1
                return (nil, nil, true)
            }
            if !host.waiters.isEmpty {
                let waiter = host.waiters.removeFirst()
                // A waiter that must not reuse gets the slot; this connection goes.
                return waiter.reuse ? (waiter, .idle(connection), false) : (waiter, .fresh, true)
            }
            host.idle.append(Idle(connection: connection, since: now))
            return (nil, nil, false)
        }
        if close { connection.close() }
        if let waiter, let lease { waiter.continuation.resume(returning: lease) }
    }

    /// Gives back the slot of a connection that was closed (or never opened):
    /// to the first waiter, else the origin has one connection fewer.
    func discard(_ origin: Origin) {
        let waiter: Waiter? = state.withLock { s in
            guard var host = s.hosts[origin] else { return nil }
            defer { s.hosts[origin] = host }
            if !s.isShutDown, !host.waiters.isEmpty { return host.waiters.removeFirst() }
            host.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .fresh)
    }

    /// Closes every idle connection and fails every waiter; later acquires
    /// fail with `.shutDown`. Busy connections are closed as they come back.
    func shutdown() {
        let (idle, waiters): ([Connection], [Waiter]) = state.withLock { s in
            s.isShutDown = true
            var idle: [Connection] = []
            var waiters: [Waiter] = []
            for (origin, var host) in s.hosts {
                idle += host.idle.map(\.connection)
                waiters += host.waiters
                host.open -= host.idle.count
                host.idle = []
                host.waiters = []
                s.hosts[origin] = host
            }
            return (idle, waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.continuation.resume(throwing: HTTPClientError.shutDown) }
    }

    /// Open connections (idle, busy or being opened) to `origin` (tests).
    func openCount(_ origin: Origin) -> Int { state.withLock { $0.hosts[origin]?.open ?? 0 } }

    /// Requests waiting for a connection to `origin` (tests).
    func waiterCount(_ origin: Origin) -> Int { state.withLock { $0.hosts[origin]?.waiters.count ?? 0 } }

    /// Idle connections to `origin` (tests).
    func idleCount(_ origin: Origin) -> Int { state.withLock { $0.hosts[origin]?.idle.count ?? 0 } }
}
