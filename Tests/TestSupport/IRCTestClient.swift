import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A line an end-to-end test client received, split the plain way (tags,
/// source, command, params). Deliberately independent of the `IRC` target, so
/// the end-to-end tests do not check our parser with itself.
public struct TestLine: Sendable, CustomStringConvertible {
    public let raw: String
    public let tags: [String: String]
    public let source: String
    public let command: String
    public let params: [String]
    /// When the line was read off the socket.
    public let receivedAt: ContinuousClock.Instant

    init(_ line: String, receivedAt: ContinuousClock.Instant) {
        raw = line
        self.receivedAt = receivedAt
        var rest = Substring(line)
        var tags: [String: String] = [:]
        if rest.hasPrefix("@"), let space = rest.firstIndex(of: " ") {
            for item in rest[rest.index(after: rest.startIndex)..<space].split(separator: ";") {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                tags[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
            rest = rest[rest.index(after: space)...].drop(while: { $0 == " " })
        }
        var source = ""
        if rest.hasPrefix(":"), let space = rest.firstIndex(of: " ") {
            source = String(rest[rest.index(after: rest.startIndex)..<space])
            rest = rest[rest.index(after: space)...].drop(while: { $0 == " " })
        }
        var trailing: Substring?
        if let range = rest.range(of: " :") {
            trailing = rest[range.upperBound...]
            rest = rest[..<range.lowerBound]
        }
        let parts = rest.split(separator: " ")
        command = parts.first.map { $0.uppercased() } ?? ""
        params = parts.dropFirst().map(String.init) + (trailing.map { [String($0)] } ?? [])
        self.tags = tags
        self.source = source
    }

    /// The nick part of the source.
    public var nick: String { String(source.prefix { $0 != "!" }) }
    /// The last parameter (the text of a PRIVMSG/NOTICE).
    public var text: String { params.last ?? "" }
    public var description: String { raw }
}

/// An error from a test client, with the lines it saw last.
public struct IRCTestClientError: Error, CustomStringConvertible {
    public let description: String
}

/// A scripted IRC user for end-to-end tests: lines in, lines out, with a
/// deadline on every wait.
///
/// A thread of its own reads the socket: it answers PING, stamps each line
/// with the moment it arrived (`receivedAt`, so a latency a test measures is
/// the network's, not how late the test looked), and wakes the waits. The
/// waits (`expect`, `join`, `drain`, connecting) are `async` and suspend
/// without holding a thread: the whole suite shares Swift's cooperative pool
/// (two threads on two cores), and a blocking read there once kept every
/// other test (and the runner itself) waiting for ~50 s at the start of a
/// run, long enough for real-time deadlines elsewhere to expire.
///
/// One user per client: its calls are made one after another (a test may
/// still hand the client to another task, as long as only one waits at a time).
public final class IRCTestClient: Sendable {
    public let nick: String
    private let fd: Int32
    private let shared = Shared()
    private let readerDone = DispatchSemaphore(value: 0)

    private struct State {
        /// Every line received, PINGs too (for failure messages).
        var seen: [TestLine] = []
        /// Lines no `expect` has returned yet, in arrival order, with their arrival number.
        var unconsumed: [(number: Int, line: TestLine)] = []
        /// Lines (without PINGs) received so far.
        var arrived = 0
        /// How many of them the test has looked at: an `expect` looks up to
        /// the line it returns (all of them when it times out), a `drain`
        /// at everything; a `drain` returns the lines after this mark.
        var looked = 0
        /// Why no more lines will come (the server closed, an error).
        var ended: String?
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    /// A wait for the next line: a suspended task, or a blocked thread
    /// (the blocking waits, for code on a thread of its own).
    private enum Waiter {
        case task(CheckedContinuation<Void, Never>)
        case thread(DispatchSemaphore)

        func wake() {
            switch self {
            case .task(let continuation): continuation.resume()
            case .thread(let semaphore): semaphore.signal()
            }
        }
    }

    /// What one look at the received lines found.
    private enum Look {
        case found(TestLine)
        case failed(IRCTestClientError)
        /// Nothing yet: wait for a line after the first `arrived`.
        case wait(arrived: Int)
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
        /// Whether the connection was closed; held while a line is written,
        /// so the reader's PONG never lands inside a test's line.
        let writing = Mutex(false)

        /// Writes `line` and CRLF whole (nothing once closed).
        func write(_ fd: Int32, _ line: String) {
            let bytes = Array((line + "\r\n").utf8)
            writing.withLock { closed in
                guard !closed else { return }
                var offset = 0
                while offset < bytes.count {
                    let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }

        /// Registers `waiter` unless a line after the first `count` has
        /// arrived or the input ended (then it is woken at once).
        private func register(_ id: UInt64, _ waiter: Waiter, after count: Int, cancelled: Bool = false) {
            let now = state.withLock { state -> Bool in
                if state.arrived > count || state.ended != nil || cancelled { return true }
                state.waiters[id] = waiter
                return false
            }
            if now { waiter.wake() }
        }

        private func newWaiterID() -> UInt64 {
            state.withLock { state in
                state.nextWaiter += 1
                return state.nextWaiter
            }
        }

        /// Suspends until a line arrives after the first `count`, the input
        /// ends, or the task is cancelled.
        func arrival(after count: Int) async {
            let id = newWaiterID()
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    register(id, .task(continuation), after: count, cancelled: Task.isCancelled)
                }
            } onCancel: {
                state.withLock { $0.waiters.removeValue(forKey: id) }?.wake()
            }
        }

        /// Blocks the calling thread until a line arrives after the first
        /// `count`, the input ends, or `deadline` passes.
        func blockingArrival(after count: Int, until deadline: ContinuousClock.Instant) {
            let id = newWaiterID()
            let semaphore = DispatchSemaphore(value: 0)
            register(id, .thread(semaphore), after: count)
            let left = ContinuousClock.now.duration(to: deadline)
            let nanoseconds = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
            _ = semaphore.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
            state.withLock { _ = $0.waiters.removeValue(forKey: id) }
        }

        /// Takes a line (or the end) in and wakes every wait.
        func receive(_ line: TestLine?, ended reason: String? = nil) {
            let waiters = state.withLock { state -> [Waiter] in
                if let line {
                    state.unconsumed.append((state.arrived, line))
                    state.arrived += 1
                } else {
                    state.ended = state.ended ?? reason
                }
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.wake() }
        }
    }

    /// Connects to `host:port` (TCP_NODELAY), optionally requests `caps` and
    /// logs in with SASL PLAIN, registers as `nick`, and waits for the end of
    /// the MOTD (376/422).
    public init(host: String = "127.0.0.1", port: UInt16, nick: String, caps: [String] = [],
                sasl: (account: String, password: String)? = nil, timeout: Duration = .seconds(10)) async throws {
        self.nick = nick
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw IRCTestClientError(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IRCTestClientError(description: "socket: \(String(cString: strerror(errno)))") }
        // A loopback connect completes in the kernel at once (or is refused).
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let text = String(cString: strerror(errno))
            Glibc.close(fd)
            throw IRCTestClientError(description: "connect to \(host):\(port): \(text)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        startReader()

        let deadline = ContinuousClock.now.advanced(by: timeout)
        var wanted = caps
        if sasl != nil, !wanted.contains("sasl") { wanted.append("sasl") }
        if !wanted.isEmpty {
            send("CAP LS 302")
            send("CAP REQ :\(wanted.joined(separator: " "))")
            let reply = try await expect(until: deadline, "CAP ACK/NAK") {
                $0.command == "CAP" && $0.params.count >= 3 && ["ACK", "NAK"].contains($0.params[1])
            }
            guard reply.params[1] == "ACK" else {
                throw IRCTestClientError(description: "\(nick): CAP REQ \(wanted) refused: \(reply.raw)")
            }
            if let sasl {
                send("AUTHENTICATE PLAIN")
                _ = try await expect(until: deadline, "AUTHENTICATE +") { $0.command == "AUTHENTICATE" }
                let blob = Data("\(sasl.account)\u{0}\(sasl.account)\u{0}\(sasl.password)".utf8).base64EncodedString()
                send("AUTHENTICATE \(blob)")
                let end = try await expect(until: deadline, "SASL result") { ["903", "904", "905", "906"].contains($0.command) }
                guard end.command == "903" else {
                    throw IRCTestClientError(description: "\(nick): SASL failed: \(end.raw)")
                }
            }
            send("CAP END")
        }
        send("NICK \(nick)")
        send("USER \(nick) 0 * :\(nick) (test client)")
        _ = try await expect(until: deadline, "001 welcome") { $0.command == "001" }
        _ = try await expect(until: deadline, "end of MOTD") { $0.command == "376" || $0.command == "422" }
    }

    deinit { close() }

    /// Every line received so far, PINGs included.
    public var seen: [TestLine] { shared.state.withLock { $0.seen } }

    /// Sends one raw line (CRLF added). The line must not contain CR or LF.
    public func send(_ line: String) {
        precondition(!line.contains("\r") && !line.contains("\n"), "a test line must be one line")
        shared.write(fd, line)
    }

    public func privmsg(_ target: String, _ text: String) { send("PRIVMSG \(target) :\(text)") }

    /// Joins `channel` and waits for the end of its NAMES list.
    public func join(_ channel: String, timeout: Duration = .seconds(10)) async throws {
        send("JOIN \(channel)")
        _ = try await expect("end of NAMES for \(channel)", timeout: timeout, where: Self.isEndOfNames(channel))
    }

    /// Waits for the first line (received before or after this call and not
    /// yet returned by an earlier `expect`) for which `predicate` holds.
    public func expect(_ what: String, timeout: Duration = .seconds(10),
                       where predicate: (TestLine) -> Bool) async throws -> TestLine {
        try await expect(until: ContinuousClock.now.advanced(by: timeout), what, predicate)
    }

    /// Waits for a PRIVMSG or NOTICE from `from` whose text contains `text`.
    @discardableResult
    public func expectMessage(from: String, containing text: String, timeout: Duration = .seconds(10)) async throws
        -> TestLine {
        try await expect("message from \(from) containing \"\(text)\"", timeout: timeout,
                         where: Self.isMessage(from: from, containing: text))
    }

    /// The end of `channel`'s NAMES list (366).
    private static func isEndOfNames(_ channel: String) -> (TestLine) -> Bool {
        { $0.command == "366" && $0.params.count > 1 && $0.params[1].lowercased() == channel.lowercased() }
    }

    /// A PRIVMSG or NOTICE from `from` whose text contains `text`.
    private static func isMessage(from: String, containing text: String) -> (TestLine) -> Bool {
        {
            ($0.command == "PRIVMSG" || $0.command == "NOTICE") && $0.nick.lowercased() == from.lowercased()
                && $0.text.contains(text)
        }
    }

    /// Waits `duration` (for asserting that something did NOT happen) and
    /// returns the lines no earlier wait has looked at: those that came
    /// since and those that were waiting; they stay available to later `expect`s.
    public func drain(for duration: Duration) async -> [TestLine] {
        try? await Task.sleep(for: duration)
        return unlooked()
    }

    // MARK: Blocking waits, for code on a thread of its own

    /// ``join(_:timeout:)``, blocking the calling thread (``TestUser/run(_:)``).
    @available(*, noasync, message: "await the async join: a blocked thread of the cooperative pool stalls the suite")
    public func join(_ channel: String, timeout: Duration = .seconds(10)) throws {
        send("JOIN \(channel)")
        _ = try expect("end of NAMES for \(channel)", timeout: timeout, where: Self.isEndOfNames(channel))
    }

    /// ``expect(_:timeout:where:)``, blocking the calling thread (``TestUser/run(_:)``).
    @available(*, noasync, message: "await the async expect: a blocked thread of the cooperative pool stalls the suite")
    public func expect(_ what: String, timeout: Duration = .seconds(10),
                       where predicate: (TestLine) -> Bool) throws -> TestLine {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var checked = 0
        while true {
            switch look(for: predicate, after: checked, what, deadline: deadline) {
            case .found(let line): return line
            case .failed(let error): throw error
            case .wait(let arrived):
                checked = arrived
                shared.blockingArrival(after: arrived, until: deadline)
            }
        }
    }

    /// ``expectMessage(from:containing:timeout:)``, blocking the calling thread (``TestUser/run(_:)``).
    @available(*, noasync, message: "await the async expectMessage: a blocked thread of the cooperative pool stalls the suite")
    @discardableResult
    public func expectMessage(from: String, containing text: String, timeout: Duration = .seconds(10)) throws -> TestLine {
        try expect("message from \(from) containing \"\(text)\"", timeout: timeout,
                   where: Self.isMessage(from: from, containing: text))
    }

    /// Sends QUIT and closes the connection. Idempotent.
    public func close() {
        send("QUIT :test done")
        let first = shared.writing.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        // The reader sees end-of-file at once and ends; then the descriptor
        // can go (never while the reader may still use its number).
        shutdown(fd, Int32(SHUT_RDWR))
        readerDone.wait()
        Glibc.close(fd)
    }

    private func expect(until deadline: ContinuousClock.Instant, _ what: String,
                        _ predicate: (TestLine) -> Bool) async throws -> TestLine {
        var checked = 0
        while true {
            switch look(for: predicate, after: checked, what, deadline: deadline) {
            case .found(let line): return line
            case .failed(let error): throw error
            case .wait(let arrived):
                checked = arrived
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.shared.arrival(after: arrived) }
                    group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// The first line from arrival number `checked` on for which
    /// `predicate` holds (taken), or why there will be none, or how many
    /// lines to wait beyond.
    private func look(for predicate: (TestLine) -> Bool, after checked: Int, _ what: String,
                      deadline: ContinuousClock.Instant) -> Look {
        let (found, arrived, ended) = shared.state.withLock { state -> (TestLine?, Int, String?) in
            if let index = state.unconsumed.firstIndex(where: { $0.number >= checked && predicate($0.line) }) {
                let (number, line) = state.unconsumed.remove(at: index)
                state.looked = max(state.looked, number + 1)
                return (line, state.arrived, nil)
            }
            return (nil, state.arrived, state.ended)
        }
        if let found { return .found(found) }
        if let ended {
            return .failed(IRCTestClientError(description: "\(nick): \(ended) before \(what); last lines:\n\(lastLines)"))
        }
        if ContinuousClock.now >= deadline {
            shared.state.withLock { $0.looked = max($0.looked, arrived) }
            return .failed(IRCTestClientError(description: "\(nick): no \(what) in time; last lines:\n\(lastLines)"))
        }
        return .wait(arrived: arrived)
    }

    /// The lines no wait has looked at yet, marked as looked at.
    private func unlooked() -> [TestLine] {
        shared.state.withLock { state in
            defer { state.looked = state.arrived }
            return state.unconsumed.filter { $0.number >= state.looked }.map(\.line)
        }
    }

    private var lastLines: String {
        shared.state.withLock { $0.seen.suffix(15).map { "    " + $0.raw }.joined(separator: "\n") }
    }

    /// The reader thread: lines off the socket until it ends.
    private func startReader() {
        let thread = Thread { [fd, shared, nick, readerDone] in
            defer { readerDone.signal() }
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    shared.receive(nil, ended: n == 0 ? "the server closed the connection"
                                                     : "recv: \(String(cString: strerror(errno)))")
                    return
                }
                buffer.append(contentsOf: chunk[..<n])
                while let lf = buffer.firstIndex(of: 0x0A) {
                    var lineBytes = buffer[..<lf]
                    if lineBytes.last == 0x0D { lineBytes = lineBytes.dropLast() }
                    let text = String(decoding: lineBytes, as: UTF8.self)
                    buffer.removeSubrange(...lf)
                    if text.isEmpty { continue }
                    let line = TestLine(text, receivedAt: .now)
                    shared.state.withLock { $0.seen.append(line) }
                    if line.command == "PING" {
                        shared.write(fd, "PONG :\(line.text)")
                        continue
                    }
                    shared.receive(line)
                }
            }
        }
        thread.name = "test.irc.\(nick)"
        thread.start()
    }
}
