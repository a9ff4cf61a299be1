import Core
import Foundation
import IRC
@testable import IRCClient
import Testing

@Suite("Send queue: priority lane, per-recipient fairness, replace keys, backlog, bounded cost")
struct SendQueueFairnessTests {
    static func registered(_ settings: IRCClientConfiguration.SendQueueSettings = .fast) -> SessionHarness {
        SendQueueTests.registered(settings)
    }

    /// The last word of each line: the tests' texts are one word each.
    static func words(_ lines: [String]) -> [String] { lines.map { String($0.split(separator: " ").last!) } }

    /// Every line until the queue is empty, with the second it went out (from `start`).
    static func drain(_ h: inout SessionHarness, from start: Date) -> [(line: String, at: Double)] {
        var out: [(String, Double)] = []
        while true {
            out += h.take().map { ($0, h.now.timeIntervalSince(start)) }
            guard h.session.queue.hasTexts, let next = h.session.nextDeadline(now: h.now) else { break }
            h.now = max(next, h.now)
        }
        return out
    }

    @Test("Lanes in strict order: urgent, priority, normal, bulk")
    func strictLanes() throws {
        var h = Self.registered()
        try h.session.send("b1", to: "#c", priority: .bulk, now: h.now)
        try h.session.send("n1", to: "stranger", priority: .normal, now: h.now)
        try h.session.send("p1", to: "customer", priority: .priority, now: h.now)
        try h.session.send("u1", to: "agent", priority: .urgent, now: h.now)
        try h.session.send("p2", to: "customer", priority: .priority, now: h.now)
        #expect(Self.words(h.take()) == ["u1", "p1", "p2", "n1", "b1"])
    }

    @Test("Within a lane, recipients take turns line by line: one long answer does not hold the others")
    func roundRobinPerLine() throws {
        var h = Self.registered()
        try h.session.send((1...5).map { "a\($0)" }.joined(separator: "\n"), to: "alice", id: 1, now: h.now)
        try h.session.send("a6", to: "Alice", id: 2, now: h.now)  // same recipient, other case: after a1…a5
        try h.session.send("b1", to: "bob", id: 3, now: h.now)
        try h.session.send("c1\nc2", to: "carol", id: 4, now: h.now)
        #expect(Self.words(h.take()) == ["a1", "b1", "c1", "a2", "c2", "a3", "a4", "a5", "a6"])
        let delivered = SendQueueTests.reports(h.events()).compactMap { event -> Int64? in
            if case .delivered(let id, _) = event { return id } else { return nil }
        }
        #expect(delivered == [3, 4, 1, 2])
    }

    @Test("Issue 15: 20 strangers' two lines each, then a verified customer: the customer's line goes next (standard preset)")
    func priorityAheadOfStrangers() throws {
        var h = Self.registered(.standard)
        let start = h.now
        for i in 1...20 { try h.session.send("hi\nhow can I help?", to: "stranger\(i)", priority: .normal, now: h.now) }
        _ = h.take()  // the burst of 5
        h.advance(1)
        try h.session.send("Your ticket #7 is P1; the on-duty agent was paged.", to: "premium", priority: .priority,
                           id: 7, now: h.now)
        try h.session.send("PAGE #7 P1 premium: VPN down", to: "anna", priority: .urgent, id: 8, now: h.now)
        let out = Self.drain(&h, from: start)
        #expect(out[0].line == "PRIVMSG anna :PAGE #7 P1 premium: VPN down")
        #expect(out[1].line == "PRIVMSG premium :Your ticket #7 is P1; the on-duty agent was paged.")
        #expect(out[0].at == 2 && out[1].at == 4)
        #expect(out.count == 2 + 40 - 5)
    }

    @Test("A replace key drops the outdated waiting text (reported superseded); a started one is finished")
    func replaceKey() throws {
        var h = Self.registered(.init(burst: 1, interval: .seconds(2)))
        try h.session.send("busy", to: "other", now: h.now)
        try h.session.send("Severity 1-4?", to: "Cust", id: 1, replaceKey: "ask", now: h.now)
        try h.session.send("Severity 1-4? (1 = down)", to: "cust", id: 2, replaceKey: "ask", now: h.now)
        try h.session.send("unrelated", to: "cust", id: 3, now: h.now)
        try h.session.send("other key", to: "cust", id: 4, replaceKey: "kb", now: h.now)
        #expect(h.take() == ["PRIVMSG other busy"])
        #expect(SendQueueTests.reports(h.events()) == [.superseded(id: 1)])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG cust :Severity 1-4? (1 = down)"])
        // A started multi-line text with a key is finished even when replaced.
        try h.session.send("part 1\npart 2", to: "cust", id: 5, replaceKey: "menu", now: h.now)
        h.advance(2)
        #expect(h.take() == ["PRIVMSG cust unrelated"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG cust :other key"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG cust :part 1"])
        try h.session.send("new menu", to: "cust", id: 6, replaceKey: "menu", now: h.now)
        h.advance(2)
        #expect(h.take() == ["PRIVMSG cust :part 2"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG cust :new menu"])
        #expect(!SendQueueTests.reports(h.events()).contains(.superseded(id: 5)))
    }

    @Test("Withdrawing a waiting text by recipient and key: reported dropped, never sent")
    func withdraw() throws {
        var h = Self.registered(.init(burst: 1, interval: .seconds(2)))
        try h.session.send("first", to: "x", now: h.now)
        try h.session.send("Are you still there?", to: "Cust", id: 9, replaceKey: "nudge", now: h.now)
        let first = h.session.withdraw(to: "CUST", replaceKey: "nudge")
        let again = h.session.withdraw(to: "cust", replaceKey: "nudge")
        let otherRecipient = h.session.withdraw(to: "x", replaceKey: "nudge")
        #expect(first && !again && !otherRecipient)
        let events = SendQueueTests.reports(h.events())
        guard case .dropped(9, let reason)? = events.first, events.count == 1 else {
            Issue.record("expected one dropped report, got \(events)")
            return
        }
        #expect(reason.contains("withdrawn"))
        #expect(Self.drain(&h, from: h.now).map(\.line) == ["PRIVMSG x first"])
    }

    @Test("Backlog: texts per lane, lines left of started texts, and the oldest text's enqueue time")
    func backlog() throws {
        var h = Self.registered(.init(burst: 1, interval: .seconds(2)))
        let t0 = h.now
        #expect(h.session.queue.backlog.oldestEnqueuedAt == nil)
        try h.session.send("one\ntwo\nthree", to: "a", priority: .normal, now: h.now)
        h.advance(5)
        try h.session.send("kb", to: "b", priority: .bulk, now: h.now)
        try h.session.send("vip", to: "c", priority: .priority, now: h.now)
        var backlog = h.session.queue.backlog
        #expect(backlog.texts == [.urgent: 0, .priority: 1, .normal: 1, .bulk: 1])
        #expect(backlog.oldestEnqueuedAt == t0)
        #expect(backlog.oldestAge(now: h.now) == 5)
        #expect(h.take() == ["PRIVMSG c vip"])
        h.advance(2)
        #expect(h.take() == ["PRIVMSG a one"])
        backlog = h.session.queue.backlog
        #expect(backlog.texts == [.urgent: 0, .priority: 0, .normal: 1, .bulk: 1])
        #expect(backlog.startedLines[.normal] == 2)
        h.advance(4)
        _ = h.take()
        h.advance(2)
        _ = h.take()  // "three": text a is done
        #expect(h.session.queue.backlog.oldestEnqueuedAt == t0.addingTimeInterval(5))
        h.advance(2)
        _ = h.take()
        #expect(h.session.queue.backlog.oldestEnqueuedAt == nil)
        #expect(h.session.queue.backlog.texts.values.allSatisfy { $0 == 0 })
    }

    @Test("Expiry from the heap: texts expire in date order; replaced and sent texts leave no stale deadline")
    func heapExpiry() throws {
        var h = Self.registered(.init(burst: 1, interval: .seconds(2)))
        try h.session.send("go", to: "x", now: h.now)
        _ = h.take()  // the bucket is empty now
        try h.session.send("c", to: "r3", priority: .bulk, id: 3, expiresAt: h.now.addingTimeInterval(30), now: h.now)
        try h.session.send("a", to: "r1", priority: .bulk, id: 1, expiresAt: h.now.addingTimeInterval(10), now: h.now)
        try h.session.send("b", to: "r2", priority: .bulk, id: 2, expiresAt: h.now.addingTimeInterval(20), now: h.now)
        try h.session.send("a2", to: "r1", priority: .bulk, id: 4, expiresAt: h.now.addingTimeInterval(5),
                           replaceKey: "k", now: h.now)
        try h.session.send("a3", to: "r1", priority: .bulk, id: 5, expiresAt: h.now.addingTimeInterval(25),
                           replaceKey: "k", now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [.superseded(id: 4)])
        // Drop the connection so nothing is sent: only expiry acts.
        h.session.connectionClosed(reason: "EOF", now: h.now)
        _ = h.events()
        var expired: [Int64] = []
        var deadlines: [Double] = []
        let start = h.now
        while h.session.queue.hasTexts, let deadline = h.session.queue.nextDeadline(now: h.now, sendTexts: false,
                                                                                    sendControl: false) {
            deadlines.append(deadline.timeIntervalSince(start))
            h.now = deadline
            h.session.tick(now: h.now)
            expired += SendQueueTests.reports(h.events()).compactMap { if case .expired(let id) = $0 { id } else { nil } }
        }
        #expect(deadlines == [10, 20, 25, 30])
        #expect(expired == [1, 2, 5, 3])
    }

    @Test("After a reconnect every recipient's cut-off text is sent again from its first line")
    func reconnectWithSeveralStarted() throws {
        var h = Self.registered(.init(burst: 3, interval: .seconds(2)))
        try h.session.send("a1\na2", to: "alice", id: 1, now: h.now)
        try h.session.send("b1\nb2", to: "bob", id: 2, now: h.now)
        #expect(Self.words(h.take()) == ["a1", "b1", "a2"])
        #expect(SendQueueTests.reports(h.events()) == [.delivered(id: 1, at: h.now)])
        h.advance(2)
        // b2 is handed out, and the connection fails while it is written.
        #expect(h.session.nextLine(now: h.now) != nil)
        h.session.connectionClosed(reason: "reset", now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [])
        let afterReconnect = h.registerPlain().filter { $0.hasPrefix("PRIVMSG") }
        #expect(afterReconnect == ["PRIVMSG bob b1", "PRIVMSG bob b2"])
        #expect(SendQueueTests.reports(h.events()) == [.delivered(id: 2, at: h.now)])
    }

    @Test("Many texts: 20,000 texts with replace keys and expiries in, through and out, nothing left behind")
    func largeQueueDrains() throws {
        var queue = SendQueue(settings: .fast, now: SessionHarness.start)
        let now = SessionHarness.start
        for i in 0..<20_000 {
            queue.enqueue(SendQueue.Item(id: Int64(i), target: "r\(i % 1000)", text: "t\(i)",
                                         priority: SendPriority.allCases[i % 4], replaceKey: i % 3 == 0 ? "k" : nil,
                                         expiresAt: now.addingTimeInterval(Double(i % 50)), enqueuedAt: now))
        }
        #expect(queue.textCount < 20_000)  // replaced ones are gone
        let later = now.addingTimeInterval(25)
        queue.expire(now: later)
        var sent = 0
        while let _ = queue.next(now: later.addingTimeInterval(Double(sent)), sendTexts: true, sendControl: true,
                                 format: { .success([Array("PRIVMSG \($0.target) :\($0.text)\r\n".utf8)]) }) {
            queue.written(now: later)
            sent += 1
        }
        let reports = queue.takeReports()
        #expect(reports.count == 20_000)
        #expect(queue.textCount == 0 && queue.isEmpty)
        #expect(queue.backlog.oldestEnqueuedAt == nil)
        #expect(sent > 0)
    }
}

@Suite("RingDeque: the send queue's FIFO")
struct RingDequeTests {
    @Test("Both ends, in order; storage shrinks after a burst drains")
    func deque() {
        var d = RingDeque<Int>()
        for i in 0..<10_000 { d.append(i) }
        d.prepend(-1)
        #expect(d.first == -1 && d.count == 10_001)
        var out: [Int] = []
        while let x = d.popFirst() { out.append(x) }
        #expect(out == Array(-1..<10_000))
        #expect(d.capacity <= 64)
    }
}
