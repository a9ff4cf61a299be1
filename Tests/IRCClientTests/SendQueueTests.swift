import Core
import Foundation
import IRC
@testable import IRCClient
import Testing

@Suite("Send queue: token bucket, lanes, expiry, reconnects, delivery reports")
struct SendQueueTests {
    /// A registered session (bot!sb@host.example) with the given queue settings.
    static func registered(_ settings: IRCClientConfiguration.SendQueueSettings = .standard) -> SessionHarness {
        var h = SessionHarness(SessionHarness.configuration(sendQueue: settings))
        _ = h.registerPlain()
        return h
    }

    static func reports(_ events: [IRCClientEvent]) -> [IRCClientEvent] {
        events.filter {
            switch $0 {
            case .delivered, .expired, .superseded, .dropped: true
            default: false
            }
        }
    }

    @Test("Token bucket: 5 lines at once, then exactly one every 2 s (driven by a ManualClock)")
    func bucketTiming() throws {
        let clock = ManualClock()
        var h = Self.registered()
        h.now = clock.date
        for i in 1...9 { try h.session.send("line \(i)", to: "#help", now: h.now) }
        var sentAt: [Double] = []
        let start = clock.date
        while sentAt.count < 9 {
            let batch = h.take()
            sentAt += batch.map { _ in clock.date.timeIntervalSince(start) }
            guard let next = h.session.nextDeadline(now: clock.date) else { break }
            clock.advance(to: WallInstant(max(next, clock.date)))
            h.now = clock.date
        }
        #expect(sentAt.map { ($0 * 1000).rounded() / 1000 } == [0, 0, 0, 0, 0, 2, 4, 6, 8])
    }

    @Test("The bucket refills while idle, up to the burst")
    func bucketRefill() {
        var bucket = TokenBucket(capacity: 5, interval: .seconds(2), now: SessionHarness.start)
        var taken = 0
        for _ in 0..<6 where bucket.take(at: SessionHarness.start) { taken += 1 }
        #expect(taken == 5)
        let later = SessionHarness.start.addingTimeInterval(60)
        #expect(bucket.available(at: later) == 5)
        #expect(bucket.nextTokenDate(after: SessionHarness.start) == SessionHarness.start.addingTimeInterval(2))
    }

    @Test("A page queued behind 200 bulk lines is the very next line, and waits at most one interval")
    func pageGoesNext() throws {
        var h = Self.registered()
        for i in 0..<200 {
            try h.session.send("KB answer \(i)", to: "customer\(i % 7)", priority: .bulk, now: h.now)
        }
        #expect(h.take().count == 5)
        h.advance(1)  // in the middle of an interval: the bucket is empty
        let queuedAt = h.now
        try h.session.send("PAGE #42 P1 VPN down", to: "agent", priority: .urgent, id: 42, now: h.now)
        #expect(h.take() == [])
        let next = try #require(h.session.nextDeadline(now: h.now))
        #expect(next.timeIntervalSince(queuedAt) <= 2)
        h.now = next
        #expect(h.take() == ["PRIVMSG agent :PAGE #42 P1 VPN down"])
        #expect(Self.reports(h.events()) == [.delivered(id: 42, at: next)])
    }

    @Test("Measured: with the Libera setting a page waits at most one interval behind 200 KB lines, wherever in the interval it arrives")
    func pageHoldStandard() throws {
        var longest = 0.0
        for offset in [0.0, 0.5, 1.0, 1.5, 1.999] {
            var h = Self.registered()
            for i in 0..<200 { try h.session.send("KB answer \(i)", to: "customer", priority: .bulk, now: h.now) }
            _ = h.take()  // the burst
            h.advance(2 * 10 + offset)  // ten lines later, somewhere inside an interval
            _ = h.take()
            let queuedAt = h.now
            try h.session.send("PAGE #42", to: "agent", priority: .urgent, id: 42, now: h.now)
            var next: [String] = h.take()
            while next.isEmpty, let deadline = h.session.nextDeadline(now: h.now) {
                h.now = max(deadline, h.now)
                next = h.take()
            }
            #expect(next.first == "PRIVMSG agent :PAGE #42")
            longest = max(longest, h.now.timeIntervalSince(queuedAt))
        }
        print("measured: longest hold of a page behind 200 KB lines, Libera setting (5 burst, 1 per 2 s): \(longest) s")
        #expect(longest <= 2)
    }

    @Test("Lanes: urgent before normal before bulk; FIFO within a lane")
    func laneOrder() throws {
        var h = Self.registered(.fast)
        try h.session.send("b1", to: "#c", priority: .bulk, now: h.now)
        try h.session.send("n1", to: "#c", priority: .normal, now: h.now)
        try h.session.send("u1", to: "#c", priority: .urgent, now: h.now)
        try h.session.send("n2", to: "#c", priority: .normal, now: h.now)
        try h.session.send("u2", to: "#c", priority: .urgent, now: h.now)
        #expect(h.take().map { String($0.split(separator: " ").last!) } == ["u1", "u2", "n1", "n2", "b1"])
    }

    @Test("Bulk lane is fair between recipients: round-robin, each recipient's texts in order")
    func bulkFairness() throws {
        var h = Self.registered(.fast)
        for i in 1...3 { try h.session.send("a\(i)", to: "alice", priority: .bulk, now: h.now) }
        try h.session.send("b1", to: "bob", priority: .bulk, now: h.now)
        try h.session.send("c1", to: "Carol", priority: .bulk, now: h.now)
        try h.session.send("c2", to: "carol", priority: .bulk, now: h.now)  // same recipient, other case
        #expect(h.take().map { String($0.split(separator: " ").last!) } == ["a1", "b1", "c1", "a2", "c2", "a3"])
    }

    @Test("A multi-line text: its lines stay together and in order; only a more urgent text may come between")
    func multiLineTogether() throws {
        var h = Self.registered(.init(burst: 2, interval: .seconds(1)))
        try h.session.send("one\ntwo\nthree\nfour", to: "#c", priority: .normal, id: 1, now: h.now)
        try h.session.send("other", to: "#c", priority: .normal, id: 2, now: h.now)
        #expect(h.take() == ["PRIVMSG #c one", "PRIVMSG #c two"])
        try h.session.send("page", to: "agent", priority: .urgent, now: h.now)
        var rest: [String] = []
        for _ in 0..<4 {
            h.advance(1)
            rest += h.take()
        }
        #expect(rest == ["PRIVMSG agent page", "PRIVMSG #c three", "PRIVMSG #c four", "PRIVMSG #c other"])
    }

    @Test("A delivery report comes only after the last line of a text was written")
    func deliveryAfterAllLines() throws {
        var h = Self.registered(.init(burst: 1, interval: .seconds(2)))
        try h.session.send("first\nsecond\nthird", to: "#c", id: 7, now: h.now)
        #expect(h.take().count == 1)
        #expect(Self.reports(h.events()) == [])
        h.advance(2)
        #expect(h.take().count == 1)
        #expect(Self.reports(h.events()) == [])
        h.advance(2)
        // The line is handed out but not yet written: no report.
        let handedOut = h.session.nextLine(now: h.now)
        let line = try #require(handedOut)
        #expect(line.completesItem && line.itemID == 7)
        #expect(Self.reports(h.events()) == [])
        h.session.lineWritten(now: h.now)
        #expect(Self.reports(h.events()) == [.delivered(id: 7, at: h.now)])
    }

    @Test("Expiry: a stale KB answer is dropped and reported; one already started is finished")
    func expiry() throws {
        var h = Self.registered(.init(burst: 1, interval: .seconds(2), bulkExpiry: .seconds(60)))
        try h.session.send("started\nand finished", to: "#c", priority: .bulk, id: 1,
                           expiresAt: h.now.addingTimeInterval(1), now: h.now)
        try h.session.send("stale", to: "#c", priority: .bulk, id: 2, now: h.now)  // default: 60 s
        try h.session.send("an hour", to: "#c", priority: .bulk, id: 3, expiresAt: h.now.addingTimeInterval(3600),
                           now: h.now)
        #expect(h.take() == ["PRIVMSG #c started"])
        h.advance(2)  // text 1 has expired, but is half sent: finished
        #expect(h.take() == ["PRIVMSG #c :and finished"])
        // Hold the queue: a long disconnect.
        h.session.connectionClosed(reason: "EOF", now: h.now)
        _ = h.events()
        h.advance(57)
        #expect(Self.reports(h.events()) == [])
        #expect(h.session.nextDeadline(now: h.now)! <= h.now.addingTimeInterval(1))
        h.advance(1)
        #expect(Self.reports(h.events()) == [.expired(id: 2)])
        // After re-registration the bucket is full again: it goes at once.
        #expect(h.registerPlain().last == "PRIVMSG #c :an hour")
    }

    @Test("Texts queued when the connection drops are kept and sent after reconnect and re-registration")
    func keptAcrossReconnect() throws {
        var h = Self.registered(.init(burst: 3, interval: .seconds(2)))
        try h.session.send("a1\na2\na3\na4", to: "#c", id: 1, now: h.now)
        try h.session.send("b", to: "#c", id: 2, now: h.now)
        #expect(h.take() == ["PRIVMSG #c a1", "PRIVMSG #c a2", "PRIVMSG #c a3"])
        // The fourth line is handed out, and the connection fails while writing it.
        h.advance(2)
        let fourth = h.session.nextLine(now: h.now)
        #expect(fourth != nil)
        h.session.connectionClosed(reason: "Connection reset by peer", now: h.now)
        #expect(Self.reports(h.events()) == [])
        // Nothing is written while disconnected or registering.
        let whileDown = h.session.nextLine(now: h.now)
        #expect(whileDown == nil)
        h.connect()
        let registration = h.take()
        #expect(registration == ["CAP LS 302", "NICK bot", "USER sb 0 * Switchboard"])
        h.feed(":irc.test 421 * CAP :Unknown command", ":irc.test 001 bot :Welcome bot!sb@host.example")
        #expect(h.take() == [])  // not before the MOTD is over
        h.feed(":irc.test 376 bot :End of MOTD")
        // Text 1 was cut off: sent again from its first line, then text 2.
        #expect(h.take() == ["PRIVMSG #c a1", "PRIVMSG #c a2", "PRIVMSG #c a3"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG #c a4"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG #c b"])
        #expect(Self.reports(h.events()) == [.delivered(id: 1, at: h.now.addingTimeInterval(-2)),
                                             .delivered(id: 2, at: h.now)])
    }

    @Test("Invalid targets and empty texts are refused at once")
    func refusals() {
        var h = Self.registered()
        #expect(throws: IRCClientError.invalidTarget("#a,#b")) { try h.session.send("x", to: "#a,#b", now: h.now) }
        #expect(throws: IRCClientError.invalidTarget("two words")) {
            try h.session.send("x", to: "two words", now: h.now)
        }
        #expect(throws: IRCClientError.emptyText(target: "#c")) { try h.session.send(" \n ", to: "#c", now: h.now) }
    }

    @Test("User text cannot inject a second command: CR/LF split into lines, NUL and \\x01 removed")
    func injection() throws {
        var h = Self.registered(.fast)
        try h.session.send("hello\r\nQUIT :pwned\u{0}\u{1}VERSION\u{1}", to: "#c", now: h.now)
        #expect(h.take() == ["PRIVMSG #c hello", "PRIVMSG #c :QUIT :pwned VERSION"])
    }
}
