import Foundation

/// An HTTP method (RFC 9110 §9). Any token is allowed; the common ones are
/// constants.
public struct HTTPMethod: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The method as sent (case matters: `GET`, not `get`). Checked to be a
    /// token when the request is sent.
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public static let get: HTTPMethod = "GET"
    public static let head: HTTPMethod = "HEAD"
    public static let post: HTTPMethod = "POST"
    public static let put: HTTPMethod = "PUT"
    public static let delete: HTTPMethod = "DELETE"
    public static let options: HTTPMethod = "OPTIONS"
    public static let patch: HTTPMethod = "PATCH"

    /// Whether sending the request twice has the effect of sending it once
    /// (RFC 9110 §9.2.2): only such requests are retried automatically when
    /// a reused connection turns out to have been closed by the server.
    /// Matrix's `PUT /send/{type}/{txnId}` is idempotent by its transaction id.
    public var isIdempotent: Bool {
        ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].contains(rawValue)
    }

    public var description: String { rawValue }
}

/// One request. The client adds `Host`, `Content-Length` and (unless
/// configured off) `User-Agent`; `headers` must not carry those framing
/// fields itself (`Host`, `Content-Length`, `Transfer-Encoding`,
/// `Connection`), and no name or value may contain CR, LF or other control
/// characters: such a request fails with `HTTPClientError.invalidRequest`
/// before anything is sent.
public struct HTTPRequest: Sendable {
    /// What to do; only idempotent methods are retried (see `HTTPMethod.isIdempotent`).
    public var method: HTTPMethod
    /// `http://` or `https://`; the path and query are sent as they are
    /// percent-encoded in the URL, the fragment never.
    public var url: URL
    /// Fields sent after `Host` and `User-Agent`, in this order (e.g.
    /// `Authorization`, `Content-Type`).
    public var headers: HTTPHeaders
    /// The body, sent with `Content-Length`. nil sends none (and
    /// `Content-Length: 0` for POST, PUT and PATCH, as servers expect).
    public var body: [UInt8]?
    /// The whole exchange must finish within this: waiting for a pooled
    /// connection, connecting (TCP and TLS), sending, and receiving the whole
    /// response. For a long poll such as Matrix `/sync?timeout=30000` give it
    /// the server-side timeout plus a margin (e.g. 45 s).
    public var timeout: Duration

    public init(
        method: HTTPMethod = .get, url: URL, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// `"GET https://host/path"` for messages and logs: the query (which may
    /// hold an access token) and any credentials are left out.
    var summary: String { "\(method) \(redacted(url))" }
}

/// `url` without query, fragment and credentials, for messages and logs.
func redacted(_ url: URL) -> String {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "(unparsable URL)" }
    let hadSecrets = components.user != nil || components.password != nil
    components.user = nil
    components.password = nil
    components.query = nil
    components.fragment = nil
    let shown = components.string ?? "(unparsable URL)"
    return hadSecrets ? shown + " (credentials removed)" : shown
}

/// Where a request goes: the pool's key.
struct Origin: Hashable, Sendable, CustomStringConvertible {
    let secure: Bool
    let host: String
    let port: UInt16

    var description: String { (secure ? "https://" : "http://") + hostPort(host, port) }
}

/// A request checked and turned into wire bytes (RFC 9112 §3, §6).
struct PreparedRequest: Sendable {
    let origin: Origin
    let bytes: [UInt8]
    let method: HTTPMethod
    let summary: String

    init(_ request: HTTPRequest, userAgent: String?) throws {
        let url = request.url
        let shown = redacted(url)
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw HTTPClientError.invalidURL(shown, reason: "it cannot be parsed")
        }
        let scheme = components.scheme.map { asciiLowercased($0) }
        guard scheme == "http" || scheme == "https" else {
            throw HTTPClientError.invalidURL(shown, reason: "the scheme must be http or https")
        }
        guard var host = components.host, !host.isEmpty else { throw HTTPClientError.invalidURL(shown, reason: "it has no host") }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard components.user == nil && components.password == nil else {
            throw HTTPClientError.invalidURL(shown, reason: "credentials in the URL are not sent; use an Authorization header")
        }
        let secure = scheme == "https"
        let defaultPort: UInt16 = secure ? 443 : 80
        var port = defaultPort
        if let given = components.port {
            guard let valid = UInt16(exactly: given), valid > 0 else {
                throw HTTPClientError.invalidURL(shown, reason: "port \(given) is out of range")
            }
            port = valid
        }
        var target = components.percentEncodedPath
        if target.isEmpty { target = "/" }
        if let query = components.percentEncodedQuery { target += "?" + query }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPClientError.invalidURL(shown, reason: "the path or query has characters that are not percent-encoded")
        }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
            throw HTTPClientError.invalidURL(shown, reason: "the host has characters that cannot be sent")
        }

        let method = request.method.rawValue
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else {
            throw HTTPClientError.invalidRequest("the method \(method.debugDescription) is not an HTTP token")
        }
        for field in request.headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(isTokenByte) else {
                throw HTTPClientError.invalidRequest("the header name \(field.name.debugDescription) is not an HTTP token")
            }
            // RFC 9110 §5.5: field-value = VCHAR / obs-text / SP / HTAB; CR, LF and NUL would split the message.
            guard field.value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPClientError.invalidRequest("the value of header \(field.name) contains a control character")
            }
            for reserved in ["Host", "Content-Length", "Transfer-Encoding", "Connection"]
            where HTTPHeaders.sameName(field.name, reserved) {
                throw HTTPClientError.invalidRequest("the header \(reserved) is set by the HTTP client, not by the request")
            }
        }
        if let userAgent {
            guard userAgent.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                throw HTTPClientError.invalidRequest("the User-Agent contains a control character")
            }
        }

        let hostHeader = (host.contains(":") ? "[\(host)]" : host) + (port == defaultPort ? "" : ":\(port)")
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        if let userAgent, !request.headers.contains("User-Agent") { head += "User-Agent: \(userAgent)\r\n" }
        for field in request.headers { head += "\(field.name): \(field.value)\r\n" }
        if let body = request.body {
            head += "Content-Length: \(body.count)\r\n"
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body = request.body { bytes += body }

        self.origin = Origin(secure: secure, host: host, port: port)
        self.bytes = bytes
        self.method = request.method
        self.summary = request.summary
    }
}
