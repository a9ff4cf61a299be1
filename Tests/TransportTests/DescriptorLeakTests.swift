import Foundation
import TestSupport
import Testing
@testable import Transport

/// Descriptors must not leak over weeks of reconnects.
@Suite(.timeLimit(.minutes(2))) struct DescriptorLeakTests {
    func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    @Test func manyConnectionsAndFailuresLeaveNoDescriptorsBehind() async throws {
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
        // Each round opens 7 descriptors; a leak in any path shows as
        // hundreds and stays. The count is the whole process's: a test
        // running beside this one may hold many for a while (the status-page
        // test opens 200 idle connections), so a high count is looked at
        // again for up to 30 s before it counts as a leak.
        var after = try openDescriptorCount()
        for _ in 0..<60 where after - before >= 50 {
            try await Task.sleep(for: .milliseconds(500))
            after = try openDescriptorCount()
        }
        #expect(after - before < 50, "descriptors before: \(before), after \(rounds) rounds: \(after)")
    }
}
