// HTTP client benchmark: request round trips over a kept-alive connection
// and over a new connection each time, concurrent requests through the
// pool, and large bodies, against a minimal HTTP/1.1 server on 127.0.0.1 in
// the same process. Run release-built:
//     swift run -c release HTTPClientBench
// Numbers depend on the machine and its load; report them with how you ran.
import Core
import Foundation
import HTTPClient
import Synchronization
import Transport

/// The answer to a send, like a homeserver's.
let smallBody = Array("{\"event_id\":\"$abcdefghijklmn\"}".utf8)

/// Connections the server accepted, to show which runs reused them.
let accepted = Atomic<Int>(0)

func seconds(_ duration: Duration) -> Double { duration.timeInterval }

/// Answers every request on every connection: `/big` with `bigSize` bytes,
/// anything else with a small JSON body like a Matrix send response.
func serve(_ listener: Listener, bigSize: Int) async {
    let small = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(smallBody.count)\r\n\r\n".utf8)
        + smallBody
    let big = Array("HTTP/1.1 200 OK\r\nContent-Length: \(bigSize)\r\n\r\n".utf8) + [UInt8](repeating: 0x61, count: bigSize)
    let blank = Array("\r\n\r\n".utf8)
    await withTaskGroup(of: Void.self) { group in
        while let connection = try? await listener.accept() {
            accepted.add(1, ordering: .relaxed)
            group.addTask {
                defer { connection.close() }
                var buffer: [UInt8] = []
                while true {
                    guard let end = buffer.firstRange(of: blank)?.upperBound else {
                        guard let bytes = try? await connection.read(maxBytes: 65536), !bytes.isEmpty else { return }
                        buffer += bytes
                        continue
                    }
                    let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    guard buffer.count >= end + length else {
                        guard let bytes = try? await connection.read(maxBytes: 65536), !bytes.isEmpty else { return }
                        buffer += bytes
                        continue
                    }
                    let isBig = head.hasPrefix("get /big ")
                    buffer.removeFirst(end + length)
                    guard (try? await connection.write(isBig ? big : small)) != nil else { return }
                }
            }
        }
    }
}

func report(_ name: String, _ samples: [Double]) {
    defer { lastAccepted = accepted.load(ordering: .relaxed) }
    let connections = accepted.load(ordering: .relaxed) - lastAccepted
    let sorted = samples.sorted()
    func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1e6 }
    print(String(format: "%@ (%d requests, %d connections): median %.1f µs, p90 %.1f µs, p99 %.1f µs", name,
                 sorted.count, connections, percentile(0.5), percentile(0.9), percentile(0.99)))
}

func timedRequests(_ client: HTTPClient, _ url: URL, count: Int) async throws -> [Double] {
    let clock = ContinuousClock()
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let start = clock.now
        let response = try await client.send(HTTPRequest(method: .put, url: url, body: Array("{\"msgtype\":\"m.notice\",\"body\":\"hi\"}".utf8)))
        precondition(response.status == 200 && response.body == smallBody)
        samples.append(seconds(start.duration(to: clock.now)))
    }
    return samples
}

nonisolated(unsafe) var lastAccepted = 0
let bigSize = 8 * 1024 * 1024 - 1
let listener = try Listener.bind()
let server = Task { await serve(listener, bigSize: bigSize) }
let base = "http://127.0.0.1:\(listener.port)"
let sendURL = URL(string: base + "/_matrix/client/v3/rooms/%21r%3Ax/send/m.room.message/txn")!

// Kept alive: one connection for every request.
let keptAlive = HTTPClient()
_ = try await timedRequests(keptAlive, sendURL, count: 500)
lastAccepted = accepted.load(ordering: .relaxed)
report("PUT round trip, kept-alive connection", try await timedRequests(keptAlive, sendURL, count: 20_000))

// A new connection per request (idle timeout zero: nothing is reused).
let fresh = HTTPClient(configuration: HTTPClientConfiguration(idleTimeout: .zero))
report("PUT round trip, new TCP connection each", try await timedRequests(fresh, sendURL, count: 2_000))

// Concurrent: 16 tasks through a pool of 4 connections.
let pooled = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerOrigin: 4))
let clock = ContinuousClock()
let start = clock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for _ in 0..<16 { group.addTask { _ = try await timedRequests(pooled, sendURL, count: 2_000) } }
    try await group.waitForAll()
}
let elapsed = seconds(start.duration(to: clock.now))
print(String(format: "16 tasks x 2000 PUTs over 4 pooled connections: %.2f s = %.0f requests/s", elapsed, 32_000 / elapsed))

// Large bodies: 8 MiB - 1 each (just under the default limit).
let bigURL = URL(string: base + "/big")!
let bigStart = clock.now
for _ in 0..<20 {
    let response = try await keptAlive.send(HTTPRequest(url: bigURL))
    precondition(response.body.count == bigSize)
}
let bigElapsed = seconds(bigStart.duration(to: clock.now))
print(String(format: "20 bodies of 8 MiB: %.2f s = %.0f MiB/s", bigElapsed, 20 * Double(bigSize) / 1_048_576 / bigElapsed))

listener.close()
server.cancel()
