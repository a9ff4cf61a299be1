import Core
import Foundation
import TestSupport
import Testing
import Transport
@testable import HTTPClient

/// `https://` against a real `openssl s_server` with certificates from a
/// per-test CA: the server prints what it receives, and what the test writes
/// to its standard input goes to the client.
@Suite(.timeLimit(.minutes(2))) struct HTTPSTests {
    func withServer(_ files: CertificateFiles, _ body: (ChildProcess, UInt16) async throws -> Void) async throws {
        let port = try FreePort.next()
        let arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", files.certificate,
                         "-key", files.privateKey]
        try await ChildProcess.run("openssl", arguments, name: "s_server") { server in
            try await server.waitForOutput("ACCEPT")
            try await body(server, port)
        }
    }

    @Test func aVerifiedHTTPSRequestGetsItsAnswer() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "localhost", dnsNames: ["localhost"])
        try await withServer(files) { server, port in
            let client = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caFile: pki.authority.certificate)))
            let sending = Task {
                try await client.send(HTTPRequest(url: URL(string: "https://localhost:\(port)/_matrix/client/versions")!))
            }
            try await server.waitForOutput("GET /_matrix/client/versions HTTP/1.1")
            #expect(server.output.contains("Host: localhost:\(port)"))
            try server.writeToStandardInput("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"versions\":[1]}\n")
            let response = try await sending.value
            #expect(response.status == 200)
            #expect(response.bodyText == "{\"versions\":[1]}\n")
        }
    }

    @Test func twoHTTPSRequestsShareOneTLSSession() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "localhost", dnsNames: ["localhost"])
        try await withServer(files) { server, port in
            // s_server serves one connection at a time: while the first stays
            // open, a second connection would never be answered.
            let client = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caFile: pki.authority.certificate)))
            for number in 1...2 {
                let sending = Task {
                    try await client.send(HTTPRequest(url: URL(string: "https://localhost:\(port)/r\(number)")!,
                                                      timeout: .seconds(20)))
                }
                try await server.waitForOutput("GET /r\(number) HTTP/1.1")
                try server.writeToStandardInput("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr\(number)")
                #expect(try await sending.value.bodyText == "r\(number)")
            }
        }
    }

    @Test func aCertificateForAnotherHostIsRefused() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.issue(commonName: "evil.test", dnsNames: ["evil.test"])
        try await withServer(files) { server, port in
            let client = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caFile: pki.authority.certificate)))
            await #expect {
                try await client.send(HTTPRequest(url: URL(string: "https://localhost:\(port)/_matrix/client/v3/login")!))
            } throws: { error in
                guard case HTTPClientError.tlsFailed(let host, let failedPort, let reason)? = error as? HTTPClientError
                else { return false }
                return host == "localhost" && failedPort == port && reason.contains("hostname mismatch")
            }
            #expect(!server.output.contains("GET "))
        }
    }

    @Test func aCertificateFromNoTrustedAuthorityIsRefused() async throws {
        let pki = try await TestCertificates()
        let files = try await pki.selfSigned(commonName: "localhost", dnsNames: ["localhost"])
        try await withServer(files) { _, port in
            // The system store (the default) does not trust a self-signed certificate.
            await #expect {
                try await HTTPClient().send(HTTPRequest(url: URL(string: "https://localhost:\(port)/")!))
            } throws: { error in
                guard case HTTPClientError.tlsFailed(_, _, let reason)? = error as? HTTPClientError else { return false }
                return reason.contains("self-signed certificate")
            }
        }
    }
}
