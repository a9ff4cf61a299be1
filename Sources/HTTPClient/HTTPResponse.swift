/// The status line and header fields of a response.
public struct HTTPResponseHead: Sendable, Equatable {
    /// The minor version of `HTTP/1.x` (0 or 1).
    public var minorVersion: Int
    /// The three-digit status code.
    public var status: Int
    /// The reason phrase (informational only; may be empty).
    public var reason: String
    /// The header fields, with case-insensitive lookup.
    public var headers: HTTPHeaders

    public init(minorVersion: Int = 1, status: Int, reason: String = "", headers: HTTPHeaders = [:]) {
        self.minorVersion = minorVersion
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

/// A complete response: only returned when the whole body arrived as
/// framed (`Content-Length` bytes, every chunk and the last chunk, or the
/// end of the stream for a body the server delimits by closing).
public struct HTTPResponse: Sendable, Equatable {
    /// The three-digit status code (`200`, `429`, ...). Interim 1xx responses
    /// are skipped, never returned.
    public var status: Int
    /// The reason phrase (`"Too Many Requests"`): for people only, may be empty.
    public var reason: String
    /// Header fields, with case-insensitive lookup (`headers["content-type"]`).
    public var headers: HTTPHeaders
    /// The body with the transfer coding removed (chunks joined). Content
    /// codings are not undone: the client sends no `Accept-Encoding`.
    public var body: [UInt8]
    /// Trailer fields after a chunked body (rarely used), else empty.
    public var trailers: HTTPHeaders

    public init(status: Int, reason: String = "", headers: HTTPHeaders = [:], body: [UInt8] = [],
                trailers: HTTPHeaders = [:]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body decoded as UTF-8 (invalid sequences replaced), for messages
    /// and text APIs.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
