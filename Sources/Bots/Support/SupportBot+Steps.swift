import Desk
import Foundation

// The support bot's steps of one conversation: a line or a PIN result fed
// to the intake, the ticket's follow-up lines gathered in bursts, and what
// an idle conversation's timer decides. Each returns what the runtime must
// carry out (the intake's effects, the lines to attach to the ticket);
// reading and writing tickets stays in the runtime.
extension SupportBot {
    /// A new conversation with `identity`: it follows their newest ticket
    /// if that is open or was resolved within a day (their lines go to it),
    /// else it starts the questions. The language is the one `firstLine` is
    /// written in, else the ticket's, else the network's default.
    static func newConversation(serial: UInt64, key: ConversationKey, identity: ChatIdentity, firstLine: String,
                                defaultLanguage: Language, newestTicket: Ticket?, now: Date,
                                _ context: (ChatIdentity) -> IntakeContext) -> Conversation {
        let detected = LanguageDetector.detect(firstLine)
        let language = detected ?? defaultLanguage
        if let ticket = newestTicket {
            let recentlyResolved = ticket.state == .resolved && now.timeIntervalSince(ticket.updatedAt) < 86_400
            if ticket.state.isOpen || recentlyResolved {
                return Conversation(serial: serial, key: key, identity: identity,
                                    language: detected ?? Language(rawValue: ticket.language) ?? language,
                                    phase: .ticket(FollowUp(number: ticket.number, group: ticket.group)),
                                    lastActivity: now)
            }
        }
        let intake = Intake(identity: identity, language: language, languageSettled: detected != nil, context(identity))
        return Conversation(serial: serial, key: key, identity: identity, language: language,
                            phase: .intake(intake), lastActivity: now)
    }

    /// The customer of `key` wrote: the conversation is active now (its idle
    /// end moves to `now + idleTimeout`), under the nick they wrote with.
    mutating func active(_ key: ConversationKey, nick: String, now: Date, idleTimeout: TimeInterval) {
        conversations[key]?.lastActivity = now
        conversations[key]?.identity.nick = nick
        timers.set(.idle(key), at: now.addingTimeInterval(idleTimeout))
    }

    /// Runs one step of `key`'s intake (a line, a PIN result, the language
    /// chosen, a failed ticket write) and keeps what it changed; nil when
    /// there is no such conversation in its questions (or, with `serial`,
    /// it is not the conversation the step was for). The effects are the
    /// runtime's to carry out (``BotRuntime/perform(_:key:now:)``).
    mutating func intakeStep(_ key: ConversationKey, serial: UInt64? = nil,
                             _ context: (ChatIdentity) -> IntakeContext,
                             _ step: (inout Intake, IntakeContext) -> [IntakeEffect]) -> [IntakeEffect]? {
        guard var conversation = conversations[key], serial == nil || conversation.serial == serial,
              case .intake(var intake) = conversation.phase else { return nil }
        let effects = step(&intake, context(conversation.identity))
        conversation.language = intake.language
        conversation.phase = .intake(intake)
        conversations[key] = conversation
        return effects
    }

    /// The ticket of `conversation` was committed: its lines go to it now;
    /// with `offerAt`, the customer (waiting in the queue) is offered then
    /// to leave a message.
    mutating func ticketCreated(_ number: TicketNumber, group: CustomerGroup, in conversation: Conversation,
                                offerAt: Date? = nil) {
        dropPending(conversation.key)  // The confirmation follows the intake's last texts
        let conversation = Self.following(number, group: group, conversation)
        conversations[conversation.key] = conversation
        conversationOfTicket[number] = conversation.key
        if let offerAt { timers.set(.offer(conversation.key), at: offerAt) }
    }

    /// `conversation` once its ticket `number` exists: it follows the
    /// ticket, and the intake's texts kept until sent are dropped.
    private static func following(_ number: TicketNumber, group: CustomerGroup,
                                  _ conversation: Conversation) -> Conversation {
        var conversation = conversation
        conversation.phase = .ticket(FollowUp(number: number, group: group))
        conversation.pending = []
        return conversation
    }

    /// `key`'s conversation as it is stored once its ticket is created
    /// (``ticketCreated(_:group:in:offerAt:)`` done), without changing it.
    /// The number is not known yet: it follows ticket 0 until the store,
    /// in the creation's transaction, gives it the number it assigns
    /// (``StoredConversation/following(_:)``).
    func storedAfterCreating(_ key: ConversationKey, group: CustomerGroup, offerAt: Date?) -> StoredConversation? {
        guard let conversation = conversations[key] else { return nil }
        return Self.following(TicketNumber(rawValue: 0), group: group, conversation)
            .stored(offerAt: offerAt ?? timers.deadline(of: .offer(key)), relayAt: timers.deadline(of: .relay(key)))
    }

    /// The ticket `key`'s conversation followed is over (closed or
    /// cancelled): the next line starts a new request, with fresh questions
    /// in the conversation's language.
    mutating func ticketOver(_ key: ConversationKey, _ context: (ChatIdentity) -> IntakeContext) {
        guard var conversation = conversations[key], let number = conversation.ticketNumber else { return }
        conversationOfTicket.removeValue(forKey: number)
        timers.remove(.offer(key))
        conversation.phase = .intake(Intake(identity: conversation.identity, language: conversation.language,
                                            languageSettled: true, context(conversation.identity)))
        conversations[key] = conversation
    }

    /// A line on `key`'s ticket: the lines to attach now, or nil while a
    /// burst gathers them (then its relay timer is set for the burst's end).
    /// Lines within `window` of the last ones relayed go together.
    mutating func followUpLine(_ text: String, key: ConversationKey, now: Date, window: TimeInterval) -> [String]? {
        guard var conversation = conversations[key], case .ticket(var followUp) = conversation.phase else { return nil }
        if let ends = followUp.burstEnds, now < ends {
            followUp.buffered.append(text)
            conversation.phase = .ticket(followUp)
            conversations[key] = conversation
            timers.set(.relay(key), at: ends)
            return nil
        }
        followUp.burstEnds = now.addingTimeInterval(window)
        conversation.phase = .ticket(followUp)
        conversations[key] = conversation
        return [text]
    }

    /// A burst's end (or the conversation's): the lines it gathered, to
    /// attach now; nil when none wait.
    mutating func burstDue(_ key: ConversationKey, now: Date, window: TimeInterval) -> [String]? {
        guard var conversation = conversations[key], case .ticket(var followUp) = conversation.phase,
              !followUp.buffered.isEmpty else { return nil }
        let lines = followUp.buffered
        followUp.buffered = []
        followUp.burstEnds = now.addingTimeInterval(window)
        conversation.phase = .ticket(followUp)
        conversations[key] = conversation
        return lines
    }

    /// The customer of `key` was just told where their ticket stands: the
    /// next "added to your ticket" waits for the re-prompt interval.
    mutating func acknowledged(_ key: ConversationKey, now: Date) {
        guard case .ticket(var followUp) = conversations[key]?.phase else { return }
        followUp.lastAck = now
        conversations[key]?.phase = .ticket(followUp)
    }

    /// A restored conversation (``BotRuntime/restoreConversations(now:)``):
    /// back in the table with its offer and relay timers, its idle time
    /// starting afresh at `idleAt`; the store holds `state` for it, so it is
    /// written again only once it changes (or at once where `rewrite`).
    mutating func restored(_ conversation: Conversation, state: Data, idleAt: Date, offerAt: Date?, relayAt: Date?,
                           rewrite: Bool) {
        let key = conversation.key
        started(conversation)
        for text in conversation.pending { pendingOwners[text.transactionID] = key }
        timers.set(.idle(key), at: idleAt)
        if let offerAt { timers.set(.offer(key), at: offerAt) }
        if let relayAt { timers.set(.relay(key), at: relayAt) }
        journal.holds(key, state: state)
        if rewrite { journal.touch(key) }
    }

    /// Lines of `key`'s customer were attached to their ticket: what to tell
    /// the customer (once that an agent reads along; the message they were
    /// offered to leave; otherwise a short confirmation at most once per
    /// `repromptInterval`).
    mutating func attached(_ key: ConversationKey, toAgent: Bool, now: Date,
                           repromptInterval: TimeInterval) -> AttachedReply? {
        guard var conversation = conversations[key], case .ticket(var followUp) = conversation.phase else { return nil }
        let reply = followUp.acknowledge(toAgent: toAgent, now: now, repromptInterval: repromptInterval)
        conversation.phase = .ticket(followUp)
        conversations[key] = conversation
        return reply
    }

    /// What ``attached(_:toAgent:now:repromptInterval:)`` would tell the
    /// customer, without changing the conversation: the reply is written to
    /// the outbox in the ticket's update (before the conversation moves on
    /// after the commit), so a crash between them cannot lose it.
    func attachedReply(_ key: ConversationKey, toAgent: Bool, now: Date,
                       repromptInterval: TimeInterval) -> AttachedReply? {
        guard case .ticket(var followUp) = conversations[key]?.phase else { return nil }
        return followUp.acknowledge(toAgent: toAgent, now: now, repromptInterval: repromptInterval)
    }

    /// `key`'s conversation as it is stored once lines are attached to its
    /// ticket (``attached(_:toAgent:now:repromptInterval:)`` done), without
    /// changing it: the snapshot goes into the ticket's update, so the lines
    /// a burst held are gone from the stored conversation in the commit that
    /// attaches them.
    func storedAfterAttaching(_ key: ConversationKey, toAgent: Bool, now: Date,
                              repromptInterval: TimeInterval) -> StoredConversation? {
        guard var conversation = conversations[key], case .ticket(var followUp) = conversation.phase else { return nil }
        _ = followUp.acknowledge(toAgent: toAgent, now: now, repromptInterval: repromptInterval)
        conversation.phase = .ticket(followUp)
        return stored(conversation)
    }

    /// A waiting non-contract customer may be offered to leave a message:
    /// the ticket, if the offer is still to be made.
    func offerPending(_ key: ConversationKey) -> FollowUp? {
        guard case .ticket(let followUp) = conversations[key]?.phase, followUp.group == .noContract,
              !followUp.offerMade else { return nil }
        return followUp
    }

    /// The offer was made: the customer's next line is their message.
    mutating func offerMade(_ key: ConversationKey) {
        guard case .ticket(var followUp) = conversations[key]?.phase else { return }
        followUp.offerMade = true
        followUp.awaitingMessage = true
        conversations[key]?.phase = .ticket(followUp)
    }

    /// What `key`'s idle timer decides at `now`.
    mutating func idleDue(_ key: ConversationKey, now: Date, idleTimeout: TimeInterval) -> IdleOutcome? {
        guard let conversation = conversations[key] else { return nil }
        let ends = conversation.lastActivity.addingTimeInterval(idleTimeout)
        if now < ends {
            timers.set(.idle(key), at: ends)
            return .stillActive
        }
        switch conversation.phase {
        case .intake(let intake):
            if intake.verifying {
                timers.set(.idle(key), at: now.addingTimeInterval(60))
                return .stillActive
            }
            return .endIntake(conversation.identity, conversation.language)
        case .ticket:
            return .endFollowUp
        }
    }
}

/// What an idle conversation's timer decided.
enum IdleOutcome: Equatable {
    /// A line came since (or a PIN check still runs): the timer was set again.
    case stillActive
    /// Questions were open: say goodbye to `identity` in the language, then end it.
    case endIntake(ChatIdentity, Language)
    /// The ticket exists (it stays open): relay a gathered burst, then end it silently.
    case endFollowUp
}

/// What the customer is told after lines were attached to their ticket.
extension FollowUp {
    /// Lines were attached to the ticket: the reply to the customer, if any
    /// (see ``SupportBot/attached(_:toAgent:now:repromptInterval:)``), and
    /// what the follow-up remembers of it.
    mutating func acknowledge(toAgent: Bool, now: Date, repromptInterval: TimeInterval) -> AttachedReply? {
        if toAgent {
            guard !toldRelayed else { return nil }
            toldRelayed = true
            return .relayedToAgent
        } else if awaitingMessage {
            awaitingMessage = false
            lastAck = now
            return .messageAttached
        } else if lastAck.map({ now.timeIntervalSince($0) >= repromptInterval }) ?? true {
            lastAck = now
            return .addedToTicket
        }
        return nil
    }
}

enum AttachedReply: Equatable {
    /// An agent has the ticket and reads along (said once).
    case relayedToAgent
    /// The message they were offered to leave is attached.
    case messageAttached
    /// Added to the ticket (at most once per re-prompt interval).
    case addedToTicket
}
