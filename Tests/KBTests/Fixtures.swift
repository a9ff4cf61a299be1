import Foundation
import TestSupport
@testable import KB

/// The knowledge base shipped in `bots/kb`, loaded once for all tests.
enum SampleKB {
    static let folder: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("bots/kb")

    /// The vocabulary files `bots/kb.json5` names.
    static let vocabularyFiles: [URL] = ["it-support.json5", "general.json5", "local.json5"].map {
        folder.deletingLastPathComponent().appendingPathComponent("vocabulary").appendingPathComponent($0)
    }

    static let vocabulary: Vocabulary = {
        do {
            return try Vocabulary.load(vocabularyFiles)
        } catch {
            fatalError("the shipped vocabulary does not load:\n\(error)")
        }
    }()

    static let loaded: (KnowledgeBase, [KBLoadError]) = KnowledgeBase.load(from: folder, vocabulary: vocabulary)
    static var kb: KnowledgeBase { loaded.0 }

    /// Loads the vocabulary and the KB above on a thread of its own: the
    /// suites that read them await it first (`.awaiting`), so no test blocks
    /// its pool thread in their one-time initialisation (the vocabulary's
    /// JSON5 takes seconds to parse in a debug build under load).
    static let ready = SharedFixture("kb.sample") { _ = loaded }
}

/// A temporary folder of article files, removed when the value is released.
final class TemporaryKB {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("kbtests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    func write(_ name: String, _ text: String) throws {
        try write(name, Data(text.utf8))
    }

    func write(_ name: String, _ data: Data) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
    }

    /// A valid article file's text.
    static func article(id: String, title: String, language: String = "en", tags: String = "test",
                        body: String = "A paragraph that summarises the article.\n\n## Steps\n1. Do it.") -> String {
        """
        ---
        id: \(id)
        title: \(title)
        url: https://docs.nordlicht.example/kb/\(id)
        tags: \(tags)
        language: \(language)
        ---
        \(body)
        """
    }
}

/// An article built in code for a test's own small knowledge base; its
/// summary is its body.
func testArticle(_ id: String, _ title: String, tags: [String], body: String,
                 language: Article.Language = .de, translation: String? = nil, questions: [String] = []) -> Article {
    Article(id: id, title: title, url: URL(string: "https://docs.example/\(id)")!, tags: tags, language: language,
            summary: body, body: body, source: "\(id).md", translation: translation, questions: questions)
}
