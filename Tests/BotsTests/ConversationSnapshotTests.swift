@testable import Bots
import Core
import Desk
import Foundation
import KB
import Testing

/// What is stored of a conversation between restarts (issue 8 item 4): a
/// conversation restored from its stored bytes answers the next line
/// exactly as the one that never stopped, at every step; nothing secret is
/// stored; a snapshot this version cannot read is refused, never half-read.
@Suite struct ConversationSnapshotTests {
    let desk: DeskConfiguration
    let now = Date(timeIntervalSince1970: 1_772_442_000)  // Monday 2026-03-02 10:00 Berlin

    let knowledgeBase: KnowledgeBase

    init() async throws {
        desk = try deskFixture()
        knowledgeBase = try await shippedKB.value().current
    }

    func context(at instant: Date? = nil) -> IntakeContext {
        IntakeContext(customers: desk.customers, normalizeAccount: { $0.lowercased() },
                      knowledgeBase: knowledgeBase, texts: shippedDefinitions.support,
                      settings: shippedDefinitions.supportSettings, now: instant ?? now)
    }

    let alice = ChatIdentity(network: "demo", nick: "alice", account: nil)

    /// The intake after `lines` (a PIN check is answered `ok` at once).
    func intake(after lines: [String], identity: ChatIdentity? = nil) -> Intake {
        var intake = Intake(identity: identity ?? alice, language: .de, languageSettled: false, context())
        for line in lines {
            let effects = intake.receive(line, context())
            for case .verifyPIN(let number, _) in effects {
                _ = intake.pinChecked(ok: true, number: number, context())
            }
        }
        return intake
    }

    /// Through the bytes, as the store keeps them.
    func throughTheStore(_ intake: Intake) throws -> (Intake, Data) {
        let key = Bots.ConversationKey(network: "demo", nick: intake.identity.nick) { name, _ in name.lowercased() }
        let conversation = Conversation(serial: 7, key: key, identity: intake.identity, language: intake.language,
                                        phase: .intake(intake), lastActivity: now)
        let stored = conversation.stored(offerAt: nil, relayAt: nil)
        let state = try stored.encoded()
        let snapshot = stored.snapshot(state: state, now: now, expiry: 86_400)
        #expect(snapshot.formatVersion == StoredConversation.formatVersion)
        #expect(snapshot.key == Desk.ConversationKey(network: "demo", key: "nick:alice"))
        #expect(snapshot.expiresAt == now.addingTimeInterval(86_400))
        let back = try StoredConversation.decode(snapshot)
        #expect(back == stored)
        guard case .intake(let restored) = back.phase else {
            Issue.record("the intake came back as \(back.phase)")
            return (intake, state)
        }
        return (Intake(restoring: restored, context()), state)
    }

    /// At every step of a contract customer's intake and of a customer
    /// without a number, the restored intake and the original answer the
    /// next line alike and end in the same state.
    @Test(arguments: [
        // contract: number → PIN → description → KB suggestions → severity → ticket
        ["Hallo", "10042", "4711", "Die Sicherung von gestern ist fehlgeschlagen, Fehler beim Sicherungsauftrag",
         "nein", "2"],
        // the number and the problem at once, then the PIN and the severity
        ["Kundennummer 10042, der VPN-Tunnel zum Lager ist ausgefallen", "4711", "1"],
        // no number: description, suggestions, severity
        ["keine Kundennummer", "Wie stelle ich eine gelöschte Datei aus der Sicherung wieder her?", "nein", "4"],
        // an unknown number, given up after the configured attempts
        ["99999", "88888", "77777", "Das Webinterface ist nicht erreichbar", "nein", "3"],
    ])
    func aRestoredIntakeAnswersTheNextLineLikeTheOriginal(_ script: [String]) throws {
        for step in 0..<script.count {
            var original = intake(after: Array(script[..<step]))
            var (restored, _) = try throughTheStore(original)
            #expect(restored.snapshot == original.snapshot, "step \(step): the snapshot survives unchanged")
            let line = script[step]
            let expected = original.receive(line, context(at: now.addingTimeInterval(60)))
            let got = restored.receive(line, context(at: now.addingTimeInterval(60)))
            #expect(got == expected, "step \(step), line \"\(line)\"")
            #expect(restored.snapshot == original.snapshot, "step \(step): the same state after \"\(line)\"")
        }
        // The walk ends in a ticket (the script is a whole conversation).
        var last = intake(after: Array(script.dropLast()))
        #expect(last.receive(script.last!, context()).contains { if case .createTicket = $0 { true } else { false } })
    }

    @Test func aRestoredIntakeAfterTheDescriptionAsksNoNumberAndNoPINAndGreetsNoOneAgain() throws {
        let original = intake(after: ["Hallo, Kundennummer 10042", "4711"])
        #expect(original.lastQuestion == .description)
        var (restored, _) = try throughTheStore(original)
        #expect(restored.group == .contract && restored.lastQuestion == .description)
        let said = restored.receive("Der Drucker im Lager druckt nur noch leere Seiten", context())
        let text = said.compactMap { if case .say(let text) = $0 { text } else { nil } }.joined(separator: "\n")
        #expect(!text.contains("Guten Tag"), "not greeted as new: \(text)")
        #expect(!text.contains("Kundennummer"), "no number question: \(text)")
        #expect(!text.contains("PIN"), "no PIN question: \(text)")
        #expect(text.contains("Wie schwer wiegt das Problem?") || text.contains("Löst einer davon Ihr Problem?"),
                "the next question: \(text)")
    }

    @Test func noPINAndNoPINHashIsEverStored() throws {
        // A PIN given before the number is held by the intake until the
        // number comes — and dropped from what is stored.
        let early = intake(after: ["PIN 4711"])
        let (_, earlyBytes) = try throughTheStore(early)
        // A PIN being checked right now.
        var checking = Intake(identity: alice, language: .de, languageSettled: false, context())
        let effects = checking.receive("Kundennummer 10042, PIN 4711", context())
        #expect(effects.contains(.verifyPIN(number: "10042", pin: "4711")))
        #expect(checking.verifying)
        let (_, checkingBytes) = try throughTheStore(checking)
        // A proven contract customer (the record holds the PIN hash).
        let (_, provenBytes) = try throughTheStore(intake(after: ["10042", "4711"]))
        for bytes in [earlyBytes, checkingBytes, provenBytes] {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("4711"), "no PIN: \(text)")
            #expect(!text.contains("pbkdf2"), "no PIN hash: \(text)")
            #expect(!text.lowercased().contains("hash"), "no PIN hash: \(text)")
        }
    }

    @Test func aPINCheckCutOffByTheRestartIsAskedForAgainAndOnlyThen() throws {
        var checking = Intake(identity: alice, language: .de, languageSettled: false, context())
        _ = checking.receive("Kundennummer 10042, PIN 4711, der Tunnel ist weg", context())
        var (restored, _) = try throughTheStore(checking)
        #expect(!restored.verifying, "no check runs after the restart")
        let said = restored.resume(interruptedPINCheck: checking.snapshot.pinCheckInterrupted, context())
        #expect(said == [.say("Guten Tag! Hier ist der Support von Nordlicht Systems. Ich nehme Ihr Anliegen auf "
            + "und verbinde Sie mit unserem Team. "
            + "Während Ihre PIN geprüft wurde, bin ich neu gestartet; die PIN speichere ich nie. "
            + "Zu Kundennummer 10042 gibt es einen Wartungsvertrag. Bitte nennen Sie die Vertrags-PIN "
            + "(sie steht in Ihren Vertragsunterlagen).")])
        #expect(restored.receive("4711", context()) == [.verifyPIN(number: "10042", pin: "4711")])

        // Any other step: nothing is said at the restart.
        var (waiting, _) = try throughTheStore(intake(after: ["10042"]))
        #expect(waiting.resume(interruptedPINCheck: false, context()).isEmpty)
    }

    @Test func aContractClaimedWhileThePINWasLockedStaysFlaggedAfterARestart() throws {
        var original = Intake(identity: alice, language: .de, languageSettled: false, context())
        _ = original.receive("Kundennummer 10042, PIN 4711, der VPN-Tunnel zum Lager ist ausgefallen", context())
        _ = original.pinRefused(.numberLocked(retryAt: now.addingTimeInterval(900)), number: "10042", context())
        #expect(original.draft().contractClaimPINLocked)
        var (restored, _) = try throughTheStore(original)
        #expect(restored.draft() == original.draft())
        #expect(restored.receive("2", context()) == original.receive("2", context()))
    }

    @Test func aCustomerNoLongerConfiguredIsKeptAsNotFoundAndServedWithoutAContract() throws {
        let original = intake(after: ["Kundennummer 10042", "4711"])
        var stored = original.snapshot
        stored.customer = .known(number: "55555")
        let restored = Intake(restoring: stored, context())
        #expect(restored.customer == .notFound("55555"))
        #expect(restored.group == .noContract)
    }

    @Test func aFollowUpWithAPendingOfferAndHeldLinesRoundTrips() throws {
        let key = Bots.ConversationKey(network: "demo", nick: "Nora") { name, _ in name.lowercased() }
        let nora = ChatIdentity(network: "demo", nick: "Nora", account: "nora")
        for followUp in [
            FollowUp(number: TicketNumber(3), group: .noContract),
            FollowUp(number: TicketNumber(3), group: .noContract, offerMade: true, awaitingMessage: true),
            FollowUp(number: TicketNumber(4), group: .contract, burstEnds: now.addingTimeInterval(3),
                     buffered: ["erste Zeile", "zweite Zeile"], lastAck: now.addingTimeInterval(-40),
                     toldRelayed: true),
        ] {
            let conversation = Conversation(serial: 1, key: key, identity: nora, language: .en,
                                            phase: .ticket(followUp), lastActivity: now)
            let stored = conversation.stored(offerAt: now.addingTimeInterval(180), relayAt: followUp.burstEnds)
            let back = try StoredConversation.decode(stored.snapshot(state: try stored.encoded(), now: now,
                                                                     expiry: 3600))
            #expect(back == stored)
            #expect(back.phase == .ticket(followUp))
            #expect(back.offerAt == now.addingTimeInterval(180))
            #expect(back.key == key && back.identity == nora && back.language == .en)
        }
    }

    /// A conversation following its ticket is encoded by hand on the page's
    /// path (issue 12); its bytes are exactly `JSONEncoder`'s with sorted
    /// keys — the journal compares bytes, and snapshots written before
    /// stay "unchanged" — across nil and set optionals, pending texts,
    /// held lines and names with every character JSON escapes, and dates
    /// whole, fractional, negative and far off.
    @Test func aFollowUpIsEncodedByteForByteAsJSONEncoderEncodesIt() throws {
        let reference = JSONEncoder()
        reference.outputFormatting = [.sortedKeys]
        let awkward = String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) })
            + "\"\\/\u{7f}äß€😀\u{2028}é"
        let dates = [now, now.addingTimeInterval(0.123456), Date(timeIntervalSinceReferenceDate: 0),
                     Date(timeIntervalSinceReferenceDate: -5.5), Date(timeIntervalSinceReferenceDate: 1e-7),
                     Date(timeIntervalSinceReferenceDate: 1e17), Date(timeIntervalSinceReferenceDate: 818_283_861.414106)]
        let identities = [ChatIdentity(network: "demo", nick: "Nora", account: "nora"),
                          ChatIdentity(network: "matrix-main", nick: "@nöra:example.org/x", account: nil),
                          ChatIdentity(network: awkward, nick: awkward, account: awkward)]
        var checked = 0
        for (index, date) in dates.enumerated() {
            let identity = identities[index % identities.count]
            let key = Bots.ConversationKey(identity) { name, _ in name.lowercased() }
            for followUp in [
                FollowUp(number: TicketNumber(Int64(index + 1)), group: .noContract),
                FollowUp(number: TicketNumber(9_007_199_254_740_993), group: .contract, offerMade: true,
                         awaitingMessage: true, burstEnds: date, buffered: ["erste Zeile", awkward, ""],
                         lastAck: date.addingTimeInterval(-40), toldRelayed: true),
            ] {
                var conversation = Conversation(serial: 1, key: key, identity: identity, language: index % 2 == 0 ? .en : .de,
                                                phase: .ticket(followUp), lastActivity: date)
                for pending in [[], [PendingText(text: awkward, transactionID: "sb-ask-1/2", saidAt: date),
                                     PendingText(text: "Danke", transactionID: "", saidAt: now)]] {
                    conversation.pending = pending
                    for (offerAt, relayAt) in [(nil, nil), (date, date.addingTimeInterval(3))] as [(Date?, Date?)] {
                        let stored = conversation.stored(offerAt: offerAt, relayAt: relayAt)
                        let expected = try reference.encode(stored)
                        // The hand-written path itself, and `encoded()` taking it.
                        let written = try #require(stored.encodedFollowingTicket(followUp))
                        #expect(Data(written) == expected)
                        let bytes = try stored.encoded()
                        #expect(bytes == expected, "\(String(decoding: bytes, as: UTF8.self))\n\(String(decoding: expected, as: UTF8.self))")
                        #expect(try StoredConversation.decode(stored.snapshot(state: bytes, now: now, expiry: 60)) == stored)
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 56)
    }

    @Test func anUnknownFormatVersionOrBrokenBytesAreRefusedNotHalfRead() throws {
        let stored = intake(after: ["10042"])
        let key = Bots.ConversationKey(network: "demo", nick: "alice") { name, _ in name }
        let conversation = Conversation(serial: 1, key: key, identity: alice, language: .de, phase: .intake(stored),
                                        lastActivity: now).stored(offerAt: nil, relayAt: nil)
        var snapshot = conversation.snapshot(state: try conversation.encoded(), now: now, expiry: 3600)
        snapshot.formatVersion = 2
        #expect(throws: StoredConversationError.unknownFormatVersion(2)) { try StoredConversation.decode(snapshot) }
        snapshot.formatVersion = StoredConversation.formatVersion
        snapshot.state = Data(#"{"key":{"network":"demo"}}"#.utf8)
        #expect {
            try StoredConversation.decode(snapshot)
        } throws: { error in
            guard case StoredConversationError.undecodable = error else { return false }
            return true
        }
    }

    @Test func theJournalWritesAChangedConversationOnceAndDeletesOnlyWhatItWrote() throws {
        let key = Bots.ConversationKey(network: "demo", nick: "alice") { name, _ in name }
        let other = Bots.ConversationKey(network: "demo", nick: "bob") { name, _ in name }
        var conversation = Conversation(serial: 1, key: key, identity: alice, language: .de,
                                        phase: .intake(intake(after: ["10042"])), lastActivity: now)
        var live: [Bots.ConversationKey: Conversation] = [key: conversation]
        var journal = ConversationJournal()
        func writes() -> [String] {
            journal.writes(now: now, expiry: 3600, logger: .disabled) { live[$0]?.stored(offerAt: nil, relayAt: nil) }
                .map { write in
                    switch write {
                    case .save(let key, let snapshot):
                        #expect(snapshot.key == StoredConversation.storeKey(key))
                        return "save \(key)"
                    case .delete(let key): return "delete \(key)"
                    }
                }
        }
        journal.touch(key)
        journal.touch(other)  // a command from someone without a conversation
        #expect(writes() == ["save demo:~alice"])
        #expect(writes().isEmpty, "nothing touched, nothing written")
        journal.touch(key)
        #expect(writes().isEmpty, "touched but unchanged: not written again")
        conversation.lastActivity = now.addingTimeInterval(5)
        live[key] = conversation
        journal.touch(key)
        #expect(writes() == ["save demo:~alice"])
        journal.saveFailed(key)
        journal.touch(key)
        #expect(writes() == ["save demo:~alice"], "a failed save is tried again")
        live[key] = nil
        journal.touch(key)
        journal.touch(other)
        #expect(writes() == ["delete demo:~alice"])
        journal.touch(key)
        #expect(writes().isEmpty, "deleted once")
    }

    @Test func theExpiryIsCountedFromTheCustomersLastMessage() throws {
        let key = Bots.ConversationKey(network: "demo", nick: "alice") { name, _ in name }
        let stored = Conversation(serial: 1, key: key, identity: alice, language: .de,
                                  phase: .intake(intake(after: ["10042"])),
                                  lastActivity: now.addingTimeInterval(-600)).stored(offerAt: nil, relayAt: nil)
        let snapshot = stored.snapshot(state: try stored.encoded(), now: now, expiry: 86_400)
        #expect(snapshot.updatedAt == now)
        #expect(snapshot.expiresAt == now.addingTimeInterval(86_400 - 600))
    }
}
