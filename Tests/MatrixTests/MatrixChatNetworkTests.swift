import Bots
import Core
import Desk
import Foundation
import Matrix
import MatrixAdapter
import Synchronization
import TestSupport
import Testing

/// The adapter against a scripted homeserver on a ManualClock: pages,
/// transaction ids, direct rooms, invites, retries.
@Suite struct MatrixChatNetworkTests {
    final class Recorder: Sendable {
        let deliveries = Mutex<[ChatDelivery]>([])
        let events = Mutex<[ChatEvent]>([])
    }

    /// A homeserver whose first `/sync` brings `first`, then holds; `send`
    /// answers sends (default: an event id).
    static func homeserver(first: String = #"{"next_batch":"s1"}"#,
                           send: @escaping @Sendable (FakeHomeserver.Seen) -> (Int, JSONValue) = { _ in
                               (200, json(#"{"event_id":"$e"}"#))
                           }) -> FakeHomeserver {
        FakeHomeserver { seen in
            switch (seen.method, seen.path) {
            case ("POST", "/login"): MatrixClientTests.loginAnswer(seen)
            case ("POST", "/user/@bot:example.org/filter"): (200, json(#"{"filter_id":"F"}"#))
            case ("GET", "/sync"): seen.query["since"] == nil ? (200, json(first)) : (FakeHomeserver.hold, ok)
            case ("GET", "/user/@bot:example.org/account_data/m.direct"): (404, json(#"{"errcode":"M_NOT_FOUND"}"#))
            case ("POST", "/createRoom"): (200, json(#"{"room_id":"!dm:example.org"}"#))
            case ("POST", let path) where path.hasPrefix("/join/"): (200, .object(["room_id": .string(String(path.dropFirst(6)))]))
            case ("PUT", let path) where path.hasPrefix("/rooms/"): send(seen)
            default: (200, ok)
            }
        }
    }

    func start(_ fake: FakeHomeserver, clock: ManualClock, recorder: Recorder,
               invitesFrom: [String] = [":example.org"], rooms: [String] = [],
               storage: any MatrixStateStorage = MemoryMatrixStateStorage(), readReceipts: Bool = false)
        async -> (MatrixChatNetwork<ManualClock>, Task<Void, any Error>)
    {
        let configuration = MatrixNetworkConfiguration(
            homeserver: URL(string: "http://hs")!, userID: "@bot:example.org", credentials: .password("pw"), rooms: rooms,
            invitesFrom: invitesFrom, encryptedRoomText: "encrypted", readReceipts: readReceipts)
        let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: fake, syncTransport: fake,
                                        storage: storage, deviceID: nil, clock: clock,
                                        logger: .disabled)
        let task = Task {
            try await network.run(events: { e in recorder.events.withLock { $0.append(e) } },
                                  deliveries: { d in recorder.deliveries.withLock { $0.append(d) } })
        }
        while !recorder.events.withLock({ $0.contains(.connected(network: "mx")) }) { await Task.yield() }
        return (network, task)
    }

    func waitFor(_ condition: () -> Bool) async {
        for _ in 0..<200_000 where !condition() { await Task.yield() }
    }

    @Test func aPageToAnAgentOpensADirectRoomAndItsResendKeepsTheTransactionID() async throws {
        let clock = ManualClock()
        let fake = Self.homeserver()
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: clock, recorder: recorder)
        let page = ChatAction(network: "mx", recipient: .user("@anna:example.org"), text: "P1 #7 Kieler Werft AG: VPN down",
                              lane: .urgent, deliveryID: 7)
        await network.send(page)
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        await network.send(page)  // the outbox sends it again (no confirmation in time, or after a restart)
        await waitFor { recorder.deliveries.withLock { $0.count } == 2 }

        let created = fake.seen.filter { $0.path == "/createRoom" }
        #expect(created.count == 1)
        #expect(created.first?.body?["invite"] == .array([.string("@anna:example.org")]))
        #expect(created.first?.body?["is_direct"] == .bool(true))
        #expect(fake.seen.contains { $0.method == "PUT" && $0.path == "/user/@bot:example.org/account_data/m.direct"
            && $0.body?["@anna:example.org"] == .array([.string("!dm:example.org")]) })
        let sends = fake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/") }
        #expect(sends.map(\.path) == Array(repeating: "/rooms/!dm:example.org/send/m.room.message/sb-page-7", count: 2))
        #expect(sends.first?.body?["msgtype"] == .string("m.text"))
        #expect(sends.first?.body?["m.mentions"] == .object(["user_ids": .array([.string("@anna:example.org")])]))
        #expect(recorder.deliveries.withLock { $0 }.allSatisfy { if case .delivered(7, _) = $0 { true } else { false } })
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aDirectRoomMadeBeforeACrashButMissingFromMDirectIsFoundNotMadeAgain() async throws {
        // The last process created !made (anna invited) and died before it
        // stored m.direct. !left: anna left it; !group: three members.
        let clock = ManualClock()
        let members: [String: String] = [
            "!group:example.org": #"{"chunk":[{"type":"m.room.member","state_key":"@bot:example.org","content":{"membership":"join"}},{"type":"m.room.member","state_key":"@anna:example.org","content":{"membership":"join"}},{"type":"m.room.member","state_key":"@otto:example.org","content":{"membership":"join"}}]}"#,
            "!left:example.org": #"{"chunk":[{"type":"m.room.member","state_key":"@bot:example.org","content":{"membership":"join"}},{"type":"m.room.member","state_key":"@anna:example.org","content":{"membership":"leave"}}]}"#,
            "!made:example.org": #"{"chunk":[{"type":"m.room.member","state_key":"@bot:example.org","content":{"membership":"join"}},{"type":"m.room.member","state_key":"@anna:example.org","content":{"membership":"invite","is_direct":true}}]}"#,
        ]
        let base = Self.homeserver()
        let fake = FakeHomeserver { seen in
            switch (seen.method, seen.path) {
            case ("GET", "/joined_rooms"):
                (200, json(#"{"joined_rooms":["!group:example.org","!left:example.org","!made:example.org"]}"#))
            case ("GET", let path) where path.hasSuffix("/members"):
                (200, json(members[String(path.dropFirst("/rooms/".count).dropLast("/members".count))] ?? "{}"))
            default: base.answerForTests(seen)
            }
        }
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: clock, recorder: recorder)
        let page = ChatAction(network: "mx", recipient: .user("@anna:example.org"), text: "P1 #7 Kieler Werft AG: VPN down",
                              lane: .urgent, deliveryID: 7)
        await network.send(page)  // the page re-sent after the restart
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        #expect(!fake.seen.contains { $0.path == "/createRoom" })
        let sends = fake.seen.filter { $0.method == "PUT" && $0.path.hasPrefix("/rooms/") }
        #expect(sends.map(\.path) == ["/rooms/!made:example.org/send/m.room.message/sb-page-7"])
        // m.direct is repaired, so the next start knows the room at once.
        #expect(fake.seen.contains { $0.method == "PUT" && $0.path == "/user/@bot:example.org/account_data/m.direct"
            && $0.body == json(#"{"@anna:example.org":["!made:example.org"]}"#) })
        // A user with no such room gets a new one; the rooms are not scanned again.
        await network.send(ChatAction(network: "mx", recipient: .user("@otto:example.org"), text: "P2 #8", lane: .urgent,
                                      deliveryID: 8))
        await waitFor { recorder.deliveries.withLock { $0.count } == 2 }
        #expect(fake.seen.filter { $0.path == "/createRoom" }.count == 1)
        #expect(fake.seen.filter { $0.path == "/joined_rooms" }.count == 1)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aPageIsNotHeldUpBehindATextStillGoingOutToAnotherRoom() async throws {
        // The homeserver takes its time with the customer's room (the PUT
        // is never answered here); the page to the agents' room goes out.
        let clock = ManualClock()
        let fake = Self.homeserver(send: { seen in
            seen.path.hasPrefix("/rooms/!slow:example.org/") ? (FakeHomeserver.hold, ok) : (200, json(#"{"event_id":"$e"}"#))
        })
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: clock, recorder: recorder)
        await network.send(ChatAction(network: "mx", recipient: .channel("!slow:example.org"), text: "Your ticket is saved"))
        await waitFor { fake.seen.contains { $0.path.hasPrefix("/rooms/!slow:example.org/send/") } }
        await network.send(ChatAction(network: "mx", recipient: .channel("!agents:example.org"), text: "P1 #5",
                                      lane: .urgent, deliveryID: 5))
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        #expect(recorder.deliveries.withLock { $0 }.contains { if case .delivered(5, _) = $0 { true } else { false } })
        // A second text to the slow room waits for the first (order per room).
        await network.send(ChatAction(network: "mx", recipient: .channel("!slow:example.org"), text: "second"))
        await network.send(ChatAction(network: "mx", recipient: .channel("!agents:example.org"), text: "P2 #6",
                                      lane: .urgent, deliveryID: 6))
        await waitFor { recorder.deliveries.withLock { $0.count } == 2 }
        #expect(fake.seen.filter { $0.path.hasPrefix("/rooms/!slow:example.org/send/") }.count == 1)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aHomeserverErrorIsRetriedAfterABackoffWithTheSameTransactionIDAndARefusalFailsThePage() async throws {
        let clock = ManualClock()
        let failures = Mutex(1)
        let fake = Self.homeserver(send: { seen in
            if seen.path.hasSuffix("sb-page-9") { return (403, json(#"{"errcode":"M_FORBIDDEN","error":"not in room"}"#)) }
            let fail = failures.withLock { n in defer { n -= 1 }; return n > 0 }
            return fail ? (502, .string("bad gateway")) : (200, json(#"{"event_id":"$e"}"#))
        })
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: clock, recorder: recorder)
        await network.send(ChatAction(network: "mx", recipient: .channel("!agents:example.org"), text: "P1 #8",
                                      lane: .urgent, deliveryID: 8))
        #expect(await clock.waitForSleepers(1), "the send loop backs off on the clock")
        #expect(recorder.deliveries.withLock { $0.isEmpty })
        clock.advance(by: .seconds(1))
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        let tries = fake.seen.filter { $0.path.hasSuffix("/sb-page-8") }
        #expect(tries.count == 2)
        await network.send(ChatAction(network: "mx", recipient: .channel("!agents:example.org"), text: "P1 #9",
                                      lane: .urgent, deliveryID: 9))
        await waitFor { recorder.deliveries.withLock { $0.count } == 2 }
        let reports = recorder.deliveries.withLock { $0 }
        #expect(reports.first.map { if case .delivered(8, _) = $0 { true } else { false } } == true)
        #expect(reports.last.map { if case .failed(9, let reason) = $0 { reason.contains("M_FORBIDDEN") } else { false } }
            == true)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func invitesAreAcceptedOnlyFromAllowedUsersAndADirectOneBecomesTheirRoom() async throws {
        let clock = ManualClock()
        let first = #"""
            {"next_batch":"s1","rooms":{"invite":{
              "!ok:example.org":{"invite_state":{"events":[{"type":"m.room.member","state_key":"@bot:example.org","sender":"@cust:example.org","content":{"membership":"invite","is_direct":true}}]}},
              "!spam:evil.example":{"invite_state":{"events":[{"type":"m.room.member","state_key":"@bot:example.org","sender":"@spam:evil.example","content":{"membership":"invite","is_direct":true}}]}}
            }}}
            """#
        let fake = Self.homeserver(first: first)
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: clock, recorder: recorder)
        await waitFor { fake.seen.contains { $0.path == "/rooms/!spam:evil.example/leave" } }
        #expect(fake.seen.contains { $0.method == "POST" && $0.path == "/join/!ok:example.org" })
        #expect(!fake.seen.contains { $0.path == "/join/!spam:evil.example" })
        #expect(fake.seen.contains { $0.method == "POST" && $0.path == "/rooms/!spam:evil.example/leave" })
        // A text to the customer goes to the room they invited the bot to.
        await network.send(ChatAction(network: "mx", recipient: .user("@cust:example.org"), text: "Hello"))
        await waitFor { fake.seen.contains { $0.path.hasPrefix("/rooms/!ok:example.org/send/") } }
        #expect(!fake.seen.contains { $0.path == "/createRoom" })
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func configuredRoomsAreJoinedByIDOrAlias() async throws {
        let clock = ManualClock()
        let fake = Self.homeserver()
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: clock, recorder: recorder,
                                          rooms: ["!agents:example.org", "#support:example.org"])
        await waitFor { fake.seen.contains { $0.path == "/join/#support:example.org" } }
        #expect(fake.seen.contains { $0.method == "POST" && $0.path == "/join/!agents:example.org" })
        #expect(fake.seen.contains { $0.method == "POST" && $0.path == "/join/#support:example.org" })
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    /// Storage whose writes of the sync position fail: the process "dies"
    /// after the bots handled a batch and before its position was stored.
    final class PositionNeverStored: MatrixStateStorage {
        let inner: MemoryMatrixStateStorage
        init(_ inner: MemoryMatrixStateStorage) { self.inner = inner }
        func load(_ key: String) async throws -> String? { try await inner.load(key) }
        func save(_ key: String, _ value: String) async throws {
            if key == MatrixStateKey.since { throw MatrixClientError("killed before the position was stored") }
            try await inner.save(key, value)
        }
    }

    /// A homeserver with the direct room `!dm` of `@cust`, whose `/sync`
    /// from `s1` brings `messages` (event id, text) and then holds.
    static func customerWrites(_ messages: [(String, String)]) -> FakeHomeserver {
        let events = messages.map { id, text in
            #"{"type":"m.room.message","sender":"@cust:example.org","event_id":"\#(id)","content":{"msgtype":"m.text","body":"\#(text)"}}"#
        }
        let batch = #"{"next_batch":"s2","rooms":{"join":{"!dm:example.org":{"timeline":{"events":[\#(events.joined(separator: ","))]}}}}}"#
        let base = homeserver()
        return FakeHomeserver { seen in
            switch (seen.method, seen.path) {
            case ("GET", "/sync"): seen.query["since"] == "s1" ? (200, json(batch)) : (FakeHomeserver.hold, ok)
            case ("GET", "/user/@bot:example.org/account_data/m.direct"):
                (200, json(#"{"@cust:example.org":["!dm:example.org"]}"#))
            default: base.answerForTests(seen)
            }
        }
    }

    func texts(_ recorder: Recorder) -> [String] {
        recorder.events.withLock { $0.compactMap { if case .message(let m) = $0 { m.text } else { nil } } }
    }

    /// Memory storage plus the event ids the bots recorded as handled (in
    /// the gateway: their step's commit in the store).
    final class RecordedByTheBots: MatrixStateStorage {
        let inner: MemoryMatrixStateStorage
        let recorded: Set<String>
        let asked = Mutex<[[String]]>([])
        init(_ inner: MemoryMatrixStateStorage, recorded: Set<String>) {
            self.inner = inner
            self.recorded = recorded
        }
        func load(_ key: String) async throws -> String? { try await inner.load(key) }
        func save(_ key: String, _ value: String) async throws { try await inner.save(key, value) }
        func handledEvents(among ids: [String]) async throws -> Set<String> {
            asked.withLock { $0.append(ids) }
            return recorded.intersection(ids)
        }
    }

    @Test func aBatchFetchedAgainAfterACrashBeforeItsPositionWasStoredIsNotAnsweredTwice() async throws {
        let memory = MemoryMatrixStateStorage([MatrixStateKey.since: "s1"])
        // First run: both messages reach the bots, then storing the position fails.
        let clock = ManualClock()
        let first = Recorder()
        let (network, task) = await start(Self.customerWrites([("$a", "Kundennummer 10042"), ("$b", "PIN 4711")]),
                                          clock: clock, recorder: first, storage: PositionNeverStored(memory))
        await waitFor { texts(first).count == 2 }
        #expect(texts(first) == ["Kundennummer 10042", "PIN 4711"])
        let ids = first.events.withLock { $0.compactMap { if case .message(let m) = $0 { m.sourceID } else { nil } } }
        #expect(ids == ["$a", "$b"])
        // The sync loop backs off and fetches the same batch again: nothing new for the bots.
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(5))
        #expect(await clock.waitForSleepers(1))
        #expect(texts(first).count == 2)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
        #expect(try await memory.load(MatrixStateKey.since) == "s1")

        // After the restart the batch comes again from the stored position,
        // with a message written meanwhile: the bots recorded the first two
        // as handled (in their steps' commits), so only the new one is answered.
        let second = Recorder()
        let storage = RecordedByTheBots(memory, recorded: Set(ids))
        let (restarted, task2) = await start(
            Self.customerWrites([("$a", "Kundennummer 10042"), ("$b", "PIN 4711"), ("$c", "still down")]),
            clock: ManualClock(), recorder: second, storage: storage)
        await waitFor { texts(second).count == 1 }
        #expect(texts(second) == ["still down"])
        for _ in 0..<200_000 where try await memory.load(MatrixStateKey.since) != "s2" { await Task.yield() }
        await restarted.shutdown(message: "", deadline: .zero)
        _ = try? await task2.value
        #expect(try await memory.load(MatrixStateKey.since) == "s2")
        // One look-up, for the batch from the position the run started at.
        #expect(storage.asked.withLock { $0 } == [["$a", "$b", "$c"]])
    }

    /// Storage that records when the adapter forgets old handled-event records.
    final class ForgetSpy: MatrixStateStorage {
        let inner = MemoryMatrixStateStorage([MatrixStateKey.since: "s1"])
        let cutoffs = Mutex<[Date]>([])
        func load(_ key: String) async throws -> String? { try await inner.load(key) }
        func save(_ key: String, _ value: String) async throws { try await inner.save(key, value) }
        func forgetHandledEvents(before instant: Date) async throws { cutoffs.withLock { $0.append(instant) } }
    }

    @Test func recordsOfHandledEventsAreForgottenOnceTheirBatchesPositionIsStoredAtMostHourly() async throws {
        let base = Self.homeserver()
        let fake = FakeHomeserver { seen in
            guard seen.method == "GET", seen.path == "/sync" else { return base.answerForTests(seen) }
            switch seen.query["since"] {
            case "s1": return (200, json(#"{"next_batch":"s2"}"#))
            case "s2": return (200, json(#"{"next_batch":"s3"}"#))
            case "s3": return (200, json(#"{"next_batch":"s4"}"#))
            default: return (FakeHomeserver.hold, ok)
            }
        }
        let clock = ManualClock()
        let storage = ForgetSpy()
        let (network, task) = await start(fake, clock: clock, recorder: Recorder(), storage: storage)
        await waitFor { fake.seen.contains { $0.query["since"] == "s4" } }
        await waitFor { !storage.cutoffs.withLock { $0 }.isEmpty }
        // The batch from s2 shows s2 was stored: what was recorded before the
        // batch from s1 began is forgotten; the batch from s3 comes within the hour.
        #expect(storage.cutoffs.withLock { $0 } == [clock.date])
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func withReadReceiptsTheLastHandledMessageOfEachRoomIsMarkedReadAndWithoutThemNothingIs() async throws {
        let messages = [("$a", "Kundennummer 10042"), ("$b", "PIN 4711")]
        let memory = MemoryMatrixStateStorage([MatrixStateKey.since: "s1"])
        let fake = Self.customerWrites(messages)
        let recorder = Recorder()
        let (network, task) = await start(fake, clock: ManualClock(), recorder: recorder, storage: memory,
                                          readReceipts: true)
        await waitFor { fake.seen.contains { $0.path.contains("/receipt/") } }
        await waitFor { texts(recorder).count == 2 }
        let receipts = fake.seen.filter { $0.path.contains("/receipt/") }
        #expect(receipts.map(\.method) == ["POST"])
        #expect(receipts.map(\.path) == ["/rooms/!dm:example.org/receipt/m.read/$b"], "one receipt covers both")
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value

        let quiet = Self.customerWrites(messages)
        let second = Recorder()
        let (off, task2) = await start(quiet, clock: ManualClock(), recorder: second,
                                       storage: MemoryMatrixStateStorage([MatrixStateKey.since: "s1"]))
        await waitFor { texts(second).count == 2 }
        for _ in 0..<1000 { await Task.yield() }
        #expect(!quiet.seen.contains { $0.path.contains("/receipt/") })
        await off.shutdown(message: "", deadline: .zero)
        _ = try? await task2.value
    }

    /// A transport that logs each request as it arrives and holds a send's
    /// `PUT` until ``release()`` (a homeserver still working on the page).
    final class HeldSends: MatrixHTTPTransport {
        let inner: FakeHomeserver
        let arrivals = Mutex<[String]>([])
        private let gate = Gate()
        init(_ inner: FakeHomeserver) { self.inner = inner }

        var heldCount: Int { gate.heldCount }

        func release() { gate.open() }

        func perform(_ request: MatrixHTTPRequest) async throws -> MatrixHTTPResponse {
            let isSend = request.method == "PUT" && request.url.path.contains("/send/")
            let since = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems?
                .first { $0.name == "since" }?.value
            arrivals.withLock { $0.append(isSend ? "PUT send" : request.url.path.hasSuffix("/sync")
                ? "sync since \(since ?? "-")" : "\(request.method) \(request.url.path)") }
            if isSend { await gate.wait() }
            return try await inner.perform(request)
        }
    }

    /// Runs the adapter over `transport` with bots that page anna for each
    /// customer message, from inside the batch's handling (as the bots do).
    func startPaging(_ transport: HeldSends, clock: ManualClock, recorder: Recorder)
        async -> (MatrixChatNetwork<ManualClock>, Task<Void, any Error>)
    {
        let configuration = MatrixNetworkConfiguration(
            homeserver: URL(string: "http://hs")!, userID: "@bot:example.org", credentials: .password("pw"), rooms: [],
            invitesFrom: [], encryptedRoomText: "encrypted", repollHold: .milliseconds(5))
        let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: transport,
                                        syncTransport: transport,
                                        storage: MemoryMatrixStateStorage([MatrixStateKey.since: "s1"]),
                                        deviceID: nil, clock: clock, logger: .disabled)
        let task = Task {
            try await network.run(events: { e in
                recorder.events.withLock { $0.append(e) }
                if case .message(let m) = e {
                    await network.send(ChatAction(network: "mx", recipient: .user("@anna:example.org"),
                                                  text: "PAGE #7 P1: \(m.text)", lane: .urgent, deliveryID: 7))
                }
            }, deliveries: { d in recorder.deliveries.withLock { $0.append(d) } })
        }
        return (network, task)
    }

    @Test func aPageQueuedWhileABatchIsHandledReachesTheHomeserverBeforeTheNextSyncWhichWaitsForItsAnswer() async throws {
        let held = HeldSends(Self.customerWrites([("$a", "VPN down")]))
        let clock = ManualClock()
        let recorder = Recorder()
        let (network, task) = await startPaging(held, clock: clock, recorder: recorder)
        await waitFor { held.heldCount == 1 }
        #expect(held.heldCount == 1, "the page's PUT is under way")
        for _ in 0..<5000 { await Task.yield() }
        #expect(!held.arrivals.withLock { $0 }.contains("sync since s2"), "the re-poll waits for the page's answer")
        held.release()
        await waitFor { held.arrivals.withLock { $0 }.contains("sync since s2") }
        let order = held.arrivals.withLock { $0 }.filter { $0 == "PUT send" || $0.hasPrefix("sync since s") }
        #expect(order == ["sync since s1", "PUT send", "sync since s2"])
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        #expect(recorder.deliveries.withLock { $0.count } == 1)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aPageWhoseAnswerIsSlowHoldsTheNextSyncNoLongerThanTheHold() async throws {
        let held = HeldSends(Self.customerWrites([("$a", "VPN down")]))
        let clock = ManualClock()
        let recorder = Recorder()
        let (network, task) = await startPaging(held, clock: clock, recorder: recorder)
        await waitFor { held.heldCount == 1 }
        #expect(await clock.waitForSleepers(1), "the hold's timer")
        clock.advance(by: .milliseconds(4))
        for _ in 0..<5000 { await Task.yield() }
        #expect(!held.arrivals.withLock { $0 }.contains("sync since s2"))
        clock.advance(by: .milliseconds(1))
        await waitFor { held.arrivals.withLock { $0 }.contains("sync since s2") }
        #expect(held.arrivals.withLock { $0 }.contains("sync since s2"), "5 ms on: the re-poll goes out, page or not")
        #expect(held.heldCount == 1, "while the page is still unanswered")
        held.release()
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        #expect(recorder.deliveries.withLock { $0.count } == 1)
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }

    @Test func aPageSentBeforeTheFirstBatchIsHandledDoesNotTakeTheAgentsRoomForTheAgentsDirectRoom() async throws {
        // After a restart the outbox sends what it owes as soon as the
        // session is ready. The bot sits in the agents' room with anna
        // alone; until the configured rooms are known, that room looks like
        // a direct room of the bot and anna.
        let base = Self.homeserver()
        let fake = FakeHomeserver { seen in
            switch (seen.method, seen.path) {
            case ("GET", "/joined_rooms"): (200, json(#"{"joined_rooms":["!agents:example.org"]}"#))
            case ("GET", "/rooms/!agents:example.org/members"):
                (200, json(#"{"chunk":[{"type":"m.room.member","state_key":"@bot:example.org","content":{"membership":"join"}},{"type":"m.room.member","state_key":"@anna:example.org","content":{"membership":"join"}}]}"#))
            default: base.answerForTests(seen)
            }
        }
        let configuration = MatrixNetworkConfiguration(
            homeserver: URL(string: "http://hs")!, userID: "@bot:example.org", credentials: .password("pw"),
            rooms: ["!agents:example.org"], invitesFrom: [], encryptedRoomText: "encrypted")
        let network = MatrixChatNetwork(name: "mx", configuration: configuration, transport: fake, syncTransport: fake,
                                        storage: MemoryMatrixStateStorage(), deviceID: nil, clock: ManualClock(),
                                        logger: .disabled)
        let recorder = Recorder()
        let task = Task {
            try await network.run(events: { e in
                recorder.events.withLock { $0.append(e) }
                if case .connected = e {
                    await network.send(ChatAction(network: "mx", recipient: .user("@anna:example.org"),
                                                  text: "PAGE #7 P1", lane: .urgent, deliveryID: 7))
                }
            }, deliveries: { d in recorder.deliveries.withLock { $0.append(d) } })
        }
        await waitFor { recorder.deliveries.withLock { $0.count } == 1 }
        let sends = fake.seen.filter { $0.method == "PUT" && $0.path.contains("/send/") }.map(\.path)
        #expect(sends == ["/rooms/!dm:example.org/send/m.room.message/sb-page-7"], "a direct room of its own")
        #expect(fake.seen.contains { $0.path == "/createRoom" })
        await network.shutdown(message: "", deadline: .zero)
        _ = try? await task.value
    }
}
