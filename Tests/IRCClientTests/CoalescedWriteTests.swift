import Core
import Foundation
import Glibc
import IRC
@testable import IRCClient
import TestSupport
import Testing
import Transport

extension SessionHarness {
    /// Every line the session releases now, without confirming them (one
    /// batch for one write, as the driver does).
    mutating func takeUnwritten() -> [String] {
        var lines: [String] = []
        session.tick(now: now)
        while let line = session.nextLine(now: now) {
            lines.append(String(decoding: line.bytes.dropLast(2), as: UTF8.self))
        }
        return lines
    }
}

/// Lines ready together go out together (issue 12): the queue hands out a
/// batch, each line still takes its token, and delivery is reported only
/// once the batch was written.
@Suite("Send queue batches: one write per burst, flood limits and delivery reports kept")
struct CoalescedWriteTests {
    static let burst3 = IRCClientConfiguration.SendQueueSettings(burst: 3, interval: .seconds(2))

    @Test("A batch holds only what the bucket allows; the rest follows one line per interval")
    func batchKeepsFloodLimit() throws {
        var h = SendQueueTests.registered(Self.burst3)
        h.advance(60)  // registration's tokens are back
        try h.session.send("1\n2\n3\n4\n5", to: "alice", id: 7, now: h.now)
        #expect(h.takeUnwritten() == ["PRIVMSG alice 1", "PRIVMSG alice 2", "PRIVMSG alice 3"])
        #expect(h.takeUnwritten() == [])  // the bucket is empty
        h.session.lineWritten(now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [])  // two lines still to go
        h.advance(1.9)
        #expect(h.takeUnwritten() == [])
        h.advance(0.1)
        #expect(h.takeUnwritten() == ["PRIVMSG alice 4"])
        h.session.lineWritten(now: h.now)
        h.advance(2)
        #expect(h.takeUnwritten() == ["PRIVMSG alice 5"])
        #expect(SendQueueTests.reports(h.events()) == [])  // handed out is not written
        h.session.lineWritten(now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [.delivered(id: 7, at: h.now)])
    }

    @Test("Texts completed by one batch are reported delivered after it was written, in the order they completed")
    func deliveryOrder() throws {
        var h = SendQueueTests.registered(.fast)
        try h.session.send("a1\na2", to: "alice", id: 1, now: h.now)
        try h.session.send("b1", to: "bob", id: 2, now: h.now)
        try h.session.send("a3", to: "alice", id: 3, now: h.now)
        let batch = h.takeUnwritten()
        // Round-robin per recipient; one recipient's texts in the order queued, in the same batch.
        #expect(batch == ["PRIVMSG alice a1", "PRIVMSG bob b1", "PRIVMSG alice a2", "PRIVMSG alice a3"])
        #expect(SendQueueTests.reports(h.events()) == [])
        h.session.lineWritten(now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [.delivered(id: 2, at: h.now), .delivered(id: 1, at: h.now),
                                                        .delivered(id: 3, at: h.now)])
        #expect(h.session.queue.isEmpty)
    }

    @Test("A batch lost with the connection is sent again from each text's first line, in order, and reported once")
    func batchLostOnDisconnect() throws {
        var h = SendQueueTests.registered(.fast)
        try h.session.send("a1\na2", to: "alice", id: 1, now: h.now)
        try h.session.send("a3", to: "alice", id: 2, now: h.now)
        try h.session.send("b1\nb2", to: "bob", id: 3, now: h.now)
        #expect(h.takeUnwritten().count == 5)
        h.session.connectionClosed(reason: "reset", now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [])
        #expect(h.session.queue.textCount == 3)
        h.advance(120)
        let again = h.registerPlain().filter { $0.hasPrefix("PRIVMSG") }
        #expect(again.filter { $0.hasPrefix("PRIVMSG alice") } == ["PRIVMSG alice a1", "PRIVMSG alice a2",
                                                                   "PRIVMSG alice a3"])
        #expect(again.filter { $0.hasPrefix("PRIVMSG bob") } == ["PRIVMSG bob b1", "PRIVMSG bob b2"])
        let reports = SendQueueTests.reports(h.events())
        #expect(Set(reports) == [.delivered(id: 1, at: h.now), .delivered(id: 2, at: h.now),
                                 .delivered(id: 3, at: h.now)])
        #expect(reports.count == 3)
    }

    /// A client registered as "bot" on one end of a SOCK_SEQPACKET pair, the
    /// test holding the server's end. SEQPACKET keeps each write a record of
    /// its own, so one read returning several lines proves they were one write.
    struct RegisteredClient {
        let client: IRCClient<ManualClock>
        let log: EventLog
        let clock: ManualClock
        let server: Connection
        let run: Task<Void, any Error>

        static func start() async throws -> RegisteredClient {
            let (servers, yieldServer) = AsyncStream.makeStream(of: Connection.self)
            let connector: IRCConnector = { _, _ in
                var fds: [Int32] = [-1, -1]
                guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
                else { throw HarnessTimeout(description: "socketpair failed") }
                yieldServer.yield(try Connection(adopting: fds[0]))
                return try Connection(adopting: fds[1])
            }
            let configuration = IRCClientConfiguration(host: "127.0.0.1", port: 6667, nick: "bot", user: "sb",
                                                       channels: [], sendQueue: .fast)
            let clock = ManualClock()
            let client = IRCClient(configuration: configuration, clock: clock, seed: 1, connector: connector)
            let log = EventLog(client.events)
            let run = Task { try await client.run() }
            let server: Connection
            do {
                server = try await within(.seconds(10), "connection from the client") {
                    var iterator = servers.makeAsyncIterator()
                    guard let next = await iterator.next() else { throw HarnessTimeout(description: "connector gone") }
                    return next
                }
            } catch {
                run.cancel()
                throw error
            }
            let started = RegisteredClient(client: client, log: log, clock: clock, server: server, run: run)
            do {
                _ = try await started.read(until: "USER ")
                for line in [":srv CAP * LS :", ":srv 001 bot :Welcome bot!sb@client.host",
                             ":srv 005 bot CASEMAPPING=rfc1459 :are supported", ":srv 376 bot :End of MOTD"] {
                    try await server.write(Array((line + "\r\n").utf8))
                }
                _ = try await started.read(until: "CAP END\r\n")
                try await log.wait("registered") { $0 == .registered(nick: "bot") }
            } catch {
                started.stop()
                throw error
            }
            return started
        }

        /// What the client wrote, read until it contains `needle`.
        func read(until needle: String) async throws -> String {
            var pending = ""
            while !pending.contains(needle) {
                let bytes = try await within(.seconds(10), "\"\(needle)\" from the client") { try await server.read() }
                if bytes.isEmpty { throw HarnessTimeout(description: "the client closed before \(needle)") }
                pending += String(decoding: bytes, as: UTF8.self)
            }
            return pending
        }

        func stop() {
            run.cancel()
            server.close()
        }
    }

    @Test("Through the client: the four lines of one answer are one write, then one delivery report")
    func fourLinesOneWrite() async throws {
        let started = try await RegisteredClient.start()
        defer { started.stop() }
        let (client, log, clock, server) = (started.client, started.log, started.clock, started.server)

        try await client.send("Best matches for vpn:\n1. VPN setup\n2. VPN drops\n3. Certificates", to: "alice",
                              priority: .bulk, id: 9)
        let chunk = try await within(.seconds(10), "the answer") { try await server.read() }
        #expect(String(decoding: chunk, as: UTF8.self) == """
            PRIVMSG alice :Best matches for vpn:\r
            PRIVMSG alice :1. VPN setup\r
            PRIVMSG alice :2. VPN drops\r
            PRIVMSG alice :3. Certificates\r

            """)
        try await log.wait("delivery report") { $0 == .delivered(id: 9, at: clock.date) }
    }

    @Test("Through the client: a step's texts to several people, queued at once, are one write; each is reported delivered")
    func aStepsTextsAreOneWrite() async throws {
        let started = try await RegisteredClient.start()
        defer { started.stop() }
        let (client, log, clock, server) = (started.client, started.log, started.clock, started.server)

        // The customer's confirmation, the agents' channel, the page; one
        // text cannot be sent (no target) and is reported, the others go.
        let failures = await client.send([
            .init("Ticket #7 is saved.", to: "werft", priority: .urgent, id: 1),
            .init("anna: PAGE #7", to: "#agents", priority: .urgent),
            .init("", to: "nobody", priority: .urgent, id: 3),
            .init("PAGE #7 P1", to: "anna", priority: .urgent, id: 2),
        ])
        #expect(failures.map(\.index) == [2])
        let chunk = try await within(.seconds(10), "the step's lines") { try await server.read() }
        #expect(String(decoding: chunk, as: UTF8.self) == """
            PRIVMSG werft :Ticket #7 is saved.\r
            PRIVMSG #agents :anna: PAGE #7\r
            PRIVMSG anna :PAGE #7 P1\r

            """)
        try await log.wait("the confirmation's delivery") { $0 == .delivered(id: 1, at: clock.date) }
        try await log.wait("the page's delivery") { $0 == .delivered(id: 2, at: clock.date) }
    }

    /// A bucket of 10 lines refilled every millisecond: `groupWindow` (5 ms)
    /// gathers up to 5 lines.
    static let quick = IRCClientConfiguration.SendQueueSettings(burst: 10, interval: .milliseconds(1))

    /// The session after its bucket was spent on a 10-line text, written.
    static func spent() throws -> SessionHarness {
        var h = SendQueueTests.registered(Self.quick)
        h.advance(60)
        try h.session.send((1...10).map { "x\($0)" }.joined(separator: "\n"), to: "zed", now: h.now)
        #expect(h.takeUnwritten().count == 10)
        h.session.lineWritten(now: h.now)
        return h
    }

    @Test("A fast bucket spent: an answer's lines wait until each has its token, then leave in one batch")
    func spentBucketGathersAnswer() throws {
        var h = try Self.spent()
        try h.session.send("Best:\n1. a\n2. b\n3. c", to: "alice", id: 4, now: h.now)
        h.advance(0.0015)  // one token: line by line, the first line would leave alone now
        #expect(h.takeUnwritten() == [])
        let ready = try #require(h.session.nextDeadline(now: h.now))
        #expect(ready.timeIntervalSince(h.now) > 0.0024 && ready.timeIntervalSince(h.now) < 0.0026)
        h.advance(0.0023)
        #expect(h.takeUnwritten() == [])
        h.now = ready
        #expect(h.takeUnwritten() == ["PRIVMSG alice Best:", "PRIVMSG alice :1. a", "PRIVMSG alice :2. b",
                                      "PRIVMSG alice :3. c"])
        #expect(SendQueueTests.reports(h.events()) == [])
        h.session.lineWritten(now: h.now)
        #expect(SendQueueTests.reports(h.events()) == [.delivered(id: 4, at: h.now)])
    }

    @Test("A long text on a spent fast bucket goes in groups that fit the window, at the bucket's rate")
    func longTextInWindowGroups() throws {
        var h = try Self.spent()
        try h.session.send((1...12).map { "l\($0)" }.joined(separator: "\n"), to: "alice", id: 5, now: h.now)
        var batches: [[String]] = []
        let start = h.now
        var lastBatchAt = start
        while !h.session.queue.isEmpty, h.now.timeIntervalSince(start) < 1 {
            let batch = h.takeUnwritten()
            if !batch.isEmpty {
                batches.append(batch)
                lastBatchAt = h.now
                h.session.lineWritten(now: h.now)
                if h.session.queue.isEmpty { break }
            }
            let next = try #require(h.session.nextDeadline(now: h.now))
            h.now = max(next, h.now.addingTimeInterval(0.0001))
        }
        #expect(batches.map(\.count) == [5, 5, 2])
        #expect(batches.joined().map { $0.replacingOccurrences(of: "PRIVMSG alice ", with: "") }
                == (1...12).map { "l\($0)" })
        // 12 tokens at one a millisecond: the last batch cannot leave before 12 ms.
        #expect(lastBatchAt.timeIntervalSince(start) >= 0.012 && lastBatchAt.timeIntervalSince(start) < 0.0125)
    }

    @Test("A page queued while an answer is gathered goes first, with its own lines together")
    func pageOvertakesGatheredAnswer() throws {
        var h = try Self.spent()
        try h.session.send("a1\na2\na3", to: "alice", priority: .bulk, now: h.now)
        h.advance(0.001)
        #expect(h.takeUnwritten() == [])
        try h.session.send("PAGE #7\nsecond", to: "anna", priority: .urgent, now: h.now)
        #expect(h.takeUnwritten() == [])  // one token: the page's two lines wait for the second
        h.now = try #require(h.session.nextDeadline(now: h.now))
        #expect(h.takeUnwritten() == ["PRIVMSG anna :PAGE #7", "PRIVMSG anna second"])
    }
}
