import Foundation
import IRC

/// The outgoing lines of one IRC client, throttled and ordered (the seam
/// between Limnoria's `takeMsg` and the socket). Pure: time is passed in.
///
/// ## Lanes, in the order they are served
/// 1. **immediate** — registration (`PASS`, `CAP`, `NICK`, `USER`,
///    `AUTHENTICATE`), `PONG`, keep-alive `PING`, `QUIT`: never wait for the
///    token bucket (a PONG must not wait behind 200 KB answers). After
///    registration they still take a token when one is there, so the
///    bucket reflects what the server counts.
/// 2. **control** — the session's own commands after registration (`JOIN`,
///    `WHO`, `NICK`, `MONITOR`): throttled, before any text.
/// 3. **urgent**, 4. **normal**, 5. **bulk** — texts (``SendPriority``).
///    Throttled. Within urgent and normal: first in, first out. Within
///    bulk: round-robin between recipients, so one customer's long KB answer
///    does not hold up another's.
///
/// ## Texts
/// A text becomes one or more lines (``IRCLineSplitter``), split when its
/// first line is about to go out, so it uses the relay prefix the server
/// shows for us at that moment. Its lines go out in order, and no other
/// text of the same or a lower lane comes between them; a more urgent text
/// may (a page is never held behind a KB answer).
///
/// ## Delivery, expiry, reconnects
/// - A text with an id is reported delivered once all its lines were
///   written to the socket (``written(now:)``).
/// - A text not started by its expiry date is dropped and, with an id,
///   reported expired. A text already started is finished.
/// - When the connection drops (``connectionLost()``), texts stay queued;
///   a text whose lines were partly written — or whose line was being
///   written — goes back to the head of its lane and is sent again from its
///   first line (a repeated line is better than a lost page). Immediate and
///   control lines belong to the old connection and are dropped.
public struct SendQueue: Sendable {
    /// A text waiting to be sent.
    public struct Item: Sendable, Hashable {
        public var id: Int64?
        public var target: String
        /// The case-folded target, for per-recipient fairness.
        public var recipientKey: String
        public var text: String
        public var notice: Bool
        public var action: Bool
        public var priority: SendPriority
        public var expiresAt: Date?
        public var enqueuedAt: Date
        /// The lines, once the item was started.
        var lines: [[UInt8]]?
        /// Lines of `lines` already written.
        var written = 0

        public init(id: Int64?, target: String, recipientKey: String? = nil, text: String, notice: Bool = false,
                    action: Bool = false, priority: SendPriority, expiresAt: Date?, enqueuedAt: Date) {
            self.id = id
            self.target = target
            self.recipientKey = recipientKey ?? target.lowercased()
            self.text = text
            self.notice = notice
            self.action = action
            self.priority = priority
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
        case dropped(id: Int64, reason: String)
    }

    public private(set) var bucket: TokenBucket
    private var immediate: [[UInt8]] = []
    private var immediateHead = 0
    private var control: [[UInt8]] = []
    private var controlHead = 0
    private var urgent: [Item] = []
    private var normal: [Item] = []
    private var bulk: [String: [Item]] = [:]
    private var bulkOrder: [String] = []
    /// Started texts, at most one per lane.
    private var started: [SendPriority: Item] = [:]
    /// The line handed out by ``next(now:sendTexts:sendControl:format:)`` and not yet confirmed.
    public private(set) var inFlight: Line?
    private var reports: [Report] = []

    /// An empty queue with a full bucket.
    public init(settings: IRCClientConfiguration.SendQueueSettings, now: Date) {
        bucket = TokenBucket(capacity: settings.burst, interval: settings.interval, now: now)
    }

    // MARK: Adding

    /// Queues a text (see the type's documentation).
    public mutating func enqueue(_ item: Item) {
        switch item.priority {
        case .urgent: urgent.append(item)
        case .normal: normal.append(item)
        case .bulk:
            if bulk[item.recipientKey] == nil {
                bulkOrder.append(item.recipientKey)
                bulk[item.recipientKey] = []
            }
            bulk[item.recipientKey]!.append(item)
        }
    }

    /// Queues a line that does not wait for the bucket.
    public mutating func enqueueImmediate(_ bytes: [UInt8]) { immediate.append(bytes) }

    /// Queues one of the session's own throttled commands.
    public mutating func enqueueControl(_ bytes: [UInt8]) { control.append(bytes) }

    // MARK: Taking

    /// The next line to write at `now`, or nil (nothing may go now: see
    /// ``nextDeadline(now:sendTexts:sendControl:)`` for when to ask again).
    /// At most one line is in flight: call ``written(now:)`` (or
    /// ``connectionLost()``) before asking again.
    ///
    /// - Parameters:
    ///   - sendTexts: whether texts may go (the client is registered and
    ///     has sent its JOINs).
    ///   - sendControl: whether control lines may go (registered).
    ///   - chargeImmediate: whether immediate lines take a token when one
    ///     is there (after registration).
    ///   - format: turns a text into its serialised lines (the splitter);
    ///     returns an error text when the text cannot be sent at all.
    public mutating func next(
        now: Date, sendTexts: Bool, sendControl: Bool, chargeImmediate: Bool = true,
        format: (Item) -> Result<[[UInt8]], SendFailure>
    ) -> Line? {
        precondition(inFlight == nil, "SendQueue.next called with a line in flight")
        if immediateHead < immediate.count {
            let bytes = immediate[immediateHead]
            immediateHead += 1
            compact()
            if chargeImmediate { bucket.takeIfAvailable(at: now) }
            return handOut(Line(bytes: bytes, lane: .immediate, itemID: nil, completesItem: false))
        }
        guard sendControl, bucket.canTake(at: now) else { return nil }
        if controlHead < control.count {
            let bytes = control[controlHead]
            controlHead += 1
            compact()
            _ = bucket.take(at: now)
            return handOut(Line(bytes: bytes, lane: .control, itemID: nil, completesItem: false))
        }
        guard sendTexts else { return nil }
        expire(now: now)
        for priority in SendPriority.allCases {
            if started[priority] == nil {
                guard var item = popNext(priority) else { continue }
                switch format(item) {
                case .success(let lines) where !lines.isEmpty:
                    item.lines = lines
                    item.written = 0
                    started[priority] = item
                case .success:
                    // Nothing to send (only line breaks): done at once.
                    if let id = item.id { reports.append(.delivered(id: id, at: now)) }
                    continue
                case .failure(let failure):
                    if let id = item.id { reports.append(.dropped(id: id, reason: failure.reason)) }
                    continue
                }
            }
            guard let item = started[priority], let lines = item.lines else { continue }
            _ = bucket.take(at: now)
            return handOut(Line(bytes: lines[item.written], lane: .text(priority), itemID: item.id,
                                completesItem: item.written + 1 == lines.count))
        }
        return nil
    }

    /// Confirms that the line in flight was written to the socket.
    public mutating func written(now: Date) {
        guard let line = inFlight else { return }
        inFlight = nil
        guard case .text(let priority) = line.lane, var item = started[priority] else { return }
        item.written += 1
        if item.written >= (item.lines?.count ?? 0) {
            started[priority] = nil
            if let id = item.id { reports.append(.delivered(id: id, at: now)) }
        } else {
            started[priority] = item
        }
    }

    /// The connection is gone: see the type's documentation.
    public mutating func connectionLost() {
        inFlight = nil
        immediate.removeAll()
        immediateHead = 0
        control.removeAll()
        controlHead = 0
        for priority in SendPriority.allCases.reversed() {
            guard var item = started.removeValue(forKey: priority) else { continue }
            item.lines = nil
            item.written = 0
            pushFront(item)
        }
    }

    /// A fresh registration: the server counts from zero.
    public mutating func resetBucket(now: Date) { bucket.reset(now: now) }

    /// Drops texts not yet started whose expiry has passed (reported).
    public mutating func expire(now: Date) {
        func keep(_ item: Item) -> Bool {
            guard let expiry = item.expiresAt, expiry <= now else { return true }
            if let id = item.id { reports.append(.expired(id: id)) }
            return false
        }
        urgent = urgent.filter(keep)
        normal = normal.filter(keep)
        for key in bulkOrder {
            bulk[key] = bulk[key]!.filter(keep)
        }
        bulkOrder.removeAll { key in
            if bulk[key]!.isEmpty {
                bulk[key] = nil
                return true
            }
            return false
        }
    }

    /// Drops every text (shutdown): each with an id is reported dropped.
    public mutating func dropAll(reason: String) {
        for item in allItems() {
            if let id = item.id { reports.append(.dropped(id: id, reason: reason)) }
        }
        urgent.removeAll()
        normal.removeAll()
        bulk.removeAll()
        bulkOrder.removeAll()
        started.removeAll()
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
        if inFlight != nil { return earliestExpiry }
        if immediateHead < immediate.count { return now }
        let hasControl = sendControl && controlHead < control.count
        let hasText = sendTexts && hasTexts
        if hasControl || hasText { consider(bucket.nextTokenDate(after: now)) }
        consider(earliestExpiry)
        return deadline
    }

    /// Whether any text (started or waiting) is queued.
    public var hasTexts: Bool {
        !started.isEmpty || !urgent.isEmpty || !normal.isEmpty || !bulkOrder.isEmpty
    }

    /// Whether nothing at all is queued or in flight.
    public var isEmpty: Bool {
        inFlight == nil && !hasTexts && immediateHead >= immediate.count && controlHead >= control.count
    }

    /// Texts queued (started ones included).
    public var textCount: Int {
        started.count + urgent.count + normal.count + bulk.values.reduce(0) { $0 + $1.count }
    }

    /// Lines waiting in the immediate and control lanes.
    public var sessionLineCount: Int { (immediate.count - immediateHead) + (control.count - controlHead) }

    // MARK: Internals

    private var earliestExpiry: Date? {
        var earliest: Date?
        for item in allWaitingItems() {
            if let expiry = item.expiresAt, earliest.map({ expiry < $0 }) ?? true { earliest = expiry }
        }
        return earliest
    }

    private func allWaitingItems() -> [Item] {
        urgent + normal + bulkOrder.flatMap { bulk[$0]! }
    }

    private func allItems() -> [Item] {
        SendPriority.allCases.compactMap { started[$0] } + allWaitingItems()
    }

    private mutating func handOut(_ line: Line) -> Line {
        inFlight = line
        return line
    }

    private mutating func popNext(_ priority: SendPriority) -> Item? {
        switch priority {
        case .urgent: return urgent.isEmpty ? nil : urgent.removeFirst()
        case .normal: return normal.isEmpty ? nil : normal.removeFirst()
        case .bulk:
            guard !bulkOrder.isEmpty else { return nil }
            let key = bulkOrder.removeFirst()
            var items = bulk[key]!
            let item = items.removeFirst()
            if items.isEmpty {
                bulk[key] = nil
            } else {
                bulk[key] = items
                bulkOrder.append(key)
            }
            return item
        }
    }

    private mutating func pushFront(_ item: Item) {
        switch item.priority {
        case .urgent: urgent.insert(item, at: 0)
        case .normal: normal.insert(item, at: 0)
        case .bulk:
            if bulk[item.recipientKey] == nil {
                bulk[item.recipientKey] = [item]
            } else {
                bulk[item.recipientKey]!.insert(item, at: 0)
                bulkOrder.removeAll { $0 == item.recipientKey }
            }
            bulkOrder.insert(item.recipientKey, at: 0)
        }
    }

    private mutating func compact() {
        if immediateHead == immediate.count {
            immediate.removeAll(keepingCapacity: true)
            immediateHead = 0
        }
        if controlHead == control.count {
            control.removeAll(keepingCapacity: true)
            controlHead = 0
        }
    }
}

/// Why a text cannot be sent at all.
public struct SendFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
