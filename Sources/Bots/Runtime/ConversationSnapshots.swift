import Core
import Desk
import Foundation

// Conversations survive a restart (issue 8 item 4): what is stored of a
// customer conversation, how it is encoded, and which conversations changed
// and must be written. The runtime does the store calls (marked
// "Persisted:" in BotRuntime.swift and BotRuntime+Customers.swift).

/// A customer conversation as it is stored between restarts: who it is
/// with, its language, where it stands (the intake's answers so far, or the
/// ticket it follows), its pending timers as absolute dates, and (on a
/// network that deduplicates texts sent again) what the intake said last
/// and the network has not reported sent.
///
/// Nothing secret is kept: no PIN (a PIN the intake holds until the number
/// is known is dropped; a check that was running is only marked, and the
/// customer is asked for the PIN again — the one case a restart asks a
/// question anew; a kept text is the bot's own, which never holds a PIN),
/// no customer record (the number is looked up again at restore, so a PIN
/// hash never reaches a snapshot), and none of the lines held back while a
/// PIN was checked (they may hold a PIN too).
struct StoredConversation: Codable, Equatable {
    /// The version of this encoding. A snapshot with any other version is
    /// logged and dropped at restore (never half-read).
    static let formatVersion = 1

    /// Where a conversation stands.
    enum Phase: Codable, Equatable {
        /// Questions still open.
        case intake(IntakeSnapshot)
        /// The ticket exists; lines go to it.
        case ticket(FollowUp)
    }

    var key: ConversationKey
    var identity: ChatIdentity
    var language: Language
    var lastActivity: Date
    var phase: Phase
    /// When a waiting non-contract customer is offered to leave a message.
    var offerAt: Date?
    /// When the lines held back in a relay burst go to the ticket.
    var relayAt: Date?
    /// What the intake said last and the network has not reported sent
    /// (``Conversation/pending``); nil when nothing (so a snapshot without
    /// any has the bytes it had before this field existed).
    var pending: [PendingText]? = nil
}

/// What is stored of an ``Intake``: every answer and where the questions
/// stand. Made by ``Intake/snapshot`` and read by
/// ``Intake/init(restoring:_:)``, which look the customer and the offered
/// KB articles up again.
struct IntakeSnapshot: Codable, Equatable {
    /// The customer, by number only.
    enum Customer: Codable, Equatable {
        case unknown
        case none
        case known(number: String)
        case notFound(String)
    }

    /// The question asked last (``Question``, spelt out for the encoding).
    enum Step: String, Codable {
        case customerNumber, pin, description, suggestions, severity
    }

    var identity: ChatIdentity
    var language: Language
    var languageSettled: Bool
    var customer: Customer
    var proven: Bool
    var pinFailures: Int
    var pinExhausted: Bool
    /// The group a contract claimed while the number's PIN checks were
    /// locked gets (nil: no such claim).
    var lockedClaimGroup: CustomerGroup?
    var unknownNumbers: Int
    var description: String
    var problem: String?
    var descriptionTruncated: Bool
    var truncationTold: Bool
    /// The ids of the KB articles offered (nil: not searched yet).
    var suggestions: [String]?
    var suggestionsDone: Bool
    var severity: Severity?
    var lastQuestion: Step?
    var lastPromptAt: Date?
    var greeted: Bool
    /// Notes not said yet (rendered texts).
    var notes: [String]
    /// A PIN check was running when the snapshot was taken. Its PIN is not
    /// stored: after a restart the customer is asked for it again.
    var pinCheckInterrupted: Bool
    /// The ticket could not be stored; the next line retries.
    var readyToCreate: Bool
}

extension IntakeSnapshot.Step {
    init(_ question: Question) {
        switch question {
        case .customerNumber: self = .customerNumber
        case .pin: self = .pin
        case .description: self = .description
        case .suggestions: self = .suggestions
        case .severity: self = .severity
        }
    }

    var question: Question {
        switch self {
        case .customerNumber: .customerNumber
        case .pin: .pin
        case .description: .description
        case .suggestions: .suggestions
        case .severity: .severity
        }
    }
}

/// Why a stored conversation could not be read back (it is then logged and
/// dropped; the customer starts afresh).
enum StoredConversationError: Error, Equatable, CustomStringConvertible {
    /// Written by a version of the gateway this one does not know.
    case unknownFormatVersion(Int)
    /// The bytes are not a conversation of the version they claim.
    case undecodable(String)

    var description: String {
        switch self {
        case .unknownFormatVersion(let version):
            "format version \(version) is not known (this gateway reads \(StoredConversation.formatVersion))"
        case .undecodable(let reason):
            "the stored state cannot be read: \(reason)"
        }
    }
}

extension StoredConversation {
    /// The store's key of a conversation: its network, and the folded
    /// account or nick marked as which it is.
    static func storeKey(_ key: ConversationKey) -> Desk.ConversationKey {
        Desk.ConversationKey(network: key.network, key: (key.byAccount ? "account:" : "nick:") + key.id)
    }

    /// The encoded form (JSON, keys sorted, so equal conversations give
    /// equal bytes and an unchanged one need not be written again).
    ///
    /// A conversation that follows its ticket is written by
    /// ``SortedJSONWriter``, byte for byte what `JSONEncoder` with
    /// `.sortedKeys` writes (a test holds the two together; restore reads
    /// both with `JSONDecoder`): it is encoded inside the ticket's creation
    /// transaction, on the page's path, where `JSONEncoder` cost ~60 µs of
    /// the store thread's time per ticket (issue 12). An intake's answers
    /// keep `JSONEncoder`.
    func encoded() throws -> Data {
        if case .ticket(let followUp) = phase, let bytes = encodedFollowingTicket(followUp) { return Data(bytes) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// ``encoded()`` for a conversation that follows `followUp`'s ticket,
    /// in the synthesized `Codable` shape: an enum case as
    /// `{"ticket":{"_0":…}}`, nil optionals left out, dates as seconds since
    /// 2001 (`Date`'s own encoding). Nil where `JSONEncoder` would throw (a
    /// date that is not finite), so the caller gets its error. A field added
    /// to ``StoredConversation``, ``FollowUp``, ``PendingText`` or
    /// `ChatIdentity` must be written here too (the byte-for-byte test fails
    /// for a field it sets).
    func encodedFollowingTicket(_ followUp: FollowUp) -> [UInt8]? {
        var json = SortedJSONWriter()
        json.beginObject()
        json.key("identity")
        json.identity(identity)
        json.key("key")
        json.beginObject()
        json.field("byAccount", bool: key.byAccount)
        json.field("id", key.id)
        json.field("network", key.network)
        json.endObject()
        json.field("language", language.rawValue)
        json.field("lastActivity", date: lastActivity)
        json.field("offerAt", date: offerAt)
        if let pending {
            json.key("pending")
            json.beginArray()
            for text in pending {
                json.element()
                json.beginObject()
                json.field("saidAt", date: text.saidAt)
                json.field("text", text.text)
                json.field("transactionID", text.transactionID)
                json.endObject()
            }
            json.endArray()
        }
        json.key("phase")
        json.beginObject()
        json.key("ticket")
        json.beginObject()
        json.key("_0")
        json.beginObject()
        json.field("awaitingMessage", bool: followUp.awaitingMessage)
        json.key("buffered")
        json.beginArray()
        for line in followUp.buffered {
            json.element()
            json.string(line)
        }
        json.endArray()
        json.field("burstEnds", date: followUp.burstEnds)
        json.field("group", followUp.group.rawValue)
        json.field("lastAck", date: followUp.lastAck)
        json.key("number")
        json.integer(followUp.number.rawValue)
        json.field("offerMade", bool: followUp.offerMade)
        json.field("toldRelayed", bool: followUp.toldRelayed)
        json.endObject()
        json.endObject()
        json.endObject()
        json.field("relayAt", date: relayAt)
        json.endObject()
        return json.failed ? nil : json.bytes
    }

    /// The snapshot to store: abandoned (not restored, then deleted) once
    /// `expiry` has passed without a message from the customer.
    func snapshot(state: Data, now: Date, expiry: TimeInterval) -> ConversationSnapshot {
        let expires = max(lastActivity.addingTimeInterval(expiry), now.addingTimeInterval(1))
        return ConversationSnapshot(key: Self.storeKey(key), formatVersion: Self.formatVersion, state: state,
                                    updatedAt: now, expiresAt: expires)
    }

    /// This conversation following ticket `number` instead (a conversation
    /// still in its intake is returned as it is).
    func following(_ number: TicketNumber) -> StoredConversation {
        guard case .ticket(var followUp) = phase else { return self }
        var conversation = self
        followUp.number = number
        conversation.phase = .ticket(followUp)
        return conversation
    }

    /// Reads a stored snapshot back.
    static func decode(_ snapshot: ConversationSnapshot) throws(StoredConversationError) -> StoredConversation {
        guard snapshot.formatVersion == formatVersion else {
            throw .unknownFormatVersion(snapshot.formatVersion)
        }
        do {
            return try JSONDecoder().decode(StoredConversation.self, from: snapshot.state)
        } catch {
            throw .undecodable("\(error)")
        }
    }
}

extension Conversation {
    /// This conversation as it is stored, with its pending offer and relay
    /// timers (the idle timer starts afresh at restore: downtime is not the
    /// customer's silence).
    func stored(offerAt: Date?, relayAt: Date?) -> StoredConversation {
        let storedPhase: StoredConversation.Phase = switch phase {
        case .intake(let intake): .intake(intake.snapshot)
        case .ticket(let followUp): .ticket(followUp)
        }
        return StoredConversation(key: key, identity: identity, language: language, lastActivity: lastActivity,
                                  phase: storedPhase, offerAt: offerAt, relayAt: relayAt,
                                  pending: pending.isEmpty ? nil : pending)
    }
}

/// Which conversations changed since they were last written, and what the
/// store holds of each: the runtime marks a conversation as touched where
/// an input may change it, and at the end of the step writes each touched
/// one that changed (one upsert) or deletes it once it has ended.
struct ConversationJournal {
    /// A store call to make.
    enum Write {
        case save(ConversationKey, ConversationSnapshot)
        case delete(ConversationKey)
    }

    private var touched: Set<ConversationKey> = []
    /// Conversations a ticket's creation saved in its own transaction, as
    /// saved: not encoded nor written again by the step that created it
    /// while they are still so.
    private var savedAtCreation: [ConversationKey: StoredConversation] = [:]
    /// The hash of the bytes last handed to the store per conversation; nil
    /// when the write failed (so the next step writes again).
    private var written: [ConversationKey: Int?] = [:]

    /// Whether anything may need writing.
    var isEmpty: Bool { touched.isEmpty }

    /// `key`'s conversation may have changed, started or ended.
    mutating func touch(_ key: ConversationKey) { touched.insert(key) }

    /// The store already holds `state` for `key` (a restored conversation).
    mutating func holds(_ key: ConversationKey, state: Data) { written[key] = Self.hash(state) }

    /// A ticket's creation saved `conversation` (encoded as `state`) for
    /// `key` in its own transaction.
    mutating func savedWithTicket(_ key: ConversationKey, _ conversation: StoredConversation, state: Data) {
        written[key] = Self.hash(state)
        savedAtCreation[key] = conversation
    }

    /// A hash of all of `bytes` (`Data`'s own hash looks at the first few
    /// bytes only, which two states of one conversation share).
    static func hash(_ bytes: Data) -> Int {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    /// The writes for every touched conversation: a save where it exists
    /// and its bytes changed, a delete where it ended and the store may
    /// hold it. `stored` gives the conversation's stored form (nil: ended).
    mutating func writes(now: Date, expiry: TimeInterval, logger: Logger,
                         stored: (ConversationKey) -> StoredConversation?) -> [Write] {
        let keys = touched.sorted { $0.description < $1.description }
        touched = []
        let savedAtCreation = self.savedAtCreation
        self.savedAtCreation = [:]
        var out: [Write] = []
        for key in keys {
            guard let conversation = stored(key) else {
                if written.removeValue(forKey: key) != nil {
                    out.append(.delete(key))
                }
                continue
            }
            // Stored as its ticket's creation saved it: nothing to encode.
            if savedAtCreation[key] == conversation { continue }
            let state: Data
            do {
                state = try conversation.encoded()
            } catch {
                logger.error("conversation not encoded for the store", ["conversation": key.description,
                                                                          "error": error])
                continue
            }
            let hash = Self.hash(state)
            if let previous = written[key], previous == hash { continue }
            written[key] = hash
            out.append(.save(key, conversation.snapshot(state: state, now: now, expiry: expiry)))
        }
        return out
    }

    /// The store refused a save for `key`: written again at its next change.
    mutating func saveFailed(_ key: ConversationKey) { written[key] = .some(nil) }
}

// MARK: - The runtime's store calls

extension BotRuntime {
    /// Persisted: writes the conversations this step changed (one upsert
    /// each) and deletes those that ended. Runs before the step's lines go
    /// out (``flush()``), so what the customer was asked last is what a
    /// restart continues from; a ticket is committed earlier still, inside
    /// the step.
    ///
    /// The step's handled messages (``stepMessages``) are recorded in the
    /// last write's transaction (a conversation's save or delete), or alone
    /// when the step wrote none: a Matrix batch delivered again after a
    /// crash then skips a message whose step is stored, and answers one
    /// whose step is not (a "yes" that ended a conversation does not start
    /// a new one). Where the write fails they are kept for the next commit
    /// (the message is answered again, never lost).
    func persistConversations() async {
        let handled = handledMessagesToRecord()
        guard !support.journal.isEmpty || !handled.isEmpty else { return }
        let writes = support.journal.isEmpty ? []
            : support.writes(now: clock.date, expiry: definitions.supportSettings.conversationExpiry, logger: logger)
        let last = writes.indices.last
        for (index, write) in writes.enumerated() {
            let recording = index == last ? handled : []
            switch write {
            case .save(let key, var snapshot):
                snapshot.handledMessages = recording
                do {
                    try await store.saveConversation(snapshot)
                    recorded(recording)
                } catch {
                    support.journal.saveFailed(key)
                    storeFailed(error, "save conversation")
                }
            case .delete(let key):
                do {
                    try await store.deleteConversation(StoredConversation.storeKey(key), handledMessages: recording,
                                                       at: clock.date)
                    recorded(recording)
                } catch {
                    storeFailed(error, "delete conversation")
                }
            }
        }
        if last == nil, !handled.isEmpty {
            do {
                try await store.markMessagesHandled(handled, at: clock.date)
                recorded(handled)
            } catch {
                storeFailed(error, "mark messages handled")
            }
        }
    }

    /// The step's handled messages that may be recorded now: not one whose
    /// lines still wait behind a PIN check (held lines are not stored; it
    /// is recorded when they are replayed, which adds it again).
    func handledMessagesToRecord() -> [HandledMessage] {
        guard !stepMessages.isEmpty else { return [] }
        stepMessages.removeAll { entry in
            support.conversations[entry.key]?.held.contains { $0.sourceID == entry.message.sourceID } == true
        }
        var ready: [HandledMessage] = []
        for entry in stepMessages where !ready.contains(entry.message) { ready.append(entry.message) }
        return ready
    }

    /// `messages` are committed as handled: not recorded again.
    func recorded(_ messages: [HandledMessage]) {
        stepMessages.removeAll { messages.contains($0.message) }
    }

    /// Persisted: at start, drops the abandoned conversations (no message
    /// for ``SupportSettings/conversationExpiry``) and restores the others
    /// with their offer and relay timers; the idle time starts afresh (the
    /// downtime was not the customer's silence). A snapshot this version
    /// cannot read is logged and dropped: that customer starts afresh.
    /// Conversations on networks not attached stay stored until they expire.
    func restoreConversations(now: Date) async {
        let snapshots: [ConversationSnapshot]
        do {
            let expired = try await store.deleteExpiredConversations(at: now)
            if expired > 0 { logger.info("abandoned conversations dropped", ["count": expired]) }
            snapshots = try await store.conversations(unexpiredAt: now)
        } catch {
            storeFailed(error, "read stored conversations")
            return
        }
        var restored = 0
        for snapshot in snapshots {
            // A network no longer attached keeps its conversations until
            // they expire (it may come back with the next configuration).
            guard networks[snapshot.key.network] != nil else { continue }
            let record: StoredConversation
            do {
                record = try StoredConversation.decode(snapshot)
            } catch {
                logger.warning("stored conversation dropped", ["conversation": snapshot.key.description,
                                                               "format_version": snapshot.formatVersion,
                                                               "error": error.description])
                do {
                    try await store.deleteConversation(snapshot.key)
                } catch {
                    storeFailed(error, "delete conversation")
                }
                continue
            }
            await restore(record, state: snapshot.state, savedAt: snapshot.updatedAt, now: now)
            restored += 1
        }
        if restored > 0 { logger.info("conversations restored", ["count": restored]) }
    }

    private func restore(_ record: StoredConversation, state: Data, savedAt: Date, now: Date) async {
        let key = record.key
        serials += 1
        var phase: Conversation.Phase
        var said: [IntakeEffect] = []
        switch record.phase {
        case .intake(let snapshot):
            if let ticket = await ticketCommitted(for: record.identity, since: savedAt) {
                // Stored, but the conversation was not saved with it (a
                // gateway before the creation saved it, or its encoding
                // failed) and the gateway died before it was written again:
                // it goes on as that ticket's follow-up.
                phase = .ticket(FollowUp(number: ticket.number, group: ticket.group))
            } else {
                let context = intakeContext(record.identity, now: now)
                var intake = Intake(restoring: snapshot, context)
                said = intake.resume(interruptedPINCheck: snapshot.pinCheckInterrupted, context)
                phase = .intake(intake)
            }
        case .ticket(let followUp):
            phase = .ticket(followUp)
        }
        var conversation = Conversation(serial: serials, key: key, identity: record.identity,
                                        language: record.language, phase: phase, lastActivity: record.lastActivity)
        var becameFollowUp = false
        if case .ticket = phase, case .intake = record.phase { becameFollowUp = true }
        // What the intake said last and was never reported sent: sent again
        // under its own transaction id while the network still
        // deduplicates it (the customer sees it once, whether or not it
        // left before the crash); older, it is said again with an apology
        // under a new id (it may have reached them: they read it twice,
        // told why, rather than wait for a question that never came).
        // Nothing on a network that does not deduplicate (IRC): the
        // customer's next line gets the open question at once (`resume`).
        let kept = record.pending ?? []
        var stale: [PendingText] = []
        if case .intake = phase, said.isEmpty, !kept.isEmpty,
           let window = networks[record.identity.network]?.resendWindow {
            if kept.allSatisfy({ now.timeIntervalSince($0.saidAt) <= window.timeInterval }) {
                conversation.pending = kept
            } else {
                stale = kept
            }
        }
        support.restored(conversation, state: state, idleAt: now.addingTimeInterval(definitions.supportSettings.idleTimeout),
                         offerAt: record.offerAt, relayAt: record.relayAt,
                         rewrite: becameFollowUp || !said.isEmpty || conversation.pending != kept)
        if !said.isEmpty {
            await perform(said, key: key, now: now)
        } else if !conversation.pending.isEmpty || !stale.isEmpty {
            await resendPending(key, stale: stale, now: now)
        }
    }

    /// Sends again, at a restart, the texts `key`'s conversation keeps (same
    /// transaction ids: one message each where the first copy left), and
    /// says the `stale` ones (kept longer than the network deduplicates)
    /// once more after ``SupportText/resentAfterRestart``, under a new id.
    private func resendPending(_ key: ConversationKey, stale: [PendingText], now: Date) async {
        guard let conversation = support.conversations[key] else { return }
        let identity = conversation.identity
        for text in conversation.pending {
            say(ChatAction(network: identity.network, recipient: .user(identity.nick), text: text.text,
                           replaceKey: Self.promptKey(conversation), transactionID: text.transactionID))
        }
        guard !stale.isEmpty else { return }
        let apology = definitions.support.render(.resentAfterRestart, conversation.language)
        await perform([.say(([apology] + stale.map(\.text)).joined(separator: "\n"))], key: key, now: now)
    }

    /// The customer's open ticket created at or after `instant`, if any.
    private func ticketCommitted(for identity: ChatIdentity, since instant: Date) async -> Ticket? {
        do {
            guard let newest = try await store.tickets(contact: identity, openOnly: true, limit: 1).first?.ticket,
                  newest.createdAt >= instant else { return nil }
            return newest
        } catch {
            storeFailed(error, "tickets of a contact")
            return nil
        }
    }
}

/// Writes JSON as Foundation's `JSONEncoder` with `.sortedKeys` does, byte
/// for byte, for a caller that writes the keys of each object in sorted
/// order itself: no white space, `/` escaped as `\/`, the control characters
/// as `\b \t \n \f \r` or `\u00xx`, everything else as UTF-8; a double as
/// its shortest round-trip form without a trailing `.0`.
/// (``StoredConversation/encoded()`` uses it on the page's path.)
struct SortedJSONWriter {
    private(set) var bytes: [UInt8] = []
    /// A value `JSONEncoder` refuses was met (a non-finite number).
    private(set) var failed = false
    /// Whether the next key or element of the open object or array is its first.
    private var first = true

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        first = true
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        first = false
    }

    /// Before each element of an array.
    mutating func element() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    /// An object's key (keys are plain ASCII names).
    mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A key and its string value.
    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, bool value: Bool) {
        key(name)
        bool(value)
    }

    /// A key and its date; nothing for nil (as `encodeIfPresent` does).
    mutating func field(_ name: StaticString, date value: Date?) {
        guard let value else { return }
        key(name)
        date(value)
    }

    mutating func bool(_ value: Bool) {
        let text: StaticString = value ? "true" : "false"
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A `Date` as it encodes itself: seconds since 2001-01-01 as a double.
    mutating func date(_ value: Date) {
        let seconds = value.timeIntervalSinceReferenceDate
        guard seconds.isFinite else {
            failed = true
            return
        }
        var text = seconds.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "/"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00..<0x20:
                func hex(_ digit: UInt8) -> UInt8 { digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10 }
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex(byte >> 4), hex(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A ``Desk/ChatIdentity`` (its synthesized encoding).
    mutating func identity(_ identity: ChatIdentity) {
        beginObject()
        if let account = identity.account { field("account", account) }
        field("network", identity.network)
        field("nick", identity.nick)
        endObject()
    }
}
