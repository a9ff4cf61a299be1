import Core
import Desk
import Foundation

// The agent command `!next` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!next`: takes the highest-priority unassigned ticket.
    func nextCommand(_ context: AgentContext) async -> String? {
        await takeNext(context)
    }

    /// `!next`: the first ticket of the queue that can still be taken.
    func takeNext(_ context: AgentContext) async -> String {
        for _ in 0..<20 {
            guard let entry = tickets.nextInQueue() else { break }
            let result = await change(entry.number, .take, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now)
            if case .done(let commit, _) = result { return taken(commit.ticket, context) }
            if case .failed = result { return await failureText(result, entry.number, command: "next", context) }
            // Refused (taken meanwhile, closed): the queue was brought in line; try the next.
            tickets.dropFromQueue(entry.number)
        }
        return agentText(.nextNone, context)
    }
}
