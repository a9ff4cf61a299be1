import Synchronization

/// Holds test requests (a homeserver still working on them) until
/// ``release()``; from then on every request passes at once.
final class RequestGate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// How many requests are held now.
    var heldCount: Int { state.withLock { $0.waiting.count } }

    /// Waits until the gate is released (returns at once if it was).
    func pass() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let open = state.withLock { s -> Bool in
                if !s.open { s.waiting.append(c) }
                return s.open
            }
            if open { c.resume() }
        }
    }

    /// Lets every held request and every later one through.
    func release() {
        let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for c in waiting { c.resume() }
    }
}
