@testable import Bots
import Core
import Testing

/// The byte-wise readings of a line of ASCII (every `!kb` and most chat
/// lines take them) say exactly what the `Character`-wise readings say: the
/// command and its arguments, and the language of a stranger's query.
@Suite struct ASCIIFastPathTests {
    /// ASCII lines made of the pieces the readings look at: `!`, letters in
    /// both cases, digits, `'`, every ASCII white-space byte and the control
    /// bytes that are not white space, `\r\n` pairs, and words of both
    /// languages' lists.
    static func lines(count: Int) -> [String] {
        let pieces = ["!", "!kb", "!KB", "kb", "!queue", "!take", "!lang", "a", "Z", "q", "7", "42", "'", "don't",
                      "the", "The", "nicht", "NICHT", "und", "is", "ist", "vpn", " ", "  ", "\t", "\n", "\r\n",
                      "\u{0B}", "\u{0C}", "\r", "\u{1C}", "\u{1F}", "\u{7F}", "_", "-", "!", ",", ".", "x",
                      String(repeating: "w", count: 21), "abcdefghijklmnopqrst"]
        var random = SeededRandom(seed: 12)
        var lines: [String] = ["", "!", "! kb", "!kb", "!kb ", " !kb vpn", "!kb\r\nvpn", "!k\u{0B}b",
                               String(repeating: "the ", count: 70), String(repeating: "und ", count: 59) + "the the"]
        for _ in 0..<count {
            var line = ""
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                line += pieces[Int.random(in: 0..<pieces.count, using: &random)]
            }
            lines.append(line)
        }
        return lines
    }

    @Test func aCommandReadsTheSameByBytesAsByCharacters() {
        var checked = 0
        for line in Self.lines(count: 20_000) {
            guard let ascii = BotRuntime<ManualClock>.asciiCommand(in: line) else {
                Issue.record("an ASCII line was not read by the ASCII path: \(line.debugDescription)")
                continue
            }
            let reference = BotRuntime<ManualClock>.commandByCharacters(in: line)
            #expect(ascii?.name == reference?.name && ascii?.arguments == reference?.arguments,
                    "\(line.debugDescription): \(String(describing: ascii)) vs \(String(describing: reference))")
            if reference != nil { checked += 1 }
        }
        #expect(checked > 1000)  // Many of them are commands
        // Not ASCII: the general path decides.
        #expect(BotRuntime<ManualClock>.asciiCommand(in: "!kb Lizenz verlängern") == nil)
        #expect(BotRuntime<ManualClock>.command(in: "!kb Lizenz verlängern")?.arguments == "Lizenz verlängern")
        #expect(BotRuntime<ManualClock>.command(in: "!\u{301}kb vpn") == nil)
    }

    @Test func aMessageSplitsIntoTheSameLinesWithTheFastPath() {
        var random = SeededRandom(seed: 7)
        let pieces = ["a", "Z", "!", "~", " ", "\t", "\r", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}",
                      "\u{A0}", "ä", "\u{3000}", "10042", "VPN"]
        var fast = 0
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...8, using: &random) { text += pieces[Int.random(in: 0..<pieces.count, using: &random)] }
            #expect(BotRuntime<ManualClock>.lines(of: text) == BotRuntime<ManualClock>.linesByScalars(of: text),
                    "\(text.debugDescription)")
            if let first = text.utf8.first, let last = text.utf8.last, (0x21...0x7E).contains(first),
               (0x21...0x7E).contains(last) { fast += 1 }
        }
        #expect(fast > 1000)
    }

    @Test func aLanguageNameIsReadInAnyCaseAndPadding() {
        for (word, language) in [("de", Language.de), ("en", .en), ("DE", .de), (" En ", .en), ("Deutsch", .de),
                                 ("english", .en), ("englisch", .en), ("\tger", .de), ("eng", .en), ("\u{A0}de", .de)] {
            #expect(Language(word: word) == language, "\(word.debugDescription)")
        }
        for word in ["", "fr", "d e", "e", "deu", "de\n"] {
            #expect(Language(word: word) == nil, "\(word.debugDescription)")
        }
    }

    @Test func theLanguageReadsTheSameByBytesAsByCharacters() {
        var decided = 0
        for line in Self.lines(count: 20_000) {
            guard LanguageDetector.asciiCounts(line) != nil else {
                Issue.record("an ASCII line was not read by the ASCII path: \(line.debugDescription)")
                continue
            }
            let reference = LanguageDetector.detectByCharacters(line)
            #expect(LanguageDetector.detect(line) == reference, "\(line.debugDescription)")
            if reference != nil { decided += 1 }
        }
        #expect(decided > 1000)
        // The first 60 words count, no more.
        #expect(LanguageDetector.detect(String(repeating: "und ", count: 59) + "the the the") == .de)
        #expect(LanguageDetector.asciiCounts("Übertragung läuft") == nil)
    }
}
