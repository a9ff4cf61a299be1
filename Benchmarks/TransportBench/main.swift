// Transport benchmark: loopback TCP throughput, request/response round
// trips, and line framing over a socketpair. Run release-built:
//     swift run -c release TransportBench
// Numbers depend on the machine and its load; report them with how you ran.
import Core
import Foundation
import Glibc
import Transport

func seconds(_ duration: Duration) -> Double { duration.timeInterval }

func socketPair() -> (Connection, Connection) {
    var fds: [Int32] = [-1, -1]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
    return (try! Connection(adopting: fds[0]), try! Connection(adopting: fds[1]))
}

/// One TCP connection over 127.0.0.1: client and server ends.
func tcpPair() async throws -> (Connection, Connection) {
    let listener = try Listener.bind()
    defer { listener.close() }
    async let accepted = listener.accept()
    let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
    return (client, try await accepted)
}

func throughput() async throws {
    let (client, server) = try await tcpPair()
    defer { client.close(); server.close() }
    let total = 512 << 20
    let block = [UInt8](repeating: 0x61, count: 64 << 10)
    let clock = ContinuousClock()
    let start = clock.now
    async let received: Int = {
        var count = 0
        while count < total {
            let chunk = try await server.read(maxBytes: 256 << 10)
            if chunk.isEmpty { break }
            count += chunk.count
        }
        return count
    }()
    for _ in 0..<(total / block.count) { try await client.write(block) }
    let count = try await received
    let elapsed = seconds(start.duration(to: clock.now))
    print(String(format: "tcp loopback throughput: %d MiB in %.2f s = %.0f MiB/s (64 KiB writes)",
                 count >> 20, elapsed, Double(count) / 1_048_576 / elapsed))
}

func roundTrips() async throws {
    let (client, server) = try await tcpPair()
    defer { client.close(); server.close() }
    let echo = Task {
        for try await line in server.lines() { try await server.write(line + [0x0D, 0x0A]) }
    }
    let count = 20_000
    let message = Array("PRIVMSG #support :ping from the benchmark\r\n".utf8)
    var lines = client.lines().makeAsyncIterator()
    var samples: [Double] = []
    samples.reserveCapacity(count)
    let clock = ContinuousClock()
    for _ in 0..<1_000 {  // warm-up
        try await client.write(message)
        _ = try await lines.next()
    }
    for _ in 0..<count {
        let start = clock.now
        try await client.write(message)
        _ = try await lines.next()
        samples.append(seconds(start.duration(to: clock.now)) * 1e6)
    }
    echo.cancel()
    samples.sort()
    func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
    print(String(format: "tcp loopback line round trip (%d): median %.1f µs, p90 %.1f µs, p99 %.1f µs",
                 count, percentile(0.5), percentile(0.9), percentile(0.99)))
}

func lineFraming() async throws {
    let (reader, writer) = socketPair()
    defer { reader.close() }
    let line = Array("@time=2026-03-02T09:00:00.000Z :alice!a@host PRIVMSG #support :VPN is down again\r\n".utf8)
    let batch = Array(repeating: line, count: 1_000).flatMap { $0 }
    let batches = 1_000
    let clock = ContinuousClock()
    let start = clock.now
    let producer = Task {
        for _ in 0..<batches { try await writer.write(batch) }
        writer.close()
    }
    var count = 0
    for try await _ in reader.lines(maxLineLength: 8192) { count += 1 }
    try await producer.value
    let elapsed = seconds(start.duration(to: clock.now))
    print(String(format: "lines over a socketpair: %d lines (%d bytes each) in %.2f s = %.2f M lines/s",
                 count, line.count, elapsed, Double(count) / elapsed / 1e6))
}

try await throughput()
try await roundTrips()
try await lineFraming()
