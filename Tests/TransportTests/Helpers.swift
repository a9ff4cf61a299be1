import Glibc
import TestSupport
@testable import Transport

/// Both ends of a socketpair as connections.
func connectedPair() throws -> (Connection, Connection) {
    let (a, b) = try SocketPair.make()
    return (try Connection(adopting: a), try Connection(adopting: b))
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// Yields (never sleeps) until `condition` holds or `maxYields` passed.
func eventually(maxYields: Int = 1_000_000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<maxYields {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}

/// Bytes waiting unread in the kernel's receive queue of `connection`.
func unreadBytes(_ connection: Connection) -> Int32 {
    var count: Int32 = 0
    _ = ioctl(connection.descriptor.fd, UInt(FIONREAD), &count)
    return count
}

/// Reads until `count` bytes or the end of the stream.
func readAll(_ connection: Connection, count: Int) async throws -> [UInt8] {
    var received: [UInt8] = []
    while received.count < count {
        let chunk = try await connection.read(maxBytes: 65536)
        if chunk.isEmpty { break }
        received += chunk
    }
    return received
}
