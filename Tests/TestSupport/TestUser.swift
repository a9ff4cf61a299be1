/// An ``IRCTestClient`` for code that runs on threads of its own (the
/// benchmarks' scripted users, whose timing must not depend on Swift's
/// cooperative pool): ``run(_:)`` hands it to one offloaded call at a time,
/// which uses the client's blocking waits. Tests await the client directly.
public struct TestUser: Sendable {
    public let client: IRCTestClient

    /// Connects (several at once: InspIRCd completes registrations on a
    /// one-second tick).
    public static func connect(port: UInt16, nick: String, caps: [String] = [],
                               sasl: (account: String, password: String)? = nil,
                               timeout: Duration = .seconds(15)) async throws -> TestUser {
        TestUser(client: try await IRCTestClient(port: port, nick: nick, caps: caps, sasl: sasl, timeout: timeout))
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable (IRCTestClient) throws -> T) async throws -> T {
        try await offload { [client] in try body(client) }
    }
}
