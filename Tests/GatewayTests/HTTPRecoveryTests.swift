import Core
import Foundation
import Glibc
import TestSupport
import Testing
import Transport

/// Issue 14: one `accept()` failing with EMFILE used to stop `/healthz` for
/// good. The endpoint runs in a child process (`AcceptLimitChild`) whose
/// RLIMIT_NOFILE is lowered to 64; the test opens connections until the
/// child logs EMFILE, closes them, and then `/healthz` must answer again.
/// A real process is needed: lowering the limit in the test runner would
/// break every test running beside it.
///
/// While the endpoint is out of descriptors the rest of the process must
/// not be: the child is asked to open a file then (`probe`). Before the
/// listener kept a reserve, the child sat at its limit, and under load the
/// Swift runtime's thread pool monitor crashed it (SIGILL) when it could not
/// open `/proc/PID/stat`; the test then failed with "connect: Connection
/// reset by peer" (its queued connections reset as the listener died).
@Suite(.timeLimit(.minutes(2))) struct HTTPRecoveryTests {
    static let descriptorLimit = 64
    static let connections = 100

    @Test func healthzAnswersAgainAfterAcceptFailedWithEMFILE() async throws {
        let executable = try BuiltProducts.executable(named: "AcceptLimitChild")
        // Connection bound far above the descriptor limit: only EMFILE bites.
        try await ChildProcess.run(executable, ["\(Self.descriptorLimit)", "1000"]) { child in
            // What the test was doing, for the report when the child dies.
            var phase = "start"
            do {
                try await child.waitForOutput("listening ")
                let port = try #require(child.output.split(separator: "\n")
                    .first { $0.hasPrefix("listening ") }.flatMap { UInt16($0.dropFirst("listening ".count)) })
                #expect(try await Self.healthz(port).hasPrefix("HTTP/1.1 200 OK"), "answers before the flood")

                // Idle connections: each accepted one holds a descriptor in the
                // child until it runs out; the rest wait in the listen backlog.
                var held: [Connection] = []
                for i in 0..<Self.connections {
                    phase = "held \(i)"
                    held.append(try await Connection.connect(host: "127.0.0.1", port: port, logger: .disabled))
                }
                try await child.waitForOutput("Too many open files")
                // Out of descriptors for the endpoint, not for the process: the
                // listener gave up its reserve, so the rest of the process (the
                // store, the runtime's thread pool) can still open files.
                phase = "probe"
                try child.writeToStandardInput("probe\n")
                try await child.waitForOutput("probe: ")
                #expect(child.output.contains("probe: ok"), "the process can still open a file:\n\(child.output)")

                let freed = ContinuousClock.now
                for connection in held { connection.close() }
                held.removeAll()
                phase = "healthz after"
                let reply = try await Self.healthz(port)
                let recovery = ContinuousClock.now - freed
                #expect(reply.hasPrefix("HTTP/1.1 200 OK"), "answers again once descriptors are free: \(reply)")
                print("HTTPRecoveryTests: /healthz answered \(recovery) after the descriptors were freed")

                try await child.waitForOutput("accepting again")
                let log = child.output
                let warnings = log.split(separator: "\n").map(String.init).filter { $0.contains("accept failed") }
                #expect(warnings.count == 1, "EMFILE logged once, not once per failure:\n\(log)")
                #expect(warnings.allSatisfy { $0.contains("Too many open files (errno 24)") }, "\(log)")
                #expect(child.isRunning, "the child is still serving")
            } catch {
                let state = child.exitStatus.map { "exited with status \($0)" } ?? "running"
                Issue.record("\(error) (while: \(phase); the child is \(state)); its output:\n\(child.output)")
            }
        }
    }

    /// `GET /healthz` on a fresh connection; the whole reply.
    static func healthz(_ port: UInt16) async throws -> String {
        let connection = try await Connection.connect(host: "127.0.0.1", port: port, logger: .disabled)
        defer { connection.close() }
        try await connection.write(Array("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n".utf8))
        var reply: [UInt8] = []
        while true {
            let chunk = try await connection.read()
            if chunk.isEmpty { break }
            reply += chunk
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
