import Bots
import Core
import Foundation
@testable import IRCAdapter
import IRCClient
import Testing

/// What the IRC adapter does with the bots' lanes, replace keys and failures
/// (issue 15): a client that is not connected keeps its queue, so the queue
/// can be looked at without a server.
@Suite struct FairSendAdapterTests {
    static func network(_ clock: ManualClock, logs: MemoryLogSink = MemoryLogSink()) -> IRCChatNetwork<ManualClock> {
        IRCChatNetwork(name: "demo", configuration: IRCClientConfiguration(host: "127.0.0.1", port: 6667, nick: "switchboard"),
                       clock: clock, logger: Logger(sink: logs, minimumLevel: .debug, clock: { clock.date }))
    }

    @Test func eachLaneHasItsOwnSendPriority() {
        #expect(ChatLane.allCases.map(IRCChatNetwork<ManualClock>.priority(of:)) == [.urgent, .priority, .normal, .bulk])
    }

    @Test func lanesReplaceKeysAndTheOldestWaitReachTheQueue() async throws {
        let clock = ManualClock()
        let network = Self.network(clock)
        #expect(await network.backlog == ChatBacklog(queuedTexts: 0))
        await network.send(ChatAction(network: "demo", recipient: .user("max"), text: "Ihr Vertrag ist bestätigt.",
                                      lane: .priority))
        await network.send(ChatAction(network: "demo", recipient: .user("eva"), text: "Ihre Kundennummer?",
                                      replaceKey: "intake-1"))
        clock.advance(by: .seconds(3))
        // Eva answered again: the outdated question still queued is replaced.
        await network.send(ChatAction(network: "demo", recipient: .user("eva"), text: "Ihre PIN?", replaceKey: "intake-1"))
        let backlog = await network.client.sendBacklog
        #expect(backlog.texts[.priority] == 1 && backlog.texts[.normal] == 1)
        let told = await network.backlog
        #expect(told.queuedTexts == 2)
        #expect(told.oldestWait == .seconds(3), "the priority line has waited since before the replacement")
    }

    @Test func cannotSendIsLoggedOnceAMinuteWithACountFlushedAtShutdown() async throws {
        let clock = ManualClock()
        let logs = MemoryLogSink()
        let network = Self.network(clock, logs: logs)
        for _ in 0..<500 {
            await network.send(ChatAction(network: "demo", recipient: .user("bad nick with spaces"), text: "x"))
        }
        #expect(logs.lines.filter { $0.contains("cannot send") }.count == 1)
        await network.shutdown(message: "bye", deadline: .seconds(1))
        #expect(logs.lines.contains { $0.contains("499 more like this suppressed") })
    }
}
