import Core
import Desk
import Foundation

// The agent bot (SPEC "Agent commands"), in the agents' channel or
// privately. Only configured agents may use it: recognised by account on
// networks with accounts, by mask on networks without, never by nick.
//
// A table of commands: ``agentHandler(_:)`` maps each ``AgentCommand`` to
// its handler in `AgentBot/Commands/` — one file per command, which parses
// its arguments and returns the answer (nil: the usage is shown). A command
// that changes a ticket says its answer with the change
// (``AgentAnswer/said``), so that on Matrix it survives a crash after the
// commit (``BotRuntime/change(_:_:by:pages:cancelUnsentPages:now:lines:)``).

/// What an agent command's handler answers.
enum AgentAnswer {
    /// Said where the command was given, after the handler returns.
    case text(String)
    /// Already said with the command's committed change (the answer among
    /// its ``CommittedLine``s).
    case said
}

extension BotRuntime {
    func runAgentCommand(_ command: AgentCommand, arguments: String, message: ChatMessage,
                         settings: NetworkBotSettings) async {
        let language = settings.defaultLanguage
        let definition = definitions.agentCommands.definition(command)
        func reply(_ text: String) {
            let answer = answerAction(text, to: message)
            if !answer.text.isEmpty { say(answer) }
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
        switch await handler(context) {
        case .text(let text): reply(text)
        case .said: break
        case nil: reply(definitions.agent.render(.usage, language, [
            "command": definition.display, "usage": definition.usage(language)]))
        }
    }

    /// The handler of each agent command: one entry per command (those that
    /// only read answer with a text).
    func agentHandler(_ command: AgentCommand) -> (AgentContext) async -> AgentAnswer? {
        func reading(_ handler: @escaping (AgentContext) async -> String?) -> (AgentContext) async -> AgentAnswer? {
            { await handler($0).map(AgentAnswer.text) }
        }
        return switch command {
        case .help: reading(helpCommand)
        case .queue: reading(queueCommand)
        case .next: nextCommand
        case .take: takeCommand
        case .ack: ackCommand
        case .show: reading(showCommand)
        case .reply: replyCommand
        case .sev: sevCommand
        case .resolve: resolveCommand
        case .oncall: reading(oncallCommand)
        case .stats: reading(statsCommand)
        case .wait: waitCommand
        case .close: closeCommand
        }
    }

    /// The line that answers `message`'s command where it was given: in the
    /// channel, or privately to its sender.
    func answerAction(_ text: String, to message: ChatMessage) -> ChatAction {
        switch message.place {
        case .channel(let channel): ChatAction(network: message.network, recipient: .channel(channel), text: text)
        case .direct: ChatAction(network: message.network, recipient: .user(message.sender.nick), text: text)
        }
    }

    /// `text` as the answer to `context`'s command, for its change to say.
    func answerLine(_ text: String, _ context: AgentContext) -> CommittedLine {
        CommittedLine(action: answerAction(text, to: context.message), step: PageDraft.commandAnswerStep)
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

    /// Tells the other agents in the channel when something was done
    /// privately (nil: it was done there, or there is no channel).
    func echoLine(_ text: String, _ context: AgentContext, ticket: Ticket) -> CommittedLine? {
        guard context.message.place == .direct else { return nil }
        let place = agentsPlace(for: ticket.contact.network)
        guard let channel = place.channel else { return nil }
        return CommittedLine(action: ChatAction(network: place.network, recipient: .channel(channel), text: text),
                             step: PageDraft.commandAnswerStep)
    }
}
