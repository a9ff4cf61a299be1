import Core
import Foundation
import StatusPage
import Transport

/// The gateway's HTTP endpoint: `/healthz`, `/metrics` (Prometheus text
/// format) and the status page: an `HTTPServer` that answers GET and HEAD
/// of the paths its handlers know, 404 for others and 405 for other
/// methods (POST only for `/login`). The server's limits keep it answering
/// while clients misbehave. Without a token it must listen on loopback only
/// (the configuration refuses anything else); with one, `access` demands it.
///
/// Every response carries `Content-Security-Policy` (scripts, styles and
/// fetches from this origin only, nothing inline, no framing),
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and
/// `Cache-Control: no-store`.
public final class HTTPEndpoint: Sendable {
    public typealias Response = HTTPResponse

    /// Answers a path (`/healthz`); nil is 404.
    public typealias Handler = @Sendable (String) async -> Response?
    /// Answers a request the path handler does not know (the status
    /// page); nil is 404.
    public typealias RequestHandler = @Sendable (HTTPRequest) async -> Response?

    /// The policy on every response: only this origin's script and style, no
    /// inline script or event handler, no plugins, frames or foreign forms.
    public static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; "
        + "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    private let server: HTTPServer
    private let logger: Logger

    public var port: UInt16 { server.port }

    /// What the server has done (connections, rejections, timeouts).
    public var statistics: HTTPServerStatistics { server.statistics }

    /// - Parameters:
    ///   - access: who may read (default: everyone; loopback only).
    ///   - pages: the status page's routes, asked after `handler`.
    public init(host: String, port: UInt16, limits: HTTPServerLimits = HTTPServerLimits(), logger: Logger,
                clock: any WallClock = SystemClock(), access: HTTPAccess = HTTPAccess(token: nil),
                pages: RequestHandler? = nil, handler: @escaping Handler) throws {
        var limits = limits
        if access.requiresToken { limits.maxBodyBytes = max(limits.maxBodyBytes, 2048) }  // the login form
        server = try HTTPServer(host: host, port: port, limits: limits, logger: logger, clock: clock) { request in
            var response = await Self.respond(to: request, access: access, pages: pages, handler: handler)
            response.headers += Self.securityHeaders
            return response
        }
        self.logger = logger
    }

    static let securityHeaders = [
        HTTPHeader("Content-Security-Policy", contentSecurityPolicy),
        HTTPHeader("X-Content-Type-Options", "nosniff"),
        HTTPHeader("Referrer-Policy", "no-referrer"),
        HTTPHeader("X-Frame-Options", "DENY"),
        HTTPHeader("Cache-Control", "no-store"),
    ]

    /// Accepts and answers requests until cancelled or closed.
    public func run() async {
        logger.info("http endpoint listening", ["address": server.address])
        await server.run()
    }

    public func close() { server.close() }

    /// `/login` first (with a token), then the token check, then GET and
    /// HEAD go to the handlers; everything else is refused.
    static func respond(to request: HTTPRequest, access: HTTPAccess, pages: RequestHandler?, handler: Handler)
        async -> Response
    {
        if access.requiresToken, request.path == "/login" { return login(request, access: access) }
        let open = request.path.hasPrefix("/static/")
        if !open, !access.authorizes(request) {
            return Response(status: 401, contentType: "text/html; charset=utf-8", body: StatusPageHTML.login(
                failed: request.header("Authorization") != nil),
                headers: [HTTPHeader("WWW-Authenticate", "Bearer realm=\"switchboard\"")])
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return Response(status: 405, body: "only GET and HEAD\n", headers: [HTTPHeader("Allow", "GET, HEAD")])
        }
        if let response = await handler(request.path) { return response }
        if let pages, let response = await pages(request) { return response }
        return Response(status: 404, body: "not found; try /healthz or /metrics\n")
    }

    /// `GET /login`: the form; `POST /login` with `token=…`: a session
    /// cookie and a redirect to `/`, or 401 and the form again.
    static func login(_ request: HTTPRequest, access: HTTPAccess) -> Response {
        let html = "text/html; charset=utf-8"
        switch request.method {
        case "GET", "HEAD":
            return Response(contentType: html, body: StatusPageHTML.login(failed: false))
        case "POST":
            let attempt = HTTPAccess.formValue("token", in: request.body) ?? ""
            guard let cookie = access.logIn(with: attempt) else {
                return Response(status: 401, contentType: html, body: StatusPageHTML.login(failed: true))
            }
            return Response(status: 303, body: "logged in\n",
                            headers: [HTTPHeader("Location", "/"), HTTPHeader("Set-Cookie", cookie)])
        default:
            return Response(status: 405, body: "only GET and POST\n", headers: [HTTPHeader("Allow", "GET, POST")])
        }
    }
}

/// Prometheus text exposition format (version 0.0.4).
public struct PrometheusText: Sendable {
    private(set) var text = ""

    public init() {}

    /// Adds a metric family with its samples (`labels` → value).
    public mutating func add(_ name: String, type: String, help: String,
                             samples: [(labels: [(String, String)], value: Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples {
            let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map {
                "\($0.0)=\"\(Self.escapeLabel($0.1))\""
            }.joined(separator: ",") + "}"
            text += "\(name)\(labels) \(Self.format(sample.value))\n"
        }
    }

    public mutating func add(_ name: String, type: String, help: String, value: Double) {
        add(name, type: type, help: help, samples: [([], value)])
    }

    public var rendered: String { text }

    static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
