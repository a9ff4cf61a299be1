import Desk
import Foundation
import Testing

/// Chat messages a bot step handled (issue 9): recorded in the step's own
/// commit — a ticket's creation, a conversation's snapshot, or alone — so a
/// Matrix batch delivered again after a crash skips what is stored and
/// answers what is not; per network, durable, forgotten by age.
@Suite struct StoreContractHandledMessagesTests {
    static let matrix = "matrix"

    static func handled(_ ids: String...) -> [HandledMessage] {
        ids.map { HandledMessage(network: matrix, sourceID: $0) }
    }

    @Test(arguments: StoreContract.implementations)
    func aTicketsCreationRecordsItsMessagesInItsTransactionAndAFailedOneRecordsNone(
        _ implementation: StoreUnderTest
    ) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            var ticket = newTicket(1)
            ticket.handledMessages = Self.handled("$sev:hs", "$more:hs")
            _ = try await store.createTicket(ticket, makePages: { _ in firstPages() })
            // A creation that fails (an invalid page) records nothing.
            var refused = newTicket(2)
            refused.handledMessages = Self.handled("$refused:hs")
            await #expect(throws: TicketStoreError.self) {
                _ = try await store.createTicket(refused, makePages: { _ in
                    [PageDraft(step: -1, network: "libera", target: "anna", text: "x", createdAt: monday, dueAt: monday)]
                })
            }
            let reopened = try await reopen()
            #expect(try await reopened.handledMessages(network: Self.matrix,
                                                       among: ["$sev:hs", "$more:hs", "$refused:hs", "$other:hs"])
                == ["$sev:hs", "$more:hs"])
            #expect(try await reopened.openTickets().count == 1)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func aConversationSaveRecordsItsMessagesAndAMessageAloneCanBeMarked(_ implementation: StoreUnderTest)
        async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            var snapshot = StoreContractConversationTests.snapshot("alice", "asked for the PIN")
            snapshot.handledMessages = Self.handled("$number:hs")
            try await store.saveConversation(snapshot)
            try await store.markMessagesHandled(Self.handled("$kb:hs", "$number:hs"), at: monday)
            // Marking again keeps one record; an unknown network knows none.
            try await store.markMessagesHandled(Self.handled("$kb:hs"), at: monday.addingTimeInterval(5))
            let reopened = try await reopen()
            #expect(try await reopened.handledMessages(network: Self.matrix, among: ["$number:hs", "$kb:hs", "$x:hs"])
                == ["$number:hs", "$kb:hs"])
            #expect(try await reopened.handledMessages(network: "libera", among: ["$number:hs"]).isEmpty)
            #expect(try await reopened.handledMessages(network: Self.matrix, among: []).isEmpty)
            // The snapshot is stored as before (its handled messages are not part of it).
            let stored = try await reopened.conversations(unexpiredAt: monday)
            #expect(stored.map(\.state) == [Data("asked for the PIN".utf8)])
            #expect(stored.first?.handledMessages == [])
        }
    }

    @Test(arguments: StoreContract.implementations)
    func aTicketsUpdateRecordsItsMessagesInItsTransactionAndAConflictingOneRecordsNone(
        _ implementation: StoreUnderTest
    ) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            let created = try await store.createTicket(newTicket(1))
            let (taken, take) = takenByAnna(created.ticket)
            _ = try await store.update(created.stored, to: taken, events: [take],
                                       handledMessages: Self.handled("$next:hs"))
            // A stale update (another instance took it meanwhile) changes
            // nothing and records nothing: the message is decided again.
            var other = created.ticket
            other.assignee = "ben"
            await #expect(throws: TicketStoreError.self) {
                try await store.update(created.stored, to: other, events: [], handledMessages: Self.handled("$stale:hs"))
            }
            let reopened = try await reopen()
            #expect(try await reopened.handledMessages(network: Self.matrix, among: ["$next:hs", "$stale:hs"])
                == ["$next:hs"])
            #expect(try await reopened.ticket(created.number)?.ticket.assignee == "anna")
        }
    }

    /// A ticket's creation saves the customer conversation it comes from,
    /// made with the number the store assigns, in its own transaction (a
    /// crash right after the commit finds it following the ticket); a
    /// creation that fails saves none, so the stored conversation is still
    /// the intake that will ask for the ticket again.
    @Test(arguments: StoreContract.implementations)
    func aTicketsCreationSavesItsConversationInItsTransactionAndAFailedOneSavesNone(
        _ implementation: StoreUnderTest
    ) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            try await store.saveConversation(StoreContractConversationTests.snapshot("alice", "intake"))
            let created = try await store.createTicket(newTicket(1), claimingPagesFor: nil,
                                                       makePages: { _ in firstPages() }, conversation: { number in
                StoreContractConversationTests.snapshot("alice", "follows #\(number.rawValue)")
            })
            let saved = "follows #\(created.number.rawValue)"
            #expect(created.conversation?.state == Data(saved.utf8))
            try await store.saveConversation(StoreContractConversationTests.snapshot("bob", "intake"))
            await #expect(throws: TicketStoreError.self) {
                _ = try await store.createTicket(newTicket(2), claimingPagesFor: nil, makePages: { _ in
                    [PageDraft(step: -1, network: "libera", target: "anna", text: "x", createdAt: monday, dueAt: monday)]
                }, conversation: { _ in StoreContractConversationTests.snapshot("bob", "follows a refused ticket") })
            }
            let reopened = try await reopen()
            let stored = try await reopened.conversations(unexpiredAt: monday)
            #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.key.key, String(decoding: $0.state, as: UTF8.self)) })
                == ["alice": saved, "bob": "intake"])
            #expect(try await reopened.openTickets().map(\.ticket.number) == [created.number])
        }
    }

    /// A customer's lines attached to their ticket: the update saves the
    /// conversation as it stands after them (the lines a burst held gone) in
    /// its own transaction; a conflicting update saves neither, so the
    /// stored conversation still holds the lines to attach.
    @Test(arguments: StoreContract.implementations)
    func aTicketsUpdateSavesItsConversationInItsTransactionAndAConflictingOneSavesNone(
        _ implementation: StoreUnderTest
    ) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            let created = try await store.createTicket(newTicket(1))
            let holding = StoreContractConversationTests.snapshot("alice", "holds a line")
            try await store.saveConversation(holding)
            var attached = created.ticket
            attached.updatedAt = monday.addingTimeInterval(5)
            let line = TicketEvent(ticket: created.number, at: attached.updatedAt, actor: .customer("alice"),
                                   kind: .customerMessage, note: "and the fan is loud")
            let done = try await store.update(created.stored, to: attached, events: [line],
                                              conversation: StoreContractConversationTests.snapshot("alice", "holds none"))
            // A stale update (its version was read before the one above) saves no conversation.
            await #expect(throws: TicketStoreError.self) {
                try await store.update(created.stored, to: attached, events: [line],
                                       conversation: StoreContractConversationTests.snapshot("alice", "stale"))
            }
            let reopened = try await reopen()
            #expect(try await reopened.conversations(unexpiredAt: monday).map(\.state) == [Data("holds none".utf8)])
            #expect(try await reopened.events(of: created.number).filter { $0.kind == .customerMessage }.map(\.note)
                == ["and the fan is loud"])
            #expect(done.stored.version == created.stored.version + 1)
        }
    }

    /// An agent command's lines are notices written with its update
    /// (``PageDraft/commandAnswerStep``, ``PageDraft/customerNoticeStep``):
    /// every command on a ticket has its own, so a notice's step may be
    /// written again (an escalation step may not), and a later update that
    /// cancels the ticket's unsent pages leaves its unsent notices to be sent.
    @Test(arguments: StoreContract.implementations)
    func anUpdatesNoticesMayRepeatAndOutliveALaterCancelOfUnsentPages(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            let created = try await store.createTicket(newTicket(1), pages: firstPages())
            func notice(_ step: Int, _ target: String, _ text: String, at: Date) -> PageDraft {
                PageDraft(step: step, network: Self.matrix, target: target, targetKind: .direct, text: text, createdAt: at)
            }
            let (taken, take) = takenByAnna(created.ticket)
            let first = try await store.update(created.stored, to: taken, events: [take], pages: [
                notice(PageDraft.customerNoticeStep, "@alice:hs", "Anna took #1", at: taken.updatedAt),
                notice(PageDraft.commandAnswerStep, "@anna:hs", "#1 is yours", at: taken.updatedAt),
            ], handledMessages: Self.handled("$next:hs"))
            var replied = first.ticket
            replied.updatedAt = monday.addingTimeInterval(120)
            _ = try await store.update(first.stored, to: replied, events: [], pages: [
                notice(PageDraft.customerNoticeStep, "@alice:hs", "Anna: try again", at: replied.updatedAt),
                notice(PageDraft.commandAnswerStep, "@anna:hs", "sent to alice", at: replied.updatedAt),
            ], cancelUnsentPages: true, handledMessages: Self.handled("$reply:hs"))
            let reopened = try await reopen()
            let pages = try await reopened.pages(of: created.number)
            #expect(pages.filter { !$0.isNotice }.count == 2)
            #expect(pages.filter { !$0.isNotice }.allSatisfy { $0.cancelledAt == replied.updatedAt })
            #expect(pages.filter(\.isNotice).map(\.text) == ["Anna took #1", "#1 is yours", "Anna: try again", "sent to alice"])
            #expect(pages.filter(\.isNotice).allSatisfy { $0.cancelledAt == nil && $0.sentAt == nil })
            #expect(try await reopened.pendingPages(dueBy: .distantFuture, limit: 10).map(\.text)
                == ["Anna took #1", "#1 is yours", "Anna: try again", "sent to alice"])
            #expect(pages.filter(\.isNotice).map(\.stepLabel)
                == ["customer notice", "command answer", "customer notice", "command answer"])
            #expect(try await reopened.escalationSteps(of: created.number)
                == [0, PageDraft.commandAnswerStep, PageDraft.customerNoticeStep])
            #expect(try await reopened.handledMessages(network: Self.matrix, among: ["$next:hs", "$reply:hs"])
                == ["$next:hs", "$reply:hs"])
        }
    }

    @Test(arguments: StoreContract.implementations)
    func aConversationsDeleteRecordsItsMessagesInItsTransaction(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            let snapshot = StoreContractConversationTests.snapshot("alice", "offered articles")
            try await store.saveConversation(snapshot)
            #expect(try await store.deleteConversation(snapshot.key, handledMessages: Self.handled("$yes:hs"), at: monday))
            // Deleting one that is gone still records the step's messages.
            #expect(try await !store.deleteConversation(snapshot.key, handledMessages: Self.handled("$again:hs"),
                                                        at: monday))
            let reopened = try await reopen()
            #expect(try await reopened.conversations(unexpiredAt: monday).isEmpty)
            #expect(try await reopened.handledMessages(network: Self.matrix, among: ["$yes:hs", "$again:hs", "$x:hs"])
                == ["$yes:hs", "$again:hs"])
        }
    }

    @Test(arguments: StoreContract.implementations)
    func recordsOlderThanAnInstantAreForgottenPerNetworkAndOddIDsAreStoredAsGiven(
        _ implementation: StoreUnderTest
    ) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let odd = "$'; DROP TABLE handled_messages; --:hs"
            try await store.markMessagesHandled(Self.handled("$old:hs", odd), at: monday)
            try await store.markMessagesHandled([HandledMessage(network: "other", sourceID: "$old:hs")], at: monday)
            try await store.markMessagesHandled(Self.handled("$new:hs"), at: monday.addingTimeInterval(60))
            #expect(try await store.forgetHandledMessages(network: Self.matrix, before: monday.addingTimeInterval(30)) == 2)
            #expect(try await store.handledMessages(network: Self.matrix, among: ["$old:hs", odd, "$new:hs"])
                == ["$new:hs"])
            #expect(try await store.handledMessages(network: "other", among: ["$old:hs"]) == ["$old:hs"])
        }
    }
}
