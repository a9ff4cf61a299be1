import Foundation
import TestSupport
import Testing
@testable import KB

/// Issue 11, build speed: the articles' words are read in parts on threads
/// of their own (``ArticleAnalysis``) and merged in article order, so the
/// index must not depend on the number of parts.
@Suite("Index built in parts", .serialized)
struct IndexBuildTests {
    /// The shipped KB and the studied sets' articles together (German and
    /// English, compounds, participles, declared and undeclared
    /// translations, the same words in many articles): an article id a later
    /// set repeats is left out, as ``KnowledgeBase`` does.
    static let articles: [Article] = {
        let evaluation = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Evaluation")
        let folders = [SampleKB.folder] + ["SecondSet", "ThirdSet", "FourthSet", "FifthSet"].map {
            evaluation.appendingPathComponent($0).appendingPathComponent("kb")
        }
        var seen = Set<String>()
        return folders.flatMap { KnowledgeBase.load(from: $0, vocabulary: .empty).0.articles }
            .filter { seen.insert($0.id.lowercased()).inserted }
    }()

    @Test("Read in any number of parts, the articles give the same index as in one, also with more parts than articles",
          .timeLimit(.minutes(2)))
    func sameIndexInAnyNumberOfParts() async throws {
        let articles = Self.articles
        #expect(articles.count > 200)
        let (whole, differences) = try await offload {
            let lexicon = Lexicon(vocabulary: SampleKB.vocabulary, aligned: TranslationAlignment.concepts(articles))
            let whole = SearchIndex(articles: articles, lexicon: lexicon, parts: 1)
            return (whole, [2, 3, 4, 7, articles.count + 3].map { parts in
                (parts, SearchIndex(articles: articles, lexicon: lexicon, parts: parts).differences(from: whole))
            })
        }
        // Pairs of translations, declared and found by their tags, are among them.
        #expect(whole.documentTwin.contains { $0 >= 0 })
        #expect(zip(whole.documentTwin, whole.documentHasTwin).contains { $0 < 0 && $1 })
        for (parts, fields) in differences {
            #expect(fields.isEmpty, "\(parts) parts: \(fields)")
        }
    }

    @Test("A reload with another vocabulary, or other translated pairs, expands queries with the new words")
    func reloadBuildsTheLexiconWhenItsSourcesChanged() {
        let articles = [
            testArticle("DE-1", "Drucker druckt nicht", tags: ["Drucker", "Papier"], body: "Papier nachlegen."),
            testArticle("EN-1", "Monitor stays dark", tags: ["monitor", "cable"], body: "Check the cable.", language: .en),
        ]
        let printer = Vocabulary(concepts: [.init(de: ["Drucker"], en: ["printer"])])
        let kb = KnowledgeBase(articles: articles, vocabulary: printer)
        #expect(kb.search("printer").first?.article.id == "DE-1")
        let same = KnowledgeBase(articles: articles, vocabulary: printer, previous: kb)
        #expect(same.search("printer").first?.article.id == "DE-1")
        let without = KnowledgeBase(articles: articles, vocabulary: Vocabulary(concepts: []), previous: kb)
        #expect(without.search("printer").isEmpty)
        // A translation of EN-1 aligns "Bildschirm" with "monitor".
        let translated = articles + [testArticle("DE-2", "Bildschirm bleibt dunkel", tags: ["Bildschirm", "Kabel"],
                                                 body: "Kabel prüfen.", translation: "EN-1")]
        let withPair = KnowledgeBase(articles: translated, vocabulary: printer, previous: kb)
        #expect(withPair.index.lexicon.related(to: "bildschirm").contains("monitor"))
        #expect(!kb.index.lexicon.related(to: "bildschirm").contains("monitor"))
        #expect(withPair.search("printer").first?.article.id == "DE-1")
    }

    @Test("A few parts' worth of articles are read in several parts, at most one per core and four; a small KB in one")
    func partCount() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(ThreadedParts<Int>.count(bytes: 60_000, minimumBytes: ArticleAnalysis.minimumPartBytes) == 1)
        #expect(ThreadedParts<Int>.count(bytes: 0, minimumBytes: ArticleAnalysis.minimumPartBytes) == 1)
        #expect(ThreadedParts<Int>.count(bytes: 10_000_000, minimumBytes: ArticleAnalysis.minimumPartBytes)
                == min(4, cores))
        #expect(ThreadedParts<Int>.count(bytes: 2 * ArticleAnalysis.minimumPartBytes,
                                         minimumBytes: ArticleAnalysis.minimumPartBytes) == min(2, cores))
    }

    @Test("Parts run beside the calling thread and come back in part order")
    func resultsInPartOrder() {
        let results = ThreadedParts.run(6) { n in
            // Later parts finish first.
            usleep(UInt32(6 - n) * 2_000)
            return n * n
        }
        #expect(results == [0, 1, 4, 9, 16, 25])
        #expect(ThreadedParts.run(1) { $0 + 7 } == [7])
    }
}

extension SearchIndex {
    /// The names of the fields in which `self` and `other` differ.
    func differences(from other: SearchIndex) -> [String] {
        var names: [String] = []
        func check<T: Equatable>(_ name: String, _ field: (SearchIndex) -> T) {
            if field(self) != field(other) { names.append(name) }
        }
        check("documentCount") { $0.documentCount }
        check("terms") { $0.terms }
        check("termIDs") { $0.termIDs }
        check("documentFrequency") { $0.documentFrequency }
        check("idf") { $0.idf }
        check("headlineIDF") { $0.headlineIDF }
        check("offsets") { $0.offsets }
        check("postingDocument") { $0.postingDocument }
        check("postingImpact") { $0.postingImpact }
        check("postingHeadline") { $0.postingHeadline }
        check("maximumIDF") { $0.maximumIDF }
        check("fuzzy") { $0.fuzzy }
        check("documentLanguage") { $0.documentLanguage }
        check("documentTwin") { $0.documentTwin }
        check("documentHasTwin") { $0.documentHasTwin }
        check("words") { $0.words }
        check("germanCognates") { $0.germanCognates }
        check("englishCognates") { $0.englishCognates }
        check("dictionary") { $0.dictionary }
        return names
    }
}
