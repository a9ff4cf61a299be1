import Foundation
import Synchronization

/// A general German–English dictionary read at run time, behind the
/// hand-written vocabulary (``Vocabulary``): the words a company's customers
/// use for its trade ("Akku"/"battery", "Bremsbelag"/"brake lining") that no
/// concept pairs. Never shipped: `kb.json5` names a file in the format of
/// the Ding dictionary (Debian's `trans-de-en`, `/usr/share/trans/de-en`,
/// GPL-2+), which the gateway reads at start-up and on every reload.
///
/// ## The format
///
/// One entry a line, `German side :: English side`; `#` starts a comment
/// line. Each side is a list of *segments* separated by ` | `, aligned
/// between the sides (the n-th German segment translates the n-th English
/// one); a segment lists synonyms separated by `; `. Annotations are
/// dropped: `{m}` `{pl}` `{vt}` (grammar), `[Br.]` `[techn.]` (usage),
/// `(…)` (explanations), `<…>` (alternative spellings), `/…/`
/// (abbreviations). The first segment holds the headwords, the next ones
/// usually their inflected forms, then compounds, phrases and example
/// sentences:
///
/// ```
/// Akku {m}; Akkumulator {m} [electr.] | Akkus {pl} | Ersatzakku {m} | Bei meinem Handy war der Akku leer. :: battery; accumulator [Br.] | batteries | replacement battery | My phone had run out of power.
/// ```
///
/// ## What is kept
///
/// A pair of each German synonym and each English synonym of one segment,
/// where the German synonym is a **noun** (marked `{m}`, `{f}`, `{n}` or
/// `{pl}`) of a **single word** (the word a customer types, often a
/// compound) and the English one **one to three words** (stop words left
/// out): headwords, their inflected forms and the compounds listed with
/// them (`Ersatzakku` → "replacement battery"). Phrases and example
/// sentences have several German words and are left out; so are English
/// sides with placeholders (`sb.`, `sth.`).
///
/// Nouns only, by measurement: the trade words a vocabulary lacks are
/// nouns ("Akku", "Bremsbelag", "Rahmengröße"), while verbs and adjectives
/// translate a chat sentence's ordinary words ("handle" → "bearbeiten",
/// "hinterlegen" → "leave") into words of unrelated articles. On the study
/// sets' tuning halves, all parts of speech gave 778 helpful offers at 19
/// false offers at the bots' threshold, nouns only 777 at 14 (without the
/// dictionary: 773 at 15).
///
/// ## Read with each index, kept only where it meets the articles
///
/// The file (25 MB, 206,000 lines) is not kept in memory. Each index build
/// (start-up, reload) reads it once as bytes and keeps only the pairs
/// whose translation is made of the articles' words
/// (``DictionaryTranslations``): a few thousand for a knowledge base of
/// a hundred articles. A word is stemmed only when its first letters
/// begin some article word's stem, so most of the file is never stemmed.
/// The pass runs on one thread per core, beside the rest of the index
/// build (``DictionaryTranslations/startPass(_:termIDs:parts:)``); a reload
/// whose file and article terms are unchanged keeps the translations it
/// has (``SearchIndex/reusableDictionary(_:lexicon:terms:)``).
///
/// A line without ` :: `, or whose sides have a different number of
/// segments, is malformed: it is skipped and counted, never fatal.
public struct BilingualDictionary: Sendable, Hashable {
    /// The file it is read from (as named in `kb.json5`), or "" for a
    /// dictionary given as text.
    public let path: String
    /// The file's size, modification time and inode when it was checked: a
    /// changed or replaced file makes a different dictionary (the
    /// configuration changed), and a reload whose dictionary is equal to the
    /// previous one may keep that one's translations
    /// (``SearchIndex/reusableDictionary(_:lexicon:terms:)``).
    let fileStamp: [Int64]
    /// The lines, for a dictionary given as text (tests), else nil.
    let text: [UInt8]?

    /// The most English words a translation may have ("battery charging
    /// station"); longer ones are explanations, not terms.
    static let maximumEnglishWords = 3

    /// Why a dictionary cannot be used.
    public enum LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        /// No file at the path.
        case missing(path: String)
        /// The file exists but cannot be read.
        case unreadable(path: String, reason: String)

        public var description: String {
            switch self {
            case .missing(let path):
                "the dictionary \(path) is missing: the search runs without it (cross-language questions find "
                    + "fewer articles). Install it with `apt-get install trans-de-en`, or remove `dictionary` from kb.json5"
            case .unreadable(let path, let reason):
                "the dictionary \(path) cannot be read (\(reason)): the search runs without it"
            }
        }
    }

    /// The dictionary at `path`, checked to be a readable file (each index
    /// build reads it).
    public static func load(path: String) throws(LoadError) -> BilingualDictionary {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw .missing(path: path)
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied")
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970 * 1000) } ?? -1
        let inode = (attributes[.systemFileNumber] as? NSNumber)?.int64Value ?? -1
        return BilingualDictionary(path: path, fileStamp: [size, modified, inode], text: nil)
    }

    /// A dictionary of the lines of `text` (tests write a few).
    public init(text: String) {
        self.init(path: "", fileStamp: [], text: Array(text.utf8))
    }

    private init(path: String, fileStamp: [Int64], text: [UInt8]?) {
        self.path = path
        self.fileStamp = fileStamp
        self.text = text
    }

    /// The file's bytes (or the text's); throws when the file cannot be read.
    func contents() throws -> Data {
        if let text { return Data(text) }
        // Mapped, not copied: the pages are the page cache's, and gone
        // from the process when the build is done.
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    }

    /// What one pass over the lines found.
    struct Counts: Sendable, Equatable {
        /// Lines with an entry (comments and blank lines not counted).
        var lines = 0
        /// Lines skipped because they are not in the format.
        var malformed = 0
    }

    /// Calls `body` with the German words and the English terms of every
    /// aligned segment pair of `bytes` (each German word translates to each
    /// English term), annotations removed (see the type's description);
    /// counts the lines. A German synonym of several words, and an English
    /// one with a placeholder (`sb.`, `sth.`) or sentence punctuation, are
    /// left out; a segment pair without both is not passed.
    static func forEachSegment(in bytes: UnsafeBufferPointer<UInt8>,
                               _ body: (_ german: [ArraySlice<UInt8>], _ english: [ArraySlice<UInt8>]) -> Void) -> Counts {
        var counts = Counts()
        var lineStart = 0
        // Reused from line to line: a line allocates nothing. The slices
        // passed to `body` are made once `scratch` holds the segment's whole
        // text and dropped before it is written again, so that writing it
        // never finds it shared (which would copy it).
        var scratch: [UInt8] = []
        var germanRanges: [Range<Int>] = []
        var germans: [ArraySlice<UInt8>] = []
        var englishes: [ArraySlice<UInt8>] = []
        var germanSegments: [Range<Int>] = []
        var englishSegments: [Range<Int>] = []
        var raw: [Range<Int>] = []
        while lineStart < bytes.count {
            let lineEnd = find(0x0A, in: bytes, lineStart..<bytes.count) ?? bytes.count
            defer { lineStart = lineEnd + 1 }
            var end = lineEnd
            if end > lineStart, bytes[end - 1] == 0x0D { end -= 1 }
            var first = lineStart
            while first < end, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            if first == end || bytes[first] == 0x23 { continue }  // blank, or # comment
            counts.lines += 1
            // The one " :: ": each begins one before a ":".
            var separator = -1
            var separators = 0
            var next = lineStart  // where the next " :: " may begin
            var colon = find(0x3A, in: bytes, lineStart..<end)
            while let c = colon {
                let start = c - 1
                if start + 3 >= end { break }
                if start >= next, bytes[start] == 0x20, bytes[c + 1] == 0x3A, bytes[c + 2] == 0x20 {
                    separators += 1
                    separator = start
                    next = start + 4
                    colon = find(0x3A, in: bytes, (c + 3)..<end)
                } else {
                    colon = find(0x3A, in: bytes, (c + 1)..<end)
                }
            }
            guard separators == 1 else { counts.malformed += 1; continue }
            segments(bytes, lineStart, separator, into: &germanSegments)
            segments(bytes, separator + 4, end, into: &englishSegments)
            guard germanSegments.count == englishSegments.count else { counts.malformed += 1; continue }
            for (g, e) in zip(germanSegments, englishSegments) {
                germans.removeAll(keepingCapacity: true)
                englishes.removeAll(keepingCapacity: true)
                germanRanges.removeAll(keepingCapacity: true)
                scratch.removeAll(keepingCapacity: true)
                rawSynonyms(bytes, g, into: &raw)
                for synonym in raw where isNoun(bytes, synonym) {
                    let text = withoutAnnotations(bytes, synonym, into: &scratch)
                    var a = text.lowerBound, b = text.upperBound
                    while a < b, scratch[a] == 0x20 { a += 1 }
                    while b > a, scratch[b - 1] == 0x20 { b -= 1 }
                    if a < b, !scratch[a..<b].contains(where: { $0 == 0x20 || $0 == 0x2E }) { germanRanges.append(a..<b) }
                }
                guard !germanRanges.isEmpty else { continue }
                let englishText = withoutAnnotations(bytes, e, into: &scratch)
                for range in germanRanges { germans.append(scratch[range]) }
                synonyms(scratch, englishText) { range in
                    var synonym = scratch[range]
                    guard !synonym.contains(where: { $0 == 0x2E || $0 == 0x3F || $0 == 0x21 }) else { return }
                    if synonym.count > 3, synonym.starts(with: [0x74, 0x6F, 0x20]) { synonym = synonym.dropFirst(3) }  // "to "
                    englishes.append(synonym)
                }
                if !englishes.isEmpty { body(germans, englishes) }
            }
        }
        return counts
    }

    /// The first index of `byte` in `range` of `bytes` (`memchr`), or nil.
    private static func find(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, let base = bytes.baseAddress,
              let found = memchr(base + range.lowerBound, Int32(byte), range.count) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// The ranges of a segment's synonyms as written, split at the ";"
    /// outside annotations, into `out`.
    private static func rawSynonyms(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Range<Int>]) {
        out.removeAll(keepingCapacity: true)
        var depth = 0
        var start = range.lowerBound
        for i in range {
            switch bytes[i] {
            case 0x7B, 0x5B, 0x28, 0x3C: depth += 1
            case 0x7D, 0x5D, 0x29, 0x3E: depth = max(0, depth - 1)
            case 0x3B where depth == 0:
                out.append(start..<i)
                start = i + 1
            default: break
            }
        }
        out.append(start..<range.upperBound)
    }

    /// Whether a German synonym as written is marked as a noun: `{m}`,
    /// `{f}`, `{n}` or `{pl}` (also `{m,f}`, `{f, n}`, …).
    static func isNoun(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i + 2 < range.upperBound {
            if bytes[i] == 0x7B {
                let c = bytes[i + 1], next = bytes[i + 2]
                if c == 0x6D || c == 0x66 || c == 0x6E, next == 0x7D || next == 0x2C { return true }  // m f n
                if c == 0x70, next == 0x6C, i + 3 < range.upperBound, bytes[i + 3] == 0x7D { return true }  // pl
            }
            i += 1
        }
        return false
    }

    /// The ranges of a side's segments, split at " | ", into `out`.
    private static func segments(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                 into out: inout [Range<Int>]) {
        out.removeAll(keepingCapacity: true)
        var segmentStart = start
        // Each " | " has its "|" second: found with memchr, as below.
        var bar = find(0x7C, in: bytes, start..<end)
        var next = start  // where the next " | " may begin
        while let b = bar {
            let i = b - 1
            if i + 2 >= end { break }
            if i >= next, bytes[i] == 0x20, bytes[b + 1] == 0x20 {
                out.append(segmentStart..<i)
                segmentStart = i + 3
                next = i + 3
                bar = find(0x7C, in: bytes, (b + 2)..<end)
            } else {
                bar = find(0x7C, in: bytes, (b + 1)..<end)
            }
        }
        out.append(segmentStart..<end)
    }

    /// Appends `range` of `bytes` to `out` without `{…}`, `[…]`, `(…)`,
    /// `<…>` and ` /…/` (nested or not; an unclosed one runs to the end),
    /// spaces collapsed; returns where in `out` it is. A slash inside a word
    /// ("Ein-/Ausgabe", "and/or") is text.
    static func withoutAnnotations(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                   into out: inout [UInt8]) -> Range<Int> {
        let start = out.count
        var depth = 0
        var inSlashes = false
        var previous: UInt8 = 0x20
        for i in range {
            let c = bytes[i]
            defer { previous = c }
            switch c {
            case 0x7B, 0x5B, 0x28, 0x3C: depth += 1; continue  // { [ ( <
            case 0x7D, 0x5D, 0x29, 0x3E: depth = max(0, depth - 1); continue  // } ] ) >
            case 0x2F where depth == 0 && (inSlashes || previous == 0x20): inSlashes.toggle(); continue  // /
            default: break
            }
            guard depth == 0, !inSlashes else { continue }
            if c == 0x20 {
                if out.count > start, out[out.count - 1] != 0x20 { out.append(c) }
            } else {
                out.append(c)
            }
        }
        return start..<out.count
    }

    /// Calls `body` with the range of each synonym in `range` of `text`,
    /// split at ";", trimmed; empty ones left out.
    private static func synonyms(_ text: [UInt8], _ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        for i in range.lowerBound...range.upperBound where i == range.upperBound || text[i] == 0x3B {
            var a = start, b = i
            while a < b, text[a] == 0x20 { a += 1 }
            while b > a, text[b - 1] == 0x20 { b -= 1 }
            if a < b { body(a..<b) }
            start = i + 1
        }
    }
}

/// A dictionary's translations of the query stems that lead to words of
/// one knowledge base: built with its index, from one pass over the
/// dictionary, so that it holds only what the articles can match.
struct DictionaryTranslations: Sendable, Equatable {
    /// The query stems with a translation, sorted by their UTF-8 bytes:
    /// stem `i` is `keys[keyStarts[i]..<keyStarts[i + 1]]`, and its
    /// translations are `data[starts[i]..<starts[i + 1]]`: each the number
    /// of its index terms, then the terms (one word, or the two or three
    /// words of an English term), the dictionary's first sense first.
    /// Four flat arrays, not a `[String: Int32]` and an array per stem: the
    /// idle gateway keeps them (the demo KB's 12,300 stems took 1 MB as a
    /// dictionary of strings, a third of a megabyte so), and copying them
    /// back from the build's thread is four allocations instead of one a
    /// stem, each between the pass's freed blocks (issue 12, idle RSS).
    private let keys: [UInt8]
    private let keyStarts: [Int32]
    private let starts: [Int32]
    private let data: [Int32]
    /// The dictionary's lines and malformed lines, or why it could not be read.
    let counts: BilingualDictionary.Counts
    let problem: String?

    static let empty = DictionaryTranslations()

    private init() {
        self.init([:], counts: .init())
    }

    /// The pass over `dictionary` for the index terms `termIDs`, started on
    /// threads of its own so that the caller goes on building the rest of
    /// the index meanwhile; ``Pass/result()`` waits for it.
    ///
    /// The file is cut at line boundaries into `parts` (by default one per
    /// core, at most ``ThreadedParts/maximumParts``, none smaller than
    /// ``minimumPartBytes``), each read by its own thread into
    /// tables of its own, which are then merged in file order: a stem's
    /// translations are in the order of their first line, as one pass from
    /// the first line to the last finds them, so the result is the same
    /// whatever the number of parts.
    ///
    /// The threads' temporary memory (a few megabytes of small allocations)
    /// lands in their malloc arenas where there are several; the kept arrays
    /// are copied into fresh memory of the caller's thread once it is freed.
    /// (The gateway runs one arena, `M_ARENA_MAX` 1, so there the threads
    /// share the main arena: what keeps the holes few is that the copy is
    /// four arrays, made after the parts' tables are freed.)
    static func startPass(_ dictionary: BilingualDictionary, termIDs: [String: Int32], parts: Int? = nil) -> Pass {
        Pass(dictionary, termIDs: termIDs, parts: parts)
    }

    /// ``startPass(_:termIDs:parts:)``, waited for.
    init(_ dictionary: BilingualDictionary, termIDs: [String: Int32], parts: Int? = nil) {
        self = Self.startPass(dictionary, termIDs: termIDs, parts: parts).result()
    }

    /// The smallest part of a file read in several (a test's few lines are one).
    static let minimumPartBytes = 1 << 16

    /// A pass running on threads of its own (``startPass(_:termIDs:parts:)``).
    final class Pass: Sendable {
        /// Each part's tables, or why the file could not be read.
        private let parts: Result<ThreadedParts<Partial>, Problem>

        private struct Problem: Error {
            let description: String
        }

        fileprivate init(_ dictionary: BilingualDictionary, termIDs: [String: Int32], parts: Int?) {
            let file: Data
            do {
                file = try dictionary.contents()
            } catch {
                self.parts = .failure(Problem(description: "\(BilingualDictionary.LoadError.unreadable(path: dictionary.path, reason: error.localizedDescription))"))
                return
            }
            let ranges = Self.split(file, parts: max(1, parts ?? ThreadedParts<Partial>.count(bytes: file.count, minimumBytes: minimumPartBytes)))
            let filter = TermPrefixFilter(terms: termIDs.keys)
            self.parts = .success(ThreadedParts(ranges.indices) { n in
                file.withUnsafeBytes { raw in
                    Partial(reading: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[ranges[n]]),
                            termIDs: termIDs, filter: filter)
                }
            })
        }

        /// `file`'s bytes cut into `parts` ranges of about equal size, each
        /// ending after a line feed (or at the end).
        static func split(_ file: Data, parts: Int) -> [Range<Int>] {
            file.withUnsafeBytes { raw in
                var ranges: [Range<Int>] = []
                var start = 0
                for n in 1...parts {
                    var end = n == parts ? raw.count : max(start, raw.count * n / parts)
                    while end < raw.count, end > 0, raw[end - 1] != 0x0A { end += 1 }
                    ranges.append(start..<end)
                    start = end
                }
                return ranges
            }
        }

        /// Waits for every part, merges them in file order, and returns the
        /// translations copied into fresh memory. Called once.
        func result() -> DictionaryTranslations {
            let threads: ThreadedParts<Partial>
            switch parts {
            case .success(let running): threads = running
            case .failure(let problem): return DictionaryTranslations(problem: problem.description)
            }
            var partials = threads.results()
            var counts = BilingualDictionary.Counts()
            var byStem: [String: [[Int32]]] = [:]
            for n in partials.indices {
                let partial = partials[n]
                partials[n] = Partial()
                counts.lines += partial.counts.lines
                counts.malformed += partial.counts.malformed
                if byStem.isEmpty {
                    byStem = partial.byStem
                    continue
                }
                for (stem, translations) in partial.byStem {
                    var merged = byStem.removeValue(forKey: stem) ?? []
                    for terms in translations where !merged.contains(terms) { merged.append(terms) }
                    byStem[stem] = merged
                }
            }
            let built = DictionaryTranslations(byStem, counts: counts)
            byStem = [:]
            return DictionaryTranslations(copying: built)
        }
    }

    /// What one part of the file gives: each stem's translations in the
    /// order of their first line, without repeats.
    private struct Partial: Sendable {
        var byStem: [String: [[Int32]]] = [:]
        var counts = BilingualDictionary.Counts()

        init() {}

        /// The translations in `bytes` whose words are all index terms
        /// (`termIDs`): German stem → English term (one to three words),
        /// and, for an English term of one word, English stem → German stem.
        init(reading bytes: UnsafeBufferPointer<UInt8>, termIDs: [String: Int32], filter: TermPrefixFilter) {
            var filter = filter
            // Keyed by String, not by a slice: a slice would keep its whole
            // line buffer alive.
            var germanStems: [String: String] = [:]
            var englishTerms: [String: [Int32]] = [:]
            func germanStem(_ slice: ArraySlice<UInt8>) -> String {
                let word = String(decoding: slice, as: UTF8.self)
                if let known = germanStems[word] { return known }
                let tokens = TextAnalysis.tokens(word)
                let stem = tokens.count == 1 && !tokens[0].isNumber && !StopWords.contains(tokens[0])
                    ? TextAnalysis.indexTerm(tokens[0], language: .de).term : ""
                germanStems[word] = stem
                return stem
            }
            /// The English term's index terms, [] when a word is none (or
            /// the term has no word, or too many).
            func englishIDs(_ slice: ArraySlice<UInt8>) -> [Int32] {
                let term = String(decoding: slice, as: UTF8.self)
                if let known = englishTerms[term] { return known }
                let stems = TextAnalysis.indexTerms(term, language: .en)
                var ids: [Int32] = []
                if (1...BilingualDictionary.maximumEnglishWords).contains(stems.count) {
                    for stem in stems {
                        guard let id = termIDs[stem.term] else { ids = []; break }
                        ids.append(id)
                    }
                }
                englishTerms[term] = ids
                return ids
            }
            var byStem: [String: [[Int32]]] = [:]
            func add(_ stem: String, _ terms: [Int32]) {
                guard !stem.isEmpty else { return }
                if byStem[stem]?.contains(terms) != true { byStem[stem, default: []].append(terms) }
            }
            var germanPasses: [Bool] = []
            counts = BilingualDictionary.forEachSegment(in: bytes) { germans, englishes in
                // German → English: every English word is a term. Before
                // any stemming: some word may be one, and every word of five
                // letters or more may be (a shorter one may be a stop word).
                for english in englishes {
                    var anyWord = false, everyLongWord = true
                    var word = english.startIndex
                    for i in english.indices where english[i] == 0x20 || i == english.endIndex - 1 {
                        let end = english[i] == 0x20 ? i : i + 1
                        if filter.mayStemToTerm(english[word..<end]) {
                            anyWord = true
                        } else if end - word >= 5 {
                            everyLongWord = false
                            break
                        }
                        word = i + 1
                    }
                    guard anyWord, everyLongWord else { continue }
                    let ids = englishIDs(english)
                    guard !ids.isEmpty else { continue }
                    for german in germans {
                        let stem = germanStem(german)
                        if !(ids.count == 1 && termIDs[stem] == ids[0]) { add(stem, ids) }
                    }
                }
                // English → German: the German word is a term. An English
                // term of two or three words is kept under its stems joined
                // by spaces ("brake pad" → "Bremsbelag", see
                // ``phraseKey(_:)``).
                germanPasses.removeAll(keepingCapacity: true)
                for german in germans { germanPasses.append(filter.mayStemToTerm(german)) }
                guard germanPasses.contains(true) else { return }
                for (german, passes) in zip(germans, germanPasses) where passes {
                    let stem = germanStem(german)
                    guard let id = termIDs[stem] else { continue }
                    for english in englishes {
                        let terms = TextAnalysis.indexTerms(String(decoding: english, as: UTF8.self), language: .en)
                        guard (1...BilingualDictionary.maximumEnglishWords).contains(terms.count),
                              !terms.contains(where: { $0.term.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) else { continue }
                        let source = DictionaryTranslations.phraseKey(terms.map(\.term))
                        if source != stem { add(source, [id]) }
                    }
                }
            }
            self.byStem = byStem
        }
    }

    /// A copy of `other` in fresh memory of this thread.
    private init(copying other: DictionaryTranslations) {
        keys = other.keys.map { $0 }
        keyStarts = other.keyStarts.map { $0 }
        starts = other.starts.map { $0 }
        data = other.data.map { $0 }
        counts = other.counts
        problem = other.problem.map { String(decoding: Array($0.utf8), as: UTF8.self) }
    }

    /// No translations, because the dictionary could not be read.
    private init(problem: String) {
        keys = []
        keyStarts = [0]
        starts = [0]
        data = []
        counts = .init()
        self.problem = problem
    }

    /// The four arrays of `byStem`, its stems sorted by their UTF-8 bytes.
    private init(_ byStem: [String: [[Int32]]], counts: BilingualDictionary.Counts) {
        let stems = byStem.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var keys: [UInt8] = []
        var keyStarts: [Int32] = [0]
        keyStarts.reserveCapacity(stems.count + 1)
        var starts: [Int32] = [0]
        starts.reserveCapacity(stems.count + 1)
        var data: [Int32] = []
        for stem in stems {
            keys += stem.utf8
            keyStarts.append(Int32(keys.count))
            for terms in byStem[stem, default: []] {
                data.append(Int32(terms.count))
                data += terms
            }
            starts.append(Int32(data.count))
        }
        self.keys = keys
        self.keyStarts = keyStarts
        self.starts = starts
        self.data = data
        self.counts = counts
        problem = nil
    }

    /// The key of an English term of several words: its stems joined by
    /// spaces (a single word's key is its stem).
    static func phraseKey(_ stems: [String]) -> String { stems.joined(separator: " ") }

    /// The translations of a query word with `stems`, each as its index
    /// terms; never one of the word's own stems.
    func translations(of stems: [String], termIDs: [String: Int32]) -> [[Int32]] {
        let own = Set(stems.compactMap { termIDs[$0] })
        var out: [[Int32]] = []
        for stem in stems {
            guard let slot = slot(of: stem) else { continue }
            var i = Int(starts[slot])
            let end = Int(starts[slot + 1])
            while i < end {
                let n = Int(data[i])
                let terms = Array(data[(i + 1)...(i + n)])
                i += n + 1
                if !out.contains(terms), !(terms.count == 1 && own.contains(terms[0])) { out.append(terms) }
            }
        }
        return out
    }

    /// The index of `stem` among the sorted keys, or nil: a binary search.
    private func slot(of stem: String) -> Int? {
        var stem = stem
        return stem.withUTF8 { target in
            keys.withUnsafeBufferPointer { keys in
                var low = 0, high = keyStarts.count - 1
                while low < high {
                    let middle = (low + high) / 2
                    let key = UnsafeBufferPointer(rebasing: keys[Int(keyStarts[middle])..<Int(keyStarts[middle + 1])])
                    let common = Swift.min(key.count, target.count)
                    var order = common == 0 ? 0 : Int(memcmp(key.baseAddress!, target.baseAddress!, common))
                    if order == 0 { order = key.count - target.count }
                    if order == 0 { return middle }
                    if order < 0 { low = middle + 1 } else { high = middle }
                }
                return nil
            }
        }
    }

    /// How many query stems have a translation.
    var count: Int { keyStarts.count - 1 }
}

/// Whether a dictionary word may stem to one of a knowledge base's terms,
/// without stemming it: a stem is (nearly always) a beginning of the
/// folded, collapsed word, at most ``maximumSuffix`` letters shorter
/// ("rechnungen" → "rechnung", "batteries" → "batteri"; y is read as i
/// on both sides). A bit set of the terms' hashes answers for each such
/// beginning; a word it lets through is then stemmed for real, so a
/// collision costs a stemming, never a wrong translation. Words with
/// letters beyond ASCII and the German umlauts are let through.
struct TermPrefixFilter {
    /// The most letters a stemmer removes ("möglichkeiten" → "moglich").
    static let maximumSuffix = 8
    private static let bits = 1 << 22
    private var set: [UInt64]
    private var buffer: [UInt8] = []

    init<S: Sequence>(terms: S) where S.Element == String {
        set = [UInt64](repeating: 0, count: Self.bits / 64)
        for term in terms {
            var hash = Self.seed
            for c in term.utf8 { hash = Self.step(hash, c) }
            insert(hash)
        }
    }

    private static let seed: UInt64 = 0xcbf2_9ce4_8422_2325
    private static func step(_ hash: UInt64, _ c: UInt8) -> UInt64 {
        (hash ^ UInt64(c == 0x79 ? 0x69 : c)) &* 0x100_0000_01b3  // y as i
    }

    private mutating func insert(_ hash: UInt64) {
        let bit = Int(truncatingIfNeeded: (hash ^ hash >> 29) & UInt64(Self.bits - 1))
        set[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    private func contains(_ hash: UInt64) -> Bool {
        let bit = Int(truncatingIfNeeded: (hash ^ hash >> 29) & UInt64(Self.bits - 1))
        return set[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    /// Whether the first word of `text` (up to a space or hyphen) may stem
    /// to a term.
    mutating func mayStemToTerm(_ text: ArraySlice<UInt8>) -> Bool {
        buffer.removeAll(keepingCapacity: true)
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c >= 0x41 && c <= 0x5A { buffer.append(c | 0x20) }
            else if c >= 0x61 && c <= 0x7A { buffer.append(c) }
            else if c == 0x20 || c == 0x2D { break }
            else if c == 0xC3, i + 1 < text.endIndex {
                // ä ö ü (either case) and ß, folded as the search folds them.
                switch text[i + 1] {
                case 0xA4, 0x84: buffer.append(0x61)
                case 0xB6, 0x96: buffer.append(0x6F)
                case 0xBC, 0x9C: buffer.append(0x75)
                case 0x9F: buffer.append(0x73); buffer.append(0x73)
                default: return true
                }
                i += 1
            } else {
                return true  // cannot tell cheaply
            }
            i += 1
        }
        guard buffer.count >= 2 else { return false }  // one letter: no token
        TextAnalysis.collapse(&buffer)
        var hash = Self.seed
        let shortest = Swift.max(2, buffer.count - Self.maximumSuffix)
        for (n, c) in buffer.enumerated() {
            hash = Self.step(hash, c)
            if n + 1 >= shortest, contains(hash) { return true }
        }
        return false
    }
}
