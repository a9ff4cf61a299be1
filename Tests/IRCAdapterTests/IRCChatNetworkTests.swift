import Bots
import Core
import Desk
import DeskFiles
import PINHashing
import Foundation
import IRC
@testable import IRCAdapter
import IRCClient
import Testing

/// The IRC adapter as the bots see it: who a sender is, how names compare,
/// which masks recognise an agent, and what a `/me` becomes.
@Suite struct IRCChatNetworkTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func network() -> IRCChatNetwork<ManualClock> {
        IRCChatNetwork(name: "demo", configuration: IRCClientConfiguration(host: "127.0.0.1", port: 6667, nick: "switchboard"),
                       clock: ManualClock(), logger: .disabled)
    }

    static func incoming(from source: String, account: String? = nil, source accountSource: AccountSource = .unknown,
                         channel: String? = nil, text: String, action: Bool = false, notice: Bool = false)
        -> IRCIncomingMessage {
        IRCIncomingMessage(sender: IRCHostmask(parsing: source), account: account, accountSource: accountSource,
                           target: channel ?? "switchboard", channel: channel, text: text, isNotice: notice,
                           isAction: action, serverTime: nil, receivedAt: Date(timeIntervalSince1970: 1_772_442_000),
                           tags: IRCTags())
    }

    /// irc-parser-tests `mask-match` (the same file IRCTests checks
    /// `IRCMask` with), run against the function production matches with.
    @Test("mask-match vectors: all 6 masks (26 subjects) through the adapter's matcher")
    func maskMatchVectors() throws {
        let url = Self.repositoryRoot.appendingPathComponent("Tests/IRCTests/Vectors/mask-match.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let tests = try #require(root["tests"] as? [[String: Any]])
        var subjects = 0
        for vector in tests {
            let mask = try #require(vector["mask"] as? String)
            for subject in vector["matches"] as? [String] ?? [] {
                #expect(IRCChatNetwork<ManualClock>.hostmask(subject, matches: mask), "\(mask) should match \(subject)")
                subjects += 1
            }
            for subject in vector["fails"] as? [String] ?? [] {
                #expect(!IRCChatNetwork<ManualClock>.hostmask(subject, matches: mask), "\(mask) should not match \(subject)")
                subjects += 1
            }
        }
        #expect(tests.count == 6 && subjects == 26)
    }

    @Test func aSenderWithoutAccountIsTheirHostmaskUnverified() async throws {
        let network = Self.network()
        let message = try #require(await network.chatMessage(Self.incoming(from: "Anna!~anna@pc1.staff.nordlicht.example",
                                                                           text: "!queue")))
        #expect(message.principal == .unverified("Anna!~anna@pc1.staff.nordlicht.example"))
        #expect(message.sender.account == nil && message.sender.nick == "Anna")
        #expect(network.principal(message.principal, matchesMask: "anna!*@*.staff.nordlicht.example"))
        #expect(!network.principal(message.principal, matchesMask: "anna!*@*.evil.example"))
    }

    @Test func anAccountTheNetworkVouchesForIsThePrincipalAndNeverMatchesAMask() async throws {
        let network = Self.network()
        let tagged = try #require(await network.chatMessage(Self.incoming(
            from: "guest42!~g@home.example", account: "anna", source: .tag, text: "hi")))
        #expect(tagged.principal == .account("anna") && tagged.sender.account == "anna")
        #expect(!network.principal(tagged.principal, matchesMask: "*!*@home.example"))
        // An account the client merely remembers without the network saying so now is not vouched for.
        let unknown = try #require(await network.chatMessage(Self.incoming(
            from: "guest42!~g@home.example", account: "anna", source: .unknown, text: "hi")))
        #expect(unknown.principal == .unverified("guest42!~g@home.example"))
    }

    @Test func aMeLineArrivesAsAnActionANoticeNotAtAll() async throws {
        let network = Self.network()
        let direct = try #require(await network.chatMessage(Self.incoming(from: "kunde!k@x.example",
                                                                          text: "wartet seit einer Stunde", action: true)))
        #expect(direct.isAction && direct.text == "wartet seit einer Stunde" && direct.place == .direct)
        let inChannel = try #require(await network.chatMessage(Self.incoming(
            from: "kunde!k@x.example", channel: "#support", text: "switchboard: winkt", action: true)))
        #expect(inChannel.isAction && !inChannel.addressedToBot && inChannel.text == "switchboard: winkt")
        let plain = try #require(await network.chatMessage(Self.incoming(from: "kunde!k@x.example", text: "hallo")))
        #expect(!plain.isAction)
        #expect(await network.chatMessage(Self.incoming(from: "kunde!k@x.example", text: "hallo", notice: true)) == nil)
    }

    /// RFC 1459 mapping, one representative: `[]\~` fold to `{}|^` (the
    /// same folding `IRCCaseMapping` gives the client's own tracking).
    @Test func namesFoldUnderRFC1459() {
        let network = Self.network()
        #expect(network.normalized("Anna[Away]\\~", kind: .user) == "anna{away}|^")
        #expect(network.normalized("anna{away}|^", kind: .user) == network.normalized("ANNA[AWAY]\\~", kind: .user))
        #expect(network.normalized("#Agents", kind: .room) == "#agents")
        #expect(network.normalized("Ärger", kind: .account) == "Ärger")
    }

    @Test func masksThatCannotProveAnyoneAreRefusedAndNeverMatch() {
        typealias Net = IRCChatNetwork<ManualClock>
        #expect(Net.maskProblem("anna!*@*.staff.nordlicht.example") == nil)
        #expect(Net.maskProblem("anna!*@*")?.contains("matches any host") == true)
        #expect(Net.maskProblem("anna!*@*.*")?.contains("matches any host") == true)
        #expect(Net.maskProblem("anna")?.contains("not a nick!user@host") == true)
        #expect(Net.maskProblem("anna@host")?.contains("not a nick!user@host") == true)
        #expect(Net.maskProblem("anna!* @host") != nil)
        let network = Self.network()
        #expect(!network.principal(.unverified("anna!x@anywhere.example"), matchesMask: "anna!*@*"))
    }

    /// The demo agents (config/agents.json5) on a network without accounts:
    /// their own host passes, another host or the nick alone does not.
    @Test func theShippedDemoAgentsAreRecognisedByTheIRCMatcher() throws {
        let desk = try DeskFiles.load(DeskFiles.Paths(directory: Self.repositoryRoot.appendingPathComponent("config").path,
                                                      customers: ["customers.json5", "customers.csv"]),
                                       verifier: PBKDF2PINVerifier())
        let network = Self.network()
        for nick in ["anna", "ben", "chris", "dana", "emil"] {
            let home = ChatPrincipal.unverified("\(nick)!~\(nick)@127.0.0.1")
            #expect(desk.agents.agent { network.principal(home, matchesMask: $0) }?.id == nick)
            let elsewhere = ChatPrincipal.unverified("\(nick)!~\(nick)@evil.example")
            #expect(desk.agents.agent { network.principal(elsewhere, matchesMask: $0) } == nil)
            #expect(desk.agents.agent { network.principal(.unverified(nick), matchesMask: $0) } == nil)
            for mask in desk.agents.agent(id: nick)?.masks ?? [] {
                #expect(IRCChatNetwork<ManualClock>.maskProblem(mask) == nil, "\(mask)")
            }
        }
    }
}
