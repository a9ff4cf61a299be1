import Core
import Desk
import Foundation

// The agent command `!reply` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!reply N text`: relayed to the customer.
    func replyCommand(_ context: AgentContext) async -> String? {
        let text = context.rest(after: 1)
        guard let number = context.ticketArgument, !text.isEmpty else { return nil }
        return await replyToCustomer(number, text: text, context)
    }

    func replyToCustomer(_ number: TicketNumber, text: String, _ context: AgentContext) async -> String {
        let result = await change(number, .agentReply(text), by: .agent(context.agent.id), cancelUnsentPages: true,
                            now: context.now)
        guard case .done(let commit, _) = result else { return await failureText(result, number, command: "reply", context) }
        let ticket = commit.ticket
        forgetEscalation(of: number, now: context.now)
        tellCustomer(ticket, .agentReply, ["ticket": number.description, "agent": context.agent.nick, "text": text])
        return agentText(.replySent, context, ["ticket": number.description, "nick": customerAddress(ticket).nick])
    }

    /// A response stops the escalation; the SLA timer sees the response.
    func forgetEscalation(of number: TicketNumber, now: Date) {
        schedule.remove(.escalation(number))
        if slaPosted[number] != nil { schedule.set(.sla(number), at: now) }
    }
}
