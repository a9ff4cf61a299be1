import Foundation

/// Runs blocking test-client code on a thread of its own, so it never
/// blocks Swift's cooperative pool (two threads on this machine).
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }.start()
    }
}

/// `IRCTestClient` is a blocking, single-user object; async tests hand it to
/// one offloaded call at a time. Connecting several at once matters on
/// InspIRCd, which completes registrations on a one-second tick.
public struct TestUser: @unchecked Sendable {
    public let client: IRCTestClient

    public static func connect(port: UInt16, nick: String, caps: [String] = [],
                               sasl: (account: String, password: String)? = nil,
                               timeout: Duration = .seconds(15)) async throws -> TestUser {
        try await offload {
            TestUser(client: try IRCTestClient(port: port, nick: nick, caps: caps, sasl: sasl, timeout: timeout))
        }
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable (IRCTestClient) throws -> T) async throws -> T {
        try await offload { try body(client) }
    }
}
