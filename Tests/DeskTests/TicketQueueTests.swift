import Core
@testable import Desk
import Foundation
import Testing

@Suite struct TicketQueueTests {
    let base = at("2026-03-02 09:00")

    func entry(_ number: Int64, _ group: CustomerGroup, _ severity: Severity, minutes: Double) -> QueueEntry {
        QueueEntry(number: TicketNumber(number), priority: Priority(group: group, severity: severity),
                   createdAt: base.addingTimeInterval(minutes * 60))
    }

    @Test func contractTicketsComeFirstThenSeverityThenAgeThenNumber() {
        let queue = TicketQueue(entries: [
            entry(1, .noContract, .critical, minutes: 0),   // P5, oldest of all
            entry(2, .contract, .question, minutes: 50),    // P4, newest
            entry(3, .contract, .major, minutes: 30),       // P2
            entry(4, .contract, .major, minutes: 10),       // P2, older
            entry(6, .contract, .major, minutes: 10),       // P2, same age, higher number
            entry(5, .contract, .major, minutes: 10),
            entry(7, .noContract, .question, minutes: 1),   // P8
        ])
        #expect(queue.top(10).map(\.number.rawValue) == [4, 5, 6, 3, 2, 1, 7])
        #expect(queue.top(10).map(\.priority.label) == ["P2", "P2", "P2", "P2", "P4", "P5", "P8"])
        // Strict: a non-contract P5 that has waited longest still waits behind a fresh P4.
        #expect(queue.next()?.number == TicketNumber(4))
        #expect(queue.position(of: TicketNumber(1)) == 6)
        #expect(queue.position(of: TicketNumber(7)) == 7)
        #expect(queue.position(of: TicketNumber(99)) == nil)
        #expect(queue.top(2).count == 2 && queue.top(0).isEmpty)
    }

    @Test func severityChangesMoveATicket() {
        var queue = TicketQueue(entries: [entry(1, .contract, .minor, minutes: 0), entry(2, .contract, .major, minutes: 5)])
        #expect(queue.next()?.number == TicketNumber(2))
        let moved = queue.updateSeverity(of: TicketNumber(1), to: .critical)
        #expect(moved)
        #expect(queue.next()?.number == TicketNumber(1))
        #expect(queue.entry(TicketNumber(1))?.priority.label == "P1")
        let notWaiting = queue.updateSeverity(of: TicketNumber(3), to: .critical)
        #expect(!notWaiting)
        let taken = queue.popNext()
        #expect(taken?.number == TicketNumber(1))
        #expect(queue.position(of: TicketNumber(2)) == 1)
        let first = queue.remove(TicketNumber(2)), second = queue.remove(TicketNumber(2))
        #expect(first != nil && second == nil)
        let none = queue.popNext()
        #expect(queue.isEmpty && queue.next() == nil && none == nil)
    }

    @Test func onlyOpenUnassignedTicketsWaitAndSyncFollowsTheLifecycle() throws {
        let t0 = base
        var tickets = [
            makeTicket(1, created: t0),
            makeTicket(2, created: t0, state: .inProgress, assignee: "ben"),
            makeTicket(3, created: t0, state: .resolved, assignee: "ben"),
            makeTicket(4, created: t0, group: .noContract, severity: .critical),
            makeTicket(5, created: t0, state: .acknowledged),
        ]
        var queue = TicketQueue(tickets: tickets)
        #expect(queue.top(10).map(\.number.rawValue) == [1, 5, 4])
        var events: [TicketEvent]
        (tickets[0], events) = try TicketLifecycle.apply(.take, to: tickets[0], by: .agent("anna"), at: t0)
        #expect(!events.isEmpty)
        queue.sync(with: tickets[0])
        #expect(queue.top(10).map(\.number.rawValue) == [5, 4])
        (tickets[3], _) = try TicketLifecycle.apply(.changeSeverity(.question, reason: "a question"), to: tickets[3],
                                                    by: .agent("anna"), at: t0)
        queue.sync(with: tickets[3])
        #expect(queue.entry(TicketNumber(4))?.priority.label == "P8")
        #expect(queue.count == 2)
    }

    /// The reference: a plainly sorted array (binary search, then insert).
    struct Reference {
        struct Item: Comparable {
            var rank: Int, created: Date, number: Int64
            static func < (a: Item, b: Item) -> Bool { (a.rank, a.created, a.number) < (b.rank, b.created, b.number) }
        }
        var items: [Item] = []
        var byNumber: [Int64: Item] = [:]
        /// Live numbers, for picking one at random in O(1).
        var live: [Int64] = []
        var liveIndex: [Int64: Int] = [:]

        func lowerBound(_ item: Item) -> Int {
            var low = 0, high = items.count
            while low < high {
                let mid = (low + high) / 2
                if items[mid] < item { low = mid + 1 } else { high = mid }
            }
            return low
        }

        mutating func insert(_ entry: QueueEntry) {
            remove(entry.number.rawValue)
            let item = Item(rank: entry.priority.rank, created: entry.createdAt, number: entry.number.rawValue)
            items.insert(item, at: lowerBound(item))
            byNumber[item.number] = item
            liveIndex[item.number] = live.count
            live.append(item.number)
        }

        mutating func remove(_ number: Int64) {
            guard let item = byNumber.removeValue(forKey: number) else { return }
            items.remove(at: lowerBound(item))
            let index = liveIndex.removeValue(forKey: number)!
            let last = live.removeLast()
            if index < live.count {
                live[index] = last
                liveIndex[last] = index
            }
        }

        func position(_ number: Int64) -> Int? { byNumber[number].map { lowerBound($0) + 1 } }
    }

    /// Thousands of random inserts (random group, severity, age), removes,
    /// severity changes and takes, growing past several block splits and
    /// shrinking through merges: the queue always hands out the maximum,
    /// every position equals the rank in a sorted reference, and `top(n)`
    /// equals the reference's prefix.
    @Test(arguments: [1 as UInt64, 42, 2026])
    func behavesLikeASortedListUnderRandomOperations(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        var queue = TicketQueue()
        var reference = Reference()
        var nextNumber: Int64 = 1
        var largest = 0
        let operations = 14_000
        for step in 0..<operations {
            let growing = step < operations * 55 / 100
            let roll = Int.random(in: 0..<100, using: &rng)
            let live = reference.live
            if live.isEmpty || roll < (growing ? 65 : 15) {
                // Insert: ages collide on purpose (a coarse clock) to exercise the tie by number.
                let group: CustomerGroup = Bool.random(using: &rng) ? .contract : .noContract
                let severity = Severity.allCases.randomElement(using: &rng)!
                let created = base.addingTimeInterval(Double(Int.random(in: 0..<2_000, using: &rng)) * 60)
                let number = nextNumber
                nextNumber += 1
                let entry = QueueEntry(number: TicketNumber(number), priority: Priority(group: group, severity: severity),
                                       createdAt: created)
                queue.insert(entry)
                reference.insert(entry)
            } else if roll < (growing ? 78 : 60) {  // remove
                let number = live.randomElement(using: &rng)!
                let removed = queue.remove(TicketNumber(number))
                #expect(removed?.number.rawValue == number)
                reference.remove(number)
            } else if roll < (growing ? 90 : 75) {  // severity change
                let number = live.randomElement(using: &rng)!
                let severity = Severity.allCases.randomElement(using: &rng)!
                let moved = queue.updateSeverity(of: TicketNumber(number), to: severity)
                #expect(moved)
                var entry = try #require(queue.entry(TicketNumber(number)))
                entry.priority = Priority(group: entry.priority.group, severity: severity)
                reference.insert(entry)
            } else {
                // An agent takes the next ticket.
                let taken = queue.popNext()
                #expect(taken?.number.rawValue == reference.items.first?.number)
                reference.remove(taken!.number.rawValue)
            }

            largest = max(largest, queue.count)
            #expect(queue.count == reference.items.count)
            #expect(queue.next()?.number.rawValue == reference.items.first?.number)
            if let probe = reference.live.randomElement(using: &rng) {
                let position = queue.position(of: TicketNumber(probe))
                #expect(position == reference.position(probe), "seed \(seed) step \(step): position of #\(probe)")
                if position != reference.position(probe) { return }
            }
            if step % 97 == 0 {
                let n = Int.random(in: 0...40, using: &rng)
                #expect(queue.top(n).map(\.number.rawValue) == reference.items.prefix(n).map(\.number))
            }
            if step % 1_000 == 0 || step == operations - 1 {
                #expect(queue.checkInvariants() == nil, "seed \(seed) step \(step)")
                for (index, item) in reference.items.enumerated() {
                    #expect(queue.position(of: TicketNumber(item.number)) == index + 1)
                }
                #expect(queue.top(reference.items.count).map(\.number.rawValue) == reference.items.map(\.number))
            }
        }
        // It grew through many block splits and shrank through merges to (nearly) nothing.
        #expect(largest > 5 * TicketQueue.maxBlock)
        #expect(queue.count < TicketQueue.minBlock)
    }

    @Test func bulkLoadingMatchesInsertingOneByOne() {
        var rng = SeededRandom(seed: 7)
        let entries = (1...5_000).map { number in
            entry(Int64(number), Bool.random(using: &rng) ? .contract : .noContract,
                  Severity.allCases.randomElement(using: &rng)!, minutes: Double(Int.random(in: 0..<300, using: &rng)))
        }
        let bulk = TicketQueue(entries: entries)
        var single = TicketQueue()
        for entry in entries.reversed() { single.insert(entry) }
        #expect(bulk.checkInvariants() == nil && single.checkInvariants() == nil)
        #expect(bulk.top(5_000) == single.top(5_000))
        for number in stride(from: 1, through: 5_000, by: 37) {
            #expect(bulk.position(of: TicketNumber(Int64(number))) == single.position(of: TicketNumber(Int64(number))))
        }
    }
}
