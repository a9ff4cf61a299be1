import Bots
import Core
import Desk
import DeskFiles
import Foundation
import KB
import PINHashing
import Store
import Synchronization
import TestSupport
import Testing

/// The repository's root (for the shipped `bots/` and `config/`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The shipped bot definitions (every test speaks with the real texts).
let shippedDefinitions: BotDefinitions = {
    do {
        return try BotDefinitions.load(folder: repositoryRoot.appendingPathComponent("bots"))
    } catch {
        fatalError("the shipped bot definitions do not load:\n\(error)")
    }
}()

/// The shipped knowledge base, with the installed dictionary as
/// `bots/kb.json5` names it: built once, off the cooperative pool (the
/// dictionary pass takes seconds while the whole suite runs).
let shippedKB = SharedFixture("kb.shipped") {
    ReloadableKnowledgeBase(folder: repositoryRoot.appendingPathComponent("bots/kb"),
                            vocabulary: shippedDefinitions.kbSettings.vocabulary, logger: .disabled)
}

/// Customers with PIN hashes of the fewest iterations the desk accepts, so
/// the suite does not spend seconds in PBKDF2. Made once.
let fastCustomersFile: String = {
    func hash(_ pin: String) -> String {
        let made = try! PBKDF2PINVerifier().hash(pin: pin, iterations: PINHash.minimumIterations)
        return made.encoded
    }
    return """
    {
      customers: [
        { number: "10042", name: "Speicherstadt Logistik GmbH",
          contract: { tier: "premium", from: "2024-01-01", until: "2027-12-31" }, pinHash: "\(hash("4711"))" },
        { number: "10001", name: "Bäckerei Hansen GmbH",
          contract: { tier: "basic", from: "2025-01-01", until: "2026-12-31" }, pinHash: "\(hash("2468"))",
          accounts: [{ network: "demo", account: "hansen-it" }] },
        { number: "10077", name: "Elbe Dental MVZ GmbH",
          contract: { tier: "enterprise", from: "2025-07-01", until: "2028-06-30" }, pinHash: "\(hash("1357"))",
          accounts: [{ network: "demo", account: "elbedental" }] },
        { number: "10150", name: "Nordsee Fisch Import KG",
          contract: { tier: "basic", from: "2024-01-01", until: "2025-12-31" }, pinHash: "\(hash("9999"))" },
      ],
    }
    """
}()

/// A desk configuration folder: the shipped tiers, agents and escalation,
/// the fast customers above; `agentsEdit` changes the agents file's text.
func deskFixture(agentsEdit: (String) -> String = { $0 }, escalation: String? = nil) throws -> DeskConfiguration {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bots-desk-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = repositoryRoot.appendingPathComponent("config")
    for name in ["tiers.json5", "escalation.json5"] {
        try FileManager.default.copyItem(at: config.appendingPathComponent(name), to: directory.appendingPathComponent(name))
    }
    let agents = try String(contentsOf: config.appendingPathComponent("agents.json5"), encoding: .utf8)
    try Data(agentsEdit(agents).utf8).write(to: directory.appendingPathComponent("agents.json5"))
    try Data(fastCustomersFile.utf8).write(to: directory.appendingPathComponent("customers.json5"))
    if let escalation {
        try Data(escalation.utf8).write(to: directory.appendingPathComponent("escalation.json5"))
    }
    return try DeskFiles.load(DeskFiles.Paths(directory: directory.path, customers: ["customers.json5"]),
                              verifier: PBKDF2PINVerifier())
}

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("bots-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

// MARK: - A chat network that records what the bots say

/// Records every action; lets the test report deliveries. `onSend` runs
/// inside `send`, before the action is recorded (to look at the store at
/// the moment a line goes out).
///
/// Its naming rule is given (default: case-insensitive, as IRC; a Matrix-like
/// fake compares exactly), and its mask matcher is a table the test fills
/// (``accept(_:mask:)``): the bots must ask the network, never match a mask
/// themselves. The real matchers are tested with their adapters.
final class FakeNetwork: ChatNetwork {
    let name: String
    private let sent = Mutex<[ChatAction]>([])
    private let unread = Mutex<Int>(0)
    private let hook = Mutex<(@Sendable (ChatAction) async -> Void)?>(nil)
    private let presence = Mutex<[String: Bool]>([:])
    private let accepted = Mutex<Set<[String]>>([])
    private let naming: @Sendable (String, ChatNameKind) -> String
    let statusNow = Mutex(ChatNetworkStatus(.ready))
    let backlogNow = Mutex(ChatBacklog(queuedTexts: 0))

    init(name: String, naming: @escaping @Sendable (String, ChatNameKind) -> String = { name, _ in name.lowercased() }) {
        self.name = name
        self.naming = naming
    }

    var status: ChatNetworkStatus { statusNow.withLock { $0 } }
    var backlog: ChatBacklog { backlogNow.withLock { $0 } }

    func normalized(_ name: String, kind: ChatNameKind) -> String { naming(name, kind) }

    /// From now on, `mask` matches the unverified principal `identity`.
    func accept(_ identity: String, mask: String) { accepted.withLock { _ = $0.insert([identity, mask]) } }

    func principal(_ principal: ChatPrincipal, matchesMask mask: String) -> Bool {
        guard case .unverified(let identity) = principal else { return false }
        return accepted.withLock { $0.contains([identity, mask]) }
    }

    /// Who the network sees online (true) or not (false); others: unknown.
    func setPresence(_ nick: String, _ present: Bool) { presence.withLock { $0[nick] = present } }

    func isPresent(_ nick: String) async -> Bool? { presence.withLock { $0[nick] } }

    var ownNick: String { "switchboard" }

    func send(_ action: ChatAction) async {
        if let hook = hook.withLock({ $0 }) { await hook(action) }
        sent.withLock { $0.append(action) }
    }

    func run(events: @escaping @Sendable (ChatEvent) async -> Void,
             deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {
        for await _ in AsyncStream<Never>(unfolding: { nil }) {}
    }

    func shutdown(message: String, deadline: Duration) async {}

    private let gate = Mutex<(@Sendable () -> Bool)?>(nil)

    /// The check a real send queue asks before writing a page line
    /// (``ChatNetwork/setDeliveryGate(_:)``); nil until the runtime sets one.
    var deliveryGate: (@Sendable () -> Bool)? { gate.withLock { $0 } }

    func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) async { self.gate.withLock { $0 = gate } }

    func onSend(_ body: @escaping @Sendable (ChatAction) async -> Void) { hook.withLock { $0 = body } }

    /// Everything sent so far.
    var all: [ChatAction] { sent.withLock { $0 } }

    /// What was sent since the last call.
    func takeNew() -> [ChatAction] {
        let all = self.all
        let start = unread.withLock { value in
            defer { value = all.count }
            return value
        }
        return Array(all[start...])
    }
}

extension Array where Element == ChatAction {
    /// The texts sent privately to `nick`.
    func to(_ nick: String) -> [String] {
        filter { $0.recipient == .user(nick) }.map(\.text)
    }

    /// The texts said in `channel`.
    func `in`(_ channel: String) -> [String] {
        filter { $0.recipient == .channel(channel) }.map(\.text)
    }

    /// All the text, one line per action.
    var text: String { map(\.text).joined(separator: "\n") }

    /// The actions that carry a page id.
    var pages: [ChatAction] { filter { $0.deliveryID != nil } }
}

/// Someone on a chat network.
struct Person: Sendable {
    var identity: ChatIdentity
    /// What the network says about the connection (IRC: `nick!user@host`),
    /// the unverified principal when there is no account.
    var hostmask: String?

    var nick: String { identity.nick }

    /// Who the adapter would say this is: the account, else the hostmask
    /// (else the nick) as an unverified identity.
    var principal: ChatPrincipal {
        identity.account.map { .account($0) } ?? .unverified(hostmask ?? identity.nick)
    }
}

// MARK: - The harness

/// A runtime on a real SQLite file, a manual clock and fake networks:
/// `demo` (accounts; agents' channel `#agents`, support channel `#support`,
/// German) and `oftc` (no accounts, masks; English; no agents' channel).
final class Harness: Sendable {
    let clock: ManualClock
    let directory: TemporaryDirectory
    let demo = FakeNetwork(name: "demo")
    let oftc = FakeNetwork(name: "oftc")
    let logs = MemoryLogSink()
    let desk: DeskConfiguration
    private let current = Mutex<(runtime: BotRuntime<ManualClock>, store: SQLiteDeskStore)?>(nil)

    static let demoSettings = NetworkBotSettings(name: "demo", agentsChannel: "#agents", supportChannels: ["#support"],
                                                 hasAccounts: true, language: "de")
    static let oftcSettings = NetworkBotSettings(name: "oftc", hasAccounts: false, language: "en")

    /// Monday 2026-03-02 10:00 in Berlin (09:00 UTC): anna is on duty, the desk is open.
    static let monday = Date(timeIntervalSince1970: 1_772_442_000)

    /// What the runtime sees of the store (a test may put a wrapper in between).
    let wrapStore: @Sendable (SQLiteDeskStore) -> any DeskStore

    /// The bot definitions the runtime speaks with.
    let definitions: BotDefinitions

    /// `escalation`: the text of an `escalation.json5` instead of the shipped one;
    /// `definitions`: other bot definitions (settings) than the shipped ones.
    init(start: Date = Harness.monday, agentsEdit: (String) -> String = { $0 }, escalation: String? = nil,
         definitions: BotDefinitions = shippedDefinitions,
         wrapStore: @escaping @Sendable (SQLiteDeskStore) -> any DeskStore = { $0 }) async throws {
        clock = ManualClock(start: start)
        self.definitions = definitions
        directory = try TemporaryDirectory()
        desk = try deskFixture(agentsEdit: agentsEdit, escalation: escalation)
        self.wrapStore = wrapStore
        try await startRuntime()
    }

    var runtime: BotRuntime<ManualClock> { current.withLock { $0!.runtime } }
    var store: SQLiteDeskStore { current.withLock { $0!.store } }

    var logger: Logger { Logger(sink: logs, minimumLevel: .debug, clock: { [clock] in clock.date }) }

    /// A new runtime on the same store file, as after a restart (the old one
    /// is dropped without any goodbye, like a crash).
    /// `beforeStart`: what the gateway does before starting the bots (a
    /// new active instance activates its lease fence).
    /// `firingDueTimers: false`: started as the gateway starts it (what fell
    /// due is left to the next ``BotRuntime/fireDueTimers()``).
    func restart(firingDueTimers: Bool = true,
                 beforeStart: @Sendable (BotRuntime<ManualClock>) async -> Void = { _ in }) async throws {
        if let old = current.withLock({ $0?.store }) { await old.close() }
        try await startRuntime(firingDueTimers: firingDueTimers, beforeStart)
    }

    private func startRuntime(firingDueTimers: Bool = true,
                              _ beforeStart: @Sendable (BotRuntime<ManualClock>) async -> Void = { _ in }) async throws {
        // Opening waits for the store's thread to open and migrate the file
        // (synced writes): not on the cooperative pool.
        let path = directory.path("tickets.sqlite"), now = clock.date
        let store = try await offload { try SQLiteDeskStore(path: path, logger: .disabled, now: now) }
        let runtime = BotRuntime(desk: desk, definitions: definitions, kb: try await shippedKB.value(), store: wrapStore(store),
                                 clock: clock, logger: logger)
        await runtime.attach(demo, settings: Self.demoSettings)
        await runtime.attach(oftc, settings: Self.oftcSettings)
        current.withLock { $0 = (runtime, store) }
        await beforeStart(runtime)
        try await runtime.start(firingDueTimers: firingDueTimers)
    }

    // MARK: People

    func customer(_ nick: String, account: String? = nil, network: String = "demo") -> Person {
        Person(identity: ChatIdentity(network: network, nick: nick, account: account),
               hostmask: "\(nick)!~\(nick)@customer.example")
    }

    /// An agent as the network shows them: logged in to their account on demo.
    func agent(_ id: String) -> Person {
        Person(identity: ChatIdentity(network: "demo", nick: id, account: id), hostmask: "\(id)!\(id)@staff.example")
    }

    // MARK: Lines in, lines out

    /// `person` writes `text` (privately, or in `channel`); returns every
    /// action the bots took for it (after background work such as a PIN check).
    @discardableResult
    func say(_ text: String, from person: Person, in channel: String? = nil, addressed: Bool = true) async
        -> [ChatAction] {
        let place: ChatPlace = channel.map { .channel($0) } ?? .direct
        let message = ChatMessage(sender: person.identity, principal: person.principal, place: place, text: text,
                                  addressedToBot: addressed, time: clock.date)
        await runtime.handle(.message(message))
        await runtime.waitUntilIdle()
        return network(person.identity.network).takeNew()
    }

    /// Sends `text` privately from `person` without waiting for background
    /// work (a PIN check may still run when it returns).
    func type(_ text: String, from person: Person) async {
        let message = ChatMessage(sender: person.identity, principal: person.principal, place: .direct, text: text,
                                  addressedToBot: true, time: clock.date)
        await runtime.handle(.message(message))
    }

    func network(_ name: String) -> FakeNetwork { name == "oftc" ? oftc : demo }

    /// Moves the clock and runs what is due; returns the actions it caused.
    @discardableResult
    func advance(minutes: Double) async -> [ChatAction] {
        clock.advance(by: .seconds(minutes * 60))
        await runtime.fireDueTimers()
        return demo.takeNew() + oftc.takeNew()
    }

    /// Reports every page among `actions` as delivered now.
    func confirm(_ actions: [ChatAction]) async {
        for action in actions {
            if let id = action.deliveryID { await runtime.handle(.delivered(id: id, at: clock.date)) }
        }
        _ = demo.takeNew()
    }

    /// The open tickets in the store.
    func openTickets() async throws -> [Ticket] { try await store.openTickets().map(\.ticket) }

    /// A contract ticket by the standard path (10042, PIN, severity given
    /// early); returns the ticket.
    @discardableResult
    func contractTicket(_ nick: String, _ description: String = "Der VPN-Tunnel zum Lager ist komplett ausgefallen",
                        severity: Int = 2, number: String = "10042", pin: String = "4711") async throws -> Ticket {
        let person = customer(nick, account: nick)
        await say("Kundennummer \(number), PIN \(pin), Prio \(severity)", from: person)
        await say(description, from: person)
        let tickets = try await store.tickets(contact: person.identity, openOnly: true, limit: 1)
        return try #require(tickets.first).ticket
    }

    /// A non-contract ticket (no customer number).
    @discardableResult
    func ticketWithoutContract(_ nick: String, _ description: String = "Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot",
                               severity: Int = 4) async throws -> Ticket {
        let person = customer(nick, account: nick)
        await say("keine Kundennummer, Schweregrad \(severity)", from: person)
        await say(description, from: person)
        let tickets = try await store.tickets(contact: person.identity, openOnly: true, limit: 1)
        return try #require(tickets.first).ticket
    }
}
