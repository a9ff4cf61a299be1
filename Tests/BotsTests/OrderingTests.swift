@testable import Bots
import Core
import Desk
import Dispatch
import Foundation
import Synchronization
import Testing

/// Holds every PIN check on the worker's thread until ``release()`` — so a
/// test can type further lines while a check is certainly still running.
final class PINGate: Sendable {
    private let state = Mutex<(open: Bool, checks: Int, blocked: Int)>((false, 0, 0))
    private let semaphore = DispatchSemaphore(value: 0)

    /// Checks that reached the hash so far.
    var checks: Int { state.withLock { $0.checks } }

    /// The hash to give the runtime: waits at the gate, then checks for real.
    @Sendable func hash(_ job: PINCheckJob) -> Bool {
        let wait = state.withLock { s -> Bool in
            s.checks += 1
            if s.open { return false }
            s.blocked += 1
            return true
        }
        if wait { semaphore.wait() }
        return job.customers.verifyPIN(number: job.number, pin: job.pin)
    }

    func release() {
        let blocked = state.withLock { s -> Int in
            s.open = true
            defer { s.blocked = 0 }
            return s.blocked
        }
        for _ in 0..<blocked { semaphore.signal() }
    }
}

/// One customer's lines are handled strictly in the order they arrived,
/// also while their PIN is checked off the actor; others are not held up.
@Suite struct OrderingTests {
    @Test func quickTypingWhileThePINIsCheckedKeepsOrderAndLosesNoLine() async throws {
        let h = try await Harness()
        let gate = PINGate()
        await h.runtime.usePINHash(gate.hash)
        let lea = h.customer("lea")
        for line in ["10042", "4711", "nein", "1", "!status"] { await h.type(line, from: lea) }
        // While the check runs, only the question for the PIN has been said.
        let before = h.demo.takeNew().to("lea")
        #expect(before.count == 1)
        #expect(before.last?.contains("Zu Kundennummer 10042 gibt es einen Wartungsvertrag") == true)
        try await eventually("the PIN check reached the hash") { gate.checks == 1 }

        gate.release()
        await h.runtime.waitUntilIdle()
        let after = h.demo.takeNew().to("lea")
        // PIN confirmed first, then one answer for each held line, in order.
        #expect(after.count == 4)
        #expect(after.first?.hasPrefix("Danke – Ihr Vertrag ist bestätigt, Speicherstadt Logistik GmbH.") == true)
        #expect(after.first?.contains("Bitte beschreiben Sie kurz Ihr Problem") == true)
        #expect(after[1].hasPrefix("Wir kümmern uns darum.")) // "nein" is no description: asked again
        #expect(after[2].hasPrefix("Wir kümmern uns darum.")) // "1" neither
        #expect(after[3] == "Sie haben keine offenen Tickets.")
        #expect(try await h.openTickets().isEmpty)
    }

    @Test func anotherCustomerIsAnsweredWhileOnesPINCheckIsPending() async throws {
        let h = try await Harness()
        let gate = PINGate()
        await h.runtime.usePINHash(gate.hash)
        let lea = h.customer("lea"), tom = h.customer("tom")
        await h.type("Kundennummer 10042, PIN 4711", from: lea)
        await h.type("!status", from: lea)
        await h.type("keine Kundennummer", from: tom)
        await h.type("!status", from: tom)
        let meanwhile = h.demo.takeNew()
        #expect(meanwhile.to("lea").isEmpty) // the PIN result and !status wait
        #expect(meanwhile.to("tom").count == 2)
        #expect(meanwhile.to("tom").last == "Sie haben keine offenen Tickets.")

        gate.release()
        await h.runtime.waitUntilIdle()
        let after = h.demo.takeNew().to("lea")
        #expect(after.count == 2)
        #expect(after.first?.contains("Danke – Ihr Vertrag ist bestätigt") == true)
        #expect(after.last == "Sie haben keine offenen Tickets.")
    }

    @Test func aKBQuestionDuringThePINCheckWaitsItsTurnToo() async throws {
        let h = try await Harness()
        let gate = PINGate()
        await h.runtime.usePINHash(gate.hash)
        let lea = h.customer("lea")
        await h.type("Kundennummer 10042, PIN 4711", from: lea)
        await h.type("!kb vpn", from: lea)
        #expect(h.demo.takeNew().to("lea").isEmpty)
        gate.release()
        await h.runtime.waitUntilIdle()
        let after = h.demo.takeNew().to("lea")
        #expect(after.count == 2)
        #expect(after.first?.contains("Danke – Ihr Vertrag ist bestätigt") == true)
        #expect(after.last?.contains("VPN") == true)
    }
}

/// A network that confirms every page from inside `send`, as the console does.
final class ConfirmingNetwork: ChatNetwork {
    let name: String
    private let sent = Synchronization.Mutex<[ChatAction]>([])
    private let report = Synchronization.Mutex<(@Sendable (ChatDelivery) async -> Void)?>(nil)

    init(name: String) { self.name = name }

    var ownNick: String { "switchboard" }
    var all: [ChatAction] { sent.withLock { $0 } }

    func confirm(with body: @escaping @Sendable (ChatDelivery) async -> Void) { report.withLock { $0 = body } }

    func isPresent(_ nick: String) async -> Bool? { nil }

    var status: ChatNetworkStatus { ChatNetworkStatus(.ready) }
    var backlog: ChatBacklog { ChatBacklog(queuedTexts: 0) }
    func normalized(_ name: String, kind: ChatNameKind) -> String { name }
    func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool { false }

    func send(_ action: ChatAction) async {
        sent.withLock { $0.append(action) }
        if let id = action.deliveryID, let report = report.withLock({ $0 }) {
            await report(.delivered(id: id, at: Date(timeIntervalSince1970: 1_772_442_000)))
        }
    }

    func run(events: @escaping @Sendable (ChatEvent) async -> Void,
             deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {}

    func shutdown(message: String, deadline: Duration) async {}
}

@Suite struct InlineDeliveryTests {
    @Test func aPageConfirmedFromInsideSendIsHandledAfterTheTurnNotDeadlocked() async throws {
        let h = try await Harness()
        let console = ConfirmingNetwork(name: "console")
        let runtime = h.runtime
        console.confirm { await runtime.handle($0) }
        await runtime.attach(console, settings: NetworkBotSettings(name: "console", agentsChannel: "#agents",
                                                                   hasAccounts: false, trustsAgentIDs: true,
                                                                   language: "de"))
        let me = ChatIdentity(network: "console", nick: "you", account: nil)
        for line in ["Kundennummer 10042, PIN 4711, Prio 1", "Der Router im Lager startet ständig neu"] {
            await runtime.handle(.message(ChatMessage(sender: me, place: .direct, text: line, addressedToBot: true,
                                                      time: h.clock.date)))
            await runtime.waitUntilIdle()
        }
        let pages = console.all.pages
        #expect(pages.count == 2)
        let stored = try await h.store.pages(of: TicketNumber(1))
        #expect(stored.count == 2 && stored.allSatisfy { $0.sentAt != nil })
        let metrics = await runtime.metrics()
        #expect(metrics.pagesSent == 2 && metrics.pagesInFlight == 0)
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state == .paged)
    }
}

@Suite struct NickChangeDuringPINCheckTests {
    @Test func aNickChangeDuringThePINCheckKeepsTheResultAndTheHeldLines() async throws {
        let h = try await Harness()
        let gate = PINGate()
        await h.runtime.usePINHash(gate.hash)
        let lea = h.customer("lea")
        for line in ["Kundennummer 10042, PIN 4711", "!status"] {
            await h.runtime.handle(.message(ChatMessage(sender: lea.identity, principal: lea.principal, place: .direct,
                                                        text: line, addressedToBot: true, time: h.clock.date)))
        }
        await h.runtime.handle(.nickChanged(network: "demo", from: "lea", to: "lea_"))
        gate.release()
        await h.runtime.waitUntilIdle()
        let out = h.demo.takeNew()
        #expect(out.to("lea").isEmpty)
        #expect(out.to("lea_").count == 2)
        #expect(out.to("lea_").first?.contains("Danke – Ihr Vertrag ist bestätigt") == true)
        #expect(out.to("lea_").last == "Sie haben keine offenen Tickets.")
    }
}
