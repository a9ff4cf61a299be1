import Core
import Desk
import Foundation

// The agent command `!help`: every agent command with its usage and help,
// from `bots/agent.json5`.
extension BotRuntime {
    /// `!help`.
    func helpCommand(_ context: AgentContext) -> String? {
        var lines = [agentText(.helpIntro, context)]
        for entry in definitions.agentCommands.all {
            lines.append(agentText(.helpLine, context, ["command": entry.display, "usage": entry.usage(context.language),
                                                        "help": entry.help(context.language)])
                .replacingOccurrences(of: "  ", with: " "))
        }
        return lines.joined(separator: "\n")
    }
}
