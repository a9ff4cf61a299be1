import Glibc
import TestSupport
import Testing
@testable import Transport

/// `Connection` over a socketpair: the stream behaviour the IRC client relies
/// on, with no network.
@Suite(.timeLimit(.minutes(1))) struct SocketPairTests {
    @Test func aLineSplitAcrossWritesIsReassembled() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        let reader = Task {
            var lines: [String] = []
            for try await line in client.lines() { lines.append(text(line)!) }
            return lines
        }
        // Each piece is written only once the reader has taken the previous
        // one from the socket and is blocked again, so the reader really sees
        // the line in pieces.
        for piece in ["PING :ab", "c\r", "\nPRIVMSG #help :hel", "lo\n", ":srv NOTICE * :x\r\n"] {
            #expect(await eventually { client.pendingWaiterCount == 1 && unreadBytes(client) == 0 })
            try await server.write(bytes(piece))
        }
        #expect(await eventually { client.pendingWaiterCount == 1 && unreadBytes(client) == 0 })
        server.close()
        #expect(try await reader.value == ["PING :abc", "PRIVMSG #help :hello", ":srv NOTICE * :x"])
    }

    @Test func crlfAndBareLFBothEndALine() async throws {
        let (client, server) = try connectedPair()
        defer { client.close() }
        try await server.write(bytes("CRLF line\r\nLF line\nlast\r\n"))
        server.close()
        var lines: [String] = []
        for try await line in client.lines() { lines.append(text(line)!) }
        #expect(lines == ["CRLF line", "LF line", "last"])
    }

    @Test func aLineBeyondTheLimitEndsTheSequenceWithAClearError() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        // The server never sends a line feed and keeps the connection open:
        // the guard must fire on what has arrived, not wait for more.
        try await server.write(bytes("NOTICE * :fine\r\n") + [UInt8](repeating: 0x41, count: 10_000))
        var iterator = client.lines(maxLineLength: 512).makeAsyncIterator()
        #expect(text(try await iterator.next()) == "NOTICE * :fine")
        let error = await #expect(throws: TransportError.self) { try await iterator.next() }
        #expect(error == .lineTooLong(operation: "read line from \(client.remoteAddress)", limit: 512))
        #expect(error?.description.contains("line longer than 512 bytes without a line feed") == true)
        #expect(try await iterator.next() == nil)
    }

    @Test func endOfStreamMidLineDeliversTheCompleteLinesThenEnds() async throws {
        let (client, server) = try connectedPair()
        defer { client.close() }
        try await server.write(bytes("one\r\ntwo\r\ntorn half li"))
        server.close()
        var iterator = client.lines().makeAsyncIterator()
        #expect(text(try await iterator.next()) == "one")
        #expect(text(try await iterator.next()) == "two")
        #expect(try await iterator.next() == nil)
        #expect(try await iterator.next() == nil)
    }

    @Test func readReturnsEmptyAtEndOfStream() async throws {
        let (client, server) = try connectedPair()
        defer { client.close() }
        try await server.write(bytes("bye"))
        server.close()
        #expect(text(try await client.read()) == "bye")
        #expect(try await client.read() == [])
        #expect(try await client.read() == [])
    }

    @Test func aMegabyteWriteArrivesCompleteAndInOrder() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let reader = Task { try await readAll(client, count: payload.count) }
        try await server.write(payload)  // larger than the socket buffer: partial writes
        let received = try await reader.value
        #expect(received.count == payload.count)
        #expect(received == payload)
    }

    @Test func concurrentWritesNeverInterleave() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        let blockSize = 300_000
        let writers = 4
        let reader = Task { try await readAll(client, count: blockSize * writers) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask { try await server.write([UInt8](repeating: UInt8(65 + writer), count: blockSize)) }
            }
            try await group.waitForAll()
        }
        let received = try await reader.value
        #expect(received.count == blockSize * writers)
        var blocks: [UInt8] = []
        for start in stride(from: 0, to: received.count, by: blockSize) {
            let block = received[start..<start + blockSize]
            #expect(block.allSatisfy { $0 == block.first }, "block at \(start) mixes writers")
            blocks.append(block.first!)
        }
        #expect(Set(blocks) == [65, 66, 67, 68])
    }

    @Test func cancellingABlockedReadWakesItAndLeavesTheConnectionUsable() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        let blocked = Task { try await client.read() }
        #expect(await eventually { client.pendingWaiterCount == 1 })
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        #expect(client.pendingWaiterCount == 0)
        try await server.write(bytes("still here"))
        #expect(text(try await client.read()) == "still here")
    }

    @Test func cancellingABlockedWriteWakesIt() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        // Nobody reads: the socket buffers fill and the write blocks.
        let blocked = Task { try await server.write([UInt8](repeating: 0, count: 64 << 20)) }
        #expect(await eventually { server.pendingWaiterCount == 1 })
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
    }

    @Test func closeWakesABlockedReaderAndWriterWithAClearError() async throws {
        let (client, server) = try connectedPair()
        defer { server.close() }
        let reader = Task { try await client.read() }
        let writer = Task { try await client.write([UInt8](repeating: 0, count: 64 << 20)) }
        #expect(await eventually { client.pendingWaiterCount == 2 })
        client.close()
        let readError = await #expect(throws: TransportError.self) { try await reader.value }
        #expect(readError == .closed(operation: "read from \(client.remoteAddress)"))
        #expect(readError?.description.hasSuffix("the connection was closed by this side") == true)
        let writeError = await #expect(throws: TransportError.self) { try await writer.value }
        #expect(writeError == .closed(operation: "write to \(client.remoteAddress)"))
        // And later calls fail the same way instead of touching a stale descriptor.
        await #expect(throws: TransportError.closed(operation: "read from \(client.remoteAddress)")) {
            try await client.read()
        }
        #expect(client.isClosed)
    }

    @Test func writingToAClosedPeerThrowsEPIPEInsteadOfRaisingSIGPIPE() async throws {
        let (client, server) = try connectedPair()
        defer { client.close() }
        server.close()
        let error = await #expect(throws: TransportError.self) { try await client.write(bytes("PONG :x\r\n")) }
        #expect(error?.errno == EPIPE)
        #expect(error?.description == "write to \(client.remoteAddress): Broken pipe (errno 32)")
    }

    @Test func adoptingSomethingThatIsNotASocketFailsAndLeavesItToTheCaller() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let error = #expect(throws: TransportError.self) { try Connection(adopting: fds[0]) }
        #expect(error?.errno == ENOTSOCK)
        #expect(fcntl(fds[0], F_GETFD) >= 0, "the descriptor must still be open")
    }

    @Test func adoptedDescriptorsAreNonBlockingAndCloseOnExec() throws {
        let (a, b) = try SocketPair.make()
        let connection = try Connection(adopting: a)
        defer { connection.close(); close(b) }
        #expect(fcntl(a, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(a, F_GETFD) & FD_CLOEXEC != 0)
        #expect(connection.remoteAddress == "unix socket fd \(a)")
    }
}
