@testable import Bots
import Core
import Desk
import Foundation
import Testing

/// The PIN checks' decisions on their own: events in (requested, the
/// store's reservation, the worker's result, a retry due), effects out, on
/// a `ManualClock`, with no runtime, store or worker.
@Suite struct PINChecksTests {
    let clock = ManualClock()

    func check(_ nick: String = "alice", number: String = "C-1", retries: Int = 0) -> PINChecks.Check {
        let identity = ChatIdentity(network: "demo", nick: nick)
        return PINChecks.Check(key: ConversationKey(identity, normalize: { name, _ in name.lowercased() }), serial: 7,
                               identity: identity, number: number, pin: "1234", retries: retries)
    }

    @Test func aRequestIsReservedFirstThenHashedThenRecordedAndTold() {
        var pins = PINChecks()
        let c = check()
        #expect(pins.requested(c, workerWaiting: 0, now: clock.date) == [.reserve(c)])
        let id = PINReservationID(rawValue: 3)
        #expect(pins.reservation(.reserved(id), for: c, now: clock.date) == [.hash(c, id)])
        #expect(pins.hashed(c, reservation: id, ok: true, now: clock.date) == [.finish(id, .right), .checked(c, ok: true)])
        #expect(pins.hashed(c, reservation: id, ok: false, now: clock.date) == [.finish(id, .wrong), .checked(c, ok: false)])
    }

    @Test func aStoreThatCannotReserveRunsNoCheck() {
        var pins = PINChecks()
        let c = check()
        #expect(pins.reservation(nil, for: c, now: clock.date) == [.notChecked(c, nil)])
    }

    @Test func aBudgetRefusalIsToldWithoutHashing() {
        var pins = PINChecks()
        let c = check()
        let refusal = PINRefusal.identityLimited(retryAt: clock.date.addingTimeInterval(60))
        #expect(pins.reservation(.refused(refusal), for: c, now: clock.date)
            == [.refused(c, reason: refusal.description), .notChecked(c, refusal)])
    }

    @Test func aWithdrawnCheckAsksForThePINAgainAndRecordsNothing() {
        var pins = PINChecks()
        let c = check()
        #expect(pins.hashed(c, reservation: PINReservationID(rawValue: 1), ok: nil, now: clock.date)
            == [.notChecked(c, .globalBusy(retryAt: clock.date))])
    }

    @Test func aBusyStoreIsRetriedByItselfAFewTimesThenTheCustomerIsAsked() {
        var pins = PINChecks()
        var c = check()
        let retryAt = clock.date.addingTimeInterval(1)
        let refusal = PINRefusal.globalBusy(retryAt: retryAt)
        for round in 1...PINChecks.busyRetries {
            let effects = pins.reservation(.refused(refusal), for: c, now: clock.date)
            var next = c
            next.retries = round
            #expect(effects == [.refused(c, reason: refusal.description), .retry(next, at: retryAt)])
            clock.advance(by: .seconds(1))
            #expect(pins.retryDue(next, stillVerifying: true, workerWaiting: 0, now: clock.date) == [.reserve(next)])
            c = next
        }
        #expect(pins.reservation(.refused(refusal), for: c, now: clock.date)
            == [.refused(c, reason: refusal.description), .notChecked(c, refusal)])
    }

    @Test func aRetryForAConversationNoLongerWaitingDoesNothing() {
        let pins = PINChecks()
        #expect(pins.retryDue(check(retries: 1), stillVerifying: false, workerWaiting: 0, now: clock.date).isEmpty)
    }

    @Test func aFullWorkerLineRefusesBeforeReservingAndRetriesInASecond() {
        let pins = PINChecks()
        let c = check()
        var next = c
        next.retries = 1
        #expect(pins.requested(c, workerWaiting: PINChecks.queueLimit, now: clock.date)
            == [.refused(c, reason: "the worker's line is full"), .retry(next, at: clock.date.addingTimeInterval(1))])
        #expect(pins.requested(c, workerWaiting: PINChecks.queueLimit - 1, now: clock.date) == [.reserve(c)])
    }

    @Test func wrongPINsFromManySendersWarnTheAgentsOnceWithoutThePINs() {
        var pins = PINChecks()
        let threshold = PINAttackMonitor.Settings().threshold
        var warnings: [PINAttackMonitor.Warning] = []
        for attempt in 1...(threshold + 2) {
            let c = check("guess\(attempt)")
            let effects = pins.hashed(c, reservation: PINReservationID(rawValue: Int64(attempt)), ok: false,
                                      now: clock.date)
            #expect(effects.first == .finish(PINReservationID(rawValue: Int64(attempt)), .wrong))
            #expect(effects.last == .checked(c, ok: false))
            for case .warnAgents(let warned, let warning) in effects {
                #expect(warned == c)
                warnings.append(warning)
            }
            clock.advance(by: .seconds(10))
        }
        #expect(warnings.count == 1)
        #expect(warnings.first?.count == threshold)
        #expect(warnings.first?.senderCount == threshold)
        #expect(warnings.first?.textValues.values.contains { $0.contains("1234") } == false)
    }

    @Test func aLockedNumberCountsTowardsTheAttackWarning() {
        var pins = PINChecks()
        let threshold = PINAttackMonitor.Settings().threshold
        let refusal = PINRefusal.numberLocked(retryAt: clock.date.addingTimeInterval(900))
        var warned = 0
        for attempt in 1...threshold {
            let c = check("guess\(attempt)")
            let effects = pins.reservation(.refused(refusal), for: c, now: clock.date)
            #expect(effects.first == .refused(c, reason: refusal.description))
            #expect(effects.last == .notChecked(c, refusal))
            warned += effects.filter { if case .warnAgents = $0 { true } else { false } }.count
        }
        #expect(warned == 1)
    }
}
