import Foundation
import KB

/// The KB bot part (SPEC "Knowledge base"): `!kb <words>` lists the best
/// articles, `!kb <id>` gives one article's summary. A value with no state
/// and no I/O: a query in, the answer's text out; the runtime decides
/// where it goes (the channel asked in, or privately) and sends it on the
/// bulk lane with an expiry, so a stale answer is not sent minutes later.
struct KBBot {
    let texts: TextTable<KBText>
    let settings: KBSettings
    /// How the command is written (`!kb`), for the usage text.
    let display: String
    let knowledgeBase: KnowledgeBase

    init(definitions: BotDefinitions, knowledgeBase: KnowledgeBase) {
        texts = definitions.kb
        settings = definitions.kbSettings
        display = definitions.kbCommands.definition(.kb).display
        self.knowledgeBase = knowledgeBase
    }

    /// The answer to `!kb query` in `language`.
    func answer(_ query: String, _ language: Language) -> String {
        let query = query.trimmedLine
        if query.isEmpty {
            return texts.render(.usage, language, ["command": display])
        }
        if !query.contains(where: \.isWhitespace), let article = knowledgeBase.article(id: query) {
            return texts.render(.articleSummary, language, [
                "id": article.id, "title": article.title, "summary": Sanitizer.inline(article.summary, limit: 350),
                "url": article.url.absoluteString])
        }
        let shown = Sanitizer.inline(query, limit: 60)
        let hits = knowledgeBase.search(query, limit: settings.results)
        guard !hits.isEmpty else { return texts.render(.noResults, language, ["query": shown]) }
        return ([texts.render(.resultsIntro, language, ["query": shown])] + hits.map { hit in
            texts.render(.resultLine, language, ["id": hit.article.id, "title": hit.article.title,
                                                 "url": hit.article.url.absoluteString])
        }).joined(separator: "\n")
    }
}
