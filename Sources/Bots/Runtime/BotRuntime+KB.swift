import Core
import Desk
import Foundation
import KB

// The KB bot (SPEC "Knowledge base"): `!kb <words>` lists the best articles,
// `!kb <id>` gives one article's summary — in any channel the bot is in, or
// privately. Answers go on the bulk lane and expire: a stale answer is not
// sent minutes later.
extension BotRuntime {
    func kbQuery(_ arguments: String, message: ChatMessage, settings: NetworkBotSettings) {
        counters.kbQueries += 1
        let now = clock.date
        let query = arguments.trimmingCharacters(in: .whitespacesAndNewlines)
        let language: Language
        let recipient: ChatRecipient
        switch message.place {
        case .channel(let channel):
            language = settings.defaultLanguage
            recipient = .channel(channel)
        case .direct:
            language = conversations[conversationKey(message.sender)]?.language ?? LanguageDetector.detect(query)
                ?? settings.defaultLanguage
            recipient = .user(message.sender.nick)
        }
        let texts = definitions.kb
        let display = definitions.kbCommands.definition(.kb).display
        let knowledgeBase = self.knowledgeBase.current
        let text: String
        if query.isEmpty {
            text = texts.render(.usage, language, ["command": display])
        } else if !query.contains(where: \.isWhitespace), let article = knowledgeBase.article(id: query) {
            text = texts.render(.articleSummary, language, [
                "id": article.id, "title": article.title, "summary": Sanitizer.inline(article.summary, limit: 350),
                "url": article.url.absoluteString])
        } else {
            let shown = Sanitizer.inline(query, limit: 60)
            let hits = knowledgeBase.search(query, limit: definitions.kbSettings.results)
            if hits.isEmpty {
                text = texts.render(.noResults, language, ["query": shown])
            } else {
                text = ([texts.render(.resultsIntro, language, ["query": shown])] + hits.map { hit in
                    texts.render(.resultLine, language, ["id": hit.article.id, "title": hit.article.title,
                                                         "url": hit.article.url.absoluteString])
                }).joined(separator: "\n")
            }
        }
        say(ChatAction(network: message.network, recipient: recipient, text: text, lane: .bulk,
                       expiresAt: now.addingTimeInterval(definitions.kbSettings.answerExpiry)))
    }
}
