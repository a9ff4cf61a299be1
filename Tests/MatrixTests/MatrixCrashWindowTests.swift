import Bots
import Core
import Desk
import DeskFiles
import Foundation
import KB
import Matrix
import MatrixAdapter
import PINHashing
import Store
import Synchronization
import TestSupport
import Testing

/// The crash window of issue 9: the gateway dies after the bots committed
/// a message's step and before the `/sync` position moved on, so the
/// restarted gateway gets the same batch again. The bots record each
/// message's event id in the step's own commit, and the restarted adapter
/// skips what the store holds: one ticket, one answer, nothing lost.
/// Real bots, the shipped texts and configuration, a real SQLite file, a
/// scripted homeserver.
@Suite struct MatrixCrashWindowTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let customer = "@cust:example.org"

    /// The customer's lines, in the order the bots ask (no customer
    /// number, the problem, severity 3).
    static let intake: [(String, String)] = [
        ("$1", "Hello, I need help"),
        ("$2", "none"),
        ("$3", "Our conference room projector flickers purple every few minutes"),
        ("$4", "3"),
    ]

    /// What the homeserver says to one gateway process: login, filter, the
    /// customer's direct room in `m.direct`, the batch `messages` from `s1`
    /// (then nothing new); every `PUT` is recorded.
    static func homeserver(_ messages: [(String, String)]) -> FakeHomeserver {
        MatrixChatNetworkTests.customerWrites(messages)
    }

    /// Storage that dies at the crash point: from then on nothing of this
    /// process reaches the store (the `/sync` position is never stored).
    final class Dying: MatrixStateStorage {
        let inner: NetworkStateStorage
        let dead = Mutex(false)
        /// The positions stored.
        let positions = Mutex<[String]>([])
        init(_ inner: NetworkStateStorage) { self.inner = inner }
        func load(_ key: String) async throws -> String? { try await inner.load(key) }
        func save(_ key: String, _ value: String) async throws {
            if dead.withLock({ $0 }) { throw MatrixClientError("the process died") }
            try await inner.save(key, value)
            if key == MatrixStateKey.since { positions.withLock { $0.append(value) } }
        }
        func handledEvents(among ids: [String]) async throws -> Set<String> { try await inner.handledEvents(among: ids) }
        func forgetHandledEvents(before instant: Date) async throws {
            if dead.withLock({ $0 }) { throw MatrixClientError("the process died") }
            try await inner.forgetHandledEvents(before: instant)
        }
    }

    /// One gateway process: the bots over `store`, the Matrix adapter on
    /// `fake`. `onHandled` runs after the bots handled each message (the
    /// adapter waits for it before it goes on).
    struct Process {
        let runtime: BotRuntime<ManualClock>
        let network: MatrixChatNetwork<ManualClock>
        let task: Task<Void, any Error>
    }

    static func startProcess(store: any DeskStore, kbFolder: URL, fake: FakeHomeserver,
                             storage: any MatrixStateStorage, clock: ManualClock, config: URL? = nil,
                             onHandled: @escaping @Sendable (ChatMessage) async -> Void = { _ in }) async throws
        -> Process {
        let root = repositoryRoot
        let definitions = try BotDefinitions.load(folder: root.appendingPathComponent("bots"))
        let desk = try DeskFiles.load(DeskFiles.Paths(directory: (config ?? root.appendingPathComponent("config")).path,
                                                      customers: ["customers.json5", "customers.csv"]),
                                      verifier: PBKDF2PINVerifier())
        // No KB articles: the intake goes from the problem to the severity
        // (and the test does not wait for the shipped KB's index).
        let kb = ReloadableKnowledgeBase(folder: kbFolder, logger: .disabled)
        let runtime = BotRuntime(desk: desk, definitions: definitions, kb: kb, store: store, clock: clock,
                                 logger: .disabled)
        let configuration = MatrixNetworkConfiguration(
            homeserver: URL(string: "http://hs")!, userID: "@bot:example.org", credentials: .password("pw"),
            rooms: [], invitesFrom: [":example.org"], encryptedRoomText: "encrypted")
        let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: fake, syncTransport: fake,
                                        storage: storage, deviceID: nil, clock: clock, logger: .disabled)
        await runtime.attach(network, settings: NetworkBotSettings(name: "mx", hasAccounts: true, language: "en",
                                                                   addressesByAccount: true))
        try await runtime.start()
        let task = Task {
            try await network.run(events: { event in
                await runtime.handle(event)
                if case .message(let message) = event { await onHandled(message) }
            }, deliveries: { await runtime.handle($0) })
        }
        return Process(runtime: runtime, network: network, task: task)
    }

    /// The texts the bot sent to the customer's direct room; with
    /// `before`, not those sent again with a transaction id `before` saw
    /// (the homeserver keeps one event per transaction id and device).
    static func answers(_ fake: FakeHomeserver, before: FakeHomeserver? = nil) -> [String] {
        let earlier = Set(before.map { $0.seen.filter { $0.method == "PUT" }.map(\.path) } ?? [])
        return fake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/!dm:example.org/send/")
            && !earlier.contains($0.path) }
            .compactMap { $0.body?["body"]?.string }
    }

    static func waitFor(_ condition: () -> Bool) async {
        var tries = 0
        while !condition(), tries < 400_000 {
            tries += 1
            await Task.yield()
        }
    }

    @Test func aRestartAfterTheTicketsCommitNeitherAnswersTheMessageAgainNorLosesIt() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("matrix-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()

        // The first process: the customer's four lines come in one batch.
        // Right after the bots handled the last one (the ticket is committed)
        // the process dies: the adapter never goes on and nothing more of it
        // is stored — not the handled-message record it kept before, not
        // the batch's position.
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let firstFake = Self.homeserver(Self.intake)
        let storage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let crashed = Gate()
        let process = try await Self.startProcess(store: first, kbFolder: directory, fake: firstFake, storage: storage, clock: clock) {
            message in
            guard message.sourceID == "$4" else { return }
            storage.dead.withLock { $0 = true }
            await crashed.wait()  // The adapter is stuck here until the test ends: it never goes on.
        }
        await Self.waitFor { Self.answers(firstFake).contains { $0.contains("#1") } }
        #expect(try await first.openTickets().count == 1)
        let told = Self.answers(firstFake)
        #expect(told.filter { $0.contains("#1") }.count == 1, "\(told)")
        process.task.cancel()
        await first.close()

        // The restart: the same file, the batch again from the stored
        // position, with a line written meanwhile.
        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        #expect(try await second.networkState(network: "mx", key: MatrixStateKey.since) == "s1")
        let secondFake = Self.homeserver(Self.intake + [("$5", "Is anyone looking at it?")])
        let secondStorage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake, storage: secondStorage,
                                                    clock: clock)
        await Self.waitFor { secondStorage.positions.withLock { $0 } == ["s2"] }
        #expect(try await second.networkState(network: "mx", key: MatrixStateKey.since) == "s2")
        let tickets = try await second.openTickets()
        #expect(tickets.count == 1)
        let events = try await second.events(of: tickets[0].number)
        // The new line went to the ticket; the severity "3" did not (it was not handled twice).
        #expect(events.filter { $0.kind == .customerMessage }.compactMap(\.note) == ["Is anyone looking at it?"],
                "\(events)")
        let again = Self.answers(secondFake, before: firstFake)
        // One answer, to the new line (that it was added to the ticket).
        #expect(again.count == 1 && again.allSatisfy { $0.contains("#1") && !$0.contains("saved") }, "\(again)")
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashed.open()
    }

    // MARK: - A crash right after a ticket's update

    /// A homeserver whose `/sync` from `s1` brings `messages` (event id,
    /// sender, room, text) and then holds; `m.direct` names the customer's
    /// room `!dm` and Anna's `!anna`.
    static func homeserver(_ messages: [(id: String, sender: String, room: String, text: String)],
                           onSend: @escaping @Sendable (FakeHomeserver.Seen) -> Void = { _ in }) -> FakeHomeserver {
        var rooms: [String] = []
        var events: [String: [String]] = [:]
        for message in messages {
            if events[message.room] == nil { rooms.append(message.room) }
            events[message.room, default: []].append(
                #"{"type":"m.room.message","sender":"\#(message.sender)","event_id":"\#(message.id)","content":{"msgtype":"m.text","body":"\#(message.text)"}}"#)
        }
        let joined = rooms.map { #""\#($0)":{"timeline":{"events":[\#(events[$0]!.joined(separator: ","))]}}"# }
        let batch = #"{"next_batch":"s2","rooms":{"join":{\#(joined.joined(separator: ","))}}}"#
        let base = MatrixChatNetworkTests.homeserver()
        return FakeHomeserver { seen in
            if seen.method == "PUT" { onSend(seen) }
            return switch (seen.method, seen.path) {
            case ("GET", "/sync"): seen.query["since"] == "s1" ? (200, json(batch)) : (FakeHomeserver.hold, ok)
            case ("GET", "/user/@bot:example.org/account_data/m.direct"):
                (200, json(#"{"@cust:example.org":["!dm:example.org"],"@anna:example.org":["!anna:example.org"]}"#))
            default: base.answerForTests(seen)
            }
        }
    }

    static func fromCustomer(_ lines: [(String, String)]) -> [(id: String, sender: String, room: String, text: String)] {
        lines.map { ($0.0, customer, "!dm:example.org", $0.1) }
    }

    /// The shipped configuration with Anna's Matrix account on `mx`.
    static func configWithAnnaOnMatrix(in directory: URL) throws -> URL {
        let config = directory.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        let shipped = repositoryRoot.appendingPathComponent("config")
        for name in ["agents.json5", "customers.csv", "customers.json5", "escalation.json5", "tiers.json5"] {
            var text = try String(contentsOf: shipped.appendingPathComponent(name), encoding: .utf8)
            if name == "agents.json5" {
                let before = text
                text = text.replacingOccurrences(of: #"accounts: { demo: "anna" }"#,
                                                 with: #"accounts: { demo: "anna", mx: "@anna:example.org" }"#)
                precondition(text != before, "anna's accounts are not where the test expects them")
            }
            try text.write(to: config.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return config
    }

    /// The texts the bot sent to Anna's direct room.
    static func toAnna(_ fake: FakeHomeserver) -> [String] {
        fake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/!anna:example.org/send/") }
            .compactMap { $0.body?["body"]?.string }
    }

    /// The transaction ids of the bot's sends to Anna's direct room.
    static func sendsToAnna(_ fake: FakeHomeserver) -> [String] {
        fake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/!anna:example.org/send/") }
            .compactMap { $0.path.components(separatedBy: "/").last }
    }

    /// `count` open non-contract tickets of customers `@c0…` (not the
    /// test's customer), oldest first.
    static func waitingTickets(_ count: Int, in store: SQLiteDeskStore, at now: Date) async throws -> [TicketNumber] {
        var numbers: [TicketNumber] = []
        for index in 0..<count {
            let contact = ChatIdentity(network: "mx", nick: "@c\(index):example.org", account: "@c\(index):example.org")
            let created = try await store.createTicket(NewTicket(
                createdAt: now.addingTimeInterval(Double(index - 60)), createdBy: .customer(contact.description),
                customerNumber: nil, customerName: "c\(index)", contact: contact, group: .noContract, tier: nil,
                severity: .question, summary: "question \(index)", description: "question \(index)", language: "en"))
            numbers.append(created.number)
        }
        return numbers
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("matrix-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A customer's line on their open ticket is attached (and relayed) in
    /// the ticket's update; the process dies right after that commit,
    /// before anything else of the step is stored. Delivered again, the
    /// line is not attached a second time; the next line is.
    @Test func aFollowUpLineIsAttachedOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let followUp = ("$5", "It flickers green now as well")
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let crashing = CrashingDeskStore(first) { firstStorage.dead.withLock { $0 = true } }
        let firstFake = Self.homeserver(Self.fromCustomer(Self.intake + [followUp]))
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock) { message in
            // The ticket is made; the process dies after the next update's commit.
            if message.sourceID == "$4" { crashing.crashAfter.withLock { $0 = "updateTicket" } }
        }
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead)
        let number = try #require(try await first.openTickets().first?.number)
        #expect(try await first.events(of: number).filter { $0.kind == .customerMessage }.compactMap(\.note)
            == [followUp.1])
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver(Self.fromCustomer(Self.intake + [followUp, ("$6", "And now it is off")]))
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] }
        let events = try await second.events(of: number)
        #expect(events.filter { $0.kind == .customerMessage }.compactMap(\.note) == [followUp.1, "And now it is off"],
                "\(events)")
        #expect(try await second.openTickets().count == 1)
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// A customer's line on their ticket, which Anna holds, is attached in
    /// the ticket's update; the process dies right after that commit,
    /// before the line was relayed to Anna and before the customer was told
    /// so. After the restart (the line delivered again is skipped as
    /// handled) Anna gets the line once and the customer "passed on" once,
    /// both from the outbox written with the update.
    @Test func aFollowUpLineIsRelayedAndAcknowledgedOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configWithAnnaOnMatrix(in: directory)
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let contact = ChatIdentity(network: "mx", nick: Self.customer, account: Self.customer)
        let created = try await first.createTicket(NewTicket(
            createdAt: clock.date.addingTimeInterval(-60), createdBy: .customer(contact.description), customerNumber: nil,
            customerName: "cust", contact: contact, group: .noContract, tier: nil, severity: .minor,
            summary: "projector flickers", description: "projector flickers", language: "en"))
        let ticket = created.number
        let stored = try #require(try await first.ticket(ticket))
        let (taken, takeEvents) = try TicketLifecycle.apply(.take, to: stored.ticket, by: .agent("anna"),
                                                            at: clock.date.addingTimeInterval(-30))
        _ = try await first.update(stored, to: taken, events: takeEvents)
        let line = [("$f1", "It flickers green now as well")]
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let firstFake = Self.homeserver(Self.fromCustomer(line))
        let crashing = CrashingDeskStore(first) {
            firstStorage.dead.withLock { $0 = true }
            firstFake.goDown()
        }
        crashing.crashAfter.withLock { $0 = "updateTicket" }
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock, config: config)
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead)
        #expect(try await first.events(of: ticket).filter { $0.kind == .customerMessage }.compactMap(\.note)
            == [line[0].1])
        #expect(Self.answers(firstFake).isEmpty && Self.toAnna(firstFake).isEmpty)
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver(Self.fromCustomer(line))
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock, config: config)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] && !Self.answers(secondFake).isEmpty
            && !Self.toAnna(secondFake).isEmpty }
        #expect(Self.toAnna(secondFake) == ["[\(ticket)] cust: It flickers green now as well"],
                "\(Self.toAnna(secondFake))")
        #expect(Self.answers(secondFake) == ["Passed on to anna (\(ticket))."], "\(Self.answers(secondFake))")
        let events = try await second.events(of: ticket)
        #expect(events.filter { $0.kind == .customerMessage }.count == 1, "\(events)")
        let pages = try await second.pages(of: ticket)
        #expect(pages.map(\.stepLabel).sorted() == ["command answer", "customer notice"], "\(pages)")
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// A customer's second line within the relay burst window is held back
    /// (kept in the conversation's snapshot, the message recorded as
    /// handled with it) and attached when the window ends, in the ticket's
    /// update; the process dies right after that commit, before the
    /// conversation without the held line was stored. After the restart
    /// both messages are skipped as handled; what the held line does then
    /// is what this test shows: it is attached a second time (a known
    /// issue, not fixed yet; the test fails once it is, so the expectation
    /// can leave `withKnownIssue`).
    @Test func aLineHeldInABurstWhenTheProcessDiesAfterItsUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configWithAnnaOnMatrix(in: directory)
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let contact = ChatIdentity(network: "mx", nick: Self.customer, account: Self.customer)
        let ticket = try await first.createTicket(NewTicket(
            createdAt: clock.date.addingTimeInterval(-60), createdBy: .customer(contact.description), customerNumber: nil,
            customerName: "cust", contact: contact, group: .noContract, tier: nil, severity: .minor,
            summary: "projector flickers", description: "projector flickers", language: "en")).number
        let stored = try #require(try await first.ticket(ticket))
        let (taken, takeEvents) = try TicketLifecycle.apply(.take, to: stored.ticket, by: .agent("anna"),
                                                            at: clock.date.addingTimeInterval(-30))
        _ = try await first.update(stored, to: taken, events: takeEvents)
        let burst = [("$b1", "It flickers green now"), ("$b2", "and the fan is loud")]
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let firstFake = Self.homeserver(Self.fromCustomer(burst))
        let crashing = CrashingDeskStore(first) {
            firstStorage.dead.withLock { $0 = true }
            firstFake.goDown()
        }
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock, config: config) { message in
            // The first line is attached; the second is held: the next update (the burst's) is the crash point.
            if message.sourceID == "$b2" { crashing.crashAfter.withLock { $0 = "updateTicket" } }
        }
        await Self.waitFor { crashing.crashAfter.withLock { $0 } != nil }
        // The burst window (3 s) ends: the runtime's timers fire.
        // (In a task: the dead store holds the rest of the turn until released.)
        clock.advance(by: .seconds(5))
        let timers = Task { await process.runtime.fireDueTimers() }
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead, "the held line was attached when the burst window ended")
        #expect(try await first.events(of: ticket).filter { $0.kind == .customerMessage }.compactMap(\.note)
            == [burst[0].1, burst[1].1])
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver(Self.fromCustomer(burst))
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock, config: config)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] }
        clock.advance(by: .seconds(5))
        await restarted.runtime.fireDueTimers()
        let notes = try await second.events(of: ticket).filter { $0.kind == .customerMessage }.compactMap(\.note)
        // What happens (found here): the restored conversation still holds the
        // line whose update was committed, and attaches it again at start
        // ([first, held, held]); its relay to Anna from the first process is lost.
        withKnownIssue("issue 9 (3): a held line is attached again after a crash right after its burst's update") {
            #expect(notes == [burst[0].1, burst[1].1], "\(notes)")
        }
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
        await timers.value
    }

    /// An agent's `!next` takes a ticket in the ticket's update; the process
    /// dies right after that commit, before the answer was sent. Delivered
    /// again, the `!next` does not take a second ticket; its answer (which
    /// ticket Anna holds now) was written to the outbox with the update and
    /// reaches her after the restart, once; her next `!next` takes the next
    /// ticket and is answered.
    @Test func anAgentsNextTakesOneTicketAndIsAnsweredOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configWithAnnaOnMatrix(in: directory)
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let numbers = try await Self.waitingTickets(3, in: first, at: clock.date)
        let next = (id: "$n1", sender: "@anna:example.org", room: "!anna:example.org", text: "!next")
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let firstFake = Self.homeserver([next])
        // The process dies whole: nothing more reaches the store or the homeserver.
        let crashing = CrashingDeskStore(first) {
            firstStorage.dead.withLock { $0 = true }
            firstFake.goDown()
        }
        crashing.crashAfter.withLock { $0 = "updateTicket" }
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock, config: config)
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead)
        #expect(try await first.ticket(numbers[0])?.ticket.assignee == "anna")
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver([next, (id: "$n2", sender: "@anna:example.org", room: "!anna:example.org",
                                                 text: "!next")])
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock, config: config)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] }
        await Self.waitFor { !Self.toAnna(secondFake).isEmpty }
        var assignees: [String?] = []
        for number in numbers { assignees.append(try await second.ticket(number)?.ticket.assignee) }
        #expect(assignees == ["anna", "anna", nil], "one ticket per !next")
        #expect(Self.toAnna(firstFake).isEmpty, "the first process died before the answer went out")
        await Self.waitFor { Self.toAnna(secondFake).count >= 2 }
        let answers = Self.toAnna(secondFake)
        #expect(answers.count == 2, "\(answers)")
        #expect(answers.filter { $0.contains("\(numbers[0])") }.count == 1, "\(answers)")
        #expect(answers.filter { $0.contains("\(numbers[1])") }.count == 1, "\(answers)")
        // The first answer came from the outbox: its transaction id is its entry's.
        let answer = try #require(try await second.pages(of: numbers[0]).first { $0.step == PageDraft.commandAnswerStep })
        #expect(answer.target == "@anna:example.org" && answer.text.contains("\(numbers[0])"))
        #expect(Self.sendsToAnna(secondFake).first == "sb-page-\(answer.id.rawValue)")
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// The answer to `!next` reached the homeserver and the process died
    /// before its delivery was recorded (and before the `/sync` position
    /// moved on). After the restart the `!next` is skipped, and the answer,
    /// still pending in the outbox, is sent again with the same transaction
    /// id: the homeserver keeps one event per transaction id, so Anna sees
    /// it once. Her next `!next` gets one answer of its own.
    @Test func anAnswerSentJustBeforeTheCrashIsOneEventAfterTheRestart() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configWithAnnaOnMatrix(in: directory)
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let numbers = try await Self.waitingTickets(2, in: first, at: clock.date)
        let next = (id: "$n1", sender: "@anna:example.org", room: "!anna:example.org", text: "!next")
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let downs = Mutex<[@Sendable () -> Void]>([])
        let crashing = CrashingDeskStore(first) {
            firstStorage.dead.withLock { $0 = true }
            for goDown in downs.withLock({ $0 }) { goDown() }
        }
        // The answer's PUT reaches the homeserver; then the process dies.
        let firstFake = Self.homeserver([next]) { seen in
            if seen.path.hasPrefix("/rooms/!anna:example.org/send/") { crashing.die() }
        }
        downs.withLock { $0.append { firstFake.goDown() } }
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock, config: config)
        await Self.waitFor { crashing.isDead }
        #expect(Self.toAnna(firstFake).count == 1 && Self.toAnna(firstFake)[0].contains("\(numbers[0])"))
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let answer = try #require(try await second.pages(of: numbers[0]).first { $0.step == PageDraft.commandAnswerStep })
        #expect(answer.sentAt == nil, "the crash came before the delivery was recorded")
        let secondFake = Self.homeserver([next, (id: "$n2", sender: "@anna:example.org", room: "!anna:example.org",
                                                 text: "!next")])
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock, config: config)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] && Self.toAnna(secondFake).count >= 2 }
        #expect(try await second.ticket(numbers[0])?.ticket.assignee == "anna")
        #expect(try await second.ticket(numbers[1])?.ticket.assignee == "anna")
        // Sent again under the same transaction id: one event at the homeserver.
        let sent = Self.sendsToAnna(secondFake)
        #expect(sent.count == 2 && sent[0] == Self.sendsToAnna(firstFake)[0], "\(sent)")
        let events = Set(Self.sendsToAnna(firstFake) + sent)
        #expect(events.count == 2, "one event per command: \(events)")
        let new = Self.toAnna(secondFake).dropFirst()
        #expect(new.count == 1 && new.allSatisfy { $0.contains("\(numbers[1])") }, "\(new)")
        var resent: PageRecord?
        for _ in 0..<10_000 {
            resent = try await second.pages(of: numbers[0]).first { $0.id == answer.id }
            if resent?.sentAt != nil { break }
            await Task.yield()
        }
        #expect(resent?.sentAt != nil, "the delivery is recorded after the restart")
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// Anna's `!reply` is attached to the customer's ticket in its update;
    /// the process dies right after that commit, before the reply was
    /// relayed. The customer gets the agent's words once after the restart
    /// (from the outbox, in the same commit), Anna her "sent" once, and the
    /// `!reply` delivered again is not attached a second time.
    @Test func anAgentsReplyReachesTheCustomerOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configWithAnnaOnMatrix(in: directory)
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let contact = ChatIdentity(network: "mx", nick: Self.customer, account: Self.customer)
        let ticket = try await first.createTicket(NewTicket(
            createdAt: clock.date.addingTimeInterval(-60), createdBy: .customer(contact.description), customerNumber: nil,
            customerName: "cust", contact: contact, group: .noContract, tier: nil, severity: .minor,
            summary: "projector flickers", description: "projector flickers", language: "en")).number
        let reply = (id: "$r1", sender: "@anna:example.org", room: "!anna:example.org",
                     text: "!reply \(ticket.rawValue) Please unplug the projector for a minute")
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let firstFake = Self.homeserver([reply])
        let crashing = CrashingDeskStore(first) {
            firstStorage.dead.withLock { $0 = true }
            firstFake.goDown()
        }
        crashing.crashAfter.withLock { $0 = "updateTicket" }
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock, config: config)
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead)
        #expect(Self.answers(firstFake).isEmpty && Self.toAnna(firstFake).isEmpty)
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver([reply])
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock, config: config)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] && !Self.answers(secondFake).isEmpty
            && !Self.toAnna(secondFake).isEmpty }
        let told = Self.answers(secondFake)
        #expect(told.count == 1 && told[0].contains("Please unplug the projector for a minute"), "\(told)")
        #expect(Self.toAnna(secondFake).count == 1, "\(Self.toAnna(secondFake))")
        let events = try await second.events(of: ticket)
        #expect(events.filter { $0.kind == .agentReply }.count == 1, "\(events)")
        let pages = try await second.pages(of: ticket)
        #expect(pages.map(\.stepLabel).sorted() == ["command answer", "customer notice"])
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// A customer's `!cancel` withdraws their ticket in its update; the
    /// process dies right after that commit, before they were told. After
    /// the restart they are told once (from the outbox), and the `!cancel`
    /// delivered again is not answered "nothing to cancel".
    @Test func aCustomersCancelIsAnsweredOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let contact = ChatIdentity(network: "mx", nick: Self.customer, account: Self.customer)
        let ticket = try await first.createTicket(NewTicket(
            createdAt: clock.date.addingTimeInterval(-60), createdBy: .customer(contact.description), customerNumber: nil,
            customerName: "cust", contact: contact, group: .noContract, tier: nil, severity: .minor,
            summary: "projector flickers", description: "projector flickers", language: "en")).number
        let cancel = [("$c1", "!cancel")]
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let firstFake = Self.homeserver(Self.fromCustomer(cancel))
        let crashing = CrashingDeskStore(first) {
            firstStorage.dead.withLock { $0 = true }
            firstFake.goDown()
        }
        crashing.crashAfter.withLock { $0 = "updateTicket" }
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock)
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead)
        #expect(try await first.ticket(ticket)?.ticket.state == .cancelled)
        #expect(Self.answers(firstFake).isEmpty)
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver(Self.fromCustomer(cancel))
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] && !Self.answers(secondFake).isEmpty }
        let told = Self.answers(secondFake)
        #expect(told == ["Your ticket \(ticket) is withdrawn. If you need help again, just write to me."], "\(told)")
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// The process dies right after the ticket's commit, before the
    /// customer was told its number. The message that made it is recorded
    /// as handled (it is skipped when delivered again), so the confirmation
    /// was written to the outbox in the same commit: after the restart it
    /// reaches the customer, once, with a transaction id derived from its
    /// outbox id (a copy sent before the crash would be the same event).
    @Test func theConfirmationOfATicketReachesTheCustomerAfterACrashBeforeItWasSent() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let crashing = CrashingDeskStore(first) { firstStorage.dead.withLock { $0 = true } }
        let firstFake = Self.homeserver(Self.fromCustomer(Self.intake))
        let process = try await Self.startProcess(store: crashing, kbFolder: directory, fake: firstFake,
                                                  storage: firstStorage, clock: clock) { message in
            // The next message's step makes the ticket; the process dies after its commit.
            if message.sourceID == "$3" { crashing.crashAfter.withLock { $0 = "createTicket" } }
        }
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead)
        #expect(try await first.openTickets().count == 1)
        #expect(!Self.answers(firstFake).contains { $0.contains("#1") }, "\(Self.answers(firstFake))")
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver(Self.fromCustomer(Self.intake))
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let restarted = try await Self.startProcess(store: second, kbFolder: directory, fake: secondFake,
                                                    storage: storage, clock: clock)
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] && !Self.answers(secondFake).isEmpty }
        let tickets = try await second.openTickets()
        #expect(tickets.count == 1, "the severity is not taken again")
        let told = Self.answers(secondFake)
        #expect(told.count == 1 && told[0].contains("#1") && told[0].contains("saved"), "\(told)")
        let confirmation = try #require(try await second.pages(of: tickets[0].number).first {
            $0.step == PageDraft.customerConfirmationStep
        })
        #expect(confirmation.target == Self.customer)
        let sends = secondFake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/!dm:example.org/send/") }
        #expect(sends.map { $0.path.components(separatedBy: "/").last } == ["sb-page-\(confirmation.id.rawValue)"])
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }

    /// A KB article solved it: the customer's "yes" ends the conversation
    /// (its delete), and the process dies right after that commit. The
    /// "yes" is recorded as handled in the delete's transaction, so the
    /// restarted adapter does not hand it to the bots again — where it
    /// would start a new conversation and be answered with a greeting.
    @Test func aYesThatEndedTheConversationIsNotHandledAgainAfterACrashRightAfterTheDelete() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let kb = directory.appendingPathComponent("kb/en")
        try FileManager.default.createDirectory(at: kb, withIntermediateDirectories: true)
        let article = "KB-1012-vpn-connection-drops.md"
        try FileManager.default.copyItem(at: Self.repositoryRoot.appendingPathComponent("bots/kb/en/\(article)"),
                                         to: kb.appendingPathComponent(article))
        let path = directory.appendingPathComponent("store.sqlite").path
        let clock = ManualClock()
        let lines = [("$1", "Hello, I need help"), ("$2", "none"),
                     ("$3", "The VPN connection drops every few minutes"), ("$4", "yes")]
        let first = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        try await first.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
        let firstStorage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let crashing = CrashingDeskStore(first) { firstStorage.dead.withLock { $0 = true } }
        crashing.crashAfter.withLock { $0 = "deleteConversation" }
        let firstFake = Self.homeserver(Self.fromCustomer(lines))
        let process = try await Self.startProcess(store: crashing, kbFolder: directory.appendingPathComponent("kb"),
                                                  fake: firstFake, storage: firstStorage, clock: clock)
        await Self.waitFor { crashing.isDead }
        #expect(crashing.isDead, "the article was offered and the yes ended the conversation: \(Self.answers(firstFake))")
        #expect(try await first.conversations(unexpiredAt: clock.date).isEmpty)
        #expect(try await first.counters("deflected") == ["KB-1012": 1])
        process.task.cancel()
        await first.close()

        let second = try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        let secondFake = Self.homeserver(Self.fromCustomer(lines + [("$5", "Hello again")]))
        let storage = Dying(NetworkStateStorage(store: second, network: "mx"))
        let handled = Mutex<[String]>([])
        let restarted = try await Self.startProcess(store: second, kbFolder: directory.appendingPathComponent("kb"),
                                                    fake: secondFake, storage: storage, clock: clock) { message in
            handled.withLock { $0.append(message.sourceID ?? "?") }
        }
        await Self.waitFor { storage.positions.withLock { $0 } == ["s2"] }
        #expect(handled.withLock { $0 } == ["$5"], "only the new line reaches the bots")
        #expect(try await second.counters("deflected") == ["KB-1012": 1])
        #expect(try await second.openTickets().isEmpty)
        await restarted.network.shutdown(message: "", deadline: .zero)
        restarted.task.cancel()
        await second.close()
        crashing.release()
    }
}
