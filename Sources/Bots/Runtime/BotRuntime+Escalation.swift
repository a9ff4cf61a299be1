import Core
import Desk
import Foundation

// Escalation, SLA marks and the outbox of pages (SPEC "Escalation").
extension BotRuntime {
    /// Applies `command` through the ticket service (see
    /// ``TicketService/change(_:_:by:pages:cancelUnsentPages:now:)``); a
    /// ticket that is no longer open needs no escalation timer.
    func change(_ number: TicketNumber, _ command: TicketCommand, by actor: Actor,
                pages: (Ticket) -> [PageDraft] = { _ in [] }, cancelUnsentPages: Bool = false,
                now: Date) async -> ChangeResult {
        let result = await tickets.change(number, command, by: actor, pages: pages, cancelUnsentPages: cancelUnsentPages,
                                    now: now)
        if case .done(let commit, _) = result, !commit.ticket.state.isOpen { schedule.remove(.escalation(number)) }
        return result
    }

    // MARK: - Escalation

    /// Asks the escalation policy what is due for a contract ticket, pages
    /// it (pages written with the ticket's `paged` event, in one
    /// transaction), and sleeps until the next step.
    func evaluateEscalation(_ number: TicketNumber, now: Date) async {
        let stored: StoredTicket?
        let recorded: Set<Int>
        do {
            stored = try await store.ticket(number)
            recorded = stored == nil ? [] : try await store.escalationSteps(of: number)
        } catch {
            storeFailed(error, "read ticket for escalation")
            schedule.set(.escalation(number), at: now.addingTimeInterval(60))
            return
        }
        guard let ticket = stored?.ticket, ticket.group == .contract, ticket.state.isOpen else {
            schedule.remove(.escalation(number))
            return
        }
        // Steps are in time order; a step written means the earlier ones are
        // done too (they were coalesced into it after downtime).
        let done: Set<Int> = recorded.max().map { Set(0...$0) } ?? []
        let plan = desk.escalation.plan(for: ticket, stepsDone: done, now: now, roster: roster, tiers: desk.tiers,
                                        calendar: desk.calendar)
        if case .stopped = plan.status {
            schedule.remove(.escalation(number))
            return
        }
        for action in plan.actions {
            guard case .page(let request) = action else { continue }
            let pager = makePager(for: ticket.contact.network)
            let whom = request.privateMessage.map(nick(of:)) + (request.wholeChannel ? ["channel"] : [])
            let note = "step \(request.steps.map(String.init).joined(separator: "+")): " + whom.joined(separator: ", ")
                + (request.noOneOnDuty ? " (no one on duty)" : "")
            switch await change(number, .page(note: note), by: .system, pages: { pager.pages(for: request, ticket: $0, now: now) },
                          cancelUnsentPages: true, now: now) {
            case .done(let commit, _):
                logger.notice("escalation step paged", ["ticket": number, "steps": request.steps.map(String.init)
                    .joined(separator: ","), "to": whom.joined(separator: ","), "coalesced": request.coalesced])
                await sendPages(commit.pages, now: now, group: .contract)
            case .failed(let error):
                if case TicketStoreError.escalationStepExists = error { break }
                schedule.set(.escalation(number), at: now.addingTimeInterval(60))
                return
            case .refused, .notFound:
                schedule.remove(.escalation(number))
                return
            }
        }
        if let next = plan.nextEvaluation {
            schedule.set(.escalation(number), at: next)
        } else {
            schedule.remove(.escalation(number))
        }
    }

    // MARK: - On-duty agent not online

    /// After a ticket's first page: if the network sees none of the paged
    /// agents online (IRC: in no channel the bot is in), the private page
    /// would wait unread — so the next escalation step (by default the
    /// on-duty agent again and the backup) is paged at once instead of
    /// after its delay, the channel line says who is missing, and the
    /// customer is told honestly. Networks that cannot tell change nothing.
    func checkPagedAgentsArePresent() async {
        let checks = presenceChecks
        presenceChecks = []
        for check in checks {
            guard let network = networks[check.network] else { continue }
            var absent: [String] = []
            for id in check.agents where await network.isPresent(nick(of: id)) == false {
                absent.append(nick(of: id))
            }
            guard !absent.isEmpty, absent.count == check.agents.count else { continue }
            await escalateEarly(check.number, absent: absent, now: clock.date)
        }
        await flush()
    }

    /// Pages the ticket's next escalation step now (see
    /// ``checkPagedAgentsArePresent()``), as the policy would page it when due.
    func escalateEarly(_ number: TicketNumber, absent: [String], now: Date) async {
        let stored: StoredTicket?
        let recorded: Set<Int>
        do {
            stored = try await store.ticket(number)
            recorded = stored == nil ? [] : try await store.escalationSteps(of: number)
        } catch {
            storeFailed(error, "read ticket for escalation")
            return
        }
        // Only while just the first page is out and no one has answered.
        guard let ticket = stored?.ticket, ticket.group == .contract, ticket.respondedAt == nil,
              [.new, .paged].contains(ticket.state), recorded == [0] else { return }
        let dueTimes = desk.escalation.dueTimes(for: ticket, tiers: desk.tiers, calendar: desk.calendar)
        guard dueTimes.count > 1, let due = dueTimes[1] else { return }
        let plan = desk.escalation.plan(for: ticket, stepsDone: [0], now: max(due, now), roster: roster,
                                        tiers: desk.tiers, calendar: desk.calendar)
        guard case .page(let request)? = plan.actions.first(where: { if case .page = $0 { true } else { false } })
        else { return }
        let reached = (request.wholeChannel ? request.mention : request.privateMessage).map(nick(of:))
            .filter { !absent.contains($0) }
        guard !reached.isEmpty else {
            logger.warning("on-duty agent not online and no one else to page early",
                           ["ticket": number, "absent": absent.joined(separator: ",")])
            return
        }
        let pager = makePager(for: ticket.contact.network)
        let note = "step \(request.steps.map(String.init).joined(separator: "+")) early: "
            + "\(absent.joined(separator: ", ")) not online; paged \(reached.joined(separator: ", "))"
        switch await change(number, .page(note: note), by: .system,
                      pages: { pager.pages(for: request, ticket: $0, now: now, absent: absent) },
                      cancelUnsentPages: false, now: now) {
        case .done(let commit, _):
            logger.notice("on-duty agent not online: next escalation step paged at once",
                          ["ticket": number, "absent": absent.joined(separator: ","),
                           "paged": reached.joined(separator: ",")])
            await sendPages(commit.pages, now: now, group: .contract)
            if let key = conversationOfTicket[number], let conversation = conversations[key] {
                var values = Self.ticketValues(commit.ticket)
                values["agent"] = absent.joined(separator: ", ")
                values["paged"] = reached.joined(separator: ", ")
                tellCustomer(commit.ticket, .onDutyNotOnline, values, lane: .urgent)
            }
            if let next = plan.nextEvaluation { schedule.set(.escalation(number), at: next) }
        case .failed, .refused, .notFound:
            break
        }
    }

    // MARK: - SLA

    /// Posts the SLA warning (80 %) and the breach to the agents' channel,
    /// once each (recorded in the audit trail, so not again after a restart).
    func evaluateSLA(_ number: TicketNumber, now: Date) async {
        let stored: StoredTicket?
        do {
            stored = try await store.ticket(number)
        } catch {
            storeFailed(error, "read ticket for SLA")
            schedule.set(.sla(number), at: now.addingTimeInterval(60))
            return
        }
        guard let ticket = stored?.ticket, ticket.state.isOpen, let status = desk.sla.status(of: ticket, at: now) else {
            schedule.remove(.sla(number))
            return
        }
        var posted = slaPosted[number] ?? SLAPosted()
        var values = Self.ticketValues(ticket)
        values["tier"] = desk.tiers.tier(status.tier)?.name ?? status.tier
        values["target"] = Format.duration(status.target)
        values["left"] = Format.duration(status.remaining)
        values["percent"] = String(Int((desk.sla.warningFraction * 100).rounded()))
        switch status.state {
        case .breached where !posted.breached:
            if await record(.slaBreach(note: "response time \(Format.duration(status.target)) passed"), on: number, now: now) {
                posted.breached = true
                posted.warned = true
                counters.slaBreaches += 1
                postToAgents(ticket, .slaBreach, values, now: now)
            }
        case .warning where !posted.warned:
            if await record(.slaWarning(note: "\(values["percent"]!) % of \(Format.duration(status.target)) used"), on: number,
                      now: now) {
                posted.warned = true
                counters.slaWarnings += 1
                postToAgents(ticket, .slaWarning, values, now: now)
            }
        default:
            break
        }
        slaPosted[number] = posted
        if let next = status.nextChange {
            schedule.set(.sla(number), at: next)
        } else {
            schedule.remove(.sla(number))
        }
    }

    /// Records a system event on the ticket; false if it could not be stored.
    func record(_ command: TicketCommand, on number: TicketNumber, now: Date) async -> Bool {
        if case .done = await change(number, command, by: .system, now: now) { return true }
        return false
    }

    /// An urgent line in the agents' channel (or, without one, to the
    /// on-duty agent privately).
    func postToAgents(_ ticket: Ticket, _ key: AgentText, _ values: [String: String], now: Date) {
        let place = agentsPlace(for: ticket.contact.network)
        let text = definitions.agent.render(key, agentLanguage(place.network), values)
        if let channel = place.channel {
            say(ChatAction(network: place.network, recipient: .channel(channel), text: text, lane: .urgent))
        } else if let agent = roster.onDutyAgent(at: now) ?? roster.backup.flatMap({ desk.agents.agent(id: $0) }) {
            say(text, to: agent.nick, on: place.network, lane: .urgent)
        } else {
            logger.warning("no agents' channel and no one on duty to tell", ["ticket": ticket.number])
        }
    }

    // MARK: - The outbox

    /// Hands pages to their networks through the outbox: on the urgent
    /// lane, except a non-contract announcement (never a page).
    func sendPages(_ records: [PageRecord], now: Date, group: CustomerGroup? = nil) async {
        var groups: [TicketNumber: CustomerGroup] = [:]
        for record in records where group == nil && groups[record.ticket] == nil && !outbox.isInFlight(record.id) {
            groups[record.ticket] = (try? await store.ticket(record.ticket))?.ticket.group ?? .contract
        }
        let actions = outbox.handOver(records, lane: { record in
            (group ?? groups[record.ticket]) == .noContract ? .normal : .urgent
        }, recipient: { pageRecipient(network: $0.network, target: $0.target) }, now: now)
        for action in actions { say(action) }
        await refreshPageTimer(now: now)
    }

    /// Pages go to agents privately or to the network's agents' channel: a
    /// target that is `network`'s agents' channel (by that network's rule)
    /// is the room, anything else a person. (Until the store keeps a page's
    /// target kind, a page still pending for an agents' channel that was
    /// renamed in the configuration is sent as a private message and fails.)
    func pageRecipient(network: String, target: String) -> ChatRecipient {
        let isRoom = networkSettings[network]?.agentsChannel.map { sameChannel($0, target, on: network) } ?? false
        return isRoom ? .channel(target) : .user(target)
    }

    /// Sends the pages that are due and not in flight; pages in flight for
    /// longer than the delivery timeout are sent again.
    func sendDuePages(now: Date) async {
        for (id, page) in outbox.expire(now: now, timeout: definitions.agentSettings.pageDeliveryTimeout) {
            logger.warning("page not confirmed by the network; sending it again", ["page": id.rawValue,
                                                                                   "ticket": page.ticket, "to": page.target])
        }
        do {
            let due = try await store.pendingPages(dueBy: now, limit: 200).filter { !outbox.isInFlight($0.id) }
            await sendPages(due, now: now)
        } catch {
            storeFailed(error, "pending pages")
            schedule.set(.pages, at: now.addingTimeInterval(30))
        }
        await refreshPageTimer(now: now)
    }

    /// Sets the page timer to the next pending page's due time or the
    /// earliest delivery timeout.
    func refreshPageTimer(now: Date) async {
        let timeout = definitions.agentSettings.pageDeliveryTimeout
        var next: Date?
        do {
            let pending = try await store.pendingPages(dueBy: GivenUpPage.due.addingTimeInterval(-1),
                                                 limit: outbox.inFlight.count + 1)
            next = outbox.nextWake(pendingDue: pending.first(where: { !outbox.isInFlight($0.id) })?.dueAt,
                                   timeout: timeout)
        } catch {
            storeFailed(error, "pending pages")
            next = outbox.nextWake(pendingDue: now.addingTimeInterval(30), timeout: timeout)
        }
        if let next {
            schedule.set(.pages, at: max(next, now))
        } else {
            schedule.remove(.pages)
        }
    }

    func pageDelivered(_ id: PageID, at: Date, now: Date) async {
        do {
            try await store.markPageSent(id, at: at)
            counters.pagesSent += 1
        } catch {
            storeFailed(error, "mark page sent")
        }
        if let page = outbox.delivered(id) {
            // The first page that went out moves a new contract ticket to `paged`.
            if let stored = try? await store.ticket(page.ticket), stored.ticket.state == .new, stored.ticket.group == .contract {
                _ = await change(page.ticket, .page(note: "step \(page.step): \(page.target)"), by: .system, now: now)
            }
        }
        await refreshPageTimer(now: now)
    }

    /// A refused page is stored for its retry, or given up (see ``Outbox``).
    func pageFailed(_ id: PageID, reason: String, now: Date) async {
        counters.pageFailures += 1
        let (page, decision) = outbox.failed(id, now: now, maximumAttempts: definitions.agentSettings.pageAttempts)
        switch decision {
        case .giveUp(let attempts):
            await pageGivenUp(id, page: page, attempts: attempts, reason: reason, now: now)
        case .retry(let at, _):
            logger.warning("page not delivered; will retry", ["page": id.rawValue, "reason": reason,
                                                               "retry_in_s": Int(at.timeIntervalSince(now))])
            do {
                try await store.markPageFailed(id, error: reason, retryAt: at)
            } catch {
                storeFailed(error, "mark page failed")
            }
        }
        await refreshPageTimer(now: now)
    }

    /// A page the network refused ``AgentSettings/pageAttempts`` times: it is
    /// not tried again (stored as due never, with the reason), the next
    /// escalation step of an unanswered contract ticket is paged at once,
    /// and the agents' channel is warned.
    func pageGivenUp(_ id: PageID, page: InFlightPage?, attempts: Int, reason: String, now: Date) async {
        counters.pagesGivenUp += 1
        let error = "given up after \(attempts) attempts: \(reason)"
        do {
            try await store.markPageFailed(id, error: error, retryAt: GivenUpPage.due)
        } catch {
            storeFailed(error, "mark page given up")
        }
        guard let page else { return }
        logger.error("page given up", ["page": id.rawValue, "ticket": page.ticket, "to": page.target,
                                       "attempts": attempts, "reason": reason])
        let stored: StoredTicket?
        do {
            stored = try await store.ticket(page.ticket)
        } catch {
            storeFailed(error, "read ticket for a given-up page")
            return
        }
        guard let ticket = stored?.ticket else { return }
        var values = Self.ticketValues(ticket)
        let language = agentLanguage(agentsPlace(for: ticket.contact.network).network)
        values["target"] = page.target
        values["attempts"] = String(attempts)
        values["error"] = Sanitizer.inline(reason, limit: 120)
        var paged = false
        if ticket.group == .contract && ticket.respondedAt == nil && [.new, .paged].contains(ticket.state) {
            paged = await pageNextStep(ticket, after: page.step, note: "page to \(page.target) given up", now: now)
        }
        values["next"] = definitions.agent.render(paged ? .pageGivenUpNextStep : .pageGivenUpNoStep, language, values)
        postToAgents(ticket, .pageGivenUp, values, now: now)
    }

    /// Pages the escalation step after `step` now (a page of `step` was
    /// given up); false when there is none or it could not be stored.
    func pageNextStep(_ ticket: Ticket, after step: Int, note: String, now: Date) async -> Bool {
        let recorded: Set<Int>
        do {
            recorded = try await store.escalationSteps(of: ticket.number)
        } catch {
            storeFailed(error, "escalation steps")
            return false
        }
        let done = Set(0...max(step, recorded.max() ?? step))
        let dueTimes = desk.escalation.dueTimes(for: ticket, tiers: desk.tiers, calendar: desk.calendar)
        let nextIndex = done.max()! + 1
        guard nextIndex < dueTimes.count, let due = dueTimes[nextIndex] else { return false }
        let plan = desk.escalation.plan(for: ticket, stepsDone: done, now: max(due, now), roster: roster,
                                        tiers: desk.tiers, calendar: desk.calendar)
        guard let request = Self.firstPage(in: plan) else { return false }
        let pager = makePager(for: ticket.contact.network)
        let text = "step \(request.steps.map(String.init).joined(separator: "+")) early: " + note
        switch await change(ticket.number, .page(note: text), by: .system,
                      pages: { pager.pages(for: request, ticket: $0, now: now) }, cancelUnsentPages: false, now: now) {
        case .done(let commit, _):
            await sendPages(commit.pages, now: now, group: .contract)
            if let next = plan.nextEvaluation { schedule.set(.escalation(ticket.number), at: next) }
            return true
        case .failed, .refused, .notFound:
            return false
        }
    }

    /// The page request of an escalation plan, if it has one (a plain
    /// function: a closure here crashed Swift 6.3's optimiser).
    static func firstPage(in plan: EscalationPlan) -> PageRequest? {
        for action in plan.actions {
            if case .page(let request) = action { return request }
        }
        return nil
    }
}
