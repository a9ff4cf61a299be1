import Glibc
import Testing
@testable import Transport

/// `Connection.writeAvailable`: the IRC client's write from its own actor
/// (issue 12). It never waits, and what it leaves is written by `write`
/// from where it stopped, so the peer gets every byte once, in order.
@Suite("writeAvailable: what the socket takes now, never waiting")
struct WriteAvailableTests {
    @Test func aSmallWriteGoesOutWhole() throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        #expect(try client.writeAvailable(bytes("PRIVMSG anna :PAGE #1\r\n")) == 23)
        #expect(unreadBytes(server) == 23)
    }

    @Test func aFullSocketTakesPartOfItAndWriteSendsTheRestInOrder() async throws {
        let (client, server) = try connectedPair()
        defer { client.close(); server.close() }
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let taken = try client.writeAvailable(payload)
        #expect(taken > 0 && taken < payload.count, "a 1 MiB write does not fit a socket buffer: \(taken)")
        #expect(try client.writeAvailable([1, 2, 3]) == 0, "a full socket takes nothing more, at once")
        async let rest: Void = client.write(Array(payload[taken...]))
        let received = try await readAll(server, count: payload.count)
        try await rest
        #expect(received == payload)
    }

    @Test func afterCloseItThrowsClosed() throws {
        let (client, server) = try connectedPair()
        defer { server.close() }
        client.close()
        #expect(throws: TransportError.self) { try client.writeAvailable(bytes("x")) }
    }
}
