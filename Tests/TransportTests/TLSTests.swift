import Core
import Glibc
import TestSupport
import Testing
@testable import Transport

/// TLS against a real `openssl s_server` started per test, with
/// certificates made per test by a test CA.
@Suite(.timeLimit(.minutes(2))) struct TLSTests {
    /// Runs `openssl s_server` with `files` on a free loopback port until
    /// `body` ends. What the client sends shows up in the server's output;
    /// what is written to its standard input is sent to the client.
    func withServer(
        _ files: CertificateFiles, _ extra: [String] = [], _ body: (ChildProcess, UInt16) async throws -> Void
    ) async throws {
        let port = try FreePort.next()
        let arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", files.certificate,
                         "-key", files.privateKey] + extra
        try await ChildProcess.run("openssl", arguments, name: "s_server") { server in
            try await server.waitForOutput("ACCEPT")
            try await body(server, port)
        }
    }

    @Test func aVerifiedConnectionCarriesDataBothWays() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { server, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port,
                security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            defer { client.close() }
            #expect(client.tlsInfo?.protocolVersion == "TLSv1.3")
            #expect(client.tlsInfo?.peerSubject == "/CN=irc.test")

            try await client.write(bytes("PRIVMSG #help :hello over TLS\r\n"))
            try await server.waitForOutput("PRIVMSG #help :hello over TLS")

            try server.writeToStandardInput(":irc.test 001 switchboard :Welcome\n")
            var lines = client.lines().makeAsyncIterator()
            #expect(text(try await lines.next()) == ":irc.test 001 switchboard :Welcome")

            // The server ending the session (close_notify) is the end of the stream.
            server.closeStandardInput()
            #expect(try await lines.next() == nil)
        }
    }

    @Test func bulkDataCrossesTLSIntactInBothDirections() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { server, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port,
                security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            defer { client.close() }
            // 2 MB up in one write: many records, partial writes, waits for writability.
            let lines = (0..<20_000).map { "PRIVMSG #load :line \($0) " + String(repeating: "x", count: 80) + "\n" }
            try await client.write(bytes(lines.joined()))
            try await client.write(bytes("END-OF-UPLOAD\n"))
            try await server.waitForOutput("END-OF-UPLOAD")
            #expect(server.output.contains(lines[0]) && server.output.contains(lines[19_999]))

            // 500 lines down, read as lines.
            let down = (0..<500).map { ":irc.test 372 bot :motd line \($0)\n" }.joined()
            try server.writeToStandardInput(down)
            var received = 0
            for try await line in client.lines() {
                #expect(text(line) == ":irc.test 372 bot :motd line \(received)")
                received += 1
                if received == 500 { break }
            }
            #expect(received == 500)
        }
    }

    @Test func theServerNameIsSentAsSNI() async throws {
        let pki = try await TestCertificates()
        let fallback = try await pki.issue(commonName: "default.test", dnsNames: ["default.test"])
        let named = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        // s_server presents -cert2 only to a client whose SNI is irc.test
        // (RFC 6066 §3); verification for irc.test passes only with that one.
        let sni = ["-servername", "irc.test", "-cert2", named.certificate, "-key2", named.privateKey]
        try await withServer(fallback, sni) { _, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port,
                security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            #expect(client.tlsInfo?.peerSubject == "/CN=irc.test")
            client.close()
        }
    }

    @Test func tls12IsAccepted() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files, ["-tls1_2"]) { _, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port,
                security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            #expect(client.tlsInfo?.protocolVersion == "TLSv1.2")
            client.close()
        }
    }

    @Test func closeSendsCloseNotify() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { server, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port,
                security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            try await client.write(bytes("QUIT :bye\r\n"))
            try await server.waitForOutput("QUIT :bye")
            client.close()
            // s_server prints DONE for close_notify, ERROR for a bare TCP close.
            try await server.waitForOutput("DONE")
            #expect(!server.output.contains("ERROR"))
        }
    }

    @Test func aNumericHostIsVerifiedAgainstTheCertificatesIPAddress() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"], ipAddresses: ["127.0.0.1"])
        try await withServer(files) { _, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port, security: .tls(TLSOptions(caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            client.close()
        }
    }

    @Test func aCertificateForAnotherNameFailsWithHostnameMismatch() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { _, port in
            let error = await #expect(throws: TransportError.self) {
                try await Connection.connect(
                    host: "127.0.0.1", port: port,
                    security: .tls(TLSOptions(serverName: "irc.example.org", caFile: pki.authority.certificate)),
                    timeout: .seconds(20), logger: .disabled)
            }
            guard case .tls(let operation, let reason, let verifyResult) = error else {
                Issue.record("expected a TLS error, got \(String(describing: error))")
                return
            }
            #expect(operation == "TLS handshake with 127.0.0.1:\(port) as irc.example.org")
            // OpenSSL 3 spells it "hostname mismatch", 1.1 "Hostname mismatch".
            #expect(verifyResult?.lowercased() == "hostname mismatch")
            #expect(reason.lowercased() == "certificate verify failed: hostname mismatch")
        }
    }

    @Test func aSelfSignedCertificateThatIsNotTrustedFails() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.selfSigned(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { _, port in
            let error = await #expect(throws: TransportError.self) {
                try await Connection.connect(
                    host: "127.0.0.1", port: port,
                    security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                    timeout: .seconds(20), logger: .disabled)
            }
            #expect(error?.description.hasSuffix("certificate verify failed: self-signed certificate") == true,
                    "\(String(describing: error))")
        }
    }

    @Test func theSystemStoreIsTheDefaultAndDoesNotTrustTheTestCA() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { _, port in
            let error = await #expect(throws: TransportError.self) {
                try await Connection.connect(
                    host: "127.0.0.1", port: port, security: .tls(TLSOptions(serverName: "irc.test")),
                    timeout: .seconds(20), logger: .disabled)
            }
            guard case .tls(_, _, let verifyResult) = error else {
                Issue.record("expected a TLS error, got \(String(describing: error))")
                return
            }
            #expect(verifyResult == "unable to get local issuer certificate")
        }
    }

    @Test func theExplicitOptOutConnectsToAnUntrustedServerAndWarnsEveryTime() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.selfSigned(commonName: "irc.test", dnsNames: ["irc.test"])
        let sink = MemoryLogSink()
        let logger = Logger(sink: sink)
        try await withServer(files) { server, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port, security: .tls(.insecureNoVerify), timeout: .seconds(20),
                logger: logger)
            try await client.write(bytes("PING :unverified\r\n"))
            try await server.waitForOutput("PING :unverified")
            client.close()
            let warnings = sink.lines.filter { $0.contains("level=warning") }
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("TLS certificate verification is disabled") == true)
            #expect(warnings.first?.contains("remote=127.0.0.1:\(port)") == true)
        }
        try await withServer(files) { _, port in
            let again = try await Connection.connect(
                host: "127.0.0.1", port: port, security: .tls(.insecureNoVerify), timeout: .seconds(20),
                logger: logger)
            again.close()
            #expect(sink.lines.filter { $0.contains("level=warning") }.count == 2)
        }
    }

    @Test func aConfiguredClientCertificateIsPresented() async throws {
        let pki = try await TestCertificates()
        let serverFiles = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        let clientFiles = try await pki.issue(commonName: "switchboard-bot", purpose: .client)
        // -Verify 1: the server demands a client certificate and verifies it.
        try await withServer(serverFiles, ["-Verify", "1", "-CAfile", pki.authority.certificate]) { server, port in
            let options = TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate,
                                     clientCertificateFile: clientFiles.certificate,
                                     clientKeyFile: clientFiles.privateKey)
            let client = try await Connection.connect(host: "127.0.0.1", port: port, security: .tls(options),
                                                      timeout: .seconds(20), logger: .disabled)
            defer { client.close() }
            try await client.write(bytes("CAP REQ :sasl\r\n"))
            try await server.waitForOutput("CAP REQ :sasl")
            #expect(server.output.contains("subject=CN = switchboard-bot"))
            #expect(server.output.contains("issuer=CN = Switchboard Test CA"))
        }
    }

    @Test func aServerThatRequiresAClientCertificateRejectsUsWithoutOne() async throws {
        let pki = try await TestCertificates()
        let serverFiles = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(serverFiles, ["-Verify", "1", "-CAfile", pki.authority.certificate]) { _, port in
            // In TLS 1.3 the server judges the client's certificate after our
            // handshake is done, so the rejection may surface on first read.
            let error = await #expect(throws: TransportError.self) {
                let client = try await Connection.connect(
                    host: "127.0.0.1", port: port,
                    security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                    timeout: .seconds(20), logger: .disabled)
                defer { client.close() }
                _ = try await client.read()
            }
            #expect(error?.description.contains("certificate required") == true, "\(String(describing: error))")
        }
    }

    @Test func writingToAVanishedTLSPeerThrowsInsteadOfRaisingSIGPIPE() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"])
        try await withServer(files) { server, port in
            let client = try await Connection.connect(
                host: "127.0.0.1", port: port,
                security: .tls(TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)),
                timeout: .seconds(20), logger: .disabled)
            defer { client.close() }
            kill(server.processIdentifier, SIGKILL)
            try await server.waitForExit()
            var failure: TransportError?
            for _ in 0..<100 {
                do {
                    try await client.write(bytes("PRIVMSG #x :anyone?\r\n"))
                } catch let error as TransportError {
                    failure = error
                    break
                }
            }
            #expect(failure?.errno == EPIPE || failure?.errno == ECONNRESET, "\(String(describing: failure))")
        }
    }

    @Test func aMissingCAFileIsNamedInTheError() async throws {
        let listener = try Listener.bind()
        defer { listener.close() }
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(
                host: "127.0.0.1", port: listener.port,
                security: .tls(TLSOptions(caFile: "/nonexistent/ca.pem")), timeout: .seconds(20), logger: .disabled)
        }
        #expect(error?.description.contains("load CA file /nonexistent/ca.pem") == true)
        #expect(error?.description.contains("No such file or directory") == true, "\(String(describing: error))")
    }

    @Test func aServerThatNeverAnswersTheHandshakeTimesOut() async throws {
        let listener = try Listener.bind()
        defer { listener.close() }
        let accepted = Task { try await listener.accept() }  // accepts, then says nothing
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(
                host: "127.0.0.1", port: listener.port, security: .tls(TLSOptions(serverName: "irc.test")),
                timeout: .seconds(2), logger: .disabled)
        }
        #expect(error?.isTimeout == true)
        #expect(error?.description == "TLS handshake with 127.0.0.1:\(listener.port) as irc.test: timed out after 2.0 seconds",
                "\(String(describing: error))")
        accepted.cancel()  // in case the connection was never accepted
        (try? await accepted.value)?.close()
    }

    @Test func aPlainTextServerFailsTheHandshakeWithOpenSSLsReason() async throws {
        let listener = try Listener.bind()
        defer { listener.close() }
        let accepted = Task {
            let connection = try await listener.accept()
            try await connection.write(bytes(":irc.test NOTICE * :*** Looking up your hostname...\r\n"))
            return connection
        }
        let error = await #expect(throws: TransportError.self) {
            try await Connection.connect(
                host: "127.0.0.1", port: listener.port, security: .tls(TLSOptions(serverName: "irc.test")),
                timeout: .seconds(20), logger: .disabled)
        }
        guard case .tls(_, let reason, nil) = error else {
            Issue.record("expected a TLS protocol error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("SSL routines"), "\(reason)")
        accepted.cancel()  // in case the connection was never accepted
        (try? await accepted.value)?.close()
    }
}
