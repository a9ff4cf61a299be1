import Core
import Desk
import Foundation

// The agent command `!resolve` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!resolve N note`: the customer is told.
    func resolveCommand(_ context: AgentContext) async -> AgentAnswer? {
        let note = context.rest(after: 1)
        guard let number = context.ticketArgument, !note.isEmpty else { return nil }
        return await resolve(number, note: note, context)
    }

    func resolve(_ number: TicketNumber, note: String, _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .resolve(note: note), by: .agent(context.agent.id), cancelUnsentPages: true,
                                  now: context.now) { ticket, _ in
            var values = Self.ticketValues(ticket)
            values["agent"] = context.agent.nick
            values["note"] = note
            return [self.lineToCustomer(ticket, .ticketResolved, ["ticket": number.description,
                                                                  "agent": context.agent.nick, "note": note]),
                    self.answerLine(self.agentText(.resolved, context, values), context)]
        }
        guard case .done = result else { return .text(await failureText(result, number, command: "resolve", context)) }
        forgetTimers(of: number)
        logger.notice("ticket resolved", ["ticket": number, "agent": context.agent.id])
        return .said
    }
}
