// The Transport target: byte streams for the chat adapters, over Glibc
// sockets and OpenSSL, with async/await and no SwiftNIO.
//
// What it offers
// - `Connection.connect(host:port:security:timeout:attemptTimeout:logger:)`:
//   TCP (IPv4/IPv6, every resolved address in turn) with optional TLS
//   (`TransportSecurity`, `TLSOptions`: verification on by default).
// - `Connection(adopting:)`: an existing stream socket, e.g. one end of a
//   socketpair, so IRC client tests run without a network.
// - `Connection.read(maxBytes:)`, `.lines(maxLineLength:stripsCarriageReturn:)`,
//   `.write(_:)`, `.close()`: the same for plain, TLS and adopted sockets.
// - `Connection.isOpenAndQuiet`: whether an idle pooled connection may be
//   reused (the peer has not closed it nor sent anything), without waiting.
// - `Listener.bind(host:port:backlog:logger:clock:)` / `.accept()`: loopback
//   servers; `accept` waits out EMFILE/ENFILE/ENOBUFS/ENOMEM with a capped
//   back-off (`AcceptBackoff.swift`) instead of failing, logging each errno
//   at most once a minute, and frees a few reserved descriptors for the rest
//   of the process meanwhile (`DescriptorReserve.swift`).
// - `LineFramer`: the pure line splitter behind `lines()`.
// - `TransportError`: the one error type; says what was done, with whom, and
//   why (errno text, resolver text, OpenSSL's queue or verify result).
//
// Threading model
// - One process-wide event loop (`EventLoop.shared`): a dedicated thread
//   ("switchboard.io") blocked in `epoll_wait`, edge-triggered. It bumps
//   per-descriptor readiness counters and resumes continuations, and it is
//   also a Swift executor (`SerialExecutor`, and `EventLoop.taskExecutor` as
//   a `TaskExecutor`): actors that run on it (the IRC clients, the gateway's
//   bots runtime) are resumed by the loop itself when their socket is ready
//   and run in the same turn — no hop to the cooperative pool. Jobs queued
//   from elsewhere wake it through an eventfd; at most
//   `EventLoop.jobsPerTurn` jobs run between two looks at the sockets.
//   Nothing that blocks may run on it (see `EventLoop`).
// - I/O system calls (`recv`, `send`, `SSL_read`, ...) run on the calling
//   task, non-blocking. Only when one would block does the task suspend until
//   the loop reports readiness. No thread ever blocks on a socket.
// - `getaddrinfo` blocks, so each lookup runs on a short-lived thread of its
//   own, never on Swift's cooperative pool.
// - `Connection` and `Listener` are `Sendable` and safe to use from any
//   task: one reader at a time, any number of writers (queued, never
//   interleaved), `close()` from anywhere (waking whoever waits with
//   `TransportError.closed`). Task cancellation wakes a pending operation
//   with `CancellationError`.
// - Descriptors are released to the kernel only after they left epoll and
//   no system call uses them, so a concurrent close can never make a read
//   hit a reused descriptor number.
//
// Socket settings: every socket is non-blocking and close-on-exec; TCP
// sockets get TCP_NODELAY and keep-alive (see `SocketCalls.configureConnected`);
// sends use MSG_NOSIGNAL (also under TLS, through our own BIO), so a vanished
// peer is an EPIPE error, never a SIGPIPE. The process's signal handling is
// left alone.
//
// Layout: `Socket+Glibc.swift` (system calls, addresses), `EventLoop.swift`,
// `Descriptor.swift` (lifetime and the non-blocking step loop),
// `Connection*.swift`, `Listener.swift`, `AcceptBackoff.swift`, `TLS.swift`,
// `LineFramer.swift`, `Resolver.swift`, `Timeout.swift`, `AsyncLock.swift`,
// `TransportError.swift`.
