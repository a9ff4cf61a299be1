@testable import Bots
import Core
import Desk
import Foundation
import Testing

// Issue 15 from the bots' side: a network's flood limit is a fixed budget,
// spent on verified contract customers and agents first; what the bots track
// per customer is bounded; every customer line gets an answer or a reason.

/// The lanes the bots choose (the send queue serves a higher lane first).
@Suite struct LaneTests {
    @Test func strangersWaitBehindAVerifiedContractCustomerPagesGoFirst() async throws {
        let h = try await Harness()
        let stranger = await h.say("hi", from: h.customer("stranger"))
        #expect(!stranger.isEmpty && stranger.allSatisfy { $0.lane == .normal }, "an unverified conversation")

        let max = h.customer("max")
        let claimed = await h.say("Kundennummer 10042", from: max)
        #expect(!claimed.isEmpty && claimed.allSatisfy { $0.lane == .normal }, "a claim is not yet a contract")
        let proven = await h.say("4711", from: max)
        #expect(proven.to("max").joined().contains("Ihr Vertrag ist bestätigt"))
        #expect(proven.allSatisfy { $0.lane == .priority }, "PIN confirmed: ahead of strangers")

        let created = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen, Prio 1", from: max)
        #expect(!created.pages.isEmpty && created.pages.allSatisfy { $0.lane == .urgent })
        #expect(created.filter { $0.recipient == .user("max") }.allSatisfy { $0.lane == .urgent },
                "the ticket confirmation is urgent")
        h.clock.advance(by: .seconds(10))
        let later = await h.say("Wir haben den Router schon neu gestartet", from: max)
        #expect(!later.isEmpty && later.allSatisfy { $0.lane == .priority }, "about an open contract ticket")
    }

    @Test func aLinkedAccountIsAheadFromTheFirstLineAndKBAnswersAreBulk() async throws {
        let h = try await Harness()
        let hansen = await h.say("Hallo, unser Drucker druckt nicht", from: h.customer("hansen", account: "hansen-it"))
        #expect(hansen.to("hansen").joined().contains("Bäckerei Hansen"))
        #expect(hansen.allSatisfy { $0.lane == .priority })
        let kb = await h.say("!kb vpn", from: h.customer("reader"))
        #expect(!kb.isEmpty && kb.allSatisfy { $0.lane == .bulk })
    }

    @Test func agentsAnswersGoAheadOfStrangers() async throws {
        let h = try await Harness()
        try await h.contractTicket("max")
        let queue = await h.say("!queue", from: h.agent("anna"), in: "#agents")
        #expect(!queue.isEmpty && queue.allSatisfy { $0.lane == .priority })
        let own = await h.say("!queue", from: h.agent("anna"))
        #expect(!own.isEmpty && own.allSatisfy { $0.lane == .priority })
    }

    @Test func anOutdatedQuestionStillQueuedIsReplacedWhenTheCustomerAnswersAgain() async throws {
        let h = try await Harness()
        let first = await h.say("hallo", from: h.customer("eva"))
        let second = await h.say("10042", from: h.customer("eva"))
        let other = await h.say("hallo", from: h.customer("udo"))
        let keys = (first + second).filter { $0.recipient == .user("eva") }.map(\.replaceKey)
        #expect(keys.count >= 2 && keys.allSatisfy { $0 != nil && $0 == keys[0] })
        #expect(other.first?.replaceKey != nil && other.first?.replaceKey != keys[0], "one key per conversation")
    }
}

/// The agents are told when customers' lines wait in a send queue.
@Suite struct BacklogWatchTests {
    @Test func aBacklogOlderThanTheLimitWarnsTheAgentsOnceAndAgainOnlyAfterItCleared() async throws {
        let h = try await Harness()
        #expect(h.definitions.agentSettings.backlogWarning == 60)
        h.demo.backlogNow.withLock { $0 = ChatBacklog(queuedTexts: 42, oldestWait: .seconds(40)) }
        var out = await h.say("hi", from: h.customer("a"))
        #expect(out.in("#agents").isEmpty, "40 s is under the limit")
        #expect(await h.runtime.nextDeadline() != nil, "while lines wait, the runtime looks again")

        h.demo.backlogNow.withLock { $0 = ChatBacklog(queuedTexts: 42, oldestWait: .seconds(75)) }
        out = await h.advance(minutes: 0.1)
        let warning = try #require(out.filter { $0.recipient == .channel("#agents") }.first)
        #expect(warning.text.contains("42 Nachrichten") && warning.text.contains("75 s")
            && warning.text.contains("Flood-Ausnahme"))
        #expect(warning.lane == .urgent, "it must not wait behind the backlog it reports")
        #expect(h.logs.lines.filter { $0.contains("send queue backlog") }.count == 1)

        h.demo.backlogNow.withLock { $0 = ChatBacklog(queuedTexts: 50, oldestWait: .seconds(90)) }
        out = await h.advance(minutes: 0.1)
        out += await h.say("hallo?", from: h.customer("b"))
        #expect(out.in("#agents").isEmpty, "once per backlog")

        h.demo.backlogNow.withLock { $0 = ChatBacklog(queuedTexts: 0) }
        out = await h.advance(minutes: 0.1)
        #expect(out.in("#agents").isEmpty)
        h.demo.backlogNow.withLock { $0 = ChatBacklog(queuedTexts: 9, oldestWait: .seconds(61)) }
        out = await h.say("noch da?", from: h.customer("c"))
        out += await h.advance(minutes: 0.1)  // the watch runs on its timer, armed by the lines sent
        #expect(out.in("#agents").count == 1, "a new backlog after it cleared is told again")
    }
}

/// What the bots track per customer is bounded, and given back.
@Suite struct ConversationBoundTests {
    static func definitions(perNetwork: Int, total: Int) throws -> (TemporaryDirectory, BotDefinitions) {
        let (directory, folder) = try DefinitionsTests.editableCopy { files in
            files["support.json5"] = files["support.json5"]!
                .replacingOccurrences(of: "conversationsPerNetwork: 2000", with: "conversationsPerNetwork: \(perNetwork)")
                .replacingOccurrences(of: "conversationsTotal: 5000", with: "conversationsTotal: \(total)")
        }
        return (directory, try BotDefinitions.load(folder: folder))
    }

    @Test func pastTheBoundANewCustomerIsToldBusyOnceAndMemoryComesBackAfterExpiry() async throws {
        let (directory, definitions) = try Self.definitions(perNetwork: 300, total: 301)
        defer { _ = directory }
        let h = try await Harness(definitions: definitions)
        for index in 0..<300 { await h.say("hi", from: h.customer("s\(index)")) }
        #expect(await h.runtime.metrics().conversationsActive == 300)
        let peak = await h.runtime.conversationTableCapacity()

        let late = h.customer("late")
        let busy = await h.say("Hallo, Kundennummer 10042", from: late)
        #expect(busy.to("late") == [h.definitions.support.render(.busy, .de)])
        #expect(await h.say("hallo??", from: late).isEmpty, "told once, not per line")
        #expect(h.logs.lines.filter { $0.contains("conversation bound reached") && $0.contains("network:demo") }.count == 1)
        // The other network has room until the total is reached.
        let guest = await h.say("hello", from: h.customer("guest", network: "oftc"))
        #expect(guest.to("guest").joined().contains("Nordlicht"))
        let second = await h.say("hello", from: h.customer("second", network: "oftc"))
        #expect(second.to("second") == [h.definitions.support.render(.busy, .en)])
        #expect(await h.runtime.metrics().conversationsRefused == 3)

        // After the idle timeout everything ends; the memory is given back
        // and a newcomer is served again.
        await h.advance(minutes: 31)
        #expect(await h.runtime.metrics().conversationsActive == 0)
        let after = await h.runtime.conversationTableCapacity()
        #expect(peak >= 300 && after < 64)
        let back = await h.say("hallo", from: late)
        #expect(back.to("late").joined().contains("Nordlicht"))
    }

    @Test func nickChangesMoveOneConversationInsteadOfStartingNewOnes() async throws {
        let h = try await Harness()
        await h.say("hi", from: h.customer("n0"))
        for index in 1...200 {
            await h.runtime.handle(.nickChanged(network: "demo", from: "n\(index - 1)", to: "n\(index)"))
            await h.say("hi", from: h.customer("n\(index)"))
        }
        #expect(await h.runtime.metrics().conversationsActive == 1)
    }
}

/// Edges of input (issue 15 item 3).
@Suite struct InputEdgeTests {
    @Test func onlyCROrLFSplitLinesOtherSeparatorsAreText() async throws {
        #expect(BotRuntime<ManualClock>.lines(of: "a\u{85}b\u{2028}c\u{2029}d\u{0B}e\u{0C}f")
            == ["a\u{85}b\u{2028}c\u{2029}d\u{0B}e\u{0C}f"])
        #expect(BotRuntime<ManualClock>.lines(of: "one\r\ntwo\rthree\nfour\n\n  ") == ["one", "two", "three", "four"])
        // In a conversation: one message with U+2028 is one line, one answer;
        // its number is not taken as the answer to the question of a new line.
        let h = try await Harness()
        await h.say("hallo", from: h.customer("ida"))
        let out = await h.say("Unser Lagerrechner startet nicht mehr\u{2028}Seit heute früh", from: h.customer("ida"))
        #expect(out.to("ida").count == 1)
    }

    @Test func aMeLineIsRelayedToTheAgentMarkedAsAnAction() async throws {
        let h = try await Harness()
        let ticket = try await h.contractTicket("max")
        await h.say("!take \(ticket.number.rawValue)", from: h.agent("anna"), in: "#agents")
        h.clock.advance(by: .seconds(10))
        let max = h.customer("max", account: "max")
        let me = ChatMessage(sender: max.identity, principal: max.principal, place: .direct,
                             text: "wartet noch immer auf eine Antwort", addressedToBot: true, time: h.clock.date,
                             isAction: true)
        await h.runtime.handle(.message(me))
        let out = h.demo.takeNew()
        #expect(out.to("anna") == ["[#\(ticket.number.rawValue)] * Speicherstadt Logistik GmbH wartet noch immer auf eine Antwort"])
        #expect(out.to("anna").allSatisfy { !$0.contains(": wartet") })
    }

    @Test func aMeLineDuringTheQuestionsIsTextNotAnAnswer() async throws {
        let h = try await Harness()
        let ida = h.customer("ida")
        await h.say("hallo", from: ida)
        let me = ChatMessage(sender: ida.identity, principal: ida.principal, place: .direct, text: "10042",
                             addressedToBot: true, time: h.clock.date, isAction: true)
        await h.runtime.handle(.message(me))
        let out = h.demo.takeNew().to("ida").joined()
        #expect(!out.contains("Speicherstadt"), "not taken as the customer number: \(out)")
    }

    @Test func silentInputsGetAnAnswer() async throws {
        let h = try await Harness()
        let spaces = await h.say("     ", from: h.customer("blank"))
        #expect(!spaces.to("blank").isEmpty, "a line of only spaces")

        let long = h.customer("long")
        await h.say("hallo", from: long)
        h.clock.advance(by: .seconds(5))
        let digits = await h.say(String(repeating: "7", count: 480), from: long)
        #expect(!digits.to("long").isEmpty, "a 480-digit customer number")

        let sql = h.customer("sql")
        await h.say("Kundennummer 10042", from: sql)
        h.clock.advance(by: .seconds(5))
        let injection = await h.say("' OR '1'='1", from: sql)
        #expect(!injection.to("sql").isEmpty, "SQL at the PIN prompt")
        h.clock.advance(by: .seconds(5))
        let again = await h.say("' OR '1'='1", from: sql)
        #expect(!again.to("sql").isEmpty, "again within the re-prompt interval")
    }

    @Test func aStoreErrorGivesTheAgentASentenceAndTheLogTheDetail() async throws {
        let h = try await Harness()
        let ticket = try await h.contractTicket("max")
        await h.store.close()
        let out = await h.say("!take \(ticket.number.rawValue)", from: h.agent("anna"), in: "#agents")
        let reply = try #require(out.in("#agents").first)
        #expect(reply == h.definitions.agent.render(.storeFailed, .de))
        #expect(!reply.lowercased().contains("sqlite") && !reply.contains("error"))
        #expect(h.logs.lines.contains { $0.contains("store call failed") })
    }
}
