import Core
import Glibc

extension Connection {
    /// Connects to `host:port` over TCP, then (for `.tls`) completes the TLS
    /// handshake.
    ///
    /// `host` is resolved with `getaddrinfo` (a numeric IPv4/IPv6 address is
    /// used as is) and each address is tried in turn until one connects.
    /// `timeout` bounds everything: resolution, every attempt and the TLS
    /// handshake. Each attempt gets `attemptTimeout` if given (capped by
    /// what is left), else an equal share of what is left, so one
    /// black-holed address cannot eat the whole budget.
    ///
    /// Errors: a single address that fails gives its own error (e.g.
    /// `connect to 127.0.0.1:6667: Connection refused (errno 111)`); several
    /// give `.allAddressesFailed` listing each. Also `.nameResolution`,
    /// `.timedOut`, and for TLS `.tls` (e.g. `certificate verify failed:
    /// hostname mismatch`). With `TLSOptions.verifyPeer == false` a warning is
    /// logged to `logger` on every call.
    public static func connect(
        host: String,
        port: UInt16,
        security: TransportSecurity = .plain,
        timeout: Duration = .seconds(30),
        attemptTimeout: Duration? = nil,
        logger: Logger
    ) async throws -> Connection {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let addresses: [SocketAddress]
        if let numeric = SocketAddress(numericHost: host, port: port) {
            addresses = [numeric]
        } else {
            addresses = try await withTimeout(timeout, operation: "resolve \(host)") {
                try await Resolver.resolve(host: host, port: port)
            }
        }
        return try await connect(
            to: addresses, host: host, port: port, security: security, deadline: deadline,
            timeout: timeout, attemptTimeout: attemptTimeout, logger: logger)
    }

    /// `connect` after resolution (tests call it with chosen addresses).
    static func connect(
        to addresses: [SocketAddress], host: String, port: UInt16, security: TransportSecurity,
        deadline: ContinuousClock.Instant, timeout: Duration, attemptTimeout: Duration?, logger: Logger
    ) async throws -> Connection {
        let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var failures: [TransportError] = []
        var connected: (descriptor: Descriptor, address: SocketAddress)?
        for (index, address) in addresses.enumerated() {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                failures.append(.timedOut(operation: "connect to \(target)", after: timeout))
                break
            }
            let share = remaining / (addresses.count - index)
            let budget = attemptTimeout.map { min($0, remaining) } ?? share
            do {
                let descriptor = try await withTimeout(budget, operation: "connect to \(address)") {
                    try await connectOnce(to: address)
                }
                connected = (descriptor, address)
                break
            } catch var error as TransportError {
                // An attempt that had all the time left ran out of the
                // caller's timeout: report that one, not the remainder.
                if error.isTimeout {
                    error = .timedOut(operation: "connect to \(address)",
                                      after: budget >= remaining ? timeout : budget.roundedToMilliseconds)
                }
                logger.debug("connect attempt failed", ["address": address.description, "error": error.description])
                failures.append(error)
            }
        }
        guard let connected else {
            if failures.count == 1 { throw failures[0] }
            throw TransportError.allAddressesFailed(host: host, port: port, attempts: failures)
        }

        let descriptor = connected.descriptor
        let remote = connected.address.description
        let local = SocketCalls.localAddress(descriptor.fd)?.description ?? "?"
        guard case .tls(let options) = security else {
            logger.debug("connected", ["remote": remote, "local": local])
            return Connection(descriptor: descriptor, tls: nil, tlsInfo: nil,
                              remoteAddress: remote, localAddress: local, logger: logger)
        }

        let name = options.serverName ?? host
        let operation = "TLS handshake with \(remote)" + (name == connected.address.host ? "" : " as \(name)")
        if !options.verifyPeer {
            logger.warning("TLS certificate verification is disabled: anyone on the network path can read and alter this connection", [
                "host": host, "port": port, "remote": remote,
            ])
        }
        do {
            let session = try TLSSession(options: options, name: name, fd: descriptor.fd, operation: operation)
            let remaining = ContinuousClock.now.duration(to: deadline)
            do {
                try await withTimeout(remaining, operation: operation) {
                    try await descriptor.perform(operation) { _ in try session.handshakeStep(operation) }
                }
            } catch let error as TransportError where error.isTimeout {
                throw TransportError.timedOut(operation: operation, after: timeout)
            }
            let info = session.info
            logger.debug("connected", ["remote": remote, "local": local, "tls": info.description])
            return Connection(descriptor: descriptor, tls: session, tlsInfo: info,
                              remoteAddress: remote, localAddress: local, logger: logger)
        } catch {
            descriptor.close()
            throw error
        }
    }

    /// One non-blocking TCP connect, waiting for writability and reading
    /// `SO_ERROR`. The socket is closed on failure and on cancellation.
    static func connectOnce(to address: SocketAddress) async throws -> Descriptor {
        let operation = "connect to \(address)"
        let fd = try SocketCalls.makeStreamSocket(family: address.family, operation: operation)
        let descriptor: Descriptor
        do {
            try SocketCalls.configureConnected(fd, family: address.family, operation: operation)
            descriptor = try Descriptor(registering: fd, operation: operation)
        } catch {
            Glibc.close(fd)
            throw error
        }
        do {
            var started = false
            try await descriptor.perform(operation) { fd -> IOStep<Void> in
                if !started {
                    started = true
                    let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
                    if result == 0 { return .done(()) }
                    let code = errno
                    // EINTR: the connect goes on in the background, as EINPROGRESS.
                    guard code == EINPROGRESS || code == EINTR else {
                        throw TransportError.posix(operation, errno: code)
                    }
                    return .wait(.write)
                }
                let pending = try SocketCalls.intOption(fd, SOL_SOCKET, SO_ERROR, "\(operation): get SO_ERROR")
                if pending != 0 { throw TransportError.posix(operation, errno: pending) }
                // Not failed; connected only if the kernel has a peer yet.
                return SocketCalls.peerAddress(fd) != nil ? .done(()) : .wait(.write)
            }
            return descriptor
        } catch {
            descriptor.close()
            throw error
        }
    }
}

extension Duration {
    /// This duration rounded to whole milliseconds (for readable messages).
    var roundedToMilliseconds: Duration {
        .milliseconds(Int64((self / .milliseconds(1)).rounded()))
    }
}
