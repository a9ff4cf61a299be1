import Core
import Desk
import Foundation

// The agent command `!queue` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!queue`: the top open tickets in order, with age, priority and SLA left.
    func queueCommand(_ context: AgentContext) async -> String? {
        await queueText(context)
    }

    func queueText(_ context: AgentContext) async -> String {
        let limit = definitions.agentSettings.queueLength
        let entries = tickets.queue.top(limit)
        guard !entries.isEmpty else { return agentText(.queueEmpty, context) }
        var lines = [agentText(.queueHeader, context, ["count": String(tickets.queue.count), "shown": String(entries.count)])]
        for entry in entries {
            guard let ticket = (try? await store.ticket(entry.number))??.ticket else { continue }
            var values = Self.ticketValues(ticket)
            values["age"] = Format.duration(context.now.timeIntervalSince(ticket.createdAt))
            values["sla"] = slaText(ticket, context)
            values["state"] = ticket.state.rawValue
            lines.append(agentText(.queueLine, context, values))
        }
        return lines.joined(separator: "\n")
    }

    func slaText(_ ticket: Ticket, _ context: AgentContext) -> String {
        guard let status = desk.sla.status(of: ticket, at: context.now) else {
            return agentText(.slaNotApplicable, context)
        }
        switch status.state {
        case .ok, .warning: return agentText(.slaLeft, context, ["time": Format.duration(status.remaining)])
        case .breached, .missed: return agentText(.slaOverdue, context, ["time": Format.duration(-status.remaining)])
        case .met: return agentText(.slaMet, context)
        }
    }
}
