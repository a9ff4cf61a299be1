// DeskBench: the ticket queue at 10^4, 10^5 and 10^6 waiting tickets.
//
//     swift run -c release DeskBench            # all sizes
//     swift run -c release DeskBench 100000     # one size
//
// For each size it fills a queue one insert at a time (random contract
// group, severity and age: the worst case for the order, not arrival order),
// then measures, with the queue under churn (before every sample one ticket
// is removed and a new one inserted, untimed), the latency of single calls:
// `next()`, `position(of:)` for a random waiting ticket, and `insert`.
// Latencies are per call (monotonic clock around each call; the clock's own
// cost, about 20–40 ns, is included). Prints a table.
import Core
import Desk
import Dispatch
import Foundation

let start = Date(timeIntervalSince1970: 1_772_442_000)

func randomEntry(_ number: Int64, _ rng: inout SeededRandom) -> QueueEntry {
    QueueEntry(number: TicketNumber(number),
               priority: Priority(group: Bool.random(using: &rng) ? .contract : .noContract,
                                  severity: Severity.allCases.randomElement(using: &rng)!),
               createdAt: start.addingTimeInterval(Double(Int.random(in: 0..<(30 * 86_400), using: &rng))))
}

@inline(__always) func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

struct Stats {
    var samples: [UInt64]
    func percentile(_ p: Double) -> UInt64 {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
    var max: UInt64 { samples.max() ?? 0 }
}

func format(_ ns: UInt64) -> String {
    ns < 10_000 ? "\(ns) ns" : String(format: "%.1f µs", Double(ns) / 1000)
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let runSizes = sizes.isEmpty ? [10_000, 100_000, 1_000_000] : sizes
let samples = 200_000

print("DeskBench — TicketQueue (sorted blocks + Fenwick tree), \(samples) samples per operation under churn")
print([pad("tickets", 9), pad("fill (ins/s)", 13),
       pad("next p50", 10), pad("p99", 9), pad("max", 9),
       pad("position p50", 13), pad("p99", 9), pad("max", 9),
       pad("insert p50", 11), pad("p99", 9), pad("max", 9)].joined(separator: " "))
var checksum = 0
for size in runSizes {
    var rng = SeededRandom(seed: UInt64(size))
    var queue = TicketQueue()
    var live: [Int64] = []
    live.reserveCapacity(size)
    let fillStart = now()
    for number in 1...Int64(size) {
        queue.insert(randomEntry(number, &rng))
        live.append(number)
    }
    let fillSeconds = Double(now() - fillStart) / 1e9
    var nextNumber = Int64(size) + 1
    var nextTimes: [UInt64] = [], positionTimes: [UInt64] = [], insertTimes: [UInt64] = []
    nextTimes.reserveCapacity(samples)
    positionTimes.reserveCapacity(samples)
    insertTimes.reserveCapacity(samples)
    for _ in 0..<samples {
        // Churn: one ticket leaves, one arrives (the arrival is timed).
        let slot = Int.random(in: 0..<live.count, using: &rng)
        queue.remove(TicketNumber(live[slot]))
        let entry = randomEntry(nextNumber, &rng)
        live[slot] = nextNumber
        nextNumber += 1
        var t = now()
        queue.insert(entry)
        insertTimes.append(now() - t)

        t = now()
        let next = queue.next()
        nextTimes.append(now() - t)
        checksum &+= Int(next?.number.rawValue ?? 0)

        let probe = TicketNumber(live[Int.random(in: 0..<live.count, using: &rng)])
        t = now()
        let position = queue.position(of: probe)
        positionTimes.append(now() - t)
        checksum &+= position ?? 0
    }
    let n = Stats(samples: nextTimes), p = Stats(samples: positionTimes), i = Stats(samples: insertTimes)
    print([pad("\(size)", 9), pad(String(format: "%.0f", Double(size) / fillSeconds), 13),
           pad(format(n.percentile(0.5)), 10), pad(format(n.percentile(0.99)), 9), pad(format(n.max), 9),
           pad(format(p.percentile(0.5)), 13), pad(format(p.percentile(0.99)), 9), pad(format(p.max), 9),
           pad(format(i.percentile(0.5)), 11), pad(format(i.percentile(0.99)), 9), pad(format(i.max), 9)]
        .joined(separator: " "))
}
print("(checksum \(checksum))")

// A business-hours ticket's escalation deadlines (issue 12: on every
// contract ticket's page path): the three steps' due times after 0, 5 and
// 15 minutes of open time, whether the desk is open, and its next opening,
// on Mon–Fri 08:00–18:00 in Berlin. "Fresh" makes a new calendar for each
// ticket (each answer worked out by Foundation, as before the calendar
// remembered them); "kept" asks one calendar, as the desk does.
let hours = Dictionary(uniqueKeysWithValues: [Weekday.monday, .tuesday, .wednesday, .thursday, .friday].map {
    ($0, [TimeRange(start: LocalTime(text: "08:00")!, end: LocalTime(text: "18:00")!)!])
})
func deadlines(_ calendar: BusinessCalendar, _ createdAt: Date) -> Int {
    var sum = 0
    for after in [0.0, 300, 900] { sum &+= Int(calendar.instant(afterOpenTime: after, from: createdAt)?.timeIntervalSince1970 ?? 0) }
    if calendar.isOpen(at: createdAt) { sum &+= 1 }
    sum &+= Int(calendar.nextOpening(atOrAfter: createdAt)?.timeIntervalSince1970 ?? 0)
    return sum
}
let kept = BusinessCalendar(zone: .berlin, hours: hours)
var calendarSum = 0
for (label, fresh) in [("fresh calendar per ticket", true), ("one calendar kept", false), ("fresh calendar per ticket", true),
                       ("one calendar kept", false)] {
    var times: [UInt64] = []
    for index in 0..<2_000 {
        // Tickets over a working week, one every ~3 minutes of wall clock.
        let createdAt = start.addingTimeInterval(Double(index) * 181)
        let calendar = fresh ? BusinessCalendar(zone: ZonedCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!),
                                                hours: hours) : kept
        let t = now()
        calendarSum &+= deadlines(calendar, createdAt)
        times.append(now() - t)
    }
    let stats = Stats(samples: times)
    print("business-hours deadlines of one ticket, \(label): median \(format(stats.percentile(0.5))), p99 \(format(stats.percentile(0.99)))")
}
print("(checksum \(calendarSum))")
