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
}
