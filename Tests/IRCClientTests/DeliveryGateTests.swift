import Core
import Foundation
import IRC
@testable import IRCClient
import Synchronization
import TestSupport
import Testing
import Transport

/// The delivery gate (issue 10): a page line waiting behind the flood limit
/// is checked against the lease view when its turn comes, not when it was
/// queued. Over a socketpair with a manual clock; the standard flood limits
/// (a burst of 5, then a line every 2 s).
@Suite("IRCClient delivery gate")
struct DeliveryGateTests {
    /// A lease view: pages may be written until `until` on `clock`.
    final class LeaseView: Sendable {
        let clock: ManualClock
        private let until: Mutex<Date>
        /// Each time the gate was asked, and its answer.
        let answers = Mutex<[Bool]>([])

        init(clock: ManualClock, until: Date) {
            self.clock = clock
            self.until = Mutex(until)
        }

        func renew(until date: Date) { until.withLock { $0 = date } }

        @Sendable func mayDeliver() -> Bool {
            let answer = clock.date < until.withLock { $0 }
            answers.withLock { $0.append(answer) }
            return answer
        }
    }

    /// A registered client with its burst spent on customer lines, the last
    /// of which (`customerN :Answer N`, N returned) waits for the next token.
    static func clientWithSpentBurst(_ connector: PairConnector, clock: ManualClock, gate: LeaseView) async throws
        -> (IRCClient<ManualClock>, EventLog, ScriptedServer, Task<Void, any Error>, Int)
    {
        let configuration = IRCClientConfiguration(host: "127.0.0.1", nick: "bot", sendQueue: .standard)
        let client = IRCClient(configuration: configuration, clock: clock, seed: 1, connector: connector.connector)
        await client.setDeliveryGate(gate.mayDeliver)
        let log = EventLog(client.events)
        let run = Task { try await client.run() }
        let server = try await ScriptedServer.next(from: connector)
        try await server.register()
        try await log.wait("registered") { if case .registered = $0 { true } else { false } }
        // What is not written at once stays queued: send until one waits.
        var sent = 0
        while await client.queuedTextCount == 0, sent < 10 {
            sent += 1
            try await client.send("Answer \(sent)", to: "customer\(sent)", priority: .normal)
        }
        #expect(await client.queuedTextCount == 1)
        for i in 1..<sent { #expect(try await server.expect("PRIVMSG") == "PRIVMSG customer\(i) :Answer \(i)") }
        return (client, log, server, run, sent)
    }

    @Test("A page queued behind the flood limit while the lease view runs out is not written and is reported withheld; customer lines still go")
    func pageWithheldPastTheLease() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        // The lease view ends 1 s from now; the next token comes in 2 s.
        let lease = LeaseView(clock: clock, until: clock.date.addingTimeInterval(1))
        let (client, log, server, run, waiting) = try await Self.clientWithSpentBurst(connector, clock: clock,
                                                                                      gate: lease)
        defer { run.cancel() }

        // Handed over while the lease view still covers it (as the runtime checks).
        #expect(lease.mayDeliver())
        try await client.send("PAGE ticket #7", to: "anna", priority: .urgent, id: 7)
        #expect(await client.queuedTextCount == 2)

        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(2))
        let event = try await log.wait("withheld report") {
            if case .withheld = $0 { true } else { if case .delivered = $0 { true } else { false } }
        }
        guard case .withheld(let id, let reason) = event else {
            Issue.record("the page was reported \(event), not withheld")
            return
        }
        #expect(id == 7)
        #expect(reason.contains("gate"))
        // The token the page did not use goes to the customer line queued
        // before it (no id: never asked about): it is the next line on the wire.
        #expect(try await server.expect("PRIVMSG") == "PRIVMSG customer\(waiting) :Answer \(waiting)")
        #expect(await client.queuedTextCount == 0)
        let wire = await server.lines.items
        #expect(!wire.contains { $0.contains("PAGE ticket #7") }, "the page reached the wire: \(wire)")
        #expect(await !log.all.contains { if case .delivered(id: 7, _) = $0 { true } else { false } })
    }

    @Test("A page whose lease is renewed before its turn goes out and is reported delivered")
    func pageSentWhenRenewed() async throws {
        let connector = PairConnector()
        let clock = ManualClock()
        let lease = LeaseView(clock: clock, until: clock.date.addingTimeInterval(1))
        let (client, log, server, run, _) = try await Self.clientWithSpentBurst(connector, clock: clock, gate: lease)
        defer { run.cancel() }

        try await client.send("PAGE ticket #7", to: "anna", priority: .urgent, id: 7)
        // A renewal comes before the page's turn.
        lease.renew(until: clock.date.addingTimeInterval(10))
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(2))
        #expect(try await server.expect("PRIVMSG") == "PRIVMSG anna :PAGE ticket #7")
        try await log.wait("delivery report") { $0 == .delivered(id: 7, at: clock.date) }
        #expect(await !log.all.contains { if case .withheld = $0 { true } else { false } })
        // Asked at write time: the last answer is the one at the page's turn.
        #expect(lease.answers.withLock { $0.last } == true)
    }

    @Test("The gate is asked for each line of a page: a page cut off by the lease's end is not finished")
    func multiLinePageStopsAtTheLeaseEnd() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        var queue = SendQueue(settings: .standard, now: now)
        let format: (SendQueue.Item) -> Result<[[UInt8]], SendFailure> = { item in
            .success(item.text.split(separator: "\n").map { Array("PRIVMSG \(item.target) :\($0)\r\n".utf8) })
        }
        queue.enqueue(SendQueue.Item(id: 9, target: "anna", text: "line 1\nline 2\nline 3", priority: .urgent,
                                     expiresAt: nil, enqueuedAt: now))
        queue.enqueue(SendQueue.Item(id: nil, target: "bob", text: "hello", priority: .normal, expiresAt: nil,
                                     enqueuedAt: now))
        var leaseHolds = true
        let first = queue.next(now: now, sendTexts: true, sendControl: true, mayDeliver: { leaseHolds },
                               format: format)
        #expect(first.map { String(decoding: $0.bytes, as: UTF8.self) } == "PRIVMSG anna :line 1\r\n")
        queue.written(now: now)
        leaseHolds = false
        // The rest of the page is withheld; bob's line (no id) goes.
        let second = queue.next(now: now, sendTexts: true, sendControl: true, mayDeliver: { leaseHolds },
                                format: format)
        #expect(second.map { String(decoding: $0.bytes, as: UTF8.self) } == "PRIVMSG bob :hello\r\n")
        #expect(queue.takeReports() == [.withheld(id: 9, reason: SendQueue.withheldReason)])
        queue.written(now: now)
        #expect(queue.next(now: now, sendTexts: true, sendControl: true, mayDeliver: { leaseHolds },
                           format: format) == nil)
        #expect(queue.takeReports().isEmpty)
        #expect(!queue.hasTexts)
    }
}
