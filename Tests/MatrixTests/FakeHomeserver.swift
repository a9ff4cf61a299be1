import Foundation
import Matrix
import Synchronization

/// A scripted homeserver: each request is recorded and answered by
/// `answer` (method, path without the prefix, query, JSON body).
final class FakeHomeserver: MatrixHTTPTransport, Sendable {
    struct Seen: Sendable {
        var request: MatrixHTTPRequest
        var method: String { request.method }
        /// `/sync`, `/rooms/!a:b/send/…` (decoded).
        var path: String
        var query: [String: String]
        var body: JSONValue?
        var token: String? {
            request.headers["Authorization"].map { String($0.dropFirst("Bearer ".count)) }
        }
    }

    typealias Answer = @Sendable (Seen) -> (Int, JSONValue)

    private let state: Mutex<(seen: [Seen], answer: Answer)>

    init(_ answer: @escaping Answer) { state = Mutex(([], answer)) }

    var seen: [Seen] { state.withLock { $0.seen } }

    func replace(_ answer: @escaping Answer) { state.withLock { $0.answer = answer } }

    func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        let prefix = "/_matrix/client/v3"
        let path = String(components.percentEncodedPath.dropFirst(prefix.count)).removingPercentEncoding!
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value }
        let body = request.body.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        let seen = Seen(request: request, path: path, query: query, body: body)
        let answer = state.withLock { state in
            state.seen.append(seen)
            return state.answer
        }
        let (status, json) = answer(seen)
        return MatrixHTTPResponse(status: status, body: try JSONEncoder().encode(json))
    }
}

/// JSON from a literal (test data reads like the spec's examples).
func json(_ text: String) -> JSONValue {
    try! JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

let ok: JSONValue = .object([:])
