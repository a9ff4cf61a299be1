import Core
import Desk
import Foundation

// The agent bot's commands (SPEC "Agent commands"), in the agents' channel
// or privately. Only configured agents may use them: recognised by account
// on networks with accounts, by mask on networks without, never by nick.
extension BotRuntime {
    func runAgentCommand(_ command: AgentCommand, arguments: String, message: ChatMessage,
                         settings: NetworkBotSettings) {
        let now = clock.date
        let language = settings.defaultLanguage
        let texts = definitions.agent
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
                "mask": message.hostmask ?? "-", "command": command.rawValue, "place": message.place.description])
            reply(texts.render(.notAnAgent, language, ["command": definition.display]))
            return
        }
        counters.agentCommands += 1
        let context = AgentContext(agent: agent, language: language, message: message, now: now)
        let words = arguments.split(whereSeparator: \.isWhitespace).map(String.init)
        func usage() {
            reply(texts.render(.usage, language, ["command": definition.display, "usage": definition.usage(language)]))
        }
        /// `N` or `#N` as the first word.
        func ticketArgument() -> TicketNumber? { words.first.flatMap { TicketNumber(text: $0) } }
        /// Everything after the first `count` words.
        func rest(after count: Int) -> String {
            var remainder = Substring(arguments)
            for _ in 0..<count {
                remainder = remainder.drop { $0.isWhitespace }.drop { !$0.isWhitespace }
            }
            return remainder.trimmingCharacters(in: .whitespaces)
        }

        switch command {
        case .help:
            var lines = [texts.render(.helpIntro, language)]
            for entry in definitions.agentCommands.all {
                lines.append(texts.render(.helpLine, language, ["command": entry.display, "usage": entry.usage(language),
                                                                "help": entry.help(language)])
                    .replacingOccurrences(of: "  ", with: " "))
            }
            reply(lines.joined(separator: "\n"))
        case .queue:
            reply(queueText(context))
        case .next:
            reply(takeNext(context))
        case .take:
            guard let number = ticketArgument(), words.count == 1 else { return usage() }
            reply(take(number, context))
        case .ack:
            guard let number = ticketArgument(), words.count == 1 else { return usage() }
            reply(acknowledge(number, context))
        case .show:
            guard let number = ticketArgument(), words.count == 1 else { return usage() }
            reply(show(number, context))
        case .reply:
            let text = rest(after: 1)
            guard let number = ticketArgument(), !text.isEmpty else { return usage() }
            reply(replyToCustomer(number, text: text, context))
        case .sev:
            let reason = rest(after: 2)
            guard let number = ticketArgument(), words.count >= 3, let severity = Severity(text: words[1]),
                  !reason.isEmpty else { return usage() }
            reply(changeSeverity(number, to: severity, reason: reason, context))
        case .resolve:
            let note = rest(after: 1)
            guard let number = ticketArgument(), !note.isEmpty else { return usage() }
            reply(resolve(number, note: note, context))
        case .oncall:
            if words.isEmpty {
                reply(onCallText(context))
            } else if words.count >= 4, words[0].lowercased() == "override",
                      ["until", "bis"].contains(words[2].lowercased()) {
                reply(override(nick: words[1], until: rest(after: 3), context))
            } else if words.count == 3, words[0].lowercased() == "override",
                      ["off", "aus", "remove", "entfernen"].contains(words[2].lowercased()) {
                reply(removeOverride(nick: words[1], context))
            } else {
                usage()
            }
        case .stats:
            reply(statsText(context))
        case .wait:
            let note = rest(after: 1)
            guard let number = ticketArgument(), !note.isEmpty else { return usage() }
            reply(setWaiting(number, note: note, context))
        case .close:
            guard let number = ticketArgument() else { return usage() }
            reply(close(number, note: rest(after: 1), context))
        }
    }

    /// Who is asking, in which language, where, when.
    struct AgentContext {
        var agent: Agent
        var language: Language
        var message: ChatMessage
        var now: Date
    }

    func agentText(_ key: AgentText, _ context: AgentContext, _ values: [String: String] = [:]) -> String {
        definitions.agent.render(key, context.language, values)
    }

    /// The text for a refused lifecycle command.
    func refusal(_ error: TransitionError, _ number: TicketNumber, command: String, _ context: AgentContext) -> String {
        let values = ["ticket": number.description, "state": error.state.rawValue, "command": "!" + command]
        switch error.reason {
        case .assignedTo(let other):
            return agentText(.takenBy, context, ["ticket": number.description, "agent": nick(of: other)])
        case .alreadyYours:
            return agentText(.alreadyYours, context, values)
        case .unchanged:
            return agentText(.severityUnchanged, context, ["ticket": number.description,
                                                           "severity": (try? store.ticket(number))??.ticket.severity.description ?? "?"])
        case .textRequired:
            let definition = definitions.agentCommands.definition(AgentCommand(rawValue: command) ?? .help)
            return agentText(.usage, context, ["command": definition.display, "usage": definition.usage(context.language)])
        case .wrongState, .roleNotAllowed, .notOwner:
            return agentText(.wrongState, context, values)
        }
    }

    func failureText(_ result: ChangeResult, _ number: TicketNumber, command: String, _ context: AgentContext) -> String {
        switch result {
        case .done: return ""
        case .refused(let error): return refusal(error, number, command: command, context)
        case .notFound: return agentText(.unknownTicket, context, ["ticket": number.description])
        case .failed(let error):
            if case TicketStoreError.conflict = error {
                return agentText(.changedMeanwhile, context, ["ticket": number.description])
            }
            return agentText(.storeFailed, context, ["error": "\(error)"])
        }
    }

    /// Tells the other agents in the channel when something was done privately.
    func echoToChannel(_ text: String, _ context: AgentContext, ticket: Ticket) {
        guard context.message.place == .direct else { return }
        let place = agentsPlace(for: ticket.contact.network)
        guard let channel = place.channel else { return }
        say(ChatAction(network: place.network, recipient: .channel(channel), text: text))
    }

    // MARK: - Commands

    func queueText(_ context: AgentContext) -> String {
        let limit = definitions.agentSettings.queueLength
        let entries = tickets.queue.top(limit)
        guard !entries.isEmpty else { return agentText(.queueEmpty, context) }
        var lines = [agentText(.queueHeader, context, ["count": String(tickets.queue.count), "shown": String(entries.count)])]
        for entry in entries {
            guard let ticket = (try? store.ticket(entry.number))??.ticket else { continue }
            var values = Self.ticketValues(ticket)
            values["age"] = Format.duration(context.now.timeIntervalSince(ticket.createdAt))
            values["sla"] = slaText(ticket, context)
            values["state"] = ticket.state.rawValue
            lines.append(agentText(.queueLine, context, values))
        }
        return lines.joined(separator: "\n")
    }

    func slaText(_ ticket: Ticket, _ context: AgentContext) -> String {
        guard let status = desk.sla.status(of: ticket, at: context.now) else {
            return agentText(.slaNotApplicable, context)
        }
        switch status.state {
        case .ok, .warning: return agentText(.slaLeft, context, ["time": Format.duration(status.remaining)])
        case .breached, .missed: return agentText(.slaOverdue, context, ["time": Format.duration(-status.remaining)])
        case .met: return agentText(.slaMet, context)
        }
    }

    /// `!next`: the first ticket of the queue that can still be taken.
    func takeNext(_ context: AgentContext) -> String {
        for _ in 0..<20 {
            guard let entry = tickets.nextInQueue() else { break }
            let result = change(entry.number, .take, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now)
            if case .done(let commit, _) = result { return taken(commit.ticket, context) }
            if case .failed = result { return failureText(result, entry.number, command: "next", context) }
            // Refused (taken meanwhile, closed): the queue was brought in line; try the next.
            tickets.dropFromQueue(entry.number)
        }
        return agentText(.nextNone, context)
    }

    func take(_ number: TicketNumber, _ context: AgentContext) -> String {
        let result = change(number, .take, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now)
        guard case .done(let commit, _) = result else { return failureText(result, number, command: "take", context) }
        return taken(commit.ticket, context)
    }

    /// After a successful take: escalation off, customer told, log.
    func taken(_ ticket: Ticket, _ context: AgentContext) -> String {
        forgetTimers(of: ticket.number)
        logger.notice("ticket taken", ["ticket": ticket.number, "agent": context.agent.id, "priority": ticket.priority])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        tellCustomer(ticket, .ticketTaken, values)
        let text = agentText(.taken, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }

    func acknowledge(_ number: TicketNumber, _ context: AgentContext) -> String {
        let result = change(number, .acknowledge, by: .agent(context.agent.id), cancelUnsentPages: true, now: context.now)
        guard case .done(let commit, _) = result else {
            if case .refused(let error) = result, error.reason == .wrongState {
                return agentText(.notPending, context, ["ticket": number.description, "state": error.state.rawValue])
            }
            return failureText(result, number, command: "ack", context)
        }
        let ticket = commit.ticket
        schedule.remove(.escalation(number))
        schedule.set(.sla(number), at: context.now)
        logger.notice("ticket acknowledged", ["ticket": number, "agent": context.agent.id])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        tellCustomer(ticket, .ticketAcknowledged, values)
        let text = agentText(.acknowledged, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }

    func show(_ number: TicketNumber, _ context: AgentContext) -> String {
        let stored: StoredTicket?
        let events: [TicketEvent]
        do {
            stored = try store.ticket(number)
            events = stored == nil ? [] : try store.events(of: number)
        } catch {
            storeFailed(error, "show ticket")
            return agentText(.storeFailed, context, ["error": "\(error)"])
        }
        guard let ticket = stored?.ticket else { return agentText(.unknownTicket, context, ["ticket": number.description]) }
        var values = Self.ticketValues(ticket)
        values["state"] = ticket.state.rawValue
        values["age"] = Format.duration(context.now.timeIntervalSince(ticket.createdAt))
        values["contact"] = ticket.contact.description
        values["tier"] = ticket.tier.flatMap { desk.tiers.tier($0)?.name ?? $0 } ?? agentText(.noValue, context)
        values["assignee"] = ticket.assignee.map(nick(of:)) ?? agentText(.unassigned, context)
        values["sla"] = slaText(ticket, context)
        var lines = [agentText(.showTicket, context, values)]
        for line in Sanitizer.lines(ticket.description, maxLines: 6, lineLimit: 300) {
            lines.append(agentText(.showDescription, context, ["text": line]))
        }
        for event in events.suffix(6) {
            let actor: String = switch event.actor {
            case .system: "system"
            case .agent(let id): nick(of: id)
            case .customer: "customer"
            }
            var what = event.kind.rawValue
            if let from = event.from, let to = event.to { what += " \(from) → \(to)" } else if let to = event.to { what += " \(to)" }
            if !event.note.isEmpty { what += ": " + Sanitizer.inline(event.note, limit: 120) }
            lines.append(agentText(.showEvent, context, ["time": Format.clock(event.at, zone: desk.zone), "actor": actor,
                                                          "event": what]))
        }
        return lines.joined(separator: "\n")
    }

    func replyToCustomer(_ number: TicketNumber, text: String, _ context: AgentContext) -> String {
        let result = change(number, .agentReply(text), by: .agent(context.agent.id), cancelUnsentPages: true,
                            now: context.now)
        guard case .done(let commit, _) = result else { return failureText(result, number, command: "reply", context) }
        let ticket = commit.ticket
        forgetEscalation(of: number, now: context.now)
        tellCustomer(ticket, .agentReply, ["ticket": number.description, "agent": context.agent.nick, "text": text])
        return agentText(.replySent, context, ["ticket": number.description, "nick": customerAddress(ticket).nick])
    }

    func changeSeverity(_ number: TicketNumber, to severity: Severity, reason: String,
                        _ context: AgentContext) -> String {
        let result = change(number, .changeSeverity(severity, reason: reason), by: .agent(context.agent.id),
                            now: context.now)
        guard case .done(let commit, let before) = result else {
            return failureText(result, number, command: "sev", context)
        }
        let ticket = commit.ticket
        logger.notice("severity changed", ["ticket": number, "agent": context.agent.id, "from": before.severity,
                                           "to": severity, "reason": reason])
        if ticket.group == .contract {
            // Coverage and response time follow the severity.
            schedule.set(.escalation(number), at: context.now)
            schedule.set(.sla(number), at: context.now)
        }
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        values["from"] = before.severity.description
        values["to"] = severity.description
        values["reason"] = reason
        let text = agentText(.severityChanged, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }

    func resolve(_ number: TicketNumber, note: String, _ context: AgentContext) -> String {
        let result = change(number, .resolve(note: note), by: .agent(context.agent.id), cancelUnsentPages: true,
                            now: context.now)
        guard case .done(let commit, _) = result else { return failureText(result, number, command: "resolve", context) }
        let ticket = commit.ticket
        forgetTimers(of: number)
        logger.notice("ticket resolved", ["ticket": number, "agent": context.agent.id])
        tellCustomer(ticket, .ticketResolved, ["ticket": number.description, "agent": context.agent.nick, "note": note])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        values["note"] = note
        return agentText(.resolved, context, values)
    }

    /// A response stops the escalation; the SLA timer sees the response.
    func forgetEscalation(of number: TicketNumber, now: Date) {
        schedule.remove(.escalation(number))
        if slaPosted[number] != nil { schedule.set(.sla(number), at: now) }
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
    func override(nick target: String, until text: String, _ context: AgentContext) -> String {
        guard let agent = desk.agents.agent(nick: target) ?? desk.agents.agent(id: target) else {
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
            let saved = try store.addRosterOverride(RosterOverrideDraft(
                agent: agent.id, from: context.now, until: until, reason: reason, createdBy: .agent(context.agent.id),
                createdAt: context.now))
            try roster.restoreOverride(saved.rosterOverride)
        } catch {
            storeFailed(error, "add roster override")
            return agentText(.storeFailed, context, ["error": "\(error)"])
        }
        logger.notice("on-call override", ["agent": agent.id, "until": until, "by": context.agent.id])
        return agentText(.overrideSet, context, ["agent": agent.nick, "until": Format.agentTime(until, zone: roster.zone),
                                                 "by": context.agent.nick])
    }

    /// `!oncall override NICK off`: removes the overrides agents made for
    /// NICK that are in force or still to come (store first, then roster).
    func removeOverride(nick target: String, _ context: AgentContext) -> String {
        guard let agent = desk.agents.agent(nick: target) ?? desk.agents.agent(id: target) else {
            return agentText(.overrideUnknownAgent, context, ["nick": target])
        }
        let mine = roster.runtimeOverrides.filter { $0.agent == agent.id && $0.until > context.now }
        guard !mine.isEmpty else { return agentText(.overrideNone, context, ["agent": agent.nick]) }
        for entry in mine {
            do {
                if let id = SavedRosterOverride.storeID(ofRosterID: entry.id) {
                    try store.removeRosterOverride(id)
                }
            } catch {
                storeFailed(error, "remove roster override")
                return agentText(.storeFailed, context, ["error": "\(error)"])
            }
            roster.removeOverride(id: entry.id)
        }
        logger.notice("on-call override removed", ["agent": agent.id, "count": mine.count, "by": context.agent.id])
        let now = roster.onDuty(at: context.now).agent.map(nick(of:)) ?? agentText(.noOne, context)
        return agentText(.overrideRemoved, context, ["agent": agent.nick, "count": String(mine.count),
                                                     "by": context.agent.nick, "now": now])
    }

    /// `!wait N note`: the ticket waits for the customer, who gets the note.
    func setWaiting(_ number: TicketNumber, note: String, _ context: AgentContext) -> String {
        let result = change(number, .setWaiting(note: note), by: .agent(context.agent.id), now: context.now)
        guard case .done(let commit, _) = result else { return failureText(result, number, command: "wait", context) }
        let ticket = commit.ticket
        logger.notice("ticket waiting for the customer", ["ticket": number, "agent": context.agent.id])
        tellCustomer(ticket, .ticketWaiting, ["ticket": number.description, "agent": context.agent.nick, "note": note])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        values["note"] = note
        let text = agentText(.waiting, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }

    /// `!close N [note]`: a resolved ticket is closed (a customer's line
    /// then starts a new request instead of reopening it).
    func close(_ number: TicketNumber, note: String, _ context: AgentContext) -> String {
        let result = change(number, .close(note: note), by: .agent(context.agent.id), cancelUnsentPages: true,
                            now: context.now)
        guard case .done(let commit, _) = result else { return failureText(result, number, command: "close", context) }
        let ticket = commit.ticket
        forgetTimers(of: number)
        logger.notice("ticket closed", ["ticket": number, "agent": context.agent.id])
        var values = Self.ticketValues(ticket)
        values["agent"] = context.agent.nick
        let text = agentText(.closed, context, values)
        echoToChannel(text, context, ticket: ticket)
        return text
    }

    /// `!stats`: what is cheap to count and honest to show.
    func statsText(_ context: AgentContext) -> String {
        do {
            let open = try store.openTickets().map(\.ticket)
            var byRank: [Int: Int] = [:]
            for ticket in open { byRank[ticket.priority.rank, default: 0] += 1 }
            let byPriority = byRank.keys.sorted().map { "P\($0) \(byRank[$0]!)" }.joined(separator: ", ")
            let startOfDay = desk.zone.startOfDay(desk.zone.date(of: context.now))
            let cap = 5000
            let recent = try store.recentTickets(limit: cap).filter { $0.ticket.createdAt >= startOfDay }.map(\.ticket)
            let today = recent.count >= cap ? "≥\(cap)" : String(recent.count)
            let deflected = try store.counters("deflected").values.reduce(0, +)
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
            return agentText(.storeFailed, context, ["error": "\(error)"])
        }
    }
}
