@testable import Bots
import Desk
import Foundation
import Testing

/// The summary — and the page that wakes the on-duty agent — is the problem,
/// not the greeting or a plea for help.
@Suite struct SummaryTests {
    @Test func greetingThenProblemGivesTheProblemAsSummaryAndPageText() async throws {
        let h = try await Harness()
        let kai = h.customer("kai", account: "kai")
        await h.say("Hallo, wir brauchen dringend Hilfe", from: kai)
        await h.say("Kundennummer 10042, Prio 1", from: kai)
        let afterPIN = await h.say("4711", from: kai)
        // The plea was no description: the bot asks for the problem.
        #expect(afterPIN.to("kai").last?.contains("Bitte beschreiben Sie kurz Ihr Problem") == true)
        var out = await h.say("Unser VPN-Gateway ist seit 10 Minuten komplett ausgefallen, niemand kommt rein", from: kai)
        if out.to("kai").last?.contains("Löst einer davon Ihr Problem?") == true {
            out = await h.say("nein", from: kai)
        }
        let ticket = try #require(try await h.openTickets().first)
        let problem = "Unser VPN-Gateway ist seit 10 Minuten komplett ausgefallen, niemand kommt rein"
        #expect(ticket.summary == problem)
        #expect(ticket.description.contains("wir brauchen dringend Hilfe")) // nothing lost
        let page = try #require(out.pages.first { $0.recipient == .user("anna") })
        #expect(page.text.contains(problem))
        #expect(!page.text.contains("dringend Hilfe"))
    }

    @Test func aPleaWithoutContentIsNotAcceptedAsADescription() async throws {
        let h = try await Harness()
        let ida = h.customer("ida", account: "ida")
        await h.say("Kundennummer 10042, PIN 4711, Prio 2", from: ida)
        let out = await h.say("Bitte helfen Sie uns schnell, es ist dringend!", from: ida)
        #expect(out.to("ida") == [
            "Wir kümmern uns darum. Damit die richtige Person sofort weiß, worum es geht: Was genau funktioniert nicht, seit wann, gibt es eine Fehlermeldung?",
        ])
        #expect(out.pages.isEmpty)
        #expect(try await h.openTickets().isEmpty)
    }

    @Test func aLineThatAnswersNothingGetsTheOpenQuestionAgain() async throws {
        let h = try await Harness()
        let ida = h.customer("ida", account: "ida")
        await h.say("keine Kundennummer", from: ida)
        let asked = await h.say("Der Drucker im Büro druckt seit heute nur leere Seiten", from: ida)
        let question = try #require(asked.to("ida").last)
        #expect(question.hasPrefix("Wie schwer wiegt das Problem?"))
        let out = await h.say("nein", from: ida)
        #expect(out.to("ida") == [question])
    }

    @Test func pleasAreTellableFromProblems() {
        #expect(AnswerParser.isPlea("wir brauchen dringend Hilfe"))
        #expect(AnswerParser.isPlea("We need help urgently please"))
        #expect(AnswerParser.isPlea("Ich habe eine Frage"))
        #expect(!AnswerParser.isPlea("Frage zur Lizenz"))
        #expect(!AnswerParser.isPlea("VPN ist down"))
        #expect(!AnswerParser.isPlea("Unser Drucker druckt nicht"))
    }
}
