@testable import Bots
import Core
import Desk
import Foundation
import Synchronization
import Testing

/// The page path (issue 12): once a contract ticket is committed, its pages
/// are handed to the network before the customer's confirmation and the
/// rest of the step are worded, so the commit is the page's only wait; the
/// customer is still told only after the commit, and a no-contract
/// ticket's announcement still follows the customer's answer.
@Suite struct PageFirstPathTests {
    @Test func aContractTicketsPagesAreHandedOverBeforeTheCustomerIsToldItsNumber() async throws {
        let h = try await Harness()
        // What the store holds when each line reaches the network.
        let ticketsWhenSent = Mutex<[(text: String, isPage: Bool, stored: Int)]>([])
        h.demo.onSend { action in
            let stored = (try? await h.store.openTickets().count) ?? -1
            ticketsWhenSent.withLock { $0.append((action.text, action.deliveryID != nil, stored)) }
        }
        let alice = h.customer("alice", account: "alice")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: alice)
        ticketsWhenSent.withLock { $0 = [] }
        let out = await h.say("Der VPN-Tunnel zum Lager ist komplett ausgefallen", from: alice)

        let confirmation = try #require(out.firstIndex { $0.recipient == .user("alice") && $0.text.contains("#1") })
        let pages = out.indices.filter { out[$0].deliveryID != nil }
        #expect(pages.count == 2)
        #expect(pages.allSatisfy { $0 < confirmation }, "pages first: \(out.map(\.text))")
        // Every line of the step, pages and confirmation alike, left after the commit.
        let sent = ticketsWhenSent.withLock { $0 }
        #expect(!sent.isEmpty)
        #expect(sent.allSatisfy { $0.stored == 1 }, "\(sent)")
    }

    @Test func aNoContractTicketsAnnouncementStillFollowsTheCustomersAnswer() async throws {
        let h = try await Harness()
        let bob = h.customer("bob", account: "bob")
        await h.say("keine Kundennummer, Schweregrad 4", from: bob)
        let out = await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: bob)
        let told = try #require(out.firstIndex { $0.recipient == .user("bob") && $0.text.contains("#1") })
        let announcement = try #require(out.firstIndex { $0.recipient == .channel("#agents") })
        #expect(told < announcement, "\(out.map(\.text))")
    }
}
