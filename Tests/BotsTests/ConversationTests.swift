import Bots
import Core
import Desk
import Foundation
import Store
import Synchronization
import Testing

/// The customer conversation, line by line (SPEC "Customer conversation").
@Suite struct ConversationTests {
    @Test func contractCustomerWithPINIsPagedAfterTheTicketIsStored() async throws {
        let h = try await Harness()
        let alice = h.customer("alice", account: "alice")
        // How many tickets the store holds at the moment each line goes out.
        let store = h.store
        let ticketsAtSend = Mutex<[String: Int]>([:])
        h.demo.onSend { action in
            let count = (try? await store.recentTickets(limit: 10).count) ?? -1
            ticketsAtSend.withLock { $0[action.text] = count }
        }

        var out = await h.say("Hallo, unser VPN-Tunnel zum Lager ist seit heute früh komplett ausgefallen", from: alice)
        // Greeting and question in one line (each line costs ~2 s under a network's flood limit).
        #expect(out.to("alice") == ["Guten Tag! Hier ist der Support von Nordlicht Systems. Ich nehme Ihr Anliegen auf "
            + "und verbinde Sie mit unserem Team. Wie lautet Ihre Kundennummer? Wenn Sie keine haben, antworten Sie "
            + "einfach „keine“."])

        out = await h.say("10042", from: alice)
        #expect(out.to("alice") == ["Zu Kundennummer 10042 gibt es einen Wartungsvertrag. Bitte nennen Sie die Vertrags-PIN "
            + "(sie steht in Ihren Vertragsunterlagen)."])

        out = await h.say("4711", from: alice)
        let afterPIN = try #require(out.to("alice").first)
        #expect(afterPIN.hasPrefix("Danke – Ihr Vertrag ist bestätigt, Speicherstadt Logistik GmbH. Wie schwer wiegt das Problem?"))
        #expect(try await h.openTickets().isEmpty)

        out = await h.say("1", from: alice)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.number == TicketNumber(1))
        #expect(ticket.priority.label == "P1")
        #expect(ticket.group == .contract && ticket.tier == "premium" && ticket.customerNumber == "10042")
        #expect(ticket.summary == "unser VPN-Tunnel zum Lager ist seit heute früh komplett ausgefallen")

        // The on-duty agent (anna) gets a private page and a mention in the channel.
        let pages = out.pages
        #expect(pages.count == 2)
        #expect(pages.allSatisfy { $0.lane == .urgent && $0.expiresAt == nil })
        #expect(out.to("anna") == ["PAGE #1 P1 – Speicherstadt Logistik GmbH: unser VPN-Tunnel zum Lager ist seit heute "
            + "früh komplett ausgefallen – bitte „!ack 1“ oder „!take 1“"])
        #expect(out.in("#agents") == ["anna: PAGE #1 P1 – Speicherstadt Logistik GmbH: unser VPN-Tunnel zum Lager ist seit "
            + "heute früh komplett ausgefallen (!ack 1 / !take 1)"])
        // The customer learns the number, the priority and who was paged.
        let confirmation = try #require(out.to("alice").last)
        #expect(confirmation == "Ihr Ticket #1 (P1) ist gespeichert. Ich habe soeben anna aus unserem Bereitschaftsdienst "
            + "benachrichtigt; anna meldet sich hier bei Ihnen.")
        #expect(out.first { $0.text == confirmation }?.lane == .urgent)
        // … and every one of these lines went out only after the ticket was committed.
        for line in out.to("anna") + out.in("#agents") + [confirmation] {
            #expect(ticketsAtSend.withLock { $0[line] } == 1)
        }

        // The outbox holds both pages, pending until the network confirms them.
        #expect(try await h.store.pendingPages(dueBy: .distantFuture, limit: 10).count == 2)
        await h.confirm(out)
        let stored = try await h.store.pages(of: ticket.number)
        #expect(stored.count == 2 && stored.allSatisfy { $0.sentAt != nil })
        #expect(try await h.store.ticket(ticket.number)?.ticket.state == .paged)
        #expect(try await h.store.events(of: ticket.number).map(\.kind) == [.created, .stateChanged, .paged])
    }

    @Test func aLinkedAccountNeedsNeitherNumberNorPIN() async throws {
        let h = try await Harness()
        let dental = h.customer("praxis", account: "elbedental")
        var out = await h.say("Hallo, die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: dental)
        let reply = out.to("praxis").joined(separator: "\n")
        #expect(reply.contains("Ich habe Sie an Ihrem Chat-Konto erkannt: Elbe Dental MVZ GmbH, Kundennummer 10077."))
        #expect(reply.contains("Wie schwer wiegt das Problem?"))
        #expect(!reply.contains("PIN") && !reply.contains("Kundennummer?"))
        out = await h.say("2", from: dental)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.group == .contract && ticket.tier == "enterprise" && ticket.priority.label == "P2")
        #expect(out.to("praxis").last?.contains("Ihr Ticket #1 (P2) ist gespeichert") == true)
    }

    @Test func threeWrongPINsServeTheCustomerWithoutContractAndAreLogged() async throws {
        let h = try await Harness()
        let mallory = h.customer("mallory")
        await h.say("Kundennummer 10042", from: mallory)
        var out = await h.say("1111", from: mallory)
        #expect(out.to("mallory") == ["Diese PIN stimmt leider nicht. Sie haben noch 2 Versuch(e)."])
        out = await h.say("2222", from: mallory)
        #expect(out.to("mallory") == ["Diese PIN stimmt leider nicht. Sie haben noch 1 Versuch(e)."])
        out = await h.say("3333", from: mallory)
        let reply = out.to("mallory").joined(separator: "\n")
        #expect(reply.contains("Die PIN konnte ich nicht bestätigen. Ich nehme Ihr Anliegen trotzdem auf – allerdings ohne Vertragsvorrang."))
        #expect(reply.contains("Bitte beschreiben Sie kurz Ihr Problem"))

        let attack = try await h.store.pinAttackState(customerNumber: "10042", at: h.clock.date, policy: .standard)
        #expect(attack.wrongInWindow == 3 && attack.distinctIdentities == 1)
        #expect(h.logs.lines.filter { $0.contains("wrong contract PIN") && $0.contains("customer_number=10042") }.count == 3)
        // No PIN ever reaches the log.
        #expect(!h.logs.lines.contains { $0.contains("1111") || $0.contains("3333") })

        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: mallory)
        out = await h.say("1", from: mallory)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.group == .noContract && ticket.priority.label == "P5" && ticket.customerNumber == nil)
        #expect(ticket.customerName == "mallory (unverified: 10042 Speicherstadt Logistik GmbH)")
        #expect(out.pages.allSatisfy { $0.recipient == .channel("#agents") })

        // A new conversation does not give three fresh attempts: the store
        // refuses the sender's fourth check at once, nothing is hashed, and
        // the customer is served without the contract.
        await h.say("!cancel", from: mallory)
        await h.say("Kundennummer 10042", from: mallory)
        out = await h.say("4711", from: mallory)
        #expect(out.to("mallory").joined().contains("Die PIN konnte ich nicht bestätigen"))
        #expect(!out.to("mallory").joined().contains("Ihr Vertrag ist bestätigt"))
        let after = try await h.store.pinAttackState(customerNumber: "10042", at: h.clock.date, policy: .standard)
        #expect(after.wrongInWindow == 3)
    }

    @Test func anExpiredContractIsNoContractAndTheCustomerIsToldSo() async throws {
        let h = try await Harness()
        let fisch = h.customer("fisch")
        let out = await h.say("Kundennummer 10150", from: fisch)
        let reply = out.to("fisch").joined(separator: "\n")
        #expect(reply.contains("Der Wartungsvertrag zu Kundennummer 10150 ist am 31.12.2025 abgelaufen."))
        #expect(!reply.contains("PIN"))
        #expect(reply.contains("Bitte beschreiben Sie kurz Ihr Problem"))
        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: fisch)
        await h.say("2", from: fisch)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.group == .noContract && ticket.priority.label == "P6")
    }

    @Test func everythingInOneLineLeavesOnlyThePINToAsk() async throws {
        let h = try await Harness()
        let bob = h.customer("bob", account: "bob")
        var out = await h.say("Kundennummer 10042, unser VPN-Tunnel zum Lager ist komplett ausgefallen, Prio 1", from: bob)
        #expect(out.to("bob").joined().contains("Bitte nennen Sie die Vertrags-PIN"))
        #expect(!out.to("bob").joined().contains("Problem"))
        out = await h.say("4711", from: bob)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.priority.label == "P1")
        #expect(ticket.summary == "unser VPN-Tunnel zum Lager ist komplett ausgefallen")
        #expect(out.to("bob").last?.contains("#1 (P1)") == true)
    }

    @Test func anEnglishCustomerIsAnsweredInEnglish() async throws {
        let h = try await Harness()
        let eve = h.customer("eve", account: "eve")
        var out = await h.say("Hi, our NordBox L does not boot anymore, all LEDs are red", from: eve)
        #expect(out.to("eve").joined().contains("What is your customer number? If you don't have one, just answer “none”."))
        out = await h.say("none", from: eve)
        #expect(out.to("eve").joined().contains("How serious is the problem? Answer 1 (system down"))
        out = await h.say("2", from: eve)
        let reply = out.to("eve").joined(separator: "\n")
        #expect(reply.contains("Your ticket #1 (P6) is saved; you are number 1 in the queue."))
        #expect(reply.contains("there is no entitlement to support"))
        #expect(reply.contains("https://nordlicht.example/support/contract"))
        #expect(try await h.openTickets().first?.language == "en")
    }

    @Test func langSwitchesTheLanguage() async throws {
        let h = try await Harness()
        let udo = h.customer("udo")
        var out = await h.say("10042", from: udo)
        #expect(out.to("udo").joined().contains("Vertrags-PIN"))
        out = await h.say("!lang en", from: udo)
        #expect(out.to("udo") == ["Sure, I'll write in English from now on.",
                                  "Customer number 10042 has a service contract. Please give the contract PIN "
                                      + "(you'll find it in your contract documents)."])
        out = await h.say("4711", from: udo)
        #expect(out.to("udo").joined().hasPrefix("Thank you – your contract is confirmed"))
    }

    @Test func aKBArticleThatHelpsEndsWithoutATicketAndIsCounted() async throws {
        let h = try await Harness()
        let carla = h.customer("carla")
        await h.say("keine Kundennummer", from: carla)
        var out = await h.say("Ich habe mein Passwort für die Verwaltungsoberfläche vergessen", from: carla)
        let offer = out.to("carla").joined(separator: "\n")
        #expect(offer.contains("Vielleicht hilft Ihnen einer dieser Artikel sofort:"))
        #expect(offer.contains("1. ") && offer.contains("https://docs.nordlicht.example/kb/KB-1022"))
        #expect(offer.contains("Löst einer davon Ihr Problem?"))
        out = await h.say("ja, 1", from: carla)
        #expect(out.to("carla") == ["Das freut mich! Dann lege ich kein Ticket an. Wenn doch noch etwas ist, schreiben Sie mir einfach wieder."])
        #expect(try await h.store.recentTickets(limit: 5).isEmpty)
        #expect(try await h.store.counters("deflected") == ["KB-1022": 1])
        // Per day of the desk's zone too: the status page's deflection chart.
        let today = ZonedCalendar.berlin.date(of: h.clock.date).description
        #expect(try await h.store.counters(CounterName.deflectedByDay) == [today: 1])
        #expect(await h.runtime.metrics().deflected == 1)
    }

    @Test func noAfterSuggestionsGoesOnToTheTicket() async throws {
        let h = try await Harness()
        let carla = h.customer("carla")
        await h.say("keine Kundennummer", from: carla)
        await h.say("Ich habe mein Passwort für die Verwaltungsoberfläche vergessen", from: carla)
        let out = await h.say("nein, der Link zum Zurücksetzen kommt nie an", from: carla)
        #expect(out.to("carla").joined().contains("Wie schwer wiegt das Problem?"))
        await h.say("3", from: carla)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.description.contains("der Link zum Zurücksetzen kommt nie an"))
    }

    @Test func anUnrelatedProblemGetsNoSuggestion() async throws {
        let h = try await Harness()
        let dora = h.customer("dora")
        await h.say("keine Kundennummer", from: dora)
        let out = await h.say("Unsere Kaffeemaschine ist kaputt", from: dora)
        #expect(!out.to("dora").joined().contains("Artikel"))
        #expect(out.to("dora").joined().contains("Wie schwer wiegt das Problem?"))
    }

    @Test func customerWithoutContractWaitsIsAnnouncedAndMayLeaveAMessage() async throws {
        let h = try await Harness()
        // One contract ticket waits already: the new one queues behind it.
        try await h.contractTicket("alice", severity: 3)
        let emma = h.customer("emma", account: "emma")
        await h.say("Hallo, keine Kundennummer", from: emma)
        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: emma)
        var out = await h.say("2", from: emma)
        let reply = try #require(out.to("emma").first)
        #expect(reply == """
            Ihr Ticket #2 (P6) ist gespeichert; Sie sind auf Platz 2 der Warteschlange.
            Ohne Wartungsvertrag besteht kein Anspruch auf Support: Wir bearbeiten Ihr Ticket, sobald kein Ticket mit höherer Priorität wartet.
            Mit einem Wartungsvertrag erreichen Sie unseren Bereitschaftsdienst direkt, ohne Warteschlange und mit zugesagten Reaktionszeiten: https://nordlicht.example/support/vertrag
            """)
        // Announced in the agents' channel, never paged to anyone.
        #expect(out.in("#agents") == ["Neues Ticket ohne Vertrag #2 P6 (Platz 2) – emma: Die NordBox im Lager reagiert "
            + "nicht mehr, alle Lampen blinken rot (!take 2)"])
        #expect(out.to("anna").isEmpty && out.to("emil").isEmpty)
        // Not urgent like a page; a line to agents goes ahead of unverified conversations.
        #expect(out.pages.allSatisfy { $0.lane == .priority })
        await h.confirm(out)

        // Nothing after two minutes; after three, the offer.
        #expect(await h.advance(minutes: 2).to("emma").isEmpty)
        out = await h.advance(minutes: 1)
        #expect(out.to("emma") == ["Ihr Ticket #2 wartet seit 3 Minuten, und noch ist niemand frei. Sie müssen nicht warten: "
            + "Schreiben Sie mir Ihre Nachricht, ich hänge sie an das Ticket, und wir antworten Ihnen hier."])
        out = await h.say("Bitte rufen Sie mich morgen ab 9 Uhr an: 040 1234567", from: emma)
        #expect(out.to("emma") == ["Danke – Ihre Nachricht ist an Ticket #2 angehängt. Sie können das Gespräch jetzt verlassen; "
            + "wir melden uns hier."])
        let events = try await h.store.events(of: TicketNumber(2))
        #expect(events.last?.kind == .customerMessage)
        #expect(events.last?.note == "Bitte rufen Sie mich morgen ab 9 Uhr an: 040 1234567")
        #expect(events.last?.actor == .customer("demo:emma"))
    }

    @Test func theOfferIsNotMadeWhenAnAgentTookTheTicket() async throws {
        let h = try await Harness()
        try await h.ticketWithoutContract("emma")
        await h.say("!take 1", from: h.agent("ben"), in: "#agents")
        #expect(await h.advance(minutes: 4).to("emma").isEmpty)
    }

    @Test func statusAndCancel() async throws {
        let h = try await Harness()
        try await h.contractTicket("alice", severity: 2)
        let emma = h.customer("emma", account: "emma")
        try await h.ticketWithoutContract("emma")
        var out = await h.say("!status", from: emma)
        #expect(out.to("emma") == ["Ihre offenen Tickets:\n#2 (P8) – Die NordBox im Lager reagiert nicht mehr, alle Lampen "
            + "blinken rot – Platz 2 in der Warteschlange"])
        out = await h.say("!cancel", from: emma)
        #expect(out.to("emma") == ["Ihr Ticket #2 ist zurückgezogen. Wenn Sie wieder Hilfe brauchen, schreiben Sie mir einfach."])
        #expect(out.in("#agents") == ["#2 wurde vom Kunden zurückgezogen (emma)."])
        #expect(try await h.store.ticket(TicketNumber(2))?.ticket.state == .cancelled)
        out = await h.say("!status", from: emma)
        #expect(out.to("emma") == ["Sie haben keine offenen Tickets."])
        // Someone else cannot cancel alice's ticket by naming it.
        out = await h.say("!cancel 1", from: emma)
        #expect(out.to("emma") == ["Es gibt nichts abzubrechen: Sie haben kein offenes Ticket."])
        #expect(try await h.store.ticket(TicketNumber(1))?.ticket.state.isOpen == true)
    }

    @Test func cancelDuringTheQuestionsEndsWithoutATicket() async throws {
        let h = try await Harness()
        let fritz = h.customer("fritz")
        await h.say("Hallo", from: fritz)
        let out = await h.say("!cancel", from: fritz)
        #expect(out.to("fritz") == ["In Ordnung, ich habe abgebrochen – es wurde kein Ticket angelegt."])
        #expect(await h.runtime.metrics().conversationsActive == 0)
    }

    @Test func anIdleConversationEndsPolitely() async throws {
        let h = try await Harness()
        let gus = h.customer("gus")
        await h.say("Hallo", from: gus)
        #expect(await h.advance(minutes: 29).to("gus").isEmpty)
        let out = await h.advance(minutes: 1)
        #expect(out.to("gus") == ["Da ich eine Weile nichts von Ihnen gehört habe, beende ich unser Gespräch – es wurde "
            + "kein Ticket angelegt. Schreiben Sie mir jederzeit wieder."])
        #expect(await h.runtime.metrics().conversationsActive == 0)
        // Activity moves the deadline.
        await h.say("Hallo", from: gus)
        await h.advance(minutes: 20)
        await h.say("keine", from: gus)
        #expect(await h.advance(minutes: 20).to("gus").isEmpty)
    }

    @Test func aPastedTextGetsBoundedRepliesAndIsKeptUpToTheLimit() async throws {
        let h = try await Harness()
        let paula = h.customer("paula", account: "paula")
        await h.say("Kundennummer 10042, PIN 4711", from: paula)
        // 10 KB of log with CR/LF, arriving as many lines at once.
        let line = "2026-03-02 03:12:44 backupd[812]: job 'nightly' failed: target not reachable (errno 113)\r"
        let paste = Array(repeating: line, count: 120)
        var replies: [String] = []
        for text in paste { replies += await h.say(text, from: paula).to("paula") }
        #expect(paste.joined().utf8.count > 10_000)
        #expect(replies.count <= 3, "\(replies)")
        #expect(replies.joined().contains("Ihre Beschreibung ist länger als 8 KB"))
        #expect(replies.allSatisfy { !$0.contains("\r") && !$0.contains("\u{0}") })
        // The log says a backup job failed: the KB offers its backup
        // articles (a word no article has no longer hides them); they do
        // not help, so a ticket follows.
        #expect(replies.joined().contains("Vielleicht hilft Ihnen einer dieser Artikel"))
        await h.say("nein", from: paula)
        await h.say("1", from: paula)
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.description.utf8.count <= 8192)
        #expect(ticket.description.utf8.count > 8000)
        #expect(!ticket.description.contains("\r"))
    }

    @Test func aCustomerInTheSupportChannelIsAnsweredPrivately() async throws {
        let h = try await Harness()
        let hanna = h.customer("hanna")
        let out = await h.say("Hallo, ich brauche Hilfe", from: hanna, in: "#support")
        #expect(out.in("#support") == ["hanna: Ich schreibe Ihnen privat weiter."])
        #expect(out.to("hanna").joined().contains("Wie lautet Ihre Kundennummer?"))
        // Lines in the channel that do not address the bot are not its business.
        #expect(await h.say("weiß jemand, wann das Update kommt?", from: hanna, in: "#support", addressed: false).isEmpty)
    }

    @Test func aNickKeyedConversationFollowsANickChange() async throws {
        let h = try await Harness()
        let ida = h.customer("ida")
        await h.say("10042", from: ida)
        await h.runtime.handle(.nickChanged(network: "demo", from: "ida", to: "ida_away"))
        _ = h.demo.takeNew()
        let out = await h.say("4711", from: h.customer("ida_away"))
        #expect(out.to("ida_away").joined().contains("Ihr Vertrag ist bestätigt"))
    }

    @Test func linesWhileThePINIsCheckedWaitForTheResultInOrder() async throws {
        let h = try await Harness()
        let jan = h.customer("jan")
        await h.say("10042", from: jan)
        // The PIN and the next two lines arrive before the check is done.
        for text in ["4711", "Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", "2"] {
            let message = ChatMessage(sender: jan.identity, place: .direct, text: text, addressedToBot: true, time: h.clock.date)
            await h.runtime.handle(.message(message))
        }
        await h.runtime.waitUntilIdle()
        let out = h.demo.takeNew()
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.group == .contract && ticket.priority.label == "P2")
        #expect(out.to("jan").last?.contains("Ihr Ticket #1 (P2) ist gespeichert") == true)
    }

    @Test func storeFailureIsToldHonestlyAndNothingIsLost() async throws {
        let h = try await Harness()
        let kim = h.customer("kim")
        await h.say("keine Kundennummer", from: kim)
        await h.say("Die NordBox im Lager reagiert nicht mehr, alle Lampen blinken rot", from: kim)
        await h.store.close()
        let out = await h.say("2", from: kim)
        #expect(out.to("kim").joined().contains("es wurde noch KEIN Ticket angelegt"))
        #expect(!out.to("kim").joined().contains("#"))
    }
}

/// Many customers checking PINs at once: every one is answered, in order per
/// customer. Four per number, so no number's budget (five wrong or still
/// running checks) is reached: a check still running counts as wrong.
@Suite struct PINCheckTests {
    @Test func manySimultaneousPINChecksAreAllAnswered() async throws {
        let h = try await Harness()
        let people = (0..<8).map { h.customer("c\($0)") }
        let numbers = ["10042", "10001"], pins = ["10042": "4711", "10001": "2468"]
        for (index, person) in people.enumerated() {
            await h.say(numbers[index % 2], from: person)
        }
        for (index, person) in people.enumerated() {
            let pin = index % 4 < 2 ? pins[numbers[index % 2]]! : "0000"
            let message = ChatMessage(sender: person.identity, place: .direct, text: pin,
                                      addressedToBot: true, time: h.clock.date)
            await h.runtime.handle(.message(message))
        }
        await h.runtime.waitUntilIdle()
        let out = h.demo.takeNew()
        for (index, person) in people.enumerated() {
            let reply = out.to(person.nick).joined()
            #expect(reply.contains(index % 4 < 2 ? "Ihr Vertrag ist bestätigt" : "Diese PIN stimmt leider nicht"),
                    "\(person.nick): \(reply)")
        }
    }
}

/// A message with line breaks (Matrix, the console) is taken line by line.
@Suite struct MultiLineMessageTests {
    @Test func aMultiLineMessageKeepsItsLinesInTheDescription() async throws {
        let h = try await Harness()
        let out = await h.say("keine Kundennummer\nDie NordBox im Lager reagiert nicht mehr.\r\nAlle Lampen blinken rot.\nSchweregrad 2",
                              from: h.customer("mia"))
        let ticket = try #require(try await h.openTickets().first)
        #expect(ticket.description == "Die NordBox im Lager reagiert nicht mehr.\nAlle Lampen blinken rot.")
        #expect(ticket.priority.label == "P6")
        #expect(out.to("mia").count <= 3)
    }
}
