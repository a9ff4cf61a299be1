import Core
import Desk
import Foundation

// The agent command `!take` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!take N`.
    func takeCommand(_ context: AgentContext) async -> String? {
        guard let number = context.ticketArgument, context.words.count == 1 else { return nil }
        return await take(number, context)
    }

    func take(_ number: TicketNumber, _ context: AgentContext) async -> String {
        let result = await change(number, .take, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now)
        guard case .done(let commit, _) = result else { return await failureText(result, number, command: "take", context) }
        return taken(commit.ticket, context)
    }

    /// After a successful take: escalation off, customer told, log.
    func taken(_ ticket: Ticket, _ context: AgentContext) -> String {
        forgetTimers(of: ticket.number)
        logger.notice("ticket taken", ["ticket": ticket.number, "agent": context.agent.id, "priority": ticket.priority])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        tellCustomer(ticket, .ticketTaken, values)
        let text = agentText(.taken, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }
}
