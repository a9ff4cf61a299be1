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
    /// `fake` (or, with a configuration, on `transport`). `onHandled` runs
    /// after the bots handled each message (the adapter waits for it before
    /// it goes on).
    struct Process<C: WallClock> {
        let runtime: BotRuntime<C>
        let network: MatrixChatNetwork<C>
        let task: Task<Void, any Error>
    }

    static func startProcess(store: any DeskStore, kbFolder: URL, fake: FakeHomeserver,
                             storage: any MatrixStateStorage, clock: ManualClock, config: URL? = nil,
                             onHandled: @escaping @Sendable (ChatMessage) async -> Void = { _ in }) async throws
        -> Process<ManualClock> {
        let configuration = MatrixNetworkConfiguration(
            homeserver: URL(string: "http://hs")!, userID: "@bot:example.org", credentials: .password("pw"),
            rooms: [], invitesFrom: [":example.org"], encryptedRoomText: "encrypted")
        return try await startProcess(store: store, kbFolder: kbFolder, configuration: configuration, transport: fake,
                                      syncTransport: fake, storage: storage, clock: clock, config: config,
                                      onHandled: onHandled)
    }

    static func startProcess<C: WallClock>(
        store: any DeskStore, kbFolder: URL, configuration: MatrixNetworkConfiguration,
        transport: any MatrixHTTPTransport, syncTransport: any MatrixHTTPTransport, storage: any MatrixStateStorage,
        clock: C, config: URL? = nil, logger: Logger = .disabled,
        onHandled: @escaping @Sendable (ChatMessage) async -> Void = { _ in }
    ) async throws -> Process<C> {
        let root = repositoryRoot
        let definitions = try BotDefinitions.load(folder: root.appendingPathComponent("bots"))
        let desk = try DeskFiles.load(DeskFiles.Paths(directory: (config ?? root.appendingPathComponent("config")).path,
                                                      customers: ["customers.json5", "customers.csv"]),
                                      verifier: PBKDF2PINVerifier())
        // No KB articles: the intake goes from the problem to the severity
        // (and the test does not wait for the shipped KB's index).
        let kb = ReloadableKnowledgeBase(folder: kbFolder, logger: .disabled)
        let runtime = BotRuntime(desk: desk, definitions: definitions, kb: kb, store: store, clock: clock,
                                 logger: logger)
        let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: transport,
                                        syncTransport: syncTransport, storage: storage, deviceID: nil, clock: clock,
                                        logger: logger)
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

    // MARK: - The two processes of a crash test

    /// One test's world: a scratch folder (the store's file, the KB folder,
    /// a configuration) and the clock both processes share.
    struct Scene {
        let directory: URL
        /// The SQLite file both processes open.
        let path: String
        let clock = ManualClock()
        /// The KB folder: the scratch folder itself (no articles), or its
        /// `kb` folder with the articles the test named.
        let kbFolder: URL
        /// The configuration folder; nil: the shipped one.
        let config: URL?

        /// A new scratch folder (``remove()`` at the test's end); with
        /// `annaOnMatrix`, the configuration of ``configWithAnnaOnMatrix(in:)``;
        /// with `kbArticles`, those shipped English articles in the KB folder.
        init(annaOnMatrix: Bool = false, kbArticles: [String] = []) throws {
            directory = try MatrixCrashWindowTests.temporaryDirectory()
            path = directory.appendingPathComponent("store.sqlite").path
            do {
                config = annaOnMatrix ? try MatrixCrashWindowTests.configWithAnnaOnMatrix(in: directory) : nil
                if kbArticles.isEmpty {
                    kbFolder = directory
                } else {
                    kbFolder = directory.appendingPathComponent("kb")
                    let english = kbFolder.appendingPathComponent("en")
                    try FileManager.default.createDirectory(at: english, withIntermediateDirectories: true)
                    for article in kbArticles {
                        try FileManager.default.copyItem(
                            at: MatrixCrashWindowTests.repositoryRoot.appendingPathComponent("bots/kb/en/\(article)"),
                            to: english.appendingPathComponent(article))
                    }
                }
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }

        /// A process's store on the file.
        func openStore() throws -> SQLiteDeskStore {
            try SQLiteDeskStore(path: path, logger: .disabled, now: clock.date)
        }

        /// The first process's store: the new file, its `/sync` position `s1`.
        func openFirstStore() async throws -> SQLiteDeskStore {
            let store = try openStore()
            try await store.setNetworkState(network: "mx", key: MatrixStateKey.since, value: "s1")
            return store
        }
    }

    /// The first process, which dies at a crash point: the bots over a
    /// ``CrashingDeskStore`` on `store`, the adapter on a homeserver that
    /// sends the batch from `s1`. At the crash its storage dies with it
    /// (the batch's position is never stored).
    struct FirstProcess {
        let store: SQLiteDeskStore
        let crashing: CrashingDeskStore
        let storage: Dying
        let fake: FakeHomeserver
        let process: Process<ManualClock>

        /// Starts it on the homeserver of ``homeserver(_:onSend:)`` with
        /// `messages`. It dies after the next commit of `crashAfter` — from
        /// the start, or with `armedWhenHandled` only once the bots handled
        /// the message of that event id — or, with `diesAtSend`, when a `PUT`
        /// it holds for reaches the homeserver. With `homeserverDiesToo` the
        /// process dies whole: nothing more reaches the homeserver either.
        static func start(on store: SQLiteDeskStore, in scene: Scene,
                          messages: [(id: String, sender: String, room: String, text: String)],
                          crashAfter: String? = nil, armedWhenHandled: String? = nil, homeserverDiesToo: Bool = false,
                          diesAtSend: (@Sendable (FakeHomeserver.Seen) -> Bool)? = nil) async throws -> FirstProcess {
            let storage = Dying(NetworkStateStorage(store: store, network: "mx"))
            let homeserver = Mutex<FakeHomeserver?>(nil)
            let crashing = CrashingDeskStore(store) {
                storage.dead.withLock { $0 = true }
                if homeserverDiesToo { homeserver.withLock { $0 }?.goDown() }
            }
            let onSend: @Sendable (FakeHomeserver.Seen) -> Void = if let diesAtSend {
                { seen in if diesAtSend(seen) { crashing.die() } }
            } else {
                { _ in }
            }
            let fake = MatrixCrashWindowTests.homeserver(messages, onSend: onSend)
            homeserver.withLock { $0 = fake }
            let onHandled: @Sendable (ChatMessage) async -> Void = if let armedWhenHandled {
                { message in
                    if message.sourceID == armedWhenHandled { crashing.crashAfter.withLock { $0 = crashAfter } }
                }
            } else {
                { _ in }
            }
            if armedWhenHandled == nil, let crashAfter { crashing.crashAfter.withLock { $0 = crashAfter } }
            let process = try await MatrixCrashWindowTests.startProcess(
                store: crashing, kbFolder: scene.kbFolder, fake: fake, storage: storage, clock: scene.clock,
                config: scene.config, onHandled: onHandled)
            return FirstProcess(store: store, crashing: crashing, storage: storage, fake: fake, process: process)
        }

        var isDead: Bool { crashing.isDead }

        func waitUntilDead() async { await MatrixCrashWindowTests.waitFor { crashing.isDead } }

        /// What is left of it after the crash: its task cancelled, its store closed.
        func end() async {
            process.task.cancel()
            await store.close()
        }

        /// Lets its calls waiting since the crash fail (at the test's end).
        func release() { crashing.release() }
    }

    /// The restarted process: the bots over `store` (the same file), the
    /// adapter on `fake`, which sends the batch from `s1` again.
    struct RestartedProcess {
        let store: SQLiteDeskStore
        let fake: FakeHomeserver
        let storage: Dying
        let process: Process<ManualClock>

        /// Starts it and waits until it stored the batch's position
        /// (`position`) and `alsoUntil` holds.
        static func start(on store: SQLiteDeskStore, in scene: Scene, fake: FakeHomeserver, position: String = "s2",
                          alsoUntil: (FakeHomeserver) -> Bool = { _ in true },
                          onHandled: @escaping @Sendable (ChatMessage) async -> Void = { _ in }) async throws
            -> RestartedProcess {
            let storage = Dying(NetworkStateStorage(store: store, network: "mx"))
            let process = try await MatrixCrashWindowTests.startProcess(
                store: store, kbFolder: scene.kbFolder, fake: fake, storage: storage, clock: scene.clock,
                config: scene.config, onHandled: onHandled)
            await MatrixCrashWindowTests.waitFor { storage.positions.withLock { $0 } == [position] && alsoUntil(fake) }
            return RestartedProcess(store: store, fake: fake, storage: storage, process: process)
        }

        /// The test's end: the adapter shut down, its task cancelled, the store closed.
        func stop() async {
            await process.network.shutdown(message: "", deadline: .zero)
            process.task.cancel()
            await store.close()
        }
    }

    /// The customer's open ticket "projector flickers" (no contract,
    /// severity minor), made a minute before `now`.
    static func customersTicket(in store: SQLiteDeskStore, at now: Date) async throws -> TicketNumber {
        let contact = ChatIdentity(network: "mx", nick: customer, account: customer)
        return try await store.createTicket(NewTicket(
            createdAt: now.addingTimeInterval(-60), createdBy: .customer(contact.description), customerNumber: nil,
            customerName: "cust", contact: contact, group: .noContract, tier: nil, severity: .minor,
            summary: "projector flickers", description: "projector flickers", language: "en")).number
    }

    /// ``customersTicket(in:at:)``, taken by Anna half a minute before `now`.
    static func customersTicketTakenByAnna(in store: SQLiteDeskStore, at now: Date) async throws -> TicketNumber {
        let number = try await customersTicket(in: store, at: now)
        let stored = try #require(try await store.ticket(number))
        let (taken, events) = try TicketLifecycle.apply(.take, to: stored.ticket, by: .agent("anna"),
                                                        at: now.addingTimeInterval(-30))
        _ = try await store.update(stored, to: taken, events: events)
        return number
    }

    @Test func aRestartAfterTheTicketsCommitNeitherAnswersTheMessageAgainNorLosesIt() async throws {
        let scene = try Scene()
        defer { scene.remove() }

        // The first process: the customer's four lines come in one batch.
        // Right after the bots handled the last one (the ticket is committed)
        // the process dies: the adapter never goes on and nothing more of it
        // is stored — not the handled-message record it kept before, not
        // the batch's position.
        let first = try await scene.openFirstStore()
        let firstFake = Self.homeserver(Self.intake)
        let storage = Dying(NetworkStateStorage(store: first, network: "mx"))
        let crashed = Gate()
        let process = try await Self.startProcess(store: first, kbFolder: scene.kbFolder, fake: firstFake,
                                                  storage: storage, clock: scene.clock) { message in
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
        let second = try scene.openStore()
        #expect(try await second.networkState(network: "mx", key: MatrixStateKey.since) == "s1")
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver(Self.intake + [("$5", "Is anyone looking at it?")]))
        #expect(try await second.networkState(network: "mx", key: MatrixStateKey.since) == "s2")
        let tickets = try await second.openTickets()
        #expect(tickets.count == 1)
        let events = try await second.events(of: tickets[0].number)
        // The new line went to the ticket; the severity "3" did not (it was not handled twice).
        #expect(events.filter { $0.kind == .customerMessage }.compactMap(\.note) == ["Is anyone looking at it?"],
                "\(events)")
        let again = Self.answers(restarted.fake, before: firstFake)
        // One answer, to the new line (that it was added to the ticket).
        #expect(again.count == 1 && again.allSatisfy { $0.contains("#1") && !$0.contains("saved") }, "\(again)")
        await restarted.stop()
        crashed.open()
    }

    // MARK: - A crash right after a ticket's update

    /// A homeserver whose `/sync` from `since` (`s1`, `s2`, …) brings
    /// `messages` (event id, sender, room, text) and the next position, and
    /// then holds; `m.direct` names the customer's room `!dm` and Anna's `!anna`.
    static func homeserver(_ messages: [(id: String, sender: String, room: String, text: String)],
                           from since: String = "s1",
                           onSend: @escaping @Sendable (FakeHomeserver.Seen) -> Void = { _ in }) -> FakeHomeserver {
        var rooms: [String] = []
        var events: [String: [String]] = [:]
        for message in messages {
            if events[message.room] == nil { rooms.append(message.room) }
            events[message.room, default: []].append(
                #"{"type":"m.room.message","sender":"\#(message.sender)","event_id":"\#(message.id)","content":{"msgtype":"m.text","body":"\#(message.text)"}}"#)
        }
        let joined = rooms.map { #""\#($0)":{"timeline":{"events":[\#(events[$0]!.joined(separator: ","))]}}"# }
        let next = "s\(Int(since.dropFirst())! + 1)"
        let batch = #"{"next_batch":"\#(next)","rooms":{"join":{\#(joined.joined(separator: ","))}}}"#
        let base = MatrixChatNetworkTests.homeserver()
        return FakeHomeserver { seen in
            if seen.method == "PUT" { onSend(seen) }
            return switch (seen.method, seen.path) {
            case ("GET", "/sync"): seen.query["since"] == since ? (200, json(batch)) : (FakeHomeserver.hold, ok)
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
    /// line is not attached a second time; the next line is (held in the
    /// burst the first one started — the update stored the conversation
    /// with it — and attached when that window ends).
    @Test func aFollowUpLineIsAttachedOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let scene = try Scene()
        defer { scene.remove() }
        let followUp = ("$5", "It flickers green now as well")
        let first = try await scene.openFirstStore()
        // The ticket is made; the process dies after the next update's commit.
        let firstProcess = try await FirstProcess.start(
            on: first, in: scene, messages: Self.fromCustomer(Self.intake + [followUp]),
            crashAfter: "updateTicket", armedWhenHandled: "$4")
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead)
        let number = try #require(try await first.openTickets().first?.number)
        #expect(try await first.events(of: number).filter { $0.kind == .customerMessage }.compactMap(\.note)
            == [followUp.1])
        await firstProcess.end()

        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene,
            fake: Self.homeserver(Self.fromCustomer(Self.intake + [followUp, ("$6", "And now it is off")])))
        scene.clock.advance(by: .seconds(5))
        await restarted.process.runtime.fireDueTimers()
        let events = try await second.events(of: number)
        #expect(events.filter { $0.kind == .customerMessage }.compactMap(\.note) == [followUp.1, "And now it is off"],
                "\(events)")
        #expect(try await second.openTickets().count == 1)
        await restarted.stop()
        firstProcess.release()
    }

    /// A customer's line on their ticket, which Anna holds, is attached in
    /// the ticket's update; the process dies right after that commit,
    /// before the line was relayed to Anna and before the customer was told
    /// so. After the restart (the line delivered again is skipped as
    /// handled) Anna gets the line once and the customer "passed on" once,
    /// both from the outbox written with the update.
    @Test func aFollowUpLineIsRelayedAndAcknowledgedOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let scene = try Scene(annaOnMatrix: true)
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        let ticket = try await Self.customersTicketTakenByAnna(in: first, at: scene.clock.date)
        let line = [("$f1", "It flickers green now as well")]
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: Self.fromCustomer(line),
                                                        crashAfter: "updateTicket", homeserverDiesToo: true)
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead)
        #expect(try await first.events(of: ticket).filter { $0.kind == .customerMessage }.compactMap(\.note)
            == [line[0].1])
        #expect(Self.answers(firstProcess.fake).isEmpty && Self.toAnna(firstProcess.fake).isEmpty)
        await firstProcess.end()

        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver(Self.fromCustomer(line)),
            alsoUntil: { !Self.answers($0).isEmpty && !Self.toAnna($0).isEmpty })
        #expect(Self.toAnna(restarted.fake) == ["[\(ticket)] cust: It flickers green now as well"],
                "\(Self.toAnna(restarted.fake))")
        #expect(Self.answers(restarted.fake) == ["Passed on to anna (\(ticket))."], "\(Self.answers(restarted.fake))")
        let events = try await second.events(of: ticket)
        #expect(events.filter { $0.kind == .customerMessage }.count == 1, "\(events)")
        let pages = try await second.pages(of: ticket)
        #expect(pages.map(\.stepLabel).sorted() == ["command answer", "customer notice"], "\(pages)")
        await restarted.stop()
        firstProcess.release()
    }

    /// A customer's second line within the relay burst window is held back
    /// (kept in the conversation's snapshot, the message recorded as
    /// handled with it) and attached when the window ends, in the ticket's
    /// update; the process dies right after that commit. After the restart
    /// both messages are skipped as handled, and the held line is not
    /// attached again: the update saved the conversation without it in the
    /// same transaction. Its relay to Anna was written to the outbox with
    /// the update and reaches her once, after the restart. (Before the fix
    /// the restored conversation still held the line and attached it again
    /// at start — first, held, held — and its relay was lost.)
    @Test func aLineHeldInABurstIsAttachedAndRelayedOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let scene = try Scene(annaOnMatrix: true)
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        let ticket = try await Self.customersTicketTakenByAnna(in: first, at: scene.clock.date)
        let burst = [("$b1", "It flickers green now"), ("$b2", "and the fan is loud")]
        // The first line is attached; the second is held: the next update (the burst's) is the crash point.
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: Self.fromCustomer(burst),
                                                        crashAfter: "updateTicket", armedWhenHandled: "$b2",
                                                        homeserverDiesToo: true)
        await Self.waitFor { firstProcess.crashing.crashAfter.withLock { $0 } != nil }
        // The burst window (3 s) ends: the runtime's timers fire.
        // (In a task: the dead store holds the rest of the turn until released.)
        scene.clock.advance(by: .seconds(5))
        let runtime = firstProcess.process.runtime
        let timers = Task { await runtime.fireDueTimers() }
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead, "the held line was attached when the burst window ended")
        #expect(try await first.events(of: ticket).filter { $0.kind == .customerMessage }.compactMap(\.note)
            == [burst[0].1, burst[1].1])
        await firstProcess.end()

        #expect(!Self.toAnna(firstProcess.fake).contains { $0.contains(burst[1].1) },
                "the process died before the held line's relay went out")

        // The batch's position was stored before the burst window ended.
        #expect(firstProcess.storage.positions.withLock { $0 } == ["s2"])
        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver([], from: "s2"), position: "s3",
            alsoUntil: { Self.toAnna($0).contains { $0.contains(burst[1].1) } })
        scene.clock.advance(by: .seconds(5))
        await restarted.process.runtime.fireDueTimers()
        let notes = try await second.events(of: ticket).filter { $0.kind == .customerMessage }.compactMap(\.note)
        #expect(notes == [burst[0].1, burst[1].1], "\(notes)")
        // One event per transaction id: the held line's relay is one event.
        var relays: [String: String] = [:]
        for fake in [firstProcess.fake, restarted.fake] {
            for (txn, body) in zip(Self.sendsToAnna(fake), Self.toAnna(fake)) { relays[txn] = body }
        }
        #expect(relays.values.filter { $0.contains(burst[1].1) }.count == 1, "\(relays)")
        #expect(relays.values.filter { $0.contains(burst[0].1) }.count == 1, "\(relays)")
        await restarted.stop()
        firstProcess.release()
        await timers.value
    }

    // MARK: - An intake question committed, not yet sent

    /// The transaction ids of the bot's sends to the customer's direct room.
    static func sendsToCustomer(_ fake: FakeHomeserver) -> [String] {
        fake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/!dm:example.org/send/") }
            .compactMap { $0.path.components(separatedBy: "/").last }
    }

    /// What the customer's room shows: one event per transaction id (the
    /// homeserver keeps one per id and device), bodies in order of the first copy.
    static func customerRoom(_ fakes: [FakeHomeserver]) -> [String] {
        var seen: Set<String> = []
        var shown: [String] = []
        for fake in fakes {
            for (txn, body) in zip(sendsToCustomer(fake), answers(fake)) where seen.insert(txn).inserted {
                shown.append(body)
            }
        }
        return shown
    }

    static let greetingAndNumber = "Hello! This is Nordlicht Systems support. I'll take down your request and get you "
        + "to our team. What is your customer number? If you don't have one, just answer “none”."
    static let askDescription = "Please describe your problem briefly: what isn't working, since when, is there an "
        + "error message?"

    static let hello = [("$1", "Hello, I need help")]

    /// The first process gets the customer's first line and dies: after the
    /// step's commit (the conversation with the question, the line
    /// recorded), or with `atSend` when the question reaches the homeserver
    /// (before its delivery is recorded). Nothing more of it reaches the
    /// homeserver.
    static func firstLineThenCrash(in scene: Scene, atSend: Bool = false) async throws -> FirstProcess {
        let first = try await scene.openFirstStore()
        let toTheCustomer: @Sendable (FakeHomeserver.Seen) -> Bool = { $0.path.hasPrefix("/rooms/!dm:example.org/send/") }
        let process = try await FirstProcess.start(
            on: first, in: scene, messages: fromCustomer(hello), crashAfter: atSend ? nil : "saveConversation",
            homeserverDiesToo: true, diesAtSend: atSend ? toTheCustomer : nil)
        await process.waitUntilDead()
        return process
    }

    /// The restart after ``firstLineThenCrash(in:atSend:)``: the same batch
    /// again, with the customer's answer "none"; waits for two texts to them.
    static func restartWhereTheCustomerAnswersNone(in scene: Scene) async throws -> RestartedProcess {
        try await RestartedProcess.start(on: try scene.openStore(), in: scene,
                                         fake: homeserver(fromCustomer(hello + [("$2", "none")])),
                                         alsoUntil: { answers($0).count >= 2 })
    }

    /// The bots answered the customer's first line (the conversation with
    /// the question and the line's record committed) and the process died
    /// before the question left. The line is skipped after the restart (it
    /// is recorded), so without more the customer would wait forever. The
    /// question was kept in the stored conversation until sent: the
    /// restarted process sends it, under the transaction id it was given,
    /// and the customer's answer continues the intake.
    /// (Fails without the kept question: nothing reaches the customer.)
    @Test func anIntakeQuestionLostInACrashBeforeItWasSentIsAskedOnceAfterTheRestart() async throws {
        let scene = try Scene()
        defer { scene.remove() }
        let firstProcess = try await Self.firstLineThenCrash(in: scene)
        #expect(Self.answers(firstProcess.fake).isEmpty, "the process died before the question left")
        await firstProcess.end()

        let restarted = try await Self.restartWhereTheCustomerAnswersNone(in: scene)
        #expect(Self.customerRoom([firstProcess.fake, restarted.fake]) == [Self.greetingAndNumber, Self.askDescription],
                "\(Self.answers(restarted.fake))")
        #expect(Self.sendsToCustomer(restarted.fake).first?.hasPrefix("sb-ask-") == true)
        // Reported sent, it is no longer kept: a later restart sends nothing again.
        var kept: String?
        for _ in 0..<10_000 {
            kept = try await restarted.store.conversations(unexpiredAt: scene.clock.date).first
                .map { String(decoding: $0.state, as: UTF8.self) }
            if kept?.contains("sb-ask-") == false { break }
            await Task.yield()
        }
        #expect(kept?.contains("sb-ask-") == false, "\(kept ?? "")")
        await restarted.stop()
        firstProcess.release()
    }

    /// The question's `PUT` reached the homeserver and the process died
    /// before its delivery was reported. After the restart it is sent again
    /// under the same transaction id: the homeserver keeps one event, so
    /// the customer sees the question once.
    @Test func anIntakeQuestionSentJustBeforeTheCrashIsOneEventAfterTheRestart() async throws {
        let scene = try Scene()
        defer { scene.remove() }
        let firstProcess = try await Self.firstLineThenCrash(in: scene, atSend: true)
        #expect(Self.answers(firstProcess.fake) == [Self.greetingAndNumber])
        await firstProcess.end()

        let restarted = try await Self.restartWhereTheCustomerAnswersNone(in: scene)
        #expect(Self.sendsToCustomer(restarted.fake).first == Self.sendsToCustomer(firstProcess.fake).first,
                "sent again under its transaction id")
        #expect(Self.customerRoom([firstProcess.fake, restarted.fake]) == [Self.greetingAndNumber, Self.askDescription])
        await restarted.stop()
        firstProcess.release()
    }

    /// The gateway stayed down longer than the homeserver is sure to
    /// deduplicate (``MatrixChatNetwork/resendWindow``): the question kept
    /// since is not sent again blindly under its old id (a homeserver that
    /// forgot it would show it twice without a word); it is said again with
    /// an apology, under a new transaction id.
    @Test func anIntakeQuestionKeptLongerThanTheResendWindowIsAskedAgainWithAnApology() async throws {
        let scene = try Scene()
        defer { scene.remove() }
        let firstProcess = try await Self.firstLineThenCrash(in: scene)
        await firstProcess.end()
        scene.clock.advance(by: .seconds(21 * 60))

        let restarted = try await RestartedProcess.start(
            on: try scene.openStore(), in: scene, fake: Self.homeserver(Self.fromCustomer(Self.hello)),
            alsoUntil: { !Self.answers($0).isEmpty })
        #expect(Self.answers(restarted.fake) == [
            "Sorry for the wait – I was restarted, and my last message may not have reached you:\n"
                + Self.greetingAndNumber])
        #expect(Self.sendsToCustomer(restarted.fake).first?.hasPrefix("sb-ask-") == true)
        await restarted.stop()
        firstProcess.release()
    }

    /// An agent's `!next` takes a ticket in the ticket's update; the process
    /// dies right after that commit, before the answer was sent. Delivered
    /// again, the `!next` does not take a second ticket; its answer (which
    /// ticket Anna holds now) was written to the outbox with the update and
    /// reaches her after the restart, once; her next `!next` takes the next
    /// ticket and is answered.
    @Test func anAgentsNextTakesOneTicketAndIsAnsweredOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let scene = try Scene(annaOnMatrix: true)
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        let numbers = try await Self.waitingTickets(3, in: first, at: scene.clock.date)
        let next = (id: "$n1", sender: "@anna:example.org", room: "!anna:example.org", text: "!next")
        // The process dies whole: nothing more reaches the store or the homeserver.
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: [next],
                                                        crashAfter: "updateTicket", homeserverDiesToo: true)
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead)
        #expect(try await first.ticket(numbers[0])?.ticket.assignee == "anna")
        await firstProcess.end()

        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene,
            fake: Self.homeserver([next, (id: "$n2", sender: "@anna:example.org", room: "!anna:example.org",
                                          text: "!next")]))
        await Self.waitFor { !Self.toAnna(restarted.fake).isEmpty }
        var assignees: [String?] = []
        for number in numbers { assignees.append(try await second.ticket(number)?.ticket.assignee) }
        #expect(assignees == ["anna", "anna", nil], "one ticket per !next")
        #expect(Self.toAnna(firstProcess.fake).isEmpty, "the first process died before the answer went out")
        await Self.waitFor { Self.toAnna(restarted.fake).count >= 2 }
        let answers = Self.toAnna(restarted.fake)
        #expect(answers.count == 2, "\(answers)")
        #expect(answers.filter { $0.contains("\(numbers[0])") }.count == 1, "\(answers)")
        #expect(answers.filter { $0.contains("\(numbers[1])") }.count == 1, "\(answers)")
        // The first answer came from the outbox: its transaction id is its entry's.
        let answer = try #require(try await second.pages(of: numbers[0]).first { $0.step == PageDraft.commandAnswerStep })
        #expect(answer.target == "@anna:example.org" && answer.text.contains("\(numbers[0])"))
        #expect(Self.sendsToAnna(restarted.fake).first == "sb-page-\(answer.id.rawValue)")
        await restarted.stop()
        firstProcess.release()
    }

    /// The answer to `!next` reached the homeserver and the process died
    /// before its delivery was recorded (and before the `/sync` position
    /// moved on). After the restart the `!next` is skipped, and the answer,
    /// still pending in the outbox, is sent again with the same transaction
    /// id: the homeserver keeps one event per transaction id, so Anna sees
    /// it once. Her next `!next` gets one answer of its own.
    @Test func anAnswerSentJustBeforeTheCrashIsOneEventAfterTheRestart() async throws {
        let scene = try Scene(annaOnMatrix: true)
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        let numbers = try await Self.waitingTickets(2, in: first, at: scene.clock.date)
        let next = (id: "$n1", sender: "@anna:example.org", room: "!anna:example.org", text: "!next")
        // The answer's PUT reaches the homeserver; then the process dies.
        let firstProcess = try await FirstProcess.start(
            on: first, in: scene, messages: [next], homeserverDiesToo: true,
            diesAtSend: { $0.path.hasPrefix("/rooms/!anna:example.org/send/") })
        await firstProcess.waitUntilDead()
        let firstFake = firstProcess.fake
        #expect(Self.toAnna(firstFake).count == 1 && Self.toAnna(firstFake)[0].contains("\(numbers[0])"))
        await firstProcess.end()

        let second = try scene.openStore()
        let answer = try #require(try await second.pages(of: numbers[0]).first { $0.step == PageDraft.commandAnswerStep })
        #expect(answer.sentAt == nil, "the crash came before the delivery was recorded")
        let restarted = try await RestartedProcess.start(
            on: second, in: scene,
            fake: Self.homeserver([next, (id: "$n2", sender: "@anna:example.org", room: "!anna:example.org",
                                          text: "!next")]),
            alsoUntil: { Self.toAnna($0).count >= 2 })
        #expect(try await second.ticket(numbers[0])?.ticket.assignee == "anna")
        #expect(try await second.ticket(numbers[1])?.ticket.assignee == "anna")
        // Sent again under the same transaction id: one event at the homeserver.
        let sent = Self.sendsToAnna(restarted.fake)
        #expect(sent.count == 2 && sent[0] == Self.sendsToAnna(firstFake)[0], "\(sent)")
        let events = Set(Self.sendsToAnna(firstFake) + sent)
        #expect(events.count == 2, "one event per command: \(events)")
        let new = Self.toAnna(restarted.fake).dropFirst()
        #expect(new.count == 1 && new.allSatisfy { $0.contains("\(numbers[1])") }, "\(new)")
        var resent: PageRecord?
        for _ in 0..<10_000 {
            resent = try await second.pages(of: numbers[0]).first { $0.id == answer.id }
            if resent?.sentAt != nil { break }
            await Task.yield()
        }
        #expect(resent?.sentAt != nil, "the delivery is recorded after the restart")
        await restarted.stop()
        firstProcess.release()
    }

    /// Anna's `!reply` is attached to the customer's ticket in its update;
    /// the process dies right after that commit, before the reply was
    /// relayed. The customer gets the agent's words once after the restart
    /// (from the outbox, in the same commit), Anna her "sent" once, and the
    /// `!reply` delivered again is not attached a second time.
    @Test func anAgentsReplyReachesTheCustomerOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let scene = try Scene(annaOnMatrix: true)
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        let ticket = try await Self.customersTicket(in: first, at: scene.clock.date)
        let reply = (id: "$r1", sender: "@anna:example.org", room: "!anna:example.org",
                     text: "!reply \(ticket.rawValue) Please unplug the projector for a minute")
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: [reply],
                                                        crashAfter: "updateTicket", homeserverDiesToo: true)
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead)
        #expect(Self.answers(firstProcess.fake).isEmpty && Self.toAnna(firstProcess.fake).isEmpty)
        await firstProcess.end()

        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver([reply]),
            alsoUntil: { !Self.answers($0).isEmpty && !Self.toAnna($0).isEmpty })
        let told = Self.answers(restarted.fake)
        #expect(told.count == 1 && told[0].contains("Please unplug the projector for a minute"), "\(told)")
        #expect(Self.toAnna(restarted.fake).count == 1, "\(Self.toAnna(restarted.fake))")
        let events = try await second.events(of: ticket)
        #expect(events.filter { $0.kind == .agentReply }.count == 1, "\(events)")
        let pages = try await second.pages(of: ticket)
        #expect(pages.map(\.stepLabel).sorted() == ["command answer", "customer notice"])
        await restarted.stop()
        firstProcess.release()
    }

    /// A customer's `!cancel` withdraws their ticket in its update; the
    /// process dies right after that commit, before they were told. After
    /// the restart they are told once (from the outbox), and the `!cancel`
    /// delivered again is not answered "nothing to cancel".
    @Test func aCustomersCancelIsAnsweredOnceWhenTheProcessDiesAfterItsUpdate() async throws {
        let scene = try Scene()
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        let ticket = try await Self.customersTicket(in: first, at: scene.clock.date)
        let cancel = [("$c1", "!cancel")]
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: Self.fromCustomer(cancel),
                                                        crashAfter: "updateTicket", homeserverDiesToo: true)
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead)
        #expect(try await first.ticket(ticket)?.ticket.state == .cancelled)
        #expect(Self.answers(firstProcess.fake).isEmpty)
        await firstProcess.end()

        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver(Self.fromCustomer(cancel)),
            alsoUntil: { !Self.answers($0).isEmpty })
        let told = Self.answers(restarted.fake)
        #expect(told == ["Your ticket \(ticket) is withdrawn. If you need help again, just write to me."], "\(told)")
        await restarted.stop()
        firstProcess.release()
    }

    /// The process dies right after the ticket's commit, before the
    /// customer was told its number. The message that made it is recorded
    /// as handled (it is skipped when delivered again), so the confirmation
    /// was written to the outbox in the same commit: after the restart it
    /// reaches the customer, once, with a transaction id derived from its
    /// outbox id (a copy sent before the crash would be the same event).
    @Test func theConfirmationOfATicketReachesTheCustomerAfterACrashBeforeItWasSent() async throws {
        let scene = try Scene()
        defer { scene.remove() }
        let first = try await scene.openFirstStore()
        // The next message's step makes the ticket; the process dies after its commit, whole:
        // the step makes no store call between that commit and its lines (the conversation
        // is saved with the ticket), so a crash of the store alone would not stop them.
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: Self.fromCustomer(Self.intake),
                                                        crashAfter: "createTicket", armedWhenHandled: "$3",
                                                        homeserverDiesToo: true)
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead)
        #expect(try await first.openTickets().count == 1)
        #expect(!Self.answers(firstProcess.fake).contains { $0.contains("#1") }, "\(Self.answers(firstProcess.fake))")
        await firstProcess.end()

        let second = try scene.openStore()
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver(Self.fromCustomer(Self.intake)),
            alsoUntil: { !Self.answers($0).isEmpty })
        let tickets = try await second.openTickets()
        #expect(tickets.count == 1, "the severity is not taken again")
        let told = Self.answers(restarted.fake)
        #expect(told.count == 1 && told[0].contains("#1") && told[0].contains("saved"), "\(told)")
        let confirmation = try #require(try await second.pages(of: tickets[0].number).first {
            $0.step == PageDraft.customerConfirmationStep
        })
        #expect(confirmation.target == Self.customer)
        let sends = restarted.fake.seen.filter {
            $0.method == "PUT" && $0.path.hasPrefix("/rooms/!dm:example.org/send/")
        }
        #expect(sends.map { $0.path.components(separatedBy: "/").last } == ["sb-page-\(confirmation.id.rawValue)"])
        await restarted.stop()
        firstProcess.release()
    }

    /// A KB article solved it: the customer's "yes" ends the conversation
    /// (its delete), and the process dies right after that commit. The
    /// "yes" is recorded as handled in the delete's transaction, so the
    /// restarted adapter does not hand it to the bots again — where it
    /// would start a new conversation and be answered with a greeting.
    @Test func aYesThatEndedTheConversationIsNotHandledAgainAfterACrashRightAfterTheDelete() async throws {
        let scene = try Scene(kbArticles: ["KB-1012-vpn-connection-drops.md"])
        defer { scene.remove() }
        let lines = [("$1", "Hello, I need help"), ("$2", "none"),
                     ("$3", "The VPN connection drops every few minutes"), ("$4", "yes")]
        let first = try await scene.openFirstStore()
        let firstProcess = try await FirstProcess.start(on: first, in: scene, messages: Self.fromCustomer(lines),
                                                        crashAfter: "deleteConversation")
        await firstProcess.waitUntilDead()
        #expect(firstProcess.isDead,
                "the article was offered and the yes ended the conversation: \(Self.answers(firstProcess.fake))")
        #expect(try await first.conversations(unexpiredAt: scene.clock.date).isEmpty)
        #expect(try await first.counters("deflected") == ["KB-1012": 1])
        await firstProcess.end()

        let second = try scene.openStore()
        let handled = Mutex<[String]>([])
        let restarted = try await RestartedProcess.start(
            on: second, in: scene, fake: Self.homeserver(Self.fromCustomer(lines + [("$5", "Hello again")])),
            onHandled: { message in handled.withLock { $0.append(message.sourceID ?? "?") } })
        #expect(handled.withLock { $0 } == ["$5"], "only the new line reaches the bots")
        #expect(try await second.counters("deflected") == ["KB-1012": 1])
        #expect(try await second.openTickets().isEmpty)
        await restarted.stop()
        firstProcess.release()
    }
}
