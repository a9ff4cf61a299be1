import Foundation
import IRC
@testable import IRCClient
import Testing

@Suite("Who is where, logged in as what; incoming messages")
struct TrackingTests {
    static let allCaps = "account-tag extended-join account-notify server-time echo-message multi-prefix message-tags"

    /// Registered with the given caps and ISUPPORT, in #help with alice (@) and bob (+).
    static func inChannel(caps: String, isupport: String = "CASEMAPPING=rfc1459 WHOX PREFIX=(qaohv)~&@%+")
        -> SessionHarness
    {
        var h = SessionHarness(SessionHarness.configuration(channels: [.init("#help")]))
        _ = h.registerWithCaps(caps, isupport: isupport)
        h.feed(":bot!sb@bot.host JOIN #help" + (caps.contains("extended-join") ? " switchboard :Switchboard" : ""),
               ":irc.test 353 bot = #help :bot @%alice +bob",
               ":irc.test 366 bot #help :End of /NAMES list.")
        return h
    }

    @Test("NAMES with multi-prefix: every member, prefixes stripped")
    func names() {
        var h = Self.inChannel(caps: "multi-prefix")
        #expect(h.session.tracker.members(of: "#help") == ["alice", "bob", "bot"])
        #expect(h.session.tracker.channels["#help"]?.members["alice"] == "@%")
        h.feed(":bob!b@h PART #help", ":carol!c@h JOIN #help", ":alice!a@h NICK alicia")
        #expect(h.session.tracker.members(of: "#help") == ["alicia", "bot", "carol"])
        h.feed(":carol!c@h QUIT :bye")
        #expect(h.session.tracker.members(of: "#help") == ["alicia", "bot"])
        #expect(h.session.tracker.user("carol") == nil)
    }

    @Test("After our JOIN a WHOX query learns everyone's account; 0 means not logged in")
    func whox() {
        var h = Self.inChannel(caps: "multi-prefix")
        #expect(h.take().last == "WHO #help %tcuhnfa,152")
        h.feed(":irc.test 354 bot 152 #help ~a alice.host alice H@ alice_acct",
               ":irc.test 354 bot 152 #help ~b bob.host bob H+ 0",
               ":irc.test 354 bot 152 #help sb bot.vhost bot H 0",
               ":irc.test 354 bot 999 #help x y bob H bob_other",  // someone else's token: ignored
               ":irc.test 315 bot #help :End of /WHO list.")
        #expect(h.session.account(of: "alice") == "alice_acct")
        #expect(h.session.accountState(of: "bob") == .loggedOut)
        #expect(h.session.account(of: "bob") == nil)
        #expect(h.session.ownHostmask == IRCHostmask(nick: "bot", user: "sb", host: "bot.vhost"))
        #expect(h.events().contains(.accountChanged(nick: "alice", account: "alice_acct")))
    }

    @Test("extended-join carries the account; '*' is not logged in")
    func extendedJoin() {
        var h = Self.inChannel(caps: "extended-join account-notify")
        h.feed(":carol!c@h JOIN #help carol_acct :Carol C", ":dave!d@h JOIN #help * :Dave D")
        #expect(h.session.account(of: "carol") == "carol_acct")
        #expect(h.session.accountState(of: "dave") == .loggedOut)
        #expect(h.events().contains(.accountChanged(nick: "carol", account: "carol_acct")))
    }

    @Test("account-notify: ACCOUNT name logs in, ACCOUNT * logs out")
    func accountNotify() {
        var h = Self.inChannel(caps: "extended-join account-notify")
        h.feed(":bob!b@h ACCOUNT bob_acct")
        #expect(h.session.account(of: "bob") == "bob_acct")
        h.feed(":bob!b@h ACCOUNT *")
        #expect(h.session.account(of: "bob") == nil)
        #expect(h.session.accountState(of: "bob") == .loggedOut)
        let events = h.events()
        #expect(events.contains(.accountChanged(nick: "bob", account: "bob_acct")))
        #expect(events.contains(.accountChanged(nick: "bob", account: nil)))
    }

    @Test("A private message's account comes from its account tag; without the tag the sender is not logged in")
    func privateMessageAccountTag() {
        var h = Self.inChannel(caps: Self.allCaps)
        h.feed("@account=alice_acct;time=2026-03-02T09:00:01.500Z :alice!a@h PRIVMSG bot :hello",
               ":stranger!s@h PRIVMSG bot :hi, I am alice")
        let messages = h.events().messages
        #expect(messages.count == 2)
        #expect(messages[0].account == "alice_acct" && messages[0].accountSource == .tag)
        #expect(messages[0].serverTime == Date(timeIntervalSince1970: 1_772_442_001.5))
        #expect(messages[0].isPrivate && messages[0].channel == nil)
        #expect(messages[1].account == nil && messages[1].accountSource == .tagAbsent)
    }

    @Test("Without account-tag: the tracked account for a nick sharing a channel, nil for anyone else")
    func privateMessageTracked() {
        var h = Self.inChannel(caps: "extended-join account-notify")
        h.feed(":bob!b@h ACCOUNT bob_acct",
               ":bob!b@h PRIVMSG bot :hello",
               ":stranger!s@h PRIVMSG bot :hello")
        let messages = h.events().messages
        #expect(messages[0].account == "bob_acct" && messages[0].accountSource == .tracked)
        #expect(messages[1].account == nil && messages[1].accountSource == .unknown)
        // A nick that left every shared channel is forgotten: its old account no longer counts.
        h.feed(":bob!b@h PART #help", ":bob!b@h PRIVMSG bot :still me?")
        #expect(h.events().messages[0].accountSource == .unknown)
        #expect(h.session.account(of: "bob") == nil)
    }

    @Test("A nick that quits and comes back does not keep the old account")
    func quitForgetsAccount() {
        var h = Self.inChannel(caps: "extended-join account-notify")
        h.feed(":bob!b@h ACCOUNT bob_acct", ":bob!b@h QUIT :bye", ":bob!x@evil JOIN #help * :Not Bob")
        #expect(h.session.account(of: "bob") == nil)
    }

    @Test("Tracking follows the server's case mapping: Agent[1] and agent{1} are one user")
    func caseMapping() {
        var h = Self.inChannel(caps: "extended-join account-notify")
        h.feed(":Agent[1]!a@h JOIN #help agent_acct :Agent")
        #expect(h.session.account(of: "agent{1}") == "agent_acct")
        #expect(h.session.tracker.isJoined("#HELP"))
        h.feed(":agent{1}!a@h NICK Agent^")
        #expect(h.session.account(of: "agent~") == "agent_acct")
        // Under ascii the same names differ.
        var ascii = Self.inChannel(caps: "extended-join", isupport: "CASEMAPPING=ascii")
        ascii.feed(":Agent[1]!a@h JOIN #help agent_acct :Agent")
        #expect(ascii.session.account(of: "agent{1}") == nil)
        #expect(ascii.session.account(of: "agent[1]") == "agent_acct")
    }

    @Test("Channel messages: channel set, STATUSMSG prefix removed, formatting kept and stripped, ACTION flagged")
    func channelMessages() {
        var h = Self.inChannel(caps: "multi-prefix")
        h.feed(":alice!a@h PRIVMSG #help :\u{2}!kb\u{2} vpn",
               ":alice!a@h PRIVMSG @#help :ops only",
               ":alice!a@h PRIVMSG #help :\u{1}ACTION waves\u{1}",
               ":alice!a@h NOTICE #help :a notice",
               ":irc.test NOTICE bot :*** server notice")
        let messages = h.events().messages
        #expect(messages.count == 4)
        #expect(messages[0].text == "\u{2}!kb\u{2} vpn" && messages[0].plainText == "!kb vpn")
        #expect(messages[0].channel == "#help")
        #expect(messages[1].channel == "#help" && messages[1].target == "@#help")
        #expect(messages[2].isAction && messages[2].text == "waves")
        #expect(messages[3].isNotice)
    }

    @Test("CTCP VERSION and PING are answered (rate-limited), other CTCP ignored, none become messages")
    func ctcp() {
        var h = Self.inChannel(caps: "multi-prefix")
        _ = h.take()
        h.feed(":alice!a@h PRIVMSG bot :\u{1}VERSION\u{1}",
               ":alice!a@h PRIVMSG bot :\u{1}PING 12345\u{1}",
               ":alice!a@h PRIVMSG bot :\u{1}DCC SEND x 1 2 3\u{1}",
               ":alice!a@h PRIVMSG bot :\u{1}TIME\u{1}")
        #expect(h.take() == ["NOTICE alice :\u{1}VERSION Switchboard support gateway\u{1}",
                             "NOTICE alice :\u{1}PING 12345\u{1}"])
        #expect(h.events().messages.isEmpty)
        for _ in 0..<5 { h.feed(":mallory!m@h PRIVMSG bot :\u{1}VERSION\u{1}") }
        #expect(h.take().count == 1)  // 3 at once, 2 already used
    }

    @Test("echo-message: our own lines coming back are not messages")
    func echoMessage() {
        var h = Self.inChannel(caps: Self.allCaps)
        h.feed("@account=switchboard :bot!sb@bot.host PRIVMSG #help :our own line")
        #expect(h.events().messages.isEmpty)
    }

    @Test("Our hostmask from our JOIN sets the splitter's relay prefix: lines use exactly the room they have")
    func ownHostmaskForSplitting() throws {
        var h = Self.inChannel(caps: "multi-prefix")
        _ = h.take()
        let prefix = ":bot!sb@bot.host ".utf8.count
        try h.session.send(String(repeating: "x", count: 1000), to: "#help", now: h.now)
        let lines = h.take()
        let texts = try lines.map { try #require(IRCMessage(parsing: $0).trailing) }
        #expect(texts.count == 3)
        // The relayed line ":bot!sb@bot.host PRIVMSG #help :xxx…\r\n" is exactly 512 bytes.
        #expect(prefix + "PRIVMSG #help :".utf8.count + texts[0].utf8.count + 2 == 512)
        #expect(texts.joined() == String(repeating: "x", count: 1000))
    }
}
