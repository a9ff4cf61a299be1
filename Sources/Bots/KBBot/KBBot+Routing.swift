import Core
import Desk
import Foundation
import KB

// Routing for the KB bot (``KBBot``): in any channel the bot is in, or
// privately; answers go on the bulk lane and expire.
extension BotRuntime {
    func kbQuery(_ arguments: String, message: ChatMessage, settings: NetworkBotSettings) {
        counters.kbQueries += 1
        let language: Language
        let recipient: ChatRecipient
        switch message.place {
        case .channel(let channel):
            language = settings.defaultLanguage
            recipient = .channel(channel)
        case .direct:
            language = support.conversations[conversationKey(message.sender)]?.language ?? LanguageDetector.detect(arguments)
                ?? settings.defaultLanguage
            recipient = .user(message.sender.nick)
        }
        let bot = KBBot(definitions: definitions, knowledgeBase: knowledgeBase.current)
        say(ChatAction(network: message.network, recipient: recipient, text: bot.answer(arguments, language),
                       lane: .bulk, expiresAt: clock.date.addingTimeInterval(definitions.kbSettings.answerExpiry)))
    }
}
