import Core
import Desk
import Foundation

// The agent command `!ack` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!ack N`: the page is acknowledged, the escalation stops.
    func ackCommand(_ context: AgentContext) async -> AgentAnswer? {
        guard let number = context.ticketArgument, context.words.count == 1 else { return nil }
        return await acknowledge(number, context)
    }

    func acknowledge(_ number: TicketNumber, _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .acknowledge, by: .agent(context.agent.id), cancelUnsentPages: true,
                                  now: context.now) { ticket, _ in
            var values = Self.ticketValues(ticket)
            values["agent"] = context.agent.nick
            let text = self.agentText(.acknowledged, context, values)
            return [self.lineToCustomer(ticket, .ticketAcknowledged, values), self.echoLine(text, context, ticket: ticket),
                    self.answerLine(text, context)].compactMap { $0 }
        }
        guard case .done = result else {
            if case .refused(let error) = result, error.reason == .wrongState {
                return .text(agentText(.notPending, context, ["ticket": number.description, "state": error.state.rawValue]))
            }
            return .text(await failureText(result, number, command: "ack", context))
        }
        escalation.acknowledged(number, now: context.now)
        logger.notice("ticket acknowledged", ["ticket": number, "agent": context.agent.id])
        return .said
    }
}
