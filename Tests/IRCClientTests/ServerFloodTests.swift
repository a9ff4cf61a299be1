import Core
import Foundation
import IRC
@testable import IRCClient
import Testing

/// Issue 15: a malicious or very large server must not make the client's
/// memory grow without end. The pure session is fed what such a server
/// sends; the tables stay within the configured bounds, each bound hit is
/// logged once, and memory goes back when the entries leave.
@Suite("A flooding server: bounded tracking, capabilities, ISUPPORT and PONGs")
struct ServerFloodTests {
    static let limits = IRCClientConfiguration.Limits(channels: 3, users: 500, capabilities: 64, sessionLines: 100)

    static func harness() -> SessionHarness {
        var configuration = SessionHarness.configuration(channels: [.init("#help")])
        configuration.limits = limits
        var h = SessionHarness(configuration)
        _ = h.registerWithCaps("extended-join multi-prefix cap-notify", isupport: "CASEMAPPING=rfc1459 WHOX")
        h.feed(":bot!sb@bot.host JOIN #help * :Switchboard")
        _ = h.take()
        _ = h.events()
        return h
    }

    static func warnings(_ h: SessionHarness, containing text: String) -> [String] {
        h.logs.lines.filter { $0.contains("level=warning") && $0.contains(text) }
    }

    @Test("5,000 JOINs to our channel: 500 users tracked, one warning; JOIN/NAMES/WHO for other channels ignored; memory back after they quit")
    func joinFlood() {
        var h = Self.harness()
        for i in 0..<5_000 { h.feed(":u\(i)!x@flood.example JOIN #help * :flood") }
        #expect(h.session.tracker.users.count == 500)
        #expect(h.session.tracker.channels["#help"]?.members.count == 500)
        #expect(Self.warnings(h, containing: "tracking limit reached: 500 users").count == 1)
        // Channels we are not in: nothing tracked.
        h.feed(":v1!x@h JOIN #elsewhere * :v", ":irc.test 353 bot = #elsewhere :v2 v3 @v4",
               ":irc.test 354 bot 152 #elsewhere ~x h v5 H acct")
        #expect(h.session.tracker.user("v1") == nil && h.session.tracker.user("v5") == nil)
        #expect(h.session.tracker.channels["#elsewhere"] == nil)
        let peak = h.session.tracker.users.capacity
        #expect(peak >= 500)
        for i in 0..<5_000 { h.feed(":u\(i)!x@flood.example QUIT :bye") }
        #expect(h.session.tracker.users.count == 1)  // ourselves
        #expect(h.session.tracker.users.capacity < 200)
        #expect(h.session.tracker.channels["#help"]!.members.capacity < 200)
        // Room again: a new member is tracked, and the account it brings.
        h.feed(":agent!a@h JOIN #help anna_acct :Anna")
        #expect(h.session.account(of: "agent") == "anna_acct")
    }

    @Test("Forced into 10 channels with a bound of 3: 3 tracked, no WHO for the rest, one warning")
    func forcedJoins() {
        var h = Self.harness()
        for i in 0..<10 { h.feed(":bot!sb@bot.host JOIN #forced\(i) * :Switchboard") }
        #expect(h.session.tracker.channels.count == 3)
        let who = h.take().filter { $0.hasPrefix("WHO ") }
        #expect(who == ["WHO #forced0 %tcuhnfa,152", "WHO #forced1 %tcuhnfa,152"])
        #expect(Self.warnings(h, containing: "more than 3 channels").count == 1)
    }

    @Test("CAP NEW with thousands of names, repeated: the table stays bounded and a wanted cap is requested once")
    func capFlood() {
        var h = Self.harness()
        for round in 0..<20 {
            let names = (0..<200).map { "vendor.example/cap-\(round)-\($0)=\(String(repeating: "v", count: 50))" }
            h.feed(":irc.test CAP bot NEW :\(names.joined(separator: " ")) account-notify")
        }
        #expect(h.session.offeredCapabilities.count <= 64 + IRCClientConfiguration.defaultCapabilities.count)
        #expect(h.session.offeredCapabilities["account-notify"] != nil)
        let requests = h.take().filter { $0.hasPrefix("CAP REQ") }
        #expect(requests == ["CAP REQ account-notify"])
        #expect(Self.warnings(h, containing: "more than 64 capabilities").count == 1)
        // A NEW token without a name, and an ACK of names we never asked for: no crash, nothing kept.
        h.feed(":irc.test CAP bot NEW := =x", ":irc.test CAP bot ACK :\((0..<300).map { "junk\($0)" }.joined(separator: " "))")
        #expect(h.session.enabledCapabilities.allSatisfy { IRCClientConfiguration.defaultCapabilities.contains($0) })
        // NAK listing caps we never asked for: nothing is requested for them.
        h.feed(":irc.test CAP bot NAK :account-notify bogus-1 bogus-2")
        #expect(h.take().filter { $0.hasPrefix("CAP REQ") } == ["CAP REQ account-notify"])
    }

    @Test("A server that sends PINGs but does not read: PONGs queue up to the bound, one warning")
    func pingFlood() {
        var h = Self.harness()
        for i in 0..<1_000 { h.feed("PING :\(i)") }
        #expect(h.session.queue.sessionLineCount == 100)
        #expect(Self.warnings(h, containing: "PINGs faster than it reads").count == 1)
        let written = h.take()
        #expect(written.count == 100 && written.first == "PONG 0")
        h.feed("PING :again")
        #expect(h.take() == ["PONG again"])
    }

    @Test("Endless 005 lines with new token names: ISUPPORT keeps at most its bound, one warning")
    func isupportFlood() {
        var h = Self.harness()
        for round in 0..<100 {
            let tokens = (0..<13).map { "X\(round)Y\($0)=1" }.joined(separator: " ")
            h.feed(":irc.test 005 bot \(tokens) :are supported by this server")
        }
        #expect(h.session.isupport.tokens.count == ISupport.maximumTokens)
        #expect(h.session.isupport.supportsWHOX)  // what came first is kept
        #expect(Self.warnings(h, containing: "ISUPPORT tokens").count == 1)
    }
}
