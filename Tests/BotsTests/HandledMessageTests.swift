@testable import Bots
import Core
import Desk
import Foundation
import Testing

/// The bots record a message's network id (a Matrix event id) as handled in
/// the commit of its step (issue 9), so a network that delivers it again
/// after a crash can skip it — and never record one whose step is not
/// stored yet, so none is lost.
@Suite struct HandledMessageTests {
    func message(_ text: String, id: String, from person: Person, _ h: Harness) -> ChatMessage {
        ChatMessage(sender: person.identity, principal: person.principal, place: .direct, text: text,
                    addressedToBot: true, time: h.clock.date, sourceID: id)
    }

    func recorded(_ ids: [String], _ h: Harness) async throws -> Set<String> {
        try await h.store.handledMessages(network: "demo", among: ids)
    }

    @Test func eachStepRecordsItsMessageAndALineHeldBehindAPINCheckOnlyOnceItIsReplayed() async throws {
        let h = try await Harness()
        let gate = PINGate()
        defer { gate.release() }
        await h.runtime.usePINHash(gate.hash)
        let lea = h.customer("lea", account: "lea")
        await h.runtime.handle(.message(message("Hallo, Kundennummer 10042", id: "$1", from: lea, h)))
        #expect(try await recorded(["$1"], h) == ["$1"], "recorded with the conversation's snapshot")
        await h.runtime.handle(.message(message("4711", id: "$2", from: lea, h)))
        try await eventually("the PIN check reached the hash") { gate.checks == 1 }
        // The description arrives while the PIN is checked: held, not stored.
        await h.runtime.handle(.message(message("Der VPN-Tunnel zum Lager ist ausgefallen", id: "$3", from: lea, h)))
        #expect(try await recorded(["$2", "$3"], h) == ["$2"], "the held line is not recorded")
        gate.release()
        await h.runtime.waitUntilIdle()
        #expect(try await recorded(["$3"], h) == ["$3"], "recorded once replayed")
        // A KB lookup changes no conversation: its message is recorded alone.
        await h.runtime.handle(.message(message("!kb vpn", id: "$4", from: h.customer("max", account: "max"), h)))
        #expect(try await recorded(["$4"], h) == ["$4"])
    }
}
