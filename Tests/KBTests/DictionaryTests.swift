import Foundation
import Core
import TestSupport
import Testing
@testable import KB

/// Issue 11, cross-language: a general German–English dictionary in Ding
/// format (``BilingualDictionary``) behind the vocabulary. The fixture lines
/// are written for these tests in the format of Debian's `trans-de-en`; no
/// line of that dictionary is copied here.
@Suite("General dictionary behind the vocabulary")
struct DictionaryTests {
    /// Ding-format lines: headwords, inflections, compounds, phrases and an
    /// example sentence, with every kind of annotation.
    static let fixture = """
        # Version :: test fixture written for DictionaryTests
        Akku {m}; Akkumulator {m} [electr.] | Akkus {pl} | Ersatzakku {m} | Der Akku ist leer. :: battery; accumulator [Br.] | batteries | replacement battery | The battery is flat.
        Bremsbelag {m} (Scheibenbremse) [auto] | Bremsbeläge {pl} :: brake pad (disc brake) | brake pads
        Rahmen {m}; Fahrradrahmen {m} | Rahmen {pl} :: frame; bike frame | frames
        Schaltung {f} (Fahrrad) | Schaltungen {pl} :: gears; gear shift | gear shifts
        Rechnung {f} | Rechnungen {pl} | eine Rechnung bezahlen :: invoice; bill [Br.]; check [Am.] | invoices; bills | to pay an invoice
        laden {vt} | ladend | geladen :: to charge | charging | charged
        Konto {n} /Kto./ | Konten {pl} :: account /acc./ | accounts
        jdn. anrufen {vt} :: to call sb.
        Pedal {n} :: pedal | pedals
        das ist keine Zeile im Format
        Sattel {m} :: saddle :: seat
        """

    static let dictionary = BilingualDictionary(text: fixture)

    /// "German=English" per pair of `text`, and its counts.
    static func read(_ text: String) -> (pairs: [String], counts: BilingualDictionary.Counts) {
        var pairs: [String] = []
        let counts = Array(text.utf8).withUnsafeBufferPointer { bytes in
            BilingualDictionary.forEachSegment(in: bytes) { germans, englishes in
                for german in germans {
                    for english in englishes {
                        pairs.append(String(decoding: german, as: UTF8.self) + "=" + String(decoding: english, as: UTF8.self))
                    }
                }
            }
        }
        return (pairs, counts)
    }

    static func pairs(_ line: String) -> [String] { read(line).pairs }

    @Test("A line gives a pair per German single word and English synonym of each aligned segment, annotations removed")
    func parsesSegments() {
        #expect(Self.pairs("Akku {m}; Akkumulator {m} [electr.] | Akkus {pl} | Der Akku ist leer. :: "
            + "battery; accumulator [Br.] | batteries | The battery is flat.")
            == ["Akku=battery", "Akku=accumulator", "Akkumulator=battery", "Akkumulator=accumulator", "Akkus=batteries"])
        // Nouns only: a verb, an adjective, an unmarked word and a phrase
        // (several German words) make no pair; an abbreviation in slashes goes.
        #expect(Self.pairs("laden {vt} | eine Rechnung bezahlen :: to charge | to pay an invoice").isEmpty)
        #expect(Self.pairs("defekt {adj} | Fahrrad :: faulty | bike").isEmpty)
        #expect(Self.pairs("Ladegerät {n}; Lader {m,n} | Ladegeräte {pl} :: charger | chargers")
            == ["Ladegerät=charger", "Lader=charger", "Ladegeräte=chargers"])
        #expect(Self.pairs("Anruf {m} (bei jdm.) :: call (to sb.)") == ["Anruf=call"])
        #expect(Self.pairs("Konto {n} /Kto./ :: account /acc./") == ["Konto=account"])
        #expect(Self.pairs("Bremsbelag {m} (Scheibenbremse) [auto] :: brake pad (disc brake)") == ["Bremsbelag=brake pad"])
        // A slash inside a word is text, not an abbreviation; nested annotations go.
        #expect(Self.pairs("Ein-/Ausgabe {f} (EA) :: input/output (I/O) {(x)}") == ["Ein-/Ausgabe=input/output"])
        // CRLF line ends and blank or comment lines.
        let crlf = Self.read("# c :: d\r\n\r\nPedal {n} :: pedal\r\n")
        #expect(crlf.pairs == ["Pedal=pedal"])
        #expect(crlf.counts == BilingualDictionary.Counts(lines: 1, malformed: 0))
    }

    @Test("Malformed lines (no ' :: ', two of them, segments that do not align) are skipped and counted")
    func malformedLines() {
        #expect(Self.read("das ist keine Zeile im Format").counts == .init(lines: 1, malformed: 1))
        #expect(Self.read("Sattel {m} :: saddle :: seat").counts == .init(lines: 1, malformed: 1))
        #expect(Self.read("Pedal {n} :: pedal | pedals").counts == .init(lines: 1, malformed: 1))
        #expect(Self.read("Pedal {n} :: pedal | pedals").pairs.isEmpty)
        // An unclosed annotation runs to the end of its segment; never a crash.
        #expect(Self.pairs("Kette {f} (Fahrrad :: chain") == ["Kette=chain"])
        #expect(Self.pairs(" :: ").isEmpty)
        let all = Self.read(Self.fixture)
        #expect(all.counts == .init(lines: 11, malformed: 3))  // the comment line is no entry
        #expect(all.pairs.contains("Ersatzakku=replacement battery"))
        #expect(!all.pairs.contains { $0.hasPrefix("Sattel") || $0.hasPrefix("Pedal") })
    }

    /// English-only articles, German-only articles, and a vocabulary that
    /// pairs none of their words.
    static func kb(dictionary: BilingualDictionary? = Self.dictionary) -> KnowledgeBase {
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = dictionary
        return KnowledgeBase(articles: [
            testArticle("E-1", "Battery does not hold its charge", tags: ["battery", "range"],
                        body: "A battery loses capacity over the years; we replace it free of charge.", language: .en),
            testArticle("E-2", "Worn brake pad", tags: ["brake", "pad"],
                        body: "A squealing brake pad must be replaced at the workshop.", language: .en),
            testArticle("E-3", "Choosing the frame size", tags: ["frame", "size"],
                        body: "Measure your inside leg before you choose a frame.", language: .en),
            testArticle("D-1", "Rechnung herunterladen", tags: ["Rechnung", "Kundenkonto"],
                        body: "Jede Rechnung finden Sie im Kundenkonto unter Dokumente.", language: .de),
        ], vocabulary: vocabulary)
    }

    @Test("A German question finds the English-only article only through the dictionary")
    func germanToEnglish() {
        let kb = Self.kb()
        #expect(kb.index.plan("Akku").map(\.resolution) == [.dictionary])
        #expect(kb.suggestions(for: "Akku kaputt").first?.article.id == "E-1")
        #expect(kb.search("Akku").first?.article.id == "E-1")
        // Without the dictionary the word is unknown and nothing is found.
        let without = Self.kb(dictionary: nil)
        #expect(without.index.plan("Akku").map(\.resolution) == [.unknown])
        #expect(without.suggestions(for: "Akku kaputt").isEmpty)
    }

    @Test("A German compound translated as two English words is covered by an article that has both")
    func compoundToEnglishTerm() {
        let kb = Self.kb()
        let plan = kb.index.plan("Bremsbelag")
        #expect(plan.map(\.resolution) == [.dictionary, .dictionary])
        #expect(plan.map { kb.index.terms[Int($0.alternatives[0].term)] } == ["brake", "pad"])
        #expect(kb.suggestions(for: "Bremsbelag quietscht").first?.article.id == "E-2")
    }

    @Test("An English question finds the German-only article through the dictionary")
    func englishToGerman() {
        let kb = Self.kb()
        #expect(kb.index.plan("invoice").map(\.resolution) == [.dictionary])
        #expect(kb.suggestions(for: "where is my invoice").first?.article.id == "D-1")
    }

    @Test("Two English words the dictionary translates as one German compound find the German-only article")
    func englishTermToGermanCompound() {
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = Self.dictionary
        let kb = KnowledgeBase(articles: [
            testArticle("D-2", "Bremsbelag wechseln", tags: ["Bremsbelag", "Werkstatt"],
                        body: "Ein quietschender Bremsbelag wird in der Werkstatt gewechselt.", language: .de),
            testArticle("D-3", "Akku laden", tags: ["Akku", "Ladegerät"],
                        body: "Laden Sie den Akku nur mit dem mitgelieferten Ladegerät.", language: .de),
        ], vocabulary: vocabulary)
        let plan = kb.index.plan("my brake pad squeaks")
        #expect(plan.filter { $0.resolution == .dictionary }.map(\.word) == ["brake", "pad"])
        #expect(kb.suggestions(for: "my brake pad squeaks").first?.article.id == "D-2")
        // One of the two words alone is no such term.
        #expect(kb.suggestions(for: "my pad squeaks").isEmpty)
    }

    @Test("Only translations the articles contain are kept, and the file's lines are counted")
    func filteredToTheArticles() {
        let kb = Self.kb()
        let translations = kb.index.dictionary
        #expect(translations.counts == .init(lines: 11, malformed: 3))
        // gears / gear shift: no article has them.
        #expect(translations.translations(of: ["schaltung"], termIDs: kb.index.termIDs).isEmpty)
        #expect(translations.translations(of: ["akku"], termIDs: kb.index.termIDs).count == 1)
        // Rechnung ← invoice, bill, check (English → German) and the
        // German-side words whose English the articles have.
        #expect(translations.translations(of: ["invoic"], termIDs: kb.index.termIDs).count == 1)
        #expect(translations.count < Self.read(Self.fixture).pairs.count / 2)
    }

    @Test("Among hundreds of kept stems each is found, and a stem before, between or after them, or a prefix or extension of one, is not")
    func lookupAmongManyStems() throws {
        // 300 made-up German nouns that all translate to "widget", written
        // in no particular order (the kept stems are searched sorted).
        let letters = Array("bdfgklmnprstvz")
        let words = (0..<300).map { i in
            let n = (i &* 7919) % (14 * 14 * 14)
            return "Qu" + String([letters[n / 196], "o", letters[n / 14 % 14], "a", letters[n % 14]]) + "ek"
        }
        let text = words.map { "\($0) {n} :: widget" }.joined(separator: "\n")
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = BilingualDictionary(text: text)
        let kb = KnowledgeBase(articles: [
            testArticle("E-1", "The widget", tags: ["widget"], body: "How the widget works.", language: .en),
        ], vocabulary: vocabulary)
        let translations = kb.index.dictionary
        let widget = try #require(kb.index.termIDs[TextAnalysis.indexTerms("widget", language: .en)[0].term])
        let stems = Set(words.map { TextAnalysis.indexTerms($0, language: .de)[0].term })
        #expect(translations.count == stems.count)
        for stem in stems {
            #expect(translations.translations(of: [stem], termIDs: kb.index.termIDs) == [[widget]], "\(stem)")
            for near in [String(stem.dropLast()), stem + "a", stem + "z"] where !stems.contains(near) {
                #expect(translations.translations(of: [near], termIDs: kb.index.termIDs).isEmpty, "\(near)")
            }
        }
        for absent in ["", "a", "qu", "quz", "zzz", "widget"] {
            #expect(translations.translations(of: [absent], termIDs: kb.index.termIDs).isEmpty, "\(absent)")
        }
    }

    @Test("Read in any number of parts, a dictionary gives the same translations, each stem's in the order of their first line")
    func readInParts() throws {
        // Later lines add to stems of earlier ones, and repeat one.
        let text = Self.fixture + """

            Akku {m} :: capacity
            Kundenkonto {n} :: invoice
            Akku {m}; Batterie {f} :: battery
            Kapazität {f} :: capacity
            """
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = BilingualDictionary(text: text)
        let kb = Self.kb(dictionary: vocabulary.dictionary)
        let ids = kb.index.termIDs
        let whole = DictionaryTranslations(BilingualDictionary(text: text), termIDs: ids, parts: 1)
        #expect(whole == kb.index.dictionary)
        let battery = try #require(ids["batteri"]), capacity = try #require(ids["capac"])
        #expect(whole.translations(of: ["akku"], termIDs: ids) == [[battery], [capacity]])
        #expect(whole.translations(of: ["invoic"], termIDs: ids).count == 2)
        for parts in 2...20 {
            #expect(DictionaryTranslations(BilingualDictionary(text: text), termIDs: ids, parts: parts) == whole,
                    "\(parts) parts")
        }
    }

    @Test("A reload with the same dictionary file and the same article words keeps the translations; a changed file or new words read it again")
    func reloadKeepsTranslations() throws {
        let folder = try TemporaryKB()
        let path = folder.folder.appendingPathComponent("de-en").path
        try folder.write("de-en", "Akku {m} :: battery\n")
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = try BilingualDictionary.load(path: path)
        let articles = try TemporaryKB()
        try articles.write("e1.md", TemporaryKB.article(id: "KB-1", title: "Battery does not charge", tags: "battery, capacity"))
        let kb = ReloadableKnowledgeBase(folder: articles.folder, vocabulary: vocabulary, logger: Logger(sink: MemoryLogSink()))
        #expect(kb.current.suggestions(for: "Akku").first?.article.id == "KB-1")
        let translations = kb.current.index.dictionary
        // The same bytes in the same file, with another word: its size,
        // modification time and inode unchanged, so only a pass would see it.
        let modified = try #require(FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data("Akku {m} :: charger\n".utf8))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path)
        #expect(try BilingualDictionary.load(path: path) == vocabulary.dictionary)
        // An article edited in words the KB has: the translations are kept.
        try articles.write("e1.md", TemporaryKB.article(id: "KB-1", title: "Battery does not charge", tags: "capacity, battery"))
        #expect(kb.reload().replaced)
        #expect(kb.current.index.dictionary == translations)
        #expect(kb.current.suggestions(for: "Akku").first?.article.id == "KB-1")
        // The file changed on disk since the configuration was loaded (a
        // reload of the articles keeps the vocabulary): read again.
        try folder.write("de-en", "Akku {m} :: charger \n")
        #expect(kb.reload().replaced)
        #expect(kb.current.index.dictionary != translations)
        #expect(kb.current.suggestions(for: "Akku").isEmpty)
        // A new word: the terms changed, the file is read again.
        try articles.write("e2.md", TemporaryKB.article(id: "KB-2", title: "Charger", tags: "charger"))
        #expect(kb.reload().replaced)
        #expect(kb.current.index.dictionary != translations)
        #expect(kb.current.suggestions(for: "Akku").first?.article.id == "KB-2")
    }

    @Test("A dictionary word no article has is no uncovered topic: it neither helps nor hurts")
    func noUncoveredTopic() {
        let kb = Self.kb()
        // "Schaltung" translates to gears, which no article has.
        #expect(kb.index.plan("Schaltung").map(\.resolution) == [.unknown])
        let with = kb.suggestions(for: "Akku Schaltung").first
        let without = kb.suggestions(for: "Akku").first
        #expect(with?.article.id == "E-1")
        #expect(with?.confidence == without?.confidence)
    }

    @Test("A missing dictionary is an error that says how to install it, and the search works without it")
    func missingFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-dictionary-\(UUID())").path
        #expect(throws: BilingualDictionary.LoadError.missing(path: path)) {
            try BilingualDictionary.load(path: path)
        }
        let message = "\(BilingualDictionary.LoadError.missing(path: path))"
        #expect(message.contains(path))
        #expect(message.contains("apt-get install trans-de-en"))
        #expect(message.contains("runs without it"))
    }

    @Test("A dictionary file is read with each index, with its counts; a reload of the articles keeps it")
    func loadAndReload() throws {
        let folder = try TemporaryKB()
        try folder.write("de-en", Self.fixture)
        let path = folder.folder.appendingPathComponent("de-en").path
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = try BilingualDictionary.load(path: path)
        let articles = try TemporaryKB()
        try articles.write("e1.md", TemporaryKB.article(id: "KB-1", title: "Battery does not charge", tags: "battery"))
        let sink = MemoryLogSink()
        let kb = ReloadableKnowledgeBase(folder: articles.folder, vocabulary: vocabulary, logger: Logger(sink: sink))
        #expect(kb.current.suggestions(for: "Akku lädt nicht").first?.article.id == "KB-1")
        #expect(kb.current.dictionarySummary?.hasPrefix(path + ": ") == true)
        #expect(kb.current.dictionarySummary?.hasSuffix("11 lines read, 3 malformed lines skipped") == true)
        // A new English article: found from German after the reload.
        try articles.write("e2.md", TemporaryKB.article(id: "KB-2", title: "Worn brake pad", tags: "brake, pad"))
        #expect(kb.reload().replaced)
        #expect(kb.current.suggestions(for: "Bremsbelag").first?.article.id == "KB-2")
        // The file gone by the next build: the search goes on without it, and says why.
        try folder.remove("de-en")
        try articles.write("e3.md", TemporaryKB.article(id: "KB-3", title: "Frame size", tags: "frame"))
        #expect(kb.reload().replaced)
        #expect(kb.current.dictionaryProblem?.contains(path) == true)
        #expect(kb.current.search("frame").first?.article.id == "KB-3")
        // Said once, not on every reload while it stays gone.
        try articles.write("e4.md", TemporaryKB.article(id: "KB-4", title: "Chain", tags: "chain"))
        #expect(kb.reload().replaced)
        #expect(sink.lines.filter { $0.contains("KB dictionary not in use") && $0.contains(path) }.count == 1)
    }
}

/// The dictionary Debian ships (`trans-de-en`), which `bots/kb.json5`
/// names. This test fails, and does not skip, when it is missing: CI
/// installs it (`scripts/ensure-test-servers`).
@Suite("The installed Ding dictionary", .awaiting { try await SampleKB.ready.value() })
struct InstalledDictionaryTests {
    static let path = "/usr/share/trans/de-en"

    @Test("The installed dictionary loads and carries an e-bike question across to an English article")
    func installedDictionary() async throws {
        let dictionary = try BilingualDictionary.load(path: Self.path)
        var vocabulary = Vocabulary(concepts: [])
        vocabulary.dictionary = dictionary
        // The pass over the 25 MB file: off the cooperative pool.
        let kb = try await offload { [vocabulary] in
            KnowledgeBase(articles: [
                testArticle("E-1", "Battery does not hold its charge", tags: ["battery", "range"],
                            body: "A battery loses capacity over the years.", language: .en),
                testArticle("E-2", "Adjusting the saddle height", tags: ["saddle", "height"],
                            body: "Loosen the clamp and move the saddle.", language: .en),
            ], vocabulary: vocabulary)
        }
        #expect(kb.dictionaryProblem == nil)
        #expect(kb.index.dictionary.counts.lines > 200_000)
        #expect(kb.index.dictionary.counts.malformed < 100)
        #expect(kb.suggestions(for: "Mein Akku ist kaputt").first?.article.id == "E-1")
        #expect(kb.suggestions(for: "Sattel zu niedrig").first?.article.id == "E-2")
    }

    @Test("The installed dictionary read in parts gives the demo KB the same translations as one pass from the first line to the last")
    func installedInParts() async throws {
        let dictionary = try BilingualDictionary.load(path: Self.path)
        let ids = SampleKB.kb.index.termIDs
        let (one, two, three) = try await offload {
            (DictionaryTranslations(dictionary, termIDs: ids, parts: 1),
             DictionaryTranslations(dictionary, termIDs: ids, parts: 2),
             DictionaryTranslations(dictionary, termIDs: ids, parts: 3))
        }
        #expect(one.count > 10_000)
        #expect(one.counts.lines > 200_000)
        #expect(two == one)
        #expect(three == one)
    }

    /// The studied sets with the shipped vocabulary and the dictionary, as
    /// `bots/kb.json5` configures the search. The cross-language floors sit
    /// above what the search reaches without the dictionary (in brackets),
    /// the rest at the sets' own floors (`EvaluationTests.swift`), false
    /// offers where they are with it.
    @Test("With the installed dictionary, cross-language questions on the studied sets find more", arguments: [
        // ThirdSet without: crosslang top-3 0.80, offered 0.71, false offers 2
        // ("Does Fennick Payroll handle workplace pension auto-enrolment?"
        // now reaches "Lohnsteuer-Anmeldung": Anmeldung is enrolment too).
        // With customers' questions (6314507): offered 0.85 -> 0.87,
        // sentences offered 0.67 -> 0.74.
        ("ThirdSet", SetFloors(answerable: 300, unrelated: 24, top3: 0.90, offered: 0.84, falseOffers: 3,
                               sentencesTop3: 0.83, sentencesOffered: 0.71, crosslangTop3: 0.86, crosslangOffered: 0.80,
                               compoundsOffered: 0.75)),
        // FourthSet without: 0.85, 0.64, false offers 7.
        // With customers' questions (2f39ece): offered 0.79 -> 0.87,
        // sentences offered 0.73 -> 0.88, cross-language offered 0.66 -> 0.72.
        ("FourthSet", SetFloors(answerable: 320, unrelated: 29, top3: 0.92, offered: 0.84, falseOffers: 6,
                                sentencesTop3: 0.91, sentencesOffered: 0.84, crosslangTop3: 0.86, crosslangOffered: 0.69,
                                compoundsOffered: 0.85)),
        // FifthSet without: 0.75, 0.54, false offers 5; chat sentences
        // top-3 0.83 without, 0.82 with (one sentence fewer in the top 3).
        // Cross-language offered 0.65 (31 of 48) since participle adjectives
        // in -ten also find their weak verb ("eingespeisten"); 0.625 before.
        ("FifthSet", SetFloors(answerable: 380, unrelated: 32, top3: 0.88, offered: 0.73, falseOffers: 4,
                               sentencesTop3: 0.81, sentencesOffered: 0.57, crosslangTop3: 0.79, crosslangOffered: 0.64,
                               compoundsOffered: 0.81)),
    ])
    func studiedSets(_ set: (name: String, floors: SetFloors)) async throws {
        let (_, evaluation) = try await labelledSet(set.name, withInstalledDictionary: true)
        expectFloors(evaluation, set.floors)
    }
}
