/// A double-ended queue in a ring buffer: O(1) amortised at both ends, where
/// `Array.removeFirst` is O(n). The send queue and the session use it for
/// every first-in-first-out list, so a long backlog costs the same per line
/// as a short one. Its storage shrinks to a quarter when three quarters of
/// it are unused, so a burst that drained gives its memory back.
struct RingDeque<Element>: Sendable where Element: Sendable {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// Slots allocated (for tests of the shrinking).
    var capacity: Int { storage.count }

    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        if count == storage.count { resize(to: Swift.max(8, storage.count * 2)) }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    mutating func prepend(_ element: Element) {
        if count == storage.count { resize(to: Swift.max(8, storage.count * 2)) }
        head = (head - 1 + storage.count) % storage.count
        storage[head] = element
        count += 1
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        if storage.count > 64, count < storage.count / 4 { resize(to: storage.count / 2) }
        return element
    }

    @discardableResult
    mutating func popLast() -> Element? {
        guard count > 0 else { return nil }
        let index = (head + count - 1) % storage.count
        let element = storage[index]
        storage[index] = nil
        count -= 1
        return element
    }

    mutating func removeAll() {
        storage = []
        head = 0
        count = 0
    }

    /// Keeps the elements for which `keep` is true, in order (O(n)).
    mutating func filter(_ keep: (Element) -> Bool) {
        var kept = RingDeque()
        for element in self where keep(element) { kept.append(element) }
        self = kept
    }

    private mutating func resize(to size: Int) {
        var new = [Element?](repeating: nil, count: size)
        for i in 0..<count { new[i] = storage[(head + i) % storage.count] }
        storage = new
        head = 0
    }
}

extension RingDeque: Sequence {
    struct Iterator: IteratorProtocol {
        let deque: RingDeque
        var offset = 0
        mutating func next() -> Element? {
            guard offset < deque.count else { return nil }
            defer { offset += 1 }
            return deque.storage[(deque.head + offset) % deque.storage.count]
        }
    }

    func makeIterator() -> Iterator { Iterator(deque: self) }
}
