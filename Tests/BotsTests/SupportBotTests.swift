@testable import Bots
import Core
import Desk
import Foundation
import KB
import Testing

/// The support bot's conversation table on its own: events in, effects out,
/// on a `ManualClock`, with no runtime, store or network. Names fold to
/// lower case, as a network adapter's rule would.
@Suite struct SupportBotTests {
    let clock = ManualClock()
    let knowledgeBase: KnowledgeBase

    init() async throws { knowledgeBase = try await shippedKB.value().current }
    let fold: (String, ChatNameKind) -> String = { name, _ in name.lowercased() }

    func key(_ nick: String, account: String? = nil) -> Bots.ConversationKey {
        ConversationKey(ChatIdentity(network: "demo", nick: nick, account: account), normalize: fold)
    }

    /// A conversation following ticket `number`, with `nick` (and `account`).
    func onTicket(_ number: Int64, nick: String, account: String? = nil, serial: UInt64 = 1) -> Conversation {
        Conversation(serial: serial, key: key(nick, account: account),
                     identity: ChatIdentity(network: "demo", nick: nick, account: account), language: .en,
                     phase: .ticket(FollowUp(number: TicketNumber(rawValue: number), group: .noContract)),
                     lastActivity: clock.date)
    }

    func line(_ text: String, from nick: String) -> ChatMessage {
        ChatMessage(sender: ChatIdentity(network: "demo", nick: nick), place: .direct, text: text,
                    addressedToBot: true, time: clock.date)
    }

    @Test func aNickChangeMovesTheConversationWithItsTicketAndTimers() {
        var part = SupportBot()
        part.started(onTicket(7, nick: "Jan"))
        part.timers.set(.offer(key("jan")), at: clock.date.addingTimeInterval(300))
        part.timers.set(.idle(key("jan")), at: clock.date.addingTimeInterval(900))
        part.journal.touch(key("jan"))  // as the runtime does for each line
        _ = part.writes(now: clock.date, expiry: 86_400, logger: .disabled)

        let effects = part.nickChanged(network: "demo", from: "Jan", to: "Jan_away", normalize: fold)

        #expect(effects.isEmpty, "nothing ended")
        #expect(part.conversations[key("jan")] == nil)
        #expect(part.conversations[key("jan_away")]?.identity.nick == "Jan_away")
        #expect(part.conversationOfTicket[TicketNumber(rawValue: 7)] == key("jan_away"))
        #expect(part.timers.deadline(of: .offer(key("jan_away"))) == clock.date.addingTimeInterval(300))
        #expect(part.timers.deadline(of: .offer(key("jan"))) == nil)
        let writes = part.writes(now: clock.date, expiry: 86_400, logger: .disabled)
        #expect(writes.count == 2, "the old key deleted, the new one saved")
    }

    @Test func aNickChangeOntoAnotherConversationEndsThatOneAndWithdrawsItsPINChecks() {
        var part = SupportBot()
        part.started(onTicket(7, nick: "jan", serial: 1))
        part.started(onTicket(8, nick: "jan_", serial: 2))

        let effects = part.nickChanged(network: "demo", from: "jan", to: "JAN_", normalize: fold)

        #expect(effects == [.cancelPINChecks(key("jan_"))])
        #expect(part.conversations.count == 1)
        #expect(part.conversations[key("jan_")]?.serial == 1, "the moving conversation survives")
        #expect(part.conversationOfTicket[TicketNumber(rawValue: 8)] == nil)
        #expect(part.key(started: key("jan"), serial: 1) == key("jan_"), "a late PIN result finds it by serial")
    }

    @Test func aLogoutEndsTheAccountsConversationAndALoginMovesTheNicksUnderIt() {
        var part = SupportBot()
        part.started(onTicket(7, nick: "alice", account: "alice"))
        part.started(onTicket(8, nick: "bob"))

        let loggedOut = part.accountChanged(network: "demo", nick: "ALICE", account: nil, normalize: fold)
        let loggedIn = part.accountChanged(network: "demo", nick: "bob", account: "Bobby", normalize: fold)

        #expect(loggedOut == [.cancelPINChecks(key("alice", account: "alice"))])
        #expect(loggedIn.isEmpty)

        #expect(Set(part.conversations.keys) == [key("bob", account: "bobby")])
        #expect(part.conversations[key("bob", account: "bobby")]?.identity.account == "Bobby")
        #expect(part.conversationOfTicket == [TicketNumber(rawValue: 8): key("bob", account: "bobby")])
    }

    @Test func pastTheBoundANewCustomerIsToldBusyOnceAndTheBoundLoggedOnce() throws {
        var settings = shippedDefinitions.supportSettings
        settings.conversationsPerNetwork = 2
        var part = SupportBot()
        func admit(_ nick: String) -> Admission { part.admit(key(nick), settings: settings) }
        #expect(admit("a") == .admitted)
        part.started(onTicket(1, nick: "a"))
        part.started(onTicket(2, nick: "b", serial: 2))

        let first = admit("c"), again = admit("c"), other = admit("d")
        #expect(first == .refused(bound: "network:demo", newlyHit: true, tellBusy: true))
        #expect(again == .refused(bound: "network:demo", newlyHit: false, tellBusy: false), "told once")
        #expect(other == .refused(bound: "network:demo", newlyHit: false, tellBusy: true))

        _ = part.end(key("a"))
        let afterEnd = admit("c")
        #expect(afterEnd == .admitted)
        part.started(onTicket(3, nick: "c", serial: 3))
        let fullAgain = admit("d")
        #expect(fullAgain == .refused(bound: "network:demo", newlyHit: true, tellBusy: true),
                "cleared in between, so told and logged again")
    }

    @Test func linesWaitBehindHeldOnesAndComeBackUnderTheCurrentNick() throws {
        var part = SupportBot()
        var conversation = onTicket(7, nick: "jan")
        conversation.held = [line("first", from: "jan")]
        part.started(conversation)

        let kept = part.hold(line("second\nthird", from: "jan"), lines: ["second", "third"], key: key("jan"))
        let stranger = part.hold(line("x", from: "eva"), lines: ["x"], key: key("eva"))
        #expect(kept)
        #expect(!stranger, "no conversation, nothing held")
        _ = part.nickChanged(network: "demo", from: "jan", to: "jan2", normalize: fold)

        var replayed: [String] = []
        part.replaying = key("jan2")
        let during = part.hold(line("during", from: "jan2"), lines: ["during"], key: key("jan2"))
        #expect(!during, "a line written while its own held lines are replayed is not held behind them")
        while let next = part.nextHeld(key("jan2"), serial: 1) {
            #expect(next.sender.nick == "jan2")
            replayed.append(next.text)
        }
        #expect(replayed == ["first", "second", "third"])
        part.conversations[key("jan2")]?.held = [line("later", from: "jan2")]
        let otherSerial = part.nextHeld(key("jan2"), serial: 99)
        #expect(otherSerial == nil, "a result for another conversation replays nothing")
    }

    @Test func dueTimersComeInTimeOrderAndMarkTheirConversationsForWriting() throws {
        var part = SupportBot()
        part.started(onTicket(7, nick: "jan"))
        part.started(onTicket(8, nick: "eva", serial: 2))
        part.journal.touch(key("jan"))
        part.journal.touch(key("eva"))
        let saved = part.writes(now: clock.date, expiry: 86_400, logger: .disabled)
        #expect(saved.count == 2)
        _ = part.writes(now: clock.date, expiry: 86_400, logger: .disabled)
        part.timers.set(.idle(key("jan")), at: clock.date.addingTimeInterval(120))
        part.timers.set(.offer(key("eva")), at: clock.date.addingTimeInterval(60))
        part.timers.set(.relay(key("jan")), at: clock.date.addingTimeInterval(600))
        let firstDeadline = part.earliest()
        #expect(firstDeadline == clock.date.addingTimeInterval(60))

        clock.advance(by: .seconds(120))
        let due = part.popDue(clock.date).map(\.timer)

        #expect(due == [.offer(key("eva")), .idle(key("jan"))])
        let next = part.earliest()
        #expect(next == clock.date.addingTimeInterval(480))
        #expect(!part.journal.isEmpty, "both conversations may change")
        _ = part.end(key("jan"))
        let none = part.earliest()
        #expect(none == nil, "an ended conversation's timers go with it")
        let writes = part.writes(now: clock.date, expiry: 86_400, logger: .disabled)
        #expect(writes.count == 1, "eva's conversation is as stored: not written again")
        #expect(writes.contains { if case .delete(let k) = $0 { k == key("jan") } else { false } })
    }

    // MARK: - Steps of one conversation

    func context(_ identity: ChatIdentity) throws -> IntakeContext {
        IntakeContext(customers: try deskFixture().customers, normalizeAccount: { $0.lowercased() },
                      knowledgeBase: knowledgeBase, texts: shippedDefinitions.support,
                      settings: shippedDefinitions.supportSettings, now: clock.date)
    }

    @Test func linesOnTheTicketWithinTheBurstWindowGoTogetherWhenItsTimerIsDue() {
        var part = SupportBot()
        part.started(onTicket(7, nick: "jan"))

        let first = part.followUpLine("printer on fire", key: key("jan"), now: clock.date, window: 10)
        clock.advance(by: .seconds(2))
        let second = part.followUpLine("second floor", key: key("jan"), now: clock.date, window: 10)
        clock.advance(by: .seconds(1))
        let third = part.followUpLine("please hurry", key: key("jan"), now: clock.date, window: 10)

        #expect(first == ["printer on fire"], "the first line goes at once")
        #expect(second == nil && third == nil, "the next ones wait for the burst's end")
        #expect(part.timers.deadline(of: .relay(key("jan"))) == clock.date.addingTimeInterval(7))
        clock.advance(by: .seconds(7))
        let due = part.popDue(clock.date).map(\.timer)
        #expect(due == [.relay(key("jan"))])
        let burst = part.burstDue(key("jan"), now: clock.date, window: 10)
        #expect(burst == ["second floor", "please hurry"])
        let nothing = part.burstDue(key("jan"), now: clock.date, window: 10)
        #expect(nothing == nil)
    }

    @Test func anIdleTimerWaitsForTheLastLineThenEndsTheConversation() {
        var part = SupportBot()
        part.started(onTicket(7, nick: "jan"))
        clock.advance(by: .seconds(500))
        part.active(key("jan"), nick: "Jan", now: clock.date, idleTimeout: 900)
        clock.advance(by: .seconds(600))

        let early = part.idleDue(key("jan"), now: clock.date, idleTimeout: 900)
        #expect(early == .stillActive)
        #expect(part.timers.deadline(of: .idle(key("jan"))) == clock.date.addingTimeInterval(300))
        clock.advance(by: .seconds(300))
        let late = part.idleDue(key("jan"), now: clock.date, idleTimeout: 900)
        #expect(late == .endFollowUp)
        #expect(part.conversations[key("jan")]?.identity.nick == "Jan")
    }

    @Test func aTicketCreatedBindsTheConversationAndOneOverStartsNewQuestions() throws {
        var part = SupportBot()
        let jan = ChatIdentity(network: "demo", nick: "jan")
        let intake = Intake(identity: jan, language: .en, languageSettled: true, try context(jan))
        part.started(Conversation(serial: 1, key: key("jan"), identity: jan, language: .en, phase: .intake(intake),
                                  lastActivity: clock.date))
        let asked = part.intakeStep(key("jan"), { _ in (try? context(jan))! }) { intake, context in
            intake.receive("hello", context)
        }
        #expect(asked?.isEmpty == false, "the intake answered")
        let stale = part.intakeStep(key("jan"), serial: 2, { _ in (try? context(jan))! }) { intake, context in
            intake.receive("late", context)
        }
        #expect(stale == nil, "a step for another conversation does nothing")

        part.ticketCreated(TicketNumber(rawValue: 9), group: .noContract, in: part.conversations[key("jan")]!,
                           offerAt: clock.date.addingTimeInterval(600))
        #expect(part.timers.deadline(of: .offer(key("jan"))) == clock.date.addingTimeInterval(600))
        #expect(part.conversationOfTicket[TicketNumber(rawValue: 9)] == key("jan"))
        #expect(part.conversations[key("jan")]?.ticketNumber == TicketNumber(rawValue: 9))

        part.ticketOver(key("jan")) { _ in (try? context(jan))! }
        #expect(part.conversationOfTicket.isEmpty)
        #expect(part.conversations[key("jan")]?.ticketNumber == nil, "questions again")
        #expect(part.timers.deadline(of: .offer(key("jan"))) == nil, "no offer for a ticket that is over")
    }
}

extension SupportBotTests {
    @Test func afterLinesAreAttachedTheCustomerIsToldOnceThatTheAgentReadsAndElseAtMostOncePerInterval() {
        var part = SupportBot()
        part.started(onTicket(7, nick: "jan"))
        func attached(toAgent: Bool = false) -> AttachedReply? {
            part.attached(key("jan"), toAgent: toAgent, now: clock.date, repromptInterval: 60)
        }
        let first = attached()
        clock.advance(by: .seconds(30))
        let soon = attached()
        clock.advance(by: .seconds(30))
        let later = attached()
        #expect([first, soon, later] == [.addedToTicket, nil, .addedToTicket])

        #expect(part.offerPending(key("jan"))?.number == TicketNumber(rawValue: 7))
        part.offerMade(key("jan"))
        #expect(part.offerPending(key("jan")) == nil, "offered once")
        let message = attached()
        #expect(message == .messageAttached)

        let agent = attached(toAgent: true), again = attached(toAgent: true)
        #expect([agent, again] == [.relayedToAgent, nil])
    }
}

extension SupportBotTests {
    @Test func aNewConversationFollowsAnOpenOrFreshlyResolvedTicketElseAsksItsQuestions() throws {
        let jan = ChatIdentity(network: "demo", nick: "jan")
        var ticket = Ticket(number: TicketNumber(rawValue: 5), createdAt: clock.date, customerNumber: nil,
                            customerName: "Jan", contact: jan, group: .noContract, tier: nil, severity: .minor,
                            summary: "Drucker", description: "Drucker", language: "de")
        let ctx = try context(jan)
        func start(_ newest: Ticket?, line: String = "hi") -> Conversation {
            SupportBot.newConversation(serial: 1, key: key("jan"), identity: jan, firstLine: line, defaultLanguage: .en,
                                       newestTicket: newest, now: clock.date) { _ in ctx }
        }
        let onOpen = start(ticket)
        #expect(onOpen.ticketNumber == TicketNumber(rawValue: 5))
        #expect(onOpen.language == .de, "no language in the line: the ticket's")

        ticket.state = .resolved
        ticket.updatedAt = clock.date
        clock.advance(by: .seconds(3_600))
        #expect(start(ticket).ticketNumber == TicketNumber(rawValue: 5), "resolved an hour ago: still followed")
        clock.advance(by: .seconds(86_400))
        let afterADay = start(ticket)
        #expect(afterADay.ticketNumber == nil, "resolved over a day ago: questions again")
        #expect(afterADay.language == .en)
        #expect(start(nil, line: "Guten Tag, mein Drucker druckt nicht mehr").language == .de)
    }
}
