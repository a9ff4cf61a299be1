import Foundation

/// A chat message a bot step handled, by the id its network gave it
/// (``Bots/ChatMessage/sourceID``: a Matrix event id; IRC has none). The
/// step's last commit records it (a ticket's creation, a conversation's
/// snapshot, or ``NetworkStateStore/markMessagesHandled(_:at:)`` alone), so
/// a network that delivers the message again after a restart — Matrix
/// re-sends a batch whose `/sync` position was not stored yet — can ask
/// ``NetworkStateStore/handledMessages(network:among:)`` and skip it: the
/// step is neither applied twice (a second ticket, an answer to the next
/// question) nor lost (it is recorded only with what it changed).
public struct HandledMessage: Sendable, Hashable {
    public var network: String
    /// The network's id of the message (unique on that network).
    public var sourceID: String

    public init(network: String, sourceID: String) {
        self.network = network
        self.sourceID = sourceID
    }
}
