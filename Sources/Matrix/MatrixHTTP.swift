import Foundation

/// One HTTP exchange as the Matrix client needs it. The client speaks to
/// the homeserver only through ``MatrixHTTPTransport``, so unit tests run it
/// against a scripted fake and the gateway plugs in the project's own
/// HTTP/1.1 client (target `HTTPClient`), with no package dependency here.
public struct MatrixHTTPRequest: Sendable, Hashable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?
    /// The whole exchange (connect, send, answer); a long-poll `/sync`
    /// asks for its poll time plus a margin.
    public var timeout: Duration

    public init(method: String, url: URL, headers: [String: String] = [:], body: Data? = nil,
                timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// The homeserver's answer: status and body (JSON for every endpoint used).
public struct MatrixHTTPResponse: Sendable, Hashable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}

/// Carries requests to a homeserver. `perform` throws for transport
/// failures (connect, TLS, timeout, closed mid-body); an HTTP error status
/// is an answer, not a throw.
public protocol MatrixHTTPTransport: Sendable {
    func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse
}
