import Core
import Desk
import Foundation

// The agent command `!close` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!close N [note]`.
    func closeCommand(_ context: AgentContext) async -> String? {
        guard let number = context.ticketArgument else { return nil }
        return await close(number, note: context.rest(after: 1), context)
    }

    /// `!close N [note]`: a resolved ticket is closed (a customer's line
    /// then starts a new request instead of reopening it).
    func close(_ number: TicketNumber, note: String, _ context: AgentContext) async -> String {
        let result = await change(number, .close(note: note), by: .agent(context.agent.id), cancelUnsentPages: true,
                            now: context.now)
        guard case .done(let commit, _) = result else { return await failureText(result, number, command: "close", context) }
        let ticket = commit.ticket
        forgetTimers(of: number)
        logger.notice("ticket closed", ["ticket": number, "agent": context.agent.id])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        let text = agentText(.closed, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }
}
