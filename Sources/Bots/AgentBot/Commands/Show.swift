import Core
import Desk
import Foundation

// The agent command `!show` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!show N`: the ticket, its description and its last events.
    func showCommand(_ context: AgentContext) async -> String? {
        guard let number = context.ticketArgument, context.words.count == 1 else { return nil }
        return await show(number, context)
    }

    func show(_ number: TicketNumber, _ context: AgentContext) async -> String {
        let stored: StoredTicket?
        let events: [TicketEvent]
        do {
            stored = try await store.ticket(number)
            events = stored == nil ? [] : try await store.events(of: number)
        } catch {
            storeFailed(error, "show ticket")
            return agentText(.storeFailed, context)
        }
        guard let ticket = stored?.ticket else { return agentText(.unknownTicket, context, ["ticket": number.description]) }
        var values = Self.ticketValues(ticket)
        values["state"] = ticket.state.rawValue
        values["age"] = Format.duration(context.now.timeIntervalSince(ticket.createdAt))
        values["contact"] = ticket.contact.description
        values["tier"] = ticket.tier.flatMap { desk.tiers.tier($0)?.name ?? $0 } ?? agentText(.noValue, context)
        values["assignee"] = ticket.assignee.map(nick(of:)) ?? agentText(.unassigned, context)
        values["sla"] = slaText(ticket, context)
        var lines = [agentText(.showTicket, context, values)]
        for line in Sanitizer.lines(ticket.description, maxLines: 6, lineLimit: 300) {
            lines.append(agentText(.showDescription, context, ["text": line]))
        }
        for event in events.suffix(6) {
            let actor: String = switch event.actor {
            case .system: "system"
            case .agent(let id): nick(of: id)
            case .customer: "customer"
            }
            var what = event.kind.rawValue
            if let from = event.from, let to = event.to { what += " \(from) → \(to)" } else if let to = event.to { what += " \(to)" }
            if !event.note.isEmpty { what += ": " + Sanitizer.inline(event.note, limit: 120) }
            lines.append(agentText(.showEvent, context, ["time": Format.clock(event.at, zone: desk.zone), "actor": actor,
                                                          "event": what]))
        }
        return lines.joined(separator: "\n")
    }
}
