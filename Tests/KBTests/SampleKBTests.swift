import Foundation
import TestSupport
import Testing
@testable import KB

@Suite("The shipped sample KB", .awaiting { try await SampleKB.ready.value() })
struct SampleKBTests {
    @Test("Loads without errors: at least 30 articles, about half in each language")
    func loadsCleanly() {
        let (kb, errors) = SampleKB.loaded
        #expect(errors.isEmpty, "\(errors)")
        #expect(kb.count >= 30)
        let german = kb.articles.filter { $0.language == .de }.count
        let english = kb.articles.filter { $0.language == .en }.count
        #expect(abs(german - english) <= kb.count / 5)
    }

    @Test("Every article has a documentation URL for its id, tags, and a real summary")
    func articleShape() {
        for article in SampleKB.kb.articles {
            #expect(article.url.absoluteString == "https://docs.nordlicht.example/kb/\(article.id)")
            #expect(!article.tags.isEmpty, "\(article.id)")
            #expect(article.summary.count >= 80, "\(article.id)")
            #expect(article.body.contains("\n1. ") || article.body.contains("\n- "), "\(article.id) has no steps")
            #expect(article.source.hasPrefix(article.language.rawValue + "/\(article.id)-"))
        }
    }

    @Test("Each article is found by its own title")
    func foundByTitle() {
        for article in SampleKB.kb.articles {
            let hits = SampleKB.kb.search(article.title, limit: 3).map(\.article.id)
            #expect(hits.contains(article.id), "\(article.id) \(article.title): \(hits)")
        }
    }
}
