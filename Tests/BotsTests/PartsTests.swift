@testable import Bots
import Desk
import Foundation
import Testing

/// The small parts the runtime is built from.
@Suite struct PartsTests {
    @Test func theScheduleHandsOutDeadlinesInOrderAndForgetsMovedOnes() {
        var schedule = DeadlineSchedule<String>()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        schedule.set("escalation", at: t0.addingTimeInterval(300))
        schedule.set("sla", at: t0.addingTimeInterval(120))
        schedule.set("idle", at: t0.addingTimeInterval(1800))
        #expect(schedule.earliest() == t0.addingTimeInterval(120))
        schedule.set("sla", at: t0.addingTimeInterval(600))   // moved later
        schedule.remove("idle")
        #expect(schedule.earliest() == t0.addingTimeInterval(300))
        #expect(schedule.popDue(t0.addingTimeInterval(299)).isEmpty)
        #expect(schedule.popDue(t0.addingTimeInterval(3600)) == ["escalation", "sla"])
        #expect(schedule.earliest() == nil && schedule.count == 0)
        // Many re-sets of one key do not make the heap grow without bound.
        for i in 0..<10_000 { schedule.set("idle", at: t0.addingTimeInterval(Double(i))) }
        #expect(schedule.count == 1)
        #expect(schedule.popDue(.distantFuture) == ["idle"])
        schedule.setIfEarlier("x", at: t0.addingTimeInterval(10))
        schedule.setIfEarlier("x", at: t0.addingTimeInterval(20))
        #expect(schedule.deadline(of: "x") == t0.addingTimeInterval(10))
    }

    @Test func sanitizedValuesAreOneLineWithoutControlCharacters() {
        #expect(Sanitizer.inline("a\r\nb\tc\u{0}d\u{1B}[31me\u{2028}f") == "a b cd[31me f")
        #expect(Sanitizer.inline("  viele   Leerzeichen  ") == "viele Leerzeichen")
        #expect(Sanitizer.inline("abcdefghij", limit: 5) == "abcd…")
        #expect(Sanitizer.inline("\u{202E}evil\u{202C}") == "evil")
        #expect(Sanitizer.lines("eins\r\nzwei\n\ndrei\nvier", maxLines: 2) == ["eins", "zwei", "… (+2)"])
    }

    /// Clean text is returned as it is; anything the slow path would change
    /// (a paragraph separator, a no-break space, a space at an end or
    /// doubled, a control character, more than `limit` scalars) still is.
    @Test func cleanValuesPassUnchangedAndOthersAreStillMadeSafe() {
        let clean = "Drucker: Menü › Geräte › „Drucker hinzufügen“ wählen 🖨️"
        #expect(Sanitizer.inline(clean) == clean)
        #expect(Sanitizer.inline("") == "")
        #expect(Sanitizer.inline("abcde", limit: 5) == "abcde")
        #expect(Sanitizer.inline("abcdef", limit: 5) == "abcd…")
        #expect(Sanitizer.inline("Absatz\u{2029}zwei") == "Absatz zwei")
        #expect(Sanitizer.inline("kein\u{00A0}Umbruch") == "kein Umbruch")
        #expect(Sanitizer.inline("rechts ") == "rechts")
        #expect(Sanitizer.inline(" links") == "links")
        #expect(Sanitizer.inline("zwei  Leer") == "zwei Leer")
        #expect(Sanitizer.inline("C1\u{85}weg\u{9B}") == "C1weg")
        #expect(Sanitizer.inline("mark\u{200F}weg") == "markweg")
        // The fast path (no copy) is the one clean text takes.
        #expect(Sanitizer.isInline(clean, limit: 400))
        #expect(!Sanitizer.isInline("a\u{2028}b", limit: 400))
    }

    @Test func templatesFillPlaceholdersAndKeepLiteralBraces() throws {
        let template = try TextTemplate.parse("{{json}} {ticket}: {text}").get()
        #expect(template.placeholders == ["ticket", "text"])
        #expect(template.render(["ticket": "#1", "text": "a\nb"]) == "{json} #1: a b")
        #expect(throws: TextTemplate.TemplateError.unclosed) { try TextTemplate.parse("{ticket").get() }
        #expect(throws: TextTemplate.TemplateError.strayClose) { try TextTemplate.parse("ticket}").get() }
    }

    @Test func durations() {
        #expect(Format.duration(30) == "0m")
        #expect(Format.duration(45 * 60) == "45m")
        #expect(Format.duration(2 * 3600 + 5 * 60) == "2h05m")
        #expect(Format.duration(3 * 86_400 + 4 * 3600) == "3d4h")
        #expect(Format.duration(-100) == "0m")
    }
}

/// The outbox part on its own: no store, no network.
@Suite struct OutboxTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    func record(_ id: Int64, target: String, attempts: Int = 0) -> PageRecord {
        PageRecord(id: PageID(rawValue: id), ticket: TicketNumber(rawValue: 7), step: 0, network: "demo",
                   target: target, text: "PAGE #7", createdAt: t0, dueAt: t0, attempts: attempts)
    }

    /// The runtime asks the network which targets are rooms; here the agents' channel.
    static func recipient(_ record: PageRecord) -> ChatRecipient {
        record.target == "#agents" ? .channel(record.target) : .user(record.target)
    }

    @Test func aRefusedPageBacksOffThenIsGivenUpAtTheCap() {
        var outbox = Outbox()
        var delays: [TimeInterval] = []
        var now = t0
        var attempts = 0
        while true {
            _ = outbox.handOver([record(1, target: "anna", attempts: attempts)], lane: { _ in .urgent }, recipient: Self.recipient, now: now)
            let (page, decision) = outbox.failed(PageID(rawValue: 1), now: now, maximumAttempts: 5)
            #expect(page?.target == "anna")
            guard case .retry(let at, let made) = decision else {
                #expect(decision == .giveUp(attempts: 5))
                break
            }
            delays.append(at.timeIntervalSince(now))
            attempts = made
            now = at
        }
        #expect(delays == [30, 60, 120, 240])
        #expect(outbox.inFlight.isEmpty)
    }

    @Test func pagesInFlightAreHandedOverOnceAndExpireAfterTheTimeout() {
        var outbox = Outbox()
        let actions = outbox.handOver([record(1, target: "anna"), record(2, target: "#agents")],
                                      lane: { _ in .urgent }, recipient: Self.recipient, now: t0)
        #expect(actions.map(\.recipient) == [.user("anna"), .channel("#agents")])
        #expect(actions.map(\.deliveryID) == [1, 2])
        #expect(outbox.handOver([record(1, target: "anna")], lane: { _ in .urgent }, recipient: Self.recipient, now: t0).isEmpty)
        #expect(outbox.nextWake(pendingDue: nil, timeout: 600) == t0.addingTimeInterval(600))
        #expect(outbox.delivered(PageID(rawValue: 2))?.target == "#agents")
        #expect(outbox.expire(now: t0.addingTimeInterval(599), timeout: 600).isEmpty)
        #expect(outbox.expire(now: t0.addingTimeInterval(600), timeout: 600).map(\.id) == [PageID(rawValue: 1)])
        #expect(outbox.nextWake(pendingDue: nil, timeout: 600) == nil)
    }
}

/// The KB bot part on its own: a query in, the answer out.
@Suite struct KBBotPartTests {
    @Test func answersUsageListsAndSummariesWithoutARuntime() async throws {
        let bot = KBBot(definitions: shippedDefinitions, knowledgeBase: try await shippedKB.value().current)
        #expect(bot.answer("  ", .en).contains("!kb"))
        let list = bot.answer("vpn drops", .en).split(separator: "\n")
        #expect(list.count >= 2 && list.count <= 1 + shippedDefinitions.kbSettings.results)
        #expect(list.dropFirst().contains { $0.hasPrefix("KB-1012 ") || $0.hasPrefix("KB-1011 ") })
        #expect(bot.answer("KB-1012", .en).hasPrefix("KB-1012 VPN connection keeps dropping:"))
    }
}
