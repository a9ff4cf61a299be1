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

    /// An answer status meaning: hold the request (a long poll with no news).
    static let hold = -1

    /// The answering closure, boxed: kept in a tuple inside the Mutex, the
    /// compiler's reabstraction thunks for it called each other until the
    /// stack overflowed (Swift 6.3, a closure returning a tuple).
    final class Box: Sendable {
        let answer: Answer
        init(_ answer: @escaping Answer) { self.answer = answer }
        func reply(_ seen: Seen) -> Reply {
            let (status, body) = answer(seen)
            return Reply(status: status, body: body)
        }
    }

    struct Reply: Sendable {
        var status: Int
        var body: JSONValue
    }

    private let requests = Mutex<[Seen]>([])
    private let box: Mutex<Box>
    private let down = Mutex(false)

    /// From now on no request reaches this fake (the process that talks to
    /// it died): each one is held unrecorded until its task is cancelled.
    func goDown() { down.withLock { $0 = true } }

    init(_ answer: @escaping Answer) { box = Mutex(Box(answer)) }

    var seen: [Seen] { requests.withLock { $0 } }

    func replace(_ answer: @escaping Answer) { box.withLock { $0 = Box(answer) } }

    /// What this fake answers to `seen`, without recording it (another fake
    /// that overrides a few paths falls back to this one).
    func answerForTests(_ seen: Seen) -> (Int, JSONValue) {
        let reply = box.withLock { $0 }.reply(seen)
        return (reply.status, reply.body)
    }

    func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        let prefix = "/_matrix/client/v3"
        let path = String(components.percentEncodedPath.dropFirst(prefix.count)).removingPercentEncoding!
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value }
        let body = request.body.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        let seen = Seen(request: request, path: path, query: query, body: body)
        let isDown = down.withLock { $0 }
        if !isDown { requests.withLock { $0.append(seen) } }
        let reply = isDown ? Reply(status: Self.hold, body: ok) : box.withLock { $0 }.reply(seen)
        let (status, json) = (reply.status, reply.body)
        if status == Self.hold {
            // A long poll with nothing to tell: held until the task is cancelled.
            let (stream, _) = AsyncStream<Void>.makeStream()
            for await _ in stream {}
            throw CancellationError()
        }
        return MatrixHTTPResponse(status: status, body: try JSONEncoder().encode(json))
    }
}

/// JSON from a literal (test data reads like the spec's examples).
func json(_ text: String) -> JSONValue {
    try! JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

let ok: JSONValue = .object([:])
