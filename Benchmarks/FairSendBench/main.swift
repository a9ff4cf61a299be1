// FairSendBench: a network's flood limit spent well (issue 15 item 1).
//
//   swift run -c release FairSendBench [--strangers N]
//
// Starts ngircd on a free loopback port and runs the gateway in this process
// (the same `GatewayService` as `switchboard run`, release-built, a real
// SQLite file in a temp folder) with the **standard** send queue — what a
// real network needs: 5 lines at once, then one every 2 s. The on-duty agent
// (anna) sits in #agents; her client timestamps each page as it arrives.
//
// Two rounds, each on a rested send queue: N strangers (default 20) say "hi"
// at once, and right after them a contract customer (20001, enterprise,
// 24/7) writes:
//
//   (a) number, PIN and problem in the first message (and severity), then
//       answers whatever is still asked;
//   (b) step by step: "Hello", then the number, the PIN, the problem, the
//       severity, each when asked.
//
// It prints, from one run: the time from the customer's first message to
// the page read by the agent (targets: (a) ≤ 15 s, (b) ≤ 60 s; 84 s before
// the lanes), and (c) how long each stranger waited for the bot's first
// line (they are served too, after the contract customer).
import Core
import Foundation
import Gateway
import Synchronization
import TestSupport

var requestedStrangers = 20
var argumentsLeft = Array(CommandLine.arguments.dropFirst())
while let word = argumentsLeft.first {
    argumentsLeft.removeFirst()
    switch word {
    case "--strangers": requestedStrangers = Int(argumentsLeft.removeFirst()) ?? requestedStrangers
    default:
        print("usage: FairSendBench [--strangers N]")
        exit(64)
    }
}

let strangerCount = requestedStrangers

func seconds(_ d: Duration) -> Double { d.timeInterval }
func format(_ value: Double) -> String { String(format: "%.1f", value) }

let server = try await NgircdServer.start()
let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("fairsendbench-\(UUID().uuidString.prefix(8))").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let configPath = try GatewayProcess.writeConfiguration(
    directory: directory, network: .init(port: server.port, sendQueue: #"{ preset: "standard" }"#),
    httpPort: try FreePort.next())
let loaded = try LoadedConfiguration.load(from: URL(fileURLWithPath: configPath))
let service = try GatewayService(loaded: loaded, clock: SystemClock(), logger: Logger(minimumLevel: .error))
let (signals, stopGateway) = AsyncStream.makeStream(of: ProcessSignal.self)
let gatewayTask = Task { try await service.run(signals: signals) }
for _ in 0..<1000 {
    if await service.networks[0].status.isReady { break }
    try await Task.sleep(for: .milliseconds(10))
}
guard await service.networks[0].status.isReady else {
    print("the gateway did not register")
    exit(1)
}
print("FairSendBench — ngircd on 127.0.0.1:\(server.port), gateway in-process (release), standard send queue "
    + "(5 lines at once, then 1 every 2 s), store \(directory)")

/// Connects `nick`, trying again when ngircd resets a connection in a burst.
func connect(_ nick: String) async throws -> TestUser {
    for _ in 0..<4 {
        if let user = try? await TestUser.connect(port: server.port, nick: nick) { return user }
        try await Task.sleep(for: .milliseconds(500))
    }
    return try await TestUser.connect(port: server.port, nick: nick)
}

/// Waits until the gateway's send queue is empty (a rested queue for the next round).
func waitForEmptyQueue() async throws {
    for _ in 0..<3000 {
        if await service.networks[0].backlog.queuedTexts == 0 { return }
        try await Task.sleep(for: .milliseconds(100))
    }
}

// The on-duty agent, reading on a thread of its own for the whole run.
let agent = try await connect("anna")
try await agent.run { try $0.join("#agents") }
let pages = Mutex<[TestLine]>([])
let agentThread = Thread {
    while true {
        guard let line = try? agent.client.expect("page", timeout: .seconds(3600), where: {
            $0.nick == "switchboard" && $0.params.first == "anna" && $0.text.hasPrefix("PAGE #")
        }) else { return }
        pages.withLock { $0.append(line) }
    }
}
agentThread.start()
// Let the bot see anna in #agents (presence) and the joins' lines go out.
try await Task.sleep(for: .seconds(2))
try await waitForEmptyQueue()

/// A contract customer: sends `first`, then answers what is asked until the
/// ticket is saved. Returns when the confirmation arrived.
@Sendable func contractCustomer(_ client: IRCTestClient, first: String) throws -> ContinuousClock.Instant {
    client.privmsg("switchboard", first)
    while true {
        let line = try client.expect("the bot's next line", timeout: .seconds(300)) { $0.nick == "switchboard" }
        let text = line.text
        if text.contains("is saved") { return line.receivedAt }
        if text.contains("customer number") && text.contains("?") {
            client.privmsg("switchboard", "20001")
        } else if text.contains("contract PIN") {
            client.privmsg("switchboard", "4711")
        } else if text.contains("Please describe") || text.contains("what exactly isn't working") {
            client.privmsg("switchboard", "Our warehouse scanners lost the VPN tunnel this morning, nothing gets booked.")
        } else if text.contains("Does one of them solve") {
            client.privmsg("switchboard", "no")
        } else if text.contains("How serious") {
            client.privmsg("switchboard", "1")
        }
    }
}

struct Round: Sendable {
    var page: Double
    var confirmation: Double
    var strangers: [Double]
}

/// One round: the strangers say "hi" at once, then the customer's first
/// message; the page and every stranger's first answer are timed.
func round(_ label: String, customerFirst: String, strangerCount: Int) async throws -> Round {
    let strangers = try await withThrowingTaskGroup(of: TestUser.self) { group in
        for index in 0..<strangerCount {
            group.addTask { try await connect("\(label)fremd\(index)") }
        }
        var all: [TestUser] = []
        for try await user in group { all.append(user) }
        return all
    }
    let customer = try await connect("\(label)kunde")
    try await waitForEmptyQueue()
    let pagesBefore = pages.withLock { $0.count }

    let allSaidHi = DispatchSemaphore(value: 0)
    let strangerTasks = strangers.map { stranger in
        Task {
            try await stranger.run { client -> Double in
                let sent = ContinuousClock.now
                client.privmsg("switchboard", "hi")
                allSaidHi.signal()
                let answer = try client.expect("an answer", timeout: .seconds(600)) { $0.nick == "switchboard" }
                return seconds(sent.duration(to: answer.receivedAt))
            }
        }
    }
    try await offload { for _ in 0..<strangerCount { allSaidHi.wait() } }
    let start = ContinuousClock.now
    let confirmed = try await customer.run { try contractCustomer($0, first: customerFirst) }
    var page: TestLine?
    for _ in 0..<6000 {
        page = pages.withLock { $0.count > pagesBefore ? $0[pagesBefore] : nil }
        if page != nil { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    var strangerTimes: [Double] = []
    for task in strangerTasks { strangerTimes.append(try await task.value) }
    for user in strangers + [customer] { try await user.run { $0.close() } }
    guard let page else { throw BenchFailure.noPage(label) }
    return Round(page: seconds(start.duration(to: page.receivedAt)),
                 confirmation: seconds(start.duration(to: confirmed)), strangers: strangerTimes.sorted())
}

enum BenchFailure: Error { case noPage(String) }

let oneMessage = try await round("a", customerFirst:
    "Hello, customer number 20001, PIN 4711. Our warehouse scanners lost the VPN tunnel this morning, "
        + "nothing gets booked. Severity 1.", strangerCount: strangerCount)
try await waitForEmptyQueue()
let stepByStep = try await round("b", customerFirst: "Hello", strangerCount: strangerCount)

func strangersLine(_ times: [Double]) -> String {
    guard let first = times.first, let last = times.last else { return "-" }
    return "first \(format(first)) s, median \(format(times[times.count / 2])) s, last \(format(last)) s; "
        + "all: " + times.map(format).joined(separator: " ")
}

print("""

    \(strangerCount) strangers say "hi" right before a contract customer (one run):
      (a) one message (number, PIN, problem): page read by the agent after \(format(oneMessage.page)) s \
    (target ≤ 15 s); ticket confirmed to the customer after \(format(oneMessage.confirmation)) s
      (b) step by step:                        page read by the agent after \(format(stepByStep.page)) s \
    (target ≤ 60 s; 84 s before the lanes); ticket confirmed after \(format(stepByStep.confirmation)) s
      (c) strangers' first answer, round a: \(strangersLine(oneMessage.strangers))
          strangers' first answer, round b: \(strangersLine(stepByStep.strangers))
    """)

stopGateway.yield(.terminate(SIGTERM))
stopGateway.finish()
_ = try? await gatewayTask.value
await server.stop()
try? FileManager.default.removeItem(atPath: directory)
exit(oneMessage.page <= 15 && stepByStep.page <= 60 ? 0 : 1)
