// Send queue benchmark: `swift run -c release SendQueueBench [operations]`.
//
// 1. Cost per operation with 1,000, 25,000 and 250,000 texts queued: one
//    "conversation step" is what the client does per line — queue a text
//    (every fifth with a replace key, every third with an expiry), take the
//    next line, confirm it written, ask for the next deadline, expire, take
//    the reports. The queue keeps its size while measured. The cost should
//    be flat in the queue's size (issue 15: it grew about 5× at 25,000).
// 2. The scenario on a manual clock with the standard preset (5
//    lines at once, then one every 2 s): 20 strangers each get a two-line
//    answer, then a contract customer's conversation (4 prompts, each sent
//    when the customer answered the previous one 3 s after reading it),
//    ending with the ticket confirmation and the page to the on-duty agent.
//    Printed: when the confirmation and the page went out, with the
//    customer's lines in the priority lane, in the normal lane (round-robin
//    only), and in one first-in-first-out lane as before the rework.
import Core
import Foundation
import IRC
import IRCClient

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of this process in nanoseconds: on a machine shared with other
/// jobs, wall time measures the neighbours as much as the queue.
func cpuNanoseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec)
}

let operations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20_000 : 20_000
let start = Date(timeIntervalSince1970: 1_800_000_000)

/// One serialised line per text line (what the session's splitter does, without the cost of splitting).
func format(_ item: SendQueue.Item) -> Result<[[UInt8]], SendFailure> {
    .success(item.text.split(separator: "\n").map { Array("PRIVMSG \(item.target) :\($0)\r\n".utf8) })
}

func item(_ i: Int, now: Date) -> SendQueue.Item {
    let recipient = "customer\(i % 997)"
    return SendQueue.Item(id: Int64(i), target: recipient, recipientKey: recipient, text: "answer number \(i)",
                          priority: SendPriority.allCases[i % 4], replaceKey: i % 5 == 0 ? "question" : nil,
                          expiresAt: i % 3 == 0 ? now.addingTimeInterval(3600 + Double(i % 100)) : nil,
                          enqueuedAt: now)
}

// MARK: 1. Cost per operation

print("SendQueue: cost per conversation step (enqueue + next + written + nextDeadline + expire + reports)")
print("CPU time of the process (not wall time), \(operations) steps per round, 5 rounds per size")
print("queued texts | ns/step (min of 5) | ns/step (median) | queued after")
let unthrottled = IRCClientConfiguration.SendQueueSettings(burst: 1_000_000_000, interval: .nanoseconds(1))
for size in [1_000, 25_000, 250_000] {
    var queue = SendQueue(settings: unthrottled, now: start)
    var next = 0
    // Fill with texts that differ in lane, recipient, key and expiry; replace keys drop some.
    while queue.textCount < size {
        queue.enqueue(item(next, now: start))
        next += 1
    }
    _ = queue.takeReports()
    var timings: [Double] = []
    for _ in 0..<5 {
        let began = cpuNanoseconds()
        for _ in 0..<operations {
            let now = start.addingTimeInterval(Double(next) * 1e-3)
            queue.enqueue(item(next, now: now))
            next += 1
            if queue.next(now: now, sendTexts: true, sendControl: true, format: format) != nil {
                queue.written(now: now)
            }
            _ = queue.nextDeadline(now: now, sendTexts: true, sendControl: true)
            queue.expire(now: now)
            _ = queue.takeReports()
        }
        timings.append(cpuNanoseconds() - began)
        // Top up what replace keys dropped, so every round sees the same size.
        while queue.textCount < size {
            queue.enqueue(item(next, now: start.addingTimeInterval(Double(next) * 1e-3)))
            next += 1
        }
        _ = queue.takeReports()
    }
    timings.sort()
    let perStep = timings.map { $0 / Double(operations) }
    print(String(format: "%12d | %18.0f | %16.0f | %d", size, perStep[0], perStep[2], queue.textCount))
}

// MARK: 2. The scenario on a manual clock

enum Placement: CaseIterable {
    case priorityLane, normalLane, fifo

    var label: String {
        switch self {
        case .priorityLane: "customer in the priority lane (new)"
        case .normalLane: "customer in the normal lane, round-robin (new)"
        case .fifo: "one FIFO lane (before issue 15)"
        }
    }
}

struct Outcome {
    var firstPrompt: Double = .nan
    var confirmation: Double = .nan
    var page: Double = .nan
    var lastStranger: Double = .nan
}

func simulate(_ placement: Placement) -> Outcome {
    let clock = ManualClock(start: start)
    var queue = SendQueue(settings: .standard, now: clock.date)
    var outcome = Outcome()
    func elapsed() -> Double { clock.date.timeIntervalSince(start) }
    func enqueue(_ id: Int64, _ target: String, _ text: String, _ priority: SendPriority) {
        // Before the rework every conversation text shared one first-in-first-out lane.
        let fifo = placement == .fifo && priority != .urgent
        queue.enqueue(SendQueue.Item(id: id, target: target, recipientKey: fifo ? "*" : target, text: text,
                                     priority: fifo ? .normal : priority, expiresAt: nil, enqueuedAt: clock.date))
    }
    let customerLane: SendPriority = placement == .priorityLane ? .priority : .normal
    for i in 1...20 { enqueue(Int64(i), "stranger\(i)", "Hello! I am the support bot.\nHow can I help?", .normal) }
    let prompts = ["Your customer number?", "Your contract PIN?", "What is the problem?", "Severity 1-4?"]
    var promptIndex = 0
    // The customer writes 0.1 s after the strangers.
    var customerAnswersAt: Date? = clock.date.addingTimeInterval(0.1)
    let replyDelay = 3.0
    var strangersServed = 0
    while outcome.page.isNaN || outcome.confirmation.isNaN || outcome.lastStranger.isNaN {
        if let at = customerAnswersAt, clock.date >= at {
            customerAnswersAt = nil
            if promptIndex < prompts.count {
                enqueue(100 + Int64(promptIndex), "premium", prompts[promptIndex], customerLane)
            } else {
                enqueue(200, "premium", "Ticket #7 (P1) is open; the on-duty agent has been paged.", customerLane)
                enqueue(300, "anna", "PAGE #7 P1 premium: VPN down", .urgent)
            }
            promptIndex += 1
        }
        while queue.next(now: clock.date, sendTexts: true, sendControl: true, format: format) != nil {
            queue.written(now: clock.date)
        }
        for report in queue.takeReports() {
            guard case .delivered(let id, _) = report else { continue }
            switch id {
            case 1...20:
                strangersServed += 1
                if strangersServed == 20 { outcome.lastStranger = elapsed() }
            case 100: outcome.firstPrompt = elapsed()
            case 101...199: break
            case 200: outcome.confirmation = elapsed()
            case 300: outcome.page = elapsed()
            default: break
            }
            if (100..<100 + Int64(prompts.count)).contains(id) {
                customerAnswersAt = clock.date.addingTimeInterval(replyDelay)
            }
        }
        var wake = queue.nextDeadline(now: clock.date, sendTexts: true, sendControl: true)
        if let at = customerAnswersAt { wake = wake.map { min($0, at) } ?? at }
        guard let wake else { break }
        clock.advance(to: WallInstant(max(wake, clock.date)))
    }
    return outcome
}

print("")
print("Issue 15 scenario, standard preset (5 lines, then 1 per 2 s): 20 strangers × 2 lines, then a contract")
print("customer (4 prompts, answering 3 s after each), then confirmation + page. Seconds after the flood began:")
print("placement                                         | 1st prompt | confirmation | page   | strangers done")
for placement in Placement.allCases {
    let o = simulate(placement)
    print(placement.label.padding(toLength: 49, withPad: " ", startingAt: 0)
        + String(format: " | %10.1f | %12.1f | %6.1f | %6.1f", o.firstPrompt, o.confirmation, o.page, o.lastStranger))
}
