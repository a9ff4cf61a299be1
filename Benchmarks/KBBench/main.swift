// KBBench: query and build times of the knowledge base.
//
//   swift run -c release KBBench                 the benchmark (shipped KB and 10,000 generated articles)
//   swift run -c release KBBench --kb PATH       the same with another KB folder
//   swift run KBBench --explain "words" [--kb PATH]
//                                                how a query is understood and ranked (for tuning)
//   swift run KBBench --evaluate [FOLDER] [--set PATH] [--threshold X] [--tuning-only] [--brief] [--kb PATH]
//                                                suggestion precision, unrelated-suggestion rate,
//                                                recall and !kb top-1/top-3 on the labelled set
//                                                (default Tests/KBTests/Evaluation/problems.tsv),
//                                                tuning part and held-out third, per kind, with every
//                                                failure (--brief: the tables only). FOLDER is a set
//                                                folder: its articles in FOLDER/kb and its messages in
//                                                FOLDER/messages.tsv (e.g. Tests/KBTests/Evaluation/SecondSet)
//
// --vocabulary FILE,FILE names the vocabulary files (default: the two that
// bots/kb.json5 names, below the current directory).
// --dictionary PATH names the general German–English dictionary (default:
// /usr/share/trans/de-en, as bots/kb.json5; "none": without one).
// The shipped KB is `bots/kb` below the current directory unless --kb says
// otherwise. Generated articles come from fixed word lists and templates in
// both languages with a fixed random seed, so runs are comparable.
import Core
import Foundation
import KB

// MARK: Arguments

var arguments = Array(CommandLine.arguments.dropFirst())
var kbPath = "bots/kb"
var explainQuery: String?
var evaluate = false
var evaluationPath = "Tests/KBTests/Evaluation/problems.tsv"
var evaluationThreshold = KnowledgeBase.defaultSuggestionThreshold
var tuningOnly = false
var brief = false
/// `--evaluate FOLDER --features`: print the confidence's raw parts per
/// candidate (tab-separated) instead of the report, for fit_confidence.py.
var features = false
var vocabularyOption: [String]?
var dictionaryPath = "/usr/share/trans/de-en"
/// `--dump`: print every generated query's ranking on the shipped and the
/// generated KB at full precision instead of timing them, so that a change
/// meant only for speed can be checked to change no answer (diff two runs).
var dump = false
var generatedCount = 10_000
var queryCount = 2_000
/// `--builds N`: how many times the generated KB's index is built (median of them).
var buildRuns = 3
/// `--questions N`: customers' questions per generated article (`questions:`; default none).
var questionsPerArticle = 0
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--kb" where !arguments.isEmpty: kbPath = arguments.removeFirst()
    case "--explain" where !arguments.isEmpty: explainQuery = arguments.removeFirst()
    case "--articles" where !arguments.isEmpty: generatedCount = Int(arguments.removeFirst()) ?? generatedCount
    case "--queries" where !arguments.isEmpty: queryCount = Int(arguments.removeFirst()) ?? queryCount
    case "--builds" where !arguments.isEmpty: buildRuns = max(1, Int(arguments.removeFirst()) ?? buildRuns)
    case "--questions" where !arguments.isEmpty: questionsPerArticle = max(0, Int(arguments.removeFirst()) ?? 0)
    case "--evaluate":
        evaluate = true
        // An optional set folder (kb/ + messages.tsv) or messages file.
        if let next = arguments.first, !next.hasPrefix("--") {
            arguments.removeFirst()
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: next, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("--evaluate: \(next) does not exist\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                kbPath = (next as NSString).appendingPathComponent("kb")
                evaluationPath = (next as NSString).appendingPathComponent("messages.tsv")
            } else {
                evaluationPath = next
            }
        }
    case "--brief": brief = true
    case "--dump": dump = true
    case "--features": features = true
    case "--set" where !arguments.isEmpty: evaluationPath = arguments.removeFirst()
    case "--threshold" where !arguments.isEmpty:
        guard let value = Double(arguments.removeFirst()) else { FileHandle.standardError.write(Data("--threshold needs a number\n".utf8)); exit(2) }
        evaluationThreshold = value
    case "--tuning-only": tuningOnly = true
    case "--dictionary" where !arguments.isEmpty: dictionaryPath = arguments.removeFirst()
    case "--vocabulary" where !arguments.isEmpty:
        vocabularyOption = arguments.removeFirst().split(separator: ",").map(String.init).filter { !$0.isEmpty }
    default:
        FileHandle.standardError.write(Data("""
            usage: KBBench [--kb PATH] [--articles N] [--queries N] [--builds N] [--questions N] [--dump]
                   KBBench --explain "words" [--kb PATH]
                   KBBench --evaluate [FOLDER] [--set PATH] [--threshold X] [--tuning-only] [--brief] [--kb PATH]
                   any of them with --vocabulary FILE,FILE (default: bots/vocabulary/{it-support,general,local}.json5, as bots/kb.json5)
                   and --dictionary PATH|none (default: /usr/share/trans/de-en, as bots/kb.json5)

            """.utf8))
        exit(2)
    }
}

let vocabularyPaths = vocabularyOption ?? ["bots/vocabulary/it-support.json5", "bots/vocabulary/general.json5", "bots/vocabulary/local.json5"]
var vocabulary: Vocabulary
do {
    vocabulary = try Vocabulary.load(vocabularyPaths.map { URL(fileURLWithPath: $0) })
    if dictionaryPath != "none" { vocabulary.dictionary = try BilingualDictionary.load(path: dictionaryPath) }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
let (shipped, loadErrors) = KnowledgeBase.load(from: URL(fileURLWithPath: kbPath), vocabulary: vocabulary)
for error in loadErrors { print("load error: \(error)") }

if let query = explainQuery {
    print("query: \(query)")
    for line in shipped.explain(query, threshold: evaluationThreshold) { print("  \(line)") }
    print("search (top 5):")
    for hit in shipped.search(query, limit: 5) {
        print(String(format: "  %-8@ score %6.2f  confidence %.2f  %@", hit.article.id, hit.score,
                     hit.confidence, hit.article.title))
    }
    let suggestions = shipped.suggestions(for: query)
    print("suggestions: " + (suggestions.isEmpty ? "none" : suggestions.map(\.article.id).joined(separator: ", ")))
    exit(0)
}

if evaluate, features {
    do {
        let set = try KBEvaluationSet(contentsOf: URL(fileURLWithPath: evaluationPath))
        for line in set.confidenceFeatures(on: shipped) { print(line) }
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

if evaluate {
    runEvaluation(shipped)
    exit(0)
}

// MARK: Evaluation

func percent(_ value: Double) -> String { String(format: "%5.1f %%", value * 100) }

func describe(_ hits: [KBHit]) -> String {
    hits.isEmpty ? "none" : hits.map { String(format: "%@ %.2f", $0.article.id, $0.confidence) }.joined(separator: ", ")
}

@MainActor func runEvaluation(_ kb: KnowledgeBase) {
    let set: KBEvaluationSet
    do {
        set = try KBEvaluationSet(contentsOf: URL(fileURLWithPath: evaluationPath))
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
    for (id, line) in set.unknownIDs(in: kb) { print("\(evaluationPath):\(line): no article \(id) in \(kbPath)") }
    let evaluation = KBEvaluation(set, on: kb, threshold: evaluationThreshold)

    print("KB evaluation — \(set.cases.count) descriptions from \(evaluationPath), \(kb.count) articles, "
        + "suggestion threshold \(evaluationThreshold)")
    print("")
    let groups: [(String, KBEvaluation.Metrics)] = [
        ("tuning (2/3)", evaluation.tuning), ("held-out (1/3)", evaluation.heldOut), ("all", evaluation.metrics()),
        ("all, German", evaluation.metrics { $0.language == "de" }),
        ("all, English", evaluation.metrics { $0.language == "en" }),
    ]
    print("set              answerable unrelated | precision  unrelated-offered  recall@1 | !kb top-1  top-3")
    for (name, m) in groups {
        print(name.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(format: " %10d %9d | ", m.answerable, m.unrelated)
            + "\(percent(m.precision))    \(percent(m.unrelatedSuggestionRate))      \(percent(m.recall)) | "
            + "\(percent(m.searchTop1Rate)) \(percent(m.searchTop3Rate))")
    }

    print("")
    print("At the threshold — top-3: !kb lists a helpful article among three; offered: a helpful article is")
    print("among the suggestions; false offers: unanswerable messages offered anything")
    var kindGroups: [(String, KBEvaluation.Metrics)] = [("all", evaluation.metrics()), ("tuning (2/3)", evaluation.tuning),
                                                        ("held-out (1/3)", evaluation.heldOut)]
    let kindsPresent = KBEvaluationSet.kinds.filter { kind in set.cases.contains { $0.kind == kind } }
    for kind in kindsPresent { kindGroups.append((kind, evaluation.metrics { $0.kind == kind })) }
    print("group              n  | top-3    offered  | tuning top-3 / offered | held-out top-3 / offered | false offers")
    for (index, (name, m)) in kindGroups.enumerated() {
        let answerable = m.answerable > 0
        // Per kind, also each part (the first three rows are the parts themselves).
        let kind = index >= 3 ? name : nil
        let halves = [false, true].map { heldOut in
            evaluation.metrics { $0.isHeldOut == heldOut && (kind == nil || $0.kind == kind) }
        }
        let split = halves.map { h in
            h.answerable > 0 ? String(format: "  %4.2f / %4.2f (%2d)  ", h.searchTop3Rate, h.helpfulOfferedRate, h.answerable)
                : "          -           "
        }
        let head: String = name.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(format: " %4d  | ", m.answerable + m.unrelated)
        let rates: String = answerable ? "\(percent(m.searchTop3Rate))  \(percent(m.helpfulOfferedRate))" : "    -        -    "
        let parts: String = index >= 3 ? split.joined(separator: " | ") : "          -            |            -           "
        let falseOffers: String = m.unrelated > 0
            ? "\(m.unrelatedWithSuggestion) of \(m.unrelated) (\(percent(m.unrelatedSuggestionRate)))" : "-"
        print(head + rates + " | " + parts + " | " + falseOffers)
    }

    print("")
    print("Confusion (descriptions), by first suggestion:")
    print("                    relevant first  wrong first  nothing offered")
    for (name, m) in groups.prefix(3) {
        let wrongFirst = m.answerableWithSuggestion - m.answerableFirstRelevant
        let nothing = m.answerable - m.answerableWithSuggestion
        print("  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) answerable "
            + String(format: "%5d %12d %16d", m.answerableFirstRelevant, wrongFirst, nothing))
        print("  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) unrelated  "
            + "    -" + String(format: " %12d %16d", m.unrelatedWithSuggestion, m.unrelated - m.unrelatedWithSuggestion))
    }
    for (name, m) in groups.prefix(3) {
        print("  \(name): \(m.offered) articles offered, \(m.offeredRelevant) relevant; "
            + "\(m.answerableOnlyWrong) answerable descriptions got only unhelpful articles; "
            + "!kb lists something for \(m.unrelatedWithSearchHit) of \(m.unrelated) unrelated")
    }

    print("")
    for (name, m) in groups.prefix(3) {
        let sentences = evaluation.metrics { $0.kind == "sentence" && (name == "all" || ($0.isHeldOut == (name != "tuning (2/3)"))) }
        let crosslang = evaluation.metrics { $0.kind == "crosslang" && (name == "all" || ($0.isHeldOut == (name != "tuning (2/3)"))) }
        print("summary \(name): top-3 \(String(format: "%.2f", m.searchTop3Rate)), helpful offered "
            + String(format: "%.2f", m.helpfulOfferedRate) + ", false offers \(m.unrelatedWithSuggestion)/\(m.unrelated)"
            + (sentences.answerable > 0 ? String(format: ", sentences top-3 %.2f offered %.2f", sentences.searchTop3Rate,
                                                 sentences.helpfulOfferedRate) : "")
            + (crosslang.answerable > 0 ? String(format: ", crosslang top-3 %.2f offered %.2f", crosslang.searchTop3Rate,
                                                 crosslang.helpfulOfferedRate) : ""))
    }
    if brief { return }

    print("")
    print("Threshold sweep (precision / unrelated-offered / recall@1):")
    for threshold in stride(from: 0.3, through: 0.951, by: 0.05) {
        let swept = KBEvaluation(set, on: kb, threshold: threshold)
        let t = swept.tuning, h = swept.heldOut
        print(String(format: "  %.2f  tuning ", threshold)
            + "\(percent(t.precision)) \(percent(t.unrelatedSuggestionRate)) \(percent(t.recall))   held-out "
            + "\(percent(h.precision)) \(percent(h.unrelatedSuggestionRate)) \(percent(h.recall))")
    }

    let shown = evaluation.outcomes.filter { !tuningOnly || !$0.item.isHeldOut }
    func line(_ o: KBEvaluation.Outcome) -> String {
        "\(o.item.isHeldOut ? "H" : "T") \(evaluationPath.split(separator: "/").last ?? ""):\(o.item.line) [\(o.item.language)] "
            + "\(o.item.text)"
    }
    print("")
    print("Unrelated descriptions that were offered an article (T tuning, H held out):")
    for o in shown where !o.item.isAnswerable && !o.suggestions.isEmpty {
        print("  \(line(o))\n      offered: \(describe(o.suggestions))")
    }
    print("")
    print("Answerable descriptions offered an article that does not help:")
    for o in shown where o.item.isAnswerable && o.suggestions.count > o.relevantSuggestions {
        print("  \(line(o))\n      offered: \(describe(o.suggestions)); relevant: "
            + o.item.relevant.sorted().joined(separator: ","))
    }
    print("")
    print("Answerable descriptions offered nothing (with !kb's top 3):")
    for o in shown where o.item.isAnswerable && o.suggestions.isEmpty {
        print("  \(line(o))\n      !kb: \(describe(o.search)); relevant: " + o.item.relevant.sorted().joined(separator: ","))
    }
    print("")
    print("!kb misses (no relevant article in the top 3):")
    for o in shown where o.item.isAnswerable && !o.searchTop3 {
        print("  \(line(o))\n      !kb: \(describe(o.search)); relevant: " + o.item.relevant.sorted().joined(separator: ","))
    }
}

// MARK: Deterministic generator

var rng = SeededRandom(seed: 0x5EED_1234)

enum Words {
    static let deNouns = [
        "Sicherung", "Datei", "Ordner", "Festplatte", "Verbindung", "Zertifikat", "Lizenz", "Benutzer",
        "Passwort", "Anmeldung", "Replikation", "Freigabe", "Berechtigung", "Aktualisierung", "Firmware",
        "Schlüssel", "Verschlüsselung", "Speicher", "Kontingent", "Zeitplan", "Auftrag", "Protokoll",
        "Benachrichtigung", "Netzwerk", "Wiederherstellung", "Gerät", "Konto", "Rolle", "Richtlinie",
        "Sicherheit", "Größe", "Übertragung", "Bandbreite", "Zeitserver", "Uhrzeit", "Adresse", "Dienst",
        "Treiber", "Laufwerk", "Partition", "Snapshot", "Agent", "Datenbank", "Postfach", "Bericht",
        "Warnung", "Fehler", "Ausnahme", "Version", "Profil", "Gruppe", "Domäne", "Drucker", "Kamera",
        "Schnittstelle", "Konfiguration", "Wartung", "Kapazität", "Archiv", "Aufbewahrung",
    ]
    static let deVerbs = [
        "wiederherstellen", "sichern", "einrichten", "löschen", "prüfen", "erneuern", "aktualisieren",
        "installieren", "konfigurieren", "austauschen", "verschieben", "exportieren", "importieren",
        "zurücksetzen", "aktivieren", "deaktivieren", "freigeben", "überwachen", "verbinden", "anmelden",
    ]
    static let deProblems = [
        "schlägt fehl", "bricht ab", "ist langsam", "ist abgelaufen", "wird nicht angezeigt",
        "ist nicht erreichbar", "meldet einen Fehler", "ist voll", "wurde gelöscht", "hängt",
        "startet nicht", "ist beschädigt", "fehlt", "wird abgelehnt",
    ]
    static let deFiller = [
        "Öffnen Sie die Verwaltungsoberfläche und wählen Sie den Bereich", "Prüfen Sie anschließend",
        "In den meisten Fällen genügt es", "Danach startet die NordBox", "Bei größeren Installationen empfehlen wir",
        "Beachten Sie, dass", "Im Protokoll sehen Sie", "Wenden Sie sich an den Support, wenn",
        "Die Einstellung gilt für alle", "Nach dem Speichern übernimmt die NordBox",
    ]
    static let enNouns = [
        "backup", "file", "folder", "disk", "connection", "certificate", "licence", "user", "password",
        "login", "replication", "share", "permission", "update", "firmware", "key", "encryption", "storage",
        "quota", "schedule", "job", "log", "alert", "network", "restore", "device", "account", "role",
        "policy", "security", "size", "transfer", "bandwidth", "time server", "clock", "address", "service",
        "driver", "drive", "partition", "snapshot", "agent", "database", "mailbox", "report", "warning",
        "error", "exclusion", "version", "profile", "group", "domain", "printer", "camera", "interface",
        "configuration", "maintenance", "capacity", "archive", "retention",
    ]
    static let enVerbs = [
        "restore", "back up", "set up", "delete", "check", "renew", "update", "install", "configure",
        "replace", "move", "export", "import", "reset", "enable", "disable", "share", "monitor", "connect",
        "sign in to",
    ]
    static let enProblems = [
        "fails", "keeps dropping", "is slow", "has expired", "is not shown", "is unreachable",
        "reports an error", "is full", "was deleted", "hangs", "does not start", "is corrupted", "is missing",
        "is rejected",
    ]
    static let enFiller = [
        "Open the admin console and select the section", "Then check", "In most cases it is enough to",
        "Afterwards the NordBox restarts", "For larger installations we recommend", "Note that",
        "The log shows", "Contact support if", "The setting applies to all", "After saving, the NordBox applies",
    ]
    static let products = ["NordBox S", "NordBox M", "NordBox L", "NordBox Cloud", "NordBox Connect"]
    static let systems = ["Windows 11", "Windows Server 2022", "macOS", "Ubuntu", "Debian", "RHEL", "Synology",
                          "Microsoft 365", "Exchange", "SQL Server", "VMware", "Hyper-V"]
}

extension Array {
    func pick(_ rng: inout SeededRandom) -> Element { self[Int(rng.next() % UInt64(count))] }
}

func generateArticle(_ number: Int, _ rng: inout SeededRandom) -> Article {
    let german = number % 2 == 0
    let id = "GEN-\(number)"
    let code = "E\(100 + Int(rng.next() % 900))"
    let product = Words.products.pick(&rng)
    let system = Words.systems.pick(&rng)
    let title: String
    var sentences: [String] = []
    var tags: [String]
    if german {
        let noun = Words.deNouns.pick(&rng), other = Words.deNouns.pick(&rng)
        // Some titles use a compound of two nouns, as German writers do.
        let subject = rng.next() % 3 == 0 ? noun + other.lowercased() : noun
        title = rng.next() % 2 == 0
            ? "\(subject) \(Words.deProblems.pick(&rng)) (\(system))"
            : "\(subject) auf der \(product) \(Words.deVerbs.pick(&rng))"
        tags = [noun, other, system, code]
        for _ in 0..<(6 + Int(rng.next() % 6)) {
            sentences.append("\(Words.deFiller.pick(&rng)) \(Words.deNouns.pick(&rng)) und "
                + "\(Words.deNouns.pick(&rng)) \(Words.deVerbs.pick(&rng)), wenn \(Words.deNouns.pick(&rng)) "
                + "\(Words.deProblems.pick(&rng)) (Fehler \(code), \(system)).")
        }
    } else {
        let noun = Words.enNouns.pick(&rng), other = Words.enNouns.pick(&rng)
        title = rng.next() % 2 == 0
            ? "\(noun.capitalized) \(other) \(Words.enProblems.pick(&rng)) (\(system))"
            : "How to \(Words.enVerbs.pick(&rng)) the \(noun) on \(product)"
        tags = [noun, other, system, code]
        for _ in 0..<(6 + Int(rng.next() % 6)) {
            sentences.append("\(Words.enFiller.pick(&rng)) \(Words.enNouns.pick(&rng)) and "
                + "\(Words.enVerbs.pick(&rng)) the \(Words.enNouns.pick(&rng)) when the \(Words.enNouns.pick(&rng)) "
                + "\(Words.enProblems.pick(&rng)) (error \(code), \(system)).")
        }
    }
    tags.append("T\(number % 997)")
    let summary = sentences[0]
    let body = summary + "\n\n## " + (german ? "Schritte" : "Steps") + "\n"
        + sentences.dropFirst().enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
    return Article(id: id, title: title, url: URL(string: "https://docs.nordlicht.example/kb/\(id)")!,
                   tags: tags, language: german ? .de : .en, summary: summary, body: body,
                   source: "generated/\(id).md")
}

/// `article` with `count` customers' questions made of the generator's words.
func withQuestions(_ article: Article, _ count: Int, _ rng: inout SeededRandom) -> Article {
    let questions = (0..<count).map { _ in
        article.language == .de
            ? "Warum \(Words.deProblems.pick(&rng)) \(Words.deNouns.pick(&rng)) bei \(Words.deNouns.pick(&rng))"
                + " nach dem \(Words.deNouns.pick(&rng))?"
            : "Why does my \(Words.enNouns.pick(&rng)) \(Words.enProblems.pick(&rng)) when the"
                + " \(Words.enNouns.pick(&rng)) \(Words.enVerbs.pick(&rng))?"
    }
    return Article(id: article.id, title: article.title, url: article.url, tags: article.tags, language: article.language,
                   summary: article.summary, body: article.body, source: article.source, questions: questions)
}

/// One typo: insertion, deletion, substitution or transposition.
func typo(_ word: String, _ rng: inout SeededRandom) -> String {
    var chars = Array(word)
    guard chars.count >= 4 else { return word }
    let i = 1 + Int(rng.next() % UInt64(chars.count - 2))
    switch rng.next() % 4 {
    case 0: chars.insert(chars[i], at: i)
    case 1: chars.remove(at: i)
    case 2: chars[i] = Array("aeinrst").pick(&rng)
    default: chars.swapAt(i, i - 1)
    }
    return String(chars)
}

func generateQueries(_ count: Int, _ rng: inout SeededRandom) -> [String] {
    let fixed = [
        "Dateiwiederherstellung", "Dateien wiederhergestellt", "Groesse Kontingent", "Schluessel verloren",
        "Pasword zurücksetzen", "Wiederherstelung", "firewal", "restore file", "VPN Verbindung bricht ab",
        "I can't restore a deleted file", "Der Kaffeeautomat in der Küche ist kaputt", "my printer is out of toner",
        "Sicherungsauftrag fehlgeschlagen E204", "Zertifikat abgelaufen NordBox Connect", "licence expired",
        "RAID degradiert Festplatte tauschen", "two factor lost phone", "E-Mail Benachrichtigung kommt nicht an",
        "cloud replication slow", "Verwaltungsoberfläche nicht erreichbar", "NTP Uhrzeit falsch",
    ]
    var queries: [String] = []
    for i in 0..<count {
        if i % 10 == 0 { queries.append(fixed[(i / 10) % fixed.count]); continue }
        switch rng.next() % 6 {
        case 0:  // German words
            queries.append("\(Words.deNouns.pick(&rng)) \(Words.deProblems.pick(&rng))")
        case 1:  // German compound
            queries.append(Words.deNouns.pick(&rng) + Words.deNouns.pick(&rng).lowercased() + " "
                + Words.deVerbs.pick(&rng))
        case 2:  // typo
            queries.append(typo(Words.deNouns.pick(&rng), &rng) + " " + typo(Words.enNouns.pick(&rng), &rng))
        case 3:  // English sentence
            queries.append("my \(Words.enNouns.pick(&rng)) \(Words.enProblems.pick(&rng)) after the "
                + "\(Words.enNouns.pick(&rng)) \(Words.enVerbs.pick(&rng))")
        case 4:  // error code and system
            queries.append("error E\(100 + Int(rng.next() % 900)) \(Words.systems.pick(&rng))")
        default:  // a longer German problem description
            queries.append("Hallo, seit gestern \(Words.deProblems.pick(&rng)) bei uns die "
                + "\(Words.deNouns.pick(&rng)) auf der \(Words.products.pick(&rng)), "
                + "\(Words.deNouns.pick(&rng)) \(Words.deVerbs.pick(&rng)) hilft nicht")
        }
    }
    return queries
}

// MARK: Measuring

func nanoseconds(_ body: () -> Void) -> UInt64 {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return DispatchTime.now().uptimeNanoseconds - start
}

/// This thread's CPU time in nanoseconds: unlike wall time, it does not grow
/// while the thread waits for a core on a busy machine.
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The whole process's CPU time (user + system, every thread) in
/// nanoseconds: an index build's work on all its threads, which a loaded
/// machine does not inflate as it does the wall time.
func processCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// (wall, thread CPU) nanoseconds of `body`.
func measure(_ body: () -> Void) -> (UInt64, UInt64) {
    let cpu = threadCPUNanoseconds()
    let wall = nanoseconds(body)
    return (wall, threadCPUNanoseconds() - cpu)
}

struct Stats {
    var p50: Double, p99: Double, max: Double, mean: Double
    init(_ samples: [UInt64]) {
        let sorted = samples.sorted().map { Double($0) / 1000 }
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        p50 = percentile(0.50)
        p99 = percentile(0.99)
        max = sorted.last ?? 0
        mean = sorted.reduce(0, +) / Double(Swift.max(1, sorted.count))
    }
}

var rows: [(String, String)] = []
@MainActor func row(_ name: String, _ value: String) {
    rows.append((name, value))
}
func fmt(_ microseconds: Double) -> String {
    microseconds >= 1000 ? String(format: "%.2f ms", microseconds / 1000) : String(format: "%.1f µs", microseconds)
}

@MainActor func benchmarkQueries(_ kb: KnowledgeBase, _ queries: [String], label: String) {
    var sink = 0
    for query in queries.prefix(200) { sink &+= kb.search(query, limit: 3).count }  // warm-up
    var searchWall: [UInt64] = [], searchCPU: [UInt64] = []
    var suggestWall: [UInt64] = [], suggestCPU: [UInt64] = []
    var hits = 0
    var slowest: [(UInt64, String)] = []
    for query in queries {
        let (wall, cpu) = measure { let r = kb.search(query, limit: 3); hits += r.isEmpty ? 0 : 1; sink &+= r.count }
        searchWall.append(wall); searchCPU.append(cpu)
        slowest.append((cpu, query))
        let (wall2, cpu2) = measure { sink &+= kb.suggestions(for: query).count }
        suggestWall.append(wall2); suggestCPU.append(cpu2)
    }
    for (name, wall, cpu) in [("search(limit: 3)", searchWall, searchCPU), ("suggestions(for:)", suggestWall, suggestCPU)] {
        let w = Stats(wall), c = Stats(cpu)
        row("\(label): \(name) wall", "p50 \(fmt(w.p50))  p99 \(fmt(w.p99))  max \(fmt(w.max))  mean \(fmt(w.mean))")
        row("\(label): \(name) CPU", "p50 \(fmt(c.p50))  p99 \(fmt(c.p99))  max \(fmt(c.max))  mean \(fmt(c.mean))")
    }
    row("\(label): queries with a hit", "\(hits) of \(queries.count)")
    slowest.sort { $0.0 > $1.0 }
    for (cpu, query) in slowest.prefix(3) {
        row("\(label): slow query (CPU \(fmt(Double(cpu) / 1000)))", String(query.prefix(70)))
    }
    if sink == -1 { print(sink) }
}

let queries = generateQueries(queryCount, &rng)

/// Every query's `search` (limit 5) and `suggestions` on `kb`, scores and
/// confidences printed exactly (`--dump`).
func dumpResults(_ kb: KnowledgeBase, _ queries: [String], label: String) {
    func line(_ hits: [KBHit]) -> String {
        hits.map { "\($0.article.id) \($0.score) \($0.confidence)" }.joined(separator: " | ")
    }
    for query in queries {
        print("\(label)\t\(query)\n  search: \(line(kb.search(query, limit: 5)))\n  offer: \(line(kb.suggestions(for: query)))")
    }
}
if dump {
    dumpResults(shipped, queries, label: "shipped")
    let generated = (0..<generatedCount).map { generateArticle($0, &rng) }
    dumpResults(KnowledgeBase(articles: generated, vocabulary: vocabulary), queries, label: "generated")
    exit(0)
}

// Vocabulary files, read and checked as at start-up and on SIGHUP (5 runs).
let vocabularyURLs = vocabularyPaths.map { URL(fileURLWithPath: $0) }
let vocabularyLoads = (0..<5).map { _ in nanoseconds { _ = try? Vocabulary.load(vocabularyURLs) } }
row("vocabulary (\(vocabulary.concepts.count) concepts, \(vocabularyPaths.count) files): load (5 runs)",
    "min \(fmt(Double(vocabularyLoads.min()!) / 1000))  median \(fmt(Stats(vocabularyLoads).p50))")

// Shipped KB.
let loadTime = nanoseconds { _ = KnowledgeBase.load(from: URL(fileURLWithPath: kbPath), vocabulary: vocabulary) }
row("shipped KB (\(shipped.count) articles): load + index", fmt(Double(loadTime) / 1000))
// A reload of the unchanged folder (SIGHUP's KB part, or `ReloadableKnowledgeBase.reload`).
let reloadTimes = (0..<3).map { _ in
    nanoseconds { _ = KnowledgeBase.load(from: URL(fileURLWithPath: kbPath), vocabulary: vocabulary, previous: shipped) }
}
row("shipped KB: reload, nothing changed (3 runs)",
    "min \(fmt(Double(reloadTimes.min()!) / 1000))  median \(fmt(Stats(reloadTimes).p50))")
if let summary = shipped.dictionarySummary { row("shipped KB: dictionary", summary) }
benchmarkQueries(shipped, queries, label: "shipped KB")

// Generated KB.
var generated = (0..<generatedCount).map { generateArticle($0, &rng) }
if questionsPerArticle > 0 {
    // Their own random numbers: the articles and queries stay those of a run without.
    var questionRNG = SeededRandom(seed: 0x5155_4553)
    generated = generated.map { withQuestions($0, questionsPerArticle, &questionRNG) }
}
var buildTimes: [UInt64] = []
var buildCPUTimes: [UInt64] = []
var buildProcessCPUTimes: [UInt64] = []
var large = KnowledgeBase.empty
for _ in 0..<buildRuns {
    let processCPU = processCPUNanoseconds()
    let (wall, cpu) = measure { large = KnowledgeBase(articles: generated, vocabulary: vocabulary) }
    buildProcessCPUTimes.append(processCPUNanoseconds() - processCPU)
    buildTimes.append(wall)
    buildCPUTimes.append(cpu)
}
let build = Stats(buildTimes)
let largeLabel = "\(generatedCount) articles" + (questionsPerArticle > 0 ? " (\(questionsPerArticle) questions each)" : "")
row("\(largeLabel): index build (\(buildRuns) runs) wall",
    "min \(fmt(Double(buildTimes.min()!) / 1000))  median \(fmt(build.p50))  max \(fmt(build.max))")
let buildCPU = Stats(buildCPUTimes)
row("\(largeLabel): index build (\(buildRuns) runs) CPU",
    "min \(fmt(Double(buildCPUTimes.min()!) / 1000))  median \(fmt(buildCPU.p50))  max \(fmt(buildCPU.max))")
let buildProcessCPU = Stats(buildProcessCPUTimes)
row("\(largeLabel): index build (\(buildRuns) runs) CPU, all threads",
    "min \(fmt(Double(buildProcessCPUTimes.min()!) / 1000))  median \(fmt(buildProcessCPU.p50))  max \(fmt(buildProcessCPU.max))")
benchmarkQueries(large, queries, label: largeLabel)

print("KBBench — \(queries.count) queries (typos, compounds, de/en, long descriptions), limit 3")
let width = rows.map(\.0.count).max() ?? 0
for (name, value) in rows {
    print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
}
