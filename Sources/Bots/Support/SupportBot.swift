import Core
import Desk
import Foundation

/// The support bot's conversation table, as a part: every customer
/// conversation, which conversation follows which ticket, the lines held
/// while a PIN is checked, the conversations' timers (message offer, idle
/// end, relay burst), the bounds on how many are kept (issue 15;
/// `ConversationBounds.swift`) and the journal of conversations to write to
/// the store (`ConversationSnapshots.swift`).
///
/// Like ``EscalationScheduler`` it does no I/O: the runtime hands it an
/// event — a nick or account change, a conversation started, restored or
/// ended, a timer that is due, a step of the intake (a line, a PIN result,
/// `!lang`, a failed ticket write), a ticket created or over, lines on the
/// ticket (`SupportBot+Steps.swift`) — and carries out what it returns:
/// ``SupportEffect``s, the intake's effects, the lines to attach to the
/// ticket, what to tell the customer (``AttachedReply``, ``IdleOutcome``).
/// The PIN worker, the store, the texts and the networks stay in the actor.
/// Names are compared by the rule the runtime passes in (the adapter's).
///
/// Still in the runtime (`BotRuntime+Customers.swift`): routing a line
/// (command or not, new conversation or not), the store reads a step needs
/// (the customer's tickets, the ticket's state), creating the ticket,
/// running PIN checks, rendering and saying the texts, `!status` and
/// `!cancel`.
struct SupportBot {
    /// The live conversations, by who they are with.
    var conversations: [ConversationKey: Conversation] = [:]
    /// The conversation a ticket's customer lines come from.
    var conversationOfTicket: [TicketNumber: ConversationKey] = [:]
    /// Which conversations changed and must be written to the store.
    var journal = ConversationJournal()
    /// The conversations' deadlines (the runtime's timer loop waits for the
    /// earliest of these, its own and the escalation scheduler's).
    var timers = DeadlineSchedule<SupportTimer>()
    /// Conversation bounds reached and logged (each once until clear again).
    var boundsHit: Set<String> = []
    /// Customers told the desk is busy while a bound holds (each once).
    var toldBusy: Set<ConversationKey> = []
    /// The conversation whose held lines are being handled now (its later
    /// lines are not held behind themselves).
    var replaying: ConversationKey?
    /// Which conversation keeps a pending text (``Conversation/pending``),
    /// by the text's transaction id.
    var pendingOwners: [String: ConversationKey] = [:]

    /// How many customers told "busy" are remembered (so each is told once);
    /// past it the memory starts afresh (some may be told twice).
    static var toldBusyLimit: Int { 10_000 }

    // MARK: - Lookups

    /// The conversation a PIN check was started for: the customer may have
    /// changed nick or logged in meanwhile, so it is found by its serial.
    func key(started: ConversationKey, serial: UInt64) -> ConversationKey {
        conversations[started]?.serial == serial ? started
            : conversations.first { $0.value.serial == serial }?.key ?? started
    }

    /// The conversation answered under `nick` on `network`: keyed by the
    /// nick, or (where `accounts`: the network vouches for accounts) by an
    /// account whose nick it is now. `normalize` is the network's rule.
    func conversation(withNick nick: String, on network: String, accounts: Bool,
                      normalize: (String, ChatNameKind) -> String) -> Conversation? {
        if let conversation = conversations[ConversationKey(network: network, nick: nick, normalize: normalize)] {
            return conversation
        }
        guard accounts else { return nil }
        let folded = normalize(nick, .user)
        return conversations.values.first { conversation in
            conversation.key.byAccount && conversation.key.network == network
                && normalize(conversation.identity.nick, .user) == folded
        }
    }

    // MARK: - Events

    /// A conversation starts (or is restored) under its key, following its
    /// ticket if it has one; with `idleAt`, it ends then unless a line comes.
    mutating func started(_ conversation: Conversation, idleAt: Date? = nil) {
        conversations[conversation.key] = conversation
        if let number = conversation.ticketNumber { conversationOfTicket[number] = conversation.key }
        if let idleAt { timers.set(.idle(conversation.key), at: idleAt) }
    }

    /// The customer of `key` chose the language they are spoken to in.
    mutating func languageChosen(_ key: ConversationKey, _ language: Language) {
        conversations[key]?.language = language
    }

    /// Whether a new conversation on `network` may start now, or a bound
    /// holds (``SupportSettings/conversationsPerNetwork``,
    /// ``SupportSettings/conversationsTotal``): then the runtime logs the
    /// bound (first time only) and tells the customer they are busy (once).
    mutating func admit(_ key: ConversationKey, settings: SupportSettings) -> Admission {
        var hit: String?
        if conversations.count >= settings.conversationsTotal {
            hit = "total"
        } else if conversations.count >= settings.conversationsPerNetwork,
                  conversations.keys.lazy.filter({ $0.network == key.network })
                      .prefix(settings.conversationsPerNetwork).count >= settings.conversationsPerNetwork {
            hit = "network:\(key.network)"
        }
        guard let hit else {
            if !boundsHit.isEmpty { boundsHit.removeAll() }
            if !toldBusy.isEmpty { toldBusy.removeAll() }
            return .admitted
        }
        let firstHit = boundsHit.insert(hit).inserted
        if toldBusy.count >= Self.toldBusyLimit { toldBusy.removeAll() }
        let tell = toldBusy.insert(key).inserted
        return .refused(bound: hit, newlyHit: firstHit, tellBusy: tell)
    }

    /// Keeps `lines` (of one message by the customer of `key`) for later
    /// when that customer's PIN check is running, or earlier lines of theirs
    /// still wait: one customer's lines are handled strictly in arrival
    /// order. True when they were kept.
    mutating func hold(_ message: ChatMessage, lines: @autoclosure () -> [String], key: ConversationKey) -> Bool {
        guard let conversation = conversations[key] else { return false }
        guard conversation.verifying || (!conversation.held.isEmpty && replaying != key) else { return false }
        for line in lines().prefix(1000) {
            var one = message
            one.text = line
            conversations[key]?.held.append(one)
        }
        return true
    }

    /// The next held line of `key`'s conversation to handle, if that
    /// conversation (by `serial`) no longer waits for a PIN check; it is
    /// taken off the held lines and carries the conversation's current
    /// identity (written under a nick or before a login it has left behind).
    mutating func nextHeld(_ key: ConversationKey, serial: UInt64) -> ChatMessage? {
        guard let current = conversations[key], current.serial == serial, !current.verifying,
              var next = current.held.first else { return nil }
        conversations[key]?.held.removeFirst()
        next.sender = current.identity
        return next
    }

    /// A nick change on `network`: a conversation keyed by the old nick
    /// moves to the new one (with its timers; one already there ends), and
    /// conversations keyed by account follow the nick for replies.
    mutating func nickChanged(network: String, from: String, to: String,
                              normalize: (String, ChatNameKind) -> String) -> [SupportEffect] {
        var effects: [SupportEffect] = []
        let oldKey = ConversationKey(network: network, nick: from, normalize: normalize)
        if var conversation = conversations.removeValue(forKey: oldKey) {
            let newKey = ConversationKey(network: network, nick: to, normalize: normalize)
            journal.touch(oldKey)  // Persisted: stored under the new nick
            journal.touch(newKey)
            if let stale = conversations[newKey] { effects += end(stale.key) }
            conversation.key = newKey
            conversation.identity.nick = to
            if case .intake(var intake) = conversation.phase {
                intake.identity.nick = to
                conversation.phase = .intake(intake)
            }
            conversations[newKey] = conversation
            moveTimers(from: oldKey, to: newKey)
            if let number = conversation.ticketNumber { conversationOfTicket[number] = newKey }
        }
        let folded = normalize(from, .user)
        for (key, conversation) in conversations where key.network == network && key.byAccount
            && normalize(conversation.identity.nick, .user) == folded {
            journal.touch(key)  // Persisted: replies go to the new nick after a restart too
            conversations[key]?.identity.nick = to
            if case .intake(var intake) = conversation.phase {
                intake.identity.nick = to
                conversations[key]?.phase = .intake(intake)
            }
        }
        return effects
    }

    /// A login (`account` set) moves the nick's conversation under the
    /// account; a logout ends the conversations the account kept (what it
    /// proved no longer holds; the next line starts one keyed by nick).
    mutating func accountChanged(network: String, nick: String, account: String?,
                                 normalize: (String, ChatNameKind) -> String) -> [SupportEffect] {
        guard let account, !account.isEmpty else {
            let folded = normalize(nick, .user)
            var effects: [SupportEffect] = []
            for (key, conversation) in conversations where key.network == network && key.byAccount
                && normalize(conversation.identity.nick, .user) == folded {
                effects += end(key)
            }
            return effects
        }
        let oldKey = ConversationKey(network: network, nick: nick, normalize: normalize)
        guard var conversation = conversations.removeValue(forKey: oldKey) else { return [] }
        var effects: [SupportEffect] = []
        conversation.identity.account = account
        let newKey = ConversationKey(conversation.identity, normalize: normalize)
        journal.touch(oldKey)  // Persisted: stored under the account
        journal.touch(newKey)
        if let stale = conversations[newKey] { effects += end(stale.key) }
        conversation.key = newKey
        if case .intake(var intake) = conversation.phase {
            intake.identity.account = account
            conversation.phase = .intake(intake)
        }
        conversations[newKey] = conversation
        moveTimers(from: oldKey, to: newKey)
        if let number = conversation.ticketNumber { conversationOfTicket[number] = newKey }
        return effects
    }

    /// Forgets a conversation and its timers (nothing is said); the runtime
    /// withdraws its PIN checks still waiting for the worker.
    mutating func end(_ key: ConversationKey) -> [SupportEffect] {
        guard let conversation = conversations.removeValue(forKey: key) else { return [] }
        journal.touch(key)  // Persisted: deleted from the store
        for text in conversation.pending { pendingOwners.removeValue(forKey: text.transactionID) }
        timers.remove(.offer(key))
        timers.remove(.idle(key))
        timers.remove(.relay(key))
        if let number = conversation.ticketNumber, conversationOfTicket[number] == key {
            conversationOfTicket.removeValue(forKey: number)
        }
        compact()
        return [.cancelPINChecks(key)]
    }

    /// The conversation timers due at `now`, in time order; each one's
    /// conversation is marked for writing (the timer may change or end it).
    mutating func popDue(_ now: Date) -> [(timer: SupportTimer, at: Date)] {
        let due = timers.popDueWithDates(now)
        for entry in due { journal.touch(entry.key.conversation) }
        return due.map { (timer: $0.key, at: $0.at) }
    }

    /// A due timer the runtime left for its next turn: due again at `at`.
    mutating func requeue(_ timer: SupportTimer, at: Date) {
        timers.set(timer, at: at)
    }

    /// The earliest conversation deadline.
    mutating func earliest() -> Date? { timers.earliest() }

    /// What the store should hold of `key`'s conversation (nil: it ended).
    func stored(_ key: ConversationKey) -> StoredConversation? {
        conversations[key].map(stored)
    }

    /// `conversation` as stored, with its pending offer and relay timers.
    func stored(_ conversation: Conversation) -> StoredConversation {
        let key = conversation.key
        return conversation.stored(offerAt: timers.deadline(of: .offer(key)), relayAt: timers.deadline(of: .relay(key)))
    }

    /// The store calls that bring it up to date with the touched
    /// conversations (``ConversationJournal/writes(now:expiry:logger:stored:)``).
    mutating func writes(now: Date, expiry: TimeInterval, logger: Logger) -> [ConversationJournal.Write] {
        guard !journal.isEmpty else { return [] }
        var journal = self.journal
        let writes = journal.writes(now: now, expiry: expiry, logger: logger) { stored($0) }
        self.journal = journal
        return writes
    }

    // MARK: - Memory

    /// A conversation moved from `old` to `new` (a nick or account change):
    /// its timers and pending texts follow it.
    private mutating func moveTimers(from old: ConversationKey, to new: ConversationKey) {
        for make in [SupportTimer.offer, SupportTimer.idle, SupportTimer.relay] {
            if let date = timers.deadline(of: make(old)) {
                timers.remove(make(old))
                timers.set(make(new), at: date)
            }
        }
        for text in conversations[new]?.pending ?? [] { pendingOwners[text.transactionID] = new }
    }

    // MARK: - Texts kept until sent

    /// Keeps `text`, said by the intake to `key`'s customer at `now`, until
    /// its network reports it sent (``Conversation/pending``), and returns
    /// the transaction id it goes out under (unique: a homeserver would
    /// swallow a new text under an id it has seen). `newStep`: the first
    /// text of a step, which replaces what an earlier step left.
    mutating func keepUntilSent(_ text: String, key: ConversationKey, now: Date, newStep: Bool) -> String? {
        guard conversations[key] != nil else { return nil }
        if newStep { dropPending(key) }
        let id = "sb-ask-" + UUID().uuidString.lowercased()
        conversations[key]?.pending.append(PendingText(text: text, transactionID: id, saidAt: now))
        pendingOwners[id] = key
        return id
    }

    /// The text with this transaction id was written to the network: no
    /// longer kept (its conversation is written again without it).
    mutating func sent(transactionID id: String) {
        guard let key = pendingOwners.removeValue(forKey: id),
              conversations[key]?.pending.contains(where: { $0.transactionID == id }) == true else { return }
        conversations[key]?.pending.removeAll { $0.transactionID == id }
        journal.touch(key)  // Persisted: not sent again after a restart
    }

    /// `key`'s conversation keeps nothing to send again.
    mutating func dropPending(_ key: ConversationKey) {
        guard let pending = conversations[key]?.pending, !pending.isEmpty else { return }
        for text in pending { pendingOwners.removeValue(forKey: text.transactionID) }
        conversations[key]?.pending = []
    }

    /// Gives back the storage of the tables once they hold far fewer
    /// entries than they have room for (Swift's dictionaries keep theirs).
    mutating func compact() {
        if Self.isSparse(conversations.count, conversations.capacity) {
            conversations = Dictionary(uniqueKeysWithValues: conversations.map { ($0.key, $0.value) })
        }
        if Self.isSparse(pendingOwners.count, pendingOwners.capacity) {
            pendingOwners = Dictionary(uniqueKeysWithValues: pendingOwners.map { ($0.key, $0.value) })
        }
        if Self.isSparse(conversationOfTicket.count, conversationOfTicket.capacity) {
            conversationOfTicket = Dictionary(uniqueKeysWithValues: conversationOfTicket.map { ($0.key, $0.value) })
        }
        if Self.isSparse(toldBusy.count, toldBusy.capacity) {
            var fresh = Set<ConversationKey>(minimumCapacity: toldBusy.count)
            for key in toldBusy { fresh.insert(key) }
            toldBusy = fresh
        }
    }

    static func isSparse(_ count: Int, _ capacity: Int) -> Bool { capacity > 256 && count * 8 < capacity }
}

/// A conversation's timer.
enum SupportTimer: Hashable, Sendable {
    /// Offer a waiting non-contract customer to leave a message.
    case offer(ConversationKey)
    /// End an idle conversation.
    case idle(ConversationKey)
    /// Relay the lines a customer sent in a burst.
    case relay(ConversationKey)

    /// The conversation it belongs to.
    var conversation: ConversationKey {
        switch self {
        case .offer(let key), .idle(let key), .relay(let key): key
        }
    }
}

/// What the support bot's table asks the runtime to do.
enum SupportEffect: Equatable {
    /// Withdraw the PIN checks of this conversation still waiting for the
    /// worker (it ended).
    case cancelPINChecks(ConversationKey)
}

/// The answer of ``SupportBot/admit(_:settings:)``.
enum Admission: Equatable {
    case admitted
    /// A bound holds: `bound` names it ("total", "network:NAME");
    /// `newlyHit` when it was clear before (log it); `tellBusy` when this
    /// customer was not told yet.
    case refused(bound: String, newlyHit: Bool, tellBusy: Bool)
}
