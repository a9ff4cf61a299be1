import Foundation

/// Which conversation a snapshot belongs to: the network and a key the bots
/// choose (e.g. the customer's folded account or nick).
public struct ConversationKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var network: String
    public var key: String

    public init(network: String, key: String) {
        self.network = network
        self.key = key
    }

    public static func < (lhs: ConversationKey, rhs: ConversationKey) -> Bool {
        (lhs.network, lhs.key) < (rhs.network, rhs.key)
    }

    public var description: String { "\(network)/\(key)" }
}

/// A half-finished conversation as the bots encoded it. The store keeps the
/// bytes as they are; ``formatVersion`` lets the bots read old encodings or
/// drop them.
public struct ConversationSnapshot: Sendable, Hashable {
    public var key: ConversationKey
    /// The version of the bots' encoding of ``state``.
    public var formatVersion: Int
    /// The bots' encoded state, opaque to the store.
    public var state: Data
    public var updatedAt: Date
    /// After this the conversation is abandoned: not loaded, and removed by
    /// ``ConversationStore/deleteExpiredConversations(at:)``.
    public var expiresAt: Date
    /// The chat messages whose step this snapshot ends: recorded as handled
    /// in the same transaction as the snapshot (``HandledMessage``). Written
    /// only; a snapshot read back has none.
    public var handledMessages: [HandledMessage]

    public init(key: ConversationKey, formatVersion: Int, state: Data, updatedAt: Date, expiresAt: Date,
                handledMessages: [HandledMessage] = []) {
        self.key = key
        self.formatVersion = formatVersion
        self.state = state
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.handledMessages = handledMessages
    }
}
