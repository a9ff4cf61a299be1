import Desk
import Foundation
import PINHashing
import Testing

@Suite struct PBKDF2PINVerifierTests {
    let verifier = PBKDF2PINVerifier()

    @Test func aHashVerifiesItsPINAndNoOther() throws {
        let hash = try verifier.hash(pin: "4711", iterations: PINHash.minimumIterations)
        #expect(verifier.verify(pin: "4711", against: hash))
        #expect(verifier.verify(pin: " 4711\n", against: hash))  // white space around a typed PIN is ignored
        #expect(!verifier.verify(pin: "4712", against: hash))
        #expect(!verifier.verify(pin: "", against: hash))
        #expect(!verifier.verify(pin: "47110", against: hash))
    }

    @Test func theStoredFormRoundTripsAndNeverShowsThePIN() throws {
        let hash = try verifier.hash(pin: "4711", iterations: 20_000)
        let encoded = hash.encoded
        #expect(encoded.hasPrefix("pbkdf2-sha256$20000$"))
        #expect(encoded.split(separator: "$").count == 4)
        #expect(!encoded.contains("4711"))
        let parsed = try PINHash(encoded: encoded)
        #expect(parsed == hash)
        #expect(verifier.verify(pin: "4711", against: parsed))
    }

    @Test func everyHashHasItsOwnSalt() throws {
        let a = try verifier.hash(pin: "4711", iterations: PINHash.minimumIterations)
        let b = try verifier.hash(pin: "4711", iterations: PINHash.minimumIterations)
        #expect(a.salt != b.salt)
        #expect(a.hash != b.hash)
    }

    @Test func tooFewIterationsAreRefused() {
        #expect(throws: PINHash.ParseError.iterationsOutOfRange(1000)) { try verifier.hash(pin: "4711", iterations: 1000) }
    }

    /// A known answer for PBKDF2-HMAC-SHA256 (P = "password", S = "salt",
    /// c = 4096, 32 bytes; the widely published vector, which Python's
    /// hashlib gives too): our OpenSSL call computes exactly that function.
    @Test func matchesTheKnownPBKDF2SHA256Answer() {
        let expected = "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        var bytes: [UInt8] = []
        var index = expected.startIndex
        while index < expected.endIndex {
            let next = expected.index(index, offsetBy: 2)
            bytes.append(UInt8(expected[index..<next], radix: 16)!)
            index = next
        }
        let known = PINHash(iterations: 4096, salt: Array("salt".utf8), hash: bytes)
        #expect(verifier.verify(pin: "password", against: known))
        #expect(!verifier.verify(pin: "Password", against: known))
    }
}
