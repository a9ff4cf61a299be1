import Desk
import Foundation
import Testing

/// The directory decides by the network's rules, which it is given: how
/// accounts and nicks compare, and which masks the sender matches. The IRC
/// rules themselves are tested with the adapter (IRCAdapterTests).
@Suite struct AgentDirectoryTests {
    static let directory = AgentDirectory([
        Agent(id: "anna", name: "Anna Berg", nick: "anna", accounts: ["demo": "Anna"],
              masks: ["anna!*@*.staff.nordlicht.example"]),
        Agent(id: "ben", name: "Ben Schröder", nick: "Ben[NB]", accounts: ["demo": "ben", "libera": "ben-nb"]),
    ])
    /// A case-insensitive network's rule (what IRC services do, simplified).
    static func folded(_ name: String) -> String { name.lowercased() }
    /// A case-sensitive network's rule (Matrix ids).
    static func exact(_ name: String) -> String { name }

    @Test func byAccountUnderTheNetworksRule() {
        let d = Self.directory
        #expect(d.agent(network: "demo", account: "ANNA", normalize: Self.folded)?.id == "anna")
        #expect(d.agent(network: "demo", account: "mallory", normalize: Self.folded) == nil)
        // An account counts only on the network it is configured for.
        #expect(d.agent(network: "libera", account: "anna", normalize: Self.folded) == nil)
        #expect(d.agent(network: "libera", account: "BEN-NB", normalize: Self.folded)?.id == "ben")
    }

    @Test func aCaseSensitiveNetworkDoesNotTakeAnotherCaseForTheAgent() {
        let d = Self.directory
        #expect(d.agent(network: "demo", account: "Anna", normalize: Self.exact)?.id == "anna")
        #expect(d.agent(network: "demo", account: "anna", normalize: Self.exact) == nil)
        #expect(d.agent(network: "demo", account: "ANNA", normalize: Self.exact) == nil)
    }

    @Test func byMaskTheNetworksMatcherDecides() {
        let d = Self.directory
        var asked: [String] = []
        let anna = d.agent { mask in
            asked.append(mask)
            return mask == "anna!*@*.staff.nordlicht.example"
        }
        #expect(anna?.id == "anna")
        #expect(asked == ["anna!*@*.staff.nordlicht.example"])
        // ben has no masks: on a network without accounts he cannot be recognised at all.
        #expect(d.agent { _ in false } == nil)
    }

    @Test func namingAnAgentByNickUsesTheNetworksRule() {
        #expect(Self.directory.agent(nick: "ben[nb]", normalize: Self.folded)?.id == "ben")
        #expect(Self.directory.agent(nick: "ben[nb]", normalize: Self.exact) == nil)
        #expect(Self.directory.agent(nick: "chris", normalize: Self.folded) == nil)
        #expect(Self.directory.agent(id: "anna")?.name == "Anna Berg")
    }
}
