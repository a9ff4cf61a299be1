import Bots
import Core
import Desk
import Foundation
import Matrix

/// The adapter's moving parts, on one actor: the room book, the send queue,
/// the status, and the sync and send loops.
actor MatrixEngine<C: WallClock> {
    let network: String
    let configuration: MatrixNetworkConfiguration
    let client: MatrixClient<C>
    let storage: any MatrixStateStorage
    let clock: C
    let logger: Logger
    private(set) var book: MatrixRoomBook
    private(set) var status = ChatNetworkStatus(.disconnected, detail: "not started")
    private var events: (@Sendable (ChatEvent) async -> Void)?
    private var deliveries: (@Sendable (ChatDelivery) async -> Void)?
    private var queue: [Queued] = []
    private var sequence: UInt64 = 0
    private let runID = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private var stopped: CheckedContinuation<Void, Never>?
    private var isStopping = false
    private var roomsJoinedAt: Date?
    private var startupTask: Task<Void, Never>?
    private var isStartedUp = false
    private var explained: Set<String> = []
    private var explainedLoaded = false
    private var wasReady = false
    private var scannedForDirectRooms = false
    /// The messages of the batch under way handed to the bots, in memory (a
    /// batch fetched again after a failed position write skips them); nil
    /// until the record an earlier version stored is read.
    private var handled: HandledEvents?
    /// The position of the first batch of this run: a batch fetched from it
    /// may bring messages the bots handled before a restart, which their
    /// step's commit recorded (``MatrixStateStorage/handledEvents(among:)``).
    /// Later positions were reached by this run.
    private var firstSince: String??
    /// The previous batch's position and when its handling began
    /// (``forgetOldHandledEvents(_:)``).
    private var previousBatch: (since: String?, startedAt: Date)?
    /// No older handled-event records are forgotten before this.
    private var nextForgetAt: Date?
    /// Recipients with a text under way.
    private var inFlight: Set<ChatRecipient> = []
    /// The sends under way, by queue order (cancelled when `run` ends).
    private var sendTasks: [UInt64: Task<Void, Never>] = [:]
    /// A send failed: no send starts before this instant (the backoff).
    private var pausedUntil: WallInstant?
    private var pauseTask: Task<Void, Never>?
    private var backoff = SyncBackoff(base: .milliseconds(500), cap: .seconds(30))
    /// While a sync batch is handled: the urgent sends it started (by
    /// queue order); nil between batches.
    private var batchUrgentSends: Set<UInt64>?
    /// The urgent sends the re-poll waits for, and the waiting sync loop
    /// (``holdRepoll(for:)``).
    private var holdingFor: Set<UInt64> = []
    private var repollWaiter: CheckedContinuation<Void, Never>?
    private var holdNumber: UInt64 = 0
    /// The pages whose `PUT` is under way (by queue order), since when;
    /// other texts wait for them (``MatrixNetworkConfiguration/pageFirstHold``).
    private var pagesUnderway: [UInt64: WallInstant] = [:]
    private var pageHoldTimer: Task<Void, Never>?
    /// Asked just before a text with a delivery id (a page) starts its
    /// `PUT` (``MatrixChatNetwork/setDeliveryGate(_:)``); nil: always yes.
    private var deliveryGate: (@Sendable () -> Bool)?
    private var random = SeededRandom()

    /// A text waiting to go out.
    struct Queued {
        var action: ChatAction
        var queuedAt: Date
        var order: UInt64
        var sending = false
        var attempts = 0
    }

    /// The storage key of the rooms already told they are encrypted.
    static var explainedKey: String { "encrypted_rooms_explained" }

    init(network: String, configuration: MatrixNetworkConfiguration, client: MatrixClient<C>,
         storage: any MatrixStateStorage, clock: C, logger: Logger) {
        self.network = network
        self.configuration = configuration
        self.client = client
        self.storage = storage
        self.clock = clock
        self.logger = logger
        book = MatrixRoomBook(ownUserID: configuration.userID, network: network)
    }

    var backlog: ChatBacklog {
        let oldest = queue.map(\.queuedAt).min()
        return ChatBacklog(queuedTexts: queue.count,
                           oldestWait: oldest.map { .milliseconds(Int64(clock.date.timeIntervalSince($0) * 1000)) })
    }

    // MARK: - Running

    func run(events: @escaping @Sendable (ChatEvent) async -> Void,
             deliveries: @escaping @Sendable (ChatDelivery) async -> Void) async throws {
        self.events = events
        self.deliveries = deliveries
        status = ChatNetworkStatus(.connecting, detail: "\(configuration.homeserver.absoluteString), logging in")
        let syncer = MatrixSyncer(client: client, storage: storage, clock: clock, logger: logger)
        let syncTask = Task {
            try await syncer.run(health: { await self.health($0) }, handle: { await self.handle($0) })
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if isStopping { continuation.resume() } else { stopped = continuation }
            }
        } onCancel: {
            Task { await self.stop() }
        }
        syncTask.cancel()
        endHold()
        pauseTask?.cancel()
        pageHoldTimer?.cancel()
        for task in sendTasks.values { task.cancel() }
        status = ChatNetworkStatus(.disconnected, detail: "stopped")
    }

    /// Sends what is queued for up to `deadline`, then stops `run`.
    func shutdown(deadline: Duration) async {
        let end = clock.now.advanced(by: deadline)
        while !queue.isEmpty, clock.now < end, status.isReady {
            try? await clock.sleep(for: .milliseconds(20))
        }
        stop()
    }

    func stop() {
        isStopping = true
        stopped?.resume()
        stopped = nil
    }

    private func health(_ health: MatrixSyncer<C>.Health) async {
        switch health {
        case .syncing:
            status = ChatNetworkStatus(.ready, detail: configuration.homeserver.absoluteString)
            if !wasReady {
                wasReady = true
                logger.info("syncing", ["user": configuration.userID])
                await events?(.connected(network: network))
                startSends()
            }
        case .failing(let reason, let retryIn):
            status = ChatNetworkStatus(.disconnected, detail: "\(configuration.homeserver.absoluteString), "
                + "\(reason), retrying in \(retryIn.wholeMilliseconds) ms")
            if wasReady {
                wasReady = false
                await events?(.disconnected(network: network, reason: reason))
            }
        }
    }

    // MARK: - Incoming

    /// One sync batch: rooms joined on the first one, then what the book
    /// makes of it.
    private func handle(_ batch: MatrixSyncer<C>.Batch) async {
        await startUp()
        if book.configured.count < configuration.rooms.count, let joinedAt = roomsJoinedAt,
           clock.date.timeIntervalSince(joinedAt) > 60 {
            await joinConfiguredRooms()
        }
        if !explainedLoaded {
            explainedLoaded = true
            let stored = (try? await storage.load(Self.explainedKey)) ?? nil
            explained = Set((stored ?? "").split(separator: "\n").map(String.init))
        }
        if handled == nil {
            let stored = (try? await storage.load(MatrixStateKey.handledEvents)) ?? nil
            handled = stored.map(HandledEvents.init(stored:)) ?? HandledEvents(since: nil)
        }
        if handled?.since != batch.since { handled = HandledEvents(since: batch.since) }
        let startedAt = clock.date
        if firstSince == nil { firstSince = .some(batch.since) }
        batchUrgentSends = []
        var directChanged = false
        // Per room, the last message handed to the bots (direct, or addressed to the bot).
        var lastHandled: [String: String] = [:]
        let outcomes = book.apply(batch.response, initial: batch.isInitial)
        let recorded = await recordedAsHandled(outcomes, since: batch.since)
        for outcome in outcomes {
            switch outcome {
            case .message(let message, let room, let eventID):
                if let eventID, handled?.ids.contains(eventID) == true || recorded.contains(eventID) {
                    logger.notice("already handled before a restart; not answered again",
                                  ["event": eventID, "from": message.sender.nick])
                    continue
                }
                await events?(.message(message))
                if let eventID {
                    handled?.ids.append(eventID)
                    if message.place == .direct || message.addressedToBot { lastHandled[room] = eventID }
                }
            case .invited(let room, let inviter, let direct):
                directChanged = await answerInvite(room: room, inviter: inviter, direct: direct) || directChanged
            case .encryptedRoom(let room):
                await explainEncryption(room)
            case .directRoomLearnt:
                directChanged = true
            }
        }
        if directChanged { await saveDirect() }
        if configuration.readReceipts { markRead(lastHandled) }
        let urgent = batchUrgentSends ?? []
        batchUrgentSends = nil
        forgetOldHandledEvents(batch.since)
        previousBatch = (batch.since, startedAt)
        await holdRepoll(for: urgent)
    }

    /// The messages of a batch fetched from the run's first position that
    /// the bots recorded as handled before a restart (one store read; none
    /// for later batches, whose messages only this run has seen). A failed
    /// read skips nothing: a message is answered again rather than lost.
    private func recordedAsHandled(_ outcomes: [MatrixRoomBook.Outcome], since: String?) async -> Set<String> {
        guard since != nil, firstSince == .some(since) else { return [] }
        let ids = outcomes.compactMap { outcome -> String? in
            if case .message(_, _, let eventID) = outcome { eventID } else { nil }
        }
        guard !ids.isEmpty else { return [] }
        do {
            return try await storage.handledEvents(among: ids)
        } catch {
            logger.warning("cannot read which messages were handled before a restart; answering them",
                           ["events": ids.count, "error": "\(error)"])
            return []
        }
    }

    /// How often the records of handled events are pruned.
    static var forgetInterval: TimeInterval { 3600 }

    /// Once an hour, forgets the handled-event records made before the
    /// previous batch began, when that batch's position is stored (this
    /// batch was fetched from a new one): a restart fetches from there or
    /// later, so those events never come again. Beside the sync loop; a
    /// failure is only logged (the next prune takes them).
    private func forgetOldHandledEvents(_ since: String?) {
        guard let previous = previousBatch, previous.since != since else { return }
        let now = clock.date
        if let next = nextForgetAt, now < next { return }
        nextForgetAt = now.addingTimeInterval(Self.forgetInterval)
        let (storage, logger, cutoff) = (self.storage, self.logger, previous.startedAt)
        Task {
            do {
                try await storage.forgetHandledEvents(before: cutoff)
            } catch {
                logger.warning("cannot forget old handled-message records", ["error": "\(error)"])
            }
        }
    }

    /// Sends an `m.read` receipt for the last message the bots handled in
    /// each room (a receipt covers the earlier ones), beside the sync loop
    /// so the next poll does not wait for it; a failure is only logged (the
    /// next message's receipt covers this one).
    private func markRead(_ last: [String: String]) {
        let client = self.client
        let logger = self.logger
        for (room, eventID) in last.sorted(by: { $0.key < $1.key }) {
            Task {
                do {
                    try await client.markRead(room: room, eventID: eventID)
                } catch {
                    logger.warning("cannot send a read receipt", ["room": room, "event": eventID, "error": "\(error)"])
                }
            }
        }
    }

    /// Returns when the urgent sends `orders` (started while a batch was
    /// handled: a page for the message just read) are answered, or after
    /// ``MatrixNetworkConfiguration/repollHold`` on the injected clock,
    /// whichever comes first. The sync loop re-polls after this, so the
    /// homeserver gets the page's `PUT` before the re-poll instead of the
    /// two racing for its one event loop. Bounded, so a slow `PUT` never
    /// holds incoming messages back for longer than the hold.
    private func holdRepoll(for orders: Set<UInt64>) async {
        holdingFor = orders.filter { sendTasks[$0] != nil }
        guard !holdingFor.isEmpty, configuration.repollHold > .zero, !isStopping else {
            holdingFor = []
            return
        }
        holdNumber += 1
        let (clock, hold, number) = (self.clock, configuration.repollHold, holdNumber)
        let timer = Task {
            do { try await clock.sleep(for: hold) } catch { return }
            await self.endHold(number)
        }
        await withCheckedContinuation { repollWaiter = $0 }
        timer.cancel()
    }

    /// Lets the sync loop re-poll; with a number, only if that hold is
    /// still the current one (a late timer never ends a later batch's hold).
    private func endHold(_ number: UInt64? = nil) {
        if let number, number != holdNumber { return }
        holdingFor = []
        repollWaiter?.resume()
        repollWaiter = nil
    }

    /// The start-up work (`m.direct` read, configured rooms joined, direct
    /// rooms missing from `m.direct` found), once, shared by the first
    /// batch and any text sent before it: the outbox sends what it owes as
    /// soon as the session is ready, before the first batch is handled, and
    /// such a text must not look for its room in a book not yet filled (an
    /// agents' room of the bot and one agent, not yet known as configured,
    /// would be taken for that agent's direct room).
    private func startUp() async {
        if isStartedUp { return }
        let task = startupTask ?? Task { await self.joinConfiguredRooms() }
        startupTask = task
        await task.value
        isStartedUp = true
    }

    private func joinConfiguredRooms() async {
        roomsJoinedAt = clock.date
        if let direct = try? await client.accountData("m.direct") { book.applyDirectAccountData(direct) }
        for name in configuration.rooms where !book.configured.values.contains(name) {
            do {
                let id = try await client.join(name)
                book.configure(roomID: id, name: name)
                logger.info("joined", ["room": name, "id": id])
            } catch {
                logger.warning("cannot join", ["room": name, "error": "\(error)"])
            }
        }
        // At start (after the configured rooms are known, so none is taken
        // for a direct room) rather than before the first page, so no page
        // waits for it; when it fails, the first direct room's creation tries again.
        if !scannedForDirectRooms {
            do {
                try await findDirectRooms()
            } catch {
                logger.warning("cannot look for direct rooms missing from m.direct", ["error": "\(error)"])
            }
        }
    }

    /// Joins a room the bot was invited to when the inviter may invite it
    /// (or it is a configured room); declines otherwise. True when a
    /// direct room was added.
    private func answerInvite(room: String, inviter: String, direct: Bool) async -> Bool {
        let configured = configuration.rooms.contains(room)
        guard configured || configuration.mayInvite(inviter) else {
            logger.notice("declining an invite", ["room": room, "from": inviter])
            try? await client.leave(room)
            return false
        }
        do {
            try await client.join(room)
            logger.info("joined on invite", ["room": room, "from": inviter, "direct": direct])
        } catch {
            logger.warning("cannot join on invite", ["room": room, "from": inviter, "error": "\(error)"])
            return false
        }
        if configured { book.configure(roomID: room, name: room) }
        guard direct, !configured else { return false }
        book.addDirect(room: room, user: inviter)
        return true
    }

    /// Says once per room that the bot cannot read encrypted messages.
    private func explainEncryption(_ room: String) async {
        guard !explained.contains(room) else { return }
        explained.insert(room)
        do {
            try await storage.save(Self.explainedKey, explained.sorted().joined(separator: "\n"))
        } catch {
            logger.warning("cannot store the encrypted rooms explained", ["error": "\(error)"])
        }
        logger.notice("encrypted room: explaining once", ["room": room])
        enqueue(ChatAction(network: network, recipient: .channel(room), text: configuration.encryptedRoomText,
                           lane: .priority, isNotice: true))
    }

    /// Learns the direct rooms `m.direct` lacks, once per process (at start,
    /// or else before the first direct room is created): every joined room that is not
    /// configured and holds just the bot and one other user (joined or
    /// invited). A process that stopped between creating a direct room and
    /// storing `m.direct` (a crash, a failed account-data write) left such a
    /// room; without this a second room would be made and a page re-sent
    /// after the crash would arrive twice, once in each (the homeserver
    /// deduplicates a transaction id per room). Rooms created later by this
    /// process are known through the book, so one scan suffices.
    private func findDirectRooms() async throws {
        var found: [(room: String, user: String)] = []
        for room in try await client.joinedRooms() where book.configured[room] == nil && book.directRooms[room] == nil {
            let members = try await client.members(of: room)
            guard members.count == 2, members[configuration.userID] == "join",
                  let other = members.keys.first(where: { $0 != configuration.userID }) else { continue }
            found.append((room, other))
        }
        scannedForDirectRooms = true
        guard !found.isEmpty else { return }
        for (room, user) in found.sorted(by: { $0.room < $1.room }) {
            book.addDirect(room: room, user: user)
            logger.notice("found a direct room missing from m.direct", ["user": user, "room": room])
        }
        await saveDirect()
    }

    private func saveDirect() async {
        do {
            try await client.setAccountData("m.direct", book.directAccountData)
        } catch {
            logger.warning("cannot store m.direct", ["error": "\(error)"])
        }
    }

    // MARK: - Outgoing

    func enqueue(_ action: ChatAction) { enqueue([action]) }

    /// Queues texts (one bot step's, in order), then starts what may go.
    func enqueue(_ actions: [ChatAction]) {
        for action in actions { queueText(action) }
        startSends()
    }

    private func queueText(_ action: ChatAction) {
        if let key = action.replaceKey {
            let superseded = queue.filter { !$0.sending && $0.action.replaceKey == key
                && $0.action.recipient == action.recipient }
            queue.removeAll { !$0.sending && $0.action.replaceKey == key && $0.action.recipient == action.recipient }
            for item in superseded {
                if let id = item.action.deliveryID {
                    report(.failed(id: id, reason: "superseded in the send queue by a newer text"))
                }
            }
        }
        sequence += 1
        queue.append(Queued(action: action, queuedAt: clock.date, order: sequence))
    }

    /// A page: from the outbox (a delivery id) on the urgent lane. A
    /// non-contract announcement comes from the outbox too, on a lower lane.
    static func isPage(_ action: ChatAction) -> Bool { action.deliveryID != nil && action.lane == .urgent }

    private func report(_ delivery: ChatDelivery) {
        guard let deliveries else { return }
        Task { await deliveries(delivery) }
    }

    /// Texts under way at once, each to a different recipient: a page is
    /// not held up behind the customer's notice or another agent's page
    /// (each PUT takes a homeserver round trip); the request client's pool
    /// has as many connections.
    static var maxInFlight: Int { 4 }

    /// The next text to send: the most urgent lane first, pages first in
    /// it, then the oldest, to a recipient with nothing under way (so one
    /// recipient's texts keep their order). While a page's `PUT` is under
    /// way (``MatrixNetworkConfiguration/pageFirstHold``) only pages.
    private func next(onlyPages: Bool) -> Int? {
        func key(_ i: Int) -> (ChatLane, Int, UInt64) {
            (queue[i].action.lane, Self.isPage(queue[i].action) ? 0 : 1, queue[i].order)
        }
        return queue.indices.filter {
            !queue[$0].sending && !inFlight.contains(queue[$0].action.recipient)
                && (!onlyPages || Self.isPage(queue[$0].action))
        }.min { key($0) < key($1) }
    }

    /// Until when other texts wait for the pages under way (nil: they do
    /// not): the latest start of a page still unanswered, plus the hold.
    private func pageHoldEnd() -> WallInstant? {
        guard configuration.pageFirstHold > .zero, let latest = pagesUnderway.values.max() else { return nil }
        let end = latest.advanced(by: configuration.pageFirstHold)
        return clock.now < end ? end : nil
    }

    /// Starts sends again when the page hold runs out (one timer at a time).
    private func armPageHoldTimer(until end: WallInstant) {
        guard pageHoldTimer == nil else { return }
        let clock = self.clock
        pageHoldTimer = Task {
            do { try await clock.sleep(for: clock.now.duration(to: end)) } catch { return }
            await self.pageHoldRanOut()
        }
    }

    private func pageHoldRanOut() {
        pageHoldTimer = nil
        startSends()
    }

    /// Starts sends while there is room under ``maxInFlight``, unless the
    /// session is not ready or a failed send's backoff is under way. Called
    /// whenever that may have changed (a text queued, a send settled, the
    /// session ready, a backoff over), so a page's PUT starts from the call
    /// that queued it, without waking a loop first.
    private func startSends() {
        guard !isStopping, pausedUntil == nil, status.isReady else { return }
        while inFlight.count < Self.maxInFlight {
            let holdEnd = pageHoldEnd()
            guard let index = next(onlyPages: holdEnd != nil) else {
                if let holdEnd, next(onlyPages: false) != nil { armPageHoldTimer(until: holdEnd) }
                break
            }
            let item = queue[index]
            if let expiry = item.action.expiresAt, expiry <= clock.date {
                queue.remove(at: index)
                if let id = item.action.deliveryID { report(.failed(id: id, reason: "expired in the send queue")) }
                continue
            }
            if let id = item.action.deliveryID, let gate = deliveryGate, !gate() {
                queue.remove(at: index)
                logger.notice("page not sent: the delivery gate refused it (the lease view ran out while it waited)",
                              ["page": id])
                report(.withheld(id: id, reason: Self.withheldReason))
                continue
            }
            queue[index].sending = true
            inFlight.insert(item.action.recipient)
            if Self.isPage(item.action) { pagesUnderway[item.order] = clock.now }
            // An urgent text (a page) runs at high priority, so its hops (this
            // actor, the client's, the HTTP read) go ahead of routine work
            // such as decoding a sync answer.
            let priority: TaskPriority? = item.action.lane == .urgent ? .high : nil
            sendTasks[item.order] = Task(priority: priority) { await self.send(item) }
            if item.action.lane == .urgent { batchUrgentSends?.insert(item.order) }
        }
    }

    /// Why a text refused by the delivery gate was not sent.
    static var withheldReason: String { "not sent: the sender may not deliver it now (the delivery gate refused it)" }

    /// Sets the check asked before each page's `PUT` starts (nil: none).
    func setDeliveryGate(_ gate: (@Sendable () -> Bool)?) { deliveryGate = gate }

    /// Holds new sends for `wait` (the later end wins when sends fail together).
    private func pause(for wait: Duration) {
        let end = clock.now.advanced(by: wait)
        if let current = pausedUntil, !(current < end) { return }
        let waiting = pausedUntil != nil
        pausedUntil = end
        if !waiting { pauseTask = Task { await self.waitOutPause() } }
    }

    private func waitOutPause() async {
        while let end = pausedUntil, clock.now < end {
            do {
                try await clock.sleep(for: clock.now.duration(to: end))
            } catch {
                return
            }
        }
        pausedUntil = nil
        pauseTask = nil
        startSends()
    }

    /// Sends one queued text and settles it: removed and reported, or back
    /// in the queue with a backoff for the loop.
    private func send(_ item: Queued) async {
        let result = await deliver(item.action)
        inFlight.remove(item.action.recipient)
        sendTasks[item.order] = nil
        pagesUnderway[item.order] = nil
        if holdingFor.remove(item.order) != nil, holdingFor.isEmpty { endHold() }
        defer { startSends() }
        guard let position = queue.firstIndex(where: { $0.order == item.order }) else { return }
        switch result {
        case .sent:
            backoff.succeeded()
            queue.remove(at: position)
            if let id = item.action.deliveryID {
                report(.delivered(id: id, at: clock.date))
            } else if let txn = item.action.transactionID {
                report(.sent(transactionID: txn, at: clock.date))
            }
        case .refused(let reason):
            queue.remove(at: position)
            logger.warning("cannot send", ["to": item.action.recipient.description, "error": reason])
            if let id = item.action.deliveryID { report(.failed(id: id, reason: reason)) }
        case .retry(let reason):
            queue[position].sending = false
            queue[position].attempts += 1
            let wait = backoff.failed(random: &random)
            logger.warning("send failed; retrying", ["to": item.action.recipient.description, "error": reason,
                                                     "retry_ms": wait.wholeMilliseconds])
            pause(for: wait)
        }
    }

    enum SendResult {
        case sent
        /// The homeserver refused (4xx): sending again would not help.
        case refused(String)
        /// The homeserver could not be reached or failed (5xx): again later,
        /// with the same transaction id.
        case retry(String)
    }

    private func deliver(_ action: ChatAction) async -> SendResult {
        do {
            let room = try await room(for: action.recipient)
            var mentionable = book.members[room] ?? []
            // A page (from the outbox, on the urgent lane) must notify; a
            // non-contract announcement comes from the outbox too but on a
            // lower lane, and is never a page.
            let isPage = action.deliveryID != nil && action.lane == .urgent
            var alert: [String]?
            if case .user(let user) = action.recipient {
                mentionable.insert(user)
                if isPage { alert = [user] }
            } else if isPage {
                alert = []
            }
            mentionable.remove(configuration.userID)
            let content = MatrixMessageFormat.content(action.text, mentionable: mentionable, alert: alert)
            sequence += 1
            let txn = action.transactionID
                ?? MatrixMessageFormat.transactionID(deliveryID: action.deliveryID, run: runID, sequence: sequence)
            try await client.send(room: room, type: "m.room.message", transactionID: txn, content: content)
            return .sent
        } catch let error as MatrixError where error.status == 403 {
            // A direct room the user left (or never joined): forget it, so
            // the next attempt opens a new one (same transaction id).
            if case .user(let user) = action.recipient, let room = book.directRoom(for: user) {
                book.forgetDirect(room: room)
                return .retry("\(error); opening a new direct room")
            }
            return .refused("\(error)")
        } catch let error as MatrixError where (400..<500).contains(error.status) && error.status != 429 {
            return .refused("\(error)")
        } catch let error as MatrixClientError {
            return .refused(error.description)
        } catch {
            return .retry("\(error)")
        }
    }

    /// The room for a recipient: a configured room by its name, a room id
    /// as given, a user's direct room (created when there is none).
    private func room(for recipient: ChatRecipient) async throws -> String {
        await startUp()
        switch recipient {
        case .channel(let name):
            if let id = book.roomID(named: name) { return id }
            if MatrixID.isRoomAlias(name) {
                let id = try await client.join(name)
                book.configure(roomID: id, name: name)
                return id
            }
            throw MatrixClientError("\"\(name)\" is not a room the bot is in")
        case .user(let user):
            if let room = book.directRoom(for: user) { return room }
            guard MatrixID.isUserID(user) else {
                throw MatrixClientError("\"\(user)\" is not a Matrix user id (agents' accounts on a Matrix "
                    + "network are user ids like @anna:example.org)")
            }
            if !scannedForDirectRooms {
                try await findDirectRooms()
                if let room = book.directRoom(for: user) { return room }
            }
            let room = try await client.createDirectRoom(with: user)
            logger.info("created a direct room", ["user": user, "room": room])
            book.addDirect(room: room, user: user)
            // Stored while the first text goes out, not before it: a crash
            // before it is stored is what `findDirectRooms` repairs.
            Task { await self.saveDirect() }
            return room
        }
    }
}

/// The messages handed to the bots from the batch fetched at `since`, as
/// stored: the position on the first line (`-` for none), then one event id
/// a line.
struct HandledEvents: Sendable, Equatable {
    var since: String?
    var ids: [String] = []

    init(since: String?) { self.since = since }

    init(stored: String) {
        var lines = stored.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.isEmpty ? "-" : lines.removeFirst()
        since = first == "-" ? nil : first
        ids = lines.filter { !$0.isEmpty }
    }

    var stored: String { ([since ?? "-"] + ids).joined(separator: "\n") }
}
