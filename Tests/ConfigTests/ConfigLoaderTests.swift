import Config
import Synchronization
import Foundation
import Testing

/// A small configuration shaped like the desk's files, to exercise the loader.
private struct SampleFile: Decodable {
    struct Customer: Decodable {
        struct Contract: Decodable {
            var tier: String
            var until: Day
        }
        var number: String
        var name: String
        var contract: Contract?
        var accounts: [String]?
    }
    var customers: [Customer]
    var wait: ConfigDuration?
    var limits: [String: Int]?
}

/// A date value type, as Desk's calendar dates are: it says what it expects.
private struct Day: Decodable, ConfigValue {
    static var configExpectation: String { "a date like 2026-12-31" }
    var text: String
    init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        guard value.count == 10, value.split(separator: "-").count == 3 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected \(Self.configExpectation), found \"\(value)\""))
        }
        text = value
    }
}

private func issues(_ text: String, file: String = "config/sample.json5") -> [ConfigIssue] {
    do {
        _ = try ConfigDocument(file: file, text: text).decode(SampleFile.self)
        return []
    } catch {
        return error.issues
    }
}

private func decode(_ text: String) throws -> SampleFile {
    try ConfigDocument(file: "config/sample.json5", text: text).decode(SampleFile.self)
}

@Suite struct ConfigLoaderTests {
    @Test func readsJSON5WithCommentsUnquotedKeysSingleQuotesAndTrailingCommas() throws {
        let file = try decode("""
        \u{FEFF}// customers of the demo
        {
          /* block
             comment */
          customers: [
            { number: '10042', name: "Hanseatic \\"Logistik\\" GmbH", contract: { tier: 'premium', until: '2027-12-31', }, },
            { 'number': "10001", name: 'Line \\
        continued', },
          ],
          wait: "1h30m",
          limits: { perDay: 0x10, "per hour": +3, },
        }
        """)
        #expect(file.customers.count == 2)
        #expect(file.customers[0].name == "Hanseatic \"Logistik\" GmbH")
        #expect(file.customers[0].contract?.until.text == "2027-12-31")
        #expect(file.customers[1].name == "Line continued")  // JSON5 line continuation drops the line break
        #expect(file.wait == ConfigDuration(seconds: 5400))
        #expect(file.limits == ["perDay": 16, "per hour": 3])
    }

    @Test func unknownKeyIsAnErrorWithLineAndSuggestion() {
        let found = issues("""
        {
          customers: [
            { number: "1", name: "A" },
            { number: "2", name: "B",
              contract: { tier: "basic", untill: "2026-01-01" } },
          ],
        }
        """)
        // `untill` is reported as unknown; the missing `until` stops decoding first.
        #expect(found.count == 1)
        #expect(found[0].description
            == "config/sample.json5:5:17: customers[1].contract.until: missing field 'until' (the file has 'untill' — a typo?)")
    }

    @Test func unknownKeyNextToValidOnesIsReported() {
        let found = issues("""
        {
          customers: [ { number: "1", name: "A", acounts: ["x"] } ],
          wiat: "5m",
        }
        """)
        #expect(found.map(\.description) == [
            "config/sample.json5:2:42: customers[0].acounts: unknown key 'acounts' — did you mean 'accounts'?",
            "config/sample.json5:3:3: wiat: unknown key 'wiat' — did you mean 'wait'?",
        ])
    }

    @Test func optionalFieldsMayBeLeftOutAndDictionariesTakeAnyKey() throws {
        let file = try decode("{ customers: [], limits: { anything: 1 } }")
        #expect(file.customers.isEmpty && file.wait == nil && file.limits == ["anything": 1])
    }

    @Test func wrongTypeNamesTheFieldPathAndLine() {
        let found = issues("""
        {
          customers: [
            { number: "1", name: "A" },
            { number: "2", name: "B" },
            { number: "3", name: "C" },
            { number: "4", name: "D",
              contract: {
                tier: "basic",
                until: "31.12.2026",
              },
            },
          ],
        }
        """)
        #expect(found.map(\.description) == [
            "config/sample.json5:9:16: customers[3].contract.until: expected a date like 2026-12-31, found \"31.12.2026\"",
        ])
    }

    @Test func aValueTypeSaysWhatItExpectsWhenGivenTheWrongKind() {
        let found = issues("{ customers: [ { number: \"1\", name: \"A\", contract: { tier: \"b\", until: 2026 } } ] }")
        #expect(found.first?.message == "expected a date like 2026-12-31, found the number 2026")
        #expect(found.first?.field == "customers[0].contract.until")
    }

    @Test func primitiveMismatchesReadNaturally() {
        #expect(issues("{ customers: [ { number: 10042, name: \"A\" } ] }").first?.message
            == "expected a text in quotes, found the number 10042")
        #expect(issues("{ customers: {} }").first?.message == "expected a list [ … ], found an object")
        #expect(issues("{ customers: [], limits: { a: 1.5 } }").first?.description
            == "config/sample.json5:1:31: limits.a: expected a whole number, found the number 1.5")
        #expect(issues("{ customers: [], limits: { a: null } }").first?.message == "expected a whole number, found null")
    }

    @Test func missingFieldPointsAtTheObjectThatLacksIt() {
        let found = issues("{\n  customers: [\n    { number: \"1\" },\n  ],\n}")
        #expect(found.map(\.description) == ["config/sample.json5:3:5: customers[0].name: missing field 'name'"])
    }

    @Test func durationsNeedAUnit() {
        #expect(issues("{ customers: [], wait: 300 }").first?.message
            == "expected a duration like 30s, 5m, 4h or 1h30m, found the number 300 — add a unit, e.g. \"300s\" or \"300m\"")
        #expect(issues("{ customers: [], wait: \"5 minutes\" }").first?.message
            == "expected a duration like 30s, 5m, 4h or 1h30m, found \"5 minutes\"")
        #expect(ConfigDuration(text: "1h30m")?.seconds == 5400)
        #expect(ConfigDuration(text: "45s")?.seconds == 45)
        #expect(ConfigDuration(text: "0")?.seconds == 0)
        #expect(ConfigDuration(text: "30m1h") == nil)
        #expect(ConfigDuration(text: "5") == nil)
        #expect(ConfigDuration(text: "m") == nil)
        #expect(ConfigDuration(seconds: 5400).description == "1h30m")
    }

    @Test func syntaxErrorsGiveLineAndColumn() {
        #expect(issues("{\n  customers: [\n    { number: \"1\" name: \"A\" },\n  ]\n}").first?.description
            == "config/sample.json5:3:19: expected ',' or '}' after the value of 'number', found 'n'")
        #expect(issues("{ customers: [ { number: \"1, name: 'A' } ] }\n").first?.description
            == "config/sample.json5:1:26: unterminated string: it runs to the end of the line (close it with \", or write \\n for a line break)")
        #expect(issues("{ customers: [], wait: 5m }").first?.description
            == "config/sample.json5:1:24: unexpected 'm' in a number: a text value needs quotes")
        #expect(issues("{ customers: [], /* open").first?.description
            == "config/sample.json5:1:18: unterminated /* comment")
        #expect(issues("{ customers: [], wait: soon }").first?.description
            == "config/sample.json5:1:24: unexpected word 'soon': a text value needs quotes (\"soon\")")
        #expect(issues("  \n// nothing\n").first?.message == "the file is empty: expected a value such as { … }")
        #expect(issues("{ customers: [] } }").first?.description
            == "config/sample.json5:1:19: unexpected '}' after the end of the document")
    }

    @Test func aKeyGivenTwiceIsAnError() {
        // JSON5 would let the last win and Foundation keeps the first: either drops a setting.
        #expect(issues("{\n  customers: [],\n  wait: \"1m\",\n  wait: \"2m\",\n}").first?.description
            == "config/sample.json5:4:3: the key 'wait' appears twice in this object (first on line 3)")
    }

    @Test func escapesThatFoundationsJSON5ReaderRejectsStillWork() throws {
        struct Text: Decodable { var a: String }
        let value = try ConfigDocument(file: "t", text: #"{ a: 'tab\tvt\vq\q\x41\u00e4\ud83d\ude00' }"#).decode(Text.self)
        #expect(value.a == "tab\tvt\u{0B}qqAä😀")
        #expect(throws: ConfigError.self) { try ConfigDocument(file: "t", text: #"{ a: 'nul\0' }"#) }
    }

    @Test func numbersInJSON5Forms() throws {
        struct Numbers: Decodable { var a: Double; var b: Double; var c: Int; var d: Double; var e: Int64 }
        let value = try ConfigDocument(file: "n", text: "{ a: .5, b: 5., c: -0x1F, d: -Infinity, e: 9223372036854775807 }")
            .decode(Numbers.self)
        #expect(value.a == 0.5 && value.b == 5 && value.c == -31 && value.d == -.infinity && value.e == Int64.max)
        #expect(throws: ConfigError.self) { try ConfigDocument(file: "n", text: "{ a: 012 }") }
        struct Small: Decodable { var x: UInt8 }
        #expect(throws: ConfigError.self) { try ConfigDocument(file: "n", text: "{ x: 300 }").decode(Small.self) }
    }

    @Test func aFileThatCannotBeReadSaysWhy() {
        #expect {
            try ConfigDocument(contentsOf: URL(fileURLWithPath: "/nonexistent/desk.json5"))
        } throws: { error in
            (error as? ConfigError)?.description == "/nonexistent/desk.json5: cannot open: No such file or directory"
        }
    }

    @Test func invalidUTF8NamesTheLine() {
        var data = Data("{\n  customers: [],\n  wait: \"".utf8)
        data.append(contentsOf: [0xC3, 0x28])
        data.append(contentsOf: Data("\"\n}".utf8))
        #expect {
            _ = try ConfigDocument.utf8Text(data, file: "x.json5")
        } throws: { error in
            (error as? ConfigError)?.description == "x.json5:3: the file is not valid UTF-8 (save it as UTF-8)"
        }
    }

    @Test func pathsPrintLikeAReaderWouldWriteThem() {
        #expect(ConfigPath("customers", 3, "contract", "until").description == "customers[3].contract.until")
        #expect(ConfigPath("tiers", 0, "severities", "1", "response").description == "tiers[0].severities[\"1\"].response")
        #expect(ConfigPath.root.description == "(top level)")
    }

    @Test func positionsOfPathsForChecksAfterDecoding() throws {
        let document = try ConfigDocument(file: "f", text: "{\n  a: [\n    { b: 1 },\n    { b: 2,\n      c: 'x' },\n  ],\n}")
        #expect(document.position(of: ConfigPath("a", 1, "c")) == TextPosition(line: 5, column: 10))
        #expect(document.position(of: ConfigPath("a", 1, "missing")) == TextPosition(line: 4, column: 5))
        #expect(document.issue("bad", at: ConfigPath("a", 0, "b")).description == "f:3:10: a[0].b: bad")
        #expect(document.keys(at: ConfigPath("a", 1)) == ["b", "c"])
    }
}

/// Counts how often it is decoded (each test uses its own key, so suites
/// running in parallel do not disturb each other).
private struct Counted: Decodable {
    static let decodings = Mutex<[String: Int]>([:])
    var name: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        Self.decodings.withLock { $0[name, default: 0] += 1 }
    }

    enum CodingKeys: String, CodingKey { case name }
}

@Suite struct DecodingOnceTests {
    /// Issue 8: the loader built the value, threw it away and had
    /// `JSONDecoder` build it again. A type's `init(from:)` now runs once
    /// per value in the file, and a value read once is the value returned.
    @Test func eachValueIsDecodedOnce() throws {
        let document = try ConfigDocument(file: "once.json5", text: #"{ items: [{ name: "once-a" }, { name: "once-b" }] }"#)
        struct File: Decodable { var items: [Counted] }
        let file = try document.decode(File.self)
        #expect(file.items.map(\.name) == ["once-a", "once-b"])
        #expect(Counted.decodings.withLock { [$0["once-a"], $0["once-b"]] } == [1, 1])
    }

    /// A failed decode reports the first error, with its place, and builds nothing twice.
    @Test func anErrorStillNamesItsPlace() throws {
        let document = try ConfigDocument(file: "once.json5", text: "{\n  items: [{ name: \"once-c\" }, { name: 5 }],\n}")
        struct File: Decodable { var items: [Counted] }
        #expect(throws: ConfigError.self) { try document.decode(File.self) }
        do {
            _ = try document.decode(File.self)
        } catch {
            #expect(error.description.hasPrefix("once.json5:2:"), "\(error)")
            #expect(error.description.contains("items[1].name"), "\(error)")
        }
    }
}
