import Core
import Glibc
import TestSupport
import Testing
@testable import Transport

/// TCP client and listener over the loopback interfaces.
@Suite(.timeLimit(.minutes(1))) struct TCPTests {
    /// Accepts one connection, answers each line with "echo: <line>".
    func echoServer(_ listener: Listener) -> Task<Connection, any Error> {
        Task {
            let connection = try await listener.accept()
            Task {
                for try await line in connection.lines() {
                    try await connection.write(bytes("echo: " + text(line)! + "\r\n"))
                }
                connection.close()
            }
            return connection
        }
    }

    @Test func connectsOverIPv4AndDataFlowsBothWays() async throws {
        let listener = try Listener.bind(host: "127.0.0.1")
        defer { listener.close() }
        #expect(listener.address == "127.0.0.1:\(listener.port)")
        let accepted = echoServer(listener)
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        #expect(client.remoteAddress == "127.0.0.1:\(listener.port)")
        #expect(client.tlsInfo == nil)
        let serverSide = try await accepted.value
        #expect(serverSide.remoteAddress == client.localAddress)

        try await client.write(bytes("NICK switchboard\r\n"))
        var lines = client.lines().makeAsyncIterator()
        #expect(text(try await lines.next()) == "echo: NICK switchboard")
    }

    @Test func connectsOverIPv6Loopback() async throws {
        // Requires ::1. A machine without an IPv6 loopback fails here with
        // the bind error (EADDRNOTAVAIL / EAFNOSUPPORT), which says so.
        let listener = try Listener.bind(host: "::1")
        defer { listener.close() }
        #expect(listener.address == "[::1]:\(listener.port)")
        _ = echoServer(listener)
        let client = try await Connection.connect(host: "::1", port: listener.port, logger: .disabled)
        defer { client.close() }
        #expect(client.remoteAddress == "[::1]:\(listener.port)")
        try await client.write(bytes("PING :v6\n"))
        var lines = client.lines().makeAsyncIterator()
        #expect(text(try await lines.next()) == "echo: PING :v6")
    }

    @Test func everyTCPSocketHasNoDelayAndKeepAlive() async throws {
        let listener = try Listener.bind()
        defer { listener.close() }
        let accepted = Task { try await listener.accept() }
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        let server = try await accepted.value
        defer { client.close(); server.close() }
        for connection in [client, server] {
            let fd = connection.descriptor.fd
            #expect(try SocketCalls.intOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, "") == 1)
            #expect(try SocketCalls.intOption(fd, SOL_SOCKET, SO_KEEPALIVE, "") == 1)
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        }
    }

    @Test func connectionRefusedCarriesTheErrnoText() async throws {
        let port = try FreePort.next()  // nobody listens there
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(host: "127.0.0.1", port: port, logger: .disabled)
        }
        #expect(error?.errno == ECONNREFUSED)
        #expect(error?.description == "connect to 127.0.0.1:\(port): Connection refused (errno 111)")
    }

    @Test func resolvesLocalhost() async throws {
        let addresses = try await Resolver.resolve(host: "localhost", port: 6667)
        #expect(addresses.contains { $0.description == "127.0.0.1:6667" })

        let listener = try Listener.bind(host: "127.0.0.1")
        defer { listener.close() }
        _ = echoServer(listener)
        let client = try await Connection.connect(host: "localhost", port: listener.port, logger: .disabled)
        defer { client.close() }
        #expect(client.remoteAddress == "127.0.0.1:\(listener.port)")
    }

    @Test func anUnknownHostGivesANameResolutionError() async throws {
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(host: "no-such-host.invalid", port: 6667, logger: .disabled)
        }
        guard case .nameResolution(let host, _, let message) = error else {
            Issue.record("expected a name resolution error, got \(String(describing: error))")
            return
        }
        #expect(host == "no-such-host.invalid")
        #expect(!message.isEmpty)
        #expect(error?.description.hasPrefix("resolve no-such-host.invalid: ") == true)
    }

    /// A listener with backlog 0 that never accepts holds one connection in
    /// its queue; the kernel drops the SYNs of the next, so that connect
    /// hangs — a black hole on loopback that needs no firewall.
    func blackHole() async throws -> (Listener, Connection) {
        let listener = try Listener.bind(host: "127.0.0.1", backlog: 0)
        let filler = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        return (listener, filler)
    }

    @Test func connectTimesOutAgainstABlackHole() async throws {
        let (listener, filler) = try await blackHole()
        defer { filler.close(); listener.close() }
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(host: "127.0.0.1", port: listener.port, timeout: .milliseconds(300),
                                         logger: .disabled)
        }
        #expect(error == .timedOut(operation: "connect to 127.0.0.1:\(listener.port)", after: .milliseconds(300)))
        #expect(error?.description == "connect to 127.0.0.1:\(listener.port): timed out after 0.3 seconds")
    }

    @Test func aBlackHoledAddressIsGivenUpAfterItsAttemptTimeoutAndTheNextOneIsTried() async throws {
        let (hole, filler) = try await blackHole()
        defer { filler.close(); hole.close() }
        let listener = try Listener.bind(host: "127.0.0.1")
        defer { listener.close() }
        _ = echoServer(listener)
        let sink = MemoryLogSink()
        let addresses = [
            SocketAddress(numericHost: "127.0.0.1", port: hole.port)!,
            SocketAddress(numericHost: "127.0.0.1", port: listener.port)!,
        ]
        let client = try await Connection.connect(
            to: addresses, host: "irc.test", port: listener.port, security: .plain,
            deadline: .now + .seconds(30), timeout: .seconds(30), attemptTimeout: .milliseconds(200),
            logger: Logger(sink: sink, minimumLevel: .debug))
        defer { client.close() }
        #expect(client.remoteAddress == "127.0.0.1:\(listener.port)")
        #expect(sink.lines.contains { $0.contains("connect attempt failed") && $0.contains("timed out after 0.2 seconds") })
    }

    @Test func whenEveryAddressFailsEachFailureIsReported() async throws {
        let first = try FreePort.next()
        let second = try FreePort.next()
        let addresses = [
            SocketAddress(numericHost: "127.0.0.1", port: first)!,
            SocketAddress(numericHost: "::1", port: second)!,
        ]
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(
                to: addresses, host: "irc.test", port: 6667, security: .plain, deadline: .now + .seconds(30),
                timeout: .seconds(30), attemptTimeout: nil, logger: .disabled)
        }
        guard case .allAddressesFailed(let host, let port, let attempts) = error else {
            Issue.record("expected allAddressesFailed, got \(String(describing: error))")
            return
        }
        #expect(host == "irc.test" && port == 6667)
        #expect(attempts.map(\.errno) == [ECONNREFUSED, ECONNREFUSED])
        #expect(error?.description.hasPrefix("connect to irc.test:6667: all 2 addresses failed: connect to 127.0.0.1:\(first): Connection refused") == true)
    }

    @Test func acceptCanBeCancelledAndIsWokenByClose() async throws {
        let listener = try Listener.bind()
        let cancelled = Task { try await listener.accept() }
        #expect(await eventually { listener.descriptor.waiterCount == 1 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }

        let waiting = Task { try await listener.accept() }
        #expect(await eventually { listener.descriptor.waiterCount == 1 })
        listener.close()
        await #expect(throws: TransportError.closed(operation: "accept on \(listener.address)")) {
            try await waiting.value
        }
    }

    @Test func listenerErrorsSayWhatWasWrong() throws {
        let taken = try Listener.bind()
        defer { taken.close() }
        let inUse = #expect(throws: TransportError.self) { try Listener.bind(host: "127.0.0.1", port: taken.port) }
        #expect(inUse?.errno == EADDRINUSE)
        #expect(inUse?.description == "listen on 127.0.0.1:\(taken.port): bind: Address already in use (errno 98)")

        let named = #expect(throws: TransportError.self) { try Listener.bind(host: "localhost") }
        #expect(named?.description.contains("numeric IPv4 or IPv6 address") == true)
    }

    @Test func aPeerThatWentAwayGivesEOFThenAnErrorOnWriteButNoSignal() async throws {
        let listener = try Listener.bind()
        defer { listener.close() }
        let accepted = Task { try await listener.accept() }
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        try await accepted.value.close()
        #expect(try await client.read() == [])
        var failure: TransportError?
        for _ in 0..<100 {
            do {
                try await client.write(bytes("PRIVMSG #x :anyone?\r\n"))
            } catch let error as TransportError {
                failure = error
                break
            }
        }
        #expect(failure?.errno == EPIPE || failure?.errno == ECONNRESET, "\(String(describing: failure))")
    }
}
