import Core
import Desk
import Foundation

// The agent command `!ack` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!ack N`: the page is acknowledged, the escalation stops.
    func ackCommand(_ context: AgentContext) async -> String? {
        guard let number = context.ticketArgument, context.words.count == 1 else { return nil }
        return await acknowledge(number, context)
    }

    func acknowledge(_ number: TicketNumber, _ context: AgentContext) async -> String {
        let result = await change(number, .acknowledge, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now)
        guard case .done(let commit, _) = result else {
            if case .refused(let error) = result, error.reason == .wrongState {
                return agentText(.notPending, context, ["ticket": number.description, "state": error.state.rawValue])
            }
            return await failureText(result, number, command: "ack", context)
        }
        let ticket = commit.ticket
        schedule.remove(.escalation(number))
        schedule.set(.sla(number), at: context.now)
        logger.notice("ticket acknowledged", ["ticket": number, "agent": context.agent.id])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        tellCustomer(ticket, .ticketAcknowledged, values)
        let text = agentText(.acknowledged, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }
}
