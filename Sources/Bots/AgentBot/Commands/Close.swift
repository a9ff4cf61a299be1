import Core
import Desk
import Foundation

// The agent command `!close` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!close N [note]`.
    func closeCommand(_ context: AgentContext) async -> AgentAnswer? {
        guard let number = context.ticketArgument else { return nil }
        return await close(number, note: context.rest(after: 1), context)
    }

    /// `!close N [note]`: a resolved ticket is closed (a customer's line
    /// then starts a new request instead of reopening it).
    func close(_ number: TicketNumber, note: String, _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .close(note: note), by: .agent(context.agent.id), cancelUnsentPages: true,
                                  now: context.now) { ticket, _ in
            var values = Self.ticketValues(ticket)
            values["agent"] = context.agent.nick
            let text = self.agentText(.closed, context, values)
            return [self.echoLine(text, context, ticket: ticket), self.answerLine(text, context)].compactMap { $0 }
        }
        guard case .done = result else { return .text(await failureText(result, number, command: "close", context)) }
        forgetTimers(of: number)
        logger.notice("ticket closed", ["ticket": number, "agent": context.agent.id])
        return .said
    }
}
