import Foundation
import IRC

/// The outgoing lines of one IRC client, throttled and ordered (the seam
/// between Limnoria's `takeMsg` and the socket). Pure: time is passed in.
///
/// ## Lanes, in strict order
/// 1. **immediate** — registration (`PASS`, `CAP`, `NICK`, `USER`,
///    `AUTHENTICATE`), `PONG`, keep-alive `PING`, `QUIT`: never wait for the
///    token bucket (a PONG must not wait behind 200 KB answers). After
///    registration they still take a token when one is there, so the
///    bucket reflects what the server counts.
/// 2. **control** — the session's own commands after registration (`JOIN`,
///    `WHO`, `NICK`, `MONITOR`): throttled, before any text.
/// 3. texts, by ``SendPriority``: **urgent** (pages), **priority** (verified
///    contract customers, open contract tickets, agents' answers),
///    **normal** (unverified conversations), **bulk** (KB, chatter).
///    Throttled. A lane is served only when every lane above it is empty
///    (line by line: a page goes between two lines of a long KB answer).
///
/// ## Fairness within a lane
/// Round-robin per recipient (the case-mapped target), one line per turn:
/// twenty strangers' greetings and one long answer share the lane, each
/// recipient in turn, instead of the first queued holding all the others.
/// One recipient's texts go out in the order queued, and a text's lines
/// go out together: no other text *to the same recipient* comes between
/// them (lines to other recipients may).
///
/// ## Replacing and withdrawing
/// A text may carry a `replaceKey` ("the severity question"). Queuing a
/// new text for the same recipient with the same key drops the older one
/// if it has not started to go out (reported ``Report/superseded(id:)``);
/// ``drop(recipient:replaceKey:)`` withdraws it without a replacement.
///
/// ## Texts
/// A text becomes one or more lines (``IRCLineSplitter``), split when its
/// first line is about to go out, so it uses the relay prefix the server
/// shows for us at that moment.
///
/// ## Batches
/// Several lines may be handed out before they are written: the driver
/// takes every line that may go now (each takes its token, so the flood
/// limits hold line by line), writes them with one `write` — one TCP
/// segment, so the server does not hold the second line of an answer until
/// the receiver acknowledges the first (the 44 ms delayed-ACK stall) — and
/// then confirms the whole batch with ``written(now:)``.
///
/// When the bucket is nearly empty and refills fast (the fast setting:
/// a line every 50 µs once the burst is spent), a text's lines would leave
/// one token apart, each its own write; ngircd relays them as separate
/// packets and, with Nagle on its side, holds the second until the reader
/// acknowledges the first — up to the reader's delayed ACK (40 ms). So a
/// text's next lines wait together until the bucket holds a token for each
/// of them, when that takes at most ``groupWindow``; they then leave in one
/// batch. The rate is the bucket's all the same. With the standard setting
/// (a line every 2 s) no line ever waits for this.
///
/// ## Delivery, expiry, reconnects
/// - A text with an id is reported delivered once all its lines were
///   written to the socket (``written(now:)`` after its last line).
/// - A text with an id goes out only while the caller's delivery gate
///   allows it, asked for each of its lines as it is handed out (not when
///   it was queued): a page waiting behind the flood limit must not leave
///   after the sender lost the right to send it (issue 10, the gateway
///   lease). Refused, the text is removed unwritten and reported
///   ``Report/withheld(id:reason:)``; lines of it handed out earlier stay
///   written (a page cut short is sent again whole by whoever may send).
/// - A text not started by its expiry date is dropped and, with an id,
///   reported expired. A text already started is finished.
/// - When the connection drops (``connectionLost()``), texts stay queued;
///   a text whose lines were partly written — or whose line was being
///   written — is sent again from its first line (a repeated line is better
///   than a lost page). Immediate and control lines belong to the old
///   connection and are dropped.
///
/// ## Cost
/// Every operation is O(1) or O(log n) amortised in the number of queued
/// texts: texts live in a slab, lanes and recipients are ring buffers,
/// expiry is a min-heap; removed texts are skipped lazily (and the lists
/// compacted once removed entries outnumber live ones), never searched for.
public struct SendQueue: Sendable {
    /// A text waiting to be sent.
    public struct Item: Sendable, Hashable {
        public var id: Int64?
        public var target: String
        /// The case-folded target, for per-recipient fairness and replacing.
        public var recipientKey: String
        public var text: String
        public var notice: Bool
        public var action: Bool
        public var priority: SendPriority
        /// A queued text for the same recipient with the same key, not yet
        /// started, is dropped when this one is queued.
        public var replaceKey: String?
        public var expiresAt: Date?
        public var enqueuedAt: Date
        /// The lines, once the item was started.
        var lines: [[UInt8]]?
        /// Lines of `lines` already written.
        var written = 0
        /// Lines of `lines` handed out (written or in flight).
        var handedOut = 0

        public init(id: Int64?, target: String, recipientKey: String? = nil, text: String, notice: Bool = false,
                    action: Bool = false, priority: SendPriority, replaceKey: String? = nil, expiresAt: Date?,
                    enqueuedAt: Date) {
            self.id = id
            self.target = target
            self.recipientKey = recipientKey ?? target.lowercased()
            self.text = text
            self.notice = notice
            self.action = action
            self.priority = priority
            self.replaceKey = replaceKey
            self.expiresAt = expiresAt
            self.enqueuedAt = enqueuedAt
        }
    }

    /// Where a line came from.
    public enum Lane: Sendable, Hashable {
        case immediate
        case control
        case text(SendPriority)
    }

    /// One line to write to the socket, CR LF included.
    public struct Line: Sendable, Hashable {
        public var bytes: [UInt8]
        public var lane: Lane
        /// The id of the text it belongs to, if any.
        public var itemID: Int64?
        /// Whether it is the last line of its text.
        public var completesItem: Bool
    }

    /// What happened to texts with an id.
    public enum Report: Sendable, Hashable {
        case delivered(id: Int64, at: Date)
        case expired(id: Int64)
        /// Replaced by a newer text with the same replace key before it started.
        case superseded(id: Int64)
        case dropped(id: Int64, reason: String)
        /// Not written because the delivery gate refused it when its next
        /// line was about to go (see "Delivery, expiry, reconnects"): the
        /// sender keeps it for whoever may send it.
        case withheld(id: Int64, reason: String)
    }

    /// What is waiting, for metrics and the status page.
    public struct Backlog: Sendable, Hashable {
        /// Texts queued per lane (started ones included).
        public var texts: [SendPriority: Int]
        /// Lines of the started texts not yet written, per lane.
        public var startedLines: [SendPriority: Int]
        /// Immediate and control lines waiting.
        public var sessionLines: Int
        /// When the oldest queued text was queued; nil when none is.
        public var oldestEnqueuedAt: Date?

        /// How long the oldest queued text has waited at `now`.
        public func oldestAge(now: Date) -> TimeInterval? {
            oldestEnqueuedAt.map { max(0, now.timeIntervalSince($0)) }
        }
    }

    public private(set) var bucket: TokenBucket
    private var immediate = RingDeque<[UInt8]>()
    private var control = RingDeque<[UInt8]>()
    private var slab = Slab()
    private var lanes = [LaneQueue](repeating: LaneQueue(), count: SendPriority.allCases.count)
    /// Every queued text in the order queued (removed ones skipped lazily): the oldest is first.
    private var order = RingDeque<Handle>()
    /// Expiry dates of waiting texts (removed and started ones skipped lazily).
    private var expiries = MinHeap()
    /// Recipient and replace key → the waiting text that carries them.
    private var replaceable: [ReplaceSlot: Handle] = [:]
    /// Texts started (split, maybe partly written).
    private var started: Set<Handle> = []
    /// The lines handed out by ``next(now:sendTexts:sendControl:chargeImmediate:format:)`` and not yet
    /// confirmed, in the order handed out.
    public private(set) var inFlight: [Line] = []
    /// The text of each line in ``inFlight`` (nil for session lines).
    private var inFlightHandles: [Handle?] = []
    private var reports: [Report] = []
    /// Set when the last ``next(now:sendTexts:sendControl:chargeImmediate:format:)``
    /// held a text's lines back to send them together: when the bucket
    /// holds enough tokens for them.
    private var textsHeldUntil: Date?

    /// The longest a text's next line waits so that the lines after it can
    /// go in the same write (see "Batches"): well under a delayed ACK
    /// (40 ms), and not noticeable to a reader.
    public static let groupWindow: TimeInterval = 0.005

    /// Why a text refused by the delivery gate was not written.
    public static let withheldReason = "not written: the sender may not deliver it now (the delivery gate refused it)"

    /// An empty queue with a full bucket.
    public init(settings: IRCClientConfiguration.SendQueueSettings, now: Date) {
        bucket = TokenBucket(capacity: settings.burst, interval: settings.interval, now: now)
    }

    // MARK: Adding

    /// Queues a text (see the type's documentation). With a `replaceKey`,
    /// an older waiting text for the same recipient and key is dropped.
    public mutating func enqueue(_ item: Item) {
        if let key = item.replaceKey {
            let slot = ReplaceSlot(recipient: item.recipientKey, key: key)
            if let old = replaceable[slot], slab.contains(old), !started.contains(old) {
                remove(old) { .superseded(id: $0) }
            }
        }
        let handle = slab.insert(item)
        if let key = item.replaceKey { replaceable[ReplaceSlot(recipient: item.recipientKey, key: key)] = handle }
        lanes[item.priority.rawValue].add(handle, recipient: item.recipientKey)
        order.append(handle)
        if let expiry = item.expiresAt { expiries.push(expiry, handle) }
        tidy()
    }

    /// Withdraws the waiting text for `recipient` (case-folded as in
    /// ``Item/recipientKey``) with `replaceKey`, if it has not started;
    /// reported dropped. Returns whether one was withdrawn.
    @discardableResult
    public mutating func drop(recipient: String, replaceKey: String) -> Bool {
        let slot = ReplaceSlot(recipient: recipient, key: replaceKey)
        guard let handle = replaceable[slot], slab.contains(handle), !started.contains(handle) else { return false }
        remove(handle) { .dropped(id: $0, reason: "withdrawn before it was sent: it no longer applies") }
        tidy()
        return true
    }

    /// Queues a line that does not wait for the bucket.
    public mutating func enqueueImmediate(_ bytes: [UInt8]) { immediate.append(bytes) }

    /// Queues one of the session's own throttled commands.
    public mutating func enqueueControl(_ bytes: [UInt8]) { control.append(bytes) }

    // MARK: Taking

    /// The next line to write at `now`, or nil (nothing may go now: see
    /// ``nextDeadline(now:sendTexts:sendControl:)`` for when to ask again).
    /// Ask again for more lines of the same batch; write them in the order
    /// handed out and then call ``written(now:)`` (or ``connectionLost()``).
    ///
    /// - Parameters:
    ///   - sendTexts: whether texts may go (the client is registered and
    ///     has sent its JOINs).
    ///   - sendControl: whether control lines may go (registered).
    ///   - chargeImmediate: whether immediate lines take a token when one
    ///     is there (after registration).
    ///   - mayDeliver: asked before each line of a text with an id is
    ///     handed out; false withholds the text (see "Delivery, expiry,
    ///     reconnects"). Nil: always allowed. Texts without an id are never
    ///     asked about.
    ///   - format: turns a text into its serialised lines (the splitter);
    ///     returns an error text when the text cannot be sent at all.
    public mutating func next(
        now: Date, sendTexts: Bool, sendControl: Bool, chargeImmediate: Bool = true,
        mayDeliver: (() -> Bool)? = nil,
        format: (Item) -> Result<[[UInt8]], SendFailure>
    ) -> Line? {
        if let bytes = immediate.popFirst() {
            if chargeImmediate { bucket.takeIfAvailable(at: now) }
            return handOut(Line(bytes: bytes, lane: .immediate, itemID: nil, completesItem: false), nil)
        }
        guard sendControl, bucket.canTake(at: now) else { return nil }
        if let bytes = control.popFirst() {
            _ = bucket.take(at: now)
            return handOut(Line(bytes: bytes, lane: .control, itemID: nil, completesItem: false), nil)
        }
        guard sendTexts else { return nil }
        expire(now: now)
        defer { tidy() }
        textsHeldUntil = nil
        for priority in SendPriority.allCases {
            switch nextTextLine(priority, now: now, mayDeliver: mayDeliver, format: format) {
            case .none: continue
            case .held(let until):
                textsHeldUntil = until
                return nil
            case .line(let handle, let line):
                _ = bucket.take(at: now)
                return handOut(line, handle)
            }
        }
        return nil
    }

    /// When the lines of a text with `remaining` lines left may go together
    /// (see "Batches"), or nil when the next one may go now: the bucket
    /// holds a token for each of them, or gathering them would take longer
    /// than ``groupWindow``, or the bucket refills too slowly to gather any.
    private func groupReadyDate(remaining: Int, now: Date) -> Date? {
        let fitting = Int(Self.groupWindow / bucket.interval + 1e-6)
        let wanted = min(remaining, Int(bucket.capacity), fitting)
        guard wanted > 1 else { return nil }
        let have = bucket.available(at: now)
        guard have < Double(wanted) - TokenBucket.epsilon else { return nil }
        // A hundredth of a token over, so the last of them finds a whole one.
        return now.addingTimeInterval((Double(wanted) - have + 0.01) * bucket.interval)
    }

    /// Confirms that every line in flight was written to the socket; texts
    /// whose last line was among them are reported delivered, in order.
    public mutating func written(now: Date) {
        guard !inFlight.isEmpty else { return }
        let handles = inFlightHandles
        inFlight.removeAll(keepingCapacity: true)
        inFlightHandles.removeAll(keepingCapacity: true)
        for case let handle? in handles where slab.contains(handle) {
            let done = slab.update(handle) { item in
                item.written += 1
                return item.written >= (item.lines?.count ?? 0)
            }
            guard done else { continue }
            // Its recipient's list let go of it when its last line was handed out.
            let item = slab[handle]
            finish(handle)
            if let id = item.id { reports.append(.delivered(id: id, at: now)) }
        }
        tidy()
    }

    /// The connection is gone: see the type's documentation.
    public mutating func connectionLost() {
        // Texts whose every line was handed out left their recipient's list:
        // they go back to its front, in the order they were queued.
        var requeued: Set<Handle> = []
        for case let handle? in inFlightHandles.reversed() where slab.contains(handle) && !requeued.contains(handle) {
            let item = slab[handle]
            guard let lines = item.lines, item.handedOut == lines.count else { continue }
            requeued.insert(handle)
            lanes[item.priority.rawValue].putBack(handle, recipient: item.recipientKey)
        }
        inFlight.removeAll()
        inFlightHandles.removeAll()
        textsHeldUntil = nil
        immediate.removeAll()
        control.removeAll()
        for handle in started {
            let expiry = slab.update(handle) { item -> Date? in
                item.lines = nil
                item.written = 0
                item.handedOut = 0
                return item.expiresAt
            }
            // Not started any more: it may expire again.
            if let expiry { expiries.push(expiry, handle) }
        }
        started.removeAll()
        tidy()
    }

    /// A fresh registration: the server counts from zero.
    public mutating func resetBucket(now: Date) {
        bucket.reset(now: now)
        textsHeldUntil = nil
    }

    /// Drops texts not yet started whose expiry has passed (reported).
    public mutating func expire(now: Date) {
        while let top = expiries.top, top.date <= now {
            expiries.pop()
            let handle = top.handle
            guard slab.contains(handle), !started.contains(handle) else { continue }
            remove(handle) { .expired(id: $0) }
        }
        tidy()
    }

    /// Drops every text (shutdown): each with an id is reported dropped, in the order queued.
    public mutating func dropAll(reason: String) {
        for handle in order where slab.contains(handle) {
            if let id = slab[handle].id { reports.append(.dropped(id: id, reason: reason)) }
        }
        forgetTexts()
    }

    /// Reports since the last call, in order.
    public mutating func takeReports() -> [Report] {
        defer { reports.removeAll() }
        return reports
    }

    // MARK: Looking

    /// When a line could next be taken, or a text expires; nil when there is
    /// nothing to wait for. `now` or earlier means "now".
    public func nextDeadline(now: Date, sendTexts: Bool, sendControl: Bool) -> Date? {
        var deadline: Date?
        func consider(_ date: Date?) {
            guard let date else { return }
            deadline = deadline.map { min($0, date) } ?? date
        }
        // `tidy()` keeps the heap's top a waiting text's expiry.
        let earliestExpiry = expiries.top?.date
        if !immediate.isEmpty { return now }
        let hasControl = sendControl && !control.isEmpty
        let hasText = sendTexts && hasTexts
        if hasControl { consider(bucket.nextTokenDate(after: now)) }
        if hasText { consider(max(bucket.nextTokenDate(after: now), textsHeldUntil ?? now)) }
        consider(earliestExpiry)
        return deadline
    }

    /// Whether any text (started or waiting) is queued.
    public var hasTexts: Bool { slab.count > 0 }

    /// Whether nothing at all is queued or in flight.
    public var isEmpty: Bool { inFlight.isEmpty && !hasTexts && immediate.isEmpty && control.isEmpty }

    /// Texts queued (started ones included).
    public var textCount: Int { slab.count }

    /// Lines waiting in the immediate and control lanes.
    public var sessionLineCount: Int { immediate.count + control.count }

    /// Queued texts per lane and the oldest one's age (O(lanes + started texts)).
    public var backlog: Backlog {
        var texts: [SendPriority: Int] = [:]
        var startedLines: [SendPriority: Int] = [:]
        for priority in SendPriority.allCases {
            texts[priority] = lanes[priority.rawValue].count
            startedLines[priority] = 0
        }
        for handle in started {
            let item = slab[handle]
            startedLines[item.priority, default: 0] += (item.lines?.count ?? 0) - item.written
        }
        // `tidy()` keeps the first of `order` a queued text.
        return Backlog(texts: texts, startedLines: startedLines, sessionLines: sessionLineCount,
                       oldestEnqueuedAt: order.first.map { slab[$0].enqueuedAt })
    }

    // MARK: Internals

    private mutating func handOut(_ line: Line, _ handle: Handle?) -> Line {
        inFlight.append(line)
        inFlightHandles.append(handle)
        return line
    }

    /// The next line of `priority`'s lane: the next recipient in turn, the
    /// head of their texts (started now if it was not).
    private mutating func nextTextLine(
        _ priority: SendPriority, now: Date, mayDeliver: (() -> Bool)?,
        format: (Item) -> Result<[[UInt8]], SendFailure>
    ) -> NextText {
        let lane = priority.rawValue
        while let recipient = lanes[lane].takeTurn() {
            while let head = lanes[lane].head(of: recipient), !slab.contains(head) {
                lanes[lane].popHead(recipient: recipient, dead: true)
            }
            guard let handle = lanes[lane].head(of: recipient) else {
                lanes[lane].forget(recipient)
                continue
            }
            lanes[lane].endTurn(recipient)
            if let id = slab[handle].id, let mayDeliver, !mayDeliver() {
                // Started or not, it is the head of its recipient's texts.
                lanes[lane].popHead(recipient: recipient)
                finish(handle)
                reports.append(.withheld(id: id, reason: Self.withheldReason))
                continue
            }
            if !started.contains(handle) {
                switch format(slab[handle]) {
                case .success(let lines) where !lines.isEmpty:
                    slab.update(handle) { item in
                        item.lines = lines
                        item.written = 0
                        item.handedOut = 0
                    }
                    started.insert(handle)
                case .success:
                    // Nothing to send (only line breaks): done at once.
                    let id = slab[handle].id
                    lanes[lane].popHead(recipient: recipient)
                    finish(handle)
                    if let id { reports.append(.delivered(id: id, at: now)) }
                    continue
                case .failure(let failure):
                    let id = slab[handle].id
                    lanes[lane].popHead(recipient: recipient)
                    finish(handle)
                    if let id { reports.append(.dropped(id: id, reason: failure.reason)) }
                    continue
                }
            }
            guard let lines = slab[handle].lines else { continue }
            // A text whose group began in this batch goes on while tokens last.
            if !inFlightHandles.contains(handle),
               let until = groupReadyDate(remaining: lines.count - slab[handle].handedOut, now: now)
            {
                lanes[lane].keepTurn(recipient)
                return .held(until: until)
            }
            let index = slab.update(handle) { item -> Int in
                item.handedOut += 1
                return item.handedOut - 1
            }
            // Its last line is out: the recipient's next text may follow in the same batch.
            if index + 1 == lines.count { lanes[lane].popHead(recipient: recipient) }
            return .line(handle, Line(bytes: lines[index], lane: .text(priority), itemID: slab[handle].id,
                                      completesItem: index + 1 == lines.count))
        }
        return .none
    }

    /// What a lane has to send now.
    private enum NextText {
        /// Nothing waiting in this lane.
        case none
        /// Its next text waits until `until` so its lines go together; lower lanes wait too.
        case held(until: Date)
        case line(Handle, Line)
    }

    /// Removes a waiting text (not started) and reports it when it has an id.
    private mutating func remove(_ handle: Handle, report: (Int64) -> Report) {
        let item = slab[handle]
        lanes[item.priority.rawValue].removedLazily()
        finish(handle)
        if let id = item.id { reports.append(report(id)) }
    }

    /// Forgets a text that left the queue (its list entries become dead).
    private mutating func finish(_ handle: Handle) {
        let item = slab.remove(handle)
        lanes[item.priority.rawValue].count -= 1
        started.remove(handle)
        if let key = item.replaceKey {
            let slot = ReplaceSlot(recipient: item.recipientKey, key: key)
            if replaceable[slot] == handle { replaceable[slot] = nil }
        }
    }

    /// Restores the invariants the read-only accessors rely on: the first
    /// of `order` and the top of `expiries` are live (and the top waiting);
    /// lists with more dead entries than live ones are compacted, so a
    /// queue that replaced or expired many texts does not keep them.
    private mutating func tidy() {
        let slab = self.slab
        let started = self.started
        let live = slab.count
        if live == 0 {
            // Nothing queued: every list holds only dead entries; start afresh (memory back too).
            if slab.capacity > 0 || !order.isEmpty || expiries.count > 0 { forgetTexts() }
            return
        }
        while let first = order.first, !slab.contains(first) { order.popFirst() }
        while let top = expiries.top, !slab.contains(top.handle) || started.contains(top.handle) { expiries.pop() }
        if order.count > 2 * live + 64 { order.filter(slab.contains) }
        if expiries.count > 2 * live + 64 { expiries.filter { slab.contains($0) && !started.contains($0) } }
        for lane in lanes.indices where lanes[lane].dead > lanes[lane].count + 64 {
            lanes[lane].compact(isLive: slab.contains)
        }
        if replaceable.count > 2 * live + 64 { replaceable = replaceable.filter { slab.contains($0.value) } }
    }

    /// Empties the text structures (no text is queued, or all are dropped).
    private mutating func forgetTexts() {
        slab = Slab()
        lanes = [LaneQueue](repeating: LaneQueue(), count: SendPriority.allCases.count)
        order.removeAll()
        expiries = MinHeap()
        replaceable = [:]
        started = []
        for index in inFlightHandles.indices { inFlightHandles[index] = nil }
    }
}

/// Why a text cannot be sent at all.
public struct SendFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

// MARK: - Storage

/// A text's place in the slab; the generation tells a reused slot from the text that was there.
struct Handle: Sendable, Hashable {
    var index: Int32
    var generation: UInt32
}

/// A recipient and a replace key.
struct ReplaceSlot: Sendable, Hashable {
    var recipient: String
    var key: String
}

/// Queued texts by handle: O(1) insert, look-up and remove, slots reused.
struct Slab: Sendable {
    private var slots: [(generation: UInt32, item: SendQueue.Item?)] = []
    private var free: [Int32] = []
    private(set) var count = 0

    /// Slots allocated, live or free.
    var capacity: Int { slots.count }

    func contains(_ handle: Handle) -> Bool {
        let i = Int(handle.index)
        return i < slots.count && slots[i].generation == handle.generation && slots[i].item != nil
    }

    subscript(handle: Handle) -> SendQueue.Item { slots[Int(handle.index)].item! }

    mutating func insert(_ item: SendQueue.Item) -> Handle {
        count += 1
        if let index = free.popLast() {
            slots[Int(index)].item = item
            return Handle(index: index, generation: slots[Int(index)].generation)
        }
        slots.append((0, item))
        return Handle(index: Int32(slots.count - 1), generation: 0)
    }

    @discardableResult
    mutating func update<T>(_ handle: Handle, _ body: (inout SendQueue.Item) -> T) -> T {
        body(&slots[Int(handle.index)].item!)
    }

    mutating func remove(_ handle: Handle) -> SendQueue.Item {
        let i = Int(handle.index)
        let item = slots[i].item!
        slots[i].item = nil
        slots[i].generation &+= 1
        free.append(handle.index)
        count -= 1
        return item
    }
}

/// One lane: each recipient's texts in order, and the recipients in turn.
struct LaneQueue: Sendable {
    /// Recipient key → their texts, the started one (if any) first. A key is
    /// here exactly while it is in `turns`.
    private var byRecipient: [String: RingDeque<Handle>] = [:]
    /// Recipients in round-robin order.
    private var turns = RingDeque<String>()
    /// Live texts in this lane (started included).
    var count = 0
    /// Entries of removed texts still in the lists.
    private(set) var dead = 0

    mutating func add(_ handle: Handle, recipient: String) {
        count += 1
        if byRecipient[recipient] == nil {
            byRecipient[recipient] = RingDeque()
            turns.append(recipient)
        }
        byRecipient[recipient]!.append(handle)
    }

    /// The recipient whose turn it is (taken out of the turns: give it
    /// back with ``endTurn(_:)`` or ``forget(_:)``).
    mutating func takeTurn() -> String? { turns.popFirst() }

    /// `recipient` had their turn and goes to the back of the line.
    mutating func endTurn(_ recipient: String) { turns.append(recipient) }

    /// Undoes the last ``endTurn(_:)`` of `recipient`: their text waits for
    /// the bucket and keeps its place at the front.
    mutating func keepTurn(_ recipient: String) {
        if turns.count > 0 { turns.popLast() }
        turns.prepend(recipient)
    }

    /// Puts a text handed out in full (and so popped) back at the front of
    /// `recipient`'s texts: its lines were not written and go again.
    mutating func putBack(_ handle: Handle, recipient: String) {
        if byRecipient[recipient] == nil {
            byRecipient[recipient] = RingDeque()
            turns.append(recipient)
        }
        byRecipient[recipient]!.prepend(handle)
    }

    /// `recipient` has nothing left (and is out of the turns).
    mutating func forget(_ recipient: String) { byRecipient[recipient] = nil }

    /// The first of `recipient`'s texts (maybe removed: check).
    func head(of recipient: String) -> Handle? { byRecipient[recipient]?.first }

    /// Removes the head of `recipient`'s texts (finished or refused, or
    /// `dead`: removed earlier).
    mutating func popHead(recipient: String, dead: Bool = false) {
        byRecipient[recipient]?.popFirst()
        if dead { self.dead -= 1 }
    }

    /// A text of this lane was removed without touching the lists.
    mutating func removedLazily() { dead += 1 }

    /// Drops the dead entries (O(n)); recipients with none left leave the turns.
    mutating func compact(isLive: (Handle) -> Bool) {
        var kept: [String: RingDeque<Handle>] = [:]
        var keptTurns = RingDeque<String>()
        for recipient in turns {
            var handles = byRecipient[recipient]!
            handles.filter(isLive)
            guard !handles.isEmpty else { continue }
            kept[recipient] = handles
            keptTurns.append(recipient)
        }
        byRecipient = kept
        turns = keptTurns
        dead = 0
    }
}

/// A binary min-heap of expiry dates.
struct MinHeap: Sendable {
    private var entries: [(date: Date, handle: Handle)] = []

    var count: Int { entries.count }
    var top: (date: Date, handle: Handle)? { entries.first }

    mutating func push(_ date: Date, _ handle: Handle) {
        entries.append((date, handle))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].date < entries[parent].date else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        siftDown(0)
        if entries.isEmpty { entries = [] }
    }

    /// Keeps the entries for which `keep` is true (O(n)).
    mutating func filter(_ keep: (Handle) -> Bool) {
        entries = entries.filter { keep($0.handle) }
        for i in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            if left + 1 < entries.count, entries[left + 1].date < entries[left].date { smallest = left + 1 }
            guard entries[smallest].date < entries[parent].date else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
