import Core
import Foundation
import Transport

/// How an `HTTPClient` connects and what it accepts.
public struct HTTPClientConfiguration: Sendable {
    /// TLS for `https://` URLs. The default verifies the certificate chain
    /// against the system CA store and the host name against the URL's host;
    /// set `caFile` for a private CA (tests), `serverName` only when the
    /// certificate's name differs from the URL's host on purpose.
    public var tls: TLSOptions
    /// Connections open at once per origin (scheme, host, port); a request
    /// beyond that waits (within its timeout) for one to come back.
    public var maxConnectionsPerOrigin: Int
    /// An idle connection older than this is closed instead of reused.
    public var idleTimeout: Duration
    /// Bound on TCP connect plus TLS handshake (also bounded by the request's
    /// timeout).
    public var connectTimeout: Duration
    /// Limits on the response's header section and body.
    public var limits: HTTPResponseLimits
    /// Sent as `User-Agent` unless the request has one; nil sends none.
    public var userAgent: String?

    public init(
        tls: TLSOptions = TLSOptions(), maxConnectionsPerOrigin: Int = 4, idleTimeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(15), limits: HTTPResponseLimits = HTTPResponseLimits(),
        userAgent: String? = "Switchboard"
    ) {
        self.tls = tls
        self.maxConnectionsPerOrigin = maxConnectionsPerOrigin
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        self.limits = limits
        self.userAgent = userAgent
    }
}

/// An HTTP/1.1 client over the Transport target's sockets and TLS, for the
/// Matrix client-server API: keep-alive connections pooled per origin,
/// `Content-Length` and chunked response bodies, a timeout per request,
/// limits on what a response may make it hold.
///
/// ```swift
/// let http = HTTPClient()
/// let response = try await http.send(HTTPRequest(method: .get, url: URL(string: "https://matrix.example/_matrix/client/versions")!))
/// if response.status == 200 { ... response.body ... }
/// ```
///
/// ## Concurrency
/// `Sendable`; `send` may be called from any number of tasks at once. Each
/// request has a connection to itself for its whole exchange (no
/// pipelining); concurrent requests to one origin use up to
/// `maxConnectionsPerOrigin` connections and beyond that wait in order. All
/// I/O is the Transport target's non-blocking sockets: a waiting request
/// suspends its task and never blocks a thread of the cooperative pool.
/// Cancelling the task closes the request's connection and throws
/// `CancellationError`.
///
/// ## Long polls
/// A long poll (Matrix `GET /sync?timeout=30000`) holds its connection for
/// up to the server-side timeout. Give it a client of its own —
/// `HTTPClient(configuration:)` with `maxConnectionsPerOrigin: 1` — so it
/// keeps one warm connection for the poll loop and can never take a
/// connection the other requests (sends, joins) wait for; set the request's
/// `timeout` above the server's (e.g. 45 s for 30 s). The other requests go
/// through a second client.
///
/// ## Reuse and retries
/// A connection is reused only after a complete response that allows it (no
/// `Connection: close`, framed by length or chunks, nothing after it), and
/// only while it is younger than `idleTimeout` and the server has not closed
/// it (checked without waiting before each reuse). When a reused connection
/// still turns out to have been closed before any byte of the response came
/// (the server closed it as the request went out), an idempotent request
/// (`HTTPMethod.isIdempotent`) is sent once more on a new connection; a POST
/// is not (it may have been acted on), and any other failure is thrown.
///
/// ## Timeouts
/// `HTTPRequest.timeout` bounds the whole exchange on the injected `clock`
/// (tests use `ManualClock`); the connect step is also bounded by
/// `connectTimeout`.
public final class HTTPClient: Sendable {
    /// The settings the client was made with (fixed for its lifetime).
    public let configuration: HTTPClientConfiguration
    let pool: ConnectionPool
    let clock: any WallClock
    let logger: Logger

    /// A client with an empty pool: connections open on the first requests.
    /// `clock` times request deadlines and idle expiry (tests pass a
    /// `ManualClock`); `logger` gets one debug line per request (method,
    /// URL without query, status, size, duration; never header values).
    public init(
        configuration: HTTPClientConfiguration = HTTPClientConfiguration(), clock: any WallClock = SystemClock(),
        logger: Logger = .disabled
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        pool = ConnectionPool(limit: max(1, configuration.maxConnectionsPerOrigin),
                              idleTimeout: configuration.idleTimeout, clock: clock)
    }

    deinit { pool.shutdown() }

    /// Sends `request` and returns the complete response, whatever its
    /// status. Throws `HTTPClientError` (see its cases) or `CancellationError`.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let deadline = clock.now.advanced(by: request.timeout)
        let prepared = try PreparedRequest(request, userAgent: configuration.userAgent)
        let timeout = request.timeout
        let started = clock.now
        do {
            let response = try await withDeadline(deadline, clock: clock) {
                try await self.perform(prepared, deadline: deadline)
            } onTimeout: {
                HTTPClientError.timedOut(operation: prepared.summary, after: timeout)
            }
            logger.debug("HTTP response", [
                "request": prepared.summary, "status": response.status, "bytes": response.body.count,
                "duration": started.duration(to: clock.now),
            ])
            return response
        } catch let error as HTTPClientError {
            logger.debug("HTTP request failed", ["request": prepared.summary, "error": error.description])
            throw error
        }
    }

    /// Closes the idle connections; requests under way finish, later ones
    /// throw `HTTPClientError.shutDown`.
    public func shutdown() {
        pool.shutdown()
    }

    /// The exchange with retries, without the deadline (`send` adds it).
    private func perform(_ request: PreparedRequest, deadline: WallInstant) async throws -> HTTPResponse {
        var mayRetry = request.method.isIdempotent
        var reuse = true
        while true {
            let lease = try await pool.acquire(request.origin, reuse: reuse)
            let connection: Connection
            let reused: Bool
            switch lease {
            case .idle(let idle):
                connection = idle
                reused = true
            case .fresh:
                do {
                    connection = try await connect(request.origin, deadline: deadline)
                } catch {
                    pool.discard(request.origin)
                    throw error
                }
                reused = false
            }
            do {
                let (response, reusable) = try await exchange(request, on: connection)
                if reusable {
                    pool.release(request.origin, connection)
                } else {
                    connection.close()
                    pool.discard(request.origin)
                }
                return response
            } catch let stale as StaleConnection {
                connection.close()
                pool.discard(request.origin)
                if reused && mayRetry {
                    logger.debug("a reused connection was closed by the server; sending again on a new one", [
                        "request": request.summary, "error": stale.error.description,
                    ])
                    mayRetry = false
                    reuse = false
                    continue
                }
                throw stale.error
            } catch {
                connection.close()
                pool.discard(request.origin)
                throw error
            }
        }
    }

    /// Opens a connection to `origin` (TLS for https) within `connectTimeout`
    /// and what is left until `deadline`.
    private func connect(_ origin: Origin, deadline: WallInstant) async throws -> Connection {
        let remaining = clock.now.duration(to: deadline)
        let timeout = min(configuration.connectTimeout, max(remaining, .milliseconds(1)))
        do {
            return try await Connection.connect(
                host: origin.host, port: origin.port, security: origin.secure ? .tls(configuration.tls) : .plain,
                timeout: timeout, logger: logger)
        } catch let error as TransportError {
            if case .tls(_, let reason, _) = error {
                throw HTTPClientError.tlsFailed(host: origin.host, port: origin.port, reason: reason)
            }
            if error.isTimeout {
                throw HTTPClientError.timedOut(operation: "connect to \(hostPort(origin.host, origin.port))",
                                               after: timeout)
            }
            throw HTTPClientError.connectFailed(host: origin.host, port: origin.port, reason: error.description)
        }
    }

    /// Writes the request and reads one response. Returns it and whether the
    /// connection may be reused. Failures before any response byte that
    /// mean the server had closed the connection come as `StaleConnection`.
    private func exchange(_ request: PreparedRequest, on connection: Connection) async throws
        -> (HTTPResponse, Bool)
    {
        do {
            try await connection.write(request.bytes)
        } catch let error as TransportError {
            throw StaleConnection(error: .connectionFailed("\(request.summary): \(error.description)"))
        }
        var parser = HTTPResponseParser(limits: configuration.limits, isResponseToHead: request.method == .head)
        var response = HTTPResponse(status: 0)
        var receivedAny = false
        while !parser.isComplete {
            let bytes: [UInt8]
            do {
                bytes = try await connection.read(maxBytes: 65536)
            } catch let error as TransportError {
                let text = "\(request.summary): \(error.description)"
                if !receivedAny { throw StaleConnection(error: .connectionClosedBeforeResponse(text)) }
                throw HTTPClientError.connectionClosedMidResponse(text)
            }
            let parts: [HTTPResponsePart]
            if bytes.isEmpty {
                do {
                    parts = try parser.finish()
                } catch HTTPClientError.connectionClosedBeforeResponse {
                    throw StaleConnection(error: .connectionClosedBeforeResponse(request.summary))
                }
            } else {
                receivedAny = true
                parts = try parser.feed(bytes)
            }
            for part in parts {
                switch part {
                case .informational:
                    break
                case .head(let head):
                    response.status = head.status
                    response.reason = head.reason
                    response.headers = head.headers
                    if let length = head.headers["Content-Length"].flatMap({ Int($0) }),
                       length <= configuration.limits.maxBodyBytes {
                        response.body.reserveCapacity(length)
                    }
                case .body(let bytes):
                    response.body += bytes
                case .end(let trailers):
                    response.trailers = trailers
                }
            }
        }
        return (response, parser.isReusable)
    }
}

/// The server had closed a connection before the response began (a failed
/// write, or the end of the stream or a reset before the first byte):
/// retried once on a new connection when the request allows.
private struct StaleConnection: Error {
    let error: HTTPClientError
}
