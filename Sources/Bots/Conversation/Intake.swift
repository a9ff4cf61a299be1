import Desk
import Foundation
import KB

/// What the intake needs from the world to decide, at one instant.
struct IntakeContext {
    var customers: CustomerDirectory
    /// How the customer's network compares accounts (its adapter's rule).
    var normalizeAccount: @Sendable (String) -> String
    var knowledgeBase: KnowledgeBase
    var texts: TextTable<SupportText>
    var settings: SupportSettings
    var now: Date
}

/// Something the intake wants done; the runtime does it and, where there is
/// an answer, reports back (``Intake/pinChecked(ok:number:_:)``,
/// ``Intake/creationFailed(_:)``).
enum IntakeEffect: Equatable {
    /// Say this to the customer (definition text with values filled in).
    case say(String)
    /// Reserve a PIN check in the store, then check this PIN off the actor
    /// (PBKDF2 is slow on purpose); the answer comes back as
    /// ``Intake/pinChecked(ok:number:_:)`` or ``Intake/pinRefused(_:number:_:)``.
    case verifyPIN(number: String, pin: String)
    /// A wrong PIN: log it (store and logger).
    case pinFailed(number: String)
    /// The customer's problem was solved by a KB article: count it, end.
    case deflected(articleID: String)
    /// Every answer is in: store the ticket durably, then confirm.
    case createTicket(TicketDraft)
    /// The conversation is over (no ticket).
    case end
}

/// The ticket the intake asks for, before the store gives it a number.
struct TicketDraft: Equatable {
    var group: CustomerGroup
    var customerNumber: String?
    var customerName: String
    var tier: String?
    var severity: Severity
    var summary: String
    var description: String
    var language: Language
    /// The contract was claimed while the number's PIN checks were locked
    /// (``Ticket/contractClaimPINLocked``).
    var contractClaimPINLocked = false
}

/// The question-and-answer part of a customer conversation (SPEC "Customer
/// conversation"): asks only for what is missing, in order — customer
/// number, PIN (active contract, account not linked), description, KB
/// suggestions, severity — and uses answers given early.
///
/// A value type with no I/O: ``receive(_:_:)`` takes a line and returns
/// effects; the runtime carries them out. Every text comes from the support
/// bot's definitions.
struct Intake {
    enum CustomerState: Equatable {
        /// Not answered yet.
        case unknown
        /// "none": a customer without a number.
        case none
        /// A number the directory knows.
        case known(Customer)
        /// A number the directory does not know, given up on after the
        /// configured attempts (kept for the agents).
        case notFound(String)
    }

    // Every stored property below is kept between restarts: a new one goes
    // into ``IntakeSnapshot`` too (``snapshot``, ``init(restoring:_:)``).
    var identity: ChatIdentity
    var language: Language
    /// Whether the language is decided (detected with confidence or set by
    /// `!lang`); until then each line may still decide it.
    var languageSettled: Bool

    private(set) var customer: CustomerState = .unknown
    /// The active contract of a known customer (nil: none, expired, not yet).
    private(set) var contract: Contract?
    /// The customer proved to be who they say (linked account or PIN).
    private(set) var proven = false
    private(set) var pinFailures = 0
    private(set) var pinExhausted = false
    /// The number's PIN checks were locked when this customer gave a PIN:
    /// the ticket gets this group (the configuration's choice) and the flag.
    private(set) var lockedClaimGroup: CustomerGroup?
    /// A PIN given before the number (used once the number is known).
    private var heldPIN: String?
    private var unknownNumbers = 0

    /// Everything the customer said about their request, in order (a plea
    /// such as "wir brauchen dringend Hilfe" too: nothing is lost).
    private(set) var description = ""
    /// The first line that says what the problem is: the ticket's summary
    /// and the page's text. A greeting or a plea without content is none.
    private(set) var problem: String?
    private var descriptionTruncated = false
    private var truncationTold = false
    private(set) var suggestions: [Article]?
    private var suggestionsDone = false
    private(set) var severity: Severity?

    /// The question asked last, and when it was last said.
    private(set) var lastQuestion: Question?
    private var lastPromptAt: Date?
    private var greeted = false
    /// Notes to say before the next question (e.g. "recognised by account").
    private var notes: [String] = []
    /// A PIN check is running; the runtime holds further lines until it ends.
    private(set) var verifying = false
    /// A ticket creation failed; the next line retries it.
    private(set) var readyToCreate = false

    init(identity: ChatIdentity, language: Language, languageSettled: Bool, _ context: IntakeContext) {
        self.identity = identity
        self.language = language
        self.languageSettled = languageSettled
        texts = context.texts
        if let linked = context.customers.customer(linkedTo: identity, normalize: context.normalizeAccount) {
            customer = .known(linked)
            contract = linked.activeContract(at: context.now, zone: context.customers.zone)
            proven = contract != nil
            notes.append(text(.recognisedByAccount, ["customer": linked.name, "number": linked.number]))
            if contract == nil { notes += contractNote(linked, context) }
        }
    }

    /// The support texts, refreshed from the context at each call (a
    /// reload of the definitions takes effect at the next line).
    private var texts: TextTable<SupportText>

    private func text(_ key: SupportText, _ values: [String: String] = [:]) -> String {
        texts.render(key, language, values)
    }

    // MARK: - Lines

    /// A line from the customer (not a command). Returns what to do.
    ///
    /// `isAction`: the customer described an action (`/me is still
    /// waiting`): taken as text for the description only, never as a
    /// customer number, PIN, severity or an answer to the open question.
    mutating func receive(_ line: String, isAction: Bool = false, _ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        if !languageSettled, let detected = LanguageDetector.detect(line) {
            language = detected
            languageSettled = true
        }
        if readyToCreate { return next(context, learned: true, added: false) }
        // Before the first question, a bare answer answers the first missing one.
        let asked = lastQuestion ?? (customer == .unknown ? .customerNumber : nil)
        let parsed = isAction ? ParsedLine(remainder: "* " + line)
            : AnswerParser.parse(line, asked: asked, suggestionCount: suggestions?.count ?? 0)
        var effects: [IntakeEffect] = []
        var learned = false
        var added = false
        var questionSaid = false

        if customer == .unknown {
            if parsed.saysNoCustomerNumber {
                customer = .none
                learned = true
            } else if let number = parsed.customerNumber {
                learned = true
                let (said, repeats) = applyNumber(number, context)
                notes += said
                if repeats {
                    questionSaid = true
                }
                if case .known = customer, needsPIN, let pin = parsed.pin ?? heldPIN {
                    heldPIN = nil
                    effects.append(startPINCheck(pin))
                }
            }
        }
        if let pin = parsed.pin, !verifying {
            if needsPIN {
                effects.append(startPINCheck(pin))
                learned = true
            } else if customer == .unknown {
                heldPIN = pin
            }
        }
        if severity == nil, let value = parsed.severity {
            severity = value
            learned = true
        }
        if lastQuestion == .suggestions, let answer = parsed.suggestionAnswer, let offered = suggestions {
            if answer.helps {
                let article = answer.index.map { offered[$0 - 1] } ?? (offered.count == 1 ? offered[0] : nil)
                return [.say(text(.deflected)), .deflected(articleID: article?.id ?? "unspecified"), .end]
            }
            suggestionsDone = true
            learned = true
        }
        var askForProblem = false
        if let rest = parsed.remainder {
            appendDescription(rest, limit: context.settings.descriptionLimit)
            if AnswerParser.isPlea(rest) {
                askForProblem = problem == nil
            } else if problem == nil {
                problem = rest
                learned = true
            } else {
                added = true
            }
        }
        // "nein", "ok", "?": a line that answers nothing is answered with the
        // open question at once (for the problem, in words that say why), so
        // no line goes unanswered.
        let answeredNothing = parsed.remainder == nil && !learned && effects.isEmpty && !verifying
        if answeredNothing, lastQuestion == .description { askForProblem = true }
        if descriptionTruncated, !truncationTold {
            truncationTold = true
            notes.append(text(.descriptionTruncated, ["limit": Format.bytes(context.settings.descriptionLimit)]))
        }
        if verifying {
            // The next question follows the PIN check's result.
            let said = takeNotes()
            return effects + said.map(IntakeEffect.say)
        }
        if questionSaid {
            lastQuestion = .customerNumber
            lastPromptAt = context.now
            return effects + [.say(joined(greeting() + takeNotes()))]
        }
        return effects + next(context, learned: learned || (answeredNothing && lastQuestion != nil), added: added,
                              askForProblem: askForProblem)
    }

    /// The result of a PIN check the runtime ran for `number`.
    mutating func pinChecked(ok: Bool, number: String, _ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        verifying = false
        guard case .known(let known) = customer, known.number == number else { return [] }
        var effects: [IntakeEffect] = []
        if ok {
            proven = true
            notes.append(text(.pinAccepted, ["customer": known.name, "number": known.number]))
        } else {
            pinFailures += 1
            effects.append(.pinFailed(number: number))
            if pinFailures >= 3 {
                pinExhausted = true
                notes.append(text(.pinAttemptsExhausted))
            } else {
                notes.append(text(.pinWrong, ["remaining": String(3 - pinFailures)]))
                lastQuestion = .pin
                lastPromptAt = context.now
                return effects + [.say(joined(greeting() + takeNotes()))]
            }
        }
        return effects + next(context, learned: true, added: false)
    }

    /// The store refused to run a PIN check for `number` (issue 14): a
    /// budget is spent, so no PIN was hashed. The sender's own budget (three
    /// wrong PINs) is the SPEC's "served as non-contract"; a number locked
    /// by wrong PINs from anyone still gets a ticket, marked "contract
    /// claimed, PIN locked" at the configured group; a busy checker asks
    /// for the PIN again.
    mutating func pinRefused(_ refusal: PINRefusal, number: String, _ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        verifying = false
        guard case .known(let known) = customer, known.number == number else { return [] }
        switch refusal {
        case .identityLimited:
            pinExhausted = true
            notes.append(text(.pinAttemptsExhausted))
        case .numberLocked:
            // Locked by wrong PINs from anyone: not this customer's fault, so
            // they still get help, flagged for the agent to verify by phone.
            pinExhausted = true
            lockedClaimGroup = context.settings.pinLockedClaimGroup
            notes.append(text(.pinLockedClaimed, ["number": known.number]))
        case .globalBusy:
            notes.append(text(.pinBusy))
            lastQuestion = .pin
            lastPromptAt = context.now
            return [.say(joined(greeting() + takeNotes()))]
        }
        return next(context, learned: true, added: false)
    }

    /// The store could not record the PIN check's reservation, so no PIN
    /// was checked (fail closed): say so and ask for the PIN again.
    mutating func pinCheckUnavailable(number: String, _ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        verifying = false
        guard case .known(let known) = customer, known.number == number else { return [] }
        lastQuestion = .pin
        lastPromptAt = context.now
        return [.say(joined(greeting() + takeNotes() + [text(.pinUnavailable)]))]
    }

    /// The runtime could not store the ticket: say so; the next line retries.
    mutating func creationFailed(_ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        readyToCreate = true
        return [.say(text(.storeFailed))]
    }

    /// `!lang`: switch the language for everything said from now on, and
    /// ask the open question again in it.
    mutating func setLanguage(_ value: Language, _ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        language = value
        languageSettled = true
        guard let question = lastQuestion, !verifying, !readyToCreate else { return [] }
        lastPromptAt = context.now
        return [.say(questionText(question))]
    }

    // MARK: - Steps

    /// Whether the customer must still prove a contract with the PIN.
    var needsPIN: Bool {
        guard case .known = customer, contract != nil else { return false }
        return !proven && !pinExhausted
    }

    /// The group the ticket will have.
    var group: CustomerGroup { contract != nil && proven ? .contract : .noContract }

    private mutating func startPINCheck(_ pin: String) -> IntakeEffect {
        guard case .known(let known) = customer else { return .say("") }
        verifying = true
        return .verifyPIN(number: known.number, pin: pin)
    }

    /// The number given by the customer: known, unknown, with or without an
    /// active contract. Returns notes to say, and whether they already ask
    /// for the number again.
    private mutating func applyNumber(_ number: String, _ context: IntakeContext) -> ([String], Bool) {
        guard Customer.isValidNumber(number), let found = context.customers.customer(number: number) else {
            unknownNumbers += 1
            let shown = Sanitizer.inline(number, limit: 20)
            if unknownNumbers >= context.settings.unknownNumberAttempts {
                customer = .notFound(shown)
                return ([text(.unknownCustomerNumberGiveUp, ["number": shown])], false)
            }
            return ([text(.unknownCustomerNumber, ["number": shown])], true)
        }
        customer = .known(found)
        contract = found.activeContract(at: context.now, zone: context.customers.zone)
        guard contract != nil else { return (contractNote(found, context), false) }
        if context.customers.isLinked(identity, to: found.number, normalize: context.normalizeAccount) {
            proven = true
            return ([text(.recognisedByAccount, ["customer": found.name, "number": found.number])], false)
        }
        return ([], false)
    }

    /// What to tell a known customer without an active contract.
    private func contractNote(_ found: Customer, _ context: IntakeContext) -> [String] {
        let values = ["customer": found.name, "number": found.number]
        guard let contract = found.contract else { return [text(.noContract, values)] }
        let today = context.customers.zone.date(of: context.now)
        if contract.until < today {
            return [text(.contractExpired, values.merging(["until": Format.day(contract.until, language)]) { $1 })]
        }
        return [text(.contractNotYetValid, values.merging(["from": Format.day(contract.from, language)]) { $1 })]
    }

    private mutating func appendDescription(_ line: String, limit: Int) {
        guard !descriptionTruncated else { return }
        let clean = Sanitizer.inline(line, limit: limit)
        let addition = description.isEmpty ? clean : "\n" + clean
        if description.utf8.count + addition.utf8.count <= limit {
            description += addition
            return
        }
        var room = limit - description.utf8.count
        for character in addition {
            let size = String(character).utf8.count
            if size > room { break }
            description.append(character)
            room -= size
        }
        descriptionTruncated = true
    }

    /// The next question, or the ticket when nothing is missing.
    private mutating func nextQuestion(_ context: IntakeContext) -> Question? {
        if customer == .unknown { return .customerNumber }
        if needsPIN { return .pin }
        if problem == nil { return .description }
        if suggestions == nil {
            let hits = context.knowledgeBase.suggestions(for: description, limit: 3,
                                                         threshold: context.settings.suggestionThreshold)
            suggestions = hits.map(\.article)
            if hits.isEmpty { suggestionsDone = true }
        }
        if !suggestionsDone { return .suggestions }
        if severity == nil { return .severity }
        return nil
    }

    private func questionText(_ question: Question) -> String {
        switch question {
        case .customerNumber:
            return text(.askCustomerNumber)
        case .pin:
            guard case .known(let known) = customer else { return text(.askCustomerNumber) }
            return text(.askPIN, ["customer": known.name, "number": known.number])
        case .description:
            return text(.askDescription)
        case .suggestions:
            let offered = suggestions ?? []
            var lines = [text(.suggestIntro)]
            for (index, article) in offered.enumerated() {
                lines.append(text(.suggestLine, ["index": String(index + 1), "title": article.title,
                                                 "url": article.url.absoluteString]))
            }
            lines.append(text(.suggestQuestion, ["count": String(offered.count)]))
            return lines.joined(separator: "\n")
        case .severity:
            return text(.askSeverity)
        }
    }

    /// Asks the next question — always when something was learned or the
    /// question changed, otherwise (a line that answered nothing) at most
    /// once per ``SupportSettings/repromptInterval``.
    ///
    /// `askForProblem`: the line was a plea or no answer while the problem is
    /// still unknown — asked for at once, in words that say why.
    private mutating func next(_ context: IntakeContext, learned: Bool, added: Bool,
                               askForProblem: Bool = false) -> [IntakeEffect] {
        guard let question = nextQuestion(context) else {
            readyToCreate = true
            let said = takeNotes()
            var effects: [IntakeEffect] = said.isEmpty ? [] : [.say(joined(said))]
            effects.append(.createTicket(draft()))
            return effects
        }
        var lines = greeting() + takeNotes()
        let due = lastPromptAt.map { context.now.timeIntervalSince($0) >= context.settings.repromptInterval } ?? true
        if askForProblem, question == .description {
            lines.append(text(.askProblem))
            lastQuestion = question
            lastPromptAt = context.now
        } else if learned || question != lastQuestion || due {
            if !learned, added { lines.append(text(.noted)) }
            lines.append(questionText(question))
            lastQuestion = question
            lastPromptAt = context.now
        }
        return lines.isEmpty ? [] : [.say(joined(lines))]
    }

    private mutating func greeting() -> [String] {
        if greeted { return [] }
        greeted = true
        return [text(.greeting)]
    }

    private mutating func takeNotes() -> [String] {
        defer { notes = [] }
        return notes
    }

    /// What the intake says at once, as few lines as it fits in: under a
    /// network's flood limit every line costs the bot about two seconds, for
    /// everyone (issue 15). Short parts (greeting and question) share one
    /// line; a part of several lines (the suggestions) keeps its lines.
    private func joined(_ lines: [String]) -> String {
        let parts = lines.filter { !$0.isEmpty }
        let oneLine = parts.joined(separator: " ")
        if !oneLine.contains("\n"), oneLine.utf8.count <= Self.oneLineLimit { return oneLine }
        return parts.joined(separator: "\n")
    }

    /// Bytes of text that fit one IRC message with room for the prefix
    /// (RFC 1459 §2.3: 512 bytes per line, CR LF included).
    static var oneLineLimit: Int { 380 }

    /// The ticket as the answers describe it.
    func draft() -> TicketDraft {
        let summaryLine = (problem ?? description).split(separator: "\n").first.map(String.init) ?? description
        let summary = Sanitizer.inline(summaryLine, limit: 100)
        let nick = Sanitizer.inline(identity.nick, limit: 40)
        var number: String?
        var name = nick
        var tier: String?
        let group = lockedClaimGroup ?? self.group
        switch customer {
        case .known(let known):
            if group == .contract {
                number = known.number
                name = known.name
                tier = contract?.tier
            } else {
                name = "\(nick) (unverified: \(known.number) \(known.name))"
            }
        case .notFound(let claimed):
            name = "\(nick) (unknown number \(claimed))"
        case .none, .unknown:
            break
        }
        return TicketDraft(group: group, customerNumber: number, customerName: name, tier: tier,
                           severity: severity ?? .question, summary: summary, description: description,
                           language: language, contractClaimPINLocked: lockedClaimGroup != nil)
    }
}

// MARK: - Stored between restarts

extension Intake {
    /// What is stored of this intake (``IntakeSnapshot``): the answers and
    /// where the questions stand — never a PIN (one held until the number
    /// is known is dropped; a running check is only marked) and never the
    /// customer record (looked up again by number).
    var snapshot: IntakeSnapshot {
        let storedCustomer: IntakeSnapshot.Customer = switch customer {
        case .unknown: .unknown
        case .none: .none
        case .known(let known): .known(number: known.number)
        case .notFound(let claimed): .notFound(claimed)
        }
        return IntakeSnapshot(
            identity: identity, language: language, languageSettled: languageSettled, customer: storedCustomer,
            proven: proven, pinFailures: pinFailures, pinExhausted: pinExhausted, lockedClaimGroup: lockedClaimGroup,
            unknownNumbers: unknownNumbers,
            description: description, problem: problem, descriptionTruncated: descriptionTruncated,
            truncationTold: truncationTold, suggestions: suggestions?.map(\.id), suggestionsDone: suggestionsDone,
            severity: severity, lastQuestion: lastQuestion.map(IntakeSnapshot.Step.init), lastPromptAt: lastPromptAt,
            greeted: greeted, notes: notes, pinCheckInterrupted: verifying, readyToCreate: readyToCreate)
    }

    /// The intake `stored` describes, after a restart. The customer and
    /// their contract are looked up again in `context` (a number no longer
    /// configured is kept as not found; a contract that ended meanwhile no
    /// longer counts); offered articles are looked up by id, and if one is
    /// gone the search runs again at the next question.
    init(restoring stored: IntakeSnapshot, _ context: IntakeContext) {
        identity = stored.identity
        language = stored.language
        languageSettled = stored.languageSettled
        texts = context.texts
        switch stored.customer {
        case .unknown:
            customer = .unknown
        case .none:
            customer = .none
        case .known(let number):
            if let found = context.customers.customer(number: number) {
                customer = .known(found)
                contract = found.activeContract(at: context.now, zone: context.customers.zone)
            } else {
                customer = .notFound(Sanitizer.inline(number, limit: 20))
            }
        case .notFound(let claimed):
            customer = .notFound(claimed)
        }
        proven = stored.proven
        pinFailures = stored.pinFailures
        pinExhausted = stored.pinExhausted
        lockedClaimGroup = stored.lockedClaimGroup
        unknownNumbers = stored.unknownNumbers
        description = stored.description
        problem = stored.problem
        descriptionTruncated = stored.descriptionTruncated
        truncationTold = stored.truncationTold
        suggestionsDone = stored.suggestionsDone
        lastQuestion = stored.lastQuestion?.question
        if let ids = stored.suggestions {
            let found = ids.compactMap { context.knowledgeBase.article(id: $0) }
            if found.count == ids.count {
                suggestions = found
            } else {
                suggestionsDone = false
                if lastQuestion == .suggestions { lastQuestion = nil }
            }
        }
        severity = stored.severity
        lastPromptAt = stored.lastPromptAt
        greeted = stored.greeted
        notes = stored.notes
        readyToCreate = stored.readyToCreate
    }

    /// What to say at once after a restart: only when a PIN check was cut
    /// off — its PIN was not stored, so the customer is asked again (with
    /// the greeting, if the first line already started the check).
    mutating func resume(interruptedPINCheck: Bool, _ context: IntakeContext) -> [IntakeEffect] {
        texts = context.texts
        // The stored question may never have reached the customer: the
        // snapshot is committed before a step's lines go out, and the
        // process can die (or lose its lease) in between. So the customer's
        // next line gets the open question again at once, not after the
        // re-prompt interval: a customer who repeats an unanswered line was
        // otherwise met with silence across takeovers (issue 10).
        lastPromptAt = nil
        guard interruptedPINCheck, needsPIN else { return [] }
        lastQuestion = .pin
        lastPromptAt = context.now
        return [.say(joined(greeting() + [text(.pinCheckInterrupted), questionText(.pin)]))]
    }
}
