import Desk
import Foundation

/// What creating a customer's ticket from the intake's draft will store and
/// page, decided before the store call: the new ticket, its escalation
/// plan (a page request, or an announcement in the agents' channel), the
/// queue position a ticket without contract would take, and the pages to
/// store with the ticket in the same transaction (SPEC "Customer
/// conversation": only after the commit is the customer told the number).
///
/// Pure: the caller passes the escalation plan function, the queue, the
/// pager and `now`; the runtime does the store call and tells the customer.
struct TicketCreation: Sendable {
    /// The ticket to store.
    let new: NewTicket
    /// What the escalation policy decided for it (with a placeholder number).
    let plan: EscalationPlan
    /// The first page to send, if the plan pages someone.
    let request: PageRequest?
    /// A ticket without contract: its place in the queue once stored.
    let position: Int?
    /// The pages (or announcement, and a PIN-lock note) for the stored
    /// ticket's number, made inside the store's transaction.
    let makePages: @Sendable (TicketNumber) -> [PageDraft]
    /// Who pages go to and how the agents' channel is written to.
    let pager: Pager

    init(draft: TicketDraft, identity: ChatIdentity, now: Date, queue: TicketQueue, pager: Pager,
         plan planFor: (Ticket) -> EscalationPlan) {
        new = NewTicket(createdAt: now, createdBy: .customer(identity.description),
                        customerNumber: draft.customerNumber, customerName: draft.customerName, contact: identity,
                        group: draft.group, tier: draft.tier, severity: draft.severity, summary: draft.summary,
                        description: draft.description, language: draft.language.rawValue,
                        contractClaimPINLocked: draft.contractClaimPINLocked)
        let provisional = new.ticket(number: TicketNumber(rawValue: 0))
        plan = planFor(provisional)
        var paged: PageRequest?
        var announce = false
        for action in plan.actions {
            switch action {
            case .page(let page): paged = page
            case .announce: announce = true
            }
        }
        let request = paged
        self.request = request
        var position: Int?
        if draft.group == .noContract {
            var preview = queue
            let entry = QueueEntry(number: TicketNumber(rawValue: .max), priority: provisional.priority, createdAt: now)
            preview.insert(entry)
            position = preview.position(of: entry.number)
        }
        self.position = position
        self.pager = pager
        let announcement = announce ? position : nil
        makePages = { number in
            var ticket = provisional
            ticket.number = number
            var pages: [PageDraft] = []
            if let request {
                pages = pager.pages(for: request, ticket: ticket, now: now)
            } else if let announcement {
                pages = pager.announcement(ticket: ticket, position: announcement, now: now)
            }
            return pages + pager.pinLockedNote(ticket: ticket, step: pages.first?.step, now: now)
        }
    }

    /// What the customer is told once the ticket is stored, and the line
    /// for the agents' channel when no one is paged outside business hours.
    struct Told: Equatable {
        var text: SupportText
        var values: [String: String]
        /// The agents' channel's line (``AgentText/announceOutsideHours``).
        var agents: String?
    }

    /// The texts for the stored `ticket`: who was paged (by nick), its
    /// place in the queue (`queuePosition`, else the one foreseen), or when
    /// support resumes — in the customer's `language`, times in `zone`.
    func told(_ ticket: Ticket, queuePosition: Int?, language: Language, texts: TextTable<SupportText>,
              zone: ZonedCalendar, nick: (String) -> String, tierName: (String) -> String?) -> Told {
        var values = Pager.values(ticket)
        guard ticket.group == .contract else {
            values["position"] = String(queuePosition ?? position ?? 1)
            return Told(text: .ticketQueued, values: values)
        }
        if let request {
            guard let first = request.privateMessage.first else { return Told(text: .ticketPagedTeam, values: values) }
            values["agent"] = nick(first)
            return Told(text: request.noOneOnDuty ? .ticketPagedBackup : .ticketPaged, values: values)
        }
        var resumesAt: Date?
        if case .outsideCoverage(let at) = plan.status { resumesAt = at }
        values["tier"] = ticket.tier.flatMap { tierName($0) } ?? ticket.tier ?? ""
        values["resumes"] = resumesAt.map { Format.instant($0, zone: zone, language) } ?? texts.render(.soon, language)
        var agents: String?
        if pager.channel != nil {
            var agentValues = Pager.values(ticket)
            agentValues["tier"] = values["tier"]
            agentValues["resumes"] = resumesAt.map { Format.agentTime($0, zone: zone) } ?? "?"
            agents = pager.texts.render(.announceOutsideHours, pager.language, agentValues)
        }
        return Told(text: .ticketOutsideHours, values: values, agents: agents)
    }
}
