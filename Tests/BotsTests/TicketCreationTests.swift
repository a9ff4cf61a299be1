@testable import Bots
import Core
@testable import Desk
import Foundation
import Testing

/// Ticket creation's plan on its own: from the intake's draft to the ticket,
/// the escalation's request and the pages stored with it, with no runtime
/// or store; the pages are made for the number the store assigns.
@Suite struct TicketCreationTests {
    let clock = ManualClock()
    let customer = ChatIdentity(network: "demo", nick: "alice", account: "alice")
    let pager = Pager(texts: shippedDefinitions.agent, language: .en, network: "demo", channel: "#agents",
                      nicks: ["anna": "Anna"])

    func draft(_ group: CustomerGroup, pinLocked: Bool = false) -> TicketDraft {
        TicketDraft(group: group, customerNumber: group == .contract ? "10042" : nil, customerName: "Alice AG",
                    tier: group == .contract ? "gold" : nil, severity: .major, summary: "Backup failed",
                    description: "The backup of last night failed", language: .de, contractClaimPINLocked: pinLocked)
    }

    @Test func aContractTicketIsPagedToTheAgentTheEscalationNamesUnderItsStoredNumber() {
        let request = PageRequest(steps: [0], privateMessage: ["anna"], mention: ["anna"], wholeChannel: false,
                                  noOneOnDuty: false, coalesced: false)
        var planned: Ticket?
        let creation = TicketCreation(draft: draft(.contract), identity: customer, now: clock.date,
                                      queue: TicketQueue(), pager: pager) { ticket in
            planned = ticket
            return EscalationPlan(status: .active, actions: [.page(request)], completes: [0], nextEvaluation: nil)
        }
        #expect(planned?.contact == customer)
        #expect(planned?.customerNumber == "10042")
        #expect(creation.new.createdBy == .customer(customer.description))
        #expect(creation.request == request)
        #expect(creation.position == nil)
        let pages = creation.makePages(TicketNumber(rawValue: 42))
        #expect(pages.contains { $0.target == "Anna" && $0.text.contains("#42") })
        #expect(pages.contains { $0.target == "#agents" && $0.text.contains("Anna") })
        #expect(!pages.contains { $0.text.contains("#0") })
    }

    @Test func aTicketWithoutContractIsAnnouncedWithItsPlaceInTheQueue() {
        var queue = TicketQueue()
        queue.insert(QueueEntry(number: TicketNumber(rawValue: 5), priority: Priority(group: .noContract, severity: .critical), createdAt: clock.date))
        clock.advance(by: .seconds(60))
        let creation = TicketCreation(draft: draft(.noContract), identity: customer, now: clock.date, queue: queue,
                                      pager: pager) { _ in
            EscalationPlan(status: .announceOnly, actions: [.announce], completes: [], nextEvaluation: nil)
        }
        #expect(creation.request == nil)
        #expect(creation.position == 2)
        let pages = creation.makePages(TicketNumber(rawValue: 7))
        #expect(pages.count == 1)
        #expect(pages.first?.target == "#agents")
        #expect(pages.first?.text.contains("#7") == true)
    }

    @Test func outsideCoverageNothingIsPagedButAPINLockedClaimIsStillNoted() {
        let outside = EscalationPlan(status: .outsideCoverage(resumesAt: nil), actions: [], completes: [],
                                     nextEvaluation: nil)
        let plain = TicketCreation(draft: draft(.contract), identity: customer, now: clock.date, queue: TicketQueue(),
                                   pager: pager) { _ in outside }
        #expect(plain.makePages(TicketNumber(rawValue: 9)).isEmpty)
        let locked = TicketCreation(draft: draft(.contract, pinLocked: true), identity: customer, now: clock.date,
                                    queue: TicketQueue(), pager: pager) { _ in outside }
        let note = locked.makePages(TicketNumber(rawValue: 9))
        #expect(note.count == 1)
        #expect(note.first?.target == "#agents")
        #expect(note.first?.text.contains("#9") == true)
    }

    /// The stored ticket `number` of `creation`.
    func stored(_ creation: TicketCreation, _ number: Int64) -> Ticket {
        creation.new.ticket(number: TicketNumber(rawValue: number))
    }

    func told(_ creation: TicketCreation, _ ticket: Ticket, queuePosition: Int? = nil) -> TicketCreation.Told {
        creation.told(ticket, queuePosition: queuePosition, language: .de, texts: shippedDefinitions.support,
                      zone: .berlin, nick: { $0 == "anna" ? "Anna" : $0 }, tierName: { $0 == "gold" ? "Gold" : nil })
    }

    @Test func theCustomerIsToldWhoWasPagedByNickOrThatNoOneIsOnDuty() {
        for (noOneOnDuty, text) in [(false, SupportText.ticketPaged), (true, .ticketPagedBackup)] {
            let request = PageRequest(steps: [0], privateMessage: ["anna"], mention: [], wholeChannel: false,
                                      noOneOnDuty: noOneOnDuty, coalesced: false)
            let creation = TicketCreation(draft: draft(.contract), identity: customer, now: clock.date,
                                          queue: TicketQueue(), pager: pager) { _ in
                EscalationPlan(status: .active, actions: [.page(request)], completes: [0], nextEvaluation: nil)
            }
            let answer = told(creation, stored(creation, 42))
            #expect(answer.text == text)
            #expect(answer.values["agent"] == "Anna")
            #expect(answer.values["ticket"] == "#42")
            #expect(answer.agents == nil)
        }
    }

    @Test func outsideHoursTheCustomerAndTheAgentsChannelAreToldWhenSupportResumes() {
        let resumes = clock.date.addingTimeInterval(3600 * 10)
        let creation = TicketCreation(draft: draft(.contract), identity: customer, now: clock.date,
                                      queue: TicketQueue(), pager: pager) { _ in
            EscalationPlan(status: .outsideCoverage(resumesAt: resumes), actions: [], completes: [],
                           nextEvaluation: resumes)
        }
        let answer = told(creation, stored(creation, 8))
        #expect(answer.text == .ticketOutsideHours)
        #expect(answer.values["tier"] == "Gold")
        #expect(answer.values["resumes"] == Format.instant(resumes, zone: .berlin, .de))
        #expect(answer.agents?.contains("#8") == true)
        #expect(answer.agents?.contains(Format.agentTime(resumes, zone: .berlin)) == true)
    }

    @Test func aQueuedCustomerIsToldTheirPlaceInTheQueueAsStored() {
        let creation = TicketCreation(draft: draft(.noContract), identity: customer, now: clock.date,
                                      queue: TicketQueue(), pager: pager) { _ in
            EscalationPlan(status: .announceOnly, actions: [.announce], completes: [], nextEvaluation: nil)
        }
        #expect(told(creation, stored(creation, 3), queuePosition: 4).values["position"] == "4")
        #expect(told(creation, stored(creation, 3)).values["position"] == "1")
        #expect(told(creation, stored(creation, 3)).text == .ticketQueued)
    }
}
