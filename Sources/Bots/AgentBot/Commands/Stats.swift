import Core
import Desk
import Foundation

// The agent command `!stats` (SPEC "Agent commands"): its entry in
// the agent bot's table (arguments in, reply out; nil: show the usage) and
// what it does. Texts: `bots/agent.json5`.
extension BotRuntime {
    /// `!stats`.
    func statsCommand(_ context: AgentContext) async -> String? {
        await statsText(context)
    }

    /// `!stats`: what is cheap to count and honest to show.
    func statsText(_ context: AgentContext) async -> String {
        do {
            let open = try await store.openTickets().map(\.ticket)
            var byRank: [Int: Int] = [:]
            for ticket in open { byRank[ticket.priority.rank, default: 0] += 1 }
            let byPriority = byRank.keys.sorted().map { "P\($0) \(byRank[$0]!)" }.joined(separator: ", ")
            let startOfDay = desk.zone.startOfDay(desk.zone.date(of: context.now))
            let cap = 5000
            let recent = try await store.recentTickets(limit: cap).filter { $0.ticket.createdAt >= startOfDay }.map(\.ticket)
            let today = recent.count >= cap ? "≥\(cap)" : String(recent.count)
            let deflected = try await store.counters("deflected").values.reduce(0, +)
            let responses = recent.compactMap { ticket in ticket.respondedAt.map { $0.timeIntervalSince(ticket.createdAt) } }
                .sorted()
            var median = agentText(.noValue, context)
            if !responses.isEmpty {
                let middle = responses.count / 2
                let value = responses.count % 2 == 1 ? responses[middle] : (responses[middle - 1] + responses[middle]) / 2
                median = Format.duration(value)
            }
            return agentText(.stats, context, ["open": String(open.count),
                                               "byPriority": byPriority.isEmpty ? agentText(.noValue, context) : byPriority,
                                               "today": today, "deflected": String(deflected), "median": median])
        } catch {
            storeFailed(error, "stats")
            return agentText(.storeFailed, context)
        }
    }
}
