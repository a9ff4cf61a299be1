import Foundation
import Testing
import TestSupport

/// Conversations survive a restart (issue 8 item 4), on a real ngircd with
/// the real `switchboard` process and its SQLite file.
extension SupportDeskTests {
    @Test func aCustomerBetweenThePINAndTheDescriptionGoesOnAfterTheGatewayIsKilled() async throws {
        try await withDesk { server, gateway in
            let anna = try await IRCTestClient(port: server.port, nick: "anna")
            try await anna.join("#agents")
            let customer = try await IRCTestClient(port: server.port, nick: "werft")
            try await say(customer, "Hello, customer number 20001", expecting: "PIN")
            customer.privmsg("switchboard", "4711")
            // The confirmation and the next question share a line where they fit.
            let confirmed = try await customer.expectMessage(from: "switchboard", containing: "contract is confirmed")
            if !confirmed.text.contains("Please describe your problem") {
                _ = try await customer.expectMessage(from: "switchboard", containing: "Please describe your problem")
            }

            // The customer has been told the next question, so what they
            // answered is stored. Now the gateway dies, as in a crash.
            await gateway.kill()
            let killedAt = ContinuousClock.now
            try await gateway.restart()

            customer.privmsg("switchboard", "The VPN to the shipyard has been down since this morning")
            let next = try await customer.expect("suggestions or severity question", timeout: .seconds(20)) {
                $0.nick == "switchboard" && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
            }
            if next.text.contains("Does one of them solve") {
                try await say(customer, "no", expecting: "How serious")
            }
            customer.privmsg("switchboard", "1")
            let saved = try await customer.expectMessage(from: "switchboard", containing: "is saved")
            let number = try ticketNumber(in: saved.text)
            #expect(saved.text.contains("P1"),
                    "a contract ticket — the PIN given before the kill still counts: \(saved.text)")
            let page = try await anna.expect("the page for the ticket") {
                $0.nick == "switchboard" && $0.params.first == "anna" && $0.text.contains("#\(number)")
            }
            #expect(page.text.contains("Kieler Werft AG"))

            // After the restart nobody asked again for the number or the PIN,
            // and the customer was not greeted as new.
            let afterRestart = customer.seen.filter { $0.nick == "switchboard" && $0.receivedAt > killedAt }
            #expect(!afterRestart.isEmpty)
            for line in afterRestart {
                #expect(!line.text.contains("customer number?"), "the number was asked again: \(line.text)")
                #expect(!line.text.contains("contract PIN"), "the PIN was asked again: \(line.text)")
                #expect(!line.text.contains("Hello! This is Nordlicht"), "greeted as new: \(line.text)")
            }
            let shown = try await gateway.runCommand(["tickets", "show", String(number)])
            #expect(shown.contains("Kieler Werft AG (20001)"), "\(shown)")
            #expect(shown.contains("VPN to the shipyard"), "the description given after the restart: \(shown)")
        }
    }
}
