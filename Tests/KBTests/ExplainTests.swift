import Foundation
import Testing
@testable import KB

/// Issue 11: `kb explain` tells an operator why an article was not
/// offered — also which of the customer's words it lacks, and what each
/// costs its coverage.
@Suite("kb explain: the words a candidate lacks")
struct ExplainTests {
    static func article(_ id: String, _ title: String, body: String) -> Article {
        Article(id: id, title: title, url: URL(string: "https://docs.example/\(id)")!, tags: [], language: .de,
                summary: ArticleParser.firstParagraph(of: body), body: body, source: "\(id).md")
    }

    static let kb = KnowledgeBase(articles: [
        article("E-1", "Passwort zurücksetzen", body: "Setzen Sie das Passwort im Portal zurück."),
        article("E-2", "Drucker einrichten", body: "Verbinden Sie den Drucker per Kabel."),
        article("E-3", "Rechnung herunterladen", body: "Die Rechnung finden Sie im Kundenkonto."),
        article("E-4", "Lizenz verlängern", body: "Verlängern Sie die Lizenz vor ihrem Ablauf."),
    ])

    /// The lines `explain` prints for candidate `id`: from its heading to the next candidate's.
    static func block(_ lines: [String], _ id: String) -> [String] {
        guard let start = lines.firstIndex(where: { $0.contains(". \(id) ") }) else { return [] }
        let rest = lines[(start + 1)...]
        let end = rest.firstIndex { $0.range(of: #"^\s+\d+\. "#, options: .regularExpression) != nil } ?? lines.endIndex
        return Array(lines[start..<end])
    }

    /// What the word list says `word` counts: with no vocabulary no word is
    /// a common one, and both words are in a title, so all of it counts
    /// when missing.
    static func cost(_ word: String, _ lines: [String]) -> String {
        guard let line = lines.first(where: { $0.hasPrefix("  \(word):") }),
              let range = line.range(of: #"counts \d+\.\d\d"#, options: .regularExpression) else { return "?" }
        return String(line[range].dropFirst("counts ".count))
    }

    @Test("Each candidate names the query words it lacks, with what each costs its coverage; one that has them all names none")
    func lacks() {
        let lines = Self.kb.explain("Drucker Passwort")
        let text = lines.joined(separator: "\n")
        let printer = Self.block(lines, "E-2").first { $0.contains("lacks") } ?? ""
        let password = Self.block(lines, "E-1").first { $0.contains("lacks") } ?? ""
        #expect(printer.hasSuffix("lacks (what each costs its coverage): passwort \(Self.cost("passwort", lines))"), "\(text)")
        #expect(password.hasSuffix("lacks (what each costs its coverage): drucker \(Self.cost("drucker", lines))"), "\(text)")

        let complete = Self.block(Self.kb.explain("Passwort zurücksetzen"), "E-1")
        #expect(!complete.isEmpty && !complete.contains { $0.contains("lacks") }, "\(complete)")
    }
}
