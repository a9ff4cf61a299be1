import Glibc
import TestSupport
import Testing
@testable import Transport

/// `Connection.isOpenAndQuiet`: what a pool asks before reusing a connection.
@Suite(.timeLimit(.minutes(1))) struct IdleCheckTests {
    @Test func aQuietOpenConnectionIsReusableAndTheCheckConsumesNothing() async throws {
        let (a, b) = try SocketPair.make()
        let client = try Connection(adopting: a)
        let server = try Connection(adopting: b)
        defer { client.close(); server.close() }
        #expect(client.isOpenAndQuiet)
        try await server.write(Array("late".utf8))
        // Bytes nobody asked for: not reusable, and still there to read.
        #expect(!client.isOpenAndQuiet)
        #expect(try await client.read() == Array("late".utf8))
        #expect(client.isOpenAndQuiet)
    }

    @Test func aConnectionThePeerClosedIsNotReusable() throws {
        let (a, b) = try SocketPair.make()
        let client = try Connection(adopting: a)
        defer { client.close() }
        Glibc.close(b)
        #expect(!client.isOpenAndQuiet)
    }

    @Test func aClosedConnectionIsNotReusable() throws {
        let (a, b) = try SocketPair.make()
        defer { Glibc.close(b) }
        let client = try Connection(adopting: a)
        client.close()
        #expect(!client.isOpenAndQuiet)
    }
}
