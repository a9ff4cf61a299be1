import Desk
import Foundation
import Testing

@Suite struct ChatMaskTests {
    func glob(_ pattern: String, _ subject: String) -> Bool {
        ChatMask.glob(Array(ChatCaseFolding.rfc1459(pattern).utf8), Array(ChatCaseFolding.rfc1459(subject).utf8))
    }

    @Test func wildcardsStarAndQuestionMark() {
        #expect(glob("*", ""))
        #expect(glob("a*b", "ab") && glob("a*b", "axxb") && !glob("a*b", "axxc"))
        #expect(glob("a?c", "abc") && !glob("a?c", "ac"))
        #expect(glob("*.nordlicht.example", "vpn.staff.nordlicht.example"))
        #expect(!glob("*.nordlicht.example", "nordlicht.example"))
        #expect(glob("**a**", "bab") && glob("*a*a", "banana") && !glob("*a*x", "banana"))
    }

    /// RFC 1459 §2.2: {}| are the lower case of []\ (and ~ of ^).
    @Test func rfc1459CaseFolding() {
        #expect(ChatCaseFolding.rfc1459("Anna[Away]\\^") == "anna{away}|~")
        #expect(glob("ANNA[work]!*@host", "anna{WORK}!x@HOST"))
        #expect(ChatCaseFolding.rfc1459("Ärger") == "Ärger")  // non-ASCII is left alone
    }

    @Test func masksMustNameAHost() throws {
        #expect(throws: ChatMask.Problem.hostMatchesAnything("*!*@*")) { try ChatMask("*!*@*") }
        #expect(throws: ChatMask.Problem.hostMatchesAnything("anna!*@*.*")) { try ChatMask("anna!*@*.*") }
        #expect(throws: ChatMask.Problem.notNickUserHost("anna")) { try ChatMask("anna") }
        #expect(throws: ChatMask.Problem.notNickUserHost("anna@host")) { try ChatMask("anna@host") }
        #expect(throws: ChatMask.Problem.invalidCharacter("anna!* @host")) { try ChatMask("anna!* @host") }
        let mask = try ChatMask("Anna!*@*.staff.nordlicht.example")
        #expect(mask.matches(nick: "anna", user: "~anna", host: "pc7.staff.nordlicht.example"))
        #expect(!mask.matches(nick: "anna_", user: "~anna", host: "pc7.staff.nordlicht.example"))
        #expect(!mask.matches(nick: "anna", user: "~anna", host: "staff.nordlicht.example.evil.org"))
    }
}

@Suite struct AgentDirectoryTests {
    static let directory = AgentDirectory([
        Agent(id: "anna", name: "Anna Berg", nick: "anna", accounts: ["demo": "Anna"],
              masks: [try! ChatMask("anna!*@*.staff.nordlicht.example")]),
        Agent(id: "ben", name: "Ben Schröder", nick: "Ben[NB]", accounts: ["demo": "ben", "libera": "ben-nb"]),
    ])

    @Test func onANetworkWithAccountsOnlyTheAccountCounts() {
        let d = Self.directory
        // Logged in as anna: it is anna, whatever the nick.
        #expect(d.agent(for: ChatIdentity(network: "demo", nick: "guest42", account: "ANNA"), user: nil, host: nil,
                        networkHasAccounts: true)?.id == "anna")
        // The nick anna without the account: no one, even from a matching host.
        #expect(d.agent(for: ChatIdentity(network: "demo", nick: "anna"), user: "anna",
                        host: "pc1.staff.nordlicht.example", networkHasAccounts: true) == nil)
        // Another account with the nick: no one.
        #expect(d.agent(for: ChatIdentity(network: "demo", nick: "anna", account: "mallory"), user: nil, host: nil,
                        networkHasAccounts: true) == nil)
        // An account counts only on the network it is configured for.
        #expect(d.agent(for: ChatIdentity(network: "libera", nick: "x", account: "anna"), user: nil, host: nil,
                        networkHasAccounts: true) == nil)
        #expect(d.agent(for: ChatIdentity(network: "libera", nick: "x", account: "BEN-NB"), user: nil, host: nil,
                        networkHasAccounts: true)?.id == "ben")
    }

    @Test func onANetworkWithoutAccountsTheMaskCountsNeverTheNickAlone() {
        let d = Self.directory
        #expect(d.agent(for: ChatIdentity(network: "plain", nick: "Anna"), user: "~a", host: "pc1.staff.nordlicht.example",
                        networkHasAccounts: false)?.id == "anna")
        #expect(d.agent(for: ChatIdentity(network: "plain", nick: "anna"), user: "~a", host: "home.example",
                        networkHasAccounts: false) == nil)
        #expect(d.agent(for: ChatIdentity(network: "plain", nick: "anna"), user: nil, host: nil,
                        networkHasAccounts: false) == nil)
        // ben has no masks: on a network without accounts he cannot be recognised at all.
        #expect(d.agent(for: ChatIdentity(network: "plain", nick: "Ben[NB]"), user: "ben", host: "x.example",
                        networkHasAccounts: false) == nil)
    }

    @Test func namingAnAgentByNickIsCaseInsensitive() {
        #expect(Self.directory.agent(nick: "ben{nb}")?.id == "ben")
        #expect(Self.directory.agent(nick: "chris") == nil)
        #expect(Self.directory.agent(id: "anna")?.name == "Anna Berg")
    }
}
