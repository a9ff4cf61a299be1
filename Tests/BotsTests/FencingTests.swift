import Core
import Desk
import Foundation
import Synchronization
import Testing

@testable import Bots

/// Pages are claimed with the gateway's fencing token before they go out
/// (issue 10): an instance whose lease was taken over sends no page, the
/// pages stay pending in the store for the new holder, and the gateway is
/// told at once.
@Suite struct FencingTests {
    @Test func withTheCurrentLeasePagesGoOutAsBefore() async throws {
        let h = try await Harness()
        let grant = try #require(try await h.store.acquireLease("gateway", holder: "gw-a", ttl: 6, now: h.clock.date))
        await h.runtime.activate(fence: PageFence(lease: "gateway", token: grant.token))
        try await h.contractTicket("alice")
        let pages = h.demo.all.pages
        #expect(!pages.isEmpty)
        await h.confirm(pages)
        #expect(try await h.store.pendingPages(dueBy: h.clock.date, limit: 10).isEmpty)
    }

    @Test func theFirstPagesAreClaimedByTheTicketsCreationAndEscalationStepsClaimAsBefore() async throws {
        let counting = Mutex<InterleavingStore?>(nil)
        let h = try await Harness(wrapStore: { base in
            let store = InterleavingStore(base)
            counting.withLock { $0 = store }
            return store
        })
        let store = try #require(counting.withLock { $0 })
        let grant = try #require(try await h.store.acquireLease("gateway", holder: "gw-a", ttl: 3600, now: h.clock.date))
        await h.runtime.activate(fence: PageFence(lease: "gateway", token: grant.token))
        let ticket = try await h.contractTicket("alice")
        let pages = h.demo.all.pages
        #expect(!pages.isEmpty, "the first pages went out")
        #expect(store.claimCalls.withLock { $0 }.isEmpty, "no claim commit of their own: the creation claimed them")
        // An escalation step's pages are claimed before they go out, as before.
        _ = h.demo.takeNew()
        let later = await h.advance(minutes: 30).pages
        #expect(!later.isEmpty, "the ticket escalated")
        let claimed = store.claimCalls.withLock { $0 }.flatMap { $0 }
        #expect(!claimed.isEmpty && later.allSatisfy { page in claimed.contains(PageID(rawValue: page.deliveryID!)) })
        #expect(try await h.store.escalationSteps(of: ticket.number).count >= 2)
    }

    @Test func afterATakeoverNoPageIsSentAndTheyStayPendingForTheNewHolder() async throws {
        let h = try await Harness()
        let a = try #require(try await h.store.acquireLease("gateway", holder: "gw-a", ttl: 6, now: h.clock.date))
        let told = FencedCalls()
        await h.runtime.activate(fence: PageFence(lease: "gateway", token: a.token), onFenced: { told.count.withLock { $0 += 1 } })
        // This instance hangs past its lease; gw-b takes over.
        h.clock.advance(by: .seconds(7))
        let b = try #require(try await h.store.acquireLease("gateway", holder: "gw-b", ttl: 6, now: h.clock.date))
        #expect(b.token > a.token)

        let ticket = try await h.contractTicket("alice")
        #expect(h.demo.all.pages.isEmpty, "no page from the fenced instance: \(h.demo.all.pages)")
        #expect(told.count.withLock { $0 } == 1)
        #expect(await h.runtime.metrics().pagesFenced >= 1)
        let pending = try await h.store.pendingPages(dueBy: h.clock.date, limit: 10)
        #expect(!pending.isEmpty && pending.allSatisfy { $0.ticket == ticket.number }, "the ticket and its pages are kept")
        // The new holder claims and sends them.
        let claims = try await h.store.claimPages(pending.map(\.id), lease: "gateway", token: b.token, now: h.clock.date)
        #expect(claims.values.allSatisfy { $0 == .claimed })
        // Later timers of the fenced instance send nothing either.
        #expect(await h.advance(minutes: 20).pages.isEmpty)
    }

    @Test func fencingStopsSendingAtOnceAlsoWhatWasWaitingForARetry() async throws {
        let h = try await Harness()
        let a = try #require(try await h.store.acquireLease("gateway", holder: "gw-a", ttl: 3600, now: h.clock.date))
        await h.runtime.activate(fence: PageFence(lease: "gateway", token: a.token))
        try await h.contractTicket("alice")
        let pages = h.demo.all.pages
        #expect(!pages.isEmpty)
        // The network refused them; before the retry the gateway loses its lease.
        for page in pages { await h.runtime.handle(.failed(id: page.deliveryID!, reason: "not connected")) }
        _ = h.demo.takeNew()
        await h.runtime.fence()
        #expect(await h.advance(minutes: 30).pages.isEmpty, "no retry, no escalation page after fencing")
        #expect(try await h.store.pendingPages(dueBy: h.clock.date, limit: 10).count >= pages.count)
    }
}

/// How often the runtime said it was fenced.
private final class FencedCalls: Sendable {
    let count = Mutex(0)
}
