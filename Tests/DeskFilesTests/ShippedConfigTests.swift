import Config
import Desk
import DeskFiles
import Foundation
import PINHashing
import Testing

/// The configuration shipped in `config/` is valid and holds what the demo needs.
@Suite struct ShippedConfigTests {
    static func load() throws -> DeskConfiguration {
        try DeskFiles.load(DeskFiles.Paths(directory: repositoryRoot.appendingPathComponent("config").path,
                                           customers: ["customers.json5", "customers.csv"]),
                           verifier: PBKDF2PINVerifier())
    }

    @Test func shippedConfigurationValidates() throws {
        let desk: DeskConfiguration
        do {
            desk = try Self.load()
        } catch {
            Issue.record("config/ does not validate:\n\(error)")
            return
        }
        #expect(Set(desk.tiers.all.map(\.id)).isSuperset(of: ["basic", "premium", "enterprise"]))
        #expect(desk.customers.count >= 20)
        #expect(desk.zone.timeZone.identifier == "Europe/Berlin")
        #expect(desk.agents.all.map(\.nick) == ["anna", "ben", "chris", "dana", "emil"])
        #expect(desk.escalation == .standard)
        #expect(desk.messageOfferDelay == 180)
    }

    @Test func demoCustomersAreAsTheCoordinatorNeedsThem() throws {
        let desk = try Self.load()
        let now = at("2026-11-30 10:00")
        let c10042 = try #require(desk.customers.customer(number: "10042"))
        #expect(c10042.contract?.tier == "premium")
        #expect(c10042.contract?.until == CalendarDate(text: "2027-12-31"))
        #expect(c10042.accounts.isEmpty)
        #expect(desk.customers.activeContract(number: "10042", at: now)?.tier == "premium")
        #expect(desk.customers.activeContract(number: "10042", at: at("2027-12-31 23:59:59")) != nil)
        #expect(desk.customers.activeContract(number: "10042", at: at("2028-01-01 00:00")) == nil)
        #expect(desk.customers.verifyPIN(number: "10042", pin: "4711"))
        #expect(!desk.customers.verifyPIN(number: "10042", pin: "4712"))
        #expect(desk.customers.activeContract(number: "10001", at: now)?.tier == "basic")
        // Expired and not-yet-valid contracts are no contracts.
        #expect(desk.customers.customer(number: "10150")?.contract != nil)
        #expect(desk.customers.activeContract(number: "10150", at: now) == nil)
        #expect(desk.customers.activeContract(number: "10455", at: now) == nil)
        #expect(desk.customers.activeContract(number: "10455", at: at("2027-01-01 00:00")) != nil)
        // From the CSV: a name with a comma, one with quotes.
        #expect(desk.customers.customer(number: "10801")?.name == "Schmidt, Berger & Partner Rechtsanwälte")
        #expect(desk.customers.customer(number: "10822")?.name == "Autohaus \"Elbblick\" GmbH")
        #expect(desk.customers.customer(network: "demo", account: "BYS-Admin", normalize: { $0.lowercased() })?.number == "10890")
    }

    /// The masks half is in IRCAdapterTests (the IRC matcher decides).
    @Test func demoAgentsAreRecognisedByAccount() throws {
        let desk = try Self.load()
        for nick in ["anna", "ben", "chris", "dana", "emil"] {
            #expect(desk.agents.agent(network: "demo", account: nick, normalize: { $0.lowercased() })?.id == nick)
            #expect(desk.agents.agent(network: "plain", account: nick, normalize: { $0.lowercased() }) == nil)
        }
    }

    @Test func rosterRotatesWeeklyWithTheChristmasOverride() throws {
        let desk = try Self.load()
        #expect(desk.roster.onDuty(at: at("2026-01-05 09:00")).agent == "anna")
        #expect(desk.roster.onDuty(at: at("2026-01-12 08:59")).agent == "anna")
        #expect(desk.roster.onDuty(at: at("2026-01-12 09:00")).agent == "ben")
        // 2026-12-21 starts week 50: 50 % 4 = 2 → chris; dana covers Christmas.
        #expect(desk.roster.onDuty(at: at("2026-12-23 12:00")).agent == "chris")
        #expect(desk.roster.onDuty(at: at("2026-12-24 09:00")).agent == "dana")
        #expect(desk.roster.onDuty(at: at("2026-12-28 09:00")).agent == "dana")  // dana's own week begins
        #expect(desk.calendar.holiday(on: CalendarDate(text: "2027-03-26")!) == "Karfreitag")
        #expect(desk.calendar.isOpen(at: at("2026-05-13 17:59")))
        #expect(!desk.calendar.isOpen(at: at("2026-05-14 10:00")))  // Christi Himmelfahrt, a Thursday
    }

    @Test func summaryForCheckConfig() throws {
        let desk = try Self.load()
        let text = desk.summary(at: at("2026-11-30 10:00"))
        #expect(text.hasPrefix("3 tiers (basic, premium, enterprise), 22 customers ("))
        // 2026-11-30 is a Monday of week 47 since 2026-01-05: 47 % 4 = 3 → dana.
        #expect(text.contains("On duty now: dana; next: anna from 2026-12-07 09:00."))
    }
}
