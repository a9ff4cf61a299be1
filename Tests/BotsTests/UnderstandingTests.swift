@testable import Bots
import Core
import Desk
import Foundation
import Testing

/// How customer lines are understood: language, and answers given early.
@Suite struct UnderstandingTests {
    @Test(arguments: [
        ("Hallo, unser VPN geht seit heute Morgen nicht mehr", Language.de),
        ("Kundennummer 10042, unser VPN ist down", .de),
        ("NordBox Connect startet nicht", .de),
        ("Die Sicherung ist heute Nacht fehlgeschlagen", .de),
        ("Backup schlägt fehl", .de),
        ("Frage zur Lizenz", .de),
        ("keine Kundennummer, Frage zur Lizenz", .de),
        ("moin, kann mir jemand helfen?", .de),
        ("Hi, our backup job failed last night", .en),
        ("I can't log in to the admin console", .en),
        ("The VPN keeps dropping every few minutes", .en),
        ("question about the licence renewal", .en),
        ("hello, is anyone there?", .en),
        ("my customer number is 10042", .en),
        ("VPN doesn’t connect", .en),  // ’ read as ': "doesn't" is an English word
        ("VPN won’t", .en),
        ("Übertragung läuft", .de),  // umlauts and ß count, at most twice
    ])
    func languageOfRealisticOneLiners(line: String, expected: Language) {
        #expect(LanguageDetector.detect(line) == expected, "\(line)")
    }

    @Test(arguments: ["10042", "VPN down", "NordBox", "Prio 1", "ok", "KB-1012"])
    func linesWithoutLanguageAreLeftUndecided(line: String) {
        #expect(LanguageDetector.detect(line) == nil, "\(line)")
    }

    /// Commands are found in a line however it is padded; the fast path
    /// (a line with visible ASCII at both ends) trims exactly as Foundation does.
    @Test func commandsAndTrimmingIgnoreWhiteSpaceAtTheEnds() {
        func command(_ line: String) -> String? { BotRuntime<ManualClock>.command(in: line).map { "\($0.name)|\($0.arguments)" } }
        func trim(_ line: String) -> String { line.trimmedLine }
        #expect(command("!kb  drucker \t") == "kb|drucker")
        #expect(command("!KB\u{3000}vpn\u{00A0}") == "kb|vpn")
        #expect(command("kb drucker") == nil)
        #expect(trim("!kb vpn") == "!kb vpn")
        #expect(trim("\u{2003}hallo\r\n") == "hallo")
        #expect(trim("hallo\u{85}") == "hallo")
        #expect(trim(" \t ") == "")
    }

    @Test func aNumberWithAKeywordAndTheRestIsTheDescription() {
        let parsed = AnswerParser.parse("Kundennummer 10042, unser VPN ist down", asked: nil)
        #expect(parsed.customerNumber == "10042")
        #expect(parsed.remainder == "unser VPN ist down")
        let english = AnswerParser.parse("Hi, my customer number is 10042 and the VPN is down", asked: nil)
        #expect(english.customerNumber == "10042")
        #expect(english.remainder == "the VPN is down")
    }

    @Test func aBareNumberIsANumberOnlyWhenOneWasAsked() {
        #expect(AnswerParser.parse("10042", asked: .customerNumber).customerNumber == "10042")
        #expect(AnswerParser.parse("10042", asked: .customerNumber).remainder == nil)
        #expect(AnswerParser.parse("Nr. 10042", asked: .customerNumber).customerNumber == "10042")
        // A port in a description is not a customer number.
        let port = AnswerParser.parse("Port 51820 ist in der Firewall gesperrt", asked: .description)
        #expect(port.customerNumber == nil)
        #expect(port.remainder == "Port 51820 ist in der Firewall gesperrt")
    }

    @Test func noneAndTheRest() {
        let parsed = AnswerParser.parse("keine Kundennummer, Frage zur Lizenz", asked: nil)
        #expect(parsed.saysNoCustomerNumber)
        #expect(parsed.remainder == "Frage zur Lizenz")
        #expect(AnswerParser.parse("keine", asked: .customerNumber).saysNoCustomerNumber)
        #expect(AnswerParser.parse("none", asked: .customerNumber).saysNoCustomerNumber)
        #expect(AnswerParser.parse("We are not a customer yet, just a question", asked: nil).saysNoCustomerNumber)
        // "keine" about something else is not "no customer number".
        #expect(!AnswerParser.parse("Es gibt keine Verbindung zum Server", asked: .description).saysNoCustomerNumber)
    }

    @Test func severityGivenEarly() {
        #expect(AnswerParser.parse("Prio 1, alles steht", asked: nil).severity == .critical)
        #expect(AnswerParser.parse("severity 2", asked: nil).severity == .major)
        #expect(AnswerParser.parse("Schweregrad: 3", asked: nil).severity == .minor)
        #expect(AnswerParser.parse("das ist P1!", asked: nil).severity == .critical)
        #expect(AnswerParser.parse("2", asked: .severity).severity == .major)
        #expect(AnswerParser.parse("2 - wichtige Funktion", asked: .severity).severity == .major)
        #expect(AnswerParser.parse("2", asked: .description).severity == nil)
        #expect(AnswerParser.parse("1000 Nutzer betroffen", asked: .severity).severity == nil)
    }

    @Test func aPINNeverBecomesDescription() {
        let parsed = AnswerParser.parse("Kundennummer 10042 PIN 4711 der Server ist aus", asked: nil)
        #expect(parsed.customerNumber == "10042")
        #expect(parsed.pin == "4711")
        #expect(parsed.remainder == "der Server ist aus")
        #expect(AnswerParser.parse("4711", asked: .pin).pin == "4711")
        #expect(AnswerParser.parse("4711", asked: .pin).remainder == nil)
    }

    @Test func answersToSuggestions() {
        #expect(AnswerParser.parse("ja", asked: .suggestions, suggestionCount: 2).suggestionAnswer?.helps == true)
        #expect(AnswerParser.parse("Ja, Nummer 2", asked: .suggestions, suggestionCount: 2).suggestionAnswer?.index == 2)
        #expect(AnswerParser.parse("1", asked: .suggestions, suggestionCount: 2).suggestionAnswer?.index == 1)
        let no = AnswerParser.parse("nein, der Fehler ist 809", asked: .suggestions, suggestionCount: 2)
        #expect(no.suggestionAnswer?.helps == false)
        #expect(no.remainder == "der Fehler ist 809")
    }

    @Test func greetingsAndFillersAreNoDescription() {
        #expect(AnswerParser.parse("Hallo!", asked: nil).remainder == nil)
        #expect(AnswerParser.parse("hi", asked: nil).remainder == nil)
        #expect(AnswerParser.parse("help", asked: nil).remainder == nil)
        #expect(AnswerParser.parse("Guten Tag, unser Backup läuft nicht", asked: nil).remainder == "unser Backup läuft nicht")
    }
}
