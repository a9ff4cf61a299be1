import Foundation

/// Something someone wants to do to a ticket. Which role may do it, from
/// which state, is decided by ``TicketLifecycle``.
public enum TicketCommand: Sendable, Hashable, CustomStringConvertible {
    /// System: the escalation paged an agent. `new → paged`; on a paged
    /// ticket it only records the repeated page. `note` says whom.
    case page(note: String)
    /// System: a non-contract ticket was announced in the agents' channel
    /// (it is never paged). Records an event; the state stays `new`.
    case announce(note: String)
    /// Agent (`!ack N`): seen, will respond. Stops the escalation.
    case acknowledge
    /// Agent (`!take N`, `!next`): assigns the ticket to the agent.
    case take
    /// Agent (assignee): waiting for the customer to answer.
    case setWaiting(note: String)
    /// Customer (owner): a message on their ticket. On a waiting ticket it
    /// goes back to in progress; on a resolved one it reopens.
    case customerMessage(String)
    /// Agent (`!reply N text`): a reply relayed to the customer. Counts as
    /// the first response for the SLA.
    case agentReply(String)
    /// Agent (`!sev N 1-4 reason`): a reason is required.
    case changeSeverity(Severity, reason: String)
    /// Agent (`!resolve N note`): a resolution note is required.
    case resolve(note: String)
    /// System, agent, or the customer who owns it: ends a resolved ticket.
    case close(note: String)
    /// Customer (owner; `!cancel`) or agent (reason required): withdraws an
    /// open ticket.
    case cancel(reason: String)
    /// Agent: an internal note, any state.
    case note(String)
    /// System: the SLA reached its warning mark (80 %).
    case slaWarning(note: String)
    /// System: the SLA response time passed with no response.
    case slaBreach(note: String)

    /// The command's name in messages (`acknowledge`, `change severity`).
    public var name: String {
        switch self {
        case .page: "page"
        case .announce: "announce"
        case .acknowledge: "acknowledge"
        case .take: "take"
        case .setWaiting: "set waiting"
        case .customerMessage: "add a customer message to"
        case .agentReply: "reply to"
        case .changeSeverity: "change the severity of"
        case .resolve: "resolve"
        case .close: "close"
        case .cancel: "cancel"
        case .note: "add a note to"
        case .slaWarning: "record an SLA warning on"
        case .slaBreach: "record an SLA breach on"
        }
    }

    public var description: String { name }
}

/// A command the lifecycle refused, and why, in a form the bots can turn
/// into a reply ("#42 is already taken by ben").
public struct TransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The actor's role may not do this at all (a customer resolving).
        case roleNotAllowed
        /// A customer acting on someone else's ticket.
        case notOwner
        /// Not from this state (acknowledging a resolved ticket).
        case wrongState
        /// Assigned to another agent, who must do it (or hand it over).
        case assignedTo(String)
        /// The agent already has it.
        case alreadyYours
        /// A reason or note is required and was empty.
        case textRequired(String)
        /// The severity is already that value.
        case unchanged
    }

    public var ticket: TicketNumber
    /// The command's name (``TicketCommand/name``).
    public var command: String
    public var state: TicketState
    public var actor: Actor
    public var reason: Reason

    public var description: String {
        let what = "cannot \(command) \(ticket) (\(state))"
        switch reason {
        case .roleNotAllowed: return "\(what): not allowed for \(actor)"
        case .notOwner: return "\(what): \(actor) did not open this ticket"
        case .wrongState: return "\(what): not possible while the ticket is \(state)"
        case .assignedTo(let agent): return "\(what): it is assigned to \(agent)"
        case .alreadyYours: return "\(what): it is already assigned to \(actor)"
        case .textRequired(let what2): return "\(what): \(what2) is required"
        case .unchanged: return "\(what): the severity is already that"
        }
    }
}

/// The ticket state machine: who may change what, from which state.
///
/// ```
///            page            ack             take                set waiting
///   new ─────────▶ paged ─────────▶ acknowledged ─────────▶ in progress ◀──────▶ waiting
///    │  ack/take ▲    │ take                ▲                  │   customer msg    │
///    └───────────┴────┴─────────────────────┘                  │ resolve           │ resolve
///                                                              ▼                   ▼
///          any open state ── cancel ──▶ cancelled           resolved ── close ──▶ closed
///                                                              │ customer message (reopens)
///                                                              └──────────▶ in progress
/// ```
///
/// | command            | who                               | from                                 |
/// |--------------------|-----------------------------------|--------------------------------------|
/// | page               | system                            | new, paged (repeat)                  |
/// | announce           | system                            | new                                  |
/// | acknowledge        | agent                             | new, paged                           |
/// | take               | agent                             | new, paged, acknowledged (unassigned)|
/// | set waiting        | agent (assignee)                  | in progress                          |
/// | customer message   | customer (owner)                  | open, resolved (reopens)             |
/// | reply              | agent                             | open                                 |
/// | change severity    | agent, reason required            | open                                 |
/// | resolve            | agent (assignee, or takes it)     | open                                 |
/// | close              | system, agent, customer (owner)   | resolved                             |
/// | cancel             | customer (owner); agent w/ reason | open                                 |
/// | note               | agent                             | any                                  |
/// | SLA warning/breach | system                            | open                                 |
///
/// A customer is the owner when their actor id is the ticket contact's
/// description (`Actor.customer(ticket.contact.description)`, e.g.
/// `libera:alice` for a logged-in user) — the same chat identity that
/// opened it, never just the same nick on another account.
///
/// Acknowledging does not assign: the ticket stays in the queue until an
/// agent takes it (`!ack` says "I have seen it", `!take` "it is mine").
/// The first acknowledge, take or reply sets `respondedAt`, which meets the
/// SLA and stops the escalation.
public enum TicketLifecycle {
    /// Applies `command` by `actor` at `now`: the changed ticket and the
    /// events that record every change, or an error naming the refused
    /// transition. Pure: nothing is stored here.
    public static func apply(_ command: TicketCommand, to ticket: Ticket, by actor: Actor,
                             at now: Date) throws(TransitionError) -> (Ticket, [TicketEvent]) {
        var t = ticket
        var events: [TicketEvent] = []
        func refuse(_ reason: TransitionError.Reason) -> TransitionError {
            TransitionError(ticket: ticket.number, command: command.name, state: ticket.state, actor: actor, reason: reason)
        }
        func event(_ kind: TicketEvent.Kind, from: String? = nil, to: String? = nil, note: String = "") {
            events.append(TicketEvent(ticket: ticket.number, at: now, actor: actor, kind: kind, from: from, to: to, note: note))
        }
        func move(to state: TicketState, note: String = "") {
            guard t.state != state else { return }
            event(.stateChanged, from: t.state.rawValue, to: state.rawValue, note: note)
            t.state = state
        }
        func requireText(_ text: String, _ what: String) throws(TransitionError) -> String {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw refuse(.textRequired(what)) }
            return trimmed
        }
        func requireOpen() throws(TransitionError) {
            guard ticket.state.isOpen else { throw refuse(.wrongState) }
        }
        func responded() { if t.respondedAt == nil { t.respondedAt = now } }
        func assign(to agent: String) {
            event(.assigned, from: t.assignee, to: agent)
            t.assignee = agent
        }

        let isOwner: Bool
        if case .customer(let id) = actor { isOwner = id == ticket.contact.description } else { isOwner = false }
        let agentID: String?
        if case .agent(let id) = actor { agentID = id } else { agentID = nil }
        let isSystem = actor == .system

        switch command {
        case .page(let note):
            guard isSystem else { throw refuse(.roleNotAllowed) }
            guard ticket.state == .new || ticket.state == .paged else { throw refuse(.wrongState) }
            move(to: .paged)
            event(.paged, note: note)

        case .announce(let note):
            guard isSystem else { throw refuse(.roleNotAllowed) }
            guard ticket.state == .new else { throw refuse(.wrongState) }
            event(.note, note: note)

        case .acknowledge:
            guard agentID != nil else { throw refuse(.roleNotAllowed) }
            guard ticket.state == .new || ticket.state == .paged else { throw refuse(.wrongState) }
            move(to: .acknowledged)
            event(.acknowledged)
            responded()

        case .take:
            guard let agent = agentID else { throw refuse(.roleNotAllowed) }
            try requireOpen()
            if let assignee = ticket.assignee {
                throw refuse(assignee == agent ? .alreadyYours : .assignedTo(assignee))
            }
            guard ticket.state == .new || ticket.state == .paged || ticket.state == .acknowledged else {
                throw refuse(.wrongState)
            }
            assign(to: agent)
            move(to: .inProgress)
            responded()

        case .setWaiting(let note):
            guard let agent = agentID else { throw refuse(.roleNotAllowed) }
            guard ticket.state == .inProgress else { throw refuse(.wrongState) }
            if let assignee = ticket.assignee, assignee != agent { throw refuse(.assignedTo(assignee)) }
            move(to: .waitingForCustomer, note: note.trimmingCharacters(in: .whitespacesAndNewlines))

        case .customerMessage(let text):
            guard case .customer = actor else { throw refuse(.roleNotAllowed) }
            guard isOwner else { throw refuse(.notOwner) }
            let body = try requireText(text, "a message")
            switch ticket.state {
            case .new, .paged, .acknowledged, .inProgress:
                event(.customerMessage, note: body)
            case .waitingForCustomer:
                event(.customerMessage, note: body)
                move(to: .inProgress, note: "the customer answered")
            case .resolved:
                event(.customerMessage, note: body)
                move(to: t.assignee == nil ? .acknowledged : .inProgress, note: "reopened by the customer's message")
            case .closed, .cancelled:
                throw refuse(.wrongState)
            }

        case .agentReply(let text):
            guard agentID != nil else { throw refuse(.roleNotAllowed) }
            try requireOpen()
            event(.agentReply, note: try requireText(text, "a reply text"))
            responded()

        case .changeSeverity(let severity, let reason):
            guard agentID != nil else { throw refuse(.roleNotAllowed) }
            try requireOpen()
            let why = try requireText(reason, "a reason")
            guard severity != ticket.severity else { throw refuse(.unchanged) }
            event(.severityChanged, from: ticket.severity.description, to: severity.description, note: why)
            t.severity = severity

        case .resolve(let note):
            guard let agent = agentID else { throw refuse(.roleNotAllowed) }
            try requireOpen()
            let why = try requireText(note, "a resolution note")
            if let assignee = ticket.assignee, assignee != agent { throw refuse(.assignedTo(assignee)) }
            if ticket.assignee == nil { assign(to: agent) }
            responded()
            move(to: .resolved, note: why)

        case .close(let note):
            switch actor {
            case .system, .agent: break
            case .customer: guard isOwner else { throw refuse(.notOwner) }
            }
            guard ticket.state == .resolved else { throw refuse(.wrongState) }
            move(to: .closed, note: note.trimmingCharacters(in: .whitespacesAndNewlines))

        case .cancel(let reason):
            let why: String
            switch actor {
            case .system:
                throw refuse(.roleNotAllowed)
            case .customer:
                guard isOwner else { throw refuse(.notOwner) }
                why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            case .agent:
                why = try requireText(reason, "a reason")
            }
            try requireOpen()
            move(to: .cancelled, note: why.isEmpty ? "withdrawn by the customer" : why)

        case .note(let text):
            guard agentID != nil else { throw refuse(.roleNotAllowed) }
            event(.note, note: try requireText(text, "a note text"))

        case .slaWarning(let note):
            guard isSystem else { throw refuse(.roleNotAllowed) }
            try requireOpen()
            event(.slaWarning, note: note)

        case .slaBreach(let note):
            guard isSystem else { throw refuse(.roleNotAllowed) }
            try requireOpen()
            event(.slaBreach, note: note)
        }

        if !events.isEmpty { t.updatedAt = now }
        return (t, events)
    }

    /// The first event of every ticket's audit trail.
    public static func created(_ ticket: Ticket, by actor: Actor) -> TicketEvent {
        TicketEvent(ticket: ticket.number, at: ticket.createdAt, actor: actor, kind: .created,
                    to: ticket.priority.label, note: ticket.summary)
    }
}
