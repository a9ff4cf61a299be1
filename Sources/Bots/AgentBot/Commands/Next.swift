import Core
import Desk
import Foundation

// The agent command `!next` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!next`: takes the highest-priority unassigned ticket.
    func nextCommand(_ context: AgentContext) async -> AgentAnswer? {
        await takeNext(context)
    }

    /// `!next`: the first ticket of the queue that can still be taken.
    func takeNext(_ context: AgentContext) async -> AgentAnswer {
        for _ in 0..<20 {
            guard let entry = tickets.nextInQueue() else { break }
            let result = await change(entry.number, .take, by: .agent(context.agent.id), cancelUnsentPages: true,
                                      now: context.now, lines: { ticket, _ in self.takenLines(ticket, context) })
            if case .done(let commit, _) = result {
                taken(commit.ticket, context)
                return .said
            }
            if case .failed = result { return .text(await failureText(result, entry.number, command: "next", context)) }
            // Refused (taken meanwhile, closed): the queue was brought in line; try the next.
            tickets.dropFromQueue(entry.number)
        }
        return .text(agentText(.nextNone, context))
    }
}
