import Desk
import Foundation
import Store
import Testing

/// The gateway lease and fenced page claims (issue 10): one active instance
/// per store, and a page never claimed by an instance whose token is stale.
///
/// Expiry is decided by the store's clock: the caller's `now` for SQLite,
/// the server's clock for PostgreSQL (which ignores `now`). So these tests
/// pass the real time and let short TTLs (0.3 s) run out in real time — the
/// one place a store test waits: a server's clock cannot be injected.
@Suite struct StoreContractLeaseTests {
    static let name = "gateway"
    static let ttl: TimeInterval = 0.3

    /// Until a lease of ``ttl`` taken now has surely ended, by any clock.
    static func outlive() async throws { try await Task.sleep(for: .milliseconds(450)) }

    @Test(arguments: StoreContract.implementations)
    func oneHolderAtATimeAndEveryNewHolderGetsAGreaterToken(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            #expect(try await store.lease(Self.name) == nil, "never taken")
            let a = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            #expect(a.holder == "gw-a")
            #expect(try await store.acquireLease(Self.name, holder: "gw-b", ttl: 30, now: Date()) == nil,
                    "b waits while a's lease lasts")
            let renewed = try #require(try await store.renewLease(Self.name, token: a.token, ttl: 60, now: Date()))
            #expect(renewed.token == a.token && renewed.holder == "gw-a")
            #expect(renewed.expiresAt > a.expiresAt, "a renewal sets the end from now")
            #expect(try await store.acquireLease(Self.name, holder: "gw-b", ttl: 30, now: Date()) == nil)

            // a renews a last time and stops: after the TTL b takes over with a
            // greater token.
            let last = try #require(try await store.renewLease(Self.name, token: a.token, ttl: Self.ttl, now: Date()))
            #expect(last.expiresAt < renewed.expiresAt, "the end is set from now, here sooner")
            try await Self.outlive()
            let b = try #require(try await store.acquireLease(Self.name, holder: "gw-b", ttl: 30, now: Date()))
            #expect(b.token > a.token && b.holder == "gw-b")
            #expect(b.takeovers == a.takeovers + 1)
            #expect(try await store.renewLease(Self.name, token: a.token, ttl: 30, now: Date()) == nil,
                    "a's token is superseded: it must stop")
            #expect(try await store.releaseLease(Self.name, token: a.token, now: Date()) == false)
            #expect(try await store.lease(Self.name)?.holder == "gw-b")

            // Tokens survive a reopen and keep growing.
            let reopened = try await reopen()
            #expect(try await reopened.lease(Self.name)?.token == b.token)
            #expect(try await reopened.releaseLease(Self.name, token: b.token, now: Date()))
            let again = try #require(try await reopened.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()),
                                     "a released lease is taken at once")
            #expect(again.token > b.token)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func aRestartUnderTheSameNameTakesItsLeaseAtOnceAndFencesItsPreviousSelf(_ implementation: StoreUnderTest)
        async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let first = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            let second = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            #expect(second.token > first.token)
            #expect(second.takeovers == first.takeovers, "not a takeover between instances")
            #expect(try await store.renewLease(Self.name, token: first.token, ttl: 30, now: Date()) == nil)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func ofManyInstancesRacingForAFreeLeaseExactlyOneGetsIt(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let grants = try await withThrowingTaskGroup(of: LeaseGrant?.self) { group in
                for index in 0..<8 {
                    group.addTask { try await store.acquireLease(Self.name, holder: "gw-\(index)", ttl: 30, now: Date()) }
                }
                return try await group.reduce(into: [LeaseGrant]()) { if let grant = $1 { $0.append(grant) } }
            }
            #expect(grants.count == 1)
            #expect(try await store.lease(Self.name)?.holder == grants.first?.holder)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func pagesAreClaimedOnlyWithTheCurrentUnexpiredToken(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let commit = try await store.createTicket(newTicket(1), pages: firstPages())
            let ids = commit.pages.map(\.id)
            #expect(ids.count == 2)
            let a = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))

            let claims = try await store.claimPages(ids, lease: Self.name, token: a.token, now: Date())
            #expect(claims == [ids[0]: .claimed, ids[1]: .claimed])
            // A retry by the same holder claims again; a sent page is not pending.
            try await store.markPageSent(ids[0], at: monday.addingTimeInterval(2))
            #expect(try await store.claimPages(ids, lease: Self.name, token: a.token, now: Date())
                == [ids[0]: .notPending, ids[1]: .claimed])

            // a hangs after one last renewal; b takes over. a's late claim is
            // refused and writes nothing.
            _ = try await store.renewLease(Self.name, token: a.token, ttl: Self.ttl, now: Date())
            try await Self.outlive()
            let b = try #require(try await store.acquireLease(Self.name, holder: "gw-b", ttl: 30, now: Date()))
            #expect(try await store.claimPages([ids[1]], lease: Self.name, token: a.token, now: Date()) == [ids[1]: .fenced])
            // The page a claimed but never marked sent (a died with it in
            // flight) is b's to send: at least once.
            #expect(try await store.claimPages([ids[1]], lease: Self.name, token: b.token, now: Date()) == [ids[1]: .claimed])
            #expect(try await store.pendingPages(dueBy: monday.addingTimeInterval(8), limit: 10).map(\.id) == [ids[1]],
                    "a claim does not take the page out of the outbox; only markPageSent does")
        }
    }

    @Test(arguments: StoreContract.implementations)
    func anExpiredTokenClaimsNothingEvenWhenNoOneTookOver(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let commit = try await store.createTicket(newTicket(1), pages: firstPages())
            let id = try #require(commit.pages.first?.id)
            #expect(try await store.claimPages([id], lease: Self.name, token: FencingToken(rawValue: 1), now: Date())
                == [id: .fenced], "no lease at all")
            let a = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            #expect(try await store.claimPages([id], lease: Self.name, token: a.token, now: Date()) == [id: .claimed])
            _ = try await store.renewLease(Self.name, token: a.token, ttl: Self.ttl, now: Date())
            try await Self.outlive()
            #expect(try await store.claimPages([id], lease: Self.name, token: a.token, now: Date()) == [id: .fenced],
                    "past its end the lease no longer covers a send")
            await #expect(throws: TicketStoreError.pageNotFound(PageID(rawValue: 999_999))) {
                _ = try await store.claimPages([PageID(rawValue: 999_999)], lease: Self.name, token: a.token, now: Date())
            }
        }
    }
}

/// Several processes on one SQLite file are a real deployment of the lease:
/// each opens its own connection, and SQLite's write lock makes the lease row
/// atomic across them.
@Suite struct SQLiteLeaseAcrossConnectionsTests {
    @Test func twoConnectionsOnOneFileNeverBothHoldTheLease() async throws {
        try await withTemporaryDirectory { dir in
            let stores = try (0..<2).map { _ in try SQLiteDeskStore(path: dir.storePath, logger: .disabled, now: monday) }
            var holders: [Int] = []
            for round in 0..<20 {
                let now = monday.addingTimeInterval(Double(round) * 10)  // each round after the last one's TTL
                let grants = try await withThrowingTaskGroup(of: (Int, LeaseGrant?).self) { group in
                    for (index, store) in stores.enumerated() {
                        group.addTask { (index, try await store.acquireLease("gateway", holder: "gw-\(index)", ttl: 6,
                                                                             now: now)) }
                    }
                    return try await group.reduce(into: [(Int, LeaseGrant)]()) { if let grant = $1.1 { $0.append(($1.0, grant)) } }
                }
                #expect(grants.count == 1, "round \(round): \(grants)")
                holders.append(contentsOf: grants.map(\.0))
            }
            let tokens = try await stores[0].lease("gateway")?.token.rawValue
            #expect(tokens == 20, "one new token per round")
            for store in stores { await store.close() }
        }
    }
}
