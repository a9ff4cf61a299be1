import Bots
import Core
import Desk
import Foundation
import Synchronization

/// The terminal as a chat network (`switchboard console`): each line typed is
/// a private message to the bot from one person — a customer, or with
/// `--agent` a configured agent — and everything the bots say is printed.
/// Lines the bots send to others (the page to the on-duty agent, the agents'
/// channel) are printed too, marked with where they would go, so one
/// terminal shows the whole flow.
public final class ConsoleNetwork: ChatNetwork {
    public let name: String
    /// Who is typing.
    public let user: ChatIdentity
    private let input: @Sendable () -> String?
    private let output: @Sendable (String) -> Void
    private let clock: any WallClock
    private let delivered = Mutex<[(Int64, Date)]>([])
    private let deliveries = Mutex<(@Sendable (ChatDelivery) async -> Void)?>(nil)
    private let stopped = Mutex(false)

    /// - Parameters:
    ///   - input: the next line typed, or nil at the end of input (blocking is fine: it runs on its own thread).
    ///   - output: prints one line.
    public init(name: String = "console", user: ChatIdentity, clock: any WallClock,
                input: @escaping @Sendable () -> String? = { readLine(strippingNewline: true) },
                output: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.name = name
        self.user = user
        self.clock = clock
        self.input = input
        self.output = output
    }

    public var ownNick: String { "switchboard" }

    /// The terminal is always there.
    public var status: ChatNetworkStatus { ChatNetworkStatus(.ready, detail: "terminal") }

    /// Lines are printed at once: nothing waits.
    public var backlog: ChatBacklog { ChatBacklog(queuedTexts: 0) }

    /// Names compare exactly: the console has one user, and an agent is
    /// named by id (``NetworkBotSettings/trustsAgentIDs``).
    public func normalized(_ name: String, kind: ChatNameKind) -> String { name }

    /// The console has no masks: agents are named by id.
    public func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool { false }

    public func send(_ action: ChatAction) async {
        let lines = Self.terminalLines(action.text)
        switch action.recipient {
        case .user(let nick) where nick.lowercased() == user.nick.lowercased():
            for line in lines { output("switchboard> \(line)") }
        case .user(let nick):
            for line in lines { output("  [to \(Self.terminalSafe(nick))] \(line)") }
        case .channel(let channel):
            for line in lines { output("  [\(Self.terminalSafe(channel))] \(line)") }
        }
        if let id = action.deliveryID {
            let report = deliveries.withLock { $0 }
            await report?(.delivered(id: id, at: clock.now.date))
        }
    }

    public func run(events: @escaping @Sendable (ChatEvent) async -> Void,
                    deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {
        self.deliveries.withLock { $0 = deliveries }
        await events(.connected(network: name))
        let lines = AsyncStream<String> { continuation in
            let reader = Thread { [input] in
                while let line = input() {
                    continuation.yield(line)
                }
                continuation.finish()
            }
            reader.start()
        }
        for await line in lines {
            if stopped.withLock({ $0 }) { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/quit" || text == "/exit" { break }
            // `/me waves`, as on IRC: an action.
            let action = text.hasPrefix("/me ")
            await events(.message(ChatMessage(sender: user, place: .direct,
                                              text: action ? String(text.dropFirst(4)) : text, addressedToBot: true,
                                              time: clock.now.date, isAction: action)))
        }
    }

    public func shutdown(message: String, deadline: Duration) async {
        stopped.withLock { $0 = true }
    }

    /// A text as terminal lines: split at line breaks, control characters
    /// (which could move the cursor or recolour the terminal) made visible.
    static func terminalLines(_ text: String) -> [String] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { terminalSafe(String($0)) }
    }

    static func terminalSafe(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                out += "·"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
