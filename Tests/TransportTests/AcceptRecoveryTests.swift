import Core
import Glibc
import Synchronization
import Testing
@testable import Transport

/// `Listener.accept` never gives up on resource exhaustion (issue 14): it
/// backs off on the injected clock and accepts once descriptors are free.
/// The failures come from a stand-in for `accept4` that fails a given number
/// of times before calling the real one; `GatewayTests/HTTPRecoveryTests`
/// does the same with a real EMFILE in a child process.
@Suite(.timeLimit(.minutes(1))) struct AcceptRecoveryTests {
    final class Calls: Sendable {
        let count = Mutex(0)
    }

    /// A listener whose accept fails with `errnos` in turn, then works.
    func failingListener(_ errnos: [Int32], clock: ManualClock, logger: Logger = .disabled,
                         reserve: DescriptorReserve? = nil) throws -> (Listener, Calls)
    {
        let real = try Listener.bind(logger: logger, clock: clock)
        let calls = Calls()
        let listener = Listener(real, reserve: reserve) { fd in
            let call = calls.count.withLock { count -> Int in
                count += 1
                return count
            }
            if call <= errnos.count { return (-1, nil, errnos[call - 1]) }
            let (accepted, peer) = SocketCalls.accept(fd)
            return (accepted, peer, accepted >= 0 ? 0 : errno)
        }
        return (listener, calls)
    }

    /// Yields until exactly one sleeper waits on `clock`, for `delay` from now.
    func untilBackingOff(_ clock: ManualClock, for delay: Duration) async -> Bool {
        for _ in 0..<1_000_000 {
            if clock.sleeperCount == 1, clock.nextDeadline == clock.now.advanced(by: delay) { return true }
            await Task.yield()
        }
        return false
    }

    @Test func emfileBacksOffGrowingAndAcceptsOnceDescriptorsAreFree() async throws {
        let clock = ManualClock()
        let sink = MemoryLogSink()
        let (listener, calls) = try failingListener([EMFILE, EMFILE, ENFILE, EMFILE], clock: clock,
                                                     logger: Logger(sink: sink, minimumLevel: .info))
        defer { listener.close() }
        // Connected first, so the very first accept call has a connection.
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        let accepted = Task { try await listener.accept() }

        for delay in [10, 20, 40, 80] {
            #expect(await untilBackingOff(clock, for: .milliseconds(delay)), "backs off \(delay) ms")
            clock.advance(by: .milliseconds(delay))
        }
        let connection = try await accepted.value
        defer { connection.close() }
        #expect(calls.count.withLock { $0 } == 5)
        try await client.write(Array("hello".utf8))
        #expect(try await connection.read() == Array("hello".utf8), "the queued connection is the one accepted")

        let lines = sink.lines
        #expect(lines.filter { $0.contains("accept failed") && $0.contains("errno 24") }.count == 1,
                "EMFILE logged once, not per failure: \(lines)")
        #expect(lines.filter { $0.contains("accept failed") && $0.contains("errno 23") }.count == 1)
        #expect(lines.contains { $0.contains("accepting again") && $0.contains("failures=4") })
    }

    /// Free descriptors as a test sets them.
    final class Free: Sendable {
        let count: Mutex<Int>
        init(_ count: Int) { self.count = Mutex(count) }
    }

    @Test func outOfDescriptorsTheReserveIsFreedAndAcceptWaitsUntilItCanBeTakenBack() async throws {
        let clock = ManualClock()
        let free = Free(4)  // a reserve of 2 is taken back only when more than 4 are free
        let reserve = DescriptorReserve(size: 2) { free.count.withLock { $0 } }
        #expect(reserve.isHeld, "held from the start")
        let sink = MemoryLogSink()
        let (listener, calls) = try failingListener([EMFILE], clock: clock, logger: Logger(sink: sink, minimumLevel: .info),
                                                     reserve: reserve)
        defer { listener.close() }
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        let accepted = Task { try await listener.accept() }

        #expect(await untilBackingOff(clock, for: .milliseconds(10)))
        #expect(!reserve.isHeld, "EMFILE gives the reserve to the rest of the process")
        #expect(sink.lines.contains { $0.contains("errno 24") && $0.contains("reserve_freed=2") }, "\(sink.lines)")
        for delay in [10, 20, 40] {
            if delay > 10 { #expect(await untilBackingOff(clock, for: .milliseconds(delay))) }
            clock.advance(by: .milliseconds(delay))
        }
        #expect(await untilBackingOff(clock, for: .milliseconds(80)))
        #expect(calls.count.withLock { $0 } == 1, "no accept while the reserve cannot be taken back")
        #expect(!reserve.isHeld)

        free.count.withLock { $0 = 5 }
        clock.advance(by: .milliseconds(80))
        let connection = try await accepted.value
        defer { connection.close() }
        #expect(reserve.isHeld, "taken back before accepting")
        #expect(calls.count.withLock { $0 } == 2)
        try await client.write(Array("hello".utf8))
        #expect(try await connection.read() == Array("hello".utf8), "the queued connection waited and is the one accepted")
        #expect(sink.lines.contains { $0.contains("accepting again") && $0.contains("failures=4") }, "\(sink.lines)")
    }

    @Test func theReserveHoldsRealDescriptorsAndTheHeadroomCountsThem() throws {
        let before = try #require(DescriptorReserve.processHeadroom())
        let reserve = DescriptorReserve(size: 50)
        #expect(reserve.isHeld)
        let held = try #require(DescriptorReserve.processHeadroom())
        #expect(reserve.release() == 50)
        #expect(!reserve.isHeld)
        #expect(reserve.release() == 0, "released once")
        let after = try #require(DescriptorReserve.processHeadroom())
        // Tests running beside this one open and close a few descriptors.
        #expect((40...60).contains(before - held), "50 fewer free while held: before \(before), held \(held)")
        #expect((40...60).contains(after - held), "50 more free once released: held \(held), after \(after)")
        #expect(reserve.restore(), "plenty free in the test process")
        #expect(reserve.isHeld)
    }

    @Test func aDroppedQueuedConnectionIsSkippedWithoutWaiting() async throws {
        let clock = ManualClock()
        let (listener, calls) = try failingListener([ECONNABORTED, EPERM, EPROTO], clock: clock)
        defer { listener.close() }
        // Connected first, so the very first accept call has a connection.
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        let accepted = Task { try await listener.accept() }
        let connection = try await accepted.value  // the clock never moved: no back-off
        connection.close()
        #expect(calls.count.withLock { $0 } == 4)
        #expect(clock.sleeperCount == 0)
    }

    @Test func aBrokenListeningSocketIsReportedNotRetried() async throws {
        let clock = ManualClock()
        let (listener, _) = try failingListener([EINVAL], clock: clock)
        defer { listener.close() }
        // Connected first, so the very first accept call has a connection.
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        let accepted = Task { try await listener.accept() }
        let error = await #expect(throws: TransportError.self) { try await accepted.value }
        #expect(error?.errno == EINVAL)
    }

    @Test func closeEndsABackOffAtOnce() async throws {
        let clock = ManualClock()
        let (listener, _) = try failingListener(Array(repeating: EMFILE, count: 100), clock: clock)
        // Connected first, so the very first accept call has a connection.
        let client = try await Connection.connect(host: "127.0.0.1", port: listener.port, logger: .disabled)
        defer { client.close() }
        let accepted = Task { try await listener.accept() }
        #expect(await untilBackingOff(clock, for: .milliseconds(10)))
        listener.close()
        await #expect(throws: TransportError.closed(operation: "accept on \(listener.address)")) {
            try await accepted.value
        }
    }

    @Test func theBackOffDoublesFromTenMillisecondsToOneSecondAndResets() {
        var backoff = AcceptBackoff()
        let delays = (0..<10).map { _ in backoff.next() }
        #expect(delays == [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000].map { Duration.milliseconds($0) })
        backoff.reset()
        #expect(backoff.next() == .milliseconds(10))
    }

    @Test func errnosAreSortedIntoTransientResourceAndFatal() {
        for code in [ECONNABORTED, EPERM, EPROTO, ENETDOWN, EHOSTUNREACH, ENETUNREACH] {
            #expect(AcceptFailure(errno: code) == .transient, "errno \(code)")
        }
        for code in [EMFILE, ENFILE, ENOBUFS, ENOMEM, 9999] {
            #expect(AcceptFailure(errno: code) == .resource, "errno \(code)")
        }
        for code in [EBADF, EINVAL, ENOTSOCK] {
            #expect(AcceptFailure(errno: code) == .fatal, "errno \(code)")
        }
    }
}
