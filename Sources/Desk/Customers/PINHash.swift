import Foundation

/// A contract PIN, stored only as a salted PBKDF2-HMAC-SHA256 hash (RFC 8018
/// §5.2) in the form
///
///     pbkdf2-sha256$<iterations>$<salt, Base64>$<hash, Base64>
///
/// with a random 16-byte salt per customer. This is the stored value only:
/// reading and writing its text form is pure; computing and checking a hash
/// is a ``PINVerifier``'s job (`PBKDF2PINVerifier` in the `PINHashing`
/// target, on OpenSSL), so the desk's domain needs no crypto library.
///
/// What this protects and what it does not: a leaked configuration file
/// does not show the PINs, and no two customers' hashes look alike. A PIN
/// of four digits has only 10,000 values, so someone holding the file finds
/// it offline whatever the iteration count (10,000 tries × 100,000 HMACs is
/// minutes on one core; OWASP's 600,000 only makes it a little longer). The
/// real protection of a short PIN is online, and it does not come from the
/// hash being slow: PIN checks are reserved in the store against budgets
/// per number, per sender and overall before anything is hashed
/// (``PINAttemptPolicy``, issue 14), and the conversation serves a customer
/// as non-contract after three wrong PINs (SPEC "Customer conversation").
/// So the default follows `PINBench`'s recommendation, 100,000 iterations
/// (tens of milliseconds): a gateway under attack still answers the real
/// customer quickly. Hashes already stored keep their own count. Keep the
/// customers file readable only by the gateway.
public struct PINHash: Sendable, Hashable, CustomStringConvertible {
    public static let scheme = "pbkdf2-sha256"
    /// For new hashes (`switchboard hash-pin`); see above for why not more.
    public static let defaultIterations = 100_000
    /// Below this a hash is refused when read: it would be too cheap to test.
    public static let minimumIterations = 10_000
    /// Above this, verifying one PIN would stall the gateway.
    public static let maximumIterations = 10_000_000
    /// Bytes of fresh salt per hash.
    public static let saltLength = 16
    /// Bytes of derived key (SHA-256's output).
    public static let hashLength = 32

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

    /// A hash from its parts (a ``PINVerifier`` makes these).
    public init(iterations: Int, salt: [UInt8], hash: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }

    /// The stored form: `pbkdf2-sha256$600000$<salt>$<hash>`.
    public var encoded: String {
        "\(Self.scheme)$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// Never the hash itself (it would end up in logs).
    public var description: String { "PINHash(\(Self.scheme), \(iterations) iterations)" }
}

/// Checks a PIN against a customer's stored hash, and makes the hash of a
/// new PIN (`switchboard hash-pin`).
///
/// The desk only compares: the key derivation itself (PBKDF2 on OpenSSL in
/// production) is injected, so `Desk` stays free of crypto and I/O, and a
/// test can use a cheap verifier. An implementation must compare in
/// constant time and ignore white space around the PIN in both directions.
/// Checking costs what the hash's iterations cost (about half a second at
/// the default): call it off any latency-sensitive path.
public protocol PINVerifier: Sendable {
    /// Whether `pin` is the PIN `stored` was made from.
    func verify(pin: String, against stored: PINHash) -> Bool
    /// The salted hash of `pin` with a fresh random salt.
    func hash(pin: String, iterations: Int) throws -> PINHash
}
