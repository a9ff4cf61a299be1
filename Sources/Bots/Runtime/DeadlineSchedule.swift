import Foundation

/// Deadlines by key, with the earliest one at hand: what the bots' timer
/// loop sleeps until (escalation steps, SLA marks, message offers, idle
/// conversations, page retries).
///
/// A binary min-heap of (date, generation, key) with lazy deletion: setting
/// a key again or removing it bumps its generation, and stale heap entries
/// are skipped when they surface. `set`, `remove` and `popDue` are
/// O(log n) amortised; `earliest` is O(1) after stale entries are dropped.
struct DeadlineSchedule<Key: Hashable> {
    private struct Entry {
        var date: Date
        var generation: UInt64
        var key: Key
    }

    private var heap: [Entry] = []
    private var current: [Key: (date: Date, generation: UInt64)] = [:]
    private var generation: UInt64 = 0

    /// How many keys have a deadline.
    var count: Int { current.count }

    /// The deadline of `key`, if it has one.
    func deadline(of key: Key) -> Date? { current[key]?.date }

    /// Sets (or moves) the deadline of `key`.
    mutating func set(_ key: Key, at date: Date) {
        if current[key]?.date == date { return }
        generation &+= 1
        current[key] = (date, generation)
        push(Entry(date: date, generation: generation, key: key))
    }

    /// Sets the deadline of `key` unless it already has an earlier one.
    mutating func setIfEarlier(_ key: Key, at date: Date) {
        if let existing = current[key]?.date, existing <= date { return }
        set(key, at: date)
    }

    /// Removes the deadline of `key`.
    mutating func remove(_ key: Key) {
        current.removeValue(forKey: key)
        // A dictionary keeps its storage when emptied: after a flood of
        // conversations expired, give the memory back.
        if current.capacity > 1024, current.count * 8 < current.capacity {
            current = Dictionary(uniqueKeysWithValues: current.map { ($0.key, $0.value) })
            compact()
        }
    }

    /// The earliest deadline.
    mutating func earliest() -> Date? {
        dropStale()
        return heap.first?.date
    }

    /// Removes and returns the keys whose deadline is at or before `now`,
    /// earliest first.
    mutating func popDue(_ now: Date) -> [Key] {
        popDueWithDates(now).map(\.key)
    }

    /// ``popDue(_:)`` with each key's deadline, so the due keys of two
    /// schedules can be taken in one time order.
    mutating func popDueWithDates(_ now: Date) -> [(key: Key, at: Date)] {
        var due: [(key: Key, at: Date)] = []
        while true {
            dropStale()
            guard let top = heap.first, top.date <= now else { break }
            popTop()
            current.removeValue(forKey: top.key)
            due.append((top.key, top.date))
        }
        return due
    }

    private mutating func dropStale() {
        while let top = heap.first {
            if let live = current[top.key], live.generation == top.generation { return }
            popTop()
        }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        // Keep the heap from growing without bound under many re-sets.
        if heap.count > 64, heap.count > current.count * 4 { compact() }
    }

    private mutating func popTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, Self.less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.less(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func compact() {
        let live = current.map { Entry(date: $0.value.date, generation: $0.value.generation, key: $0.key) }
        heap = live.sorted { Self.less($0, $1) }  // a sorted array is a valid heap
    }

    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.date != b.date ? a.date < b.date : a.generation < b.generation
    }
}
