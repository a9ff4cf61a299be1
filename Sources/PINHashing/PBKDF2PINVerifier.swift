import COpenSSL
import Desk
import Foundation

/// The production ``PINVerifier``: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) by
/// OpenSSL's `PKCS5_PBKDF2_HMAC`, a random salt from `RAND_bytes`, and a
/// constant-time comparison (`CRYPTO_memcmp`). Kept out of `Desk` so the
/// domain does not link a crypto library.
public struct PBKDF2PINVerifier: PINVerifier {
    public init() {}

    /// Whether `pin` derives `stored`'s key (white space around the PIN is
    /// ignored, as when it was hashed).
    public func verify(pin: String, against stored: PINHash) -> Bool {
        guard let candidate = try? Self.derive(pin: pin, salt: stored.salt, iterations: stored.iterations),
              candidate.count == stored.hash.count else { return false }
        return candidate.withUnsafeBytes { a in
            stored.hash.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// Hashes `pin` with a fresh random salt: what `switchboard hash-pin`
    /// prints (its `encoded` form). `iterations` must lie in
    /// ``PINHash/minimumIterations``…``PINHash/maximumIterations``.
    public func hash(pin: String, iterations: Int = PINHash.defaultIterations) throws -> PINHash {
        guard (PINHash.minimumIterations...PINHash.maximumIterations).contains(iterations) else {
            throw PINHash.ParseError.iterationsOutOfRange(iterations)
        }
        var salt = [UInt8](repeating: 0, count: PINHash.saltLength)
        guard RAND_bytes(&salt, Int32(PINHash.saltLength)) == 1 else { throw PINHashError.randomFailed }
        return PINHash(iterations: iterations, salt: salt,
                       hash: try Self.derive(pin: pin, salt: salt, iterations: iterations))
    }

    /// The derived key of `pin` (trimmed of white space and line breaks).
    static func derive(pin: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let secret = Array(pin.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        var out = [UInt8](repeating: 0, count: PINHash.hashLength)
        let ok = secret.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { passChars in
                PKCS5_PBKDF2_HMAC(passChars.baseAddress, Int32(passChars.count), salt, Int32(salt.count),
                                  Int32(iterations), EVP_sha256(), Int32(PINHash.hashLength), &out)
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
        // OpenSSL is loaded on first use (COpenSSL's shim): say so when that is what failed.
        let cause = shim_ssl_load_error().map { ": OpenSSL could not be loaded (\(String(cString: $0)))" } ?? ""
        switch self {
        case .randomFailed: return "OpenSSL could not produce random bytes for the salt (RAND_bytes failed)\(cause)"
        case .derivationFailed: return "OpenSSL's PKCS5_PBKDF2_HMAC failed\(cause)"
        }
    }
}
