/// Every error `HTTPClient` and `HTTPResponseParser` throw (besides
/// `CancellationError` when the calling task is cancelled). `description`
/// is one line a person can act on, e.g.
///
///     TLS with matrix.example:443 failed: certificate verify failed: hostname mismatch
///     the response body is larger than the limit of 8388608 bytes (announced 10485760)
///
/// A non-2xx status is not an error: it is an `HTTPResponse` like any other.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL cannot be requested (scheme other than http/https, no host,
    /// credentials in it, characters that cannot go on the wire).
    case invalidURL(String, reason: String)
    /// The request cannot be sent as given (a header name or value with
    /// characters that would change the message, a header the client sets
    /// itself, a malformed method).
    case invalidRequest(String)
    /// The TCP connection could not be made; `reason` is the system's account
    /// (refused, unreachable, name not resolved).
    case connectFailed(host: String, port: UInt16, reason: String)
    /// The TLS handshake failed; `reason` says why, e.g. `certificate verify
    /// failed: hostname mismatch` or `... self-signed certificate`.
    case tlsFailed(host: String, port: UInt16, reason: String)
    /// `operation` (`"GET https://host/path"` or `"connect to host:port"`) did
    /// not finish within `after`.
    case timedOut(operation: String, after: Duration)
    /// The server closed the connection (or reset it) before sending any byte
    /// of the response. On a reused connection an idempotent request is
    /// retried once on a new one before this is thrown.
    case connectionClosedBeforeResponse(String)
    /// The server closed the connection in the middle of the response: the
    /// partial response is discarded, never returned as a success.
    case connectionClosedMidResponse(String)
    /// Reading or writing the connection failed (`reason`: the system's account).
    case connectionFailed(String)
    /// The response body is larger than the configured limit; `announced` is
    /// the `Content-Length` when the server declared one.
    case bodyTooLarge(limit: Int, announced: Int?)
    /// The status line and header fields (or the trailer section) are larger
    /// than the configured limit.
    case headersTooLarge(limit: Int)
    /// The server's bytes are not an HTTP/1.x response; `reason` says where.
    case malformedResponse(String)
    /// The client was shut down (`HTTPClient.shutdown()`).
    case shutDown

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "invalid URL \(url): \(reason)"
        case .invalidRequest(let reason):
            return "invalid request: \(reason)"
        case .connectFailed(let host, let port, let reason):
            return "connecting to \(hostPort(host, port)) failed: \(reason)"
        case .tlsFailed(let host, let port, let reason):
            return "TLS with \(hostPort(host, port)) failed: \(reason)"
        case .timedOut(let operation, let after):
            return "\(operation): timed out after \(after)"
        case .connectionClosedBeforeResponse(let detail):
            return "the server closed the connection before responding (\(detail))"
        case .connectionClosedMidResponse(let detail):
            return "the server closed the connection in the middle of the response: \(detail)"
        case .connectionFailed(let reason):
            return "connection failed: \(reason)"
        case .bodyTooLarge(let limit, let announced):
            return "the response body is larger than the limit of \(limit) bytes"
                + (announced.map { " (announced \($0))" } ?? "")
        case .headersTooLarge(let limit):
            return "the response header section is larger than the limit of \(limit) bytes"
        case .malformedResponse(let reason):
            return "malformed HTTP response: \(reason)"
        case .shutDown:
            return "the HTTP client was shut down"
        }
    }
}

/// `host:port`, with brackets around an IPv6 address.
func hostPort(_ host: String, _ port: UInt16) -> String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
}
