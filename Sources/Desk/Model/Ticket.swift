import Foundation

/// A ticket's number, written `#42` everywhere (SPEC.md). Numbers are handed
/// out by the store and never repeat, also after a crash.
public struct TicketNumber: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }

    /// Parses `#42` or `42`; nil for anything else (or a number below 1).
    public init?(text: String) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.first == "#" { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy(\.isASCII), body.allSatisfy(\.isNumber),
              let value = Int64(body), value > 0 else { return nil }
        self.rawValue = value
    }

    public static func < (lhs: TicketNumber, rhs: TicketNumber) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `#42`
    public var description: String { "#\(rawValue)" }
}

/// Where a ticket is in its life (SPEC.md; issue 4).
///
/// new → paged → acknowledged → inProgress → waitingForCustomer → resolved →
/// closed, and cancelled. Which role may make which transition is decided by
/// the desk's lifecycle rules, not by this type.
public enum TicketState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case new
    case paged
    case acknowledged
    case inProgress = "in_progress"
    case waitingForCustomer = "waiting"
    case resolved
    case closed
    case cancelled

    /// Open tickets are in the queue or being worked.
    public var isOpen: Bool {
        switch self {
        case .new, .paged, .acknowledged, .inProgress, .waitingForCustomer: true
        case .resolved, .closed, .cancelled: false
        }
    }

    public var description: String { rawValue }
}

/// Who did something: the audit trail names an actor for every change.
public enum Actor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The gateway itself (timers, escalation, restarts).
    case system
    /// A customer, by their chat identity's display form (e.g. `libera:alice`).
    case customer(String)
    /// A configured agent, by the agent's id from the configuration.
    case agent(String)

    /// `system`, `customer:<id>`, `agent:<id>` — the stored form.
    public var description: String {
        switch self {
        case .system: "system"
        case .customer(let id): "customer:\(id)"
        case .agent(let id): "agent:\(id)"
        }
    }

    /// Parses the stored form written by `description`.
    public init?(stored: String) {
        if stored == "system" {
            self = .system
        } else if stored.hasPrefix("customer:") {
            self = .customer(String(stored.dropFirst("customer:".count)))
        } else if stored.hasPrefix("agent:") {
            self = .agent(String(stored.dropFirst("agent:".count)))
        } else {
            return nil
        }
    }
}

/// A person on a chat network. The account, when present, is what proves
/// who they are; the nick alone never does.
public struct ChatIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The configured network name (`libera`, `matrix-main`, `console`).
    public var network: String
    /// The nick (IRC) or user id (Matrix) they wrote from.
    public var nick: String
    /// The authenticated account, if the network told us one.
    public var account: String?

    public init(network: String, nick: String, account: String? = nil) {
        self.network = network
        self.nick = nick
        self.account = account
    }

    /// `network:account` when logged in, else `network:nick` (marked `~`).
    public var description: String {
        if let account { "\(network):\(account)" } else { "\(network):~\(nick)" }
    }
}

/// A support ticket.
public struct Ticket: Sendable, Hashable, Codable, Identifiable {
    public var number: TicketNumber
    public var createdAt: Date
    public var updatedAt: Date
    /// The customer number, nil for customers without one.
    public var customerNumber: String?
    /// The customer's name as configured (or the nick for unknown customers).
    public var customerName: String
    /// Who opened it, and where to relay replies.
    public var contact: ChatIdentity
    /// The group at the moment the ticket was opened (contract proven or not).
    public var group: CustomerGroup
    /// The contract tier (e.g. `premium`) when `group == .contract`.
    public var tier: String?
    public var severity: Severity
    /// One line, for pages and queue listings.
    public var summary: String
    /// What the customer wrote, in full.
    public var description: String
    /// `de` or `en`: the language the customer is spoken to in.
    public var language: String
    public var state: TicketState
    /// The agent id of the agent who took it.
    public var assignee: String?
    /// When an agent first acknowledged or took it (ends escalation, meets SLA).
    public var respondedAt: Date?
    /// The customer claimed a contract but the PIN check was locked (too
    /// many wrong PINs, issue 14): the ticket keeps the contract group's
    /// priority, and the agent verifies the customer by phone before acting.
    public var contractClaimPINLocked: Bool

    public var id: TicketNumber { number }

    public var priority: Priority { Priority(group: group, severity: severity) }

    public init(
        number: TicketNumber, createdAt: Date, updatedAt: Date? = nil, customerNumber: String?,
        customerName: String, contact: ChatIdentity, group: CustomerGroup, tier: String?,
        severity: Severity, summary: String, description: String, language: String,
        state: TicketState = .new, assignee: String? = nil, respondedAt: Date? = nil,
        contractClaimPINLocked: Bool = false
    ) {
        self.number = number
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.customerNumber = customerNumber
        self.customerName = customerName
        self.contact = contact
        self.group = group
        self.tier = tier
        self.severity = severity
        self.summary = summary
        self.description = description
        self.language = language
        self.state = state
        self.assignee = assignee
        self.respondedAt = respondedAt
        self.contractClaimPINLocked = contractClaimPINLocked
    }
}

/// One entry of a ticket's audit trail: time, actor, what, why.
public struct TicketEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case created
        case stateChanged = "state"
        case severityChanged = "severity"
        case assigned
        case paged
        case acknowledged
        case customerMessage = "customer_message"
        case agentReply = "agent_reply"
        case note
        case slaWarning = "sla_warning"
        case slaBreach = "sla_breach"
    }

    public var ticket: TicketNumber
    public var at: Date
    public var actor: Actor
    public var kind: Kind
    /// The old value, where the event changes one (e.g. `new`, `3`).
    public var from: String?
    /// The new value, where the event changes one (e.g. `paged`, `1`).
    public var to: String?
    /// Why, or the text of a message or note.
    public var note: String

    public init(ticket: TicketNumber, at: Date, actor: Actor, kind: Kind,
                from: String? = nil, to: String? = nil, note: String = "") {
        self.ticket = ticket
        self.at = at
        self.actor = actor
        self.kind = kind
        self.from = from
        self.to = to
        self.note = note
    }

    /// The `created` event of `ticket` as it was created (at version 1):
    /// by `actor` at its creation time, `to` its priority label, its summary
    /// as the note. One definition for the store that writes it with the
    /// ticket and the one that derives it from the ticket's first row.
    public static func created(_ ticket: Ticket, by actor: Actor) -> TicketEvent {
        TicketEvent(ticket: ticket.number, at: ticket.createdAt, actor: actor, kind: .created, from: nil,
                    to: ticket.priority.label, note: ticket.summary)
    }
}
