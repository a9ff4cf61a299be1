import Core
import Foundation
import Transport

/// The gateway's loopback endpoint for `/healthz` and `/metrics`
/// (Prometheus text format): an `HTTPServer` that answers GET and HEAD of
/// the paths its handler knows, 404 for others and 405 for other methods.
/// The server's limits keep it answering while clients misbehave. It must
/// only listen on loopback (the configuration refuses anything else).
public final class HTTPEndpoint: Sendable {
    public typealias Response = HTTPResponse

    /// Answers a path (`/healthz`); nil is 404.
    public typealias Handler = @Sendable (String) async -> Response?

    private let server: HTTPServer
    private let logger: Logger

    public var port: UInt16 { server.port }

    /// What the server has done (connections, rejections, timeouts).
    public var statistics: HTTPServerStatistics { server.statistics }

    public init(host: String, port: UInt16, limits: HTTPServerLimits = HTTPServerLimits(), logger: Logger,
                clock: any WallClock = SystemClock(), handler: @escaping Handler) throws {
        server = try HTTPServer(host: host, port: port, limits: limits, logger: logger, clock: clock) { request in
            await Self.respond(to: request, handler: handler)
        }
        self.logger = logger
    }

    /// Accepts and answers requests until cancelled or closed.
    public func run() async {
        logger.info("http endpoint listening", ["address": server.address])
        await server.run()
    }

    public func close() { server.close() }

    /// GET and HEAD go to the handler; everything else is refused.
    static func respond(to request: HTTPRequest, handler: Handler) async -> Response {
        guard request.method == "GET" || request.method == "HEAD" else {
            return Response(status: 405, body: "only GET and HEAD\n", headers: [HTTPHeader("Allow", "GET, HEAD")])
        }
        return await handler(request.path) ?? Response(status: 404, body: "not found; try /healthz or /metrics\n")
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
