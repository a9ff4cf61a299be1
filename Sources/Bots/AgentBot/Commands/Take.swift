import Core
import Desk
import Foundation

// The agent command `!take` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!take N`.
    func takeCommand(_ context: AgentContext) async -> AgentAnswer? {
        guard let number = context.ticketArgument, context.words.count == 1 else { return nil }
        return await take(number, context)
    }

    func take(_ number: TicketNumber, _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .take, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now,
                                  lines: { ticket, _ in self.takenLines(ticket, context) })
        guard case .done(let commit, _) = result else {
            return .text(await failureText(result, number, command: "take", context))
        }
        taken(commit.ticket, context)
        return .said
    }

    /// After a successful take: escalation off, log.
    func taken(_ ticket: Ticket, _ context: AgentContext) {
        forgetTimers(of: ticket.number)
        logger.notice("ticket taken", ["ticket": ticket.number, "agent": context.agent.id, "priority": ticket.priority])
    }

    /// What a take says: the customer is told who took it, the agents'
    /// channel (when taken privately) and the agent which ticket it is.
    func takenLines(_ ticket: Ticket, _ context: AgentContext) -> [CommittedLine] {
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        let text = agentText(.taken, context, values)
        return [lineToCustomer(ticket, .ticketTaken, values), echoLine(text, context, ticket: ticket),
                answerLine(text, context)].compactMap { $0 }
    }
}
