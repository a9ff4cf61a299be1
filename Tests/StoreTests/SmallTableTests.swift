import Core
import Desk
import Foundation
import Store
import Testing

/// Roster overrides, counters for `!stats`, failed PIN attempts.
@Suite struct SmallTableTests {
    @Test func rosterOverridesAreActiveFromStartUntilEnd() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let hour: TimeInterval = 3600
            let carol = try store.addRosterOverride(RosterOverrideDraft(
                agent: "carol", from: monday, until: monday + 8 * hour, createdBy: .agent("bob"), createdAt: monday))
            let dave = try store.addRosterOverride(RosterOverrideDraft(
                agent: "dave", from: monday + 2 * hour, until: monday + 4 * hour, createdBy: .agent("carol"),
                createdAt: monday + hour))
            let eve = try store.addRosterOverride(RosterOverrideDraft(
                agent: "eve", from: monday + 24 * hour, until: monday + 30 * hour, createdBy: .system,
                createdAt: monday + hour))
            #expect(carol.id != dave.id)
            #expect(try store.rosterOverrides(activeAt: monday - 1).isEmpty)
            #expect(try store.rosterOverrides(activeAt: monday) == [carol])
            // Newest first: dave's override wins while both are in force.
            #expect(try store.rosterOverrides(activeAt: monday + 3 * hour) == [dave, carol])
            #expect(try store.rosterOverrides(activeAt: monday + 4 * hour) == [carol])
            #expect(try store.rosterOverrides(activeAt: monday + 8 * hour).isEmpty)
            #expect(try store.rosterOverrides(endingAfter: monday + 5 * hour) == [carol, eve])
            #expect(carol.isActive(at: monday) && !carol.isActive(at: monday + 8 * hour))

            #expect(try store.removeRosterOverride(dave.id))
            #expect(try !store.removeRosterOverride(dave.id))
            #expect(try store.rosterOverrides(activeAt: monday + 3 * hour) == [carol])
            #expect(throws: TicketStoreError.self) {
                try store.addRosterOverride(RosterOverrideDraft(
                    agent: "x", from: monday, until: monday, createdBy: .system, createdAt: monday))
            }
        }
    }

    @Test func countersAddUpPerKey() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            #expect(try store.counters("deflected").isEmpty)
            #expect(try store.incrementCounter("deflected", key: "kb-vpn-reconnect") == 1)
            #expect(try store.incrementCounter("deflected", key: "kb-vpn-reconnect") == 2)
            #expect(try store.incrementCounter("deflected", key: "kb-restore-file", by: 5) == 5)
            #expect(try store.incrementCounter("tickets", key: "", by: 1) == 1)
            #expect(try store.incrementCounter("deflected", key: "kb-restore-file", by: -1) == 4)
            #expect(try store.counters("deflected") == ["kb-vpn-reconnect": 2, "kb-restore-file": 4])
            #expect(try store.counters("tickets") == ["": 1])
        }
    }

    @Test func failedPINAttemptsAreLoggedAndFoundByCustomerOrIdentity() throws {
        try withTemporaryDirectory { dir in
            let store = try openStore(dir.storePath)
            defer { store.close() }
            let mallory = ChatIdentity(network: "libera", nick: "mallory")
            let malloryAccount = ChatIdentity(network: "libera", nick: "m2", account: "Mallory")
            let attempts = [
                FailedPINAttempt(customerNumber: "10042", identity: mallory, at: monday),
                FailedPINAttempt(customerNumber: "10042", identity: mallory, at: monday + 10),
                FailedPINAttempt(customerNumber: "20077", identity: malloryAccount, at: monday + 20),
                FailedPINAttempt(customerNumber: "10042", identity: malloryAccount, at: monday + 30),
            ]
            for attempt in attempts { try store.recordFailedPIN(attempt) }
            #expect(try store.failedPINAttempts(customerNumber: "10042", identity: nil, since: .distantPast)
                == [attempts[0], attempts[1], attempts[3]])
            #expect(try store.failedPINAttempts(customerNumber: "10042", identity: nil, since: monday + 5)
                == [attempts[1], attempts[3]])
            #expect(try store.failedPINAttempts(customerNumber: nil, identity: ChatIdentity(network: "libera",
                                                                                          nick: "MALLORY"),
                                                since: .distantPast) == [attempts[0], attempts[1]])
            let byAccount = ChatIdentity(network: "libera", nick: "whatever", account: "mallory")
            #expect(try store.failedPINAttempts(customerNumber: nil, identity: byAccount, since: .distantPast)
                == [attempts[2], attempts[3]])
            #expect(try store.failedPINAttempts(customerNumber: "20077", identity: byAccount, since: .distantPast)
                == [attempts[2]])
            #expect(try store.failedPINAttempts(customerNumber: nil, identity: ChatIdentity(network: "oftc",
                                                                                          nick: "mallory"),
                                                since: .distantPast).isEmpty)
        }
    }
}
