import Core
import Desk
import Foundation

// The agent command `!reply` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!reply N text`: relayed to the customer.
    func replyCommand(_ context: AgentContext) async -> AgentAnswer? {
        let text = context.rest(after: 1)
        guard let number = context.ticketArgument, !text.isEmpty else { return nil }
        return await replyToCustomer(number, text: text, context)
    }

    func replyToCustomer(_ number: TicketNumber, text: String, _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .agentReply(text), by: .agent(context.agent.id), cancelUnsentPages: true,
                                  now: context.now) { ticket, _ in
            [self.lineToCustomer(ticket, .agentReply, ["ticket": number.description, "agent": context.agent.nick,
                                                       "text": text]),
             self.answerLine(self.agentText(.replySent, context, ["ticket": number.description,
                                                                  "nick": self.customerAddress(ticket).nick]), context)]
        }
        guard case .done = result else { return .text(await failureText(result, number, command: "reply", context)) }
        escalation.responded(number, now: context.now)
        return .said
    }
}
