import Core
import Desk
import Foundation
import Testing

/// PIN checks reserved before they run (issue 14), against every store.
@Suite struct StoreContractPINTests {
    static let alice = ChatIdentity(network: "libera", nick: "alice", account: "alice")
    static let policy = PINAttemptPolicy.standard

    static func sender(_ index: Int) -> ChatIdentity {
        ChatIdentity(network: "libera", nick: "guest\(index)", account: "acct\(index)")
    }

    /// Reserves and finishes one check; returns the refusal, if any.
    static func check(_ store: any DeskStore, number: String = "10042", by identity: ChatIdentity, at: Date,
                      outcome: PINCheckOutcome = .wrong, policy: PINAttemptPolicy = policy) async throws
        -> PINRefusal? {
        switch try await store.reservePINCheck(customerNumber: number, identity: identity, at: at, policy: policy) {
        case .reserved(let id):
            try await store.finishPINCheck(id, outcome: outcome, at: at)
            return nil
        case .refused(let refusal):
            return refusal
        }
    }

    @Test(arguments: StoreContract.implementations)
    func aHundredSendersGuessingInParallelGetAtMostTheNumbersBudget(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let outcomes = await withTaskGroup(of: PINReservation?.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        try? await store.reservePINCheck(customerNumber: "10042", identity: Self.sender(index),
                                                         at: monday, policy: Self.policy)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0 != nil })
            let reserved = outcomes.filter { if case .reserved = $0 { true } else { false } }
            #expect(reserved.count == Self.policy.wrongPerNumber)
            let refusals = outcomes.compactMap { if case .refused(let why)? = $0 { why } else { nil } }
            #expect(refusals.allSatisfy { if case .numberLocked = $0 { true } else { false } })
            // Never finished (the gateway crashed mid-check): still wrong.
            let state = try await store.pinAttackState(customerNumber: "10042", at: monday, policy: Self.policy)
            #expect(state.wrongInWindow == 5)
            #expect(state.distinctIdentities == 5)
            #expect(state.lockedUntil == monday.addingTimeInterval(60))
        }
    }

    @Test(arguments: StoreContract.implementations)
    func afterTheBudgetEachCheckWaitsADoublingDelay(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            var now = monday
            for index in 0..<5 {
                #expect(try await Self.check(store, by: Self.sender(index), at: now) == nil)
                now.addTimeInterval(1)
            }
            let last = now.addingTimeInterval(-1)
            #expect(try await Self.check(store, by: Self.sender(9), at: now)
                == .numberLocked(retryAt: last.addingTimeInterval(60)))
            now = last.addingTimeInterval(60)
            #expect(try await Self.check(store, by: Self.sender(9), at: now) == nil)
            #expect(try await Self.check(store, by: Self.sender(9), at: now.addingTimeInterval(119))
                == .numberLocked(retryAt: now.addingTimeInterval(120)))
            #expect(try await Self.check(store, by: Self.sender(10), at: now.addingTimeInterval(120)) == nil)
            // Another number is not affected.
            #expect(try await Self.check(store, number: "20001", by: Self.sender(11), at: now) == nil)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func rightPINsDoNotCountAndTheWindowForgets(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            for index in 0..<10 {
                #expect(try await Self.check(store, by: Self.sender(index), at: monday, outcome: .right) == nil)
            }
            for index in 0..<5 {
                #expect(try await Self.check(store, by: Self.sender(index), at: monday) == nil)
            }
            #expect(try await Self.check(store, by: Self.sender(20), at: monday.addingTimeInterval(30)) != nil)
            // 15 minutes later the wrong ones have left the window.
            let later = monday.addingTimeInterval(Self.policy.window)
            #expect(try await Self.check(store, by: Self.sender(20), at: later) == nil)
            let state = try await store.pinAttackState(customerNumber: "10042", at: later, policy: Self.policy)
            #expect(state.wrongInWindow == 1 && state.distinctIdentities == 1 && state.lockedUntil == nil)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func oneSenderGetsThreeWrongChecksOverAllNumbers(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            for (offset, number) in ["10001", "10002", "10003"].enumerated() {
                #expect(try await Self.check(store, number: number, by: Self.alice,
                                             at: monday.addingTimeInterval(Double(offset))) == nil)
            }
            #expect(try await Self.check(store, number: "10004", by: Self.alice, at: monday.addingTimeInterval(5))
                == .identityLimited(retryAt: monday.addingTimeInterval(Self.policy.window)))
            // The same person by nick without an account is someone else;
            // the same account under another nick is the same sender.
            let sameAccount = ChatIdentity(network: "libera", nick: "alice_", account: "ALICE")
            #expect(try await Self.check(store, number: "10004", by: sameAccount, at: monday.addingTimeInterval(5))
                != nil)
            let nickOnly = ChatIdentity(network: "libera", nick: "alice")
            #expect(try await Self.check(store, number: "10004", by: nickOnly, at: monday.addingTimeInterval(5)) == nil)
            #expect(try await Self.check(store, number: "10005", by: Self.alice,
                                         at: monday.addingTimeInterval(Self.policy.window)) == nil)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func theGlobalBudgetLimitsChecksPerSecondOverAllNumbers(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            for index in 0..<Self.policy.checksPerSecond {
                #expect(try await Self.check(store, number: "\(30000 + index)", by: Self.sender(index),
                                             at: monday, outcome: .right) == nil)
            }
            #expect(try await Self.check(store, number: "40000", by: Self.sender(99), at: monday.addingTimeInterval(0.5))
                == .globalBusy(retryAt: monday.addingTimeInterval(1)))
            #expect(try await Self.check(store, number: "40000", by: Self.sender(99), at: monday.addingTimeInterval(1))
                == nil)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func finishingKeepsTheFirstOutcomeAndAnUnknownReservationIsAnError(_ implementation: StoreUnderTest)
        async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            guard case .reserved(let id) = try await store.reservePINCheck(
                customerNumber: "10042", identity: Self.alice, at: monday, policy: Self.policy) else {
                Issue.record("the first check was refused")
                return
            }
            try await store.finishPINCheck(id, outcome: .wrong, at: monday)
            try await store.finishPINCheck(id, outcome: .right, at: monday)
            #expect(try await store.pinAttackState(customerNumber: "10042", at: monday, policy: Self.policy)
                .wrongInWindow == 1)
            await #expect(throws: TicketStoreError.self) {
                try await store.finishPINCheck(PINReservationID(rawValue: 424_242), outcome: .right, at: monday)
            }
        }
    }

    /// The policy alone (no store): delays double from 1 minute and stop at the cap.
    @Test func theDelayDoublesAndIsCapped() {
        let policy = PINAttemptPolicy.standard
        #expect(policy.numberLockedUntil(wrong: 4, lastCheck: monday) == nil)
        let delays = (5...12).map { policy.numberLockedUntil(wrong: $0, lastCheck: monday)!.timeIntervalSince(monday) }
        #expect(delays == [60, 120, 240, 480, 900, 900, 900, 900])
        #expect(policy.numberLockedUntil(wrong: 500, lastCheck: monday) == monday.addingTimeInterval(900))
        let calm = PINBudgetState(numberWrong: 0, numberLastCheck: nil, identityWrong: 0, identityOldestWrong: nil,
                                  globalChecksLastSecond: 0, globalOldestLastSecond: nil)
        #expect(policy.decide(calm, now: monday) == .allow)
    }
}
