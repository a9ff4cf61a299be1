import Core
import Glibc

/// A listening TCP socket on a numeric address — for the gateway's loopback
/// HTTP endpoint (`/healthz`, `/metrics`) and for local servers in tests.
/// Accepted connections are plain `Connection`s (no TLS server side).
/// `Sendable`; `accept` and `close` may be called from any task.
public final class Listener: Sendable {
    let descriptor: Descriptor
    let logger: Logger
    /// The bound address, `"127.0.0.1:40123"` or `"[::1]:40123"`.
    public let address: String
    /// The bound port (the one the kernel chose when binding port 0).
    public let port: UInt16

    private init(descriptor: Descriptor, address: String, port: UInt16, logger: Logger) {
        self.descriptor = descriptor
        self.address = address
        self.port = port
        self.logger = logger
    }

    /// Binds and listens. `host` must be a numeric IPv4 or IPv6 address
    /// (`"127.0.0.1"`, `"::1"`, `"0.0.0.0"`); `port` 0 lets the kernel choose
    /// (read it from `port`). Sets `SO_REUSEADDR`, and `IPV6_V6ONLY` for IPv6.
    public static func bind(
        host: String = "127.0.0.1", port: UInt16 = 0, backlog: Int32 = 128, logger: Logger = .disabled
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
                            logger: logger)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Waits for the next connection. Throws `TransportError.closed` after
    /// `close()` (also when it was waiting), `CancellationError` when the
    /// task is cancelled, and `.system` for failures such as EMFILE.
    public func accept() async throws -> Connection {
        let operation = "accept on \(address)"
        let (fd, peer) = try await descriptor.perform(operation) { fd -> IOStep<(Int32, SocketAddress?)> in
            let (accepted, peer) = SocketCalls.accept(fd)
            if accepted >= 0 { return .done((accepted, peer)) }
            let code = errno
            // A connection that was reset while queued is not our failure.
            if code == ECONNABORTED || code == EPROTO { return .retry }
            return try Connection.blockedStep(code, direction: .read, operation)
        }
        do {
            let family = peer?.family ?? AF_INET
            try SocketCalls.configureConnected(fd, family: family, operation: operation)
            let descriptor = try Descriptor(registering: fd, operation: operation)
            let remote = peer?.description ?? "?"
            let local = SocketCalls.localAddress(fd)?.description ?? address
            return Connection(descriptor: descriptor, tls: nil, tlsInfo: nil,
                              remoteAddress: remote, localAddress: local, logger: logger)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Stops listening; a pending `accept` fails with `.closed`. Idempotent.
    public func close() {
        descriptor.close()
    }
}
