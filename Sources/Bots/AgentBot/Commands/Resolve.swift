import Core
import Desk
import Foundation

// The agent command `!resolve` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!resolve N note`: the customer is told.
    func resolveCommand(_ context: AgentContext) async -> String? {
        let note = context.rest(after: 1)
        guard let number = context.ticketArgument, !note.isEmpty else { return nil }
        return await resolve(number, note: note, context)
    }

    func resolve(_ number: TicketNumber, note: String, _ context: AgentContext) async -> String {
        let result = await change(number, .resolve(note: note), by: .agent(context.agent.id), cancelUnsentPages: true,
                            now: context.now)
        guard case .done(let commit, _) = result else { return await failureText(result, number, command: "resolve", context) }
        let ticket = commit.ticket
        forgetTimers(of: number)
        logger.notice("ticket resolved", ["ticket": number, "agent": context.agent.id])
        tellCustomer(ticket, .ticketResolved, ["ticket": number.description, "agent": context.agent.nick, "note": note])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        values["note"] = note
        return agentText(.resolved, context, values)
    }
}
