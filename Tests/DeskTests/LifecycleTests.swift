import Desk
import Foundation
import Testing

@Suite struct LifecycleTests {
    let t0 = at("2026-03-02 10:00")
    let owner = Actor.customer("demo:alice")
    let ben = Actor.agent("ben")
    let anna = Actor.agent("anna")

    func apply(_ command: TicketCommand, _ ticket: Ticket, _ actor: Actor, minutes: Double = 1) throws -> (Ticket, [TicketEvent]) {
        try TicketLifecycle.apply(command, to: ticket, by: actor, at: t0.addingTimeInterval(minutes * 60))
    }

    func refusal(_ command: TicketCommand, _ ticket: Ticket, _ actor: Actor) -> TransitionError? {
        do {
            _ = try TicketLifecycle.apply(command, to: ticket, by: actor, at: t0)
            return nil
        } catch {
            return error
        }
    }

    @Test func aContractTicketFromPageToClose() throws {
        var ticket = makeTicket(42, created: t0)
        #expect(owner == .customer(ticket.contact.description))
        var events: [TicketEvent]

        (ticket, events) = try apply(.page(note: "anna (on duty)"), ticket, .system, minutes: 0)
        #expect(ticket.state == .paged)
        #expect(events.map(\.kind) == [.stateChanged, .paged])
        #expect(events[0].from == "new" && events[0].to == "paged" && events[0].actor == .system)

        // A repeated page only records the page.
        (ticket, events) = try apply(.page(note: "anna, emil (backup)"), ticket, .system, minutes: 5)
        #expect(ticket.state == .paged && events.map(\.kind) == [.paged] && events[0].note == "anna, emil (backup)")

        (ticket, events) = try apply(.acknowledge, ticket, anna, minutes: 6)
        #expect(ticket.state == .acknowledged && ticket.assignee == nil)
        #expect(ticket.respondedAt == t0.addingTimeInterval(360))
        #expect(events.map(\.kind) == [.stateChanged, .acknowledged])

        (ticket, events) = try apply(.take, ticket, ben, minutes: 8)
        #expect(ticket.state == .inProgress && ticket.assignee == "ben")
        #expect(ticket.respondedAt == t0.addingTimeInterval(360))  // the first response stays
        #expect(events.map(\.kind) == [.assigned, .stateChanged])
        #expect(events[0].to == "ben" && events[0].actor == ben)

        (ticket, _) = try apply(.agentReply("Please restart the NordBox."), ticket, ben, minutes: 9)
        (ticket, events) = try apply(.setWaiting(note: "asked for a restart"), ticket, ben, minutes: 10)
        #expect(ticket.state == .waitingForCustomer)

        // The customer's answer puts it back in progress.
        (ticket, events) = try apply(.customerMessage("Restarted, still down."), ticket, owner, minutes: 20)
        #expect(ticket.state == .inProgress)
        #expect(events.map(\.kind) == [.customerMessage, .stateChanged])
        #expect(events[1].from == "waiting" && events[1].to == "in_progress" && events[1].actor == owner)

        (ticket, events) = try apply(.resolve(note: "Replaced the VPN certificate."), ticket, ben, minutes: 40)
        #expect(ticket.state == .resolved && events.last?.note == "Replaced the VPN certificate.")

        (ticket, events) = try apply(.close(note: "auto-close after 3 days"), ticket, .system, minutes: 60)
        #expect(ticket.state == .closed)
        #expect(ticket.updatedAt == t0.addingTimeInterval(3600))
        #expect(events == [TicketEvent(ticket: TicketNumber(42), at: t0.addingTimeInterval(3600), actor: .system,
                                       kind: .stateChanged, from: "resolved", to: "closed", note: "auto-close after 3 days")])
    }

    @Test func severityChangesNeedAReasonAndAreLogged() throws {
        let ticket = makeTicket(7, created: t0, severity: .minor)
        #expect(refusal(.changeSeverity(.critical, reason: "  "), ticket, ben)?.reason == .textRequired("a reason"))
        #expect(refusal(.changeSeverity(.minor, reason: "same"), ticket, ben)?.reason == .unchanged)
        #expect(refusal(.changeSeverity(.critical, reason: "it is urgent!"), ticket, owner)?.reason == .roleNotAllowed)
        let (changed, events) = try apply(.changeSeverity(.critical, reason: "whole site offline"), ticket, ben)
        #expect(changed.severity == .critical && changed.priority.label == "P1")
        #expect(events.count == 1)
        #expect(events[0].kind == .severityChanged && events[0].from == "3" && events[0].to == "1")
        #expect(events[0].note == "whole site offline" && events[0].actor == ben)
    }

    @Test func customersMayOnlyTouchTheirOwnTickets() throws {
        let ticket = makeTicket(9, created: t0)
        let stranger = Actor.customer("demo:mallory")
        // Same nick, no account: another identity, not the owner.
        let sameNick = Actor.customer(ChatIdentity(network: "demo", nick: "alice").description)
        #expect(refusal(.cancel(reason: ""), ticket, stranger)?.reason == .notOwner)
        #expect(refusal(.cancel(reason: ""), ticket, sameNick)?.reason == .notOwner)
        #expect(refusal(.customerMessage("hi"), ticket, stranger)?.reason == .notOwner)
        #expect(refusal(.take, ticket, owner)?.reason == .roleNotAllowed)
        #expect(refusal(.acknowledge, ticket, owner)?.reason == .roleNotAllowed)
        #expect(refusal(.resolve(note: "fixed"), ticket, owner)?.reason == .roleNotAllowed)

        let (cancelled, events) = try apply(.cancel(reason: ""), ticket, owner)
        #expect(cancelled.state == .cancelled)
        #expect(events.map(\.note) == ["withdrawn by the customer"])
        #expect(refusal(.cancel(reason: ""), cancelled, owner)?.reason == .wrongState)
        #expect(refusal(.customerMessage("hello?"), cancelled, owner)?.reason == .wrongState)
    }

    @Test func agentsCancelOnlyWithAReason() throws {
        let ticket = makeTicket(10, created: t0)
        #expect(refusal(.cancel(reason: ""), ticket, ben)?.reason == .textRequired("a reason"))
        #expect(refusal(.cancel(reason: "spam"), ticket, .system)?.reason == .roleNotAllowed)
        let (cancelled, _) = try apply(.cancel(reason: "spam"), ticket, ben)
        #expect(cancelled.state == .cancelled)
    }

    @Test func takingSomeoneElsesTicketIsRefusedNamingThem() throws {
        let (taken, _) = try apply(.take, makeTicket(11, created: t0), ben)
        let error = refusal(.take, taken, anna)
        #expect(error?.reason == .assignedTo("ben"))
        #expect(error?.description == "cannot take #11 (in_progress): it is assigned to ben")
        #expect(refusal(.take, taken, ben)?.reason == .alreadyYours)
        #expect(refusal(.resolve(note: "done"), taken, anna)?.reason == .assignedTo("ben"))
        #expect(refusal(.setWaiting(note: ""), taken, anna)?.reason == .assignedTo("ben"))
    }

    @Test func resolvingAnUnassignedTicketAssignsItAndCountsAsResponse() throws {
        let ticket = makeTicket(12, created: t0, severity: .question)
        #expect(refusal(.resolve(note: " "), ticket, anna)?.reason == .textRequired("a resolution note"))
        let (resolved, events) = try apply(.resolve(note: "Answered: KB 1042."), ticket, anna, minutes: 3)
        #expect(resolved.state == .resolved && resolved.assignee == "anna" && resolved.respondedAt != nil)
        #expect(events.map(\.kind) == [.assigned, .stateChanged])
    }

    @Test func aCustomerMessageReopensAResolvedTicket() throws {
        let (taken, _) = try apply(.take, makeTicket(13, created: t0), ben)
        let (resolved, _) = try apply(.resolve(note: "fixed"), taken, ben)
        let (reopened, events) = try apply(.customerMessage("It is broken again."), resolved, owner)
        #expect(reopened.state == .inProgress && reopened.assignee == "ben")
        #expect(events.last?.note == "reopened by the customer's message")
        // Closing needs a resolved ticket; the owner may close it.
        #expect(refusal(.close(note: ""), reopened, .system)?.reason == .wrongState)
        let (closed, _) = try apply(.close(note: "thanks"), resolved, owner)
        #expect(closed.state == .closed)
        #expect(refusal(.close(note: ""), resolved, .customer("demo:mallory"))?.reason == .notOwner)
    }

    @Test func onlyTheSystemPagesAndOnlyUnansweredTickets() throws {
        let ticket = makeTicket(14, created: t0)
        #expect(refusal(.page(note: ""), ticket, ben)?.reason == .roleNotAllowed)
        let (acked, _) = try apply(.acknowledge, ticket, ben)
        #expect(refusal(.page(note: "again"), acked, .system)?.reason == .wrongState)
        #expect(refusal(.acknowledge, acked, anna)?.description
            == "cannot acknowledge #14 (acknowledged): not possible while the ticket is acknowledged")
        // A non-contract ticket is announced, not paged; it stays new.
        let (announced, events) = try apply(.announce(note: "P7 in #support-agents"), makeTicket(15, created: t0, group: .noContract), .system)
        #expect(announced.state == .new && events.map(\.kind) == [.note])
    }

    @Test func aReplyIsTheFirstResponseAndNeedsText() throws {
        let ticket = makeTicket(16, created: t0)
        #expect(refusal(.agentReply("   "), ticket, ben)?.reason == .textRequired("a reply text"))
        let (replied, events) = try apply(.agentReply("Looking at it."), ticket, ben, minutes: 2)
        #expect(replied.state == .new && replied.respondedAt == t0.addingTimeInterval(120))
        #expect(events.map(\.kind) == [.agentReply])
    }

    @Test func slaEventsAndNotes() throws {
        let ticket = makeTicket(17, created: t0)
        let (_, warning) = try apply(.slaWarning(note: "80 % of 1h"), ticket, .system)
        #expect(warning.map(\.kind) == [.slaWarning])
        #expect(refusal(.slaBreach(note: ""), ticket, ben)?.reason == .roleNotAllowed)
        let (closed, _) = try apply(.cancel(reason: ""), ticket, owner)
        #expect(refusal(.slaBreach(note: ""), closed, .system)?.reason == .wrongState)
        let (_, note) = try apply(.note("called the customer"), closed, ben)  // notes in any state
        #expect(note.map(\.kind) == [.note])
    }

    @Test func theCreatedEventOpensTheTrail() {
        let ticket = makeTicket(18, created: t0, severity: .critical)
        let event = TicketLifecycle.created(ticket, by: owner)
        #expect(event.kind == .created && event.to == "P1" && event.at == t0 && event.actor == owner)
    }
}
