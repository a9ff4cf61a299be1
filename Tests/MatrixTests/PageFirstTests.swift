import Bots
import Core
import Foundation
import Matrix
import MatrixAdapter
import Synchronization
import TestSupport
import Testing

/// A bot step that pages also tells the customer and writes in the agents'
/// room. The page's `PUT` goes first and alone: the homeserver (Synapse on
/// SQLite: one database connection) then does not work on the other two
/// beside it (``MatrixNetworkConfiguration/pageFirstHold``).
@Suite struct PageFirstTests {
    /// Logs each text's `PUT` as it arrives (by room) and holds the page's
    /// until ``release()``.
    final class HeldPage: MatrixHTTPTransport {
        let inner: FakeHomeserver
        let sends = Mutex<[String]>([])
        private let gate = Gate()
        init(_ inner: FakeHomeserver) { self.inner = inner }

        var isPageHeld: Bool { gate.heldCount > 0 }

        func release() { gate.open() }

        func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
            let path = request.url.path
            if request.method == "PUT", let range = path.range(of: "/send/") {
                let room = path[..<range.lowerBound].replacingOccurrences(of: "/_matrix/client/v3/rooms/", with: "")
                sends.withLock { $0.append(room) }
                if path.contains("/sb-page-") { await gate.wait() }
            }
            return try await inner.perform(request)
        }
    }

    final class Deliveries: Sendable {
        let reports = Mutex<[ChatDelivery]>([])
        let connected = Mutex(false)
    }

    func start(_ transport: HeldPage, clock: ManualClock, hold: Duration, deliveries: Deliveries)
        async -> (MatrixChatNetwork<ManualClock>, Task<Void, any Error>)
    {
        let configuration = MatrixNetworkConfiguration(
            homeserver: URL(string: "http://hs")!, userID: "@bot:example.org", credentials: .password("pw"), rooms: [],
            invitesFrom: [], encryptedRoomText: "encrypted", pageFirstHold: hold)
        let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: transport,
                                        syncTransport: transport, storage: MemoryMatrixStateStorage(), deviceID: nil,
                                        clock: clock, logger: .disabled)
        let task = Task {
            try await network.run(events: { e in
                if case .connected = e { deliveries.connected.withLock { $0 = true } }
            }, deliveries: { d in deliveries.reports.withLock { $0.append(d) } })
        }
        for _ in 0..<200_000 where !deliveries.connected.withLock({ $0 }) { await Task.yield() }
        return (network, task)
    }

    /// The step as the bots hand it over: the customer is told first, then
    /// the agents' room line, then the page.
    static let step = [
        ChatAction(network: "mx", recipient: .channel("!cust:example.org"), text: "Ticket #7 (P1): anna has been paged",
                   lane: .urgent),
        ChatAction(network: "mx", recipient: .channel("!agents:example.org"), text: "P1 #7 for @anna:example.org",
                   lane: .priority),
        ChatAction(network: "mx", recipient: .user("@anna:example.org"), text: "PAGE #7 P1 – VPN down",
                   lane: .urgent, deliveryID: 7),
    ]

    func waitFor(_ condition: () -> Bool) async {
        for _ in 0..<200_000 where !condition() { await Task.yield() }
    }

    @Test func thePageOfAStepGoesOutFirstAndAloneAndTheOthersFollowItsAnswer() async throws {
        let transport = HeldPage(MatrixChatNetworkTests.homeserver())
        let deliveries = Deliveries()
        let (network, task) = await start(transport, clock: ManualClock(), hold: .milliseconds(100),
                                          deliveries: deliveries)
        await network.send(Self.step)
        await waitFor { transport.isPageHeld }
        #expect(transport.isPageHeld, "the page's PUT is under way")
        for _ in 0..<5000 { await Task.yield() }
        #expect(transport.sends.withLock { $0 } == ["!dm:example.org"], "nothing else beside the page")
        transport.release()
        await waitFor { transport.sends.withLock { $0.count } == 3 }
        // The two rooms' texts go out side by side once the page is
        // answered: which PUT arrives first is not the contract (a helper's
        // full run under load once saw the agents' room first).
        let sends = transport.sends.withLock { $0 }
        #expect(sends.first == "!dm:example.org" && sends.count == 3)
        #expect(Set(sends.dropFirst()) == ["!cust:example.org", "!agents:example.org"])
        await waitFor { deliveries.reports.withLock { $0.count } == 1 }
        #expect(deliveries.reports.withLock { $0 }.contains { if case .delivered(7, _) = $0 { true } else { false } })
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aSlowPageHoldsTheOtherTextsNoLongerThanTheHold() async throws {
        let transport = HeldPage(MatrixChatNetworkTests.homeserver())
        let clock = ManualClock()
        let deliveries = Deliveries()
        let (network, task) = await start(transport, clock: clock, hold: .milliseconds(100), deliveries: deliveries)
        await network.send(Self.step)
        await waitFor { transport.isPageHeld }
        #expect(await clock.waitForSleepers(1), "the hold's timer")
        clock.advance(by: .milliseconds(99))
        for _ in 0..<5000 { await Task.yield() }
        #expect(transport.sends.withLock { $0 } == ["!dm:example.org"])
        clock.advance(by: .milliseconds(1))
        await waitFor { transport.sends.withLock { $0.count } == 3 }
        #expect(transport.sends.withLock { $0.count } == 3, "100 ms on, the customer and the room are told")
        #expect(transport.isPageHeld, "while the page is still unanswered")
        transport.release()
        await waitFor { deliveries.reports.withLock { $0.count } == 1 }
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aPageTheDeliveryGateRefusesIsWithheldNotSentAndTheNextOneGoes() async throws {
        let transport = HeldPage(MatrixChatNetworkTests.homeserver())
        transport.release()
        let deliveries = Deliveries()
        let (network, task) = await start(transport, clock: ManualClock(), hold: .zero, deliveries: deliveries)
        let leaseHeld = Mutex(false)
        await network.setDeliveryGate { leaseHeld.withLock { $0 } }
        await network.send(Self.step)
        await waitFor { deliveries.reports.withLock { $0.count } == 1 && transport.sends.withLock { $0.count } == 2 }
        #expect(deliveries.reports.withLock { $0 }.contains { if case .withheld(7, _) = $0 { true } else { false } })
        #expect(!transport.sends.withLock { $0 }.contains("!dm:example.org"), "no PUT for the withheld page")
        #expect(Set(transport.sends.withLock { $0 }) == ["!cust:example.org", "!agents:example.org"],
                "lines without a delivery id are not asked about")
        leaseHeld.withLock { $0 = true }
        await network.send(Self.step[2])
        await waitFor { deliveries.reports.withLock { $0.count } == 2 }
        #expect(deliveries.reports.withLock { $0 }.contains { if case .delivered(7, _) = $0 { true } else { false } })
        #expect(transport.sends.withLock { $0 }.filter { $0 == "!dm:example.org" }.count == 1)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func withoutAHoldTheStepsTextsGoOutBesideThePage() async throws {
        let transport = HeldPage(MatrixChatNetworkTests.homeserver())
        let deliveries = Deliveries()
        let (network, task) = await start(transport, clock: ManualClock(), hold: .zero, deliveries: deliveries)
        await network.send(Self.step)
        await waitFor { transport.sends.withLock { $0.count } == 3 }
        #expect(Set(transport.sends.withLock { $0 }) == ["!dm:example.org", "!cust:example.org", "!agents:example.org"])
        #expect(transport.isPageHeld, "the others did not wait for the page")
        transport.release()
        await waitFor { deliveries.reports.withLock { $0.count } == 1 }
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }
}
