import Core
import Desk
import Foundation

// Escalation, SLA marks and the outbox of pages (SPEC "Escalation"): the
// actor's side. The decisions are the scheduler's (``EscalationScheduler``)
// and the outbox's (``Outbox``); here tickets are read for them and their
// effects performed — pages written and sent, lines said, counters counted.
extension BotRuntime {
    /// Applies `command` through the ticket service (see
    /// ``TicketService/change(_:_:by:pages:cancelUnsentPages:now:)``) and
    /// tells the scheduler (a ticket no longer open needs no escalation).
    ///
    /// Persisted: the step's messages (``stepMessages``: a customer's
    /// follow-up line, an agent's command) are recorded as handled in the
    /// update's transaction, so a Matrix message delivered again after a
    /// crash that followed this commit is skipped — a line is not attached
    /// and relayed twice, a `!next` does not take a second ticket.
    ///
    /// `lines` are what the change says once committed (the ticket as
    /// changed and as it was: an agent command's answer, its echo in the
    /// agents' room, its line to the customer). Where the step records its
    /// message here, they are written to the outbox in the same
    /// transaction and handed over from there (``CommittedLine``): a crash
    /// after the commit cannot lose them, since the message will be skipped,
    /// and a re-send is one event (the Matrix txnId is the outbox id).
    /// Otherwise (IRC, the console: nothing is delivered again) they are
    /// said after the commit, as any line. `linesThroughOutbox`: through the
    /// outbox even where the step records no message — the change consumes
    /// input already stored elsewhere (a burst's held lines, whose messages
    /// were recorded when they were held) on a network that deduplicates
    /// what is sent again.
    ///
    /// `conversation` (the ticket as changed): the customer conversation's
    /// snapshot as it stands after the change, saved in the update's
    /// transaction.
    func change(_ number: TicketNumber, _ command: TicketCommand, by actor: Actor,
                pages: (Ticket) -> [PageDraft] = { _ in [] }, cancelUnsentPages: Bool = false,
                now: Date, lines: ((_ changed: Ticket, _ before: Ticket) -> [CommittedLine])? = nil,
                linesThroughOutbox: Bool = false,
                conversation: ((_ changed: Ticket) -> ConversationSnapshot?)? = nil,
                read: StoredTicket? = nil) async -> ChangeResult {
        let handled = handledMessagesToRecord()
        let throughOutbox = lines != nil && (!handled.isEmpty || linesThroughOutbox)
        let result = await tickets.change(number, command, by: actor, pages: pages, cancelUnsentPages: cancelUnsentPages,
                                          handledMessages: handled, notices: { changed, before in
            guard throughOutbox, let lines else { return [] }
            return lines(changed, before).filter { !$0.action.text.isEmpty }.map { $0.draft(at: now) }
        }, conversation: { changed in conversation?(changed) }, read: read, now: now)
        if case .done(let commit, let before) = result {
            recorded(handled)
            escalation.ticketChanged(commit.ticket)
            if throughOutbox {
                await sendPages(commit.pages.filter(\.isNotice), now: now, group: commit.ticket.group)
            } else if let lines {
                for line in lines(commit.ticket, before) where !line.action.text.isEmpty { say(line.action) }
            }
        }
        return result
    }

    // MARK: - The scheduler's inputs

    /// What the scheduler decides with now.
    var escalationContext: EscalationContext { EscalationContext(desk: desk, roster: roster) }

    /// A scheduler deadline fell due: the ticket is read and handed to it.
    func escalationCheckDue(_ check: EscalationCheck, now: Date) async {
        let number = check.ticket
        switch check {
        case .escalation:
            let stored: StoredTicket?
            let recorded: Set<Int>
            do {
                stored = try await store.ticket(number)
                recorded = stored == nil ? [] : try await store.escalationSteps(of: number)
            } catch {
                storeFailed(error, "read ticket for escalation")
                escalation.readFailed(check, now: now)
                return
            }
            await perform(escalation.escalationDue(number, ticket: stored?.ticket, stepsDone: recorded, now: now,
                                             escalationContext), now: now)
        case .sla:
            let stored: StoredTicket?
            do {
                stored = try await store.ticket(number)
            } catch {
                storeFailed(error, "read ticket for SLA")
                escalation.readFailed(check, now: now)
                return
            }
            await perform(escalation.slaDue(number, ticket: stored?.ticket, now: now, escalationContext), now: now)
        }
    }

    /// After a ticket's first page: if the network sees none of the paged
    /// agents online (IRC: in no channel the bot is in), the private page
    /// would wait unread — so the scheduler pages the next escalation step
    /// at once (see ``EscalationScheduler/agentsAbsent(_:stepsDone:absent:now:_:)``).
    /// Networks that cannot tell change nothing.
    func checkPagedAgentsArePresent() async {
        for check in escalation.takePresenceChecks() {
            guard let network = networks[check.network] else { continue }
            var absent: [String] = []
            for id in check.agents where await network.isPresent(nick(of: id)) == false {
                absent.append(nick(of: id))
            }
            guard escalation.presenceAnswered(check, absent: absent) else { continue }
            let now = clock.date
            let stored: StoredTicket?
            let recorded: Set<Int>
            do {
                stored = try await store.ticket(check.number)
                recorded = stored == nil ? [] : try await store.escalationSteps(of: check.number)
            } catch {
                storeFailed(error, "read ticket for escalation")
                continue
            }
            await perform(escalation.agentsAbsent(stored?.ticket, stepsDone: recorded, absent: absent, now: now,
                                            escalationContext), now: now)
        }
        await flush()
    }

    // MARK: - The scheduler's effects

    /// Does what the scheduler asks, in order, and reports the store's
    /// answers back to it.
    func perform(_ effects: [EscalationEffect], now: Date) async {
        for effect in effects {
            switch effect {
            case .page(let page):
                await writePage(page, now: now)
            case .recordSLA(let mark):
                if case .done = await change(mark.ticket.number, mark.command, by: .system, now: now) {
                    await perform(escalation.slaRecorded(mark), now: now)
                }
            case .postToAgents(let ticket, let key, var values, let include):
                let language = agentLanguage(agentsPlace(for: ticket.contact.network).network)
                for (name, text) in include.sorted(by: { $0.key < $1.key }) {
                    values[name] = definitions.agent.render(text, language, values)
                }
                postToAgents(ticket, key, values, now: now)
            case .tellCustomerInConversation(let ticket, let key, let values):
                if let conversation = support.conversationOfTicket[ticket.number], support.conversations[conversation] != nil {
                    tellCustomer(ticket, key, values, lane: .urgent)
                }
            case .countSLA(.warning):
                counters.slaWarnings += 1
            case .countSLA(.breach):
                counters.slaBreaches += 1
            case .noOneToPageEarly(let number, let absent):
                logger.warning("on-duty agent not online and no one else to page early",
                               ["ticket": number, "absent": absent.joined(separator: ",")])
            }
        }
    }

    /// Writes an escalation step's pages with the ticket's `paged` event in
    /// one transaction, hands them to the network on the urgent lane, and
    /// tells the scheduler how it went.
    func writePage(_ page: EscalationPage, now: Date) async {
        let pager = makePager(for: page.network)
        let request = page.request, absent = page.absent
        let result = await change(page.number, .page(note: page.note), by: .system,
                            pages: { pager.pages(for: request, ticket: $0, now: now, absent: absent) },
                            cancelUnsentPages: page.cancelUnsentPages, now: now)
        let outcome: EscalationPageOutcome
        switch result {
        case .done(let commit, _):
            switch page.reason {
            case .due(let whom):
                logger.notice("escalation step paged", ["ticket": page.number, "steps": request.steps
                    .map(String.init).joined(separator: ","), "to": whom.joined(separator: ","),
                    "coalesced": request.coalesced])
            case .agentsAbsent(let reached):
                logger.notice("on-duty agent not online: next escalation step paged at once",
                              ["ticket": page.number, "absent": absent.joined(separator: ","),
                               "paged": reached.joined(separator: ",")])
            case .pageGivenUp:
                break
            }
            await sendPages(commit.pages, now: now, group: .contract)
            outcome = .written(commit.ticket)
        case .failed(let error):
            if case TicketStoreError.escalationStepExists = error { outcome = .stepExists } else { outcome = .failed }
        case .refused, .notFound:
            outcome = .gone
        }
        await perform(escalation.paged(page, outcome: outcome, now: now), now: now)
    }

    /// An urgent line in the agents' channel (or, without one, to the
    /// on-duty agent privately).
    func postToAgents(_ ticket: Ticket, _ key: AgentText, _ values: [String: String], now: Date) {
        let place = agentsPlace(for: ticket.contact.network)
        let text = definitions.agent.render(key, agentLanguage(place.network), values)
        if let channel = place.channel {
            say(ChatAction(network: place.network, recipient: .channel(channel), text: text, lane: .urgent))
        } else if let agent = roster.onDutyAgent(at: now) ?? roster.backup.flatMap({ desk.agents.agent(id: $0) }) {
            say(text, to: address(of: agent, on: place.network), on: place.network, lane: .urgent)
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
            switch record.step {
            // A customer's confirmation is no page: it must not alert
            // (nor go beside the page, ``MatrixNetworkConfiguration/pageFirstHold``).
            case PageDraft.customerConfirmationStep: .priority
            // A command's lines are no pages either: on the lane they would
            // have said directly (``lane(for:)`` classifies `.normal`).
            case PageDraft.customerNoticeStep: (group ?? groups[record.ticket]) == .contract ? .priority : .normal
            case _ where record.isNotice: .normal
            default: (group ?? groups[record.ticket]) == .noContract ? .normal : .urgent
            }
        }, recipient: { pageRecipient(network: $0.network, target: $0.target) }, now: now)
        for action in actions { say(action) }
        // The timer looks at the store's pending pages: a read, and a hop
        // to the store and back, that would stand between the commit and
        // the page. ``flush()`` does it after the step's lines went out.
        pageTimerStale = true
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
        guard !fenced else {  // The lease is lost: the next holder sends them.
            schedule.remove(.pages)
            return
        }
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
        pageTimerStale = false
        guard !fenced else {
            schedule.remove(.pages)
            return
        }
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
        let page = outbox.delivered(id)
        // A notice (a confirmation, a command's answer) is no page: not
        // counted, and it does not move the ticket to `paged`.
        let isNotice = page.map { $0.step >= PageDraft.firstNoticeStep } ?? false
        do {
            try await store.markPageSent(id, at: at)
            if !isNotice { counters.pagesSent += 1 }
        } catch {
            storeFailed(error, "mark page sent")
        }
        if let page, !isNotice {
            // The first page that went out moves a new contract ticket to `paged`.
            // Decided on the ticket as read here: one read, not a second
            // one inside the change (the update's version check decides).
            if let stored = try? await store.ticket(page.ticket), stored.ticket.state == .new, stored.ticket.group == .contract {
                _ = await change(page.ticket, .page(note: "step \(page.step): \(page.target)"), by: .system, now: now,
                                 read: stored)
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
    /// not tried again (stored as due never, with the reason); the scheduler
    /// pages the next escalation step of an unanswered contract ticket at
    /// once and warns the agents' channel.
    func pageGivenUp(_ id: PageID, page: InFlightPage?, attempts: Int, reason: String, now: Date) async {
        counters.pagesGivenUp += 1
        let error = "given up after \(attempts) attempts: \(reason)"
        do {
            try await store.markPageFailed(id, error: error, retryAt: GivenUpPage.due)
        } catch {
            storeFailed(error, "mark page given up")
        }
        // A notice (a customer's confirmation, a command's answer) given up pages no one.
        guard let page, page.step < PageDraft.firstNoticeStep else { return }
        logger.error("page given up", ["page": id.rawValue, "ticket": page.ticket, "to": page.target,
                                       "attempts": attempts, "reason": reason])
        let ticket: Ticket
        do {
            guard let stored = try await store.ticket(page.ticket) else { return }
            ticket = stored.ticket
        } catch {
            storeFailed(error, "read ticket for a given-up page")
            return
        }
        var recorded: Set<Int>?
        if ticket.group == .contract {
            do {
                recorded = try await store.escalationSteps(of: ticket.number)
            } catch {
                storeFailed(error, "escalation steps")
            }
        }
        await perform(escalation.pageGivenUp(ticket, step: page.step, target: page.target, attempts: attempts, reason: reason,
                                       stepsDone: recorded, now: now, escalationContext), now: now)
    }
}
