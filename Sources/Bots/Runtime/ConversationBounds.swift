import Desk
import Foundation

// What the bots track per customer is bounded (issue 15: 50,000 abandoned
// conversations, started by nick changes the bot does not see, took 154 MB
// and kept it after they expired).
//
// - At most ``SupportSettings/conversationsPerNetwork`` conversations on one
//   network and ``SupportSettings/conversationsTotal`` over all. Past a
//   bound a new customer is told once that the desk is busy (``SupportText/busy``)
//   and nothing is kept for them but that they were told (itself bounded);
//   one log line per bound hit, again only after the bound was clear.
//   Customers already talking are served as before.
// - A nick change moves a conversation, never copies it; a nick the bot
//   never saw change starts a conversation like any newcomer, so churn is
//   held by the same bounds.
// - Memory is given back after expiry: a dictionary that fell far below
//   its capacity is rebuilt (Swift's keep their storage when emptied).
//
// The counting is the support bot's (``SupportBot/admit(_:settings:)``); the
// runtime logs and says what it decides.
extension BotRuntime {
    /// Whether a conversation with `identity` may start now; if not, says so
    /// (once per customer while the bound holds) and logs the bound once.
    func admitsConversation(_ identity: ChatIdentity, key: ConversationKey) -> Bool {
        let settings = definitions.supportSettings
        guard case .refused(let hit, let newlyHit, let tellBusy) = support.admit(key, settings: settings) else {
            return true
        }
        if newlyHit {
            logger.warning("conversation bound reached: new customers are told the desk is busy", [
                "bound": hit, "conversations": support.conversations.count,
                "per_network": settings.conversationsPerNetwork, "total": settings.conversationsTotal])
        }
        counters.conversationsRefused += 1
        if tellBusy {
            let language = networkSettings[identity.network]?.defaultLanguage ?? .en
            say(definitions.support.render(.busy, language), to: identity.nick, on: identity.network)
        }
        return false
    }

    /// The room the conversation table holds now (tests: memory given back).
    public func conversationTableCapacity() -> Int { support.conversations.capacity }
}
