import Core
import Desk
import Foundation

// The agent command `!wait` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!wait N note`: waiting for the customer.
    func waitCommand(_ context: AgentContext) async -> AgentAnswer? {
        let note = context.rest(after: 1)
        guard let number = context.ticketArgument, !note.isEmpty else { return nil }
        return await setWaiting(number, note: note, context)
    }

    /// `!wait N note`: the ticket waits for the customer, who gets the note.
    func setWaiting(_ number: TicketNumber, note: String, _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .setWaiting(note: note), by: .agent(context.agent.id), now: context.now) {
            ticket, _ in
            var values = Self.ticketValues(ticket)
            values["agent"] = context.agent.nick
            values["note"] = note
            let text = self.agentText(.waiting, context, values)
            return [self.lineToCustomer(ticket, .ticketWaiting, ["ticket": number.description,
                                                                 "agent": context.agent.nick, "note": note]),
                    self.echoLine(text, context, ticket: ticket), self.answerLine(text, context)].compactMap { $0 }
        }
        guard case .done = result else { return .text(await failureText(result, number, command: "wait", context)) }
        logger.notice("ticket waiting for the customer", ["ticket": number, "agent": context.agent.id])
        return .said
    }
}
