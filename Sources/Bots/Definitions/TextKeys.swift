// The texts the code needs from the bot definitions, and the values it
// fills into each. A definition file must provide exactly these texts, in
// every language, using only the placeholders listed here and at least the
// required ones (BotDefinitions.load checks all of it).

/// A text the code says, defined in a bot file under `texts`.
public protocol BotTextKey: RawRepresentable<String>, CaseIterable, Hashable, Sendable {
    /// The `{placeholders}` the code fills in for this text.
    var placeholders: [String] { get }
    /// The placeholders the text must use: without them the message would
    /// be useless or misleading (a ticket confirmation without the number).
    var required: [String] { get }
}

/// Texts of the support bot (`bots/support.json5`): the customer conversation.
public enum SupportText: String, BotTextKey {
    case greeting, askCustomerNumber, recognisedByAccount, unknownCustomerNumber, unknownCustomerNumberGiveUp
    case noContract, contractExpired, contractNotYetValid
    case askPIN, pinAccepted, pinWrong, pinAttemptsExhausted
    case askDescription, askProblem, noted, descriptionTruncated
    case suggestIntro, suggestLine, suggestQuestion, deflected
    case askSeverity
    case ticketPaged, ticketPagedBackup, ticketPagedTeam, ticketOutsideHours, ticketQueued
    case onDutyNotOnline
    case offerMessage, messageAttached, addedToTicket, relayedToAgent, existingTicket
    case ticketTaken, ticketAcknowledged, agentReply, ticketResolved, ticketCancelled, ticketWaiting
    case conversationCancelled, nothingToCancel, idleTimeout
    case statusNone, statusHeader, statusQueued, statusAssigned
    case helpIntro, helpLine, languageSet, languageUsage, channelRedirect, storeFailed, unknownCommand, soon
    /// PIN abuse protection (issue 14): the number is locked, so served as "contract claimed, PIN locked";
    /// too many PIN checks at once (asked again); and the policy in one line (`!help`).
    case pinLockedClaimed, pinBusy, pinPolicy
    /// The store could not record a PIN check, so none ran (fail closed).
    case pinUnavailable
    /// A restart cut off the customer's PIN check (the PIN is never stored): said before the PIN question.
    case pinCheckInterrupted
    /// A new customer while the bots already track as many conversations as they may (issue 15): an honest
    /// "busy, try again later", said once.
    case busy
    /// Said once in an encrypted Matrix room (the bot cannot read it): ask for an unencrypted direct chat.
    case encryptedRoom
    /// Before the intake's last text, sent again after a restart when it was never reported sent and is older
    /// than the network deduplicates (so it may have reached the customer after all).
    case resentAfterRestart

    public var placeholders: [String] {
        switch self {
        case .greeting, .askCustomerNumber, .pinAttemptsExhausted, .askDescription, .askProblem, .noted, .suggestIntro,
             .deflected, .askSeverity, .conversationCancelled, .nothingToCancel, .idleTimeout, .statusNone,
             .statusHeader, .helpIntro, .languageSet, .languageUsage, .storeFailed, .soon:
            []
        case .recognisedByAccount, .pinAccepted: ["customer", "number"]
        case .unknownCustomerNumber, .unknownCustomerNumberGiveUp: ["number"]
        case .noContract: ["customer", "number"]
        case .contractExpired: ["customer", "number", "until"]
        case .contractNotYetValid: ["customer", "number", "from"]
        case .askPIN: ["customer", "number"]
        case .pinWrong: ["remaining"]
        case .descriptionTruncated: ["limit"]
        case .suggestLine: ["index", "title", "url"]
        case .suggestQuestion: ["count"]
        case .ticketPaged, .ticketPagedBackup: ["ticket", "priority", "agent"]
        case .ticketPagedTeam: ["ticket", "priority"]
        case .onDutyNotOnline: ["ticket", "agent", "paged"]
        case .ticketOutsideHours: ["ticket", "priority", "tier", "resumes"]
        case .ticketQueued: ["ticket", "priority", "position"]
        case .offerMessage: ["ticket", "minutes"]
        case .messageAttached, .addedToTicket, .existingTicket, .ticketCancelled: ["ticket"]
        case .relayedToAgent, .ticketTaken, .ticketAcknowledged: ["ticket", "agent"]
        case .agentReply: ["ticket", "agent", "text"]
        case .ticketResolved: ["ticket", "agent", "note"]
        case .ticketWaiting: ["ticket", "agent", "note"]
        case .statusQueued: ["ticket", "priority", "summary", "position"]
        case .statusAssigned: ["ticket", "priority", "summary", "agent"]
        case .helpLine: ["command", "usage", "help"]
        case .channelRedirect: ["nick"]
        case .unknownCommand: ["command"]
        case .pinLockedClaimed: ["number"]
        case .pinBusy, .pinUnavailable, .busy, .encryptedRoom, .resentAfterRestart: []
        case .pinCheckInterrupted: []
        case .pinPolicy: ["attempts", "minutes"]
        }
    }

    public var required: [String] {
        switch self {
        case .recognisedByAccount, .unknownCustomerNumber: ["number"]
        case .contractExpired: ["until"]
        case .contractNotYetValid: ["from"]
        case .pinWrong: ["remaining"]
        case .descriptionTruncated: ["limit"]
        case .suggestLine: ["title", "url"]
        case .ticketPaged, .ticketPagedBackup: ["ticket", "priority", "agent"]
        case .ticketPagedTeam: ["ticket", "priority"]
        case .onDutyNotOnline: ["ticket", "agent", "paged"]
        case .ticketOutsideHours: ["ticket", "priority", "resumes"]
        case .ticketQueued: ["ticket", "priority", "position"]
        case .offerMessage, .messageAttached, .addedToTicket, .existingTicket, .ticketCancelled: ["ticket"]
        case .relayedToAgent, .ticketTaken, .ticketAcknowledged: ["ticket", "agent"]
        case .agentReply: ["ticket", "agent", "text"]
        case .ticketResolved: ["ticket", "note"]
        case .ticketWaiting: ["ticket", "note"]
        case .statusQueued: ["ticket", "position"]
        case .statusAssigned: ["ticket", "agent"]
        case .helpLine: ["command", "help"]
        case .pinLockedClaimed: ["number"]
        case .pinPolicy: ["attempts", "minutes"]
        default: []
        }
    }
}

/// Texts of the agent bot (`bots/agent.json5`): pages, SLA warnings and
/// the answers to agent commands.
public enum AgentText: String, BotTextKey {
    case pagePrivate, pageChannel, repagePrivate, repageChannel, pageNoOneOnDuty, pageWholeChannel
    case pageOnDutyAbsent
    case announceNoContract, announceOutsideHours, slaWarning, slaBreach
    case notAnAgent, unknownTicket, usage
    case queueEmpty, queueHeader, queueLine, slaLeft, slaOverdue, slaMet, slaNotApplicable
    case nextNone, taken, takenBy, alreadyYours, acknowledged, notPending, wrongState, changedMeanwhile
    case showTicket, showDescription, showEvent, unassigned
    case replySent, severityChanged, severityUnchanged, resolved
    case oncall, overrideSet, overrideUnknownAgent, overrideBadTime, overrideRefused
    case stats, noOne, noValue
    case relayFromCustomer, customerCancelled, storeFailed, helpIntro, helpLine
    case pageGivenUp, pageGivenUpNextStep, pageGivenUpNoStep
    case waiting, closed, overrideRemoved, overrideNone
    /// PIN abuse protection (issue 14): the agents' channel warning, once per attack (``PINAttackMonitor``;
    /// never the PINs tried), and the flag for a ticket whose contract was claimed while the PIN was locked.
    case pinAttack, pinLockedTicket
    /// A customer's `/me` line relayed to the agent on the ticket, marked as an action (issue 15).
    case relayActionFromCustomer
    /// The agents' channel warning when customers' lines wait in a network's send queue longer than
    /// ``AgentSettings/backlogWarning`` (issue 15): once, again only after the queue cleared.
    case sendBacklog

    static let ticketValues = ["ticket", "number", "priority", "customer", "summary"]
    static let ticketRequired = ["ticket", "priority", "customer", "summary"]

    public var placeholders: [String] {
        switch self {
        case .pagePrivate: Self.ticketValues
        case .pageChannel, .pageNoOneOnDuty: ["mentions"] + Self.ticketValues
        case .pageOnDutyAbsent: ["mentions", "absent"] + Self.ticketValues
        case .repagePrivate: Self.ticketValues + ["minutes"]
        case .repageChannel, .pageWholeChannel: ["mentions"] + Self.ticketValues + ["minutes"]
        case .announceNoContract: Self.ticketValues + ["position"]
        case .announceOutsideHours: Self.ticketValues + ["tier", "resumes"]
        case .slaWarning: Self.ticketValues + ["tier", "left", "target", "percent"]
        case .slaBreach: Self.ticketValues + ["tier", "target"]
        case .notAnAgent: ["command"]
        case .unknownTicket, .alreadyYours, .changedMeanwhile: ["ticket"]
        case .usage: ["command", "usage"]
        case .queueEmpty, .nextNone, .unassigned, .slaMet, .slaNotApplicable, .noOne, .noValue, .helpIntro: []
        case .queueHeader: ["count", "shown"]
        case .queueLine: ["ticket", "priority", "age", "sla", "customer", "summary", "state"]
        case .slaLeft, .slaOverdue: ["time"]
        case .taken: ["agent", "ticket", "priority", "customer", "summary"]
        case .takenBy: ["ticket", "agent"]
        case .acknowledged: ["agent", "ticket"]
        case .notPending: ["ticket", "state"]
        case .wrongState: ["ticket", "state", "command"]
        case .showTicket:
            ["ticket", "priority", "state", "age", "customer", "contact", "tier", "assignee", "sla", "summary"]
        case .showDescription: ["text"]
        case .showEvent: ["time", "actor", "event"]
        case .replySent: ["ticket", "nick"]
        case .severityChanged: ["ticket", "agent", "from", "to", "priority", "reason"]
        case .severityUnchanged: ["ticket", "severity"]
        case .resolved: ["ticket", "agent", "note"]
        case .oncall: ["now", "until", "next", "backup"]
        case .overrideSet: ["agent", "until", "by"]
        case .overrideUnknownAgent: ["nick"]
        case .overrideBadTime: ["text"]
        case .overrideRefused: ["reason"]
        case .stats: ["open", "byPriority", "today", "deflected", "median"]
        case .relayFromCustomer, .relayActionFromCustomer: ["ticket", "customer", "text"]
        case .customerCancelled: ["ticket", "customer"]
        case .storeFailed: []
        case .sendBacklog: ["network", "texts", "seconds", "limit"]
        case .helpLine: ["command", "usage", "help"]
        case .pageGivenUp: Self.ticketValues + ["target", "attempts", "error", "next"]
        case .pageGivenUpNextStep: []
        case .pageGivenUpNoStep: Self.ticketValues
        case .waiting: Self.ticketValues + ["agent", "note"]
        case .closed: Self.ticketValues + ["agent"]
        case .overrideRemoved: ["agent", "count", "by", "now"]
        case .overrideNone: ["agent"]
        case .pinAttack: ["number", "count", "minutes", "senderCount", "senders"]
        case .pinLockedTicket: ["ticket", "priority", "customer"]
        }
    }

    public var required: [String] {
        switch self {
        case .pageGivenUp: ["ticket", "target", "next"]
        case .waiting, .closed: ["ticket"]
        case .overrideRemoved, .overrideNone: ["agent"]
        case .pagePrivate, .repagePrivate: Self.ticketRequired
        case .pageChannel, .pageNoOneOnDuty, .repageChannel, .pageWholeChannel: ["mentions"] + Self.ticketRequired
        case .pageOnDutyAbsent: ["mentions", "absent"] + Self.ticketRequired
        case .announceNoContract: Self.ticketRequired
        case .announceOutsideHours: ["ticket", "priority", "resumes"]
        case .slaWarning: ["ticket", "left"]
        case .slaBreach: ["ticket"]
        case .unknownTicket, .alreadyYours, .changedMeanwhile, .notPending, .wrongState: ["ticket"]
        case .usage: ["command"]
        case .queueLine: ["ticket", "priority", "age"]
        case .slaLeft, .slaOverdue: ["time"]
        case .taken: ["agent", "ticket"]
        case .takenBy: ["ticket", "agent"]
        case .acknowledged: ["ticket"]
        case .showTicket: ["ticket", "priority", "state"]
        case .showDescription: ["text"]
        case .replySent: ["ticket"]
        case .severityChanged: ["ticket", "to", "reason"]
        case .resolved: ["ticket"]
        case .oncall: ["now"]
        case .overrideSet: ["agent", "until"]
        case .relayFromCustomer, .relayActionFromCustomer: ["ticket", "text"]
        case .customerCancelled: ["ticket"]
        case .sendBacklog: ["network", "seconds"]
        case .helpLine: ["command", "help"]
        case .pinAttack: ["number", "count", "senders"]
        case .pinLockedTicket: ["ticket"]
        default: []
        }
    }
}

/// Texts of the knowledge-base bot (`bots/kb.json5`).
public enum KBText: String, BotTextKey {
    case resultsIntro, resultLine, noResults, articleSummary, usage

    public var placeholders: [String] {
        switch self {
        case .resultsIntro, .noResults: ["query"]
        case .resultLine: ["id", "title", "url"]
        case .articleSummary: ["id", "title", "summary", "url"]
        case .usage: ["command"]
        }
    }

    public var required: [String] {
        switch self {
        case .resultLine: ["title", "url"]
        case .articleSummary: ["title", "summary", "url"]
        default: []
        }
    }
}

/// The customer commands (`commands` in `bots/support.json5`).
public enum SupportCommand: String, CaseIterable, Hashable, Sendable {
    case help, status, cancel, lang
}

/// The agent commands (`commands` in `bots/agent.json5`).
public enum AgentCommand: String, CaseIterable, Hashable, Sendable {
    case help, queue, next, take, ack, show, reply, sev, resolve, oncall, stats, wait, close
}

/// The KB bot's command (`commands` in `bots/kb.json5`).
public enum KBCommand: String, CaseIterable, Hashable, Sendable {
    case kb
}
