import Core
import Foundation
import IRC
@testable import IRCClient
import Testing

@Suite("Staying connected: PING, keep-alive, backoff, rejoin, ERROR")
struct ConnectionLifecycleTests {
    @Test("PING is answered at once, even with 200 bulk lines queued and the bucket empty")
    func pingPong() throws {
        var h = SessionHarness(SessionHarness.configuration())
        _ = h.registerPlain()
        for i in 0..<200 {
            try h.session.send("KB answer \(i)", to: "#help", priority: .bulk, now: h.now)
        }
        #expect(h.take().count == 5)  // the burst; then the bucket is empty
        h.feed(":irc.test PING :irc.test-1234")
        #expect(h.take() == ["PONG irc.test-1234"])
    }

    @Test("Keep-alive: PING after 90 s of silence, dead after 60 s more; any line in between keeps it alive")
    func keepAlive() {
        var h = SessionHarness(SessionHarness.configuration())
        _ = h.registerPlain()
        #expect(h.session.nextDeadline(now: h.now) == h.now.addingTimeInterval(90))
        h.advance(89)
        #expect(h.take() == [])
        h.advance(1)
        #expect(h.take() == ["PING switchboard-1"])
        h.advance(30)
        h.feed(":irc.test PONG irc.test :switchboard-1")
        h.advance(59)
        #expect(h.take() == [])
        #expect(h.session.takeDisconnectRequest() == nil)
        h.advance(31)  // 90 s after the PONG
        #expect(h.take() == ["PING switchboard-2"])
        h.advance(59.9)
        #expect(h.session.takeDisconnectRequest() == nil)
        h.advance(0.1)
        #expect(h.session.takeDisconnectRequest() == "no reply from the server within 60.0 seconds of a keep-alive PING")
    }

    @Test("No welcome within the registration timeout: disconnect")
    func registrationTimeout() {
        var h = SessionHarness(SessionHarness.configuration())
        h.connect()
        _ = h.take()
        h.advance(30)
        h.feed(":irc.test NOTICE * :*** Looking up your hostname")
        h.advance(30)
        #expect(h.session.takeDisconnectRequest()?.hasPrefix("registration did not complete") == true)
    }

    @Test("Backoff: 2 s doubling to 5 min, each within ±20 %, never above 5 min")
    func backoffBounds() {
        var backoff = ReconnectBackoff(settings: .init())
        var random = SeededRandom(seed: 7)
        let bases: [Double] = [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
        for base in bases {
            let delay = backoff.nextDelay(random: random.unit()).timeInterval
            #expect(delay >= base * 0.8 - 1e-9 && delay <= min(300, base * 1.2) + 1e-9, "base \(base): \(delay)")
        }
        // The extremes of the jitter.
        var fresh = ReconnectBackoff(settings: .init())
        #expect(fresh.nextDelay(random: 0).timeInterval == 1.6)
        #expect(abs(fresh.nextDelay(random: 1).timeInterval - 4.8) < 1e-9)
    }

    @Test("Backoff resets after a connection that stayed registered for 60 s, not after a short one")
    func backoffReset() {
        var h = SessionHarness(SessionHarness.configuration())
        func reconnectDelay(_ h: inout SessionHarness) -> Double {
            guard case .waitingToConnect(let at) = h.session.phase else { return -1 }
            return at.timeIntervalSince(h.now)
        }
        _ = h.registerPlain()
        h.advance(10)
        h.session.connectionClosed(reason: "EOF", now: h.now)
        let first = reconnectDelay(&h)
        #expect(first >= 1.6 && first <= 2.4)
        _ = h.registerPlain()  // connect() waits until the reconnect time
        h.advance(10)
        h.session.connectionClosed(reason: "EOF", now: h.now)
        let second = reconnectDelay(&h)
        #expect(second >= 3.2 && second <= 4.8)
        _ = h.registerPlain()
        h.advance(30)
        h.feed(":irc.test PING :x")
        h.advance(31)
        h.session.connectionClosed(reason: "EOF", now: h.now)
        let third = reconnectDelay(&h)
        #expect(third >= 1.6 && third <= 2.4)
    }

    @Test("After a reconnect every configured channel is joined again, keyed ones first with their keys")
    func rejoinAfterReconnect() {
        let channels: [IRCClientConfiguration.Channel] = [.init("#open"), .init("#agents", key: "s3cret"),
                                                          .init("#help")]
        var h = SessionHarness(SessionHarness.configuration(channels: channels))
        let first = h.registerPlain()
        #expect(first.last == "JOIN #agents,#help,#open s3cret")
        h.feed(":bot!sb@host JOIN #agents", ":bot!sb@host JOIN #help", ":bot!sb@host JOIN #open")
        #expect(Set(h.session.tracker.channels.values.map(\.name)) == ["#agents", "#help", "#open"])
        h.session.connectionClosed(reason: "Connection reset by peer", now: h.now)
        #expect(h.session.tracker.channels.isEmpty)
        let second = h.registerPlain()
        #expect(second.last == "JOIN #agents,#help,#open s3cret")
    }

    @Test("KICK: rejoin after 5 s; kicked again soon after: 10 s")
    func rejoinAfterKick() {
        var h = SessionHarness(SessionHarness.configuration(channels: [.init("#help")]))
        _ = h.registerPlain()
        h.feed(":bot!sb@host JOIN #help")
        _ = h.events()
        h.feed(":op!o@host KICK #help bot :go away")
        #expect(h.events().contains(.kicked(channel: "#help", by: "op", reason: "go away")))
        #expect(!h.session.tracker.isJoined("#help"))
        h.advance(4.9)
        #expect(h.take() == [])
        h.advance(0.1)
        #expect(h.take() == ["JOIN #help"])
        h.feed(":bot!sb@host JOIN #help", ":op!o@host KICK #help bot :and stay away")
        h.advance(9.9)
        #expect(h.take() == [])
        h.advance(0.1)
        #expect(h.take() == ["JOIN #help"])
    }

    @Test("Every deadline the session reports lies ahead after tick: the driver never spins")
    func deadlinesAhead() throws {
        var h = SessionHarness(SessionHarness.configuration(channels: [.init("#help"), .init("#agents")]))
        _ = h.registerPlain()
        h.feed(":bot!sb@host JOIN #help", ":op!o@host KICK #help bot :out",
               ":irc.test 474 bot #agents :banned")
        try h.session.send("hello", to: "#help", priority: .bulk, now: h.now)
        h.feed(":bot!sb@host JOIN #help")  // joined again by an oper before the rejoin timer
        h.session.shutdown(quitMessage: "bye", drainDeadline: h.now.addingTimeInterval(30), now: h.now)
        for step in 0..<200 {
            _ = h.take()
            if let reason = h.session.takeDisconnectRequest() {  // what the driver does
                h.session.connectionClosed(reason: reason, now: h.now)
            }
            guard let deadline = h.session.nextDeadline(now: h.now) else { break }
            #expect(deadline > h.now, "step \(step): deadline \(deadline) is not after \(h.now)")
            h.now = deadline
        }
        #expect(h.session.phase == .stopped)
    }

    @Test("Join errors (474 banned): logged, reported, retried later with growing delays")
    func joinErrorRetry() {
        var h = SessionHarness(SessionHarness.configuration(channels: [.init("#help")]))
        _ = h.registerPlain()
        _ = h.events()
        h.feed(":irc.test 474 bot #help :Cannot join channel (+b)")
        let retryAt = h.now.addingTimeInterval(60)
        #expect(h.events() == [.joinFailed(channel: "#help", reason: "474 ERR_BANNEDFROMCHAN: Cannot join channel (+b)",
                                           retryAt: retryAt)])
        #expect(h.logs.lines.contains { $0.contains("cannot join channel") && $0.contains("474") })
        h.advance(60)
        h.feed(":irc.test PING :x")  // keep the keep-alive quiet
        #expect(h.take() == ["PONG x", "JOIN #help"])
        h.feed(":irc.test 471 bot #help :Cannot join channel (+l)")
        h.advance(60)
        h.feed(":irc.test PING :x")
        #expect(h.take() == ["PONG x"])
        h.advance(60)
        h.feed(":irc.test PING :x")
        #expect(h.take() == ["PONG x", "JOIN #help"])
    }

    @Test("ERROR from the server: reported and the connection is closed, then retried")
    func serverError() {
        var h = SessionHarness(SessionHarness.configuration())
        _ = h.registerPlain()
        _ = h.events()
        h.feed("ERROR :Closing Link: bot[127.0.0.1] (Excess Flood)")
        #expect(h.events() == [.error("the server closed the link: Closing Link: bot[127.0.0.1] (Excess Flood)")])
        #expect(h.session.takeDisconnectRequest() == "server ERROR: Closing Link: bot[127.0.0.1] (Excess Flood)")
        h.session.connectionClosed(reason: "EOF", now: h.now)
        guard case .disconnected(let reason, let at)? = h.events().last else {
            Issue.record("no disconnected event")
            return
        }
        #expect(reason == "server ERROR: Closing Link: bot[127.0.0.1] (Excess Flood)")
        #expect(at != nil)
    }

    @Test("Shutdown drains queued texts, then QUITs, and stops when the server closes")
    func shutdownDrains() throws {
        var h = SessionHarness(SessionHarness.configuration(sendQueue: .init(burst: 2, interval: .seconds(1))))
        _ = h.registerPlain()
        for i in 1...4 { try h.session.send("line \(i)", to: "#help", id: Int64(i), now: h.now) }
        h.session.shutdown(quitMessage: "maintenance", drainDeadline: h.now.addingTimeInterval(10), now: h.now)
        #expect(throws: IRCClientError.shutDown) { try h.session.send("late", to: "#help", now: h.now) }
        #expect(h.take() == ["PRIVMSG #help :line 1", "PRIVMSG #help :line 2"])
        h.advance(1)
        #expect(h.take() == ["PRIVMSG #help :line 3"])
        h.advance(1)
        #expect(h.take() == ["PRIVMSG #help :line 4", "QUIT maintenance"])
        h.session.connectionClosed(reason: "EOF", now: h.now)
        #expect(h.session.phase == .stopped)
        #expect(h.events().filter { if case .delivered = $0 { true } else { false } }.count == 4)
    }

    @Test("Shutdown past its drain deadline drops what is left (reported) and QUITs")
    func shutdownDeadline() throws {
        var h = SessionHarness(SessionHarness.configuration(sendQueue: .init(burst: 1, interval: .seconds(2))))
        _ = h.registerPlain()
        for i in 1...3 { try h.session.send("line \(i)", to: "#help", id: Int64(i), now: h.now) }
        h.session.shutdown(quitMessage: "bye", drainDeadline: h.now.addingTimeInterval(3), now: h.now)
        #expect(h.take() == ["PRIVMSG #help :line 1"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG #help :line 2"])
        h.advance(1)
        #expect(h.take() == ["QUIT bye"])
        let events = h.events()
        #expect(events.contains(.dropped(id: 3, reason: "shut down before it could be sent")))
        h.advance(3)  // the server never closes: the quit timeout closes it
        #expect(h.session.takeDisconnectRequest()?.hasPrefix("shutdown") == true)
    }
}
