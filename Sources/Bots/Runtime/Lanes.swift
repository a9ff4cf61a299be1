import Core
import Desk
import Foundation

// Spending a network's flood budget well (issue 15): which lane each line
// takes, and the agents' warning when customers' lines wait too long.
//
// A network lets the bot send a few lines at once and then about one every
// two seconds. The send queue serves lanes in order and, within a lane,
// recipients in turn; the bots decide the lane here, in one place, when a
// step's lines are handed to the networks (``BotRuntime/flush()``):
//
// | line                                                         | lane       |
// |--------------------------------------------------------------|------------|
// | pages, re-pages, ticket confirmations (set where they are said) | urgent  |
// | a customer whose contract is verified (PIN or linked account),  | priority |
// |   a conversation on an open contract ticket, lines to agents,   |          |
// |   the agents' channel                                           |          |
// | a customer whose contract is not verified (strangers' "hi")     | normal   |
// | KB answers, chatter (set where they are said)                   | bulk     |
//
// Only lines left on the default lane (`.normal`) are classified; a line
// said on another lane keeps it. The lane decides order only, never trust:
// an agent is recognised by account or mask, never by the nick used here.
extension BotRuntime {
    /// The lane `action` goes out on (see the table above).
    func lane(for action: ChatAction) -> ChatLane {
        guard action.lane == .normal else { return action.lane }
        switch action.recipient {
        case .channel(let name):
            let isAgents = networkSettings[action.network]?.agentsChannel
                .map { sameChannel($0, name, on: action.network) } ?? false
            return isAgents ? .priority : .normal
        case .user(let nick):
            if let conversation = conversation(withNick: nick, on: action.network) {
                return conversation.servesContract ? .priority : .normal
            }
            let folded = normalized(nick, .user, on: action.network)
            let isAgent = desk.agents.agent(nick: folded) { normalized($0, .user, on: action.network) } != nil
            return isAgent ? .priority : .normal
        }
    }

    /// The conversation answered under `nick` on `network`: keyed by the
    /// nick, or (on networks with accounts) by an account whose nick it is now.
    func conversation(withNick nick: String, on network: String) -> Conversation? {
        let accounts = networkSettings[network].map { $0.hasAccounts || $0.trustsAgentIDs } ?? false
        return support.conversation(withNick: nick, on: network, accounts: accounts) { normalized($0, $1, on: network) }
    }

    /// The replace key of the intake's questions to one conversation: a
    /// question still queued when the customer has answered again is dropped
    /// for the newer one (it no longer applies).
    static func promptKey(_ conversation: Conversation) -> String { "intake-\(conversation.serial)" }

    // MARK: - The backlog watch

    /// Looks at every network's send queue (on the `.backlog` timer, armed
    /// when a step's lines went out):
    /// when the oldest line has waited longer than
    /// ``AgentSettings/backlogWarning``, the agents' channel is warned once
    /// (urgent, so it does not wait behind the backlog it reports), and again
    /// only after the queue cleared (empty, or its oldest line under half the
    /// limit). While lines wait, a timer looks again, so the warning comes
    /// even when no one writes.
    func watchBacklogs(now: Date) async {
        let limit = definitions.agentSettings.backlogWarning
        var waiting = false
        for name in networkOrder {
            guard let network = networks[name] else { continue }
            let backlog = await network.backlog
            let waited = backlog.oldestWait?.timeInterval ?? 0
            guard backlog.queuedTexts > 0, waited >= limit / 2 else {
                backlogWarned.remove(name)
                if backlog.queuedTexts > 0 { waiting = true }
                continue
            }
            waiting = true
            guard waited > limit, !backlogWarned.contains(name) else { continue }
            backlogWarned.insert(name)
            let place = agentsPlace(for: name)
            logger.warning("send queue backlog", ["network": name, "texts": backlog.queuedTexts,
                                                  "oldest_seconds": Int(waited), "limit_seconds": Int(limit)])
            guard let channel = place.channel else { continue }
            let text = definitions.agent.render(.sendBacklog, agentLanguage(place.network), [
                "network": name, "texts": String(backlog.queuedTexts), "seconds": String(Int(waited)),
                "limit": String(Int(limit))])
            say(ChatAction(network: place.network, recipient: .channel(channel), text: text, lane: .urgent))
        }
        if waiting, schedule.deadline(of: .backlog) == nil {
            schedule.set(.backlog, at: now.addingTimeInterval(backlogWatchInterval))
        }
    }

    /// How often the send queues are looked at while lines wait: a quarter
    /// of the warning limit, between 1 and 5 seconds.
    var backlogWatchInterval: TimeInterval { max(1, min(5, definitions.agentSettings.backlogWarning / 4)) }
}

extension Conversation {
    /// The customer's contract is verified (PIN confirmed, or an account
    /// linked to it), or the conversation is about an open contract ticket:
    /// their lines go ahead of unverified conversations.
    var servesContract: Bool {
        switch phase {
        case .intake(let intake): intake.group == .contract
        case .ticket(let followUp): followUp.group == .contract
        }
    }
}
