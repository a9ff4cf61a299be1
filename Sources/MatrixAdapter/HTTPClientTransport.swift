import Core
import Foundation
import HTTPClient
import Matrix
import Transport

/// The project's HTTP/1.1 client as the Matrix session's transport.
public struct HTTPClientTransport: MatrixHTTPTransport {
    public let http: HTTPClient

    public init(_ http: HTTPClient) { self.http = http }

    /// Two clients for one homeserver: requests (a few pooled keep-alive
    /// connections) and the long-poll `/sync` (one connection of its own,
    /// so a 30-second poll never holds up a page).
    public static func pair(tls: TLSOptions = TLSOptions(), clock: any WallClock = SystemClock(), logger: Logger)
        -> (requests: HTTPClientTransport, sync: HTTPClientTransport)
    {
        let requests = HTTPClient(configuration: HTTPClientConfiguration(tls: tls, maxConnectionsPerOrigin: 4),
                                  clock: clock, logger: logger)
        let sync = HTTPClient(configuration: HTTPClientConfiguration(tls: tls, maxConnectionsPerOrigin: 1),
                              clock: clock, logger: logger)
        return (HTTPClientTransport(requests), HTTPClientTransport(sync))
    }

    public func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            headers.add(name: name, value: value)
        }
        let response = try await http.send(HTTPRequest(method: HTTPMethod(rawValue: request.method), url: request.url,
                                                       headers: headers, body: request.body.map { [UInt8]($0) },
                                                       timeout: request.timeout))
        return MatrixHTTPResponse(status: response.status, body: Data(response.body))
    }
}
