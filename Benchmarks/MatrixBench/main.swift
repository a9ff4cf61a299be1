// MatrixBench: a page's latency through a real Synapse next to Synapse's
// own send → /sync round trip, measured in the same run on the same rooms.
//
//   swift run -c release MatrixBench [ROUNDS]
//
// Needs Synapse (scripts/ensure-test-servers). Starts a homeserver on a
// free loopback port with users `switchboard` (the bot), `anna` (agent) and
// `cust`, and runs the gateway's Matrix adapter as the bot. Each round, in
// turn:
// - round trip: `cust` PUTs an m.text into the agents' room; the time until
//   anna's long-poll /sync returns it;
// - page: the adapter is handed a page (urgent lane, with a delivery id)
//   for anna privately; the time until anna's /sync returns it — the
//   adapter's queue, formatting, transaction id and PUT, plus the same
//   homeserver path.
// Arrival is stamped when the /sync answer is read (not when a waiting loop
// notices), so both series are measured the same way. The first round of
// each (connection set-up, the direct room's creation) is not counted.
// Target (issue 9): page p99 ≤ round-trip p99 + 5 ms.
import Bots
import Core
import Foundation
import Matrix
import MatrixAdapter
import TestSupport

let rounds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200
let password = "bench password"
let synapse = try await SynapseServer.start()
do {
    try await run(synapse)
    await synapse.stop()
} catch {
    print("MatrixBench failed: \(error)\n--- synapse ---\n\(synapse.output.suffix(3000))")
    await synapse.stop()
    exit(1)
}

func run(_ synapse: SynapseServer) async throws {
        do {
            try await synapse.register([("switchboard", password), ("anna", password), ("cust", password)])
            let anna = try await MatrixTestUser.start(server: synapse, name: "anna", password: password)
            let cust = try await MatrixTestUser.start(server: synapse, name: "cust", password: password)
            let room = try await anna.createRoom(alias: "agents", isPublic: true)
            _ = try await cust.join(room)

            let bot = synapse.userID("switchboard")
            let transports = HTTPClientTransport.pair(logger: .disabled)
            let configuration = MatrixNetworkConfiguration(
                homeserver: synapse.url, userID: bot, credentials: .password(password), rooms: ["#agents:localhost"],
                invitesFrom: [":localhost"], encryptedRoomText: "encrypted")
            let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: transports.requests,
                                            syncTransport: transports.sync, storage: MemoryMatrixStateStorage(),
                                            deviceID: nil, clock: SystemClock(), logger: .disabled)
            let ready = AsyncStream<Void>.makeStream()
            let runner = Task {
                try await network.run(events: { event in
                    if case .connected = event { ready.continuation.yield() }
                }, deliveries: { _ in })
            }
            for await _ in ready.stream { break }

            var roundTrips: [Duration] = []
            var pages: [Duration] = []
            let started = ContinuousClock.now
            for i in 0...rounds {
                if ContinuousClock.now - started > .seconds(90) { break }
                let t0 = ContinuousClock.now
                try await cust.say("round trip \(i)", in: room)
                let rt = try await anna.expectMessage(from: cust.userID, containing: "round trip \(i)", in: room)
                let p0 = ContinuousClock.now
                await network.send(ChatAction(network: "mx", recipient: .user(anna.userID),
                                              text: "P1 #\(i) Kieler Werft AG: VPN down (page \(i))", lane: .urgent,
                                              deliveryID: Int64(i + 1)))
                let page = try await anna.expectMessage(from: bot, containing: "(page \(i))")
                if i > 0 {
                    roundTrips.append(rt.at - t0)
                    pages.append(page.at - p0)
                }
            }
            await network.shutdown(message: "", deadline: .seconds(1))
            runner.cancel()
            await anna.stop()
            await cust.stop()

            func report(_ name: String, _ values: [Duration]) -> Duration {
                let sorted = values.sorted()
                let median = sorted[sorted.count / 2]
                let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
                func ms(_ d: Duration) -> String {
                    String(format: "%.2f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                }
                print("\(name): n=\(values.count) median \(ms(median)) p99 \(ms(p99))")
                return p99
            }
            let rtP99 = report("synapse send→/sync round trip", roundTrips)
            let pageP99 = report("page through the adapter     ", pages)
            let within = pageP99 <= rtP99 + .milliseconds(5)
            print("target page p99 ≤ round-trip p99 + 5 ms: \(within ? "met" : "NOT met")")
        }
}
