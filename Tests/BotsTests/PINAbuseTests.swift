@testable import Bots
import Core
import Desk
import Dispatch
import Foundation
import Synchronization
import Testing

/// A PIN hash the test steps through: every call is recorded (number and
/// PIN of the job) and blocks on the worker's thread until the test lets
/// it finish (``open(_:)``); then it checks for real. Without a gate it
/// only counts (``passing()``).
final class SteppedPINHash: Sendable {
    private let jobs = Mutex<[String]>([])
    private let gate = DispatchSemaphore(value: 0)
    private let gated: Bool

    private init(gated: Bool) { self.gated = gated }

    /// Every hash waits for ``open(_:)``.
    static func stepped() -> SteppedPINHash { SteppedPINHash(gated: true) }
    /// Hashes run at once; they are only counted.
    static func passing() -> SteppedPINHash { SteppedPINHash(gated: false) }

    /// `number/pin` of every hash started, in order.
    var started: [String] { jobs.withLock { $0 } }

    @Sendable func hash(_ job: PINCheckJob) -> Bool {
        jobs.withLock { $0.append("\(job.number)/\(job.pin)") }
        if gated { gate.wait() }
        return BotRuntime<ManualClock>.hashPIN(job)
    }

    /// Lets `count` hashes (running or to come) finish.
    func open(_ count: Int) {
        for _ in 0..<count { gate.signal() }
    }
}

/// Issue 14: distributed PIN guessing. Checks are reserved in the store
/// before they are hashed; a locked number still gets help; the agents are
/// warned once; hashing never holds up anyone else.
@Suite struct PINAbuseTests {
    /// 100 nicks, each trying 3 PINs for 10042 at once, the last one the
    /// right PIN. The attack text of the issue: 299 wrong PINs were checked
    /// and then a guess was accepted.
    func attack(_ h: Harness, hash: SteppedPINHash) async throws -> [Person] {
        await h.runtime.usePINHash(threads: 2, hash.hash)
        let attackers = (0..<100).map { h.customer("guess\($0)") }
        for attacker in attackers { await h.type("Kundennummer 10042", from: attacker) }
        for round in 0..<3 {
            for (index, attacker) in attackers.enumerated() {
                await h.type(round == 2 ? "4711" : String(5000 + index * 2 + round), from: attacker)
            }
        }
        await h.runtime.waitUntilIdle()
        return attackers
    }

    @Test func parallelGuessesFromAHundredIdentitiesCheckAtMostTheBudgetAndAcceptNone() async throws {
        let h = try await Harness()
        let hash = SteppedPINHash.passing()
        let attackers = try await attack(h, hash: hash)
        let out = h.demo.takeNew()

        // The number's budget: 5 checks (reserved before hashing, so the
        // parallel ones count before they finish); nothing beyond is hashed.
        #expect(hash.started.count == PINAttemptPolicy.standard.wrongPerNumber)
        #expect(!hash.started.contains { $0.hasSuffix("/4711") })
        for attacker in attackers {
            #expect(!out.to(attacker.nick).joined().contains("Ihr Vertrag ist bestätigt"), "\(attacker.nick)")
        }
        let state = try await h.store.pinAttackState(customerNumber: "10042", at: h.clock.date, policy: .standard)
        #expect(state.wrongInWindow == 5 && state.lockedUntil != nil)
        // Past the budget the answer is immediate: every attacker was answered.
        let locked = attackers.filter { out.to($0.nick).joined().contains("PIN-Prüfung für Kundennummer 10042 ist") }
        #expect(locked.count == 100)
        #expect(await h.runtime.metrics().pinChecksRefused >= 95)

        // One warning in the agents' channel: number, count, senders — no PIN.
        let warnings = out.in("#agents").filter { $0.contains("PIN-Rateversuche gegen Kundennummer 10042") }
        #expect(warnings.count == 1)
        let warning = try #require(warnings.first)
        #expect(warning.contains("5 falsche PINs") && warning.contains("von 5 Absender(n): demo:~guess"))
        #expect(!(0..<300).contains { warning.contains(String(5000 + $0)) } && !warning.contains("4711"), "\(warning)")
        #expect(!h.logs.lines.contains { $0.contains("4711") || $0.contains("5000") })
    }

    @Test func theRealCustomerAfterTheLockGetsAFlaggedContractTicketAndTheAgentsAreWarnedOnce() async throws {
        let h = try await Harness()
        _ = try await attack(h, hash: .passing())
        _ = h.demo.takeNew()
        h.clock.advance(by: .seconds(10))

        let real = h.customer("speicherstadt-it")
        var out = await h.say("Kundennummer 10042, PIN 4711", from: real)
        let told = out.to(real.nick).joined(separator: "\n")
        #expect(told.contains("Die PIN-Prüfung für Kundennummer 10042 ist wegen zu vieler Fehlversuche gesperrt."))
        #expect(told.contains("vermerkt als „Vertrag angegeben, PIN gesperrt“"))
        await h.say("Unser Kran im Hafen steht, die Steuerung startet nicht mehr", from: real)
        out = await h.say("2", from: real)

        let ticket = try #require(try await h.openTickets().first { $0.contact.nick == real.nick })
        #expect(ticket.contractClaimPINLocked)
        // The configuration's default: the contract group's priority and tier.
        #expect(ticket.group == .contract && ticket.priority.label == "P2" && ticket.tier == "premium")
        #expect(ticket.customerNumber == "10042")
        #expect(out.to(real.nick).last?.contains("Ihr Ticket #1 (P2) ist gespeichert") == true)
        let agents = out.in("#agents")
        #expect(agents.contains { $0.contains("#1 (P2") && $0.contains("Vertrag angegeben, PIN gesperrt") })
        // Still the one warning of this attack, not one per attempt.
        #expect(!agents.contains { $0.contains("PIN-Rateversuche") })
        #expect(await h.runtime.metrics().pinAttackWarnings == 1)
    }

    @Test func threeWrongPINsOfOneCustomerAreNoAttackAndServeWithoutContract() async throws {
        let h = try await Harness()
        let tim = h.customer("tim")
        await h.say("Kundennummer 10042", from: tim)
        await h.say("1111", from: tim)
        await h.say("2222", from: tim)
        let out = await h.say("3333", from: tim)
        #expect(out.to("tim").joined().contains("ohne Vertragsvorrang"))
        #expect(!out.in("#agents").contains { $0.contains("PIN-Rateversuche") })
        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: tim)
        await h.say("1", from: tim)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.group == .noContract && !ticket.contractClaimPINLocked)
    }

    @Test func aFloodFromOneSenderDelaysAnotherCustomersCheckByAtMostOneHash() async throws {
        let h = try await Harness()
        let hash = SteppedPINHash.stepped()
        await h.runtime.usePINHash(threads: 1, hash.hash)
        let mallory = h.customer("mallory"), lea = h.customer("lea"), tom = h.customer("tom")

        await h.type("Kundennummer 10042", from: mallory)
        await h.type("1111", from: mallory)
        try await eventually("mallory's first check is hashing") { hash.started.count == 1 }
        for guess in 0..<50 { await h.type(String(2000 + guess), from: mallory) }
        await h.type("Kundennummer 10001", from: lea)
        await h.type("2468", from: lea)

        // While a hash runs, other conversations and agent commands are answered.
        await h.type("keine Kundennummer", from: tom)
        await h.runtime.handle(.message(ChatMessage(sender: h.agent("anna").identity,
                                                    principal: h.agent("anna").principal, place: .channel("#agents"),
                                                    text: "!queue", addressedToBot: true, time: h.clock.date)))
        let meanwhile = h.demo.takeNew()
        #expect(meanwhile.to("tom").joined().contains("Bitte beschreiben Sie kurz Ihr Problem"))
        #expect(meanwhile.in("#agents").count == 1)
        #expect(meanwhile.to("lea").count == 1) // the PIN question only; the answer waits for its hash

        // One hash (mallory's running one) finishes: lea's is next, not
        // mallory's next guess.
        hash.open(1)
        try await eventually("a second check is hashing") { hash.started.count == 2 }
        #expect(hash.started == ["10042/1111", "10001/2468"])
        hash.open(100)
        await h.runtime.waitUntilIdle()
        #expect(h.demo.takeNew().to("lea").joined().contains("Ihr Vertrag ist bestätigt"))
        // Mallory's flood ended at the sender's budget (three wrong PINs).
        #expect(hash.started.filter { $0.hasPrefix("10042/") }.count == 3)
    }

    @Test func tooManyChecksAtOnceAreTriedAgainByThemselvesNotLostOrBlamedOnTheCustomer() async throws {
        let h = try await Harness()
        await h.runtime.usePINPolicy(PINAttemptPolicy(checksPerSecond: 1))
        let lea = h.customer("lea"), ben = h.customer("ben")
        await h.say("Kundennummer 10042", from: lea)
        await h.say("Kundennummer 10001", from: ben)
        await h.type("4711", from: lea)
        await h.type("2468", from: ben)
        await h.type("!status", from: ben)
        // Ben's check waits a second for the global budget; his line waits with it.
        #expect(await h.clock.waitForSleepers(1))
        #expect(h.demo.takeNew().to("ben").isEmpty)
        h.clock.advance(by: .seconds(1))
        await h.runtime.waitUntilIdle()
        let told = h.demo.takeNew().to("ben")
        #expect(told.first?.contains("Ihr Vertrag ist bestätigt") == true, "\(told)")
        #expect(told.last == "Sie haben keine offenen Tickets.")
        #expect(!told.joined().contains("zu viele PINs"))
    }

    @Test func aStoreThatCannotReserveRunsNoCheckAndSaysSo() async throws {
        let h = try await Harness()
        let hash = SteppedPINHash.passing()
        await h.runtime.usePINHash(hash.hash)
        let kim = h.customer("kim")
        await h.say("Kundennummer 10042", from: kim)
        await h.store.close()
        let out = await h.say("4711", from: kim)
        #expect(out.to("kim").joined().contains("geprüft wurde nichts"))
        #expect(!out.to("kim").joined().contains("Ihr Vertrag ist bestätigt"))
        #expect(hash.started.isEmpty)
    }
}
