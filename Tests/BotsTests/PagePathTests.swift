@testable import Bots
import Core
import Desk
import Foundation
import Synchronization
import Testing

/// The page path (issue 12): a contract ticket's lines — the customer's
/// confirmation first, then the pages — reach the network after the
/// commit and before the step's bookkeeping; the escalation it skipped on
/// the way is still armed when the step ends.
@Suite struct PagePathTests {
    @Test func aContractTicketsLinesLeaveAfterTheCommitConfirmationFirstAndItsEscalationIsArmed() async throws {
        let h = try await Harness()
        // How many tickets the store holds as each line reaches the network.
        let storedWhenSent = Mutex<[(text: String, stored: Int)]>([])
        h.demo.onSend { action in
            let stored = (try? await h.store.openTickets().count) ?? -1
            storedWhenSent.withLock { $0.append((action.text, stored)) }
        }
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: alice)
        storedWhenSent.withLock { $0 = [] }
        let out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)

        let confirmation = try #require(out.firstIndex { $0.recipient == .user("alice") && $0.text.contains("#1") })
        let pages = out.indices.filter { out[$0].deliveryID != nil }
        #expect(pages.count == 2)
        #expect(pages.allSatisfy { $0 > confirmation }, "confirmation first: \(out.map(\.text))")
        let sent = storedWhenSent.withLock { $0 }
        #expect(!sent.isEmpty && sent.allSatisfy { $0.stored == 1 }, "every line after the commit: \(sent)")
        // Unacknowledged, the page is repeated after five minutes: the
        // escalation was armed although it was set after the lines left.
        await h.confirm(out)
        #expect(await h.advance(minutes: 4.9).pages.isEmpty)
        #expect(await h.advance(minutes: 0.1).to("anna").count == 1)
    }

    /// A contract ticket (#1) created with its pages sent and not yet
    /// reported: the harness, its store wrapper and the pages' delivery ids.
    func pagedTicket() async throws -> (Harness, InterleavingStore, [Int64]) {
        let stores = InterleavingStores()
        let h = try await Harness(wrapStore: stores.wrap)
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: alice)
        let out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)
        return (h, try stores.current(), out.compactMap(\.deliveryID))
    }

    /// The first page delivered moves its new contract ticket to `paged`,
    /// deciding on the ticket the delivery's handling read: one read of the
    /// ticket, not a second inside the change (one store round trip fewer
    /// in the page's window, issue 12). The second page's report reads it
    /// once and changes nothing.
    @Test func aDeliveredPageMovesItsTicketToPagedWithOneReadOfIt() async throws {
        let (h, store, pages) = try await pagedTicket()
        #expect(pages.count == 2)
        let before = store.ticketReadCount
        await h.runtime.handle(.delivered(id: pages[0], at: h.clock.date))
        #expect(store.ticketReadCount - before == 1)
        let paged = try #require(try await h.store.ticket(TicketNumber(1)))
        #expect(paged.ticket.state == .paged)
        await h.runtime.handle(.delivered(id: pages[1], at: h.clock.date))
        #expect(store.ticketReadCount - before == 2)
        #expect(try await h.store.ticket(TicketNumber(1))?.version == paged.version)
    }

    /// An agent who takes the ticket between that read and the `paged`
    /// update keeps it: the update's version check refuses the stale read,
    /// the ticket is read afresh and decided again.
    @Test func aTakeBetweenTheDeliveryReadAndThePagedUpdateIsKept() async throws {
        let (h, store, pages) = try await pagedTicket()
        let page = try #require(pages.first)
        store.interleaveBeforeNextUpdate { base in
            let stored = try! await base.ticket(TicketNumber(1))!
            let (taken, events) = try! TicketLifecycle.apply(.take, to: stored.ticket, by: .agent("ben"), at: Harness.monday)
            _ = try! await base.update(stored, to: taken, events: events)
        }
        let before = store.ticketReadCount
        await h.runtime.handle(.delivered(id: page, at: h.clock.date))
        #expect(store.ticketReadCount - before == 2, "read again after the conflict")
        let ticket = try #require(try await h.store.ticket(TicketNumber(1))?.ticket)
        #expect(ticket.assignee == "ben")
        #expect(ticket.state != .new)
    }

    /// A change refused on the caller's read (stale: it says cancelled)
    /// is decided again on the store's ticket, never refused on it.
    @Test func aChangeRefusedOnTheCallersReadIsDecidedAgainOnTheStoresTicket() async throws {
        let (h, store, _) = try await pagedTicket()
        var stale = try #require(try await h.store.ticket(TicketNumber(1)))
        stale.ticket.state = .cancelled
        let before = store.ticketReadCount
        let result = await h.runtime.change(TicketNumber(1), .page(note: "step 0: anna"), by: .system, now: h.clock.date,
                                            read: stale)
        guard case .done(let commit, _) = result else {
            Issue.record("refused on a stale read: \(result)")
            return
        }
        #expect(commit.ticket.state == .paged)
        #expect(store.ticketReadCount - before == 1)
    }
}
