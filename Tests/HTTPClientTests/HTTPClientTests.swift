import Core
import Foundation
import Synchronization
import TestSupport
import Testing
import Transport
@testable import HTTPClient

/// The client against a local server on 127.0.0.1 (`TestHTTPServer`):
/// keep-alive, framing, retries, limits, timeouts on a `ManualClock`.
@Suite(.timeLimit(.minutes(1))) struct HTTPClientTests {
    @Test func twoRequestsShareOneKeptAliveConnection() async throws {
        let server = try TestHTTPServer { request in .send(response(200, "you asked for \(request.target)")) }
        defer { server.stop() }
        let client = HTTPClient()
        let first = try await client.send(HTTPRequest(url: server.url("/_matrix/client/versions")))
        let second = try await client.send(HTTPRequest(url: server.url("/_matrix/client/v3/sync?since=s1&timeout=0")))
        #expect(first.status == 200 && first.bodyText == "you asked for /_matrix/client/versions")
        #expect(second.bodyText == "you asked for /_matrix/client/v3/sync?since=s1&timeout=0")
        #expect(server.connectionCount == 1)
        #expect(server.requests.map(\.connection) == [1, 1])
        let head = server.requests[0].head
        #expect(head.hasPrefix("GET /_matrix/client/versions HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"))
        #expect(server.requests[0].headers["User-Agent"] == "Switchboard")
    }

    @Test func aRequestBodyGoesWithContentLengthAndAChunkedAnswerComesBackWhole() async throws {
        let server = try TestHTTPServer { request in
            .send(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                + "3;x=y\r\n{\"e\r\n" + "F\r\nvent_id\":\"$abc\"\r\n" + "1\r\n}\r\n0\r\n\r\n"))
        }
        defer { server.stop() }
        let client = HTTPClient()
        let json = bytes("{\"msgtype\":\"m.notice\",\"body\":\"Grüße\"}")
        let answer = try await client.send(HTTPRequest(
            method: .put, url: server.url("/_matrix/client/v3/rooms/!r:x/send/m.room.message/txn1"),
            headers: ["Authorization": "Bearer secret", "Content-Type": "application/json"], body: json))
        #expect(answer.bodyText == "{\"event_id\":\"$abc\"}")
        #expect(answer.headers["content-type"] == "application/json")
        let seen = server.requests[0]
        #expect(seen.method == "PUT")
        #expect(seen.body == json)
        #expect(seen.headers["Content-Length"] == "\(json.count)")
        #expect(seen.headers["authorization"] == "Bearer secret")
        // Chunked and complete: the connection is reused.
        _ = try await client.send(HTTPRequest(url: server.url("/again")))
        #expect(server.connectionCount == 1)
    }

    @Test func aPostWithoutBodySendsContentLengthZero() async throws {
        let server = try TestHTTPServer { _ in .send(response(200, "{}")) }
        defer { server.stop() }
        _ = try await HTTPClient().send(HTTPRequest(method: .post, url: server.url("/_matrix/client/v3/join/!r:x")))
        #expect(server.requests[0].headers["Content-Length"] == "0")
    }

    @Test func connectionCloseIsHonoured() async throws {
        let server = try TestHTTPServer { _ in .sendAndClose(response(200, "bye", headers: ["Connection: close"])) }
        defer { server.stop() }
        let client = HTTPClient()
        #expect(try await client.send(HTTPRequest(url: server.url("/a"))).bodyText == "bye")
        #expect(try await client.send(HTTPRequest(url: server.url("/b"))).bodyText == "bye")
        #expect(server.requests.map(\.connection) == [1, 2])
    }

    @Test func aConnectionTheServerClosedWhileIdleIsNotReused() async throws {
        // The server closes after its answer without saying so.
        let server = try TestHTTPServer { _ in .sendAndClose(response(200, "ok")) }
        defer { server.stop() }
        let client = HTTPClient()
        _ = try await client.send(HTTPRequest(url: server.url("/first")))
        await server.waitForClosedConnections(1)
        // Even a POST (never retried) goes through: the closed connection is
        // noticed before it is reused.
        let created = try await client.send(HTTPRequest(method: .post, url: server.url("/createRoom"), body: bytes("{}")))
        #expect(created.bodyText == "ok")
        #expect(server.requests.map(\.target) == ["/first", "/createRoom"])
        #expect(server.requests.map(\.connection) == [1, 2])
    }

    @Test func anIdempotentRequestOnAConnectionClosedAsItWentOutIsSentAgainOnce() async throws {
        // The server reads the request on the kept-alive connection and closes
        // it without a byte of answer, as a server does whose idle timeout
        // fires just as the request arrives.
        let server = try TestHTTPServer { request in
            request.connection == 1 && request.target != "/first" ? .close : .send(response(200, "ok"))
        }
        defer { server.stop() }
        let client = HTTPClient()
        _ = try await client.send(HTTPRequest(url: server.url("/first")))
        let retried = try await client.send(HTTPRequest(method: .put, url: server.url("/send/txn2"), body: bytes("{}")))
        #expect(retried.bodyText == "ok")
        #expect(server.requests.map(\.target) == ["/first", "/send/txn2", "/send/txn2"])
        #expect(server.requests.map(\.connection) == [1, 1, 2])
    }

    @Test func aPostOnAConnectionClosedAsItWentOutIsNotSentTwice() async throws {
        // The kept-alive connection closes as the POST arrives on it.
        let server = try TestHTTPServer { request in
            request.connection == 1 && request.target != "/first" ? .close : .send(response(200, "ok"))
        }
        defer { server.stop() }
        let client = HTTPClient()
        _ = try await client.send(HTTPRequest(url: server.url("/first")))
        await #expect {
            try await client.send(HTTPRequest(method: .post, url: server.url("/createRoom"), body: bytes("{}")))
        } throws: { error in
            guard case HTTPClientError.connectionClosedBeforeResponse(let detail)? = error as? HTTPClientError else {
                return false
            }
            return detail.contains("POST http://127.0.0.1:\(server.port)/createRoom")
        }
        // Sent once, on the kept-alive connection; no second connection.
        #expect(server.requests.map(\.target) == ["/first", "/createRoom"])
        #expect(server.requests.map(\.connection) == [1, 1])
        #expect(server.connectionCount == 1)
    }

    @Test func aServerThatClosesMidBodyGivesAnErrorNotAShortBody() async throws {
        let server = try TestHTTPServer { _ in
            .sendAndClose(bytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":"))
        }
        defer { server.stop() }
        await #expect {
            try await HTTPClient().send(HTTPRequest(url: server.url("/sync")))
        } throws: { error in
            guard case HTTPClientError.connectionClosedMidResponse(let detail)? = error as? HTTPClientError else {
                return false
            }
            return detail.contains("after 11 of 100 body bytes")
        }
    }

    @Test func aTenMegabyteBodyIsRefusedWithAClearError() async throws {
        let tenMB = 10 * 1024 * 1024
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: tenMB)
        let server = try TestHTTPServer { request in
            switch request.target {
            case "/announced": .send(bytes("HTTP/1.1 200 OK\r\nContent-Length: \(tenMB)\r\n\r\n") + payload)
            default: .send(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA00000\r\n") + payload
                + bytes("\r\n0\r\n\r\n"))
            }
        }
        defer { server.stop() }
        let client = HTTPClient()
        // Refused at the head or the chunk size, before the body is read.
        await #expect(throws: HTTPClientError.bodyTooLarge(limit: 8 * 1024 * 1024, announced: tenMB)) {
            try await client.send(HTTPRequest(url: server.url("/announced")))
        }
        await #expect(throws: HTTPClientError.bodyTooLarge(limit: 8 * 1024 * 1024, announced: nil)) {
            try await client.send(HTTPRequest(url: server.url("/chunked")))
        }
        let message = HTTPClientError.bodyTooLarge(limit: 8 * 1024 * 1024, announced: tenMB).description
        #expect(message == "the response body is larger than the limit of 8388608 bytes (announced 10485760)")
        // Nothing of a refused response is reused.
        #expect(client.pool.openCount(Origin(secure: false, host: "127.0.0.1", port: server.port)) == 0)
    }

    @Test func aBodyWithoutLengthIsCutOffAtTheConfiguredLimit() async throws {
        let limit = 256 * 1024
        let server = try TestHTTPServer { request in
            let size = request.target == "/fits" ? limit : limit + 1
            return .sendAndClose(bytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                + [UInt8](repeating: UInt8(ascii: "y"), count: size))
        }
        defer { server.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(limits: HTTPResponseLimits(maxBodyBytes: limit)))
        #expect(try await client.send(HTTPRequest(url: server.url("/fits"))).body.count == limit)
        await #expect(throws: HTTPClientError.bodyTooLarge(limit: limit, announced: nil)) {
            try await client.send(HTTPRequest(url: server.url("/over")))
        }
    }

    @Test func aHeaderSectionAboveTheLimitIsRefused() async throws {
        let server = try TestHTTPServer { _ in
            .send(response(200, "{}", headers: ["X-Padding: " + String(repeating: "p", count: 70_000)]))
        }
        defer { server.stop() }
        await #expect(throws: HTTPClientError.headersTooLarge(limit: 64 * 1024)) {
            try await HTTPClient().send(HTTPRequest(url: server.url("/")))
        }
    }

    @Test func aRequestTimesOutAtItsDeadlineOnTheInjectedClock() async throws {
        let server = try TestHTTPServer { _ in .hold }
        defer { server.stop() }
        let clock = ManualClock()
        let client = HTTPClient(clock: clock)
        let url = server.url("/_matrix/client/v3/sync?timeout=30000&access_token=secret")
        let sending = Task { try await client.send(HTTPRequest(url: url, timeout: .seconds(45))) }
        _ = await server.waitForRequests(1)
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(44))
        // Not yet: the deadline still waits.
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        let result = await sending.result
        let expected = HTTPClientError.timedOut(
            operation: "GET http://127.0.0.1:\(server.port)/_matrix/client/v3/sync", after: .seconds(45))
        #expect(throws: expected) { try result.get() }
        // The query (with its token) is not in the message.
        #expect(!expected.description.contains("secret"))
        // The timed-out connection is not reused.
        #expect(client.pool.openCount(Origin(secure: false, host: "127.0.0.1", port: server.port)) == 0)
    }

    @Test func waitingForAConnectionCountsAgainstTheTimeout() async throws {
        let gate = Gate()
        let server = try TestHTTPServer { request in
            if request.target == "/slow" { await gate.wait() }
            return .send(response(200, request.target))
        }
        defer { server.stop() }
        let clock = ManualClock()
        let client = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerOrigin: 1), clock: clock)
        let slow = Task { try await client.send(HTTPRequest(url: server.url("/slow"), timeout: .seconds(100))) }
        _ = await server.waitForRequests(1)
        let queued = Task { try await client.send(HTTPRequest(url: server.url("/queued"), timeout: .seconds(10))) }
        // Two sleepers: the deadlines of both requests.
        #expect(await clock.waitForSleepers(2))
        clock.advance(by: .seconds(10))
        await #expect(throws: HTTPClientError.self) { try await queued.value }
        gate.open()
        #expect(try await slow.value.bodyText == "/slow")
        #expect(server.requests.map(\.target) == ["/slow"])
    }

    @Test func requestsBeyondTheLimitWaitForTheConnectionAndReuseIt() async throws {
        let gate = Gate()
        let server = try TestHTTPServer { request in
            if request.target == "/first" { await gate.wait() }
            return .send(response(200, request.target))
        }
        defer { server.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerOrigin: 1))
        let first = Task { try await client.send(HTTPRequest(url: server.url("/first"))) }
        _ = await server.waitForRequests(1)
        let second = Task { try await client.send(HTTPRequest(url: server.url("/second"))) }
        gate.open()
        #expect(try await first.value.bodyText == "/first")
        #expect(try await second.value.bodyText == "/second")
        #expect(server.requests.map(\.connection) == [1, 1])
    }

    @Test func manyConcurrentRequestsUseNoMoreConnectionsThanTheLimit() async throws {
        let gate = Gate()
        let server = try TestHTTPServer { request in
            await gate.wait()
            return .send(response(200, request.target))
        }
        defer { server.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerOrigin: 2))
        let origin = Origin(secure: false, host: "127.0.0.1", port: server.port)
        func start(_ number: Int) -> Task<HTTPResponse, any Error> {
            Task { try await client.send(HTTPRequest(url: server.url("/\(number)"))) }
        }
        var tasks = [start(1), start(2)]
        _ = await server.waitForRequests(2)
        tasks += (3...10).map(start)
        for _ in 0..<100_000 where client.pool.waiterCount(origin) < 8 { await Task.yield() }
        #expect(client.pool.waiterCount(origin) == 8)
        #expect(client.pool.openCount(origin) == 2)
        // One waiting request is cancelled: it leaves the queue, nothing leaks.
        tasks[9].cancel()
        await #expect(throws: CancellationError.self) { try await tasks[9].value }
        gate.open()
        for (index, task) in tasks.prefix(9).enumerated() {
            #expect(try await task.value.bodyText == "/\(index + 1)")
        }
        #expect(server.connectionCount == 2)
        #expect(server.requests.count == 9)
        #expect(client.pool.openCount(origin) == 2 && client.pool.idleCount(origin) == 2)
    }

    @Test func aLongPollOnItsOwnClientLeavesTheOtherRequestsFree() async throws {
        let syncAnswered = Gate()
        let server = try TestHTTPServer { request in
            if request.target.hasPrefix("/sync") { await syncAnswered.wait() }
            return .send(response(200, request.target))
        }
        defer { server.stop() }
        let poller = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerOrigin: 1))
        let client = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerOrigin: 1))
        let poll = Task { try await poller.send(HTTPRequest(url: server.url("/sync?timeout=30000"), timeout: .seconds(45))) }
        _ = await server.waitForRequests(1)
        // While the poll is held, sends go through on the other connection.
        for number in 1...3 {
            let sent = try await client.send(HTTPRequest(method: .put, url: server.url("/send/\(number)"), body: bytes("{}")))
            #expect(sent.bodyText == "/send/\(number)")
        }
        syncAnswered.open()
        #expect(try await poll.value.bodyText == "/sync?timeout=30000")
        let byConnection = Dictionary(grouping: server.requests, by: \.connection).mapValues { $0.map(\.target) }
        #expect(byConnection == [1: ["/sync?timeout=30000"], 2: ["/send/1", "/send/2", "/send/3"]])
    }

    @Test func aRefusedConnectionSaysSo() async throws {
        // A port bound but not listening refuses connects, and stays ours:
        // a stopped server's port could be taken by another test's listener
        // running at the same time, which would then get this connect.
        let (socket, port) = try boundNotListening()
        defer { close(socket) }
        await #expect {
            try await HTTPClient().send(HTTPRequest(url: URL(string: "http://127.0.0.1:\(port)/")!))
        } throws: { error in
            guard case HTTPClientError.connectFailed(let host, let failedPort, let reason)? = error as? HTTPClientError
            else { return false }
            return host == "127.0.0.1" && failedPort == port && reason.contains("Connection refused")
        }
    }

    @Test func unsafeRequestsAreRefusedBeforeAnythingIsSent() async throws {
        let server = try TestHTTPServer { _ in .send(response()) }
        defer { server.stop() }
        let client = HTTPClient()
        await #expect(throws: HTTPClientError.invalidRequest("the value of header X-Name contains a control character")) {
            try await client.send(HTTPRequest(url: server.url("/"), headers: ["X-Name": "a\r\nX-Injected: 1"]))
        }
        await #expect(throws: HTTPClientError.invalidRequest("the header name \"Bad Name\" is not an HTTP token")) {
            try await client.send(HTTPRequest(url: server.url("/"), headers: ["Bad Name": "x"]))
        }
        await #expect(throws: HTTPClientError.invalidRequest("the header Content-Length is set by the HTTP client, not by the request")) {
            try await client.send(HTTPRequest(url: server.url("/"), headers: ["content-length": "5"]))
        }
        await #expect(throws: HTTPClientError.invalidRequest("the method \"GET /x HTTP/1.1\\r\\n\" is not an HTTP token")) {
            try await client.send(HTTPRequest(method: HTTPMethod(rawValue: "GET /x HTTP/1.1\r\n"), url: server.url("/")))
        }
        await #expect(throws: HTTPClientError.invalidURL("ftp://127.0.0.1/", reason: "the scheme must be http or https")) {
            try await client.send(HTTPRequest(url: URL(string: "ftp://127.0.0.1/")!))
        }
        await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPRequest(url: URL(string: "http://user:pw@127.0.0.1:\(server.port)/")!))
        }
        #expect(server.connectionCount == 0)
    }

    @Test func aConnectionIdleLongerThanTheIdleTimeoutIsNotReused() async throws {
        let server = try TestHTTPServer { _ in .send(response(200, "ok")) }
        defer { server.stop() }
        let clock = ManualClock()
        let client = HTTPClient(configuration: HTTPClientConfiguration(idleTimeout: .seconds(30)), clock: clock)
        _ = try await client.send(HTTPRequest(url: server.url("/1")))
        clock.advance(by: .seconds(29))
        _ = try await client.send(HTTPRequest(url: server.url("/2")))
        clock.advance(by: .seconds(30))
        _ = try await client.send(HTTPRequest(url: server.url("/3")))
        #expect(server.requests.map(\.connection) == [1, 1, 2])
        #expect(client.pool.openCount(Origin(secure: false, host: "127.0.0.1", port: server.port)) == 1)
    }

    @Test func afterShutdownRequestsAreRefused() async throws {
        let server = try TestHTTPServer { _ in .send(response(200, "ok")) }
        defer { server.stop() }
        let client = HTTPClient()
        _ = try await client.send(HTTPRequest(url: server.url("/1")))
        client.shutdown()
        #expect(client.pool.idleCount(Origin(secure: false, host: "127.0.0.1", port: server.port)) == 0)
        await #expect(throws: HTTPClientError.shutDown) {
            try await client.send(HTTPRequest(url: server.url("/2")))
        }
    }

    @Test func theLogSaysWhatWasAskedAndAnsweredButNoSecret() async throws {
        let server = try TestHTTPServer { _ in .send(response(401, "{\"errcode\":\"M_UNKNOWN_TOKEN\"}")) }
        defer { server.stop() }
        let sink = MemoryLogSink()
        let client = HTTPClient(logger: Logger(sink: sink, minimumLevel: .debug))
        let answer = try await client.send(HTTPRequest(
            url: server.url("/_matrix/client/v3/account/whoami?access_token=querysecret"),
            headers: ["Authorization": "Bearer headersecret"]))
        // A 401 is an answer, not an error: the caller reads the Matrix errcode.
        #expect(answer.status == 401 && !answer.isSuccess)
        let logged = sink.lines.joined(separator: "\n")
        #expect(logged.contains("/_matrix/client/v3/account/whoami") && logged.contains("401"))
        #expect(!logged.contains("querysecret") && !logged.contains("headersecret"))
    }

    @Test func cancellingTheTaskEndsTheRequest() async throws {
        let server = try TestHTTPServer { _ in .hold }
        defer { server.stop() }
        let client = HTTPClient()
        let sending = Task { try await client.send(HTTPRequest(url: server.url("/held"))) }
        _ = await server.waitForRequests(1)
        sending.cancel()
        await #expect(throws: CancellationError.self) { try await sending.value }
    }
}

/// A TCP socket bound to a free loopback port without `listen`: connects to
/// it are refused (RST) while the socket holds the port.
func boundNotListening() throws -> (Int32, UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else {
        let code = errno
        close(fd)
        throw POSIXError(.init(rawValue: code) ?? .EIO)
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}
