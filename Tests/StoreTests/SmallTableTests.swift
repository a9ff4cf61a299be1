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
}
