import Desk
import Foundation

/// Writes the pages of an escalation step and the announcement of a
/// non-contract ticket, from the agent bot's texts. A value, so the store
/// can call it inside the transaction that assigns the ticket's number
/// (``TicketRecordStore/createTicket(_:makePages:)``).
struct Pager: Sendable {
    let texts: TextTable<AgentText>
    let language: Language
    /// The network of the agents' channel.
    let network: String
    /// The agents' channel, if any network has one.
    let channel: String?
    /// Agent id → nick.
    let nicks: [String: String]

    /// The values every ticket text can use: `{ticket}` `#42`, `{number}`
    /// `42`, `{priority}`, `{customer}`, `{summary}`.
    static func values(_ ticket: Ticket) -> [String: String] {
        ["ticket": ticket.number.description, "number": String(ticket.number.rawValue),
         "priority": ticket.priority.label, "customer": ticket.customerName,
         "summary": Sanitizer.inline(ticket.summary, limit: 100)]
    }

    func nick(_ id: String) -> String { nicks[id] ?? id }

    /// The pages of `request` for `ticket`: a private message to each agent
    /// it names, and one line in the agents' channel that mentions them
    /// (or everyone). Without an agents' channel, a channel-wide page goes
    /// to every mentioned agent privately instead.
    ///
    /// `absent`: nicks of on-duty agents who are not online; the step is
    /// paged early because of them and says so (they get no private page).
    func pages(for request: PageRequest, ticket: Ticket, now: Date, absent: [String] = []) -> [PageDraft] {
        let step = request.steps.max() ?? 0
        let repeated = (request.steps.min() ?? 0) > 0 && absent.isEmpty
        var values = Self.values(ticket)
        values["minutes"] = String(max(0, Int(now.timeIntervalSince(ticket.createdAt) / 60)))
        var drafts: [PageDraft] = []
        for id in request.privateMessage where !absent.contains(nick(id)) {
            drafts.append(PageDraft(step: step, network: network, target: nick(id),
                                    text: texts.render(repeated ? .repagePrivate : .pagePrivate, language, values),
                                    createdAt: now))
        }
        values["mentions"] = request.mention.map(nick).joined(separator: ", ")
        let key: AgentText
        if !absent.isEmpty {
            key = .pageOnDutyAbsent
            values["absent"] = absent.joined(separator: ", ")
        } else if request.noOneOnDuty, !repeated {
            key = .pageNoOneOnDuty
        } else if request.wholeChannel {
            key = .pageWholeChannel
        } else if request.noOneOnDuty {
            key = .pageNoOneOnDuty
        } else {
            key = repeated ? .repageChannel : .pageChannel
        }
        let line = texts.render(key, language, values)
        if let channel {
            drafts.append(PageDraft(step: step, network: network, target: channel, text: line, createdAt: now))
        } else {
            let messaged = Set(request.privateMessage)
            for id in request.mention where !messaged.contains(id) {
                drafts.append(PageDraft(step: step, network: network, target: nick(id), text: line, createdAt: now))
            }
        }
        return drafts
    }

    /// The line that announces a non-contract ticket in the agents' channel
    /// (never a page); nothing without a channel.
    func announcement(ticket: Ticket, position: Int, now: Date) -> [PageDraft] {
        guard let channel else { return [] }
        var values = Self.values(ticket)
        values["position"] = String(position)
        return [PageDraft(step: EscalationPolicy.announcementStep, network: network, target: channel,
                          text: texts.render(.announceNoContract, language, values), createdAt: now)]
    }

    /// The line that tells the agents' channel a ticket's contract was
    /// claimed while the number's PIN checks were locked (issue 14): verify
    /// by phone before promising anything. Written with the ticket's first
    /// pages (`step`, or the announcement's step), so it is delivered as
    /// surely; nothing for other tickets or without a channel.
    func pinLockedNote(ticket: Ticket, step: Int?, now: Date) -> [PageDraft] {
        guard ticket.contractClaimPINLocked, let channel else { return [] }
        return [PageDraft(step: step ?? EscalationPolicy.announcementStep, network: network, target: channel,
                          text: texts.render(.pinLockedTicket, language, Self.values(ticket)), createdAt: now)]
    }
}
