import Config
@testable import Desk
import Foundation
import Testing

/// A verifier for the directory's tests: the "hash" is the PIN's bytes,
/// zero-padded. Enough to check that the directory asks the verifier about
/// the right customer's hash; the real PBKDF2 is tested in PINHashingTests.
struct PlainPINVerifier: PINVerifier {
    func verify(pin: String, against stored: PINHash) -> Bool {
        (try? hash(pin: pin, iterations: stored.iterations))?.hash == stored.hash
    }

    func hash(pin: String, iterations: Int) throws -> PINHash {
        let bytes = Array(pin.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        return PINHash(iterations: iterations, salt: Array(repeating: 1, count: 16),
                       hash: bytes + Array(repeating: 0, count: max(0, PINHash.hashLength - bytes.count)))
    }
}

@Suite struct PINHashFormTests {
    @Test func aPINInClearOrAMangledHashIsRefusedWithHowToFixIt() {
        #expect(throws: PINHash.ParseError.clearPIN) { try PINHash(encoded: "4711") }
        #expect(PINHash.ParseError.clearPIN.description.contains("switchboard hash-pin"))
        #expect(throws: PINHash.ParseError.malformed("unknown scheme 'md5'")) { try PINHash(encoded: "md5$1$a$b") }
        #expect(throws: PINHash.ParseError.malformed("it has 2 parts separated by $, not 4")) {
            try PINHash(encoded: "pbkdf2-sha256$600000")
        }
        #expect(throws: PINHash.ParseError.malformed("the hash is not Base64 of 32 bytes")) {
            try PINHash(encoded: "pbkdf2-sha256$600000$c2FsdHNhbHQ=$AAAA")
        }
        #expect(throws: PINHash.ParseError.iterationsOutOfRange(1000)) {
            try PINHash(encoded: "pbkdf2-sha256$1000$c2FsdHNhbHQ=$" + Data(count: 32).base64EncodedString())
        }
    }

    @Test func theStoredFormRoundTripsAndNeverShowsTheHash() throws {
        let hash = PINHash(iterations: 20_000, salt: Array(repeating: 7, count: 16), hash: Array(repeating: 9, count: 32))
        let encoded = hash.encoded
        #expect(encoded.hasPrefix("pbkdf2-sha256$20000$"))
        #expect(try PINHash(encoded: encoded) == hash)
        #expect(hash.description == "PINHash(pbkdf2-sha256, 20000 iterations)")
    }
}

@Suite struct CustomerDirectoryTests {
    static let hash = try! PlainPINVerifier().hash(pin: "4711", iterations: PINHash.minimumIterations)

    static let directory = CustomerDirectory(customers: [
        Customer(number: "10042", name: "Speicherstadt Logistik GmbH",
                 contract: Contract(tier: "premium", from: CalendarDate(text: "2024-01-01")!,
                                    until: CalendarDate(text: "2027-12-31")!),
                 pinHash: hash),
        Customer(number: "10077", name: "Elbe Dental MVZ GmbH",
                 contract: Contract(tier: "enterprise", from: CalendarDate(text: "2026-07-01")!,
                                    until: CalendarDate(text: "2028-06-30")!),
                 pinHash: nil, accounts: [LinkedAccount(network: "libera", account: "ElbeDental[IT]")]),
    ], zone: berlin, verifier: PlainPINVerifier())

    @Test func lookUpByNumberAndByLinkedAccount() {
        let d = Self.directory
        #expect(d.customer(number: " 10042 ")?.name == "Speicherstadt Logistik GmbH")
        #expect(d.customer(number: "99999") == nil)
        // Accounts compare by the network's rule, given by its adapter.
        let folded: (String) -> String = { $0.lowercased() }
        #expect(d.customer(network: "libera", account: "elbedental[it]", normalize: folded)?.number == "10077")
        #expect(d.customer(network: "oftc", account: "elbedental[it]", normalize: folded) == nil)
        // A case-sensitive network (Matrix ids): another case is someone else.
        #expect(d.customer(network: "libera", account: "elbedental[it]") == nil)
        #expect(d.customer(network: "libera", account: "ElbeDental[IT]")?.number == "10077")
    }

    @Test func aLinkedAccountNeedsNoPINButANickAloneProvesNothing() {
        let d = Self.directory
        let loggedIn = ChatIdentity(network: "libera", nick: "someone", account: "ElbeDental[IT]")
        let sameNickNoAccount = ChatIdentity(network: "libera", nick: "ElbeDental[IT]")
        #expect(d.isLinked(loggedIn, to: "10077"))
        #expect(!d.isLinked(sameNickNoAccount, to: "10077"))
        #expect(!d.isLinked(loggedIn, to: "10042"))
        #expect(d.customer(linkedTo: sameNickNoAccount) == nil)
    }

    @Test func contractValidityIsJudgedOnBerlinCalendarDays() {
        let d = Self.directory
        // The last day holds until midnight in Berlin (23:00 UTC in winter) …
        #expect(d.activeContract(number: "10042", at: utc("2027-12-31T22:59:59Z"))?.tier == "premium")
        // … and not a second longer, though it is still 2027-12-31 in UTC.
        #expect(d.activeContract(number: "10042", at: utc("2027-12-31T23:00:00Z")) == nil)
        // Not yet valid is no contract either; the first day counts from its Berlin midnight (CEST: 22:00 UTC before).
        #expect(d.activeContract(number: "10077", at: utc("2026-06-30T21:59:59Z")) == nil)
        #expect(d.activeContract(number: "10077", at: utc("2026-06-30T22:00:00Z"))?.tier == "enterprise")
        #expect(d.activeContract(number: "12345", at: Date()) == nil)
    }

    @Test func verifyPIN() {
        let d = Self.directory
        #expect(d.verifyPIN(number: "10042", pin: "4711"))
        #expect(!d.verifyPIN(number: "10042", pin: "1174"))
        #expect(!d.verifyPIN(number: "10077", pin: "4711"))  // no PIN: only the linked account proves it
        #expect(!d.verifyPIN(number: "55555", pin: "4711"))
    }
}

