import Core
@testable import Desk
import Foundation
import Testing

@Suite struct PINHashTests {
    @Test func aHashVerifiesItsPINAndNoOther() throws {
        let hash = try PINHash.make(pin: "4711", iterations: PINHash.minimumIterations)
        #expect(hash.verify(pin: "4711"))
        #expect(hash.verify(pin: " 4711\n"))  // white space around a typed PIN is ignored
        #expect(!hash.verify(pin: "4712"))
        #expect(!hash.verify(pin: ""))
        #expect(!hash.verify(pin: "47110"))
    }

    @Test func theStoredFormRoundTripsAndNeverShowsThePIN() throws {
        let hash = try PINHash.make(pin: "4711", iterations: 20_000)
        let encoded = hash.encoded
        #expect(encoded.hasPrefix("pbkdf2-sha256$20000$"))
        #expect(encoded.split(separator: "$").count == 4)
        #expect(!encoded.contains("4711"))
        let parsed = try PINHash(encoded: encoded)
        #expect(parsed == hash)
        #expect(parsed.verify(pin: "4711"))
        #expect(hash.description == "PINHash(pbkdf2-sha256, 20000 iterations)")
    }

    @Test func everyHashHasItsOwnSalt() throws {
        let a = try PINHash.make(pin: "4711", iterations: PINHash.minimumIterations)
        let b = try PINHash.make(pin: "4711", iterations: PINHash.minimumIterations)
        #expect(a.salt != b.salt)
        #expect(a.hash != b.hash)
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
        #expect(known.verify(pin: "password"))
        #expect(!known.verify(pin: "Password"))
    }

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
}

@Suite struct CustomerDirectoryTests {
    static let hash = try! PINHash.make(pin: "4711", iterations: PINHash.minimumIterations)

    static let directory = CustomerDirectory(customers: [
        Customer(number: "10042", name: "Speicherstadt Logistik GmbH",
                 contract: Contract(tier: "premium", from: CalendarDate(text: "2024-01-01")!,
                                    until: CalendarDate(text: "2027-12-31")!),
                 pinHash: hash),
        Customer(number: "10077", name: "Elbe Dental MVZ GmbH",
                 contract: Contract(tier: "enterprise", from: CalendarDate(text: "2026-07-01")!,
                                    until: CalendarDate(text: "2028-06-30")!),
                 pinHash: nil, accounts: [LinkedAccount(network: "libera", account: "ElbeDental[IT]")]),
    ], zone: berlin)

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

@Suite struct CSVTableTests {
    @Test func readsQuotedFieldsWithSeparatorsQuotesAndLineBreaks() throws {
        let text = "\u{FEFF}customer_number,name,accounts\r\n"
            + "10042,\"Speicherstadt, Logistik\",\r\n"
            + "10043,\"Autohaus \"\"Elbblick\"\"\",x:y\r\n"
            + "10044,\"Zwei\r\nZeilen\",\r\n"
            + "\r\n"
            + "10045,Ende,\n"
        let table = try CSVTable(text: text, file: "c.csv")
        #expect(table.separator == ",")
        #expect(table.columns == ["customer_number", "name", "accounts"])
        #expect(table.rows.map { $0.fields[1].text } == ["Speicherstadt, Logistik", "Autohaus \"Elbblick\"", "Zwei\r\nZeilen", "Ende"])
        // Line numbers follow the file, also after a field with a line break and a blank line.
        #expect(table.rows.map(\.line) == [2, 3, 4, 7])
        #expect(table.rows[1].field("accounts", in: table)?.text == "x:y")
        #expect(table.rows[3].fields[1].column == 7)
    }

    @Test func detectsSemicolonsAsGermanSpreadsheetsWriteThem() throws {
        let table = try CSVTable(text: "Customer_Number;Name\n10042;\"Müller; Söhne\"\n", file: "c.csv")
        #expect(table.separator == ";")
        #expect(table.columns == ["customer_number", "name"])
        #expect(table.rows[0].fields.map(\.text) == ["10042", "Müller; Söhne"])
    }

    @Test func commentLinesBeforeTheHeaderAreSkipped() throws {
        let table = try CSVTable(text: "# a note\r\n# another\r\nnumber,name\r\n1,\"# not a comment\"\r\n", file: "c.csv")
        #expect(table.rows.count == 1)
        #expect(table.rows[0].line == 4)
        #expect(table.rows[0].fields[1].text == "# not a comment")
    }

    private func error(_ text: String) -> String {
        do {
            _ = try CSVTable(text: text, file: "config/customers.csv")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func malformedCSVIsRefusedWithLineAndColumn() {
        #expect(error("a,b\n1,\"open\n2,x\n")
            == "config/customers.csv:2:3: unterminated quoted field (the quote opened here is never closed)")
        #expect(error("a,b\n1,\"closed\"x\n")
            == "config/customers.csv:2:11: unexpected text after a closing quote (a quote inside a quoted field is written twice: \"\")")
        #expect(error("a,b\n1,say \"hi\"\n")
            == "config/customers.csv:2:7: a quote inside a field that does not start with one: put the whole field in quotes and write the quote twice (\"\")")
        #expect(error("a,b\n1,2\n3\n4,5,6\n") == """
            config/customers.csv:3:1: this row has 1 fields, the header 2 (a field with a ',' in it must be in double quotes)
            config/customers.csv:4:1: this row has 3 fields, the header 2 (a field with a ',' in it must be in double quotes)
            """)
        #expect(error("a,a\n") == "config/customers.csv:1:3: a: the column 'a' appears twice in the header")
        #expect(error("") == "config/customers.csv:1: the file is empty: expected a header row")
    }
}
