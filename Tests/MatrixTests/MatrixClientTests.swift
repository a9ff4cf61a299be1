import Core
import Foundation
import Matrix
import Synchronization
import Testing

/// The session: rate limits, expired tokens, paths, the sync loop's
/// position and device, backoff — against a scripted homeserver on a
/// ManualClock (no sleeps).
@Suite struct MatrixClientTests {
    let homeserver = URL(string: "http://127.0.0.1:8008")!

    func client(_ fake: FakeHomeserver, clock: ManualClock, credentials: MatrixCredentials = .password("pw"),
                device: String? = nil) -> MatrixClient<ManualClock> {
        MatrixClient(homeserver: homeserver, userID: "@bot:example.org", credentials: credentials, deviceID: device,
                     transport: fake, clock: clock, logger: .disabled)
    }

    static func loginAnswer(_ seen: FakeHomeserver.Seen, token: String = "T1") -> (Int, JSONValue) {
        let device = seen.body?["device_id"]?.string ?? "NEWDEVICE"
        return (200, .object(["access_token": .string(token), "user_id": .string("@bot:example.org"),
                              "device_id": .string(device)]))
    }

    @Test func aRateLimitIsWaitedOutForRetryAfterMillisecondsThenTheSendIsRepeated() async throws {
        let clock = ManualClock()
        let fake = FakeHomeserver { seen in
            if seen.path == "/login" { return Self.loginAnswer(seen) }
            return (429, json(#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}"#))
        }
        let client = client(fake, clock: clock)
        let sending = Task {
            try await client.send(room: "!r:example.org", type: "m.room.message", transactionID: "t1",
                                  content: json(#"{"msgtype":"m.notice","body":"hi"}"#))
        }
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now.advanced(by: .milliseconds(1500)))
        fake.replace { _ in (200, json(#"{"event_id":"$e1"}"#)) }
        clock.advance(by: .milliseconds(1500))
        #expect(try await sending.value == "$e1")
        let sends = fake.seen.filter { $0.method == "PUT" }
        #expect(sends.count == 2)
        #expect(sends.allSatisfy { $0.path == "/rooms/!r:example.org/send/m.room.message/t1" })
    }

    @Test func anExpiredTokenLogsInAgainAsTheSameDeviceAndRepeatsTheRequestOnce() async throws {
        let clock = ManualClock()
        let fake = FakeHomeserver { seen in
            switch (seen.path, seen.token) {
            case ("/login", _): return Self.loginAnswer(seen, token: seen.body?["device_id"] == nil ? "T1" : "T2")
            case (_, "T1"): return (401, json(#"{"errcode":"M_UNKNOWN_TOKEN","error":"expired","soft_logout":true}"#))
            default: return (200, json(#"{"room_id":"!r:example.org"}"#))
            }
        }
        let client = client(fake, clock: clock)
        try await client.login()
        #expect(await client.deviceID == "NEWDEVICE")
        #expect(try await client.join("#support:example.org") == "!r:example.org")
        let logins = fake.seen.filter { $0.path == "/login" }
        #expect(logins.count == 2)
        #expect(logins.last?.body?["device_id"]?.string == "NEWDEVICE")
        #expect(await client.accessToken == "T2")
        #expect(fake.seen.last?.token == "T2")
    }

    @Test func anExpiredAccessTokenIsAnErrorNotALoginLoop() async throws {
        let fake = FakeHomeserver { _ in (401, json(#"{"errcode":"M_UNKNOWN_TOKEN","error":"gone"}"#)) }
        let client = client(fake, clock: ManualClock(), credentials: .accessToken("given"))
        await #expect(throws: MatrixError.self) { try await client.join("!r:example.org") }
        #expect(fake.seen.count == 1)
        #expect(!fake.seen.contains { $0.path == "/login" })
    }

    @Test func aTokenOfAnotherUserIsRefusedClearly() async throws {
        let fake = FakeHomeserver { _ in (200, json(#"{"user_id":"@someone:example.org"}"#)) }
        let client = client(fake, clock: ManualClock(), credentials: .accessToken("given"))
        do {
            try await client.login()
            Issue.record("logged in as the wrong user")
        } catch let error as MatrixClientError {
            #expect(error.description.contains("@someone:example.org"))
            #expect(error.description.contains("@bot:example.org"))
        }
    }

    @Test func pathPartsAndQueryValuesArePercentEncoded() {
        let url = MatrixPath.url(URL(string: "https://hs.example/")!,
                                 ["rooms", "!abc/def:hs.example", "send", "m.room.message", "sb-page-7"],
                                 query: [("since", "s1_2 3&x=y")])
        #expect(url.absoluteString == "https://hs.example/_matrix/client/v3/rooms/%21abc%2Fdef%3Ahs.example/send/"
            + "m.room.message/sb-page-7?since=s1_2%203%26x%3Dy")
    }

    @Test func anErrorAnswerIsReadWithItsCodeAndAnythingElseNamesTheStatus() {
        let limited = MatrixError.from(status: 429, body: Data(#"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":20}"#.utf8))
        #expect(limited.errcode == "M_LIMIT_EXCEEDED" && limited.retryAfterMilliseconds == 20 && limited.status == 429)
        let html = MatrixError.from(status: 502, body: Data("<html>Bad Gateway</html>".utf8))
        #expect(html.errcode == "HTTP_502")
        #expect(html.description.contains("Bad Gateway"))
    }
}

@Suite struct SyncBackoffTests {
    @Test func delaysGrowWithJitterUpToTheCapAndStartOverAfterASuccess() {
        var random = SeededRandom(seed: 42)
        var backoff = SyncBackoff(base: .seconds(1), cap: .seconds(8))
        var delays: [Duration] = []
        for _ in 0..<6 { delays.append(backoff.failed(random: &random)) }
        let steps: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8)]
        for (delay, step) in zip(delays, steps) {
            #expect(delay >= step / 2 && delay <= step, "\(delay) outside [\(step / 2), \(step)]")
        }
        // Jitter: two gateways with different draws do not wait the same.
        var other = SeededRandom(seed: 7)
        var second = SyncBackoff(base: .seconds(1), cap: .seconds(8))
        let otherDelays = (0..<6).map { _ in second.failed(random: &other) }
        #expect(otherDelays != delays)
        backoff.succeeded()
        #expect(backoff.failed(random: &random) <= .seconds(1))
    }

    @Test func aRateLimitWaitsWhatTheServerSaysWithinTheCap() {
        var random = SeededRandom(seed: 1)
        var backoff = SyncBackoff(base: .seconds(1), cap: .seconds(60))
        #expect(backoff.rateLimited(retryAfterMilliseconds: 2500, random: &random) == .milliseconds(2500))
        #expect(backoff.rateLimited(retryAfterMilliseconds: 3_600_000, random: &random) == .seconds(60))
        #expect(backoff.rateLimited(retryAfterMilliseconds: 0, random: &random) == .milliseconds(10))
    }
}

@Suite struct MatrixSyncerTests {
    /// A homeserver whose `/sync` answers batch `n` for `since` `s(n-1)`,
    /// up to `s(limit)`; after that it fails (the loop then sleeps on the
    /// ManualClock instead of spinning).
    static func homeserver(limit: Int = 3) -> FakeHomeserver {
        FakeHomeserver { seen in
            switch seen.path {
            case "/login": MatrixClientTests.loginAnswer(seen)
            case "/user/@bot:example.org/filter": (200, json(#"{"filter_id":"F1"}"#))
            case "/sync":
                if let n = seen.query["since"].flatMap({ Int($0.dropFirst()) }), n >= limit {
                    (502, .string("no more"))
                } else {
                    (200, .object(["next_batch": .string("s\((seen.query["since"].flatMap { Int($0.dropFirst()) } ?? 0) + 1)")]))
                }
            default: (404, json(#"{"errcode":"M_UNRECOGNIZED"}"#))
            }
        }
    }

    final class Batches: Sendable {
        let list = Mutex<[MatrixSyncer<ManualClock>.Batch]>([])
    }

    @Test func aFreshAccountSyncsHistoryOnceWithoutWaitingAndMarksItInitialThenLongPollsFromThere() async throws {
        let clock = ManualClock()
        let fake = Self.homeserver()
        let storage = MemoryMatrixStateStorage()
        let client = MatrixClient(homeserver: URL(string: "http://hs")!, userID: "@bot:example.org",
                                  credentials: .password("pw"), deviceID: nil, transport: fake, clock: clock,
                                  logger: .disabled)
        let syncer = MatrixSyncer(client: client, storage: storage, clock: clock, logger: .disabled)
        let batches = Batches()
        let task = Task {
            try await syncer.run(health: { _ in }) { batch in batches.list.withLock { $0.append(batch) } }
        }
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        _ = try? await task.value
        let list = batches.list.withLock { $0 }
        #expect(list.map(\.isInitial) == [true, false, false])
        let syncs = fake.seen.filter { $0.path == "/sync" }
        #expect(syncs.first?.query["timeout"] == "0" && syncs.first?.query["since"] == nil)
        #expect(syncs.dropFirst().first?.query["timeout"] == "30000" && syncs.dropFirst().first?.query["since"] == "s1")
        #expect(syncs.allSatisfy { $0.query["filter"] == "F1" })
        // The uploaded filter keeps messages and the bot's own events (leaving
        // those out made Synapse answer the bot's sends later; see `filter`).
        let filter = fake.seen.first { $0.path == "/user/@bot:example.org/filter" }?.body
        #expect(filter?["room"]?["timeline"]?["types"]?.array?.contains(.string("m.room.message")) == true)
        #expect(filter?["room"]?["timeline"]?["not_senders"] == nil)
        // The position is stored only after a batch was handled.
        #expect(try await storage.load(MatrixStateKey.since) != nil)
        #expect(try await storage.load(MatrixStateKey.deviceID) == "NEWDEVICE")
    }

    @Test func aRestartContinuesFromTheStoredPositionAsTheStoredDevice() async throws {
        let clock = ManualClock()
        let fake = Self.homeserver(limit: 42)
        let storage = MemoryMatrixStateStorage([MatrixStateKey.since: "s41", MatrixStateKey.deviceID: "OLDDEVICE"])
        let client = MatrixClient(homeserver: URL(string: "http://hs")!, userID: "@bot:example.org",
                                  credentials: .password("pw"), deviceID: nil, transport: fake, clock: clock,
                                  logger: .disabled)
        let syncer = MatrixSyncer(client: client, storage: storage, clock: clock, logger: .disabled)
        let batches = Batches()
        let task = Task {
            try await syncer.run(health: { _ in }) { batch in batches.list.withLock { $0.append(batch) } }
        }
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        _ = try? await task.value
        #expect(batches.list.withLock { $0.first?.isInitial } == false)
        #expect(fake.seen.first { $0.path == "/sync" }?.query["since"] == "s41")
        #expect(fake.seen.first { $0.path == "/login" }?.body?["device_id"]?.string == "OLDDEVICE")
    }

    @Test func aFailingHomeserverIsRetriedAfterABackoffOnTheClock() async throws {
        let clock = ManualClock()
        let fake = FakeHomeserver { _ in (502, .string("bad gateway")) }
        let client = MatrixClient(homeserver: URL(string: "http://hs")!, userID: "@bot:example.org",
                                  credentials: .password("pw"), deviceID: nil, transport: fake, clock: clock,
                                  logger: .disabled)
        var syncer = MatrixSyncer(client: client, storage: MemoryMatrixStateStorage(), clock: clock, logger: .disabled)
        syncer.backoffBase = .seconds(2)
        let healths = Mutex<[MatrixSyncer<ManualClock>.Health]>([])
        let task = Task { [syncer] in
            try await syncer.run(health: { h in healths.withLock { $0.append(h) } }) { _ in }
        }
        #expect(await clock.waitForSleepers(1))
        #expect(fake.seen.count == 1)
        let wait = clock.nextDeadline.map { clock.now.duration(to: $0) } ?? .zero
        #expect(wait >= .seconds(1) && wait <= .seconds(2))
        fake.replace { seen in
            switch seen.path {
            case "/login": MatrixClientTests.loginAnswer(seen)
            case "/sync" where seen.query["since"] == nil: (200, json(#"{"next_batch":"s1"}"#))
            case "/sync": (502, .string("down again"))
            default: (200, json(#"{"filter_id":"F"}"#))
            }
        }
        clock.advance(by: wait)
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        _ = try? await task.value
        #expect(healths.withLock { $0.first }.map { if case .failing = $0 { true } else { false } } == true)
        #expect(healths.withLock { $0.contains(.syncing) })
    }
}
