import Foundation
import Testing
@testable import KB

/// The Snowball stemmers against the reference outputs of the Snowball
/// project (`Tests/KBTests/Snowball`: `*-voc.txt` one word a line,
/// `*-output.txt` its stem on the same line; from the snowball-data
/// repository, commit ba91f32b, BSD licence in `Snowball/COPYING`).
@Suite struct SnowballStemmerTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snowball")

    /// (word, expected stem) pairs of one language's list.
    static func pairs(_ language: String) throws -> [(String, String)] {
        func lines(_ name: String) throws -> [Substring] {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0)
                .map { $0 }
        }
        let words = try lines("\(language)-voc.txt")
        let stems = try lines("\(language)-output.txt")
        #expect(words.count == stems.count, "\(language): lists of different length")
        return zip(words, stems).map { (String($0), String($1)) }
    }

    static func mismatches(_ pairs: [(String, String)], _ stem: (String) -> String) -> [String] {
        pairs.compactMap { word, expected in
            let got = stem(word)
            return got == expected ? nil : "\(word): expected \(expected), got \(got)"
        }
    }

    @Test func germanMatchesTheReferenceOutput() throws {
        let pairs = try Self.pairs("german")
        #expect(pairs.count >= 20_000)
        let wrong = Self.mismatches(pairs, GermanStemmer.stem)
        #expect(wrong.isEmpty, "\(wrong.count) of \(pairs.count) differ, e.g. \(wrong.prefix(20))")
    }

    @Test func englishMatchesTheReferenceOutput() throws {
        let pairs = try Self.pairs("english")
        #expect(pairs.count >= 20_000)
        let wrong = Self.mismatches(pairs, EnglishStemmer.stem)
        #expect(wrong.isEmpty, "\(wrong.count) of \(pairs.count) differ, e.g. \(wrong.prefix(20))")
    }

    /// The conflation the light stemmer made and the issue names: invoice,
    /// computer and rights had one German stem.
    @Test func germanKeepsInvoiceComputerAndRightsApart() {
        let stems = Set(["rechnung", "rechner", "rechte"].map(GermanStemmer.stem))
        #expect(stems.count == 3, "\(stems)")
        #expect(GermanStemmer.stem("rechnungen") == GermanStemmer.stem("rechnung"))
        #expect(GermanStemmer.stem("verbindungen") == GermanStemmer.stem("verbinden"))
    }
}
