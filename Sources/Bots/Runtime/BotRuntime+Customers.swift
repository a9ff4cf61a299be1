import Core
import Desk
import Foundation
import KB

// The support bot's actor side: customer conversations, from the first line
// to the ticket and the lines that follow it (SPEC "Customer conversation").
// The conversation table and the decisions on it are the ``SupportBot``
// part's, a PIN check's decisions are ``PINChecks``'; here the runtime
// routes lines to them, does the store reads and writes, runs the PIN
// worker and the retry timers their steps need, and says what they decide.
extension BotRuntime {
    /// What the intake needs, for `identity` at `now`.
    func intakeContext(_ identity: ChatIdentity, now: Date) -> IntakeContext {
        IntakeContext(
            customers: desk.customers, normalizeAccount: { [networks] account in
                networks[identity.network]?.normalized(account, kind: .account) ?? account
            }, knowledgeBase: knowledgeBase.current, texts: definitions.support,
            settings: definitions.supportSettings, now: now)
    }

    /// A line from a customer: a private message, or a support-channel line
    /// addressed to the bot (the conversation then continues privately).
    func customerLine(_ text: String, message: ChatMessage, settings: NetworkBotSettings, fromChannel: String?) async {
        let now = clock.date
        let identity = message.sender
        let key = conversationKey(identity)
        var line = message
        line.text = text
        if holdIfWaiting(line) { return }
        // A described action (`/me …`) is never a command.
        if !message.isAction, let command = Self.command(in: text) {
            let language = support.conversations[key]?.language ?? LanguageDetector.detect(text) ?? settings.defaultLanguage
            if let supportCommand = definitions.supportCommands.command(named: command.name) {
                await customerCommand(supportCommand, arguments: command.arguments, identity: identity, settings: settings,
                                now: now)
            } else {
                say(definitions.support.render(.unknownCommand, language, ["command": "!" + command.name]),
                    to: identity.nick, on: identity.network)
            }
            return
        }
        var fresh = false
        if support.conversations[key] == nil {
            guard admitsConversation(identity, key: key) else { return }
            support.started(await startConversation(identity, firstLine: text, settings: settings, now: now))
            fresh = true
            if let channel = fromChannel {
                say(ChatAction(network: identity.network, recipient: .channel(channel),
                               text: definitions.support.render(.channelRedirect, support.conversations[key]!.language,
                                                                ["nick": identity.nick])))
            }
        }
        support.active(key, nick: identity.nick, now: now, idleTimeout: definitions.supportSettings.idleTimeout)
        guard let conversation = support.conversations[key] else { return }
        switch conversation.phase {
        case .intake:
            await intakeLine(text, isAction: message.isAction, key: key, now: now)
        case .ticket:
            // Back on an open ticket: say so once — unless an agent has it, then
            // the line simply goes to the agent, as in a chat.
            if fresh, let number = conversation.ticketNumber,
               (try? await store.ticket(number))??.ticket.assignee == nil {
                say(definitions.support.render(.existingTicket, conversation.language, ["ticket": number.description]),
                    to: identity.nick, on: identity.network)
                support.acknowledged(key, now: now)
            }
            await followUpLine(message.isAction ? Self.actionMark + text : text, key: key, now: now)
        }
    }

    /// Marks a `/me` line among a ticket's follow-up lines until it is
    /// relayed (U+0001 never reaches the bots in a message's text: the
    /// adapter strips control codes and CTCP framing).
    static var actionMark: String { "\u{1}" }

    /// A new conversation: bound to the customer's open ticket if they have
    /// one (their lines go to it), else a fresh intake. The caller puts it in
    /// the support bot's table (``SupportBot/started(_:)``).
    func startConversation(_ identity: ChatIdentity, firstLine: String, settings: NetworkBotSettings,
                           now: Date) async -> Conversation {
        serials += 1
        counters.conversationsStarted += 1
        var newest: Ticket?
        do {
            newest = try await store.tickets(contact: identity, openOnly: false, limit: 1).first?.ticket
        } catch {
            storeFailed(error, "tickets of a contact")
        }
        return SupportBot.newConversation(serial: serials, key: conversationKey(identity), identity: identity,
                                          firstLine: firstLine, defaultLanguage: settings.defaultLanguage,
                                          newestTicket: newest, now: now) { intakeContext($0, now: now) }
    }

    /// Feeds one line to the intake and carries out what it says.
    func intakeLine(_ text: String, isAction: Bool = false, key: ConversationKey, now: Date) async {
        guard let effects = support.intakeStep(key, { intakeContext($0, now: now) }, {
            $0.receive(text, isAction: isAction, $1)
        }) else { return }
        await perform(effects, key: key, now: now)
    }

    func perform(_ effects: [IntakeEffect], key: ConversationKey, now: Date) async {
        support.journal.touch(key)  // Persisted: the intake changed (a PIN result, a line, `!lang`)
        var keptThisStep = false
        for effect in effects {
            guard let conversation = support.conversations[key] else { return }
            let identity = conversation.identity
            switch effect {
            case .say(let text):
                // The intake's questions: one still queued when the customer
                // answers again is replaced by the newer one.
                var action = ChatAction(network: identity.network, recipient: .user(identity.nick), text: text,
                                        replaceKey: Self.promptKey(conversation))
                // Persisted: on a network that deduplicates texts sent again,
                // the text is kept in the stored conversation (written before
                // the step's lines go out) under its own transaction id until
                // it is reported sent: a crash before it left cannot lose the
                // question — the restart sends it again (``resendPending``).
                if !text.isEmpty, deduplicatesResends(on: identity.network) {
                    action.transactionID = support.keepUntilSent(text, key: key, now: now, newStep: !keptThisStep)
                    keptThisStep = true
                }
                say(action)
            case .verifyPIN(let number, let pin):
                await startPINCheck(key: key, serial: conversation.serial, number: number, pin: pin)
            case .pinFailed(let number):
                counters.pinFailures += 1
                logger.warning("wrong contract PIN", ["customer_number": number, "identity": identity.description])
            case .deflected(let articleID):
                counters.deflected += 1
                logger.info("solved by a KB article, no ticket", ["article": articleID, "identity": identity.description])
                // Persisted, before the conversation's delete (which records
                // the "yes" as handled): a Matrix "yes" delivered again after
                // a crash between the two is counted twice and answered once —
                // a statistic off by one, nothing the customer sees.
                do {
                    try await store.incrementCounter("deflected", key: articleID)
                    try await store.incrementCounter(CounterName.deflectedByDay, key: desk.zone.date(of: now).description)
                } catch {
                    storeFailed(error, "count deflection")
                }
            case .end:
                endConversation(key)
            case .createTicket(let draft):
                await createTicket(draft, key: key, now: now)
            }
        }
    }

    /// Starts the check the intake asked for; the decisions are
    /// ``PINChecks``' (reservation first, busy retries, attack warnings),
    /// the store calls, the worker and the timers are carried out here.
    ///
    /// The hash runs on ``PINCheckWorker``'s own threads, round robin per
    /// conversation, so a flood from one sender delays another customer's
    /// check by at most one hash, and conversations and agent commands
    /// never wait for hashing.
    func startPINCheck(key: ConversationKey, serial: UInt64, number: String, pin: String) async {
        guard let identity = support.conversations[key]?.identity else { return }
        let check = PINChecks.Check(key: key, serial: serial, identity: identity, number: number, pin: pin)
        await perform(pins.requested(check, workerWaiting: pinWorker.statistics.waiting, now: clock.date))
    }

    /// Carries out what ``PINChecks`` decided, feeding the store's answers
    /// back to it; the worker's results and the retries come back later as
    /// inputs of their own.
    func perform(_ effects: [PINChecks.Effect]) async {
        for effect in effects {
            switch effect {
            case .reserve(let check):
                // Persisted before the step's snapshot records the PIN's
                // message: one delivered again after a crash between the two
                // is checked again — one more attempt counted (the first stays
                // wrong, never finished: fail closed) and one answer. Recorded
                // here instead, it would be skipped and never answered.
                var reservation: PINReservation?
                do {
                    reservation = try await store.reservePINCheck(customerNumber: check.number,
                                                                  identity: check.identity, at: clock.date,
                                                                  policy: pins.policy)
                } catch {
                    storeFailed(error, "reserve PIN check")
                }
                await perform(pins.reservation(reservation, for: check, now: clock.date))
            case .hash(let check, let id):
                let worker = pinWorker
                let job = PINCheckJob(customers: desk.customers, number: check.number, pin: check.pin)
                serials += 1
                let work = serials
                backgroundWork[work] = Task {
                    let ok: Bool?
                    do {
                        ok = try await worker.check(sender: check.key, job)
                    } catch {
                        ok = nil
                    }
                    await self.pinCheckFinished(check, reservation: id, ok: ok)
                    self.backgroundWork.removeValue(forKey: work)
                }
            case .retry(let check, let retryAt):
                let clock = self.clock
                serials += 1
                let work = serials
                backgroundWork[work] = Task {
                    try? await clock.sleep(until: WallInstant(retryAt), tolerance: nil)
                    await self.retryPINCheck(check)
                    self.backgroundWork.removeValue(forKey: work)
                }
            case .finish(let id, let outcome):
                do {
                    try await store.finishPINCheck(id, outcome: outcome, at: clock.date)
                } catch {
                    // Unfinished, the reservation stays counted as wrong: safe.
                    storeFailed(error, "finish PIN check")
                }
            case .refused(let check, let reason):
                counters.pinChecksRefused += 1
                logger.notice("PIN check refused", ["customer_number": check.number,
                                                    "identity": check.identity.description, "reason": reason])
            case .checked(let check, let ok):
                await pinChecked(check, ok: ok)
            case .notChecked(let check, let refusal):
                await pinNotChecked(check, refusal: refusal)
            case .warnAgents(let check, let warning):
                counters.pinAttackWarnings += 1
                logger.warning("PIN guessing against a customer number", [
                    "customer_number": check.number, "wrong": warning.count, "senders": warning.senderCount])
                let place = agentsPlace(for: check.identity.network)
                guard let channel = place.channel else { continue }
                say(ChatAction(network: place.network, recipient: .channel(channel),
                               text: definitions.agent.render(.pinAttack, agentLanguage(place.network),
                                                              warning.textValues),
                               lane: .urgent))
            }
        }
    }

    /// A PIN check's result, as an input of its own (it waits for its turn
    /// like a chat event).
    func pinCheckFinished(_ check: PINChecks.Check, reservation: PINReservationID, ok: Bool?) async {
        await enterTurn()
        await perform(pins.hashed(check, reservation: reservation, ok: ok, now: clock.date))
        await flush()
        await leaveTurnAfterDeliveries()
    }

    /// A check refused as busy, tried again as an input of its own — if the
    /// conversation still waits for it.
    func retryPINCheck(_ started: PINChecks.Check) async {
        await enterTurn()
        var check = started
        check.key = conversationKey(started: started.key, serial: started.serial)
        var verifying = false
        if let conversation = support.conversations[check.key], conversation.serial == check.serial,
           case .intake(let intake) = conversation.phase {
            verifying = intake.verifying
            check.identity = conversation.identity  // Counted against who they are now.
        }
        await perform(pins.retryDue(check, stillVerifying: verifying, workerWaiting: pinWorker.statistics.waiting,
                                    now: clock.date))
        await flush()
        await leaveTurnAfterDeliveries()
    }

    /// Replaces the PIN budgets (tests; the standard policy otherwise).
    func usePINPolicy(_ policy: PINAttemptPolicy) {
        pins.policy = policy
    }

    /// Hashes a job's PIN against the customer file (PBKDF2): what the
    /// worker runs unless a test injected its own hash.
    static func hashPIN(_ job: PINCheckJob) -> Bool {
        job.customers.verifyPIN(number: job.number, pin: job.pin)
    }

    /// Replaces the worker's hash (tests hold a check with a gate to see
    /// what waits behind it); the old worker's waiting checks are withdrawn.
    func usePINHash(threads: Int = 1, _ hash: @escaping PINHashFunction) {
        pinWorker.shutDown()
        pinWorker = PINWorker(threads: threads, totalLimit: PINChecks.queueLimit, hash: hash)
    }

    /// The conversation a PIN check was started for: the customer may have
    /// changed nick or logged in meanwhile, so it is found by its serial.
    func conversationKey(started: ConversationKey, serial: UInt64) -> ConversationKey {
        support.key(started: started, serial: serial)
    }

    /// Tells the intake the PIN was right or wrong, then replays the lines
    /// held during the check.
    func pinChecked(_ check: PINChecks.Check, ok: Bool) async {
        let now = clock.date
        let key = conversationKey(started: check.key, serial: check.serial)
        guard let effects = support.intakeStep(key, serial: check.serial, { intakeContext($0, now: now) }, {
            $0.pinChecked(ok: ok, number: check.number, $1)
        }) else { return }
        await perform(effects, key: key, now: now)
        await replayHeld(key, serial: check.serial)
    }

    /// No PIN was hashed: a budget refused it, or (`refusal` nil) the store
    /// could not record the reservation.
    func pinNotChecked(_ check: PINChecks.Check, refusal: PINRefusal?) async {
        let now = clock.date
        let key = conversationKey(started: check.key, serial: check.serial)
        guard let effects = support.intakeStep(key, serial: check.serial, { intakeContext($0, now: now) }, {
            intake, context in
            refusal.map { intake.pinRefused($0, number: check.number, context) }
                ?? intake.pinCheckUnavailable(number: check.number, context)
        }) else { return }
        await perform(effects, key: key, now: now)
    }

    // MARK: - The ticket

    /// Stores the ticket ``TicketCreation`` plans with its first pages (or
    /// announcement) in one transaction; only after the commit is the
    /// customer told its number (and the escalation started).
    func createTicket(_ draft: TicketDraft, key: ConversationKey, now: Date) async {
        guard let conversation = support.conversations[key] else { return }
        let identity = conversation.identity
        let pager = makePager(for: identity.network)
        // The plan reads the desk and the roster in place: a capture list
        // would copy both whole (every field retained and released) on the
        // page's path.
        let creation = TicketCreation(draft: draft, identity: identity, now: now, queue: tickets.queue,
                                      pager: pager) { provisional in
            desk.escalation.plan(for: provisional, stepsDone: [], now: now, roster: roster, tiers: desk.tiers,
                                 calendar: desk.calendar)
        }
        let commit: TicketCommit
        // Persisted: the step's messages are recorded as handled with the
        // ticket (a crash before the conversation's snapshot then neither
        // loses the ticket nor answers the message again).
        var new = creation.new
        new.handledMessages = handledMessagesToRecord()
        // Persisted: where the step's message is recorded with the ticket
        // (a network that delivers it again after a crash: Matrix), the
        // customer's confirmation is in the outbox too, in the same
        // transaction — a crash before its send cannot lose it, and it goes
        // out once (its delivery id is its outbox id: the Matrix txnId).
        let confirmation = new.handledMessages.isEmpty ? nil
            : confirmationPage(creation, identity: identity, language: conversation.language, now: now)
        let makePages = confirmation.map { confirm in
            { @Sendable number in creation.makePages(number) + [confirm(number)] }
        } ?? creation.makePages
        // Persisted: the conversation as it stands once the ticket exists
        // (following it, with its offer timer) is saved in the creation's
        // transaction: a crash right after the commit restores it as the
        // ticket's follow-up (it neither asks again nor makes a second
        // ticket), and the step writes it no more (one commit fewer in the
        // page's window). Encoded on the store's thread with the number.
        let offerAt = new.group == .noContract ? now.addingTimeInterval(desk.messageOfferDelay) : nil
        let following = support.storedAfterCreating(key, group: new.group, offerAt: offerAt)
        let expiry = definitions.supportSettings.conversationExpiry
        let snapshot = following.map { following in
            { @Sendable (number: TicketNumber) -> ConversationSnapshot? in
                let stored = following.following(number)
                guard let state = try? stored.encoded() else { return nil }  // Saved by the step instead
                return stored.snapshot(state: state, now: now, expiry: expiry)
            }
        }
        do {
            // Holding the lease, the first pages are claimed in the creation's
            // own transaction: the page path has that one commit only.
            let claim = fenced ? nil : pageFence.map { LeaseClaim(lease: $0.lease, token: $0.token) }
            HopTrace.mark(.storeCall)
            commit = try await store.createTicket(new, claimingPagesFor: claim, makePages: makePages,
                                                  conversation: snapshot)
            HopTrace.mark(.commitDone)
            recorded(new.handledMessages)
        } catch {
            storeFailed(error, "create ticket")
            guard let effects = support.intakeStep(key, { intakeContext($0, now: now) }, {
                $0.creationFailed($1)
            }) else { return }
            await perform(effects, key: key, now: now)
            return
        }

        // Committed: from here on the number may be told.
        if commit.pageClaim == .claimed { claimedAtCreation.formUnion(commit.pages.map(\.id.rawValue)) }
        let ticket = commit.ticket
        tickets.sync(with: ticket)
        if ticket.group == .contract { counters.ticketsCreatedContract += 1 } else { counters.ticketsCreatedNoContract += 1 }
        support.ticketCreated(ticket.number, group: ticket.group, in: conversation, offerAt: offerAt)
        if let saved = commit.conversation, let following {
            support.journal.savedWithTicket(key, following.following(ticket.number), state: saved.state)
        }
        // Only the tiers are captured: `[desk]` copied the whole desk
        // configuration (every field retained and released) on the page's path.
        let tiers = desk.tiers
        let told = creation.told(ticket, queuePosition: tickets.queue.position(of: ticket.number),
                                 language: conversation.language, texts: definitions.support, zone: desk.zone,
                                 nick: { nick(of: $0) }, tierName: { tiers.tier($0)?.name })
        if confirmation == nil { tellCustomer(ticket, told.text, told.values, lane: .urgent) }
        if let line = told.agents, let channel = pager.channel {
            say(ChatAction(network: pager.network, recipient: .channel(channel), text: line))
        }
        // The customer is told first, then the pages follow in the same
        // batch on the same lane: a crash between the two loses nothing (the
        // pages are in the store's outbox and go out at the next start).
        await sendPages(commit.pages, now: now, group: ticket.group)
        // A contract ticket's lines go to the network now: its escalation
        // and SLA deadlines and the log line are not on the page's path.
        if ticket.group == .contract && !commit.pages.isEmpty { await handOverPagesNow() }
        if ticket.group == .contract {
            escalation.ticketCreated(ticket, plan: creation.plan, request: creation.request, network: pager.network,
                                     now: now, escalationContext)
        }
        logger.notice("ticket created", ["ticket": ticket.number, "priority": ticket.priority, "group": ticket.group.rawValue,
                                         "customer": ticket.customerName, "contact": identity.description,
                                         "pages": commit.pages.count])
    }

    /// The customer's confirmation of `creation`'s ticket as an outbox
    /// entry (``PageDraft/customerConfirmationStep``), made inside the
    /// creation's transaction once the number is known: the text the
    /// customer is told otherwise (``TicketCreation/told(_:queuePosition:language:texts:zone:nick:tierName:)``
    /// with the foreseen queue position).
    func confirmationPage(_ creation: TicketCreation, identity: ChatIdentity, language: Language, now: Date)
        -> @Sendable (TicketNumber) -> PageDraft {
        let texts = definitions.support
        let desk = desk
        let provisional = creation.new.ticket(number: TicketNumber(rawValue: 0))
        return { number in
            var ticket = provisional
            ticket.number = number
            let told = creation.told(ticket, queuePosition: nil, language: language, texts: texts, zone: desk.zone,
                                     nick: { desk.agents.agent(id: $0)?.nick ?? $0 },
                                     tierName: { desk.tiers.tier($0)?.name })
            return PageDraft(step: PageDraft.customerConfirmationStep, network: identity.network, target: identity.nick,
                             targetKind: .direct, text: texts.render(told.text, language, told.values), createdAt: now)
        }
    }

    /// Builds pages for tickets of customers on `network`.
    func makePager(for network: String) -> Pager {
        let place = agentsPlace(for: network)
        var nicks: [String: String] = [:]
        for agent in desk.agents.all { nicks[agent.id] = address(of: agent, on: place.network) }
        return Pager(texts: definitions.agent, language: agentLanguage(place.network), network: place.network,
                     channel: place.channel, nicks: nicks)
    }

    // MARK: - After the ticket

    /// A customer's line on their ticket: attached to it (an audit event)
    /// and relayed to the assigned agent; lines in a burst go together.
    func followUpLine(_ text: String, key: ConversationKey, now: Date) async {
        guard case .ticket(let followUp) = support.conversations[key]?.phase else { return }
        let stored: StoredTicket?
        do {
            stored = try await store.ticket(followUp.number)
        } catch {
            storeFailed(error, "read ticket")
            return
        }
        guard let stored, stored.ticket.state.isOpen || stored.ticket.state == .resolved else {
            // The ticket is over: this line starts a new request.
            support.ticketOver(key) { intakeContext($0, now: now) }
            await intakeLine(text, key: key, now: now)
            return
        }
        guard let lines = support.followUpLine(text, key: key, now: now,
                                               window: definitions.supportSettings.relayBurstWindow) else { return }
        await deliverToTicket(lines, key: key, now: now)
    }

    /// The lines held back in a burst, now.
    func flushBurst(_ key: ConversationKey, now: Date) async {
        guard let lines = support.burstDue(key, now: now, window: definitions.supportSettings.relayBurstWindow) else {
            return
        }
        await deliverToTicket(lines, key: key, now: now)
    }

    func deliverToTicket(_ lines: [String], key: ConversationKey, now: Date) async {
        guard let conversation = support.conversations[key], case .ticket(let followUp) = conversation.phase else { return }
        let limit = definitions.supportSettings.descriptionLimit
        var body = ""
        // Which of the body's lines were `/me` actions (stored as "* text").
        var actions: [Bool] = []
        for raw in lines {
            let isAction = raw.hasPrefix(Self.actionMark)
            let cleaned = Sanitizer.inline(isAction ? String(raw.dropFirst(Self.actionMark.count)) : raw, limit: limit)
            guard !cleaned.isEmpty else { continue }
            let line = isAction ? "* " + cleaned : cleaned
            let addition = body.isEmpty ? line : "\n" + line
            if body.utf8.count + addition.utf8.count > limit { break }
            body += addition
            actions.append(isAction)
        }
        guard !body.isEmpty else { return }
        let owner: Actor
        do {
            guard let stored = try await store.ticket(followUp.number) else { return }
            owner = .customer(stored.ticket.contact.description)
        } catch {
            storeFailed(error, "read ticket")
            return
        }
        // The relay to the agent and the customer's acknowledgement go with
        // the update: through the outbox where the step records the line
        // as handled (Matrix, which delivers it again after a crash) or the
        // lines were held in a burst on such a network (their messages were
        // recorded when held, and the update consumes them), said directly
        // after the commit otherwise (IRC: a crash right after the commit
        // may lose the relay, never repeat it).
        let repromptInterval = definitions.supportSettings.repromptInterval
        // Persisted: the conversation as it stands after the attach — the
        // burst's held lines gone — is saved in the update's transaction, so
        // a crash right after the commit cannot attach them again at the
        // restart (on any network).
        // (The journal is told the store holds it, and told otherwise if the
        // update does not commit.)
        let expiry = definitions.supportSettings.conversationExpiry
        let conversationAfter = { (ticket: Ticket) -> ConversationSnapshot? in
            guard let stored = self.support.storedAfterAttaching(key, toAgent: ticket.assignee != nil, now: now,
                                                                 repromptInterval: repromptInterval),
                  let state = try? stored.encoded() else { return nil }
            self.support.journal.holds(key, state: state)
            return stored.snapshot(state: state, now: now, expiry: expiry)
        }
        let relayAndReply = { [body, actions] (ticket: Ticket, _: Ticket) -> [CommittedLine] in
            var said: [CommittedLine] = []
            if let assignee = ticket.assignee {
                let place = self.agentsPlace(for: ticket.contact.network)
                let agentLanguage = self.agentLanguage(place.network)
                let shown = body.split(separator: "\n").map(String.init)
                var relayed = zip(shown.prefix(12), actions).map { line, isAction in
                    isAction
                        ? self.definitions.agent.render(.relayActionFromCustomer, agentLanguage, [
                            "ticket": ticket.number.description, "customer": ticket.customerName,
                            "text": String(line.dropFirst(2))])
                        : self.definitions.agent.render(.relayFromCustomer, agentLanguage,
                                                        ["ticket": ticket.number.description,
                                                         "customer": ticket.customerName, "text": line])
                }
                if shown.count > 12 {
                    relayed.append(self.definitions.agent.render(.relayFromCustomer, agentLanguage, [
                        "ticket": ticket.number.description, "customer": ticket.customerName,
                        "text": "… (+\(shown.count - 12), !show \(ticket.number.rawValue))"]))
                }
                said.append(CommittedLine(action: ChatAction(network: place.network, recipient: .user(
                    self.address(ofAgent: assignee, on: place.network)), text: relayed.joined(separator: "\n")),
                                          step: PageDraft.commandAnswerStep))
            }
            let reply = self.support.attachedReply(key, toAgent: ticket.assignee != nil, now: now,
                                                   repromptInterval: repromptInterval)
            var values = ["ticket": ticket.number.description]
            if let assignee = ticket.assignee { values["agent"] = self.nick(of: assignee) }
            let text: SupportText? = switch reply {
            case .relayedToAgent?: .relayedToAgent
            case .messageAttached?: .messageAttached
            case .addedToTicket?: .addedToTicket
            case nil: nil
            }
            if let text {
                said.append(CommittedLine(action: ChatAction(
                    network: conversation.identity.network, recipient: .user(conversation.identity.nick),
                    text: self.definitions.support.render(text, conversation.language, values)),
                                          step: PageDraft.customerNoticeStep))
            }
            return said
        }
        switch await change(followUp.number, .customerMessage(body), by: owner, now: now,
                            lines: relayAndReply,
                            linesThroughOutbox: deduplicatesResends(on: conversation.identity.network),
                            conversation: conversationAfter) {
        case .done(let commit, _):
            // The conversation remembers what it was told (said above).
            _ = support.attached(key, toAgent: commit.ticket.assignee != nil, now: now, repromptInterval: repromptInterval)
        case .refused(let error):
            support.journal.saveFailed(key)
            logger.warning("customer message not attached", ["ticket": followUp.number, "reason": error])
        case .notFound, .failed:
            support.journal.saveFailed(key)
        }
    }

    /// A waiting non-contract customer is offered to leave a message.
    func offerMessage(_ key: ConversationKey, now: Date) async {
        guard let conversation = support.conversations[key], let followUp = support.offerPending(key) else { return }
        do {
            guard let stored = try await store.ticket(followUp.number), stored.ticket.state.isOpen,
                  stored.ticket.assignee == nil else { return }
        } catch {
            storeFailed(error, "read ticket")
            return
        }
        support.offerMade(key)
        let minutes = Int((desk.messageOfferDelay / 60).rounded())
        say(definitions.support.render(.offerMessage, conversation.language,
                                       ["ticket": followUp.number.description, "minutes": String(minutes)]),
            to: conversation.identity.nick, on: conversation.identity.network)
    }

    /// A conversation without a message for the idle time ends: politely
    /// while questions are open, silently once the ticket exists (it stays
    /// open, and a later line finds it again).
    func idleCheck(_ key: ConversationKey, now: Date) async {
        switch support.idleDue(key, now: now, idleTimeout: definitions.supportSettings.idleTimeout) {
        case nil, .stillActive?:
            return
        case .endIntake(let identity, let language)?:
            say(definitions.support.render(.idleTimeout, language), to: identity.nick, on: identity.network)
        case .endFollowUp?:
            await flushBurst(key, now: now)
        }
        endConversation(key)
    }

    // MARK: - Customer commands

    func customerCommand(_ command: SupportCommand, arguments: String, identity: ChatIdentity,
                         settings: NetworkBotSettings, now: Date) async {
        let key = conversationKey(identity)
        let language = support.conversations[key]?.language ?? LanguageDetector.detect(arguments) ?? settings.defaultLanguage
        let texts = definitions.support
        func reply(_ text: String) { say(text, to: identity.nick, on: identity.network) }
        switch command {
        case .help:
            var lines = [texts.render(.helpIntro, language)]
            for definition in definitions.supportCommands.all {
                lines.append(texts.render(.helpLine, language, ["command": definition.display,
                                                                "usage": definition.usage(language),
                                                                "help": definition.help(language)])
                    .replacingOccurrences(of: "  ", with: " "))
            }
            lines.append(texts.render(.pinPolicy, language, [
                "attempts": String(pins.policy.wrongPerNumber), "minutes": String(Int(pins.policy.maxDelay / 60))]))
            reply(lines.joined(separator: "\n"))
        case .status:
            await reply(statusText(identity: identity, key: key, language: language))
        case .cancel:
            await cancelByCustomer(arguments: arguments, identity: identity, key: key, language: language, now: now)
        case .lang:
            guard let chosen = Language(word: arguments) else {
                reply(texts.render(.languageUsage, language))
                return
            }
            if support.conversations[key] == nil {
                guard admitsConversation(identity, key: key) else { return }
                support.started(await startConversation(identity, firstLine: "", settings: settings, now: now),
                                idleAt: now.addingTimeInterval(definitions.supportSettings.idleTimeout))
            }
            support.languageChosen(key, chosen)
            reply(texts.render(.languageSet, chosen))
            if let effects = support.intakeStep(key, { intakeContext($0, now: now) }, { $0.setLanguage(chosen, $1) }) {
                await perform(effects, key: key, now: now)
            }
        }
    }

    func statusText(identity: ChatIdentity, key: ConversationKey, language: Language) async -> String {
        var own: [Ticket] = []
        do {
            own = try await store.tickets(contact: identity, openOnly: true, limit: 10).map(\.ticket)
            if let bound = support.conversations[key]?.ticketNumber, !own.contains(where: { $0.number == bound }),
               let stored = try await store.ticket(bound), stored.ticket.state.isOpen {
                own.insert(stored.ticket, at: 0)
            }
        } catch {
            storeFailed(error, "tickets of a contact")
        }
        let texts = definitions.support
        guard !own.isEmpty else { return texts.render(.statusNone, language) }
        var lines = [texts.render(.statusHeader, language)]
        for ticket in own {
            var values = Self.ticketValues(ticket)
            if let assignee = ticket.assignee {
                values["agent"] = nick(of: assignee)
                lines.append(texts.render(.statusAssigned, language, values))
            } else {
                values["position"] = tickets.queue.position(of: ticket.number).map(String.init) ?? "–"
                lines.append(texts.render(.statusQueued, language, values))
            }
        }
        return lines.joined(separator: "\n")
    }

    func cancelByCustomer(arguments: String, identity: ChatIdentity, key: ConversationKey, language: Language,
                          now: Date) async {
        let texts = definitions.support
        if let conversation = support.conversations[key], case .intake = conversation.phase {
            say(texts.render(.conversationCancelled, language), to: identity.nick, on: identity.network)
            endConversation(key)
            return
        }
        // Only the customer's own tickets can be named.
        var own: [Ticket] = []
        do {
            own = try await store.tickets(contact: identity, openOnly: true, limit: 20).map(\.ticket)
            if let bound = support.conversations[key]?.ticketNumber, !own.contains(where: { $0.number == bound }),
               let stored = try await store.ticket(bound), stored.ticket.state.isOpen {
                own.insert(stored.ticket, at: 0)
            }
        } catch {
            storeFailed(error, "tickets of a contact")
        }
        let chosen = Self.ticketToCancel(named: TicketNumber(text: arguments),
                                         bound: support.conversations[key]?.ticketNumber, among: own)
        guard let ticket = chosen else {
            say(texts.render(.nothingToCancel, language), to: identity.nick, on: identity.network)
            return
        }
        // The customer is told, then the agent who holds it (or the agents'
        // channel): with the change, through the outbox where the step
        // records the `!cancel` (Matrix), like an agent command's lines.
        let cancelledLines = { (cancelled: Ticket, _: Ticket) -> [CommittedLine] in
            var lines = [CommittedLine(action: ChatAction(network: identity.network, recipient: .user(identity.nick),
                                                          text: texts.render(.ticketCancelled, language,
                                                                             ["ticket": cancelled.number.description])),
                                       step: PageDraft.customerNoticeStep)]
            let place = self.agentsPlace(for: cancelled.contact.network)
            let note = self.definitions.agent.render(.customerCancelled, self.agentLanguage(place.network),
                                                     Self.ticketValues(cancelled))
            if let assignee = cancelled.assignee {
                lines.append(CommittedLine(action: ChatAction(network: place.network, recipient: .user(
                    self.address(ofAgent: assignee, on: place.network)), text: note), step: PageDraft.commandAnswerStep))
            } else if let channel = place.channel {
                lines.append(CommittedLine(action: ChatAction(network: place.network, recipient: .channel(channel),
                                                              text: note), step: PageDraft.commandAnswerStep))
            }
            return lines
        }
        switch await change(ticket.number, .cancel(reason: "withdrawn by the customer"),
                            by: .customer(ticket.contact.description), cancelUnsentPages: true, now: now,
                            lines: cancelledLines) {
        case .done(let commit, _):
            let cancelled = commit.ticket
            logger.notice("ticket withdrawn by the customer", ["ticket": cancelled.number, "contact": identity.description])
            forgetTimers(of: cancelled.number)
            endConversation(key)
        case .refused, .notFound:
            say(texts.render(.nothingToCancel, language), to: identity.nick, on: identity.network)
        case .failed:
            say(definitions.support.render(.storeFailed, language), to: identity.nick, on: identity.network)
        }
    }

    /// The ticket `!cancel` withdraws: the one named (if it is the
    /// customer's own), else the one the conversation is bound to, else the
    /// newest open one.
    static func ticketToCancel(named: TicketNumber?, bound: TicketNumber?, among own: [Ticket]) -> Ticket? {
        if let named { return own.first { $0.number == named } }
        if let bound, let match = own.first(where: { $0.number == bound }) { return match }
        return own.first
    }

    /// Drops the escalation and SLA timers of a ticket that no longer needs them.
    func forgetTimers(of number: TicketNumber) {
        escalation.forget(number)
    }
}
