import Foundation
import Testing
import TestSupport

/// The whole gateway against a real IRC server: the `switchboard` process
/// on a real ngircd, customers and agents as scripted raw-socket clients
/// (SPEC.md: Customer conversation, Escalation, Agent commands, Knowledge
/// base). Each test has its own server, gateway and store.
@Suite(.serialized) struct SupportDeskTests {
    /// A fresh ngircd and gateway for `body`; both stopped afterwards.
    func withDesk(sendQueue: String = #"{ preset: "fast" }"#,
                  _ body: (NgircdServer, GatewayProcess) async throws -> Void) async throws {
        try await NgircdServer.with { server in
            let gateway = try await GatewayProcess.start(network: .init(port: server.port, sendQueue: sendQueue))
            do {
                try await body(server, gateway)
            } catch {
                print("--- gateway output ---\n\(gateway.output.suffix(6000))")
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }
    }

    /// A customer talks to the bot: sends `line`, waits for the bot's reply
    /// containing `expecting`.
    @discardableResult
    func say(_ customer: IRCTestClient, _ line: String, expecting: String,
             timeout: Duration = .seconds(10)) async throws -> TestLine {
        customer.privmsg("switchboard", line)
        return try await customer.expectMessage(from: "switchboard", containing: expecting, timeout: timeout)
    }

    /// Walks a contract customer through to a ticket; returns the ticket number.
    func openContractTicket(_ customer: IRCTestClient, number: String = "20001", pin: String = "4711",
                            problem: String, severity: Int) async throws -> Int {
        try await say(customer, "Hello, customer number \(number). \(problem)", expecting: "PIN")
        customer.privmsg("switchboard", pin)
        // Either KB suggestions or the severity question comes next (the
        // severity question on the confirmation's line when it fits).
        let next = try await nextQuestion(customer, after: "contract is confirmed")
        if next.text.contains("Does one of them solve") {
            try await say(customer, "no", expecting: "How serious")
        }
        customer.privmsg("switchboard", String(severity))
        let saved = try await customer.expectMessage(from: "switchboard", containing: "is saved")
        return try ticketNumber(in: saved.text)
    }

    /// The line with the KB suggestions' question or the severity question,
    /// after the bot's line containing `after`: the bot puts a short
    /// question on the same line (every line costs ~2 s under a network's
    /// flood limit), a list of suggestions on lines of their own.
    func nextQuestion(_ customer: IRCTestClient, after: String, timeout: Duration = .seconds(10)) async throws -> TestLine {
        func isQuestion(_ line: TestLine) -> Bool {
            line.nick == "switchboard" && (line.text.contains("Does one of them solve") || line.text.contains("How serious"))
        }
        let first = try await customer.expectMessage(from: "switchboard", containing: after, timeout: timeout)
        if isQuestion(first) { return first }
        return try await customer.expect("suggestions or severity question", timeout: timeout, where: isQuestion)
    }

    func ticketNumber(in text: String) throws -> Int {
        let match = try #require(text.firstMatch(of: /#(\d+)/), "no ticket number in \"\(text)\"")
        return try #require(Int(match.1))
    }

    @Test func contractCustomerIsPagedToTheOnDutyAgentWithinASecond() async throws {
        try await withDesk { server, gateway in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            let customer = try await IRCTestClient(port: server.port, nick: "werft")
            try await say(customer, "Hello, customer number 20001, our VPN to the shipyard is down", expecting: "PIN")
            customer.privmsg("switchboard", "4711")
            let next = try await nextQuestion(customer, after: "contract is confirmed")
            if next.text.contains("Does one of them solve") { try await say(customer, "no", expecting: "How serious") }

            let sent = ContinuousClock.now
            customer.privmsg("switchboard", "1")
            let page = try await anna.expect("the page by private message") {
                $0.command == "PRIVMSG" && $0.nick == "switchboard" && $0.params.first == "anna"
            }
            let mention = try await anna.expect("the page in the agents' channel") {
                $0.command == "PRIVMSG" && $0.params.first == "#agents" && $0.text.contains("anna")
            }
            let confirmation = try await customer.expectMessage(from: "switchboard", containing: "is saved")
            let latency = sent.duration(to: page.receivedAt)
            print("page latency (last answer → agent's private message): \(latency)")
            #expect(latency < .seconds(1), "the on-duty agent is paged within a second")

            let number = try ticketNumber(in: confirmation.text)
            for line in [page.text, mention.text] {
                #expect(line.contains("#\(number)"), "the page names the ticket: \(line)")
                #expect(line.contains("P1"), "the page names the priority: \(line)")
                #expect(line.contains("Kieler Werft AG"), "the page names the customer: \(line)")
                #expect(line.contains("VPN"), "the page carries the summary: \(line)")
            }
            #expect(confirmation.text.contains("P1") && confirmation.text.contains("anna"),
                    "the customer is told the priority and who was paged: \(confirmation.text)")

            // The ticket was committed: the data command shows it with its page
            // marked sent (the mark follows the step's written lines).
            let shown = try await gateway.runCommand(["tickets", "show", String(number)]) {
                $0.contains("e2e/anna  sent")
            }
            #expect(shown.contains("Kieler Werft AG (20001)"))
            #expect(shown.contains("e2e/anna  sent"), "\(shown)")
        }
    }

    @Test func whenTheOnDutyAgentIsNotOnlineTheBackupIsPagedAtOnce() async throws {
        try await withDesk { server, _ in
            // anna is on duty but not connected; ben, the backup, sits in #agents.
            let ben = try await IRCTestClient(port: server.port, nick: "ben")
            try await ben.join("#agents")
            let customer = try await IRCTestClient(port: server.port, nick: "werft")
            let number = try await openContractTicket(customer, problem: "The VPN to the shipyard is down.", severity: 1)
            let page = try await ben.expect("the backup's private page", timeout: .seconds(5)) {
                $0.nick == "switchboard" && $0.params.first == "ben" && $0.text.contains("#\(number)")
            }
            #expect(page.text.contains("P1"))
            let line = try await ben.expect("the channel line") {
                $0.params.first == "#agents" && $0.text.contains("anna is on duty but not online")
            }
            #expect(line.text.contains("#\(number)"))
            let note = try await customer.expectMessage(from: "switchboard", containing: "not online right now")
            #expect(note.text.contains("ben"), "the customer is told who was paged instead: \(note.text)")
        }
    }

    @Test func nonContractCustomerGetsAQueuePositionAndTheHonestText() async throws {
        try await withDesk { server, _ in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            let first = try await IRCTestClient(port: server.port, nick: "gast1")
            let second = try await IRCTestClient(port: server.port, nick: "gast2")
            for (client, problem) in [(first, "How do I renew the licence of my NordBox?"),
                                      (second, "The admin console shows the wrong time zone")] {
                client.privmsg("switchboard", "hi, I have no customer number. \(problem)")
                let next = try await nextQuestion(client, after: "Nordlicht Systems support")
                if next.text.contains("Does one of them solve") { try await say(client, "no", expecting: "How serious") }
                client.privmsg("switchboard", "4")
            }
            let one = try await first.expectMessage(from: "switchboard", containing: "in the queue")
            let two = try await second.expectMessage(from: "switchboard", containing: "in the queue")
            #expect(one.text.contains("P8") && one.text.contains("number 1 in the queue"), "\(one.text)")
            #expect(two.text.contains("number 2 in the queue"), "\(two.text)")
            try await first.expectMessage(from: "switchboard", containing: "no entitlement")
            try await first.expectMessage(from: "switchboard", containing: "service contract")
            // Announced in the agents' channel, but no one is paged privately.
            _ = try await anna.expect("announcement") { $0.params.first == "#agents" && $0.text.contains("P8") }
            let privately = await anna.drain(for: .milliseconds(300)).filter { $0.params.first == "anna" && $0.nick == "switchboard" }
            #expect(privately.isEmpty, "non-contract tickets are never paged: \(privately)")
        }
    }

    @Test func nextHandsOutContractTicketsFirstThenBySeverity() async throws {
        try await withDesk { server, _ in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            // Oldest first: a non-contract P5, then contract severity 3, then contract severity 2.
            let guest = try await IRCTestClient(port: server.port, nick: "gast")
            guest.privmsg("switchboard", "hello, no customer number: our whole backup server is down")
            let q = try await nextQuestion(guest, after: "Nordlicht Systems support")
            if q.text.contains("Does one") { try await say(guest, "no", expecting: "How serious") }
            guest.privmsg("switchboard", "1")
            let p5 = try ticketNumber(in: try await guest.expectMessage(from: "switchboard", containing: "in the queue").text)

            let werft = try await IRCTestClient(port: server.port, nick: "werft")
            let minor = try await openContractTicket(werft, problem: "The e-mail alerts arrive twice.", severity: 3)
            let hafen = try await IRCTestClient(port: server.port, nick: "hafen")
            let major = try await openContractTicket(hafen, number: "20002", pin: "2468",
                                               problem: "Backups of the file server fail every night.", severity: 2)

            var order: [Int] = []
            for _ in 0..<3 {
                anna.privmsg("#agents", "!next")
                let taken = try await anna.expect("!next answer") {
                    $0.nick == "switchboard" && $0.params.first == "#agents" && $0.text.hasPrefix("anna takes #")
                }
                order.append(try ticketNumber(in: taken.text))
            }
            #expect(order == [major, minor, p5], "P2 before P3 before P5, whatever their age: \(order)")
        }
    }

    @Test func replyAndRelayGoBothWaysWithTheTicketNumber() async throws {
        try await withDesk { server, _ in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            let customer = try await IRCTestClient(port: server.port, nick: "werft")
            let number = try await openContractTicket(customer, problem: "Restore of the ERP database fails.", severity: 2)
            anna.privmsg("switchboard", "!take \(number)")
            try await customer.expectMessage(from: "switchboard", containing: "#\(number)")

            anna.privmsg("switchboard", "!reply \(number) Which error code does the restore show?")
            let relayed = try await customer.expectMessage(from: "switchboard", containing: "Which error code")
            #expect(relayed.text.contains("#\(number)"), "\(relayed.text)")

            customer.privmsg("switchboard", "It says E-4012 after 80 percent.")
            let back = try await anna.expectMessage(from: "switchboard", containing: "E-4012")
            #expect(back.text.contains("#\(number)"), "\(back.text)")
            #expect(back.params.first == "anna", "relayed privately to the assigned agent")
        }
    }

    @Test func anAcceptedKBSuggestionEndsWithoutATicket() async throws {
        try await withDesk { server, gateway in
            let customer = try await IRCTestClient(port: server.port, nick: "leser")
            try await say(customer, "hi, no customer number. I can't restore a deleted file from last week's backup",
                    expecting: "Does one of them solve")
            try await say(customer, "yes", expecting: "Glad to hear it")
            let tickets = try await gateway.runCommand(["tickets", "list"])
            #expect(tickets.contains("no tickets yet"), "\(tickets)")
        }
    }

    @Test func aNonAgentsNextIsRefused() async throws {
        try await withDesk { server, _ in
            let guest = try await IRCTestClient(port: server.port, nick: "mallory")
            try await guest.join("#agents")
            guest.privmsg("#agents", "!next")
            let refusal = try await guest.expect("refusal") {
                $0.nick == "switchboard" && $0.text.contains("is a command for support staff")
            }
            #expect(!refusal.text.contains("#"), "nothing about any ticket is revealed: \(refusal.text)")
        }
    }

    @Test func aPromisedPageIsDeliveredAfterTheGatewayIsKilled() async throws {
        // Two lines at once, then one a second: the customer's confirmation
        // and the private page go out at once, the channel page waits in the
        // send queue — and the gateway is killed right then. After the
        // restart the page still waiting in the store's outbox goes out.
        try await withDesk(sendQueue: #"{ burst: 2, interval: "1s" }"#) { server, gateway in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            let customer = try await IRCTestClient(port: server.port, nick: "werft")
            try await say(customer, "Hello, customer number 20001. The VPN concentrator rebooted and stays down.",
                    expecting: "PIN", timeout: .seconds(20))
            customer.privmsg("switchboard", "4711")
            let next = try await customer.expect("question", timeout: .seconds(30)) {
                $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
            }
            if next.text.contains("Does one of them solve") {
                try await say(customer, "no", expecting: "How serious", timeout: .seconds(30))
            }
            _ = await customer.drain(for: .seconds(3))  // the bucket fills up again: two lines at once
            customer.privmsg("switchboard", "1")
            let saved = try await customer.expectMessage(from: "switchboard", containing: "is saved", timeout: .seconds(10))
            await gateway.kill()
            let killedAt = ContinuousClock.now
            let number = try ticketNumber(in: saved.text)
            let beforeKill = await anna.drain(for: .milliseconds(200))
            #expect(!beforeKill.contains { $0.params.first == "#agents" && $0.text.contains("#\(number)") },
                    "the channel page was still queued when the gateway died")

            try await gateway.restart()
            let page = try await anna.expect("the channel page after the restart", timeout: .seconds(30)) {
                $0.params.first == "#agents" && $0.nick == "switchboard" && $0.text.contains("#\(number)")
            }
            #expect(page.receivedAt > killedAt)
            #expect(page.text.contains("P1"))
            let shown = try await gateway.runCommand(["tickets", "show", String(number)]) { !$0.contains("pending") }
            #expect(shown.contains("Kieler Werft AG"), "the promised ticket is stored: \(shown)")
            #expect(!shown.contains("pending"), "every page is sent after the restart: \(shown)")
        }
    }

    @Test func aPastedTenKilobyteTextWithLineBreaksIsHarmless() async throws {
        try await withDesk { server, gateway in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            let customer = try await IRCTestClient(port: server.port, nick: "paster")
            try await say(customer, "hello, customer number 20001", expecting: "PIN")
            customer.privmsg("switchboard", "4711")
            _ = try await customer.expectMessage(from: "switchboard", containing: "contract is confirmed")
            // A log pasted into the chat: the client sends it as many lines;
            // some carry what would be IRC commands if passed through.
            var log = "Backup job NightlyERP failed. Log follows:"
            var index = 0
            while log.utf8.count < 10_240 {
                index += 1
                log += "\r\n2026-11-28 02:\(String(format: "%02d", index % 60)):00 ERROR E-4012 chunk \(index) "
                    + (index % 7 == 0 ? "QUIT :x PRIVMSG #agents :!resolve 1 pwned " : "checksum mismatch on volume 2")
            }
            let lines = log.components(separatedBy: "\r\n")
            for line in lines { customer.privmsg("switchboard", line) }
            let answers = await customer.drain(for: .seconds(3)).filter { $0.nick == "switchboard" }
            #expect(answers.count <= 12, "a paste gets a few answers, not one per line: \(answers.count)")

            // The bot is still there and still answers: no QUIT left it, no flood kick.
            anna.send("ISON switchboard")
            let ison = try await anna.expect("ISON") { $0.command == "303" }
            #expect(ison.text.lowercased().contains("switchboard"))
            let next = try await customer.expect("question") {
                $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
            }
            if next.text.contains("Does one of them solve") { try await say(customer, "no", expecting: "How serious") }
            customer.privmsg("switchboard", "2")
            let saved = try await customer.expectMessage(from: "switchboard", containing: "is saved")
            let number = try ticketNumber(in: saved.text)
            // The agents' channel saw one page line per page, each a single PRIVMSG.
            let agentLines = await anna.drain(for: .milliseconds(500)).filter { $0.nick == "switchboard" }
            #expect(agentLines.allSatisfy { $0.command == "PRIVMSG" })
            let shown = try await gateway.runCommand(["tickets", "show", String(number)])
            #expect(shown.contains("checksum mismatch"), "the pasted text is kept in the description")
            #expect(!shown.contains("resolved"), "nothing in the paste acted as a command")
        }
    }
}
