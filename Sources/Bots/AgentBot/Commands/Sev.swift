import Core
import Desk
import Foundation

// The agent command `!sev` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!sev N 1-4 reason`: logged with who and why; the queue order follows.
    func sevCommand(_ context: AgentContext) async -> AgentAnswer? {
        let reason = context.rest(after: 2)
        guard let number = context.ticketArgument, context.words.count >= 3,
              let severity = Severity(text: context.words[1]), !reason.isEmpty else { return nil }
        return await changeSeverity(number, to: severity, reason: reason, context)
    }

    func changeSeverity(_ number: TicketNumber, to severity: Severity, reason: String,
                        _ context: AgentContext) async -> AgentAnswer {
        let result = await change(number, .changeSeverity(severity, reason: reason), by: .agent(context.agent.id),
                                  now: context.now) { ticket, before in
            var values = Self.ticketValues(ticket)
            values["agent"] = context.agent.nick
            values["from"] = before.severity.description
            values["to"] = severity.description
            values["reason"] = reason
            let text = self.agentText(.severityChanged, context, values)
            return [self.echoLine(text, context, ticket: ticket), self.answerLine(text, context)].compactMap { $0 }
        }
        guard case .done(let commit, let before) = result else {
            return .text(await failureText(result, number, command: "sev", context))
        }
        logger.notice("severity changed", ["ticket": number, "agent": context.agent.id, "from": before.severity,
                                           "to": severity, "reason": reason])
        escalation.severityChanged(commit.ticket, now: context.now)
        return .said
    }
}
