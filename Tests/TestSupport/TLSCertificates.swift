import Foundation
import Synchronization

/// PEM files of one certificate and its private key.
public struct CertificateFiles: Sendable, Equatable {
    /// The certificate (PEM).
    public let certificate: String
    /// Its private key (PEM, unencrypted).
    public let privateKey: String
}

/// Test certificates made with the `openssl` command line in a temporary
/// directory: a test CA, certificates it signs for servers and clients, and
/// self-signed ones. Keys are EC P-256 (fast to make), valid for two days.
/// Everything is async: `openssl` runs as a child process that is awaited,
/// never blocking a thread of Swift's cooperative pool.
///
/// ```swift
/// let pki = try await TestCertificates()
/// let server = try await pki.issue(commonName: "irc.test", dnsNames: ["irc.test"], ipAddresses: ["127.0.0.1"])
/// // openssl s_server -cert server.certificate -key server.privateKey ...
/// // client: TLSOptions(serverName: "irc.test", caFile: pki.authority.certificate)
/// ```
///
/// The directory is removed by `remove()` or when the object goes away.
public final class TestCertificates: Sendable {
    /// The temporary directory holding every file.
    public let directory: String
    /// The test CA: trust it with `caFile: authority.certificate`.
    public let authority: CertificateFiles
    private let counter = Mutex(0)

    /// Makes a directory and a CA named `authorityName`.
    public init(authorityName: String = "Switchboard Test CA") async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        directory = path
        let certificate = path + "/ca.pem"
        let key = path + "/ca.key"
        do {
            try await TestCertificates.openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=\(authorityName)",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        authority = CertificateFiles(certificate: certificate, privateKey: key)
    }

    deinit { remove() }

    /// Deletes the directory and every file in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What a certificate is for (its extended key usage).
    public enum Purpose: Sendable {
        case server
        case client
    }

    /// A certificate signed by the test CA, with `commonName` as subject and
    /// the given names as subject alternative names (what host-name
    /// verification checks).
    public func issue(
        commonName: String, dnsNames: [String] = [], ipAddresses: [String] = [], purpose: Purpose = .server
    ) async throws -> CertificateFiles {
        let stem = nextStem(commonName)
        let key = stem + ".key"
        let request = stem + ".csr"
        let certificate = stem + ".pem"
        let extensions = stem + ".ext"
        var lines = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=\(purpose == .server ? "serverAuth" : "clientAuth")",
            "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid",
        ]
        let names = dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }
        if !names.isEmpty { lines.append("subjectAltName=" + names.joined(separator: ",")) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: extensions, atomically: true, encoding: .utf8)
        try await TestCertificates.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", request, "-subj", "/CN=\(commonName)",
        ])
        try await TestCertificates.openssl([
            "x509", "-req", "-in", request, "-CA", authority.certificate, "-CAkey", authority.privateKey,
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2",
            "-extfile", extensions, "-out", certificate,
        ])
        return CertificateFiles(certificate: certificate, privateKey: key)
    }

    /// A self-signed certificate (its own issuer, trusted by nobody) with
    /// the given subject alternative names.
    public func selfSigned(commonName: String, dnsNames: [String] = [], ipAddresses: [String] = []) async throws
        -> CertificateFiles
    {
        let stem = nextStem(commonName)
        var arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", stem + ".key", "-out", stem + ".pem", "-days", "2", "-subj", "/CN=\(commonName)",
        ]
        let names = dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }
        if !names.isEmpty { arguments += ["-addext", "subjectAltName=" + names.joined(separator: ",")] }
        try await TestCertificates.openssl(arguments)
        return CertificateFiles(certificate: stem + ".pem", privateKey: stem + ".key")
    }

    /// The SHA-256 fingerprint of a PEM certificate as lowercase hex without
    /// colons — the form IRC services use for CertFP (`NickServ CERT ADD`).
    public static func sha256Fingerprint(ofCertificate path: String) async throws -> String {
        let output = try await openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
        // "sha256 Fingerprint=AB:CD:..."
        guard let value = output.split(separator: "=", maxSplits: 1).last else {
            throw ChildProcessError(name: "openssl", problem: "unexpected fingerprint output", output: output)
        }
        return value.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ":", with: "").lowercased()
    }

    private func nextStem(_ commonName: String) -> String {
        let number = counter.withLock { value -> Int in
            value += 1
            return value
        }
        let safe = commonName.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        return directory + "/\(number)-" + String(safe)
    }

    /// Runs `openssl` with `arguments`; returns its output, throws with the
    /// output when it fails.
    @discardableResult
    public static func openssl(_ arguments: [String]) async throws -> String {
        let (status, output) = try await ChildProcess.runToCompletion("openssl", arguments)
        guard status == 0 else {
            throw ChildProcessError(
                name: "openssl", problem: "openssl \(arguments.joined(separator: " ")) exited with status \(status)",
                output: output)
        }
        return output
    }
}
