import Foundation
import TestSupport
import Testing
@testable import KB

/// The rules in the headers of `bots/vocabulary/it-support.json5` and
/// `general.json5` that the loader does not check: a stem shared by two
/// concepts (of one file or of both) silently merges them
/// in the search (a query word then expands into both), and a stop word in a
/// concept is dropped by the loader, so the concept is smaller than it reads.
@Suite("Shipped vocabulary stems", .awaiting { try await SampleKB.ready.value() })
struct VocabularyStemCheckTests {
    @Test("No two concepts of the shipped vocabularies (IT support and general) share a stem, and no concept lists a stop word")
    func noSharedStems() throws {
        let shipped = SampleKB.vocabularyFiles.filter { $0.lastPathComponent != "local.json5" }
        #expect(shipped.map(\.lastPathComponent) == ["it-support.json5", "general.json5"])
        let vocabulary = try Vocabulary.load(shipped)
        var owner: [String: Int] = [:]
        var problems: [String] = []
        func describe(_ concept: Vocabulary.Concept) -> String { (concept.de + concept.en).joined(separator: "/") }
        for (index, concept) in vocabulary.concepts.enumerated() {
            var stems = Set<String>()
            for (words, language) in [(concept.de, Article.Language.de), (concept.en, .en)] {
                for word in words {
                    let terms = TextAnalysis.indexTerms(word, language: language)
                    if terms.isEmpty { problems.append("'\(word)' is a stop word (\(describe(concept)))") }
                    for token in terms {
                        stems.insert(token.term)
                        if let alternate = token.alternate { stems.insert(alternate) }
                    }
                }
            }
            for stem in stems.sorted() {
                if let other = owner[stem] {
                    problems.append("stem '\(stem)': [\(describe(vocabulary.concepts[other]))] and [\(describe(concept))]")
                } else {
                    owner[stem] = index
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.joined(separator: "\n"))")
    }
}
