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
extension BotRuntime {
    /// Whether a conversation with `identity` may start now; if not, says so
    /// (once per customer while the bound holds) and logs the bound once.
    func admitsConversation(_ identity: ChatIdentity, key: ConversationKey) -> Bool {
        let settings = definitions.supportSettings
        var hit: String?
        if conversations.count >= settings.conversationsTotal {
            hit = "total"
        } else if conversations.count >= settings.conversationsPerNetwork,
                  conversations.keys.lazy.filter({ $0.network == identity.network })
                      .prefix(settings.conversationsPerNetwork).count >= settings.conversationsPerNetwork {
            hit = "network:\(identity.network)"
        }
        guard let hit else {
            if !conversationBoundsHit.isEmpty { conversationBoundsHit.removeAll() }
            if !toldBusy.isEmpty {
                toldBusy.removeAll()
            }
            return true
        }
        if conversationBoundsHit.insert(hit).inserted {
            logger.warning("conversation bound reached: new customers are told the desk is busy", [
                "bound": hit, "conversations": conversations.count,
                "per_network": settings.conversationsPerNetwork, "total": settings.conversationsTotal])
        }
        counters.conversationsRefused += 1
        if toldBusy.count >= Self.toldBusyLimit { toldBusy.removeAll() }
        if toldBusy.insert(key).inserted {
            let language = networkSettings[identity.network]?.defaultLanguage ?? .en
            say(definitions.support.render(.busy, language), to: identity.nick, on: identity.network)
        }
        return false
    }

    /// How many customers told "busy" are remembered (so each is told once);
    /// past it the memory starts afresh (some may be told twice).
    static var toldBusyLimit: Int { 10_000 }

    /// Gives back the storage of the per-conversation tables once they hold
    /// far fewer entries than they have room for.
    func compactConversationTables() {
        if Self.isSparse(conversations.count, conversations.capacity) {
            conversations = Dictionary(uniqueKeysWithValues: conversations.map { ($0.key, $0.value) })
        }
        if Self.isSparse(conversationOfTicket.count, conversationOfTicket.capacity) {
            conversationOfTicket = Dictionary(uniqueKeysWithValues: conversationOfTicket.map { ($0.key, $0.value) })
        }
        if Self.isSparse(toldBusy.count, toldBusy.capacity) {
            var fresh = Set<ConversationKey>(minimumCapacity: toldBusy.count)
            for key in toldBusy { fresh.insert(key) }
            toldBusy = fresh
        }
    }

    static func isSparse(_ count: Int, _ capacity: Int) -> Bool { capacity > 256 && count * 8 < capacity }

    /// The room the conversation table holds now (tests: memory given back).
    public func conversationTableCapacity() -> Int { conversations.capacity }
}
