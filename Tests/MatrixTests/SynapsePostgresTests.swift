import Bots
import Core
import Foundation
import Matrix
import MatrixAdapter
import Synchronization
import Testing
import TestSupport

/// The adapter against a real Synapse that keeps its data in PostgreSQL
/// (``SynapseServer/Options/Database/postgres(_:)``, as MatrixBench's
/// `MATRIXBENCH_DATABASE=postgres` runs it). A missing Synapse, PostgreSQL
/// or psycopg2 fails the test; it never skips.
@Suite struct SynapsePostgresTests {
    final class Deliveries: Sendable {
        let reports = Mutex<[ChatDelivery]>([])
    }

    @Test func aPageThroughSynapseOnPostgreSQLReachesTheAgentOnceEvenWhenSentTwice() async throws {
        let postgres = try await PostgresServer.shared()
        let synapse = try await SynapseServer.start(SynapseServer.Options(database: .postgres(postgres)))
        do {
            // Synapse applied its PostgreSQL schema, not SQLite's.
            #expect(synapse.output.contains(".sql.postgres"), "Synapse set up a PostgreSQL database")
            #expect(!FileManager.default.fileExists(atPath: synapse.directory + "/homeserver.db"))
            try await synapse.register([("switchboard", "bot password"), ("anna", "anna password")])
            let anna = try await MatrixTestUser.start(server: synapse, name: "anna", password: "anna password")
            let annaID = await anna.userID
            let transports = HTTPClientTransport.pair(logger: .disabled)
            let configuration = MatrixNetworkConfiguration(
                homeserver: synapse.url, userID: synapse.userID("switchboard"), credentials: .password("bot password"),
                rooms: [], invitesFrom: [":localhost"], encryptedRoomText: "encrypted")
            let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: transports.requests,
                                            syncTransport: transports.sync, storage: MemoryMatrixStateStorage(),
                                            deviceID: nil, clock: SystemClock(), logger: .disabled)
            let deliveries = Deliveries()
            let connected = AsyncStream<Void>.makeStream()
            let runner = Task {
                try await network.run(events: { event in
                    if case .connected = event { connected.continuation.yield() }
                }, deliveries: { report in deliveries.reports.withLock { $0.append(report) } })
            }
            for await _ in connected.stream { break }
            let page = ChatAction(network: "mx", recipient: .user(annaID), text: "PAGE #41 P1 – VPN down",
                                  lane: .urgent, deliveryID: 41)
            await network.send(page)
            let seen = try await anna.expectMessage(from: synapse.userID("switchboard"), containing: "PAGE #41",
                                                    timeout: .seconds(30))
            #expect(seen.event.content["m.mentions"]?["user_ids"]?.array?.compactMap(\.string) == [annaID])
            // The outbox sends it again (a lost delivery report): the same
            // transaction id, so the homeserver keeps one event.
            await network.send(page)
            for _ in 0..<3000 where deliveries.reports.withLock({ $0.count }) < 2 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(deliveries.reports.withLock { $0 }.filter { if case .delivered(41, _) = $0 { true } else { false } }
                .count == 2)
            try await anna.say("after the page", in: seen.room)
            _ = try await anna.expectMessage(from: annaID, containing: "after the page", timeout: .seconds(30))
            #expect(await anna.messages(from: synapse.userID("switchboard")).filter {
                $0.event.content["body"]?.string?.contains("PAGE #41") == true
            }.count == 1, "delivered once")
            await network.shutdown(message: "", deadline: .seconds(1))
            runner.cancel()
            await anna.stop()
        } catch {
            print("--- synapse ---\n\(synapse.output.suffix(4000))")
            await synapse.stop()
            throw error
        }
        await synapse.stop()
    }
}
