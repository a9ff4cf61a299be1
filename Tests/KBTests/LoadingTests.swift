import Core
import Foundation
import Testing
@testable import KB

@Suite("Loading articles")
struct LoadingTests {
    @Test("A valid article loads with every header field and its summary")
    func validArticle() throws {
        let tmp = try TemporaryKB()
        try tmp.write("KB-1.md", """
            ---
            id: KB-1
            title: Restoring files
            url: https://docs.nordlicht.example/kb/KB-1
            tags: restore, file, "two words"
            language: en
            ---
            # Restoring files

            You can restore **single** files from
            any [backup](https://example.org/x) with `Restore`.

            ## Steps
            1. Open the console.
            """)
        let (kb, errors) = KnowledgeBase.load(from: tmp.folder)
        #expect(errors.isEmpty)
        let article = try #require(kb.article(id: "KB-1"))
        #expect(article.title == "Restoring files")
        #expect(article.url.absoluteString == "https://docs.nordlicht.example/kb/KB-1")
        #expect(article.tags == ["restore", "file", "two words"])
        #expect(article.language == .en)
        #expect(article.summary == "You can restore single files from any backup with Restore.")
        #expect(article.source == "KB-1.md")
        #expect(article.body.hasPrefix("# Restoring files"))
    }

    @Test("An explicit summary field wins over the first paragraph; CRLF and a BOM are accepted")
    func explicitSummary() throws {
        let tmp = try TemporaryKB()
        let text = "\u{FEFF}---\r\nid: KB-2\r\ntitle: T\r\nurl: http://x.example/2\r\nlanguage: de\r\n"
            + "summary: Kurz gesagt.\r\n---\r\nLanger Text.\r\n"
        try tmp.write("KB-2.md", text)
        let (kb, errors) = KnowledgeBase.load(from: tmp.folder)
        #expect(errors.isEmpty)
        #expect(kb.article(id: "KB-2")?.summary == "Kurz gesagt.")
        #expect(kb.article(id: "KB-2")?.tags == [])
    }

    @Test("Each bad file is skipped with its file, line and field; the good ones load")
    func badFilesReported() throws {
        let tmp = try TemporaryKB()
        try tmp.write("good.md", TemporaryKB.article(id: "KB-10", title: "Good"))
        try tmp.write("no-id.md", "---\ntitle: No id\nurl: https://x.example/a\nlanguage: en\n---\nText.\n")
        try tmp.write("no-title.md", "---\nid: KB-11\nurl: https://x.example/a\nlanguage: en\n---\nText.\n")
        try tmp.write("french.md", "---\nid: KB-12\ntitle: Bonjour\nurl: https://x.example/a\nlanguage: fr\n---\nTexte.\n")
        try tmp.write("sub/dup.md", TemporaryKB.article(id: "kb-10", title: "Duplicate"))
        try tmp.write("latin1.md", Data("---\nid: KB-13\ntitle: Gr".utf8) + Data([0xF6, 0xDF, 0x65])
            + Data("\nurl: https://x.example/a\nlanguage: de\n---\nText.\n".utf8))
        try tmp.write("typo.md", "---\nid: KB-14\ntitel: Typo\nurl: https://x.example/a\nlanguage: en\n---\nText.\n")
        try tmp.write("open.md", "---\nid: KB-15\ntitle: Never closed\n")
        try tmp.write("noheader.md", "Just text.\n")
        try tmp.write("badurl.md", "---\nid: KB-16\ntitle: T\nurl: docs/kb/16\nlanguage: en\n---\nText.\n")
        try tmp.write("empty-body.md", "---\nid: KB-17\ntitle: T\nurl: https://x.example/a\nlanguage: en\n---\n\n## Only a heading\n")
        try tmp.write("colon.md", "---\nid: KB-18\njust a line\ntitle: T\nurl: https://x.example/a\nlanguage: en\n---\nText.\n")
        try tmp.write("twice.md", "---\nid: KB-19\ntitle: A\ntitle: B\nurl: https://x.example/a\nlanguage: en\n---\nText.\n")
        try tmp.write("badid.md", "---\nid: KB 20\ntitle: A\nurl: https://x.example/a\nlanguage: en\n---\nText.\n")

        let (kb, errors) = KnowledgeBase.load(from: tmp.folder)
        #expect(kb.count == 1)
        #expect(kb.article(id: "KB-10")?.title == "Good")

        func error(_ file: String) -> KBLoadError? { errors.first { $0.file == file } }
        #expect(error("no-id.md")?.kind == .missingField)
        #expect(error("no-id.md")?.field == "id")
        #expect(error("no-id.md")?.line == 5)  // the closing '---'
        #expect(error("no-title.md")?.field == "title")
        #expect(error("french.md")?.kind == .unknownLanguage)
        #expect(error("french.md")?.line == 5)
        #expect(error("french.md")?.description == "french.md:5: field 'language': unknown language 'fr' (expected de or en)")
        #expect(error("sub/dup.md")?.kind == .duplicateID)
        #expect(error("sub/dup.md")?.line == 2)
        #expect(error("sub/dup.md")?.message.contains("good.md:2") == true)
        #expect(error("latin1.md")?.kind == .invalidUTF8)
        #expect(error("latin1.md")?.line == 3)
        #expect(errors.filter { $0.file == "typo.md" }.map(\.kind).sorted { $0.rawValue < $1.rawValue }
            == [.missingField, .unknownField])
        #expect(error("typo.md").map { "\($0)" }?.contains("titel") == true)
        #expect(error("open.md")?.kind == .missingHeader)
        #expect(error("noheader.md")?.kind == .missingHeader)
        #expect(error("noheader.md")?.line == 1)
        #expect(error("badurl.md")?.kind == .invalidValue)
        #expect(error("badurl.md")?.field == "url")
        #expect(error("empty-body.md")?.kind == .missingSummary)
        #expect(error("colon.md")?.kind == .malformedLine)
        #expect(error("colon.md")?.line == 3)
        #expect(error("twice.md")?.kind == .duplicateField)
        #expect(error("twice.md")?.line == 4)
        #expect(error("badid.md")?.kind == .invalidValue)
        #expect(Set(errors.map(\.file)).count == 13)
    }

    @Test("README.md, hidden files, _drafts and non-Markdown files are not articles")
    func skippedFiles() throws {
        let tmp = try TemporaryKB()
        try tmp.write("README.md", "# About this folder\n")
        try tmp.write(".draft.md", "not an article")
        try tmp.write("_drafts/x.md", "not an article")
        try tmp.write("notes.txt", "not an article")
        try tmp.write("en/a.md", TemporaryKB.article(id: "A", title: "A"))
        let (kb, errors) = KnowledgeBase.load(from: tmp.folder)
        #expect(errors.isEmpty)
        #expect(kb.articles.map(\.id) == ["A"])
    }

    @Test("A missing folder is one clear error and an empty KB")
    func missingFolder() {
        let (kb, errors) = KnowledgeBase.load(from: URL(fileURLWithPath: "/nonexistent/kb-\(UUID().uuidString)"))
        #expect(kb.count == 0)
        #expect(errors.count == 1)
        #expect(errors.first?.kind == .unreadable)
        #expect(errors.first?.message == "folder does not exist")
    }

    @Test("Ids are found regardless of case and surrounding spaces")
    func idLookup() throws {
        let tmp = try TemporaryKB()
        try tmp.write("a.md", TemporaryKB.article(id: "KB-1001", title: "A"))
        let (kb, _) = KnowledgeBase.load(from: tmp.folder)
        #expect(kb.article(id: "kb-1001")?.id == "KB-1001")
        #expect(kb.article(id: " KB-1001 ")?.id == "KB-1001")
        #expect(kb.article(id: "KB-1002") == nil)
    }
}

@Suite("Reloading")
struct ReloadTests {
    @Test("A reload swaps in the new articles")
    func reloadSwaps() throws {
        let tmp = try TemporaryKB()
        try tmp.write("a.md", TemporaryKB.article(id: "A", title: "Firewall rules"))
        let live = ReloadableKnowledgeBase(folder: tmp.folder, logger: .disabled)
        let before = live.current
        try tmp.write("b.md", TemporaryKB.article(id: "B", title: "Certificate renewal"))
        let result = live.reload()
        #expect(result.replaced)
        #expect(result.articleCount == 2)
        #expect(live.current.search("certificate").first?.article.id == "B")
        #expect(before.count == 1)  // a value taken earlier does not change under a search
    }

    @Test("A file that turns bad keeps its previous version, with an error saying so")
    func badFileKeepsPreviousVersion() throws {
        let tmp = try TemporaryKB()
        try tmp.write("a.md", TemporaryKB.article(id: "A", title: "Firewall rules"))
        try tmp.write("b.md", TemporaryKB.article(id: "B", title: "Certificate renewal"))
        let sink = MemoryLogSink()
        let live = ReloadableKnowledgeBase(folder: tmp.folder, logger: Logger(sink: sink))
        try tmp.write("a.md", "---\nid: A\ntitle: Firewall rules\nlanguage: xx\n---\nHalf edited")
        let result = live.reload()
        #expect(result.replaced)
        #expect(live.current.article(id: "A")?.title == "Firewall rules")
        #expect(result.errors.contains { $0.file == "a.md" && $0.keptPreviousVersion && $0.kind == .unknownLanguage })
        #expect(result.errors.first.map { "\($0)" }?.hasSuffix("(keeping the previously loaded version)") == true)
        #expect(sink.lines.contains { $0.contains("file=a.md") && $0.contains("kept_previous=true") })
    }

    @Test("A reload of an unreadable or emptied folder keeps the loaded KB")
    func failingReloadKeepsOld() throws {
        let tmp = try TemporaryKB()
        try tmp.write("a.md", TemporaryKB.article(id: "A", title: "Firewall rules"))
        let live = ReloadableKnowledgeBase(folder: tmp.folder, logger: .disabled)
        try tmp.remove("a.md")
        let emptied = live.reload()
        #expect(!emptied.replaced)
        #expect(live.current.article(id: "A") != nil)

        try FileManager.default.removeItem(at: tmp.folder)
        let gone = live.reload()
        #expect(!gone.replaced)
        #expect(gone.errors.first?.kind == .unreadable)
        #expect(live.current.count == 1)
    }

    @Test("A deleted article disappears on reload while others remain")
    func deletedArticleGoes() throws {
        let tmp = try TemporaryKB()
        try tmp.write("a.md", TemporaryKB.article(id: "A", title: "Firewall rules"))
        try tmp.write("b.md", TemporaryKB.article(id: "B", title: "Certificate renewal"))
        let live = ReloadableKnowledgeBase(folder: tmp.folder, logger: .disabled)
        try tmp.remove("b.md")
        #expect(live.reload().replaced)
        #expect(live.current.article(id: "B") == nil)
        #expect(live.current.count == 1)
    }

    /// SwiftPM's incremental build does not recompile a module that holds a
    /// knowledge base only inside its own types (the gateway's tests), so a
    /// change of the index's fields must not change this type's layout:
    /// with the index stored inline, merging such a change crashed those
    /// tests with signal 11 until a clean build.
    @Test("A knowledge base value is one reference wide, whatever its index holds")
    func layoutDoesNotDependOnTheIndex() {
        #expect(MemoryLayout<KnowledgeBase>.size == MemoryLayout<AnyObject>.size)
        #expect(MemoryLayout<KnowledgeBase>.stride == MemoryLayout<AnyObject>.stride)
    }
}
