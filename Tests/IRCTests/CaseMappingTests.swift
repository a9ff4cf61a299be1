import IRC
import Testing

@Suite("Case mapping, nicknames and channel names")
struct CaseMappingTests {
    @Test("rfc1459 folds []\\~ to {}|^, strict-rfc1459 not ~, ascii only letters")
    func folding() {
        #expect(IRCCaseMapping.rfc1459.lowercased("Agent[Max]\\~") == "agent{max}|^")
        #expect(IRCCaseMapping.strictRFC1459.lowercased("Agent[Max]\\~") == "agent{max}|~")
        #expect(IRCCaseMapping.ascii.lowercased("Agent[Max]\\~") == "agent[max]\\~")
        #expect(IRCCaseMapping.rfc1459.lowercased("ÄRGER") == "Ärger")
        #expect(IRCCaseMapping.rfc1459.equals("NordBox[1]", "nordbox{1}"))
        #expect(!IRCCaseMapping.ascii.equals("NordBox[1]", "nordbox{1}"))
        #expect(IRCCaseMapping(isupportValue: "RFC1459") == .rfc1459)
        #expect(IRCCaseMapping(isupportValue: "strict-rfc1459") == .strictRFC1459)
        #expect(IRCCaseMapping(isupportValue: "rfc8265") == nil)
    }

    @Test("Non-ASCII letters are not folded (the mappings are ASCII-only)")
    func nonASCII() {
        #expect(IRCCaseMapping.rfc1459.lowercased("ÄÖÜ") == "ÄÖÜ")
    }

    @Test("Nicknames compare and hash under the mapping")
    func nickEquality() throws {
        let a = try IRCNickName("Agent[1]")
        let b = try IRCNickName("agent{1}")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a.name == "Agent[1]")
        #expect(a.key == "agent{1}")
        let asciiA = try IRCNickName("Agent[1]", caseMapping: .ascii)
        let asciiB = try IRCNickName("agent{1}", caseMapping: .ascii)
        #expect(asciiA != asciiB)
        var onDuty: [IRCNickName: String] = [:]
        onDuty[try IRCNickName("MAX")] = "max@nordlicht"
        #expect(onDuty[try IRCNickName("max")] == "max@nordlicht")
    }

    @Test("Invalid nicknames are refused with the reason")
    func nickValidation() {
        #expect(throws: IRCNameError(kind: "nickname", name: "", reason: .empty)) { try IRCNickName("") }
        #expect(throws: IRCNameError(kind: "nickname", name: "a b", reason: .forbiddenCharacter(" "))) {
            try IRCNickName("a b")
        }
        for bad in ["a,b", "a*", "a?", "a!b", "a@b", "a.b", "a\u{7}", "a\r\nQUIT"] {
            #expect(throws: IRCNameError.self, "\(bad.debugDescription)") { try IRCNickName(bad) }
        }
        for bad in ["#chan", "&x", "$x", ":x", "@op", "+v", "%h", "~q"] {
            #expect(throws: IRCNameError.self, "\(bad)") { try IRCNickName(bad) }
        }
        #expect(throws: IRCNameError(kind: "nickname", name: "abcdefghij", reason: .tooLong(length: 10, limit: 9))) {
            try IRCNickName("abcdefghij", maximumLength: 9)
        }
        for good in ["switchboard", "[away]nick", "a_b-c", "x^`|{}", "Ärger", "9lives"] {
            #expect((try? IRCNickName(good)) != nil, "\(good)")
        }
        let error = IRCNameError(kind: "nickname", name: "a b", reason: .forbiddenCharacter(" "))
        #expect(error.description == "nickname \"a b\" contains ' ', which is not allowed")
    }

    @Test("Channel names: a channel type first, no space, comma or BEL; compared under the mapping")
    func channels() throws {
        #expect(try IRCChannelName("#NordBox[DE]") == IRCChannelName("#nordbox{de}"))
        #expect(throws: IRCNameError(kind: "channel name", name: "nordbox", reason: .missingChannelType(allowed: "#&"))) {
            try IRCChannelName("nordbox")
        }
        for bad in ["#a b", "#a,b", "#a\u{7}", "#a\nb", ""] {
            #expect(throws: IRCNameError.self, "\(bad.debugDescription)") { try IRCChannelName(bad) }
        }
        var isupport = ISupport()
        isupport.apply(tokens: ["CHANTYPES=#", "CHANNELLEN=8", "CASEMAPPING=ascii"])
        #expect(throws: IRCNameError.self) { try IRCChannelName("&local", isupport: isupport) }
        #expect(throws: IRCNameError.self) { try IRCChannelName("#toolong1", isupport: isupport) }
        #expect(try IRCChannelName("#A[]", isupport: isupport) != IRCChannelName("#a{}", isupport: isupport))
    }
}
