import Core
import Desk
import Foundation

// The agent command `!oncall` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!oncall`, `!oncall override NICK until TIME`, `!oncall override NICK off`.
    func oncallCommand(_ context: AgentContext) async -> String? {
        let words = context.words
        if words.isEmpty { return onCallText(context) }
        guard words.count >= 3, words[0].lowercased() == "override" else { return nil }
        if words.count >= 4, ["until", "bis"].contains(words[2].lowercased()) {
            return await override(nick: words[1], until: context.rest(after: 3), context)
        }
        if words.count == 3, ["off", "aus", "remove", "entfernen"].contains(words[2].lowercased()) {
            return await removeOverride(nick: words[1], context)
        }
        return nil
    }

    func onCallText(_ context: AgentContext) -> String {
        let noOne = agentText(.noOne, context)
        let now = roster.onDuty(at: context.now).agent.map(nick(of:)) ?? noOne
        let next = roster.next(after: context.now)
        return agentText(.oncall, context, [
            "now": now,
            "until": next.map { Format.agentTime($0.at, zone: roster.zone) } ?? agentText(.noValue, context),
            "next": next.map { $0.agent.map(nick(of:)) ?? noOne } ?? agentText(.noValue, context),
            "backup": roster.backup.map(nick(of:)) ?? noOne,
        ])
    }

    /// `!oncall override NICK until TIME`: stored first, then in force.
    func override(nick target: String, until text: String, _ context: AgentContext) async -> String {
        let network = context.message.network
        guard let agent = desk.agents.agent(nick: target, normalize: { normalized($0, .user, on: network) })
                ?? desk.agents.agent(id: target) else {
            return agentText(.overrideUnknownAgent, context, ["nick": target])
        }
        let until: Date
        do {
            until = try roster.parseUntil(text, now: context.now)
        } catch {
            return agentText(.overrideBadTime, context, ["text": text])
        }
        let reason = "set by \(context.agent.id)"
        var trial = roster
        do {
            try trial.addOverride(agent: agent.id, from: context.now, until: until, reason: reason,
                                  createdBy: context.agent.id)
        } catch {
            return agentText(.overrideRefused, context, ["reason": error.description])
        }
        do {
            let saved = try await store.addRosterOverride(RosterOverrideDraft(
                agent: agent.id, from: context.now, until: until, reason: reason, createdBy: .agent(context.agent.id),
                createdAt: context.now))
            try roster.restoreOverride(saved.rosterOverride)
        } catch {
            storeFailed(error, "add roster override")
            return agentText(.storeFailed, context)
        }
        logger.notice("on-call override", ["agent": agent.id, "until": until, "by": context.agent.id])
        return agentText(.overrideSet, context, ["agent": agent.nick, "until": Format.agentTime(until, zone: roster.zone),
                                                 "by": context.agent.nick])
    }

    /// `!oncall override NICK off`: removes the overrides agents made for
    /// NICK that are in force or still to come (store first, then roster).
    func removeOverride(nick target: String, _ context: AgentContext) async -> String {
        let network = context.message.network
        guard let agent = desk.agents.agent(nick: target, normalize: { normalized($0, .user, on: network) })
                ?? desk.agents.agent(id: target) else {
            return agentText(.overrideUnknownAgent, context, ["nick": target])
        }
        let mine = roster.runtimeOverrides.filter { $0.agent == agent.id && $0.until > context.now }
        guard !mine.isEmpty else { return agentText(.overrideNone, context, ["agent": agent.nick]) }
        for entry in mine {
            do {
                if let id = SavedRosterOverride.storeID(ofRosterID: entry.id) {
                    try await store.removeRosterOverride(id)
                }
            } catch {
                storeFailed(error, "remove roster override")
                return agentText(.storeFailed, context)
            }
            roster.removeOverride(id: entry.id)
        }
        logger.notice("on-call override removed", ["agent": agent.id, "count": mine.count, "by": context.agent.id])
        let now = roster.onDuty(at: context.now).agent.map(nick(of:)) ?? agentText(.noOne, context)
        return agentText(.overrideRemoved, context, ["agent": agent.nick, "count": String(mine.count),
                                                     "by": context.agent.nick, "now": now])
    }
}
