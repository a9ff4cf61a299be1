import Bots
import Core
import Foundation
import Testing

/// When the agents' channel hears of a PIN-guessing attack: once per attack
/// per number, on a ManualClock.
@Suite struct PINAttackMonitorTests {
    let clock = ManualClock()

    @Test func aHundredNicksGuessingOneNumberWarnOnceWithTheCountAndTheSenders() {
        var monitor = PINAttackMonitor()
        var warnings: [PINAttackMonitor.Warning] = []
        for round in 0..<3 {
            for nick in 0..<100 {
                if let warning = monitor.wrongPIN(number: "20001", sender: "guess\(nick)", at: clock.date) {
                    warnings.append(warning)
                }
                clock.advance(by: .milliseconds(round == 0 ? 200 : 50))
            }
        }
        #expect(warnings.count == 1)
        let warning = warnings[0]
        #expect(warning.number == "20001")
        #expect(warning.count == 5)
        #expect(warning.senders == ["guess0", "guess1", "guess2", "guess3", "guess4"])
        #expect(warning.senderCount == 5)
        // The attack goes on counting without a new warning.
        let now = monitor.attack(on: "20001", at: clock.date)
        #expect(now?.count == 300)
        #expect(now?.senderCount == 100)
        #expect(monitor.isUnderAttack(number: "20001", at: clock.date))
        #expect(!monitor.isUnderAttack(number: "20002", at: clock.date))
    }

    @Test func oneCustomerMistypingThreeTimesIsNoAttack() {
        var monitor = PINAttackMonitor()
        for _ in 0..<3 {
            #expect(monitor.wrongPIN(number: "20002", sender: "kunde", at: clock.date) == nil)
            clock.advance(by: .seconds(20))
        }
        #expect(!monitor.isUnderAttack(number: "20002", at: clock.date))
    }

    @Test func wrongPINsForDifferentNumbersAreCountedApart() {
        var monitor = PINAttackMonitor()
        for number in ["20001", "20002", "20003", "20004", "20005"] {
            #expect(monitor.wrongPIN(number: number, sender: "x", at: clock.date) == nil)
        }
        #expect(monitor.trackedNumbers == 5)
    }

    @Test func aTrickleSlowerThanTheWindowNeverWarns() {
        var monitor = PINAttackMonitor(settings: .init(threshold: 5, window: .seconds(15 * 60)))
        for n in 0..<20 {
            #expect(monitor.wrongPIN(number: "20001", sender: "s\(n)", at: clock.date) == nil)
            clock.advance(by: .seconds(4 * 60))  // at most 4 within any 15 minutes
        }
    }

    @Test func aNewWarningOnlyAfterTheAttackWasQuiet() {
        var monitor = PINAttackMonitor(settings: .init(threshold: 3, window: .seconds(600), quietPeriod: .seconds(1800)))
        func burst(_ prefix: String) -> [PINAttackMonitor.Warning] {
            (0..<6).compactMap { n in
                defer { clock.advance(by: .seconds(1)) }
                return monitor.wrongPIN(number: "20001", sender: "\(prefix)\(n)", at: clock.date)
            }
        }
        #expect(burst("first").count == 1)
        // 20 minutes later: still the same attack (not quiet for 30 minutes).
        clock.advance(by: .seconds(20 * 60))
        #expect(burst("second").isEmpty)
        #expect(monitor.attack(on: "20001", at: clock.date)?.count == 12)
        // 31 quiet minutes end it; the next burst is a new attack.
        clock.advance(by: .seconds(31 * 60))
        #expect(!monitor.isUnderAttack(number: "20001", at: clock.date))
        let again = burst("third")
        #expect(again.count == 1)
        #expect(again.first?.count == 3)
        #expect(again.first?.senders == ["third0", "third1", "third2"])
        monitor.forgetQuiet(at: clock.date.addingTimeInterval(3600))
        #expect(monitor.trackedNumbers == 0)
    }

    @Test func oneSenderRepeatingIsOneSender() {
        var monitor = PINAttackMonitor(settings: .init(threshold: 4))
        var warning: PINAttackMonitor.Warning?
        for _ in 0..<4 { warning = monitor.wrongPIN(number: "20001", sender: "mallory", at: clock.date) ?? warning }
        #expect(warning?.count == 4)
        #expect(warning?.senders == ["mallory"])
        #expect(warning?.senderCount == 1)
    }

    @Test func theSendersKeptAreBoundedAndTheLineSaysThereAreMore() throws {
        var monitor = PINAttackMonitor(settings: .init(threshold: 50, maximumSendersKept: 20))
        var warning: PINAttackMonitor.Warning?
        for n in 0..<50 { warning = monitor.wrongPIN(number: "20001", sender: "n\(n)", at: clock.date) ?? warning }
        let found = try #require(warning)
        #expect(found.senders.count == 20)
        #expect(found.senderCount == 50)
        #expect(found.sendersText(limit: 3) == "n0, n1, n2, …")
    }

    @Test func theAgentsWarningNamesNumberCountAndSendersInBothLanguages() throws {
        var monitor = PINAttackMonitor(settings: .init(threshold: 2))
        _ = monitor.wrongPIN(number: "20001", sender: "guess1", at: clock.date)
        let second = monitor.wrongPIN(number: "20001", sender: "guess2", at: clock.date)
        let warning = try #require(second)
        for language in Language.allCases {
            let line = shippedDefinitions.agent.render(.pinAttack, language, warning.textValues)
            #expect(line.contains("20001"))
            #expect(line.contains("2 "))
            #expect(line.contains("guess1, guess2"))
            #expect(line.contains("15"))
        }
        let claimed = shippedDefinitions.support.render(.pinLockedClaimed, .en, ["number": "20001"])
        #expect(claimed.contains("contract claimed, PIN locked"))
        let policy = shippedDefinitions.support.render(.pinPolicy, .de, ["attempts": "3", "minutes": "15"])
        #expect(policy.contains("3 falschen PINs") && policy.contains("15 Minuten"))
    }
}
