import Foundation
import IRC
@testable import IRCClient
import Testing

@Suite("Registration: CAP negotiation, SASL, nick collisions")
struct RegistrationTests {
    @Test("A server without CAP (421) registers with NICK/USER; channels are joined after the MOTD")
    func withoutCAP() {
        var h = SessionHarness(SessionHarness.configuration(channels: [.init("#help")]))
        h.connect()
        #expect(h.take() == ["CAP LS 302", "NICK bot", "USER sb 0 * Switchboard"])
        h.feed(":irc.test 421 * CAP :Unknown command",
               ":irc.test 001 bot :Welcome to the Test IRC Network bot!sb@host.example")
        #expect(h.take() == [])  // no CAP END for a server without CAP; no JOIN before the MOTD ends
        #expect(h.session.phase == .registered)
        h.feed(":irc.test 376 bot :End of MOTD")
        #expect(h.take() == ["JOIN #help"])
        #expect(h.events().contains(.registered(nick: "bot")))
        #expect(h.session.ownHostmask == IRCHostmask(nick: "bot", user: "sb", host: "host.example"))
    }

    @Test("A server that ignores CAP and welcomes at once is registered too")
    func capIgnored() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.feed(":irc.test 001 bot :Welcome", ":irc.test 422 bot :MOTD File is missing")
        #expect(h.take() == [])
        #expect(h.events().contains(.registered(nick: "bot")))
    }

    @Test("PASS goes first when configured")
    func password() {
        var config = SessionHarness.configuration()
        config.password = "letmein"
        var h = SessionHarness(config)
        h.connect()
        #expect(h.take().first == "PASS letmein")
    }

    @Test("Multi-line CAP LS 302: all lines are read, only offered wanted caps are requested, CAP END after ACK")
    func multilineLS() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS * :multi-prefix extended-join sasl=PLAIN,EXTERNAL away-notify")
        #expect(h.take() == [])  // not complete yet
        h.feed(":irc.test CAP * LS :account-tag server-time echo-message draft/foo")
        // No SASL configured: sasl is not requested.
        #expect(h.take() == ["CAP REQ :server-time account-tag extended-join echo-message multi-prefix"])
        h.feed(":irc.test CAP bot ACK :server-time account-tag extended-join echo-message multi-prefix")
        #expect(h.take() == ["CAP END"])
        #expect(h.session.enabledCapabilities == ["server-time", "account-tag", "extended-join", "echo-message",
                                                   "multi-prefix"])
    }

    @Test("A NAK of several caps asks for each on its own")
    func nakRetriesIndividually() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :server-time account-tag")
        #expect(h.take() == ["CAP REQ :server-time account-tag"])
        h.feed(":irc.test CAP * NAK :server-time account-tag")
        #expect(h.take() == ["CAP REQ server-time", "CAP REQ account-tag"])
        h.feed(":irc.test CAP * ACK server-time")
        #expect(h.take() == [])
        h.feed(":irc.test CAP * NAK account-tag")
        #expect(h.take() == ["CAP END"])
        #expect(h.session.enabledCapabilities == ["server-time"])
    }

    @Test("CAP NEW requests newly offered wanted caps; CAP DEL withdraws them")
    func capNotify() {
        var h = SessionHarness(SessionHarness.configuration())
        _ = h.registerWithCaps("cap-notify server-time")
        #expect(h.session.enabledCapabilities == ["cap-notify", "server-time"])
        h.feed(":irc.test CAP bot NEW :account-tag away-notify")
        #expect(h.take() == ["CAP REQ account-tag"])
        h.feed(":irc.test CAP bot ACK :account-tag")
        #expect(h.session.enabledCapabilities.contains("account-tag"))
        h.feed(":irc.test CAP bot DEL :account-tag")
        #expect(!h.session.enabledCapabilities.contains("account-tag"))
    }

    // MARK: SASL

    @Test("SASL PLAIN: AUTHENTICATE PLAIN, the base64 payload after '+', CAP END after 903")
    func saslPlainSuccess() {
        var h = SessionHarness(SessionHarness.configuration(sasl: .plain(account: "switchboard", password: "s3cret")))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :sasl=PLAIN account-tag")
        #expect(h.take() == ["CAP REQ :account-tag sasl"])
        h.feed(":irc.test CAP * ACK :account-tag sasl")
        #expect(h.take() == ["AUTHENTICATE PLAIN"])
        h.feed("AUTHENTICATE +")
        let payload = Data("switchboard\u{0}switchboard\u{0}s3cret".utf8).base64EncodedString()
        #expect(h.take() == ["AUTHENTICATE \(payload)"])
        h.feed(":irc.test 900 * *!sb@host switchboard :You are now logged in as switchboard",
               ":irc.test 903 * :SASL authentication successful")
        #expect(h.take() == ["CAP END"])
        #expect(h.events().contains(.loggedIn(account: "switchboard")))
        #expect(h.session.ownAccount == "switchboard")
        h.feed(":irc.test 001 bot :Welcome", ":irc.test 376 bot :End")
        #expect(h.events().contains(.registered(nick: "bot")))
        #expect(h.session.account(of: "bot") == "switchboard")
    }

    @Test("A long SASL payload goes in 400-byte chunks, and one that is a multiple of 400 ends with '+'")
    func saslChunks() {
        // account\0account\0password → base64 of exactly 600 bytes = 800 characters.
        let password = String(repeating: "p", count: 600 - 2 * 3 - 2)
        var h = SessionHarness(SessionHarness.configuration(sasl: .plain(account: "bot", password: password)))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :sasl")
        _ = h.take()
        h.feed(":irc.test CAP * ACK :sasl")
        _ = h.take()
        h.feed("AUTHENTICATE +")
        let lines = h.take()
        #expect(lines.count == 3)
        #expect(lines[0].count == "AUTHENTICATE ".count + 400)
        #expect(lines[1].count == "AUTHENTICATE ".count + 400)
        #expect(lines[2] == "AUTHENTICATE +")
        let joined = lines[0].dropFirst(13) + lines[1].dropFirst(13)
        #expect(Data(base64Encoded: String(joined)) == Data("bot\u{0}bot\u{0}\(password)".utf8))
    }

    @Test("SASL EXTERNAL sends an empty response ('+')")
    func saslExternal() {
        var h = SessionHarness(SessionHarness.configuration(sasl: .external()))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :sasl=PLAIN,EXTERNAL")
        #expect(h.take() == ["CAP REQ sasl"])
        h.feed(":irc.test CAP * ACK :sasl")
        #expect(h.take() == ["AUTHENTICATE EXTERNAL"])
        h.feed("AUTHENTICATE +")
        #expect(h.take() == ["AUTHENTICATE +"])
        h.feed(":irc.test 900 * bot!sb@host certuser :You are now logged in as certuser",
               ":irc.test 903 * :SASL authentication successful")
        #expect(h.take() == ["CAP END"])
        #expect(h.events().contains(.loggedIn(account: "certuser")))
    }

    @Test("A wrong password with required SASL: a clear error, no CAP END, disconnect, reconnect with backoff")
    func saslRequiredFailure() {
        var h = SessionHarness(SessionHarness.configuration(sasl: .plain(account: "bot", password: "wrong")))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +")
        _ = h.take()
        h.feed(":irc.test 904 * :SASL authentication failed")
        #expect(h.take() == [])
        let reason = h.session.takeDisconnectRequest()
        #expect(reason == "SASL failed: 904 ERR_SASLFAIL: SASL authentication failed")
        let events = h.events()
        #expect(events.contains(.saslFailed(reason: "904 ERR_SASLFAIL: SASL authentication failed")))
        #expect(h.logs.lines.contains { $0.contains("level=error") && $0.contains("SASL is required") })
        h.session.connectionClosed(reason: "closed by us", now: h.now)
        guard case .waitingToConnect(let at)? = Optional(h.session.phase) else {
            Issue.record("expected a reconnect to be scheduled, phase is \(h.session.phase)")
            return
        }
        let delay = at.timeIntervalSince(h.now)
        #expect(delay >= 1.6 && delay <= 2.4)
        #expect(h.events().contains(.disconnected(reason: "SASL failed: 904 ERR_SASLFAIL: SASL authentication failed",
                                                   reconnectAt: at)))
    }

    @Test("A failed optional SASL is logged as an error and registration goes on without an account")
    func saslOptionalFailure() {
        var h = SessionHarness(SessionHarness.configuration(sasl: .plain(account: "bot", password: "wrong",
                                                                         required: false)))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +")
        _ = h.take()
        h.feed(":irc.test 904 * :SASL authentication failed")
        #expect(h.take() == ["CAP END"])
        #expect(h.session.takeDisconnectRequest() == nil)
        #expect(h.events().contains(.saslFailed(reason: "904 ERR_SASLFAIL: SASL authentication failed")))
        #expect(h.logs.lines.contains { $0.contains("level=error") && $0.contains("WITHOUT an account") })
        h.feed(":irc.test 001 bot :Welcome", ":irc.test 376 bot :End")
        #expect(h.session.ownAccount == nil)
        #expect(h.events().contains(.registered(nick: "bot")))
    }

    @Test("Services that never answer AUTHENTICATE: the SASL timeout aborts with '*' and fails")
    func saslTimeout() {
        var h = SessionHarness(SessionHarness.configuration(sasl: .plain(account: "bot", password: "pw")))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :sasl")
        #expect(h.take() == ["CAP REQ sasl"])
        h.feed(":irc.test CAP * ACK :sasl")
        #expect(h.take() == ["AUTHENTICATE PLAIN"])
        #expect(h.session.nextDeadline(now: h.now) == h.now.addingTimeInterval(20))
        h.advance(19.9)
        #expect(h.take() == [])
        h.advance(0.1)
        #expect(h.take() == ["AUTHENTICATE *"])
        #expect(h.session.takeDisconnectRequest()?.contains("did not answer SASL PLAIN within 20") == true)
    }

    @Test("Required SASL on a server that does not offer it (services down): disconnect")
    func saslNotOffered() {
        var h = SessionHarness(SessionHarness.configuration(sasl: .plain(account: "bot", password: "pw")))
        h.connect()
        _ = h.take()
        h.feed(":irc.test CAP * LS :server-time account-tag")
        #expect(h.take() == [])
        #expect(h.session.takeDisconnectRequest()?.contains("does not offer SASL") == true)
    }

    // MARK: Nicks

    @Test("Nick in use before registration: the alternatives, then the nick with three digits")
    func nickInUse() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.feed(":irc.test 433 * bot :Nickname is already in use")
        #expect(h.take() == ["NICK bot_"])
        h.feed(":irc.test 433 * bot_ :Nickname is already in use")
        let third = h.take()
        #expect(third.count == 1)
        let nick = String(third[0].dropFirst("NICK ".count))
        #expect(nick.hasPrefix("bot") && nick.count == 6 && nick.dropFirst(3).allSatisfy(\.isNumber))
        h.feed(":irc.test 432 * \(nick) :Erroneous nickname")
        #expect(h.take().count == 1)
        h.feed(":irc.test 001 bot_ :Welcome")
        #expect(h.session.currentNick == "bot_")
    }

    @Test("432 for a long nick before ISUPPORT (ngIRCd's NICKLEN 9): shortened fallbacks")
    func erroneousLongNick() {
        var h = SessionHarness(SessionHarness.configuration(nick: "switchboard"))
        h.connect()
        _ = h.take()
        h.feed(":irc.test 432 * switchboard :Erroneous nickname")
        let next = h.take()
        #expect(next.count == 1)
        let nick = String(next[0].dropFirst("NICK ".count))
        #expect(nick.count == 9 && nick.hasPrefix("switch") && nick.dropFirst(6).allSatisfy(\.isNumber))
    }

    @Test("Regaining the nick: the holder's QUIT triggers NICK at once")
    func regainOnQuit() {
        var h = SessionHarness(SessionHarness.configuration(channels: [.init("#help")]))
        h.connect()
        _ = h.take()
        h.feed(":irc.test 433 * bot :Nickname is already in use")
        _ = h.take()
        h.feed(":irc.test 001 bot_ :Welcome", ":irc.test 376 bot_ :End")
        #expect(h.take() == ["JOIN #help"])
        h.feed(":bot_!sb@host JOIN #help", ":irc.test 353 bot_ = #help :bot_ @bot")
        _ = h.take()
        h.feed(":bot!old@host QUIT :Ping timeout")
        #expect(h.take() == ["NICK bot"])
        h.feed(":bot_!sb@host NICK :bot")
        #expect(h.session.currentNick == "bot")
        #expect(h.events().contains(.nickChanged(old: "bot_", new: "bot", isSelf: true)))
    }

    @Test("Regaining the nick with MONITOR: 731 (offline) triggers NICK")
    func regainWithMonitor() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.feed(":irc.test 433 * bot :Nickname is already in use")
        _ = h.take()
        h.feed(":irc.test 001 bot_ :Welcome", ":irc.test 005 bot_ MONITOR=100 :are supported",
               ":irc.test 376 bot_ :End")
        #expect(h.take() == ["MONITOR + bot"])
        h.feed(":irc.test 730 bot_ :bot!old@host")
        #expect(h.take() == [])
        h.feed(":irc.test 731 bot_ :bot")
        #expect(h.take() == ["NICK bot"])
        h.feed(":bot_!sb@host NICK bot")
        #expect(h.take() == ["MONITOR - bot"])
    }

    @Test("Regaining the nick without MONITOR or a visible holder: a slow periodic NICK")
    func regainPeriodically() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.feed(":irc.test 433 * bot :Nickname is already in use")
        _ = h.take()
        h.feed(":irc.test 001 bot_ :Welcome", ":irc.test 376 bot_ :End")
        #expect(h.take() == [])
        h.advance(60)
        h.feed(":irc.test PING :keep")  // traffic, so the keep-alive stays quiet
        #expect(h.take() == ["PONG keep"])
        h.advance(59)
        #expect(h.take() == [])
        h.advance(1)
        #expect(h.take() == ["NICK bot"])
        h.feed(":irc.test 433 bot_ bot :Nickname is already in use")
        #expect(h.session.currentNick == "bot_")  // after registration a refusal changes nothing
        h.advance(60)
        h.feed(":irc.test PING :keep")
        #expect(h.take() == ["PONG keep"])
        h.advance(60)
        #expect(h.take() == ["NICK bot"])
    }
}
