import Glibc
import TestSupport
import Testing

/// The test-support process helper that the IRC tests use for ngircd,
/// inspircd and atheme: these check what they rely on.
@Suite(.timeLimit(.minutes(1))) struct ChildProcessTests {
    @Test func childrenStartWithNoBlockedSignalsSoSIGTERMStopsThem() async throws {
        let status = try await ChildProcess.runToCompletion("grep", ["^SigBlk:", "/proc/self/status"])
        #expect(status.output.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")

        let sleeper = try ChildProcess.launch("sleep", ["600"])
        await sleeper.stop(gracePeriod: .seconds(20))
        // Killed by SIGTERM, not by the SIGKILL that follows a grace period.
        #expect(sleeper.exitStatus == SIGTERM)
        #expect(!sleeper.isRunning)
    }

    @Test func standardInputAndOutputAreConnected() async throws {
        try await ChildProcess.run("cat", []) { cat in
            try cat.writeToStandardInput("PING :hello\n")
            try await cat.waitForOutput("PING :hello")
            cat.closeStandardInput()
            #expect(try await cat.waitForExit() == 0)
        }
    }

    @Test func runToCompletionReturnsStatusAndBothStreams() async throws {
        let result = try await ChildProcess.runToCompletion("sh", ["-c", "echo to-stdout; echo to-stderr >&2; exit 7"])
        #expect(result.status == 7)
        #expect(result.output.contains("to-stdout") && result.output.contains("to-stderr"))
    }

    @Test func waitingForOutputThatNeverComesFailsWithTheOutputInTheError() async throws {
        try await ChildProcess.run("sh", ["-c", "echo config error in line 3; exit 1"], name: "fake-ircd") { child in
            let error = await #expect(throws: ChildProcessError.self) { try await child.waitForOutput("ready") }
            #expect(error?.description.contains("fake-ircd: output ended") == true)
            #expect(error?.description.contains("config error in line 3") == true)
        }
    }

    @Test func waitUntilAcceptingSeesTheServersPort() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.selfSigned(commonName: "irc.test")
        let port = try FreePort.next()
        try await ChildProcess.run("openssl", ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", files.certificate,
                                               "-key", files.privateKey]) { server in
            try await server.waitUntilAccepting(port: port, timeout: .seconds(30))
        }
    }

    @Test func aServerThatExitsEarlyIsReportedWhileWaitingForItsPort() async throws {
        let port = try FreePort.next()
        try await ChildProcess.run("sh", ["-c", "echo cannot bind; exit 2"]) { child in
            let error = await #expect(throws: ChildProcessError.self) {
                try await child.waitUntilAccepting(port: port, timeout: .seconds(30))
            }
            #expect(error?.description.contains("exited with status 2") == true)
        }
    }

    @Test func certificateFingerprintsAreLowercaseHex() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "switchboard-bot", purpose: .client)
        let fingerprint = try await TestCertificates.sha256Fingerprint(ofCertificate: files.certificate)
        #expect(fingerprint.count == 64)
        #expect(fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
    }
}
