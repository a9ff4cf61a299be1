import Foundation
import Testing
import TestSupport

/// The real `switchboard run` on a PostgreSQL store: a customer's ticket is
/// in the database, and a conversation killed between the PIN and the
/// description goes on after the restart (the SQLite variant is
/// `ConversationRestartTests`).
extension SupportDeskTests {
    @Test func onPostgreSQLAConversationSurvivesAKillAndTheTicketIsInTheDatabase() async throws {
        let url = try await PostgresServer.shared().createDatabase(
            "e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "_"))
        try await NgircdServer.with { server in
            let gateway = try await GatewayProcess.start(network: .init(port: server.port), databaseURL: url)
            do {
                let anna = try await IRCTestClient(port: server.port, nick: "anna")
                try await anna.join("#agents")
                let customer = try await IRCTestClient(port: server.port, nick: "werft")
                try await say(customer, "Hello, customer number 20001", expecting: "PIN")
                customer.privmsg("switchboard", "4711")
                let confirmed = try await customer.expectMessage(from: "switchboard", containing: "contract is confirmed")
                if !confirmed.text.contains("Please describe your problem") {
                    _ = try await customer.expectMessage(from: "switchboard", containing: "Please describe your problem")
                }
                await gateway.kill()
                try await gateway.restart()

                customer.privmsg("switchboard", "The crane PLC at the shipyard is offline")
                let next = try await customer.expect("suggestions or severity question", timeout: .seconds(20)) {
                    $0.nick == "switchboard"
                        && ($0.text.contains("Does one of them solve") || $0.text.contains("How serious"))
                }
                if next.text.contains("Does one of them solve") {
                    try await say(customer, "no", expecting: "How serious")
                }
                customer.privmsg("switchboard", "1")
                let saved = try await customer.expectMessage(from: "switchboard", containing: "is saved")
                let number = try ticketNumber(in: saved.text)
                _ = try await anna.expect("the page for the ticket") {
                    $0.nick == "switchboard" && $0.params.first == "anna" && $0.text.contains("#\(number)")
                }
                let shown = try await gateway.runCommand(["tickets", "show", String(number)])
                #expect(shown.contains("Kieler Werft AG (20001)"), "\(shown)")
                #expect(shown.contains("crane PLC"), "\(shown)")
                #expect(gateway.output.contains("PostgreSQL"), "the gateway says which store it uses")
            } catch {
                print("--- gateway output ---\n\(gateway.output.suffix(6000))")
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }
    }
}
