import Desk
import Foundation

/// The column lists of the store's tables and the decoders that read them,
/// written once for every store (over ``StoreRow``). A decoder reads the
/// columns by position, in the order of its list; a value the code does not
/// know (a state, a kind, an actor) is reported as corrupt data naming the
/// table and column, never guessed.
public enum StoreRows {
    // MARK: Tickets

    /// The columns ``storedTicket(_:)`` reads, in its order.
    public static let ticketColumnList = """
         number, version, created_at, updated_at, customer_number, customer_name, contact_network,
            contact_nick, contact_account, customer_group, tier, severity, summary, description, language, state,
            assignee, responded_at, contract_claim_pin_locked
        """

    public static let ticketColumns = "SELECT" + ticketColumnList + " FROM tickets"

    /// The states that are not open (`TicketState.isOpen == false`), as SQL.
    /// PostgreSQL's partial index `tickets_open` and its open-ticket queries
    /// use this exact text (``StoreDatabase/openTicketCondition``).
    public static let closedStatesSQL = "('resolved', 'closed', 'cancelled')"

    public static func storedTicket(_ row: some StoreRow) throws -> StoredTicket {
        let number = TicketNumber(try row.int64(0))
        let groupText = try row.text(9)
        guard let group = CustomerGroup(rawValue: groupText) else {
            throw TicketStoreError.corrupt("ticket \(number): customer group '\(groupText)' is unknown (tickets.customer_group)")
        }
        let severityValue = try row.int(11)
        guard let severity = Severity(rawValue: severityValue) else {
            throw TicketStoreError.corrupt("ticket \(number): severity \(severityValue) is unknown (tickets.severity)")
        }
        let stateText = try row.text(15)
        guard let state = TicketState(rawValue: stateText) else {
            throw TicketStoreError.corrupt("ticket \(number): state '\(stateText)' is unknown (tickets.state)")
        }
        let ticket = Ticket(
            number: number, createdAt: try row.date(2), updatedAt: try row.date(3),
            customerNumber: try row.optionalText(4), customerName: try row.text(5),
            contact: ChatIdentity(network: try row.text(6), nick: try row.text(7), account: try row.optionalText(8)),
            group: group, tier: try row.optionalText(10), severity: severity, summary: try row.text(12),
            description: try row.text(13), language: try row.text(14), state: state,
            assignee: try row.optionalText(16), respondedAt: try row.optionalDate(17),
            contractClaimPINLocked: try row.bool(18))
        return StoredTicket(ticket: ticket, version: try row.int64(1))
    }

    // MARK: Events

    public static let eventColumns = "SELECT at, actor, kind, from_value, to_value, note FROM ticket_events"

    public static func event(of number: TicketNumber, _ row: some StoreRow) throws -> TicketEvent {
        let actorText = try row.text(1)
        guard let actor = Actor(stored: actorText) else {
            throw TicketStoreError.corrupt("ticket \(number): event actor '\(actorText)' is unknown "
                + "(ticket_events.actor)")
        }
        let kindText = try row.text(2)
        guard let kind = TicketEvent.Kind(rawValue: kindText) else {
            throw TicketStoreError.corrupt("ticket \(number): event kind '\(kindText)' is unknown "
                + "(ticket_events.kind)")
        }
        return TicketEvent(ticket: number, at: try row.date(0), actor: actor, kind: kind,
                           from: try row.optionalText(3), to: try row.optionalText(4), note: try row.text(5))
    }

    // MARK: Pages

    public static let pageColumns = """
        SELECT id, ticket, step, network, target, text, created_at, due_at, sent_at, cancelled_at, attempts,
            last_error, target_kind
        FROM pages
        """

    public static func page(_ row: some StoreRow) throws -> PageRecord {
        let id = PageID(rawValue: try row.int64(0))
        let kindText = try row.text(12)
        guard let kind = PageTargetKind(rawValue: kindText) else {
            throw TicketStoreError.corrupt("\(id): target kind '\(kindText)' is unknown (pages.target_kind)")
        }
        return PageRecord(id: id, ticket: TicketNumber(try row.int64(1)), step: try row.int(2),
                          network: try row.text(3), target: try row.text(4), targetKind: kind,
                          text: try row.text(5), createdAt: try row.date(6), dueAt: try row.date(7),
                          sentAt: try row.optionalDate(8), cancelledAt: try row.optionalDate(9),
                          attempts: try row.int(10), lastError: try row.optionalText(11))
    }

    // MARK: Roster overrides

    public static let overrideColumns =
        "SELECT id, agent, starts_at, ends_at, created_by, created_at, reason FROM roster_overrides"

    public static func rosterOverride(_ row: some StoreRow) throws -> SavedRosterOverride {
        let id = RosterOverrideID(rawValue: try row.int64(0))
        let createdByText = try row.text(4)
        guard let createdBy = Actor(stored: createdByText) else {
            throw TicketStoreError.corrupt("\(id): actor '\(createdByText)' is unknown (roster_overrides.created_by)")
        }
        return SavedRosterOverride(id: id, agent: try row.text(1), from: try row.date(2), until: try row.date(3),
                                   reason: try row.text(6), createdBy: createdBy, createdAt: try row.date(5))
    }

    // MARK: Leases

    public static let leaseColumnList = "name, holder, token, acquired_at, expires_at, takeovers"

    public static func lease(_ row: some StoreRow) throws -> LeaseGrant {
        LeaseGrant(name: try row.text(0), holder: try row.text(1), token: FencingToken(rawValue: try row.int64(2)),
                   expiresAt: try row.date(4), acquiredAt: try row.date(3), takeovers: try row.int64(5))
    }

    // MARK: Conversations

    public static let conversationColumns =
        "SELECT network, key, format_version, state, updated_at, expires_at FROM conversations"

    public static func conversation(_ row: some StoreRow) throws -> ConversationSnapshot {
        ConversationSnapshot(key: ConversationKey(network: try row.text(0), key: try row.text(1)),
                             formatVersion: try row.int(2), state: try row.bytes(3),
                             updatedAt: try row.date(4), expiresAt: try row.date(5))
    }
}
