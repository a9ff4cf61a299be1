// MatrixBench: a page's latency through a real Synapse next to Synapse's
// own send → /sync round trip, like with like, in the same run.
//
//   swift run -c release MatrixBench [SAMPLES] [WARMUP]
//
// Without SAMPLES it takes as many rounds as fit in `MATRIXBENCH_SECONDS`
// (default 150; about 1,000 rounds on a quiet machine); WARMUP defaults to 20.
//
// Needs Synapse (scripts/ensure-test-servers). Starts a homeserver on a
// free loopback port with users `switchboard` (the bot, run by the
// gateway's Matrix adapter), `anna` (the agent) and `cust`.
//
// What is measured, per sample (milliseconds, ContinuousClock):
// - page latency: from the moment the outbox hands the page to the adapter
//   (`MatrixChatNetwork.send`, urgent lane, with a delivery id) until
//   anna's long-poll `/sync` answer carrying it has been read and decoded
//   by her client. It includes the adapter's queue, formatting, transaction
//   id and `PUT /rooms/{id}/send`, then Synapse's path to anna's poll.
// - floor (Synapse's own round trip): from the moment `cust`'s client
//   starts the same `PUT /send` until anna's `/sync` answer carrying it has
//   been read and decoded — the same HTTP client, JSON coders and stamp.
// Like with like: both go into a direct room of two (preset
// `trusted_private_chat`, `is_direct`, anna joined), as the same event
// shape — the content `MatrixMessageFormat.content` makes for a page (an
// `m.text` with `m.mentions.user_ids: [anna]`; the private page text names
// no user id, so no pill), a page's text of the same length. Samples
// alternate (floor, page, page, floor, …: each round swaps the order) so
// both see the same Synapse state and load; `WARMUP` rounds of each are
// not counted (connections, the direct room's creation, Synapse caches).
//
// The adapter's share is split with a stamping transport under its request
// client: queue (handed over → PUT started) and PUT (started → answered);
// the floor's PUT is timed the same way around cust's call.
// Target (issue 9): page p99 ≤ floor p99 + 5 ms.
//
// Also printed, to tell the adapter's share from Synapse's noise:
// - whose long-poll Synapse answered first, the sender's own or anna's.
//   Synapse wakes a room's pollers in the order of a Python set of per-user
//   stream objects (hashed by address), fixed within a run and a coin toss
//   between runs. Both senders keep a live `/sync`, as the bot and a real
//   customer's client do; measured, the order moves the medians by ~1 ms.
// - the bootstrap interval of `page p99 − floor p99`, resampling whole
//   rounds (a page and the floor sampled next to it stay together, so a
//   burst of machine load counts once, as it happened): how far one run's
//   difference moves by chance alone. The target is "shown" only when the
//   whole interval is within it.
// - Synapse's own time for each PUT (its log: request received → answer
//   written), floor and page.
// - this process's CPU while each kind's PUT was under way: the bench hosts
//   anna's and cust's clients beside the adapter, and on two cores what it
//   burns then slows Synapse. (Until anna's wait for a message scanned only
//   the events new since its last look, it burnt ~18 ms per page PUT and
//   <1 ms per floor PUT, and that was the page's whole extra time.)
// Environment: `MATRIXBENCH_SAMPLES=file.csv` writes every sample;
// `MATRIXBENCH_SYNAPSE_LOG=file` keeps Synapse's log (one line per request
// with its processing and response-send times, CPU and database time);
// `MATRIXBENCH_BOT_FLOOR=1` adds a third kind (below) that tells Synapse's
// share of a difference from the adapter's (`=device`: with the adapter's
// own access token, so the same user, device and room as the page;
// `=transport`: that token over the adapter's own request connections;
// `=client`: the adapter's own client, shared with its sync loop — each a
// step closer to the page's path, which adds only the adapter's queue);
// `MATRIXBENCH_TRIGGER=message`: each page is handed to the adapter from
// inside its sync batch's handling, on a customer's message to the bot,
// in one step with the customer's confirmation before it (as the bots do:
// the adapter's re-poll and the confirmation's PUT then race the page's
// PUT), the sample starting at that hand-over; `MATRIXBENCH_REPOLL_HOLD_MS`,
// `MATRIXBENCH_PAGE_HOLD_MS`: the adapter's `repollHold`, `pageFirstHold`
// (default its own).
// In trigger mode the confirmation's PUT is timed next to the page's
// (does the page wait behind it in Synapse?), and Synapse's time for it is
// printed; `MATRIXBENCH_CONFIRMATION_FIRST=1` starts the confirmation's
// PUT first and the page's right after it, not waiting for its answer.
// `MATRIXBENCH_SYNC_HOLD_MS`: the adapter's every `/sync` starts that long
// after the previous one's answer (its re-poll after the page's own echo
// held back: does it overlap anna's `/sync` answer? an experiment).
// `MATRIXBENCH_DATABASE=postgres`: the homeserver keeps its data in
// PostgreSQL (a cluster started for the run, durable commits) instead of
// SQLite; Synapse's documentation calls SQLite fit for testing only (one
// connection for every request and background job). The run says which.
// `MATRIXBENCH_TRACE_DB=1`: Synapse logs every database transaction with
// the request or job it ran for (see `MATRIXBENCH_SYNAPSE_LOG`).
// `MATRIXBENCH_NO_FEDERATION=1`: Synapse's federation sender, user
// directory and room statistics are off (none is part of a page's path on
// a single homeserver). `MATRIXBENCH_FLOOR_FILTER=1`: cust syncs with the
// adapter's filter (an experiment, see at cust's start).
import Bots
import Core
import Foundation
import Matrix
import MatrixAdapter
import Synchronization
import TestSupport

let arguments = CommandLine.arguments.dropFirst()
let environment = ProcessInfo.processInfo.environment
let samples = max(1, arguments.first.flatMap(Int.init) ?? Int.max)
let warmup = max(1, arguments.dropFirst().first.flatMap(Int.init) ?? 20)
/// Counted rounds stop when this much time has passed (or at SAMPLES).
let budget: Duration = .seconds(environment["MATRIXBENCH_SECONDS"].flatMap(Int.init)
    ?? (arguments.isEmpty ? 150 : 86_400))
let triggered = environment["MATRIXBENCH_TRIGGER"] == "message"
/// Trigger mode: `MATRIXBENCH_CONFIRMATION_FIRST=1` starts the
/// confirmation's PUT first and the page's right after it, without waiting
/// for its answer (needs `MATRIXBENCH_PAGE_HOLD_MS=0`, else the adapter
/// holds nothing back for a page that is not yet queued anyway).
let confirmationFirst = environment["MATRIXBENCH_CONFIRMATION_FIRST"] == "1"
/// How often a wait looks for the message (finer than the fixture's
/// default, so less of each round is spent idle).
let poll: Duration = .milliseconds(2)
let password = "bench password"
let postgres = environment["MATRIXBENCH_DATABASE"] == "postgres"
    ? try await PostgresServer.start(durable: true) : nil
let synapse: SynapseServer
do {
    synapse = try await SynapseServer.start(SynapseServer.Options(
        database: postgres.map { .postgres($0) } ?? .sqlite,
        traceDatabase: environment["MATRIXBENCH_TRACE_DB"] == "1",
        withoutFederationAndDirectory: environment["MATRIXBENCH_NO_FEDERATION"] == "1"))
} catch {
    print("MatrixBench failed to start Synapse: \(error)")
    await postgres?.stop()
    exit(1)
}
print("homeserver: Synapse on \(synapse.options.database)"
    + (synapse.options.withoutFederationAndDirectory ? "; federation sender, user directory and stats off" : ""))
do {
    let (floorRoom, triggerRoom) = try await run(synapse)
    printSynapsePUTTimes(synapse.output, floorRoom: floorRoom, confirmationRoom: triggerRoom)
    // Synapse's own log (one line per request with its processing time),
    // for finding where a sample's time went.
    if let path = ProcessInfo.processInfo.environment["MATRIXBENCH_SYNAPSE_LOG"] {
        try synapse.output.write(toFile: path, atomically: true, encoding: .utf8)
    }
    await synapse.stop()
    await postgres?.stop()
} catch {
    print("MatrixBench failed: \(error)\n--- synapse ---\n\(synapse.output.suffix(3000))")
    await synapse.stop()
    await postgres?.stop()
    exit(1)
}

/// Stamps when each `PUT …/send/…` of the adapter starts and is answered,
/// by transaction id; and, in trigger mode, each send to the customer's
/// room (the confirmation), in order.
final class StampingTransport: MatrixHTTPTransport {
    let inner: any MatrixHTTPTransport
    let stamps = Mutex<[String: (start: ContinuousClock.Instant, end: ContinuousClock.Instant)]>([:])
    /// This process's CPU time (all threads) while each `PUT` was under way.
    let cpuDuringPUT = Mutex<[String: Duration]>([:])
    /// The customer's room id (trigger mode; a send's decoded path names it).
    let confirmationRoom = Mutex<String?>(nil)
    /// Sends to ``confirmationRoom``: when each started and was answered.
    let confirmations = Mutex<[(start: ContinuousClock.Instant, end: ContinuousClock.Instant)]>([])

    init(_ inner: any MatrixHTTPTransport) { self.inner = inner }

    func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
        guard request.method == "PUT", request.url.path.contains("/send/") else { return try await inner.perform(request) }
        let (start, cpuStart) = (ContinuousClock.now, processCPU())
        let response = try await inner.perform(request)
        let (end, cpuEnd) = (ContinuousClock.now, processCPU())
        stamps.withLock { $0[request.url.lastPathComponent] = (start, end) }
        cpuDuringPUT.withLock { $0[request.url.lastPathComponent] = cpuEnd - cpuStart }
        if let room = confirmationRoom.withLock({ $0 }), request.url.path.contains("/rooms/\(room)/") {
            confirmations.withLock { $0.append((start, end)) }
        }
        return response
    }
}

/// This process's CPU time so far, all threads (user + system): the bench
/// hosts the adapter, anna's and cust's clients; on a machine of two cores
/// what it burns while a `PUT` is under way slows Synapse.
func processCPU() -> Duration {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func d(_ t: timeval) -> Duration { .seconds(Int64(t.tv_sec)) + .microseconds(Int64(t.tv_usec)) }
    return d(usage.ru_utime) + d(usage.ru_stime)
}

/// Stamps when the bot's own `/sync` answer first carries each page
/// (found by its text `(page N)`), so a sample can say whose long-poll
/// Synapse answered first: the sender's or the agent's.
///
/// With `repollHold` (`MATRIXBENCH_SYNC_HOLD_MS`), each `/sync` starts no
/// sooner than that long after the previous one was answered: the
/// adapter's re-poll after its page's own echo is held back, so it cannot
/// overlap Synapse's work for anna's `/sync` (an experiment: the adapter
/// never waits so, it would hold incoming messages back).
final class SyncStampingTransport: MatrixHTTPTransport {
    let inner: any MatrixHTTPTransport
    let seen = Mutex<[Int: ContinuousClock.Instant]>([:])
    let repollHold: Duration?
    let lastAnswer = Mutex<ContinuousClock.Instant?>(nil)

    init(_ inner: any MatrixHTTPTransport, repollHold: Duration? = nil) {
        self.inner = inner
        self.repollHold = repollHold
    }

    func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
        if let repollHold, let last = lastAnswer.withLock({ $0 }) {
            try await Task.sleep(until: last.advanced(by: repollHold), clock: .continuous)
        }
        let response = try await inner.perform(request)
        let now = ContinuousClock.now
        lastAnswer.withLock { $0 = now }
        let text = String(decoding: response.body, as: UTF8.self)
        var rest = text[...]
        while let range = rest.range(of: "(page ") {
            let digits = rest[range.upperBound...].prefix { $0.isNumber }
            if let n = Int(digits) { seen.withLock { if $0[n] == nil { $0[n] = now } } }
            rest = rest[range.upperBound...]
        }
        return response
    }
}

/// A page's text (bots/agent.json5 `pagePrivate`, en), numbered.
func text(_ n: Int, _ kind: String) -> String {
    "PAGE #\(10_000 + n) P1 – Kieler Werft AG: VPN down at the yard (\(kind) \(n)) – please “!ack \(10_000 + n)” "
        + "or “!take \(10_000 + n)”"
}

/// Trigger mode: when each page was handed to the adapter, by number.
final class HandOvers: Sendable {
    let times = Mutex<[Int: ContinuousClock.Instant]>([:])
}

/// One sample's times from its start.
struct Sample {
    var putStarted: Duration
    var putAnswered: Duration
    var delivered: Duration
    /// When the sender's own `/sync` answer carried the event (nil: not
    /// seen by the time anna's was).
    var senderSynced: Duration?
    /// Trigger mode: when the customer's confirmation of the same step
    /// started and was answered (its `PUT`, to another room).
    var confirmation: (start: Duration, end: Duration)?
}

/// Runs the samples and prints them; returns the floor's room and the
/// customer's room of trigger mode (where the confirmations go).
func run(_ synapse: SynapseServer) async throws -> (floor: String, confirmations: String?) {
    try await synapse.register([("switchboard", password), ("anna", password), ("cust", password)])
    let anna = try await MatrixTestUser.start(server: synapse, name: "anna", password: password)
    // MATRIXBENCH_FLOOR_FILTER=1: cust's /sync uses the adapter's filter,
    // to tell whether Synapse's work for a filtered sender's stream is the
    // page's extra time (the floor is otherwise unchanged).
    let cust = try await MatrixTestUser.start(server: synapse, name: "cust", password: password,
                                              filter: environment["MATRIXBENCH_FLOOR_FILTER"] == "1"
                                                  ? MatrixSyncer<SystemClock>.filter : nil)
    let bot = synapse.userID("switchboard")
    let annaID = await anna.userID
    let custID = await cust.userID

    // The floor's room: a direct room of cust and anna, as the bot's is.
    let floorRoom = try await cust.createRoom(invite: [annaID], direct: true)
    try await cust.say("hello", in: floorRoom)  // anna joins on the invite, then sees this
    _ = try await anna.expectMessage(from: custID, containing: "hello", in: floorRoom, timeout: .seconds(30))

    let transports = HTTPClientTransport.pair(logger: .disabled)
    let stamping = StampingTransport(transports.requests)
    let syncStamping = SyncStampingTransport(transports.sync, repollHold: environment["MATRIXBENCH_SYNC_HOLD_MS"]
        .flatMap(Int.init).map { .milliseconds($0) })
    var configuration = MatrixNetworkConfiguration(
        homeserver: synapse.url, userID: bot, credentials: .password(password), rooms: [],
        invitesFrom: [":localhost"], encryptedRoomText: "encrypted")
    if let hold = environment["MATRIXBENCH_REPOLL_HOLD_MS"].flatMap(Int.init) {
        configuration.repollHold = .milliseconds(hold)
    }
    if let hold = environment["MATRIXBENCH_PAGE_HOLD_MS"].flatMap(Int.init) {
        configuration.pageFirstHold = .milliseconds(hold)
    }
    let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: stamping,
                                    syncTransport: syncStamping, storage: MemoryMatrixStateStorage(),
                                    deviceID: nil, clock: SystemClock(), logger: .disabled)
    let ready = AsyncStream<Void>.makeStream()
    let handedOver = HandOvers()
    let runner = Task {
        try await network.run(events: { event in
            switch event {
            case .connected: ready.continuation.yield()
            case .message(let message):
                // As the bots do: the page is handed over while the batch
                // with the customer's message is being handled.
                guard let n = Int(message.text.dropFirst("trigger ".count)) else { return }
                handedOver.times.withLock { $0[n] = ContinuousClock.now }
                // The step as the bots hand it over: the customer is told
                // first (from the outbox, priority lane), then the page.
                let confirmation = ChatAction(network: "mx", recipient: .user(custID),
                                              text: "Ticket #\(10_000 + n) (P1) is saved; the on-duty agent has been paged.",
                                              lane: .priority, deliveryID: 1_000_000 + Int64(n))
                let page = ChatAction(network: "mx", recipient: .user(annaID), text: text(n, "page"), lane: .urgent,
                                      deliveryID: Int64(n))
                if confirmationFirst {
                    // The confirmation's PUT starts first; the page's right
                    // after, not waiting for its answer (two connections).
                    await network.send([confirmation])
                    await network.send([page])
                } else {
                    await network.send([confirmation, page])
                }
            default: break
            }
        }, deliveries: { _ in })
    }
    for await _ in ready.stream { break }
    // Trigger mode: cust's direct room with the bot (the adapter joins on the invite).
    var triggerRoom: String?
    if triggered {
        let room = try await cust.createRoom(invite: [bot], direct: true)
        for _ in 0..<3000 where try await cust.client.members(of: room)[bot] != "join" {
            try await Task.sleep(for: .milliseconds(10))
        }
        triggerRoom = room
        stamping.confirmationRoom.withLock { $0 = room }
    }

    // With MATRIXBENCH_BOT_FLOOR=1, a third sample kind: the bot's own user,
    // through a plain client (its own device, no sync, like cust's), sends
    // the same content into the bot's direct room with anna. It tells
    // Synapse's share from the adapter's: the same user and room as the
    // page, the same client path as the floor.
    // MATRIXBENCH_BOT_FLOOR=device: the plain client uses the adapter's own
    // access token (the same device), to tell a device's share from the path's.
    // MATRIXBENCH_BOT_FLOOR=transport: the adapter's token and also its
    // request transport (the same connection pool), so only the adapter's
    // queue and client differ from the page's path.
    let botFloorMode = ProcessInfo.processInfo.environment["MATRIXBENCH_BOT_FLOOR"]
    // MATRIXBENCH_BOT_FLOOR=client: the adapter's own client (shared with
    // its sync loop), without its send queue.
    let withBotFloor = ["1", "device", "transport", "client"].contains(botFloorMode ?? "")
    let adapterToken = await network.client.accessToken
    let botCredentials: MatrixCredentials = (botFloorMode == "device" || botFloorMode == "transport")
        && adapterToken != nil ? .accessToken(adapterToken!) : .password(password)
    let botPlain = botFloorMode == "client" ? network.client
        : MatrixClient(homeserver: synapse.url, userID: bot, credentials: botCredentials,
                       deviceID: nil, transport: botFloorMode == "transport" ? stamping
                           : HTTPClientTransport.pair(logger: .disabled).requests,
                       clock: SystemClock(), logger: .disabled)
    if withBotFloor && botFloorMode != "client" { try await botPlain.login() }
    var botRoom: String?

    func page(_ n: Int) async throws -> Sample {
        var t0 = ContinuousClock.now
        if let triggerRoom {
            try await cust.say("trigger \(n)", in: triggerRoom)
        } else {
            await network.send(ChatAction(network: "mx", recipient: .user(annaID), text: text(n, "page"),
                                          lane: .urgent, deliveryID: Int64(n)))
        }
        let seen = try await anna.expectMessage(from: bot, containing: "(page \(n))", timeout: .seconds(30),
                                                poll: poll)
        if triggerRoom != nil {
            guard let handed = handedOver.times.withLock({ $0[n] }) else { throw MatrixClientError("page \(n) not handed over") }
            t0 = handed
        }
        // Synapse wakes anna's poll before it answers the PUT, so her copy
        // can come first; the PUT's stamps follow (not part of the sample).
        var stamp = stamping.stamps.withLock { $0["sb-page-\(n)"] }
        for _ in 0..<5000 where stamp == nil {
            try await Task.sleep(for: .milliseconds(1))
            stamp = stamping.stamps.withLock { $0["sb-page-\(n)"] }
        }
        guard let put = stamp else { throw MatrixClientError("page \(n) arrived without a stamped PUT") }
        let own = syncStamping.seen.withLock { $0[n] }
        // Like the floor (which waits for cust's own /sync to carry its
        // message), the next sample starts only after the bot's own /sync
        // has carried the page: neither kind's leftover work lands in the
        // next sample (measured before: a floor right after a page took
        // Synapse ~10 ms longer at the median than one after a floor).
        for _ in 0..<5000 where syncStamping.seen.withLock({ $0[n] }) == nil {
            try await Task.sleep(for: poll)
        }
        botRoom = seen.room
        // Trigger mode: the step's confirmation (sent beside or after the
        // page, ``MatrixNetworkConfiguration/pageFirstHold``), the first
        // send to the customer's room since the hand-over.
        var confirmation: (start: Duration, end: Duration)?
        if triggerRoom != nil {
            for _ in 0..<5000 {
                if let c = stamping.confirmations.withLock({ $0.first { $0.start >= t0 } }) {
                    confirmation = (c.start - t0, c.end - t0)
                    break
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            stamping.confirmations.withLock { $0.removeAll() }
        }
        return Sample(putStarted: put.start - t0, putAnswered: put.end - t0, delivered: seen.at - t0,
                      senderSynced: own.map { $0 - t0 }, confirmation: confirmation)
    }

    var floorCPU: [Duration] = []
    func floor(_ n: Int) async throws -> Sample {
        let content = MatrixMessageFormat.content(text(n, "floor"), mentionable: [annaID], alert: [annaID])
        let (t0, cpu0) = (ContinuousClock.now, processCPU())
        try await cust.send(type: "m.room.message", content: content, in: floorRoom)
        let answered = ContinuousClock.now
        floorCPU.append(processCPU() - cpu0)
        let seen = try await anna.expectMessage(from: custID, containing: "(floor \(n))", in: floorRoom,
                                                timeout: .seconds(30), poll: poll)
        let own = try await cust.expectMessage(from: custID, containing: "(floor \(n))", in: floorRoom,
                                               timeout: .seconds(30), poll: poll)
        return Sample(putStarted: .zero, putAnswered: answered - t0, delivered: seen.at - t0,
                      senderSynced: own.at - t0)
    }

    func botFloor(_ n: Int) async throws -> Sample {
        guard let room = botRoom else { throw MatrixClientError("no page yet, so no bot room") }
        let content = MatrixMessageFormat.content(text(n, "botfloor"), mentionable: [annaID], alert: [annaID])
        let t0 = ContinuousClock.now
        try await botPlain.send(room: room, type: "m.room.message", transactionID: "bench-\(n)", content: content)
        let answered = ContinuousClock.now
        let seen = try await anna.expectMessage(from: bot, containing: "(botfloor \(n))", in: room,
                                                timeout: .seconds(30), poll: poll)
        return Sample(putStarted: .zero, putAnswered: answered - t0, delivered: seen.at - t0, senderSynced: nil)
    }

    var pages: [Sample] = []
    var floors: [Sample] = []
    var botFloors: [Sample] = []
    if withBotFloor { _ = try await page(0) }  // the bot's direct room, for the bot floor
    var started = ContinuousClock.now
    var round = 0
    while pages.count < samples {
        round += 1
        let counted = round > warmup
        if round == warmup + 1 { started = ContinuousClock.now }
        if counted, ContinuousClock.now - started > budget { break }
        if withBotFloor {
            // Each kind first, second and third equally often.
            var kinds = ["page", "floor", "bot"]
            kinds = Array(kinds[(round % 3)...] + kinds[..<(round % 3)])
            if round % 2 == 0 { kinds.reverse() }
            for kind in kinds {
                switch kind {
                case "page": let p = try await page(round); if counted { pages.append(p) }
                case "floor": let f = try await floor(round); if counted { floors.append(f) }
                default: let b = try await botFloor(round); if counted { botFloors.append(b) }
                }
            }
        } else if round % 2 == 0 {
            let f = try await floor(round)
            let p = try await page(round)
            if counted { floors.append(f); pages.append(p) }
        } else {
            let p = try await page(round)
            let f = try await floor(round)
            if counted { floors.append(f); pages.append(p) }
        }
    }
    let elapsed = ContinuousClock.now - started
    await network.shutdown(message: "", deadline: .seconds(1))
    runner.cancel()
    await anna.stop()
    await cust.stop()

    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    func quantile(_ sorted: [Duration], _ q: Double) -> Duration {
        sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * q).rounded(.up)) - 1))]
    }
    func line(_ name: String, _ values: [Duration]) -> (median: Duration, p99: Duration) {
        let sorted = values.sorted()
        let (median, p90, p99) = (quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99))
        print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
            + String(format: "median %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms", ms(median), ms(p90), ms(p99),
                     ms(sorted.last!)))
        return (median, p99)
    }
    print("MatrixBench: \(pages.count) samples each (+\(warmup) warm-up rounds), interleaved, "
        + String(format: "%.1f s", ms(elapsed) / 1000)
        + (triggered ? "; each page handed over from the handling of a customer's message" : ""))
    print("both: an m.text with m.mentions.user_ids [anna] in a direct room of two; stamped when anna's /sync "
        + "answer with it was read")
    let floorTotal = line("floor: cust PUT start → anna /sync", floors.map(\.delivered))
    let pageTotal = line("page: adapter handed the page → anna /sync", pages.map(\.delivered))
    print("where the time goes:")
    _ = line("  floor: PUT start → PUT answered", floors.map(\.putAnswered))
    _ = line("  floor: PUT answered → anna /sync", floors.map { $0.delivered - $0.putAnswered })
    _ = line("  page: handed over → PUT start (adapter)", pages.map(\.putStarted))
    _ = line("  page: PUT start → PUT answered", pages.map { $0.putAnswered - $0.putStarted })
    _ = line("  page: PUT answered → anna /sync", pages.map { $0.delivered - $0.putAnswered })
    // This process's CPU while each PUT was under way (warm-up included).
    let pageCPU = stamping.cpuDuringPUT.withLock { $0.filter { $0.key.hasPrefix("sb-page-") }.map(\.value) }
    _ = line("  this process's CPU during the floor's PUT", floorCPU)
    _ = line("  this process's CPU during the page's PUT", pageCPU)
    if withBotFloor {
        _ = line("bot floor: bot's plain PUT start → anna /sync", botFloors.map(\.delivered))
        _ = line("  bot floor: PUT start → PUT answered", botFloors.map(\.putAnswered))
    }
    // Trigger mode: does the page wait behind the customer's confirmation
    // (another room's PUT, persisted by the same Synapse process)?
    let confirmed = pages.filter { $0.confirmation != nil }
    if triggered, !confirmed.isEmpty {
        _ = line("  confirmation: handed over → PUT start", confirmed.map { $0.confirmation!.start })
        _ = line("  confirmation: PUT start → PUT answered", confirmed.map { $0.confirmation!.end - $0.confirmation!.start })
        // Its PUT under way while the page's was, or before anna's /sync carried the page.
        let duringPUT = confirmed.filter { $0.confirmation!.start < $0.putAnswered && $0.confirmation!.end > $0.putStarted }
        let beforeDelivery = confirmed.filter { $0.confirmation!.start < $0.delivered }
        let clear = confirmed.filter { $0.confirmation!.start >= $0.delivered }
        print("the confirmation's PUT: first in \(confirmed.filter { $0.confirmation!.start < $0.putStarted }.count), "
            + "under way during the page's PUT in \(duringPUT.count), started before anna's /sync carried the page in "
            + "\(beforeDelivery.count), after it in \(clear.count), of \(confirmed.count)")
        if !beforeDelivery.isEmpty { _ = line("  page, confirmation started before delivery", beforeDelivery.map(\.delivered)) }
        if !clear.isEmpty { _ = line("  page, confirmation started after delivery", clear.map(\.delivered)) }
    }
    // Synapse wakes the long-polls of a room's members in the order of a
    // Python set of per-user stream objects (hashed by address): fixed for
    // a run, a coin toss between runs. The sync it answers first is served
    // first; the other waits for part of its work.
    func senderFirst(_ values: [Sample]) -> String {
        let carried = values.filter { $0.senderSynced != nil }
        guard !carried.isEmpty else { return "never carried it (filtered out)" }
        let first = carried.filter { $0.senderSynced! < $0.delivered }.count
        return String(format: "first in %.0f %% of %d", 100 * Double(first) / Double(carried.count), carried.count)
    }
    print("the sender's own /sync answer with the event, against anna's: floor (cust) \(senderFirst(floors)); "
        + "page (bot) \(senderFirst(pages))")
    if let path = ProcessInfo.processInfo.environment["MATRIXBENCH_SAMPLES"] {
        var csv = "kind,put_started_ms,put_answered_ms,delivered_ms,sender_synced_ms\n"
        for (kind, values) in [("floor", floors), ("page", pages), ("bot", botFloors)] {
            for v in values {
                csv += kind + String(format: ",%.3f,%.3f,%.3f,%.3f\n", ms(v.putStarted), ms(v.putAnswered),
                              ms(v.delivered), v.senderSynced.map(ms) ?? -1)
            }
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
    }
    // How much one run's p99 can say: the p99 of 1,000 is its 10th-worst
    // sample. Resampling whole rounds (bootstrap, fixed seed) keeps a page
    // with the floor sampled next to it, under the same load.
    let pageDelivered = pages.map(\.delivered), floorDelivered = floors.map(\.delivered)
    let (low, high) = PairedBootstrap.interval(rounds: min(pageDelivered.count, floorDelivered.count)) { picks in
        ms(quantile(picks.map { pageDelivered[$0] }.sorted(), 0.99))
            - ms(quantile(picks.map { floorDelivered[$0] }.sorted(), 0.99))
    }
    print(String(format: "page p99 − floor p99: %+.2f ms; by chance alone (bootstrap of rounds, 1000 resamples) it "
        + "spans %+.2f … %+.2f ms (5th–95th percentile)", ms(pageTotal.p99) - ms(floorTotal.p99), low, high))
    let met = pageTotal.p99 <= floorTotal.p99 + .milliseconds(5)
    print(String(format: "target page p99 ≤ floor p99 + 5 ms: %.2f ≤ %.2f + 5 → ", ms(pageTotal.p99),
                 ms(floorTotal.p99)) + (met ? "met" : "NOT met")
        + String(format: " (medians: page %.2f, floor %.2f ms)", ms(pageTotal.median), ms(floorTotal.median)))
    print(high <= 5 ? "shown: the whole interval is within +5 ms"
        : low > 5 ? "shown NOT met: the whole interval is above +5 ms"
        : String(format: "not shown either way: the interval (%+.1f … %+.1f ms) spans +5 ms", low, high))
    return (floorRoom, triggerRoom)
}

/// Synapse's own time for the floor's and the pages' PUTs, from its access
/// log ("Processed request: TOTAL/SEND sec … db=(SCHED/TXN/N)": request
/// received → answer written; SEND: handler done → answer written; SCHED:
/// waiting for a database connection), warm-up included.
func printSynapsePUTTimes(_ log: String, floorRoom: String, confirmationRoom: String?) {
    let floorPath = "/rooms/" + MatrixPath.encode(floorRoom) + "/send/"
    let confirmationPath = confirmationRoom.map { "/rooms/" + MatrixPath.encode($0) + "/send/" }
    var times: [String: [(total: Double, send: Double, dbWait: Double)]] = [:]
    for line in log.split(separator: "\n") where line.contains("Processed request") && line.contains("\"PUT ")
        && line.contains("/send/m.room.message/") {
        // The confirmation first: it comes from the outbox too (`sb-page-…`).
        let kind = confirmationPath.map { line.contains($0) && line.contains("/sb-") } == true ? "confirmation"
            : line.contains("/sb-page-") ? "page" : line.contains(floorPath) ? "floor"
            : line.contains("/bench-") ? "bot floor" : nil
        guard let kind, let range = line.range(of: "Processed request: ") else { continue }
        let fields = line[range.upperBound...].prefix { $0 != " " }.split(separator: "/")
        guard fields.count == 2, let total = Double(fields[0].dropLast(3)), let send = Double(fields[1].dropLast(3))
        else { continue }
        var dbWait = 0.0
        if let db = line.range(of: " db=(") {
            dbWait = Double(line[db.upperBound...].prefix { $0 != "/" }.dropLast(3)) ?? 0
        }
        times[kind, default: []].append((total * 1000, send * 1000, dbWait * 1000))
    }
    for kind in ["floor", "page", "bot floor", "confirmation"] {
        guard let values = times[kind], !values.isEmpty else { continue }
        func at(_ sorted: [Double], _ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        let total = values.map(\.total).sorted(), send = values.map(\.send).sorted()
        let wait = values.map(\.dbWait).sorted()
        print("Synapse's time for the \(kind) PUTs (\(values.count)): " + String(format: "median %.0f, p90 %.0f, "
            + "p99 %.0f ms; of it answer written after the handler: median %.0f ms; waiting for a database "
            + "connection: median %.1f, p99 %.1f ms", at(total, 0.5), at(total, 0.9), at(total, 0.99), at(send, 0.5),
            at(wait, 0.5), at(wait, 0.99)))
    }
}
