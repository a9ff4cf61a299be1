import COpenSSL
import Foundation

/// A contract PIN, stored only as a salted PBKDF2-HMAC-SHA256 hash (RFC 8018
/// §5.2) in the form
///
///     pbkdf2-sha256$<iterations>$<salt, Base64>$<hash, Base64>
///
/// computed by OpenSSL's `PKCS5_PBKDF2_HMAC` with a random 16-byte salt per
/// customer, compared in constant time (`CRYPTO_memcmp`).
///
/// What this protects and what it does not: a leaked configuration file
/// does not show the PINs, and no two customers' hashes look alike. A PIN
/// of four digits has only 10,000 values, so someone holding the file can
/// still try them all offline — each try costs `iterations` HMACs (600,000
/// by default, OWASP's 2023 figure, about half a second on one core), which
/// slows that down but cannot stop it. The real protection of a short PIN
/// is online: the conversation allows three wrong PINs and then serves the
/// customer as non-contract (SPEC "Customer conversation"). Keep the
/// customers file readable only by the gateway.
public struct PINHash: Sendable, Hashable, CustomStringConvertible {
    public static let scheme = "pbkdf2-sha256"
    /// OWASP Password Storage Cheat Sheet (2023) for PBKDF2-HMAC-SHA256.
    public static let defaultIterations = 600_000
    /// Below this a hash is refused when read: it would be too cheap to test.
    public static let minimumIterations = 10_000
    /// Above this, verifying one PIN would stall the gateway.
    public static let maximumIterations = 10_000_000
    static let saltLength = 16
    static let hashLength = 32

    public let iterations: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// Why a stored hash was refused.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The value looks like a PIN in clear (digits only).
        case clearPIN
        /// Not of the form `pbkdf2-sha256$…$…$…`.
        case malformed(String)
        case iterationsOutOfRange(Int)

        public var description: String {
            switch self {
            case .clearPIN:
                return "this looks like a PIN in clear; a PIN is never stored in clear — store its hash instead: "
                    + "run `switchboard hash-pin`, type the PIN, and paste the line it prints (pbkdf2-sha256$…)"
            case .malformed(let why):
                return "not a PIN hash (\(why)); expected pbkdf2-sha256$<iterations>$<salt>$<hash> as printed by "
                    + "`switchboard hash-pin`"
            case .iterationsOutOfRange(let count):
                return "a PIN hash with \(count) iterations is refused: use \(PINHash.minimumIterations)…"
                    + "\(PINHash.maximumIterations) (make a new one with `switchboard hash-pin`)"
            }
        }
    }

    /// Reads the stored form.
    public init(encoded: String) throws(ParseError) {
        let text = encoded.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.count <= 12, text.allSatisfy({ $0.isASCII && $0.isNumber }) { throw .clearPIN }
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw .malformed("it has \(parts.count) parts separated by $, not 4") }
        guard parts[0] == Self.scheme else { throw .malformed("unknown scheme '\(parts[0])'") }
        guard let iterations = Int(parts[1]) else { throw .malformed("'\(parts[1])' is not a number of iterations") }
        guard (Self.minimumIterations...Self.maximumIterations).contains(iterations) else {
            throw .iterationsOutOfRange(iterations)
        }
        guard let salt = Data(base64Encoded: String(parts[2])), salt.count >= 8 else {
            throw .malformed("the salt is not Base64 of at least 8 bytes")
        }
        guard let hash = Data(base64Encoded: String(parts[3])), hash.count == Self.hashLength else {
            throw .malformed("the hash is not Base64 of \(Self.hashLength) bytes")
        }
        self.iterations = iterations
        self.salt = Array(salt)
        self.hash = Array(hash)
    }

    /// Hashes `pin` with a fresh random salt. This is what
    /// `switchboard hash-pin` prints (its `encoded` form). Leading and
    /// trailing white space of the PIN is ignored, here and in `verify`.
    public static func make(pin: String, iterations: Int = defaultIterations) throws -> PINHash {
        precondition((minimumIterations...maximumIterations).contains(iterations), "iterations out of range")
        var salt = [UInt8](repeating: 0, count: saltLength)
        guard RAND_bytes(&salt, Int32(saltLength)) == 1 else { throw PINHashError.randomFailed }
        return PINHash(iterations: iterations, salt: salt, hash: try derive(pin: pin, salt: salt, iterations: iterations))
    }

    init(iterations: Int, salt: [UInt8], hash: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }

    /// Whether `pin` is the PIN this hash was made from (constant-time
    /// comparison of the derived keys).
    public func verify(pin: String) -> Bool {
        guard let candidate = try? Self.derive(pin: pin, salt: salt, iterations: iterations),
              candidate.count == hash.count else { return false }
        return candidate.withUnsafeBytes { a in
            hash.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// The stored form: `pbkdf2-sha256$600000$<salt>$<hash>`.
    public var encoded: String {
        "\(Self.scheme)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// Never the hash itself (it would end up in logs).
    public var description: String { "PINHash(\(Self.scheme), \(iterations) iterations)" }

    static func derive(pin: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let secret = Array(pin.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        var out = [UInt8](repeating: 0, count: hashLength)
        let ok = secret.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { passChars in
                PKCS5_PBKDF2_HMAC(passChars.baseAddress, Int32(passChars.count), salt, Int32(salt.count),
                                  Int32(iterations), EVP_sha256(), Int32(hashLength), &out)
            }
        }
        guard ok == 1 else { throw PINHashError.derivationFailed }
        return out
    }
}

/// OpenSSL failed (no randomness, or the KDF refused).
public enum PINHashError: Error, Sendable, CustomStringConvertible {
    case randomFailed
    case derivationFailed

    public var description: String {
        switch self {
        case .randomFailed: "OpenSSL could not produce random bytes for the salt (RAND_bytes failed)"
        case .derivationFailed: "OpenSSL's PKCS5_PBKDF2_HMAC failed"
        }
    }
}
