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

/// The ticket service: every change to a stored ticket, and the queue of
/// open unassigned tickets that follows the store. Owned by the runtime's
/// actor (its calls run in the caller's isolation); the one place that
/// writes tickets after their creation.
final class TicketService {
    let store: any DeskStore
    let logger: Logger
    /// Open, unassigned tickets in hand-out order.
    private(set) var queue = TicketQueue()
    /// Store calls that failed here (each logged).
    private(set) var storeErrors = 0

    init(store: any DeskStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Rebuilds the queue from the store's open tickets.
    func load(_ open: [StoredTicket]) {
        queue = TicketQueue(tickets: open.map(\.ticket))
    }

    /// Brings the queue in line with `ticket` as stored.
    func sync(with ticket: Ticket) { queue.sync(with: ticket) }

    /// Takes a ticket out of the queue (it turned out not to be takeable).
    func dropFromQueue(_ number: TicketNumber) { queue.remove(number) }

    /// The queue's first entry, if any.
    func nextInQueue() -> QueueEntry? { queue.next() }

    /// Applies `command` to the stored ticket through ``TicketLifecycle``
    /// (so every change is an event) and stores it with `pages` in one
    /// transaction. A concurrent change (the store's version check) makes it
    /// read the ticket again and decide again, so two agents taking one
    /// ticket end with one owner and the other told who. `handledMessages`
    /// are recorded as handled in the update's transaction; `notices` (the
    /// ticket as changed and as it was) are written to the outbox after
    /// `pages` (an agent command's answer, ``PageDraft/commandAnswerStep``);
    /// `conversation` (the ticket as changed) is the snapshot of the
    /// customer conversation the change comes from, saved in the same
    /// transaction (see ``TicketRecordStore/updateTicket(_:expectedVersion:events:pages:cancelUnsentPages:handledMessages:conversation:)``).
    /// `read`: the ticket as the caller just read it from the store, decided
    /// on first instead of reading it again (the update's version check
    /// still decides: if it changed meanwhile, it is read afresh; a refusal
    /// is only given on a ticket read here).
    func change(_ number: TicketNumber, _ command: TicketCommand, by actor: Actor,
                pages: (Ticket) -> [PageDraft] = { _ in [] }, cancelUnsentPages: Bool = false,
                handledMessages: [HandledMessage] = [],
                notices: (_ changed: Ticket, _ before: Ticket) -> [PageDraft] = { _, _ in [] },
                conversation: (_ changed: Ticket) -> ConversationSnapshot? = { _ in nil },
                read: StoredTicket? = nil,
                now: Date, isolation: isolated (any _Concurrency.Actor)? = #isolation) async -> ChangeResult {
        var alreadyRead = read.flatMap { $0.ticket.number == number ? $0 : nil }
        for _ in 0..<4 {
            let stored: StoredTicket
            let givenByCaller = alreadyRead != nil
            do {
                if let known = alreadyRead {
                    stored = known
                    alreadyRead = nil
                } else {
                    guard let found = try await store.ticket(number) else { return .notFound }
                    stored = found
                }
            } catch {
                failed(error, "read ticket")
                return .failed(error)
            }
            let updated: Ticket, events: [TicketEvent]
            do {
                (updated, events) = try TicketLifecycle.apply(command, to: stored.ticket, by: actor, at: now)
            } catch {
                // Refused on the caller's read: decided again on the
                // store's ticket (it may have moved on since).
                if givenByCaller { continue }
                queue.sync(with: stored.ticket)
                return .refused(error)
            }
            do {
                let commit = try await store.update(stored, to: updated, events: events,
                                                    pages: pages(updated) + notices(updated, stored.ticket),
                                                    cancelUnsentPages: cancelUnsentPages,
                                                    handledMessages: handledMessages,
                                                    conversation: conversation(updated))
                queue.sync(with: commit.ticket)
                return .done(commit, before: stored.ticket)
            } catch TicketStoreError.conflict {
                logger.info("ticket changed concurrently; deciding again", ["ticket": number, "command": command.name])
                continue
            } catch let error as TicketStoreError {
                if case .escalationStepExists = error { return .failed(error) }
                failed(error, command.name)
                return .failed(error)
            } catch {
                failed(error, command.name)
                return .failed(error)
            }
        }
        let error = TicketStoreError.invalid("\(number) kept changing while \(command.name) was applied")
        failed(error, command.name)
        return .failed(error)
    }

    private func failed(_ error: any Error, _ what: String) {
        storeErrors += 1
        logger.error("store call failed", ["operation": what, "error": error])
    }
}
