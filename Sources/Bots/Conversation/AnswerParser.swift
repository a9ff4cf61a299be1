import Desk
import Foundation

/// What one customer line says, as far as the conversation's questions go.
///
/// Customers answer early and in their own words: "Kundennummer 10042,
/// unser VPN ist down" gives the number *and* the description; "10042"
/// alone is a number when the bot asked for one; "keine Kundennummer, Frage
/// zur Lizenz" says "none" and describes the problem; "Prio 1" or
/// "severity 2" anywhere gives the severity. What is left after the
/// recognised parts is the candidate description. A PIN is taken out of the
/// line and never becomes part of the description.
struct ParsedLine: Equatable {
    var customerNumber: String?
    var saysNoCustomerNumber = false
    var pin: String?
    var severity: Severity?
    /// The answer to "does one of these articles help?": true/false, with
    /// the article's 1-based number when one was named.
    var suggestionAnswer: (helps: Bool, index: Int?)?
    /// The rest of the line, trimmed; nil when nothing substantive is left
    /// (a greeting, "ok", "hilfe").
    var remainder: String?

    static func == (a: ParsedLine, b: ParsedLine) -> Bool {
        a.customerNumber == b.customerNumber && a.saysNoCustomerNumber == b.saysNoCustomerNumber && a.pin == b.pin
            && a.severity == b.severity && a.suggestionAnswer?.helps == b.suggestionAnswer?.helps
            && a.suggestionAnswer?.index == b.suggestionAnswer?.index && a.remainder == b.remainder
    }
}

/// The question the bot asked last (what a bare answer refers to).
enum Question: Sendable, Hashable {
    case customerNumber, pin, description, suggestions, severity
}

enum AnswerParser {
    /// A word or a number of the line, with where it is.
    struct Token {
        var text: String          // lowercased
        var range: Range<String.Index>
        var isNumber: Bool
        /// Directly after the previous token, with nothing between ("p1", "sev2").
        var attached: Bool
    }

    static func tokens(_ line: String) -> [Token] {
        var out: [Token] = []
        var index = line.startIndex
        var previousEnd: String.Index?
        while index < line.endIndex {
            let character = line[index]
            let isDigit = character.isASCII && character.isNumber
            let isLetter = character.isLetter
            guard isDigit || isLetter else {
                index = line.index(after: index)
                continue
            }
            var end = line.index(after: index)
            while end < line.endIndex {
                let c = line[end]
                let sameClass = isDigit ? (c.isASCII && c.isNumber) : c.isLetter
                if !sameClass { break }
                end = line.index(after: end)
            }
            out.append(Token(text: line[index..<end].lowercased(), range: index..<end, isNumber: isDigit,
                             attached: previousEnd == index))
            previousEnd = end
            index = end
        }
        return out
    }

    static let numberKeywords: Set<String> = [
        "kundennummer", "kundennr", "kdnr", "kundenummer", "kundenr", "kunde", "customernumber", "kundennummern",
    ]
    /// First word of a two-word keyword ("customer number", "kunden nr").
    static let numberKeywordHeads: Set<String> = ["customer", "kunden", "kd", "cust", "client", "account"]
    static let numberKeywordTails: Set<String> = ["number", "no", "nr", "nummer", "id", "num"]
    static let fillers: Set<String> = ["ist", "is", "lautet", "nr", "no", "number", "meine", "my", "our", "unsere", "die", "the", "es", "it", "s"]
    /// Words that may stand around a bare customer number.
    static let numberSmallTalk: Set<String> = [
        "nr", "nummer", "number", "no", "ist", "is", "it", "its", "s", "lautet", "meine", "my", "our", "unsere",
        "die", "the", "hier", "here", "bitte", "please", "sure", "klar", "ok", "okay", "ja", "yes", "sorry", "kd",
        "kunde", "kunden", "customer",
    ]
    static let possessives: Set<String> = ["my", "our", "meine", "unsere", "die", "the", "your", "ihre"]
    static let severityKeywords: Set<String> = [
        "prio", "priorität", "prioritaet", "priority", "severity", "sev", "schweregrad", "stufe", "level", "schwere",
    ]
    static let noneWords: Set<String> = ["keine", "kein", "none", "no", "nein", "nope", "ohne", "nö", "noe", "without", "n"]
    static let yesWords: Set<String> = ["ja", "yes", "y", "j", "jo", "jep", "jap", "yep", "yeah", "jawohl", "genau", "sure", "klar", "yup"]
    static let noWords: Set<String> = ["nein", "no", "n", "nope", "nö", "noe", "leider", "not", "nicht", "keiner", "neither", "nah"]
    static let greetings: Set<String> = [
        "hallo", "hello", "hi", "hey", "moin", "servus", "huhu", "gutentag", "tag", "guten", "morgen", "abend",
        "good", "morning", "evening", "afternoon", "grüß", "gruess", "gott", "dear", "liebes", "team", "support",
    ]
    static let filler: Set<String> = [
        "help", "hilfe", "danke", "thanks", "thank", "you", "ok", "okay", "bitte", "please", "test", "ja", "yes",
        "nein", "no", "hm", "hmm", "äh", "ah", "oh", "so", "well", "also",
    ]

    /// Parses `line` given the question the bot asked last.
    static func parse(_ line: String, asked: Question?, suggestionCount: Int = 0) -> ParsedLine {
        var result = ParsedLine()
        let tokens = tokens(line)
        var consumed: [Range<String.Index>] = []
        func consume(_ from: Int, _ to: Int) {
            consumed.append(tokens[from].range.lowerBound..<tokens[to].range.upperBound)
        }
        /// The index of the first number token after `i`, skipping filler words (at most 3).
        func numberAfter(_ i: Int) -> Int? {
            var j = i + 1
            var skipped = 0
            while j < tokens.count, skipped <= 3 {
                if tokens[j].isNumber { return j }
                guard fillers.contains(tokens[j].text) else { return nil }
                j += 1
                skipped += 1
            }
            return nil
        }

        // "keine Kundennummer", "no customer number", "ohne Kundennummer", "kein Kunde", "not a customer".
        for i in tokens.indices where noneWords.contains(tokens[i].text) || tokens[i].text == "not" {
            var j = i + 1
            if j < tokens.count, ["a", "an", "eine", "einen", "noch"].contains(tokens[j].text) { j += 1 }
            if j < tokens.count, ["kein", "keine"].contains(tokens[j].text) { j += 1 }
            guard j < tokens.count else { continue }
            if numberKeywords.contains(tokens[j].text) || tokens[j].text == "customer" || tokens[j].text == "kunde" {
                var end = j
                if tokens[j].text == "customer", j + 1 < tokens.count, numberKeywordTails.contains(tokens[j + 1].text) {
                    end = j + 1
                }
                result.saysNoCustomerNumber = true
                consume(i, end)
                break
            }
        }

        // Customer number after a keyword.
        if !result.saysNoCustomerNumber {
            for i in tokens.indices where !tokens[i].isNumber {
                var keywordEnd: Int?
                if numberKeywords.contains(tokens[i].text) {
                    keywordEnd = i
                } else if numberKeywordHeads.contains(tokens[i].text), i + 1 < tokens.count,
                          numberKeywordTails.contains(tokens[i + 1].text) {
                    keywordEnd = i + 1
                }
                guard let end = keywordEnd, let n = numberAfter(end), tokens[n].text.count <= 12 else { continue }
                result.customerNumber = tokens[n].text
                // "my customer number", "unsere Kundennummer": the possessive goes too.
                let start = i > 0 && possessives.contains(tokens[i - 1].text) ? i - 1 : i
                consume(start, n)
                break
            }
        }

        // PIN after the word PIN.
        for i in tokens.indices where tokens[i].text == "pin" {
            guard let n = numberAfter(i), (3...12).contains(tokens[n].text.count) else { continue }
            result.pin = tokens[n].text
            consume(i, n)
            break
        }

        // Severity after a keyword ("Prio 1", "severity: 2", "P1", "sev2").
        for i in tokens.indices where !tokens[i].isNumber {
            let word = tokens[i].text
            let isKeyword = severityKeywords.contains(word)
            let isP = word == "p" && i + 1 < tokens.count && tokens[i + 1].attached
            guard isKeyword || isP else { continue }
            guard let n = isP ? i + 1 : numberAfter(i), tokens[n].isNumber, tokens[n].text.count == 1,
                  let severity = Severity(text: tokens[n].text) else { continue }
            result.severity = severity
            consume(i, n)
            break
        }

        let free = tokens.indices.filter { index in !consumed.contains { $0.contains(tokens[index].range.lowerBound) } }
        let words = free.filter { !tokens[$0].isNumber }

        // Bare answers to the question just asked.
        switch asked {
        case .customerNumber where result.customerNumber == nil && !result.saysNoCustomerNumber:
            if let first = free.first {
                if tokens[first].isNumber, (1...12).contains(tokens[first].text.count) {
                    result.customerNumber = tokens[first].text
                    consume(first, first)
                } else if noneWords.contains(tokens[first].text) {
                    result.saysNoCustomerNumber = true
                    consume(first, first)
                } else {
                    // "it's 10042", "meine Nummer ist 10042": one number among small words only.
                    let numbers = free.filter { tokens[$0].isNumber }
                    if numbers.count == 1, words.allSatisfy({ numberSmallTalk.contains(tokens[$0].text) }),
                       (3...12).contains(tokens[numbers[0]].text.count) {
                        result.customerNumber = tokens[numbers[0]].text
                        consume(numbers[0], numbers[0])
                    }
                }
            }
        case .pin where result.pin == nil:
            if let first = free.first, tokens[first].isNumber, (3...12).contains(tokens[first].text.count) {
                result.pin = tokens[first].text
                consume(first, first)
            }
        case .severity where result.severity == nil:
            if let first = free.first, tokens[first].isNumber, tokens[first].text.count == 1,
               let severity = Severity(text: tokens[first].text),
               !(free.count > 1 && tokens[free[1]].isNumber) {
                result.severity = severity
                consume(first, first)
            }
        case .suggestions:
            if let first = free.first {
                let word = tokens[first].text
                var answer: (Bool, Int?)?
                if tokens[first].isNumber, let index = Int(word), (1...max(1, suggestionCount)).contains(index) {
                    answer = (true, index)
                    consume(first, first)
                } else if yesWords.contains(word) {
                    var index: Int?
                    var end = first
                    for candidate in free.dropFirst().prefix(3) where tokens[candidate].isNumber {
                        if let n = Int(tokens[candidate].text), (1...max(1, suggestionCount)).contains(n) {
                            index = n
                            end = candidate
                        }
                        break
                    }
                    answer = (true, index)
                    consume(first, end)
                } else if noWords.contains(word) {
                    answer = (false, nil)
                    consume(first, first)
                }
                if let answer { result.suggestionAnswer = (answer.0, answer.1) }
            }
        default:
            break
        }

        result.remainder = remainder(of: line, without: consumed, tokens: tokens)
        return result
    }

    /// Words of a plea for help that says nothing about the problem: "wir
    /// brauchen dringend Hilfe", "please help us asap", "Notfall!".
    static let pleaWords: Set<String> = [
        "ich", "wir", "brauche", "brauchen", "benötige", "benötigen", "dringend", "dringende", "dringenden",
        "sofort", "schnell", "schnellstmöglich", "hilfe", "helfen", "unterstützung", "bitte", "support",
        "mal", "euch", "eure", "euren", "ihre", "ihren", "eine", "einen", "ein", "kann", "können", "könnt", "könnten",
        "jemand", "uns", "mir", "es", "ist", "sehr", "ganz", "wichtig", "notfall", "problem", "probleme", "haben",
        "habe", "hat", "eilt", "asap", "dringlich", "bei", "hier", "gerade", "jetzt", "akut", "frage", "anliegen",
        "i", "we", "need", "needs", "urgent", "urgently", "help", "please", "quick", "quickly", "now",
        "immediately", "someone", "somebody", "can", "could", "you", "us", "me", "a", "an", "some", "have", "has",
        "got", "issue", "issues", "there", "is", "it", "very", "emergency", "our", "my", "question", "hi",
        "hello", "here", "right", "away", "am", "are", "with", "mit", "und", "and", "noch", "heute", "today",
        "wirklich", "really", "bräuchten", "bräuchte", "benötigt", "required", "sie", "helft", "du", "dringendst",
    ]

    /// Whether `text` is only a plea or a greeting, without a word about what
    /// is wrong: such a line is no problem description.
    static func isPlea(_ text: String) -> Bool {
        let words = tokens(text).filter { !$0.isNumber }
        return words.allSatisfy { pleaWords.contains($0.text) || filler.contains($0.text) || greetings.contains($0.text) }
    }

    /// The line without the consumed parts and a leading greeting, trimmed
    /// of separators; nil when nothing substantive is left.
    /// What separates parts of an answer; dropped at the start of the remainder.
    /// (Built once: a `CharacterSet` made from characters costs more than
    /// parsing the whole line, on every customer answer.)
    static let separators = CharacterSet(charactersIn: " \t,;:.-–—!?/|()[]")
    /// What is dropped at the end of the remainder (sentence punctuation stays).
    static let trailingSeparators = CharacterSet(charactersIn: " \t,;:-–—/|(")

    static func remainder(of line: String, without consumed: [Range<String.Index>], tokens: [Token]) -> String? {
        var text = ""
        var index = line.startIndex
        for range in consumed.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound > index { text += line[index..<range.lowerBound] }
            index = max(index, range.upperBound)
        }
        if index < line.endIndex { text += line[index...] }
        // Drop a leading greeting ("Hallo,", "Hi team -").
        var rest = Substring(text)
        while true {
            let trimmed = rest.drop { !$0.isLetter && !$0.isNumber }
            let word = trimmed.prefix { $0.isLetter }
            if !word.isEmpty, greetings.contains(word.lowercased()) {
                rest = trimmed.dropFirst(word.count)
                continue
            }
            rest = trimmed
            break
        }
        let separators = Self.separators
        // Parts left empty by a removed answer ("VPN down, , seit heute").
        let joined = rest.split(separator: ",", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.joined(separator: ",")
        // Separators go at both ends; sentence punctuation stays at the end.
        var cleaned = joined.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        cleaned = String(cleaned.drop { $0.unicodeScalars.allSatisfy(separators.contains) })
        let trailing = Self.trailingSeparators
        while let last = cleaned.last, last.unicodeScalars.allSatisfy(trailing.contains) { cleaned.removeLast() }
        let remainingWords = Self.tokens(cleaned).filter { !$0.isNumber }
        let substantive = remainingWords.filter { !filler.contains($0.text) && !greetings.contains($0.text) }
        guard !substantive.isEmpty else { return nil }
        if substantive.count == 1, remainingWords.count == 1, substantive[0].text.count < 5 { return nil }
        if ["und", "and", "also", "so"].contains(remainingWords.first?.text ?? ""), remainingWords.count == 1 { return nil }
        var result = cleaned
        for lead in ["und ", "and ", "Und ", "And "] where result.hasPrefix(lead) { result.removeFirst(lead.count) }
        return result
    }
}
