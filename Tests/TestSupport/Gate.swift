import Synchronization

/// A one-way gate between a test and the code it drives (a fake server's
/// handler, a held request): ``wait()`` suspends until ``open()``; from then
/// on every wait returns at once.
public final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    /// How many waits are suspended now.
    public var heldCount: Int { state.withLock { $0.waiting.count } }

    /// Waits until the gate is opened (returns at once if it was).
    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let open = state.withLock { s -> Bool in
                if !s.open { s.waiting.append(c) }
                return s.open
            }
            if open { c.resume() }
        }
    }

    /// Lets every suspended wait and every later one through.
    public func open() {
        let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for c in waiting { c.resume() }
    }
}
