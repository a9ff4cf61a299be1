import Desk
import Foundation
import Testing

/// The first page claim folded into the ticket's creation (issues 10 + 12):
/// an instance holding the lease creates a ticket with its first pages
/// already claimed, checked against the lease row in the same transaction,
/// so the page path has one commit. A stale token never refuses the
/// customer's ticket: it is stored with unclaimed pages for the active
/// instance, and the caller learns it is fenced.
///
/// Times are real (`Date()`): PostgreSQL decides expiry by its own clock,
/// SQLite by the ticket's `createdAt`; see ``StoreContractLeaseTests``.
@Suite struct StoreContractCreationClaimTests {
    static let name = StoreContractLeaseTests.name

    @Test(arguments: StoreContract.implementations)
    func aCreationUnderTheCurrentTokenClaimsItsPagesInTheSameTransaction(_ implementation: StoreUnderTest)
        async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let a = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            let commit = try await store.createTicket(newTicket(1, at: Date()),
                                                      claimingPagesFor: LeaseClaim(lease: Self.name, token: a.token),
                                                      makePages: { number in firstPages(at: Date(), summary: "#\(number)") })
            #expect(commit.pageClaim == .claimed)
            #expect(commit.pages.count == 2 && commit.pages.allSatisfy { $0.text.hasSuffix("#\(commit.number)") })
            #expect(try await store.ticket(commit.number) == commit.stored)
            #expect(try await store.pages(of: commit.number) == commit.pages)
            // Claimed is not sent: the pages stay in the outbox until markPageSent.
            let pending = try await store.pendingPages(dueBy: .distantFuture, limit: 10).map(\.id)
            #expect(pending == commit.pages.map(\.id))

            // The claim is recorded with a's token: a restart of a (a new,
            // greater token) fences the old one's claims on these pages, and
            // the new holder claims them again (at least once).
            let a2 = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            let ids = commit.pages.map(\.id)
            #expect(try await store.claimPages(ids, lease: Self.name, token: a.token, now: Date())
                == Dictionary(uniqueKeysWithValues: ids.map { ($0, PageClaim.fenced) }))
            #expect(try await store.claimPages(ids, lease: Self.name, token: a2.token, now: Date())
                == Dictionary(uniqueKeysWithValues: ids.map { ($0, PageClaim.claimed) }))

            // Without pages there is nothing to claim; without a claim asked, no answer.
            let bare = try await store.createTicket(newTicket(2, at: Date()),
                                                    claimingPagesFor: LeaseClaim(lease: Self.name, token: a2.token),
                                                    makePages: { _ in [] })
            #expect(bare.pageClaim == nil && bare.pages.isEmpty)
            let unasked = try await store.createTicket(newTicket(3, at: Date()), pages: firstPages(at: Date()))
            #expect(unasked.pageClaim == nil && unasked.pages.count == 2)
            #expect(bare.number > commit.number && unasked.number > bare.number)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func aStaleTokenStoresTheTicketWithUnclaimedPagesForTheActiveInstance(_ implementation: StoreUnderTest)
        async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            // No lease at all.
            let none = try await store.createTicket(newTicket(1, at: Date()),
                                                    claimingPagesFor: LeaseClaim(lease: Self.name,
                                                                                 token: FencingToken(rawValue: 1)),
                                                    makePages: { _ in firstPages(at: Date()) })
            #expect(none.pageClaim == .fenced)

            // a hangs after a last short renewal; b takes over.
            let a = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            _ = try await store.renewLease(Self.name, token: a.token, ttl: StoreContractLeaseTests.ttl, now: Date())
            try await StoreContractLeaseTests.outlive()
            // Expired, not yet taken over: fenced too.
            let expired = try await store.createTicket(newTicket(2, at: Date()),
                                                       claimingPagesFor: LeaseClaim(lease: Self.name, token: a.token),
                                                       makePages: { _ in firstPages(at: Date()) })
            #expect(expired.pageClaim == .fenced)
            let b = try #require(try await store.acquireLease(Self.name, holder: "gw-b", ttl: 30, now: Date()))
            let late = try await store.createTicket(newTicket(3, at: Date()),
                                                    claimingPagesFor: LeaseClaim(lease: Self.name, token: a.token),
                                                    makePages: { _ in firstPages(at: Date()) })
            #expect(late.pageClaim == .fenced)

            // Every ticket and page is stored (the customer was told a real
            // number), pending, and the active instance claims them all.
            let store = try await reopen()
            for commit in [none, expired, late] {
                #expect(try await store.ticket(commit.number) == commit.stored)
                #expect(try await store.pages(of: commit.number) == commit.pages)
            }
            let ids = [none, expired, late].flatMap(\.pages).map(\.id)
            #expect(try await store.pendingPages(dueBy: .distantFuture, limit: 10).map(\.id) == ids)
            #expect(try await store.claimPages(ids, lease: Self.name, token: b.token, now: Date())
                == Dictionary(uniqueKeysWithValues: ids.map { ($0, PageClaim.claimed) }))
        }
    }

    /// What each instance would send: a the pages its creation claimed (and
    /// marks sent), b what it can claim among the pending ones. No page is
    /// in both, whichever side of b's takeover a creation falls.
    @Test(arguments: StoreContract.implementations)
    func aPageIsNeverSentByTwoInstances(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let a = try #require(try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
            let claimA = LeaseClaim(lease: Self.name, token: a.token)
            var sentByA: Set<PageID> = []
            // Creations by a race with a's restart under the same name (an
            // immediate takeover by a newer token).
            let (commits, a2) = try await withThrowingTaskGroup(of: (TicketCommit?, LeaseGrant?).self) { group in
                for index in 0..<12 {
                    group.addTask {
                        (try await store.createTicket(newTicket(index, at: Date()), claimingPagesFor: claimA,
                                                      makePages: { _ in firstPages(at: Date()) }), nil)
                    }
                }
                group.addTask {
                    (nil, try await store.acquireLease(Self.name, holder: "gw-a", ttl: 30, now: Date()))
                }
                var commits: [TicketCommit] = []
                var grant: LeaseGrant?
                for try await (commit, lease) in group {
                    if let commit { commits.append(commit) }
                    if let lease { grant = lease }
                }
                return (commits, grant)
            }
            let b = try #require(a2)
            #expect(commits.count == 12)
            for commit in commits {
                #expect(commit.pageClaim == .claimed || commit.pageClaim == .fenced)
                if commit.pageClaim == .claimed {
                    for page in commit.pages {
                        try await store.markPageSent(page.id, at: Date())
                        sentByA.insert(page.id)
                    }
                }
            }
            // After the takeover a's creations claim nothing.
            let after = try await store.createTicket(newTicket(99, at: Date()), claimingPagesFor: claimA,
                                                     makePages: { _ in firstPages(at: Date()) })
            #expect(after.pageClaim == .fenced)
            let all = (commits + [after]).flatMap(\.pages).map(\.id)
            let claims = try await store.claimPages(all, lease: Self.name, token: b.token, now: Date())
            let sentByB = Set(claims.filter { $0.value == .claimed }.keys)
            #expect(sentByA.isDisjoint(with: sentByB))
            #expect(sentByA.union(sentByB) == Set(all), "every page is sent by one of them")
            #expect(try await store.claimPages(all, lease: Self.name, token: a.token, now: Date()).values
                .allSatisfy { $0 == .fenced })
        }
    }
}
