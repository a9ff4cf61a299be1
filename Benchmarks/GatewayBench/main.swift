// GatewayBench: the gateway's end-to-end speed through a real IRC server.
//
//   swift run -c release GatewayBench [--pages N] [--kb-rounds N]
//
// Starts ngircd on a free loopback port, runs the gateway in this process
// (the same `GatewayService` as `switchboard run`, release-built, SQLite
// store with WAL + synchronous=FULL in a temp folder, send queue on its fast
// setting), and drives it with scripted raw-socket IRC clients:
//
// 1. page latency: N contract customers (default 100) each go through the
//    conversation; the clock runs from the customer sending the last answer
//    (the severity) to the on-duty agent's client reading the private page
//    (through ngircd both ways, the durable commit in between);
// 2. `!kb` throughput: 200 `!kb <words>` requests from 20 clients at once;
//    from the first request sent to the last answer line read. Rounds are
//    0.3 s apart, so each burst meets a rested send queue; back to back, the
//    fast setting's rate (5,000 lines/s, ~1,300 answers of 3–4 lines) is the
//    limit.
import Core
import Foundation
import Gateway
import KB
import Store
import Synchronization
import TestSupport


var pageCount = 100
var kbRounds = 5
var argumentsLeft = Array(CommandLine.arguments.dropFirst())
while let word = argumentsLeft.first {
    argumentsLeft.removeFirst()
    switch word {
    case "--pages": pageCount = Int(argumentsLeft.removeFirst()) ?? pageCount
    case "--kb-rounds": kbRounds = Int(argumentsLeft.removeFirst()) ?? kbRounds
    default:
        print("usage: GatewayBench [--pages N] [--kb-rounds N]")
        exit(64)
    }
}

func milliseconds(_ d: Duration) -> Double { d.timeInterval * 1000 }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

let server = try await NgircdServer.start()
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatewaybench-\(UUID().uuidString.prefix(8))").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let configPath = try GatewayProcess.writeConfiguration(
    directory: directory, network: .init(port: server.port), httpPort: try FreePort.next())
let loaded = try LoadedConfiguration.load(from: URL(fileURLWithPath: configPath))
let service = try GatewayService(loaded: loaded, clock: SystemClock(), logger: Logger(minimumLevel: .error))
let (signals, stopGateway) = AsyncStream.makeStream(of: ProcessSignal.self)
let gatewayTask = Task { try await service.run(signals: signals) }
for _ in 0..<500 {
    if await service.networks[0].status.isReady { break }
    try await Task.sleep(for: .milliseconds(10))
}
guard await service.networks[0].status.isReady else {
    print("the gateway did not join #agents")
    exit(1)
}

print("GatewayBench — ngircd on 127.0.0.1:\(server.port), gateway in-process (release), store \(directory)")
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.prefix(14) ?? "?"))")

// MARK: 1. Page latency

let agent = try await TestUser.connect(port: server.port, nick: "anna")
try await agent.run { try $0.join("#agents") }
// The agent's client reads on a thread of its own for the whole run, so a
// page is timestamped when it arrives, not when someone asks for it.
let pages = Mutex<[TestLine]>([])
let pageArrived = DispatchSemaphore(value: 0)
let agentThread = Thread {
    while true {
        guard let line = try? agent.client.expect("page", timeout: .seconds(3600), where: {
            $0.nick == "switchboard" && $0.params.first == "anna" && $0.text.hasPrefix("PAGE #")
        }) else { return }
        pages.withLock { $0.append(line) }
        pageArrived.signal()
    }
}
agentThread.start()
var pageLatencies: [Double] = []
for index in 1...pageCount {
    let nick = String(format: "kunde%03d", index)
    let customer = try await TestUser.connect(port: server.port, nick: nick)
    // Conversation up to the severity question (PIN check and KB outside the
    // measurement), then the last answer, timestamped just before it is sent.
    let sent = try await customer.run { client -> ContinuousClock.Instant in
        client.privmsg("switchboard", "Hello, customer number 20001. Our warehouse scanners lost the VPN tunnel.")
        _ = try client.expectMessage(from: "switchboard", containing: "PIN")
        client.privmsg("switchboard", "4711")
        let next = try client.expect("question") {
            $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
        }
        if next.text.contains("Does one of them solve") {
            client.privmsg("switchboard", "no")
            _ = try client.expectMessage(from: "switchboard", containing: "How serious")
        }
        let sent = ContinuousClock.now
        client.privmsg("switchboard", "1")
        _ = try client.expectMessage(from: "switchboard", containing: "is saved")
        return sent
    }
    try await offload { pageArrived.wait() }
    let page = pages.withLock { $0.removeFirst() }
    pageLatencies.append(milliseconds(sent.duration(to: page.receivedAt)))
    try await customer.run { $0.close() }
}
let sortedPages = pageLatencies.sorted()
print("""

    1. Contract customer's last answer → page read by the on-duty agent (\(pageCount) customers, sequential)
                                  median      p90      p99    worst   (ms)
       page (agent's PM)        \(format(percentile(sortedPages, 0.5)))    \(format(percentile(sortedPages, 0.9)))    \(format(percentile(sortedPages, 0.99)))    \(format(sortedPages.last ?? .nan))
    """)

// The machine's floor for the durable part, measured the same way right
// after on a WAL + synchronous=FULL file next to the store: one-row INSERT
// transactions back to back, and isolated ones (10 ms apart, as a page's
// commit is: on this kind of virtual disk an fsync after an idle moment
// costs two to three times one in a busy stream).
let rawPath = directory + "/raw-reference.sqlite"
let raw = try SQLiteConnection(path: rawPath)
try raw.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
func rawCommits(_ raw: SQLiteConnection, _ count: Int, gap: Duration) throws -> [Double] {
    var times: [Double] = []
    for _ in 0..<count {
        if gap > .zero { Thread.sleep(forTimeInterval: gap.timeInterval) }
        let start = ContinuousClock.now
        try raw.transaction { try raw.run("INSERT INTO t (v) VALUES (?)", [.text(String(repeating: "x", count: 200))]) }
        times.append(milliseconds(start.duration(to: .now)))
    }
    return times.sorted()
}
let backToBack = try rawCommits(raw, 1000, gap: .zero)
let isolated = try rawCommits(raw, 200, gap: .milliseconds(10))
raw.close()
print("""
       raw SQLite commit, back to back (1,000):  median \(format(percentile(backToBack, 0.5))) ms, \
    p99 \(format(percentile(backToBack, 0.99))) ms, worst \(format(backToBack.last!)) ms
       raw SQLite commit, 10 ms apart (200):     median \(format(percentile(isolated, 0.5))) ms, \
    p99 \(format(percentile(isolated, 0.99))) ms, worst \(format(isolated.last!)) ms
    """)

// MARK: 2. !kb throughput

let queries = [
    "vpn connection drops", "restore deleted file", "Lizenz verlängern", "firmware update failed",
    "raid degraded disk", "zwei faktor handy verloren", "backup job failed", "e-mail alerts missing",
    "cloud replication slow", "admin console unreachable",
]
let knowledgeBase = KnowledgeBase.load(from: loaded.definitions.kbFolder).0
let linesPerQuery = queries.map { 1 + min(loaded.definitions.kbSettings.results, knowledgeBase.search($0, limit: 3).count) }
let clients = try await withThrowingTaskGroup(of: TestUser.self) { group in
    for index in 0..<20 {
        group.addTask { try await TestUser.connect(port: server.port, nick: String(format: "leser%02d", index)) }
    }
    var all: [TestUser] = []
    for try await user in group { all.append(user) }
    return all
}
var rates: [Double] = []
var answerLatencies: [Double] = []
for round in 1...kbRounds {
    // Each round is a burst arriving at once on a rested gateway: the fast
    // send queue (1,000 lines at once, then one every 0.2 ms) refills in 0.2 s.
    try await Task.sleep(for: .milliseconds(300))
    let start = ContinuousClock.now
    let results = try await withThrowingTaskGroup(of: (ContinuousClock.Instant, [Double]).self) { group in
        for client in clients {
            group.addTask {
                try await client.run { c in
                    let expected = linesPerQuery.reduce(0, +)
                    var sentAt: [ContinuousClock.Instant] = []
                    for query in queries {
                        sentAt.append(.now)
                        c.privmsg("switchboard", "!kb \(query)")
                    }
                    var last = start
                    var latencies: [Double] = []
                    var received = 0
                    var answer = 0
                    var linesOfAnswer = 0
                    while received < expected {
                        let line = try c.expect("kb answer line", timeout: .seconds(20)) { $0.nick == "switchboard" }
                        received += 1
                        linesOfAnswer += 1
                        last = line.receivedAt
                        if answer < linesPerQuery.count, linesOfAnswer == linesPerQuery[answer] {
                            latencies.append(milliseconds(sentAt[answer].duration(to: line.receivedAt)))
                            answer += 1
                            linesOfAnswer = 0
                        }
                    }
                    return (last, latencies)
                }
            }
        }
        var all: [(ContinuousClock.Instant, [Double])] = []
        for try await result in group { all.append(result) }
        return all
    }
    let end = results.map(\.0).max()!
    let elapsed = start.duration(to: end)
    let requests = clients.count * queries.count
    rates.append(Double(requests) / elapsed.timeInterval)
    answerLatencies += results.flatMap(\.1)
    print("   round \(round): \(requests) requests answered in \(format(milliseconds(elapsed))) ms")
}
let sortedRates = rates.sorted()
let sortedAnswers = answerLatencies.sorted()
print("""

    2. !kb throughput: \(clients.count) clients × \(queries.count) requests at once, \(linesPerQuery.reduce(0, +) / queries.count)–\(linesPerQuery.max()!) lines an answer
       answers/s  median \(String(format: "%.0f", percentile(sortedRates, 0.5)))  best \(String(format: "%.0f", sortedRates.last!))  worst \(String(format: "%.0f", sortedRates.first!))   (\(kbRounds) rounds)
       request → last line of its answer: median \(format(percentile(sortedAnswers, 0.5))) ms, p99 \(format(percentile(sortedAnswers, 0.99))) ms
    """)

stopGateway.yield(.terminate(SIGTERM))
_ = try? await gatewayTask.value
for client in clients { try? await client.run { $0.close() } }

await server.stop()
try? FileManager.default.removeItem(atPath: directory)
