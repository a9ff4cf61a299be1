import Foundation
import Glibc
import Testing
import TestSupport

/// Operating the gateway (SPEC.md "Operating it", "Data"): health and
/// metrics on loopback, and customers re-read without a restart.
@Suite(.serialized) struct OperationsTests {
    @Test func healthAndMetricsAnswerOnLoopback() async throws {
        try await NgircdServer.with { server in
            let gateway = try await GatewayProcess.start(network: .init(port: server.port))
            defer { Task { await gateway.stop() } }
            let health = try await gateway.http("/healthz")
            #expect(health.status == "200")
            #expect(health.body.contains("e2e: connected"), "\(health.body)")

            let customer = try await IRCTestClient(port: server.port, nick: "gast")
            customer.privmsg("switchboard", "hello, no customer number: how do I renew my NordBox licence?")
            _ = try await customer.expectMessage(from: "switchboard", containing: "Nordlicht Systems support")
            let metrics = try await gateway.http("/metrics")
            #expect(metrics.status == "200")
            #expect(metrics.body.contains("switchboard_network_connected{network=\"e2e\"} 1"), "\(metrics.body)")
            #expect(metrics.body.contains("switchboard_conversations_active 1"))
            #expect(metrics.body.contains("# TYPE switchboard_tickets_created_total counter"))
            #expect(try await gateway.http("/nothing").status == "404")

            await server.kill()
            var degraded = try await gateway.http("/healthz")
            for _ in 0..<50 where degraded.status != "503" {
                try await Task.sleep(for: .milliseconds(100))
                degraded = try await gateway.http("/healthz")
            }
            #expect(degraded.status == "503", "health says when the network is gone: \(degraded.body)")
            await gateway.stop()
        }
    }

    @Test func sighupReloadsCustomersAndKeepsTheRunningConfigurationWhenTheNewOneIsBroken() async throws {
        try await NgircdServer.with { server in
            let gateway = try await GatewayProcess.start(network: .init(port: server.port))
            defer { Task { await gateway.stop() } }
            let customersFile = gateway.deskDirectory + "/customers.json5"
            let original = try String(contentsOfFile: customersFile, encoding: .utf8)

            // A customer added to the file is known after SIGHUP, without a restart.
            let added = original.replacingOccurrences(of: "  customers: [\n", with: """
                  customers: [
                    { number: "20020", name: "Neue Werft Lübeck GmbH",
                      contract: { tier: "enterprise", from: "2020-01-01", until: "2099-12-31" },
                      pinHash: "pbkdf2-sha256$10000$3CHDs/8OP7zP1lyBnFHfxQ==$sF+3jqWEs8wT8ithX36bFWGayLGUNubs2QChZgftPUI=" },

                """)
            #expect(added != original)
            try added.write(toFile: customersFile, atomically: true, encoding: .utf8)
            gateway.send(signal: SIGHUP)
            // A reload reads every file again, the KB with its vocabularies too:
            // about 1 s in a debug build, several while the whole suite runs.
            try await gateway.waitForOutput("configuration reloaded", timeout: .seconds(30))
            let newCustomer = try await IRCTestClient(port: server.port, nick: "luebeck")
            newCustomer.privmsg("switchboard", "Hello, customer number 20020, our backup stopped")
            _ = try await newCustomer.expectMessage(from: "switchboard", containing: "PIN")

            // A broken file is refused; the running configuration stays.
            try (added + "\n{ this is not json5").write(toFile: customersFile, atomically: true, encoding: .utf8)
            gateway.send(signal: SIGHUP)
            try await gateway.waitForOutput("reload refused", timeout: .seconds(30))
            #expect(gateway.output.contains("customers.json5"), "the refusal names the file")
            let another = try await IRCTestClient(port: server.port, nick: "luebeck2")
            another.privmsg("switchboard", "Hello, customer number 20020, a second question")
            _ = try await another.expectMessage(from: "switchboard", containing: "PIN")
            await gateway.stop()
        }
    }
}
