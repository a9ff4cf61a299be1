// GatewayBench: the gateway's end-to-end speed through a real IRC server.
//
//   swift run -c release GatewayBench [--pages N] [--kb-rounds N] [--kb-sequential N] [--relay N]
//
// Starts ngircd on a free loopback port, runs the gateway in this process
// (the same `GatewayService` as `switchboard run`, release-built, SQLite
// store with WAL + synchronous=FULL in a temp folder, send queue on its fast
// setting), and drives it with scripted raw-socket IRC clients:
//
// 1. page latency: N contract customers (default 300) each go through the
//    conversation; the clock runs from the customer sending the last answer
//    (the severity) to the on-duty agent's client reading the private page
//    (through ngircd both ways, the durable commit in between). Right after
//    each page its floor is sampled: one relay through ngircd and one
//    isolated commit. The summary compares the pages with these paired
//    floors and prints how far the comparison moves by chance alone
//    (bootstrap of the pages with their floors), so a run says whether the
//    targets are shown met, shown missed or not shown either way;
// 2. `!kb` throughput: 200 `!kb <words>` requests from 20 clients at once;
//    from the first request sent to the last answer line read. Rounds are
//    0.3 s apart, so each burst meets a rested send queue; back to back, the
//    fast setting's rate (20,000 lines/s, ~5,000 answers of 3–4 lines) is the
//    limit.
// 3. sequential `!kb`: one ordinary client (TCP_NODELAY, no quick-ACK
//    tricks) asks, reads the whole answer, asks again;
// 4. the floors, in the same run on the same server and disk: a relay
//    floor (a client's line to a trivial echo client and back through
//    ngircd; back to back, and the pages' paired ones), the isolated-commit
//    floor (one-row fdatasync commits 10 ms apart, one after each page),
//    and an echo-bot floor for bursts (an `IRCClient` with the same
//    fast send queue answering each line with four lines). The summary
//    prints page latency and `!kb` rates as ratios to them.
import Core
import Foundation
import Gateway
import IRCClient
import Store
import Synchronization
import TestSupport


var pageCount = 300
var kbRounds = 5
var sequentialCount = 500
var relayCount = 500
var argumentsLeft = Array(CommandLine.arguments.dropFirst())
while let word = argumentsLeft.first {
    argumentsLeft.removeFirst()
    switch word {
    case "--pages": pageCount = Int(argumentsLeft.removeFirst()) ?? pageCount
    case "--kb-rounds": kbRounds = Int(argumentsLeft.removeFirst()) ?? kbRounds
    case "--kb-sequential": sequentialCount = Int(argumentsLeft.removeFirst()) ?? sequentialCount
    case "--relay": relayCount = Int(argumentsLeft.removeFirst()) ?? relayCount
    default:
        print("usage: GatewayBench [--pages N] [--kb-rounds N] [--kb-sequential N] [--relay N]")
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

/// Context switches of the whole process so far (every thread, voluntary
/// and involuntary): the gateway's hand-offs between threads plus the
/// bench's own clients.
func contextSwitches() -> Int {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_nvcsw + usage.ru_nivcsw
}

/// Context switches (voluntary + involuntary) per thread of this process
/// now, by thread id, with the thread's name: compared before and after a
/// page, the threads that lived through it show the gateway's hand-offs
/// (the bench's own client threads are named `bench…` or come and go).
func threadSwitches() -> [Int: (name: String, switches: Int)] {
    var result: [Int: (name: String, switches: Int)] = [:]
    guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return result }
    for tid in tids {
        guard let id = Int(tid),
              let status = try? String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8) else { continue }
        var name = "?"
        var switches = 0
        for line in status.split(separator: "\n") {
            if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
                switches += Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        result[id] = (name, switches)
    }
    return result
}

/// CPU time (nanoseconds on a CPU, `/proc/self/task/<tid>/schedstat`) per
/// thread of this process now: compared before and after a phase, the
/// threads that lived through it and are not the bench's show the gateway's
/// own CPU, which a loaded machine's scheduling does not blur as it blurs
/// wall-clock latency.
func threadCPU() -> [Int: Int] {
    var result: [Int: Int] = [:]
    guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return result }
    for tid in tids {
        guard let id = Int(tid),
              let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/schedstat", encoding: .utf8),
              let first = text.split(separator: " ").first, let nanoseconds = Int(first) else { continue }
        result[id] = nanoseconds
    }
    return result
}

/// Whether a thread is the bench's own: its client threads (named `bench…`)
/// and its main thread. A thread `offload` starts takes its creator's name
/// (often a pool thread's, when the main task runs there): a phase whose
/// window must not count it names it `bench…` itself (as the page's
/// customer thread does).
func isBenchThread(_ name: String) -> Bool { name.hasPrefix("bench") || name == "GatewayBench" }

/// Microseconds of CPU per `count` operations spent by the gateway's threads
/// (alive in `before`, not the bench's) since `before`.
func gatewayCPU(since before: [Int: Int], names: [Int: (name: String, switches: Int)], per count: Int) -> Double {
    gatewayCPUByName(since: before, names: names, per: count).values.reduce(0, +)
}

/// ``gatewayCPU(since:names:per:)`` by thread name.
func gatewayCPUByName(since before: [Int: Int], names: [Int: (name: String, switches: Int)],
                      per count: Int, now after: [Int: Int]? = nil) -> [String: Double] {
    var byName: [String: Double] = [:]
    for (tid, now) in after ?? threadCPU() {
        guard let then = before[tid], let name = names[tid]?.name, !isBenchThread(name) else { continue }
        byName[name, default: 0] += Double(now - then) / 1000 / Double(count)
    }
    return byName
}

/// With SWITCHBOARD_PERF_CTL=<fifo> (perf record's `--control fifo:<fifo> -D -1`):
/// the profile is switched on for each measured page only — from the customer's
/// last answer to the page read — so the conversation before it, the PIN
/// hashing and the other phases stay out of it.
let perfControl: FileHandle? = ProcessInfo.processInfo.environment["SWITCHBOARD_PERF_CTL"].flatMap {
    FileHandle(forWritingAtPath: $0)
}
func perf(_ command: String) {
    perfControl?.write(Data((command + "\n").utf8))
}

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

// The floors a page is compared with, sampled right after each page (see
// "1."): a relay through ngircd — a line to a trivial echo client and back,
// both ordinary clients on threads of their own: two relays, as on the
// page path (customer → gateway, gateway → agent) — and one isolated
// durable commit on a WAL + synchronous=FULL file next to the store (a
// one-row INSERT 10 ms after the last disk work, as a page's commit comes:
// on this kind of virtual disk an fsync after an idle moment costs two to
// three times one in a busy stream).
let echoUser = try await TestUser.connect(port: server.port, nick: "echo")
let echoThread = Thread {
    nameCurrentThread("bench-echo")
    while true {
        guard let line = try? echoUser.client.expect("line to echo", timeout: .seconds(3600), where: {
            $0.command == "PRIVMSG" && $0.params.first == "echo"
        }) else { return }
        if line.text == "stop" { return }
        echoUser.client.privmsg(line.nick, line.text)
    }
}
echoThread.start()
let pinger = try await TestUser.connect(port: server.port, nick: "pinger")
/// Milliseconds of `count` relays, one after the other, `gap` apart.
func relays(_ count: Int, from first: Int, gap: Duration = .zero) async throws -> [Double] {
    try await pinger.run { c -> [Double] in
        var times: [Double] = []
        for index in first..<(first + count) {
            if gap > .zero { Thread.sleep(forTimeInterval: gap.timeInterval) }
            let sent = ContinuousClock.now
            c.privmsg("echo", "relay \(index)")
            let back = try c.expect("echo", timeout: .seconds(10)) { $0.nick == "echo" && $0.text == "relay \(index)" }
            times.append(milliseconds(sent.duration(to: back.receivedAt)))
        }
        return times
    }
}
let rawPath = directory + "/raw-reference.sqlite"
let raw = try SQLiteConnection(path: rawPath)
try raw.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
/// Milliseconds of `count` one-row commits on the raw file, `gap` apart, in order.
func rawCommits(_ raw: SQLiteConnection, _ count: Int, gap: Duration) throws -> [Double] {
    var times: [Double] = []
    for _ in 0..<count {
        if gap > .zero { Thread.sleep(forTimeInterval: gap.timeInterval) }
        let start = ContinuousClock.now
        try raw.transaction { try raw.run("INSERT INTO t (v) VALUES (?)", [.text(String(repeating: "x", count: 200))]) }
        times.append(milliseconds(start.duration(to: .now)))
    }
    return times
}

// MARK: 1. Page latency

let agent = try await TestUser.connect(port: server.port, nick: "anna")
try await agent.run { try $0.join("#agents") }
// The agent's client reads on a thread of its own for the whole run, so a
// page is timestamped when it arrives, not when someone asks for it.
let pages = Mutex<[TestLine]>([])
let pageArrived = DispatchSemaphore(value: 0)
let agentThread = Thread {
    nameCurrentThread("bench-agent")
    while true {
        guard let line = try? agent.client.expect("page", timeout: .seconds(3600), where: {
            $0.nick == "switchboard" && $0.params.first == "anna" && $0.text.hasPrefix("PAGE #")
        }) else { return }
        pages.withLock { $0.append(line) }
        pageArrived.signal()
    }
}
agentThread.start()
let threadsBefore = Mutex<[Int: (name: String, switches: Int)]>([:])
let pageCPUBefore = Mutex<[Int: Int]>([:])
var pageCPU: [Double] = []
var pageCPUByName: [String: [Double]] = [:]
let traceStart = Mutex<UInt64>(0)
var pageLatencies: [Double] = []
var pageSwitches: [Double] = []
/// Per page: switches of the threads alive before and after it that are not the bench's.
var gatewaySwitches: [Double] = []
var switchesByName: [String: [Double]] = [:]
/// Per page and hop (with SWITCHBOARD_HOP_TRACE): milliseconds since the hop before.
var hopTimes: [HopTrace.Hop: [Double]] = [:]
var hopToRead: [Double] = []
/// Per page (with SWITCHBOARD_HOP_TRACE): its latency and each hop's time, for the anatomy of the slowest.
var pageHops: [(latency: Double, hops: [(HopTrace.Hop, Double)], toRead: Double)] = []
/// Per page, sampled right after it: one relay and one isolated commit (ms).
var pairedRelays: [Double] = []
var pairedCommits: [Double] = []
for index in 1...pageCount {
    let nick = String(format: "kunde%03d", index)
    let customer = try await TestUser.connect(port: server.port, nick: nick)
    // Conversation up to the severity question (PIN check and KB outside the
    // measurement), then the last answer, timestamped just before it is sent.
    // The client's thread also waits for the page and reads the counters
    // after it: the bench's own work in the page's window is this one
    // thread, named as the bench's (before, the main task resumed and
    // `offload` started a thread for the wait inside the window — on two
    // cores a thread creation beside the page's relay — and both ran on
    // threads named as Swift's pool, so their CPU was counted as the
    // gateway's "pool" time).
    let (sent, switchesBefore, switchesAfter, cpuAfter, threadsAfter) = try await customer.run {
        client -> (ContinuousClock.Instant, Int, Int, [Int: Int], [Int: (name: String, switches: Int)]) in
        nameCurrentThread("bench-customer")
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
        threadsBefore.withLock { $0 = threadSwitches() }
        pageCPUBefore.withLock { $0 = threadCPU() }
        _ = HopTrace.take()
        traceStart.withLock { $0 = HopTrace.now() }
        let switches = contextSwitches()
        perf("enable")
        let sent = ContinuousClock.now
        client.privmsg("switchboard", "1")
        _ = try client.expectMessage(from: "switchboard", containing: "is saved")
        pageArrived.wait()
        perf("disable")
        let cpuAfter = threadCPU()
        let switchesAfter = contextSwitches()
        return (sent, switches, switchesAfter, cpuAfter, threadSwitches())
    }
    pageSwitches.append(Double(switchesAfter - switchesBefore))
    let before = threadsBefore.withLock { $0 }
    var gateway = 0
    var byName: [String: Int] = [:]
    for (tid, now) in threadsAfter where !isBenchThread(now.name) {
        guard let then = before[tid] else { continue }
        gateway += now.switches - then.switches
        byName[now.name, default: 0] += now.switches - then.switches
    }
    gatewaySwitches.append(Double(gateway))
    let cpuByName = gatewayCPUByName(since: pageCPUBefore.withLock { $0 }, names: before, per: 1, now: cpuAfter)
    pageCPU.append(cpuByName.values.reduce(0, +))
    for (name, cpu) in cpuByName { pageCPUByName[name, default: []].append(cpu) }
    for (name, count) in byName { switchesByName[name, default: []].append(Double(count)) }
    let page = pages.withLock { $0.removeFirst() }
    let latency = milliseconds(sent.duration(to: page.receivedAt))
    pageLatencies.append(latency)
    if HopTrace.isEnabled {
        // Each hop: its first mark after the hop before (the chain starts
        // when the last answer was sent and ends when the agent read the page).
        let marks = HopTrace.take()
        var previous = traceStart.withLock { $0 }
        var hops: [(HopTrace.Hop, Double)] = []
        for hop in HopTrace.Hop.allCases {
            guard let mark = marks.first(where: { $0.hop == hop && $0.nanoseconds >= previous }) else { continue }
            let time = Double(mark.nanoseconds - previous) / 1e6
            hopTimes[hop, default: []].append(time)
            hops.append((hop, time))
            previous = mark.nanoseconds
        }
        let end = traceStart.withLock { $0 } + UInt64(latency * 1e6)
        let toRead = end >= previous ? Double(end - previous) / 1e6 : 0
        hopToRead.append(toRead)
        pageHops.append((latency, hops, toRead))
    }
    try await customer.run { $0.close() }
    // This page's floor, under the machine's load of this moment; each
    // part after 10 ms, as the page's own parts came after a quiet moment
    // (taken at once after the page, the relay met the gateway still busy
    // with the step's tail: 0.33 ms against 0.09 back to back).
    try await Task.sleep(for: .milliseconds(10))
    pairedRelays += try await relays(1, from: index)
    pairedCommits += try rawCommits(raw, 1, gap: .milliseconds(10))
}
let sortedPages = pageLatencies.sorted()
var hopReport = ""
if HopTrace.isEnabled {
    hopReport = "\n   where a page's time goes (SWITCHBOARD_HOP_TRACE; median ms since the hop before, over \(pageCount) pages):"
    for hop in HopTrace.Hop.allCases {
        guard let times = hopTimes[hop] else { continue }
        let sorted = times.sorted()
        hopReport += "\n     \(hop.label.padding(toLength: 26, withPad: " ", startingAt: 0)) median \(format(percentile(sorted, 0.5)))  p90 \(format(percentile(sorted, 0.9)))  (\(times.count) pages)"
    }
    let rest = hopToRead.sorted()
    hopReport += "\n     \("page read by the agent".padding(toLength: 26, withPad: " ", startingAt: 0)) median \(format(percentile(rest, 0.5)))  p90 \(format(percentile(rest, 0.9)))"
    // The page with its commit taken out (store call issued → commit
    // returned): the gateway's own path and the two relays through the
    // server, which the disk's mood in a shared machine does not blur; and
    // the commit as the gateway waits for it (the store's hop included).
    let withoutCommit = pageHops.map { page in
        page.latency - (page.hops.first(where: { $0.0 == .commitDone })?.1 ?? 0)
    }.sorted()
    let commits = pageHops.compactMap { page in page.hops.first(where: { $0.0 == .commitDone })?.1 }.sorted()
    hopReport += "\n   page without its commit: median \(format(percentile(withoutCommit, 0.5)))  p90 \(format(percentile(withoutCommit, 0.9)))  p99 \(format(percentile(withoutCommit, 0.99)))"
        + "; the commit as the bots wait for it: median \(format(percentile(commits, 0.5)))  p90 \(format(percentile(commits, 0.9)))  p99 \(format(percentile(commits, 0.99)))"
    // What makes the p99: the slowest 1 % of pages (at least 3), hop by hop,
    // next to the medians, so a slow commit, a late wake-up or a slow read
    // by the agent shows where it happened.
    let slowest = pageHops.sorted { $0.latency > $1.latency }.prefix(max(3, pageCount / 100))
    hopReport += "\n   the slowest pages, ms per hop (" + HopTrace.Hop.allCases.map { String($0.rawValue) }.joined(separator: " ")
        + " read; hops numbered as listed above from 0):"
    for page in slowest {
        var row = "\n     \(format(page.latency)):"
        for hop in HopTrace.Hop.allCases {
            let time = page.hops.first(where: { $0.0 == hop })?.1
            row += " " + (time.map { String(format: "%.3f", $0) } ?? "-")
        }
        row += " " + format(page.toRead)
        hopReport += row
    }
}
let cpuReport = pageCPUByName.sorted(by: { $0.key < $1.key }).map { name, values in
    "\(name) \(String(format: "%.0f", percentile(values.sorted(), 0.5))) µs"
}.joined(separator: ", ")
var switchReport = ""
for (name, counts) in switchesByName.sorted(by: { $0.key < $1.key }) {
    let total = counts.reduce(0, +) / Double(pageCount)
    switchReport += "\(switchReport.isEmpty ? "" : ", ")\(name) \(String(format: "%.1f", total))"
}
print("""

    1. Contract customer's last answer → page read by the on-duty agent (\(pageCount) customers, sequential)
                                  median      p90      p99    worst   (ms)
       page (agent's PM)        \(format(percentile(sortedPages, 0.5)))    \(format(percentile(sortedPages, 0.9)))    \(format(percentile(sortedPages, 0.99)))    \(format(sortedPages.last ?? .nan))
       context switches per page, last answer sent → page read (whole process: gateway and the bench's clients, \
    the customer's "is saved" included): median \(String(format: "%.0f", percentile(pageSwitches.sorted(), 0.5)))
       the gateway's threads alone (not the bench's clients): median \(String(format: "%.0f", percentile(gatewaySwitches.sorted(), 0.5))); \
    mean per page by thread name: \(switchReport)
       the gateway's CPU per page, last answer read → page read (schedstat, kernel included; the customer's "is saved" \
    and the commit's CPU included): median \(String(format: "%.0f", percentile(pageCPU.sorted(), 0.5))) µs; \
    median by thread name: \(cpuReport)\(hopReport)
    """)

// The durable part's floor on its own, on the same raw file: one-row
// commits back to back, and the isolated ones sampled after each page.
let backToBack = try rawCommits(raw, 1000, gap: .zero).sorted()
raw.close()
let isolated = pairedCommits.sorted()
print("""
       raw SQLite commit, back to back (1,000):  median \(format(percentile(backToBack, 0.5))) ms, \
    p99 \(format(percentile(backToBack, 0.99))) ms, worst \(format(backToBack.last!)) ms
       raw SQLite commit, 10 ms apart, one after each page (\(isolated.count)): median \(format(percentile(isolated, 0.5))) ms, \
    p99 \(format(percentile(isolated, 0.99))) ms, worst \(format(isolated.last!)) ms
    """)

// MARK: 2. !kb throughput

let queries = [
    "vpn connection drops", "restore deleted file", "Lizenz verlängern", "firmware update failed",
    "raid degraded disk", "zwei faktor handy verloren", "backup job failed", "e-mail alerts missing",
    "cloud replication slow", "admin console unreachable",
]
// Lines per answer as the gateway sends them: each query asked once, lines
// read until 0.3 s of silence. (A count guessed from a local KB search was
// off by one for some queries; the readers then ran a line ahead, their
// requests piled up behind the answers and the latencies were not one
// request's any more.)
let probe = try await TestUser.connect(port: server.port, nick: "probe")
let linesPerQuery = try await probe.run { c -> [Int] in
    var counts: [Int] = []
    for query in queries {
        c.privmsg("switchboard", "!kb \(query)")
        var count = 0
        while (try? c.expect("kb answer line", timeout: .milliseconds(300), where: { $0.nick == "switchboard" })) != nil {
            count += 1
        }
        counts.append(count)
    }
    c.close()
    return counts
}
guard linesPerQuery.allSatisfy({ $0 > 0 }) else {
    print("the gateway did not answer every !kb probe: \(linesPerQuery)")
    exit(1)
}
let clients = try await withThrowingTaskGroup(of: TestUser.self) { group in
    for index in 0..<20 {
        group.addTask { try await TestUser.connect(port: server.port, nick: String(format: "leser%02d", index)) }
    }
    var all: [TestUser] = []
    for try await user in group { all.append(user) }
    return all
}
/// One burst: every client sends its requests to `bot` at once and reads
/// `linesPerRequest[i]` lines for request i. Returns the answers per second
/// (first request sent → last line read) and each request's latency.
func burst(_ clients: [TestUser], to bot: String, requests: [String], linesPerRequest: [Int]) async throws
    -> (rate: Double, latencies: [Double], milliseconds: Double)
{
    let start = ContinuousClock.now
    let results = try await withThrowingTaskGroup(of: (ContinuousClock.Instant, [Double]).self) { group in
        for client in clients {
            group.addTask {
                try await client.run { c in
                    let expected = linesPerRequest.reduce(0, +)
                    var sentAt: [ContinuousClock.Instant] = []
                    for request in requests {
                        sentAt.append(.now)
                        c.privmsg(bot, request)
                    }
                    var last = start
                    var latencies: [Double] = []
                    var received = 0
                    var answer = 0
                    var linesOfAnswer = 0
                    while received < expected {
                        let line = try c.expect("answer line from \(bot)", timeout: .seconds(20)) { $0.nick == bot }
                        received += 1
                        linesOfAnswer += 1
                        last = line.receivedAt
                        if answer < linesPerRequest.count, linesOfAnswer == linesPerRequest[answer] {
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
    return (Double(clients.count * requests.count) / elapsed.timeInterval, results.flatMap(\.1),
            milliseconds(elapsed))
}

var rates: [Double] = []
var answerLatencies: [Double] = []
for round in 1...kbRounds {
    // Each round is a burst arriving at once on a rested gateway: the fast
    // send queue (1,000 lines at once, then one every 50 µs) refills in 0.05 s.
    try await Task.sleep(for: .milliseconds(300))
    let result = try await burst(clients, to: "switchboard", requests: queries.map { "!kb \($0)" },
                                 linesPerRequest: linesPerQuery)
    rates.append(result.rate)
    answerLatencies += result.latencies
    print("   round \(round): \(clients.count * queries.count) requests answered in \(format(result.milliseconds)) ms")
}
let sortedRates = rates.sorted()
let sortedAnswers = answerLatencies.sorted()
print("""

    2. !kb throughput: \(clients.count) clients × \(queries.count) requests at once, \(linesPerQuery.reduce(0, +) / queries.count)–\(linesPerQuery.max()!) lines an answer
       answers/s  median \(String(format: "%.0f", percentile(sortedRates, 0.5)))  best \(String(format: "%.0f", sortedRates.last!))  worst \(String(format: "%.0f", sortedRates.first!))   (\(kbRounds) rounds)
       request → last line of its answer: median \(format(percentile(sortedAnswers, 0.5))) ms, p99 \(format(percentile(sortedAnswers, 0.99))) ms
    """)

// MARK: 3. Sequential !kb with an ordinary client

let reader = try await TestUser.connect(port: server.port, nick: "leser")
// A rested send queue, as for each burst: the last burst round spent most
// of the bucket. The fast preset (1,000 lines at once, then 20,000 lines/s)
// carries ~5,000 answers/s of 3.9 lines back to back; a tired bucket would
// show as a median by query that grows with the lines (a token's interval
// a line: with the old 5,000 lines/s it was 0.8 ms for 4 lines).
try await Task.sleep(for: .milliseconds(300))
let sequentialRequests = sequentialCount
let sequentialThreadsBefore = threadSwitches()
let sequentialCPUBefore = threadCPU()
_ = HopTrace.take()
/// Per hop of the sequential answers (with SWITCHBOARD_HOP_TRACE): milliseconds since the hop before.
let sequentialHops = Mutex<[HopTrace.Hop: [Double]]>([:])
let sequentialHopToRead = Mutex<[Double]>([])
let sequential = try await reader.run { c -> (latencies: [Double], seconds: Double, byQuery: [[Double]]) in
    var latencies: [Double] = []
    var byQuery = [[Double]](repeating: [], count: queries.count)
    latencies.reserveCapacity(sequentialRequests)
    let start = ContinuousClock.now
    for index in 0..<sequentialRequests {
        let query = index % queries.count
        let traceStart = HopTrace.now()
        let sent = ContinuousClock.now
        c.privmsg("switchboard", "!kb \(queries[query])")
        var last = sent
        for _ in 0..<linesPerQuery[query] {
            last = try c.expect("kb answer line", timeout: .seconds(20)) { $0.nick == "switchboard" }.receivedAt
        }
        let latency = milliseconds(sent.duration(to: last))
        latencies.append(latency)
        byQuery[query].append(latency)
        if HopTrace.isEnabled {
            // The request's chain: each hop's first mark after the hop before.
            let marks = HopTrace.take()
            var previous = traceStart
            var times: [(HopTrace.Hop, Double)] = []
            for hop in HopTrace.Hop.allCases {
                guard let mark = marks.first(where: { $0.hop == hop && $0.nanoseconds >= previous }) else { continue }
                times.append((hop, Double(mark.nanoseconds - previous) / 1e6))
                previous = mark.nanoseconds
            }
            let end = traceStart + UInt64(latency * 1e6)
            sequentialHops.withLock { hops in for (hop, time) in times { hops[hop, default: []].append(time) } }
            sequentialHopToRead.withLock { $0.append(end >= previous ? Double(end - previous) / 1e6 : 0) }
        }
    }
    return (latencies.sorted(), start.duration(to: .now).timeInterval, byQuery)
}
let sequentialCPU = gatewayCPU(since: sequentialCPUBefore, names: sequentialThreadsBefore, per: sequentialCount)
let sequentialRate = Double(sequentialCount) / sequential.seconds
// The gateway's thread switches per answer: threads alive before and after
// the run that are not the bench's (the hand-offs a request costs).
var sequentialSwitches = 0
var sequentialByName: [String: Int] = [:]
for (tid, now) in threadSwitches() where !isBenchThread(now.name) {
    guard let then = sequentialThreadsBefore[tid] else { continue }
    sequentialSwitches += now.switches - then.switches
    sequentialByName[now.name, default: 0] += now.switches - then.switches
}
let sequentialSwitchReport = sequentialByName.sorted { $0.key < $1.key }
    .map { "\($0.key) \(String(format: "%.1f", Double($0.value) / Double(sequentialCount)))" }
    .joined(separator: ", ")
print("""

    3. Sequential !kb, one ordinary client (TCP_NODELAY, delayed ACKs as the kernel does them), \(sequentialCount) requests
       request → last line: median \(format(percentile(sequential.latencies, 0.5))) ms, p90 \(format(percentile(sequential.latencies, 0.9))) ms, \
    p99 \(format(percentile(sequential.latencies, 0.99))) ms, worst \(format(sequential.latencies.last ?? .nan)) ms; \
    \(String(format: "%.0f", sequentialRate)) answers/s
       the gateway's thread switches per answer: \(String(format: "%.1f", Double(sequentialSwitches) / Double(sequentialCount))) \
    (by thread name: \(sequentialSwitchReport))
       the gateway's CPU per answer (its threads' schedstat run time, kernel included): \(String(format: "%.0f", sequentialCPU)) µs
       median by query (lines): \(queries.indices.map { "\(linesPerQuery[$0])l \(format(percentile(sequential.byQuery[$0].sorted(), 0.5)))" }.joined(separator: ", "))
    """)
if HopTrace.isEnabled {
    var report = "   where a sequential answer's time goes (SWITCHBOARD_HOP_TRACE; median ms since the hop before):"
    let hops = sequentialHops.withLock { $0 }
    for hop in HopTrace.Hop.allCases {
        guard let times = hops[hop] else { continue }
        let sorted = times.sorted()
        report += "\n     \(hop.label.padding(toLength: 26, withPad: " ", startingAt: 0)) median \(format(percentile(sorted, 0.5)))  p90 \(format(percentile(sorted, 0.9)))  (\(times.count) answers)"
    }
    let rest = sequentialHopToRead.withLock { $0 }.sorted()
    report += "\n     \("last line read by client".padding(toLength: 26, withPad: " ", startingAt: 0)) median \(format(percentile(rest, 0.5)))  p90 \(format(percentile(rest, 0.9)))"
    print(report)
}

// MARK: 4. Floors: relay through ngircd, echo bot on the same client library

// Relay floor on its own: back to back, and 10 ms apart without pages in
// between (the pages' floors were sampled one after each page, 10 ms after
// it). A relay after an idle moment costs several times one in a stream:
// every thread on the way (the client's, ngircd, the echo client's) is
// woken from sleep, as on a page's path.
let relay = try await relays(relayCount, from: pageCount + 1).sorted()
let spacedRelay = try await relays(min(relayCount, 200), from: pageCount + relayCount + 1, gap: .milliseconds(10)).sorted()
try await pinger.run { $0.privmsg("echo", "stop") }

// Echo-bot floor: the IRC client library with the gateway's fast send
// queue, answering each private line with four lines (as a `!kb` answer).
let echoBot = IRCClient(
    configuration: IRCClientConfiguration(host: "127.0.0.1", port: server.port, nick: "echobot", user: "echobot",
                                          channels: [], sendQueue: .fast),
    clock: SystemClock())
let echoBotRun = Task { try await echoBot.run() }
let echoBotReady = Mutex(false)
let echoBotEvents = Task {
    for await event in echoBot.events {
        switch event {
        case .registered: echoBotReady.withLock { $0 = true }
        case .message(let message) where message.isPrivate:
            let text = message.text
            try? await echoBot.send("\(text)\n2. \(text)\n3. \(text)\n4. \(text)", to: message.senderNick,
                                    priority: .bulk)
        default: break
        }
    }
}
for _ in 0..<500 where !(echoBotReady.withLock { $0 }) { try await Task.sleep(for: .milliseconds(10)) }
var echoRates: [Double] = []
for _ in 1...kbRounds {
    try await Task.sleep(for: .milliseconds(300))
    let result = try await burst(clients, to: "echobot", requests: queries,
                                 linesPerRequest: queries.map { _ in 4 })
    echoRates.append(result.rate)
}
await echoBot.shutdown(quitMessage: "bench done", drainFor: .seconds(1))
echoBotRun.cancel()
echoBotEvents.cancel()

let echoRate = percentile(echoRates.sorted(), 0.5)
let meanKBLines = Double(linesPerQuery.reduce(0, +)) / Double(queries.count)
let kbRate = percentile(sortedRates, 0.5)
let relayMedian = percentile(relay, 0.5)
let relayP99 = percentile(relay, 0.99)
// Each page against the floor sampled right after it (its relay plus its
// isolated commit): the page's statistic minus (or over) the floors' of
// the same rounds, and how far that moves by chance alone.
let pairedFloors = zip(pairedRelays, pairedCommits).map { $0 + $1 }
let floorMedian = percentile(pairedFloors.sorted(), 0.5)
let floorP99 = percentile(pairedFloors.sorted(), 0.99)
let pageMedian = percentile(sortedPages, 0.5)
let pageP99 = percentile(sortedPages, 0.99)
@MainActor func statistic(_ picks: [Int], _ p: Double) -> (page: Double, floor: Double) {
    (percentile(picks.map { pageLatencies[$0] }.sorted(), p), percentile(picks.map { pairedFloors[$0] }.sorted(), p))
}
let medianGap = PairedBootstrap.interval(rounds: pageCount) { picks in
    let (page, floor) = statistic(picks, 0.5)
    return page - floor
}
let p99Ratio = PairedBootstrap.interval(rounds: pageCount) { picks in
    let (page, floor) = statistic(picks, 0.99)
    return page / floor
}
print("""

    4. Floors in this run
       relay through ngircd (line to an echo client and back, \(relayCount) back to back): median \(format(relayMedian)) ms, p99 \(format(relayP99)) ms
       relay through ngircd, 10 ms apart (\(spacedRelay.count)): median \(format(percentile(spacedRelay, 0.5))) ms, p99 \(format(percentile(spacedRelay, 0.99))) ms
       relay, 10 ms after each page (\(pairedRelays.count)): median \(format(percentile(pairedRelays.sorted(), 0.5))) ms, p99 \(format(percentile(pairedRelays.sorted(), 0.99))) ms
       isolated commit, one after each page (above): median \(format(percentile(isolated, 0.5))) ms, p99 \(format(percentile(isolated, 0.99))) ms
       a page's floor = its relay + its commit (\(pairedFloors.count)): median \(format(floorMedian)) ms, p99 \(format(floorP99)) ms
       echo bot (IRCClient, fast queue, 4 lines an answer), \(clients.count) × \(queries.count) at once: \
    median \(String(format: "%.0f", echoRate)) answers/s = \(String(format: "%.0f", echoRate * 4)) lines/s

    Summary (targets from issue 12)
       page median \(format(pageMedian)) ms = floor (relay + commit, paired) \(format(floorMedian)) ms + \(format(pageMedian - floorMedian)) ms   (target: + ≤ 0.3 ms)
         by chance alone (bootstrap of the \(pageCount) pages with their floors, 1000 resamples, 5th–95th percentile): \
    + \(format(medianGap.low)) … + \(format(medianGap.high)) ms — \(PairedBootstrap.verdict(medianGap, atMost: 0.3))
         (against the back-to-back relay's median instead of the paired relays: + \(format(pageMedian - relayMedian - percentile(isolated, 0.5))) ms)
       page p99 \(format(pageP99)) ms = \(String(format: "%.2f", pageP99 / floorP99))× floor p99 \(format(floorP99)) ms   (target: ≤ 2×)
         by chance alone: \(String(format: "%.2f", p99Ratio.low))× … \(String(format: "%.2f", p99Ratio.high))× — \
    \(PairedBootstrap.verdict(p99Ratio, atMost: 2))
       sequential !kb p99 \(format(percentile(sequential.latencies, 0.99))) ms, \(String(format: "%.0f", sequentialRate)) answers/s   (target: ≤ 2 ms, ≥ 2,000/s)
       !kb burst \(String(format: "%.0f", kbRate * meanKBLines)) lines/s = \(String(format: "%.2f", kbRate * meanKBLines / (echoRate * 4)))× the echo bot's lines/s   (target: ≥ 0.5×)
    """)

stopGateway.yield(.terminate(SIGTERM))
_ = try? await gatewayTask.value
for client in clients + [reader, pinger, echoUser] { try? await client.run { $0.close() } }

await server.stop()
try? FileManager.default.removeItem(atPath: directory)
