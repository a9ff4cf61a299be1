import Core
import Glibc

/// A byte stream to a peer: a TCP connection (plain or TLS) or an adopted
/// socket such as one end of a `socketpair`. The same API whatever the
/// transport, so the IRC client does not care which it has.
///
/// ## Threading
/// A `Connection` is `Sendable` and every method may be called from any task.
/// Reads and writes are non-blocking system calls made on the calling task;
/// when one would block, the task suspends until the process-wide event loop
/// (one thread in `epoll_wait`, see `EventLoop`) reports readiness. No
/// thread is ever blocked on a socket.
///
/// - One reader at a time: `read` / `lines()` from two tasks at once would
///   each get an arbitrary part of the stream.
/// - Any number of writers: `write` calls are queued (FIFO) and never
///   interleave their bytes.
/// - `close()` may come from anywhere, at any time: pending and later
///   operations fail with `TransportError.closed`.
/// - Cancelling the task of a pending `read` or `write` wakes it with
///   `CancellationError`. A write cancelled midway may have sent part of its
///   bytes: the stream is then out of step and should be closed.
public final class Connection: Sendable {
    let descriptor: Descriptor
    let tls: TLSSession?
    private let writeLock = AsyncLock()
    let logger: Logger

    /// The peer: `"127.0.0.1:6667"`, `"[::1]:6697"`, or for an adopted Unix
    /// socket `"unix socket fd 7"`.
    public let remoteAddress: String
    /// Our end of the connection, in the same form.
    public let localAddress: String
    /// The negotiated TLS parameters, nil for a plain connection.
    public let tlsInfo: TLSSessionInfo?

    init(descriptor: Descriptor, tls: TLSSession?, tlsInfo: TLSSessionInfo?,
         remoteAddress: String, localAddress: String, logger: Logger) {
        self.descriptor = descriptor
        self.tls = tls
        self.tlsInfo = tlsInfo
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.logger = logger
    }

    /// Takes ownership of a connected stream socket — typically one end of
    /// `socketpair(AF_UNIX, SOCK_STREAM, 0)` in tests — and makes it
    /// non-blocking and close-on-exec (which changes the open file
    /// description, shared with any duplicate of `fd`). TCP sockets also get
    /// `TCP_NODELAY` and keep-alive as in `connect`.
    ///
    /// A Unix `SOCK_SEQPACKET` socket is taken too: it keeps each write one
    /// record, so a test can see how the bytes were cut into writes (a read
    /// returns one record, cut at `maxBytes`).
    ///
    /// After success the connection owns `fd` and closes it; on failure `fd`
    /// still belongs to the caller.
    public convenience init(adopting fd: Int32, logger: Logger = .disabled) throws {
        try self.init(adopting: fd, loop: nil, logger: logger)
    }

    /// ``init(adopting:logger:)`` registered with `loop` (nil: the shared
    /// one): tests that must not disturb the shared loop use one of their own.
    convenience init(adopting fd: Int32, loop: EventLoop?, logger: Logger = .disabled) throws {
        let operation = "adopt descriptor \(fd)"
        let type = try SocketCalls.intOption(fd, SOL_SOCKET, SO_TYPE, "\(operation): get SO_TYPE")
        let local = SocketCalls.localAddress(fd)
        guard type == Int32(SOCK_STREAM.rawValue)
            || (type == Int32(SOCK_SEQPACKET.rawValue) && (local?.family ?? AF_UNIX) == AF_UNIX)
        else {
            throw TransportError.invalidArgument(operation: operation, reason: "not a stream socket (type \(type))")
        }
        try SocketCalls.makeNonBlockingCloseOnExec(fd, operation: operation)
        let peer = SocketCalls.peerAddress(fd)
        try SocketCalls.configureConnected(fd, family: local?.family ?? AF_UNIX, operation: operation)
        let descriptor = try Descriptor(registering: fd, operation: operation, loop: loop)
        func name(_ address: SocketAddress?) -> String {
            guard let address, address.family != AF_UNIX else { return "unix socket fd \(fd)" }
            return address.description
        }
        self.init(descriptor: descriptor, tls: nil, tlsInfo: nil,
                  remoteAddress: name(peer), localAddress: name(local), logger: logger)
    }

    /// Reads the next bytes that arrive, at most `maxBytes`, waiting until
    /// at least one is there. Returns `[]` at the end of the stream (the peer
    /// closed its side, or sent TLS close_notify, or closed without it).
    ///
    /// Throws `TransportError` (`.system` for ECONNRESET and friends,
    /// `.closed` after `close()`, `.tls`), or `CancellationError`.
    ///
    /// It runs on the caller's executor (`nonisolated(nonsending)`): an
    /// actor that reads its own connection, such as the IRC client, is
    /// resumed on itself when the bytes are there, and handles them in the
    /// same job, without a hop through a reader task on the cooperative pool.
    public nonisolated(nonsending) func read(maxBytes: Int = 16384) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        _ = try await receive(appendingTo: &bytes, maxBytes: maxBytes)
        return bytes
    }

    /// The stream as lines: bytes up to each LF, without the LF, and by
    /// default without a CR before it (see `LineFramer`). The sequence ends
    /// at the end of the stream; bytes after the last LF (a torn line) are
    /// dropped then, and logged at debug level. A line longer than
    /// `maxLineLength` ends it with `TransportError.lineTooLong`.
    ///
    /// Iterate it from one task only, and do not mix it with `read`: the
    /// iterator keeps bytes it has received but not yet returned.
    public func lines(maxLineLength: Int = 8192, stripsCarriageReturn: Bool = true) -> LineSequence {
        LineSequence(connection: self,
                     framer: LineFramer(maxLineLength: maxLineLength, stripsCarriageReturn: stripsCarriageReturn))
    }

    /// Writes all of `bytes`, waiting for the socket to take them (partial
    /// writes are continued). Returns when the kernel has all of them (not
    /// when the peer has). Concurrent writes are queued, never interleaved.
    ///
    /// Writing to a peer that has gone throws `.system` with EPIPE or
    /// ECONNRESET (never SIGPIPE: sends use `MSG_NOSIGNAL`).
    public func write(_ bytes: [UInt8]) async throws {
        let operation = "write to \(remoteAddress)"
        guard !descriptor.isClosed else { throw TransportError.closed(operation: operation) }
        try await writeLock.lock()
        defer { writeLock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let written = try await descriptor.perform(operation) { fd -> IOStep<Int> in
                try writeStep(fd, bytes, from: offset, operation)
            }
            offset += written
        }
    }

    /// Writes what the socket takes of `bytes` now, without waiting, and
    /// returns how many bytes that was: all of them, fewer when the socket's
    /// buffer is full, none while another write is under way (its bytes must
    /// not be overtaken). The caller writes the rest with ``write(_:)``, from
    /// where this stopped (for TLS a record begun here is finished there:
    /// OpenSSL runs in moving-buffer, partial-write mode).
    ///
    /// For a caller that owns the stream's writing and is not on the
    /// cooperative pool's schedule of its own, such as the IRC client's
    /// actor: its lines go out in the same job that queued them, with no
    /// hop to another task and back. It never blocks (the socket is
    /// non-blocking). Throws like ``write(_:)``.
    public func writeAvailable(_ bytes: [UInt8]) throws -> Int {
        let operation = "write to \(remoteAddress)"
        guard writeLock.tryLock() else {
            guard !descriptor.isClosed else { throw TransportError.closed(operation: operation) }
            return 0
        }
        defer { writeLock.unlock() }
        var offset = 0
        while offset < bytes.count {
            switch try descriptor.withFD(operation, { fd in try writeStep(fd, bytes, from: offset, operation) }) {
            case .done(let written): offset += written
            case .retry: continue
            case .wait: return offset
            }
        }
        return offset
    }

    /// One non-blocking `send` (or `SSL_write`) of `bytes` from `offset`.
    private func writeStep(_ fd: Int32, _ bytes: [UInt8], from offset: Int, _ operation: String) throws -> IOStep<Int> {
        try bytes.withUnsafeBytes { raw in
            let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
            if let tls { return try tls.writeStep(from: rest, operation) }
            let sent = send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
            if sent >= 0 { return .done(sent) }
            return try Connection.blockedStep(errno, direction: .write, operation)
        }
    }

    /// Ends our direction of the stream (TCP FIN; for TLS close_notify
    /// first) while reading stays possible. A server that answers and then
    /// closes at once while the client's bytes are still unread makes the
    /// kernel send a reset, which can destroy its answer before the client
    /// reads it; half-closing and draining the rest first avoids that.
    /// Best effort and idempotent; later writes fail.
    public func shutdownWrite() {
        try? descriptor.withFD("shut down writing to \(remoteAddress)") { fd in
            tls?.shutdown()
            _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        }
    }

    /// Closes the connection: for TLS sends close_notify if the socket takes
    /// it at once (best effort, never waits), wakes every pending read and
    /// write with `TransportError.closed`, and releases the descriptor.
    /// Idempotent; safe from any thread.
    public func close() {
        if let tls, !descriptor.isClosed {
            try? descriptor.withFD("close \(remoteAddress)") { _ in tls.shutdown() }
        }
        descriptor.close()
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { descriptor.isClosed }

    /// Tasks suspended in a read or write of this connection right now (for
    /// tests that must know an operation is blocked before acting).
    var pendingWaiterCount: Int { descriptor.waiterCount }

    /// Receives at most `maxBytes` onto the end of `buffer`; returns how
    /// many (0 at the end of the stream).
    nonisolated(nonsending) func receive(appendingTo buffer: inout [UInt8], maxBytes: Int) async throws -> Int {
        precondition(maxBytes > 0, "maxBytes must be positive")
        let operation = "read from \(remoteAddress)"
        let oldCount = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: maxBytes))
        do {
            let received = try await descriptor.perform(operation) { fd -> IOStep<Int> in
                try buffer.withUnsafeMutableBytes { raw in
                    let free = UnsafeMutableRawBufferPointer(rebasing: raw[oldCount...])
                    if let tls { return try tls.readStep(into: free, operation) }
                    let count = recv(fd, free.baseAddress, free.count, 0)
                    if count >= 0 { return .done(count) }
                    return try Connection.blockedStep(errno, direction: .read, operation)
                }
            }
            buffer.removeLast(maxBytes - received)
            return received
        } catch {
            buffer.removeLast(maxBytes)
            throw error
        }
    }

    /// What a failed non-blocking call's errno means.
    static func blockedStep<Value>(_ code: Int32, direction: IODirection, _ operation: String) throws
        -> IOStep<Value>
    {
        switch code {
        case EAGAIN, EWOULDBLOCK: return .wait(direction)
        case EINTR: return .retry
        default: throw TransportError.posix(operation, errno: code)
        }
    }
}

/// The lines of a `Connection` (see `Connection.lines(maxLineLength:stripsCarriageReturn:)`).
public struct LineSequence: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    let connection: Connection
    let framer: LineFramer

    public func makeAsyncIterator() -> Iterator {
        Iterator(connection: connection, framer: framer)
    }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = [UInt8]
        public typealias Failure = any Error

        let connection: Connection
        var framer: LineFramer
        var scratch: [UInt8] = []
        var finished = false

        init(connection: Connection, framer: LineFramer) {
            self.connection = connection
            self.framer = framer
        }

        /// The next line, nil at the end of the stream.
        public mutating func next() async throws -> [UInt8]? {
            guard !finished else { return nil }
            do {
                while true {
                    if let line = try framer.nextLine() { return line }
                    scratch.removeAll(keepingCapacity: true)
                    let count = try await connection.receive(appendingTo: &scratch, maxBytes: 16384)
                    if count == 0 {
                        finished = true
                        if framer.bufferedByteCount > 0 {
                            connection.logger.debug("dropping a torn line at the end of the stream", [
                                "remote": connection.remoteAddress, "bytes": framer.bufferedByteCount,
                            ])
                        }
                        return nil
                    }
                    framer.append(scratch)
                }
            } catch TransportError.lineTooLong(_, let limit) {
                finished = true
                throw TransportError.lineTooLong(operation: "read line from \(connection.remoteAddress)", limit: limit)
            } catch {
                finished = true
                throw error
            }
        }
    }
}
