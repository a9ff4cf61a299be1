import Core
import Desk
import Foundation

/// The outcome of a lifecycle command applied to a stored ticket.
enum ChangeResult {
    /// Committed; the ticket before the change is given for comparison.
    case done(TicketCommit, before: Ticket)
    /// The lifecycle refused it (the reason says why).
    case refused(TransitionError)
    case notFound
    /// The store failed (logged).
    case failed(any Error)
}

// Escalation, SLA marks and the outbox of pages (SPEC "Escalation").
extension BotRuntime {
    /// Applies `command` to the stored ticket through ``TicketLifecycle``
    /// (so every change is an event) and stores it with `pages` in one
    /// transaction. A concurrent change (the store's version check) makes it
    /// read the ticket again and decide again, so two agents taking one
    /// ticket end with one owner and the other told who.
    func change(_ number: TicketNumber, _ command: TicketCommand, by actor: Actor,
                pages: (Ticket) -> [PageDraft] = { _ in [] }, cancelUnsentPages: Bool = false,
                now: Date) -> ChangeResult {
        for _ in 0..<4 {
            let stored: StoredTicket
            do {
                guard let found = try store.ticket(number) else { return .notFound }
                stored = found
            } catch {
                storeFailed(error, "read ticket")
                return .failed(error)
            }
            let updated: Ticket, events: [TicketEvent]
            do {
                (updated, events) = try TicketLifecycle.apply(command, to: stored.ticket, by: actor, at: now)
            } catch {
                queue.sync(with: stored.ticket)
                return .refused(error)
            }
            do {
                let commit = try store.update(stored, to: updated, events: events, pages: pages(updated),
                                              cancelUnsentPages: cancelUnsentPages)
                queue.sync(with: commit.ticket)
                if !commit.ticket.state.isOpen { schedule.remove(.escalation(number)) }
                return .done(commit, before: stored.ticket)
            } catch TicketStoreError.conflict {
                logger.info("ticket changed concurrently; deciding again", ["ticket": number, "command": command.name])
                continue
            } catch let error as TicketStoreError {
                if case .escalationStepExists = error { return .failed(error) }
                storeFailed(error, command.name)
                return .failed(error)
            } catch {
                storeFailed(error, command.name)
                return .failed(error)
            }
        }
        let error = TicketStoreError.invalid("\(number) kept changing while \(command.name) was applied")
        storeFailed(error, command.name)
        return .failed(error)
    }

    // MARK: - Escalation

    /// Asks the escalation policy what is due for a contract ticket, pages
    /// it (pages written with the ticket's `paged` event, in one
    /// transaction), and sleeps until the next step.
    func evaluateEscalation(_ number: TicketNumber, now: Date) {
        let stored: StoredTicket?
        let recorded: Set<Int>
        do {
            stored = try store.ticket(number)
            recorded = stored == nil ? [] : try store.escalationSteps(of: number)
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
            switch change(number, .page(note: note), by: .system, pages: { pager.pages(for: request, ticket: $0, now: now) },
                          cancelUnsentPages: true, now: now) {
            case .done(let commit, _):
                logger.notice("escalation step paged", ["ticket": number, "steps": request.steps.map(String.init)
                    .joined(separator: ","), "to": whom.joined(separator: ","), "coalesced": request.coalesced])
                sendPages(commit.pages, now: now, group: .contract)
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
            escalateEarly(check.number, absent: absent, now: clock.date)
        }
        await flush()
    }

    /// Pages the ticket's next escalation step now (see
    /// ``checkPagedAgentsArePresent()``), as the policy would page it when due.
    func escalateEarly(_ number: TicketNumber, absent: [String], now: Date) {
        let stored: StoredTicket?
        let recorded: Set<Int>
        do {
            stored = try store.ticket(number)
            recorded = stored == nil ? [] : try store.escalationSteps(of: number)
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
        switch change(number, .page(note: note), by: .system,
                      pages: { pager.pages(for: request, ticket: $0, now: now, absent: absent) },
                      cancelUnsentPages: false, now: now) {
        case .done(let commit, _):
            logger.notice("on-duty agent not online: next escalation step paged at once",
                          ["ticket": number, "absent": absent.joined(separator: ","),
                           "paged": reached.joined(separator: ",")])
            sendPages(commit.pages, now: now, group: .contract)
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
    func evaluateSLA(_ number: TicketNumber, now: Date) {
        let stored: StoredTicket?
        do {
            stored = try store.ticket(number)
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
            if record(.slaBreach(note: "response time \(Format.duration(status.target)) passed"), on: number, now: now) {
                posted.breached = true
                posted.warned = true
                counters.slaBreaches += 1
                postToAgents(ticket, .slaBreach, values, now: now)
            }
        case .warning where !posted.warned:
            if record(.slaWarning(note: "\(values["percent"]!) % of \(Format.duration(status.target)) used"), on: number,
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
    func record(_ command: TicketCommand, on number: TicketNumber, now: Date) -> Bool {
        if case .done = change(number, command, by: .system, now: now) { return true }
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

    /// Hands pages to their networks with the page id as delivery id: on
    /// the urgent lane, except a non-contract announcement (never a page).
    func sendPages(_ records: [PageRecord], now: Date, group: CustomerGroup? = nil) {
        var groups: [TicketNumber: CustomerGroup] = [:]
        for record in records where inFlight[record.id] == nil {
            var ticketGroup = group ?? groups[record.ticket]
            if ticketGroup == nil {
                ticketGroup = (try? store.ticket(record.ticket))?.ticket.group ?? .contract
                groups[record.ticket] = ticketGroup
            }
            let lane: ChatLane = ticketGroup == .noContract ? .normal : .urgent
            let recipient: ChatRecipient = Self.isChannelName(record.target) ? .channel(record.target) : .user(record.target)
            say(ChatAction(network: record.network, recipient: recipient, text: record.text, lane: lane,
                           deliveryID: record.id.rawValue))
            inFlight[record.id] = InFlightPage(ticket: record.ticket, step: record.step, target: record.target,
                                               attempts: record.attempts, handedOver: now)
        }
        refreshPageTimer(now: now)
    }

    /// `#agents`, `&local`, `!room`, `+modeless` are channels; anything else is a person.
    static func isChannelName(_ target: String) -> Bool {
        guard let first = target.first else { return false }
        return "#&!+".contains(first)
    }

    /// Sends the pages that are due and not in flight; pages in flight for
    /// longer than the delivery timeout are sent again.
    func sendDuePages(now: Date) {
        let timeout = definitions.agentSettings.pageDeliveryTimeout
        for (id, page) in inFlight where now.timeIntervalSince(page.handedOver) >= timeout {
            inFlight.removeValue(forKey: id)
            logger.warning("page not confirmed by the network; sending it again", ["page": id.rawValue,
                                                                                   "ticket": page.ticket, "to": page.target])
        }
        do {
            let due = try store.pendingPages(dueBy: now, limit: 200).filter { inFlight[$0.id] == nil }
            sendPages(due, now: now)
        } catch {
            storeFailed(error, "pending pages")
            schedule.set(.pages, at: now.addingTimeInterval(30))
        }
        refreshPageTimer(now: now)
    }

    /// Sets the page timer to the next pending page's due time or the
    /// earliest delivery timeout.
    func refreshPageTimer(now: Date) {
        let timeout = definitions.agentSettings.pageDeliveryTimeout
        var next = inFlight.values.map { $0.handedOver.addingTimeInterval(timeout) }.min()
        do {
            let pending = try store.pendingPages(dueBy: GivenUpPage.due.addingTimeInterval(-1),
                                                 limit: inFlight.count + 1)
            if let first = pending.first(where: { inFlight[$0.id] == nil }) {
                next = min(next ?? first.dueAt, first.dueAt)
            }
        } catch {
            storeFailed(error, "pending pages")
            next = min(next ?? now.addingTimeInterval(30), now.addingTimeInterval(30))
        }
        if let next {
            schedule.set(.pages, at: max(next, now))
        } else {
            schedule.remove(.pages)
        }
    }

    func pageDelivered(_ id: PageID, at: Date, now: Date) {
        do {
            try store.markPageSent(id, at: at)
            counters.pagesSent += 1
        } catch {
            storeFailed(error, "mark page sent")
        }
        if let page = inFlight.removeValue(forKey: id) {
            // The first page that went out moves a new contract ticket to `paged`.
            if let stored = try? store.ticket(page.ticket), stored.ticket.state == .new, stored.ticket.group == .contract {
                _ = change(page.ticket, .page(note: "step \(page.step): \(page.target)"), by: .system, now: now)
            }
        }
        refreshPageTimer(now: now)
    }

    /// A failed attempt is retried after 30 s, 60 s, … (at most 300 s),
    /// up to ``AgentSettings/pageAttempts`` attempts; then the page is given
    /// up (see ``pageGivenUp(_:reason:now:)``).
    func pageFailed(_ id: PageID, reason: String, now: Date) {
        let page = inFlight.removeValue(forKey: id)
        let attempts = (page?.attempts ?? 0) + 1
        counters.pageFailures += 1
        if attempts >= definitions.agentSettings.pageAttempts {
            pageGivenUp(id, page: page, attempts: attempts, reason: reason, now: now)
            refreshPageTimer(now: now)
            return
        }
        let delay = min(300, 30 * pow(2, Double(min(attempts, 10) - 1)))
        logger.warning("page not delivered; will retry", ["page": id.rawValue, "reason": reason,
                                                           "retry_in_s": Int(delay)])
        do {
            try store.markPageFailed(id, error: reason, retryAt: now.addingTimeInterval(delay))
        } catch {
            storeFailed(error, "mark page failed")
        }
        refreshPageTimer(now: now)
    }

    /// A page the network refused ``AgentSettings/pageAttempts`` times: it is
    /// not tried again (stored as due never, with the reason), the next
    /// escalation step of an unanswered contract ticket is paged at once,
    /// and the agents' channel is warned.
    func pageGivenUp(_ id: PageID, page: InFlightPage?, attempts: Int, reason: String, now: Date) {
        counters.pagesGivenUp += 1
        let error = "given up after \(attempts) attempts: \(reason)"
        do {
            try store.markPageFailed(id, error: error, retryAt: GivenUpPage.due)
        } catch {
            storeFailed(error, "mark page given up")
        }
        guard let page else { return }
        logger.error("page given up", ["page": id.rawValue, "ticket": page.ticket, "to": page.target,
                                       "attempts": attempts, "reason": reason])
        let stored: StoredTicket?
        do {
            stored = try store.ticket(page.ticket)
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
        let paged = ticket.group == .contract && ticket.respondedAt == nil && [.new, .paged].contains(ticket.state)
            && pageNextStep(ticket, after: page.step, note: "page to \(page.target) given up", now: now)
        values["next"] = definitions.agent.render(paged ? .pageGivenUpNextStep : .pageGivenUpNoStep, language, values)
        postToAgents(ticket, .pageGivenUp, values, now: now)
    }

    /// Pages the escalation step after `step` now (a page of `step` was
    /// given up); false when there is none or it could not be stored.
    func pageNextStep(_ ticket: Ticket, after step: Int, note: String, now: Date) -> Bool {
        let recorded: Set<Int>
        do {
            recorded = try store.escalationSteps(of: ticket.number)
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
        switch change(ticket.number, .page(note: text), by: .system,
                      pages: { pager.pages(for: request, ticket: $0, now: now) }, cancelUnsentPages: false, now: now) {
        case .done(let commit, _):
            sendPages(commit.pages, now: now, group: .contract)
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
