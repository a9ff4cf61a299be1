import Foundation
import TestSupport
import Testing
@testable import Transport

/// Descriptors must not leak over weeks of reconnects.
@Suite(.timeLimit(.minutes(2))) struct DescriptorLeakTests {
    static func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    /// In a process of its own (an exit test): the count is the whole
    /// process's, and in the suite's process the tests running beside this
    /// one open and hold descriptors meanwhile (the status-page test holds
    /// 200 connections for seconds; two full runs saw +141 and +292).
    @Test func manyConnectionsAndFailuresLeaveNoDescriptorsBehind() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let (before, after, rounds) = try await DescriptorLeakTests.rounds()
            print("descriptors before: \(before), after \(rounds) rounds: \(after)")
            // Each round opens 7 descriptors; a leak in any path shows as hundreds.
            if after - before >= 50 { exit(EXIT_FAILURE) }
        }
        if let result { print(String(decoding: result.standardOutputContent, as: UTF8.self)) }
    }

    /// Opens and closes connections of every kind; the descriptor counts
    /// before and after.
    static func rounds() async throws -> (before: Int, after: Int, rounds: Int) {
        let listener = try Listener.bind()
        defer { listener.close() }
        let refusedPort = try FreePort.next()
        let rounds = 200
        let before = try openDescriptorCount()
        for _ in 0..<rounds {
            // A connection used and closed on both sides.
            let accepted = Task { try await listener.accept() }
            let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
            let server = try await accepted.value
            try await client.write(bytes("PING :x\r\n"))
            _ = try await server.read()
            client.close()
            server.close()

            // A refused attempt.
            _ = try? await Connection.connect(host: "127.0.0.1", port: refusedPort, logger: .disabled)

            // A TLS setup that fails after the TCP connect.
            let acceptedAgain = Task { try await listener.accept() }
            _ = try? await Connection.connect(
                host: "127.0.0.1", port: listener.port, security: .tls(TLSOptions(caFile: "/nonexistent")),
                logger: .disabled)
            try await acceptedAgain.value.close()

            // Adopted sockets, one closed, one only dropped (deinit closes it).
            let (left, right) = try connectedPair()
            left.close()
            _ = right
        }
        return (before, try openDescriptorCount(), rounds)
    }
}
