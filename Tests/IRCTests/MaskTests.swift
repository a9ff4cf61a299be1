import IRC
import Testing

@Suite("Hostmasks and glob masks")
struct MaskTests {
    @Test("Matching is case-mapped and treats [ ] as literal")
    func caseMapped() throws {
        let mask = try IRCMask("Agent[Max]!*@*.Nordlicht.example")
        #expect(mask.matches("agent{max}!~max@vpn.nordlicht.EXAMPLE"))
        #expect(mask.matches(IRCHostmask(parsing: "AGENT[MAX]!m@office.nordlicht.example")))
        #expect(!mask.matches("agentmax!m@office.nordlicht.example"))
        #expect(!mask.matches("agent[max]!m@nordlicht.example.evil.com"))
        let ascii = try IRCMask("a[b]!*@*", caseMapping: .ascii)
        #expect(!ascii.matches("a{b}!x@y"))
    }

    @Test("? matches exactly one character, including a non-ASCII one")
    func questionMark() throws {
        let mask = try IRCMask("j?rg!*@*")
        #expect(mask.matches("jörg!x@y"))
        #expect(!mask.matches("jrg!x@y"))
        #expect(!mask.matches("jooorg!x@y"))
    }

    @Test("Patterns must have a host part; restrictsHost tells nick-only masks apart")
    func validation() throws {
        #expect(throws: IRCNameError(kind: "mask", name: "alice", reason: .missingHostPart)) { try IRCMask("alice") }
        #expect(throws: IRCNameError.self) { try IRCMask("a b@c") }
        #expect(try IRCMask("alice!*@*").restrictsHost == false)
        #expect(try IRCMask("*!*@staff.nordlicht.example").restrictsHost)
    }

    @Test("Backtracking stays correct on many stars")
    func stars() throws {
        let mask = try IRCMask("*a*a*a*a*b@*")
        #expect(!mask.matches(String(repeating: "a", count: 200) + "@x"))
        #expect(mask.matches(String(repeating: "a", count: 200) + "b@x"))
    }

    @Test("Hostnames for configuration are validated like DNS names")
    func hostnames() {
        #expect(IRCHostmask.isValidHostname("irc.libera.chat"))
        #expect(!IRCHostmask.isValidHostname("localhost"))
        #expect(!IRCHostmask.isValidHostname("a..b"))
        #expect(!IRCHostmask.isValidHostname(String(repeating: "a", count: 64) + ".com"))
    }
}
