import Core
import Desk
import Foundation

// The agent bot (SPEC "Agent commands"), in the agents' channel or
// privately. Only configured agents may use it: recognised by account on
// networks with accounts, by mask on networks without, never by nick.
//
// A table of commands: ``agentHandler(_:)`` maps each ``AgentCommand`` to
// its handler in `AgentBot/Commands/` — one file per command, which parses
// its arguments and returns the reply (nil: the usage is shown).
extension BotRuntime {
    func runAgentCommand(_ command: AgentCommand, arguments: String, message: ChatMessage,
                         settings: NetworkBotSettings) async {
        let language = settings.defaultLanguage
        let definition = definitions.agentCommands.definition(command)
        func reply(_ text: String) {
            switch message.place {
            case .channel(let channel):
                say(ChatAction(network: message.network, recipient: .channel(channel), text: text))
            case .direct:
                say(text, to: message.sender.nick, on: message.network)
            }
        }
        guard let agent = agent(for: message, settings) else {
            counters.agentCommandsRefused += 1
            logger.notice("agent command refused: the sender is not a configured agent", [
                "network": message.network, "nick": message.sender.nick, "account": message.sender.account ?? "-",
                "principal": message.principal.description, "command": command.rawValue, "place": message.place.description])
            reply(definitions.agent.render(.notAnAgent, language, ["command": definition.display]))
            return
        }
        counters.agentCommands += 1
        let context = AgentContext(agent: agent, language: language, message: message, now: clock.date,
                                   arguments: arguments)
        let handler = agentHandler(command)
        let answer = await handler(context)
        reply(answer ?? definitions.agent.render(.usage, language, [
            "command": definition.display, "usage": definition.usage(language)]))
    }

    /// The handler of each agent command: one entry per command.
    func agentHandler(_ command: AgentCommand) -> (AgentContext) async -> String? {
        switch command {
        case .help: helpCommand
        case .queue: queueCommand
        case .next: nextCommand
        case .take: takeCommand
        case .ack: ackCommand
        case .show: showCommand
        case .reply: replyCommand
        case .sev: sevCommand
        case .resolve: resolveCommand
        case .oncall: oncallCommand
        case .stats: statsCommand
        case .wait: waitCommand
        case .close: closeCommand
        }
    }

    /// Who is asking, in which language, where, when, with which arguments.
    struct AgentContext {
        var agent: Agent
        var language: Language
        var message: ChatMessage
        var now: Date
        /// Everything after the command name.
        var arguments: String = ""

        /// The arguments split at white space.
        var words: [String] { arguments.split(whereSeparator: \.isWhitespace).map(String.init) }

        /// `N` or `#N` as the first word.
        var ticketArgument: TicketNumber? { words.first.flatMap { TicketNumber(text: $0) } }

        /// Everything after the first `count` words.
        func rest(after count: Int) -> String {
            var remainder = Substring(arguments)
            for _ in 0..<count {
                remainder = remainder.drop { $0.isWhitespace }.drop { !$0.isWhitespace }
            }
            return remainder.trimmingCharacters(in: .whitespaces)
        }
    }


    func agentText(_ key: AgentText, _ context: AgentContext, _ values: [String: String] = [:]) -> String {
        definitions.agent.render(key, context.language, values)
    }

    /// The text for a refused lifecycle command.
    func refusal(_ error: TransitionError, _ number: TicketNumber, command: String, _ context: AgentContext) async -> String {
        let values = ["ticket": number.description, "state": error.state.rawValue, "command": "!" + command]
        switch error.reason {
        case .assignedTo(let other):
            return agentText(.takenBy, context, ["ticket": number.description, "agent": nick(of: other)])
        case .alreadyYours:
            return agentText(.alreadyYours, context, values)
        case .unchanged:
            return agentText(.severityUnchanged, context, ["ticket": number.description,
                                                           "severity": (try? await store.ticket(number))??.ticket.severity.description ?? "?"])
        case .textRequired:
            let definition = definitions.agentCommands.definition(AgentCommand(rawValue: command) ?? .help)
            return agentText(.usage, context, ["command": definition.display, "usage": definition.usage(context.language)])
        case .wrongState, .roleNotAllowed, .notOwner:
            return agentText(.wrongState, context, values)
        }
    }

    func failureText(_ result: ChangeResult, _ number: TicketNumber, command: String, _ context: AgentContext) async -> String {
        switch result {
        case .done: return ""
        case .refused(let error): return await refusal(error, number, command: command, context)
        case .notFound: return agentText(.unknownTicket, context, ["ticket": number.description])
        case .failed(let error):
            if case TicketStoreError.conflict = error {
                return agentText(.changedMeanwhile, context, ["ticket": number.description])
            }
            return agentText(.storeFailed, context)
        }
    }

    /// Tells the other agents in the channel when something was done privately.
    func echoToChannel(_ text: String, _ context: AgentContext, ticket: Ticket) {
        guard context.message.place == .direct else { return }
        let place = agentsPlace(for: ticket.contact.network)
        guard let channel = place.channel else { return }
        say(ChatAction(network: place.network, recipient: .channel(channel), text: text))
    }
}
