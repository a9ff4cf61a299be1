import Desk
import Foundation

// PIN checks reserved before they run (issue 14) and conversation snapshots
// (issue 8 item 4). Like the rest of `SQLiteOperations`, the writing
// functions run inside the store thread's `BEGIN IMMEDIATE` transaction, so
// what they read and what they write is one atomic step, also against other
// processes on the same file.
extension SQLiteOperations {
    // MARK: PIN checks

    /// The column value an identity is counted by: the account on the
    /// network when there is one, else the nick among identities without an
    /// account (a nick never matches a logged-in sender). ASCII
    /// case-insensitive; the network is length-prefixed so no network name
    /// can make two identities collide.
    static func identityKey(_ identity: ChatIdentity) -> String {
        let network = "\(identity.network.utf8.count):\(identity.network)"
        if let account = identity.account { return network + "|a|" + asciiLowercased(account) }
        return network + "|n|" + asciiLowercased(identity.nick)
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Wrong, or never finished: what counts against a budget.
    private static let countsAsWrong: SQL = "(outcome IS NULL OR outcome = 'wrong')"

    static func reservePINCheck(
        _ db: SQLiteConnection, customerNumber: String, identity: ChatIdentity, at now: Date, policy: PINAttemptPolicy
    ) throws -> PINReservation {
        let since = SQLiteValue(now.addingTimeInterval(-policy.window))
        let identityKey = identityKey(identity)
        let number = try db.queryFirst("SELECT COUNT(*), MAX(reserved_at) FROM pin_checks "
            + "WHERE customer_number = ?1 AND reserved_at > ?2 AND " + countsAsWrong,
            [SQLiteValue(customerNumber), since]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let sender = try db.queryFirst("SELECT COUNT(*), MIN(reserved_at) FROM pin_checks "
            + "WHERE identity_key = ?1 AND reserved_at > ?2 AND " + countsAsWrong,
            [SQLiteValue(identityKey), since]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let global = try db.queryFirst("SELECT COUNT(*), MIN(reserved_at) FROM pin_checks WHERE reserved_at > ?1",
            [SQLiteValue(now.addingTimeInterval(-1))]) { (try $0.int(0), try $0.optionalDate(1)) } ?? (0, nil)
        let budget = PINBudgetState(numberWrong: number.0, numberLastCheck: number.1, identityWrong: sender.0,
                                    identityOldestWrong: sender.1, globalChecksLastSecond: global.0,
                                    globalOldestLastSecond: global.1)
        switch policy.decide(budget, now: now) {
        case .refuse(let refusal):
            return .refused(refusal)
        case .allow:
            try db.run("""
                INSERT INTO pin_checks (customer_number, network, nick, account, identity_key, reserved_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [SQLiteValue(customerNumber), SQLiteValue(identity.network), SQLiteValue(identity.nick),
                      SQLiteValue(identity.account), SQLiteValue(identityKey), SQLiteValue(now)])
            return .reserved(PINReservationID(rawValue: db.lastInsertRowID))
        }
    }

    static func finishPINCheck(_ db: SQLiteConnection, _ id: PINReservationID, outcome: PINCheckOutcome,
                               at: Date) throws {
        let changed = try db.run(
            "UPDATE pin_checks SET outcome = ?, finished_at = ? WHERE id = ? AND outcome IS NULL",
            [SQLiteValue(outcome.rawValue), SQLiteValue(at), SQLiteValue(id.rawValue)])
        if changed == 0 {
            let exists = try db.queryFirst("SELECT 1 FROM pin_checks WHERE id = ?", [SQLiteValue(id.rawValue)]) {
                _ in true
            }
            if exists != true { throw TicketStoreError.invalid("\(id) was never reserved") }
        }
    }

    static func pinAttackState(_ db: SQLiteConnection, customerNumber: String, at now: Date,
                               policy: PINAttemptPolicy) throws -> PINAttackState {
        let row = try db.queryFirst("SELECT COUNT(*), COUNT(DISTINCT identity_key), MAX(reserved_at) FROM pin_checks "
            + "WHERE customer_number = ?1 AND reserved_at > ?2 AND " + countsAsWrong,
            [SQLiteValue(customerNumber), SQLiteValue(now.addingTimeInterval(-policy.window))]) {
            (try $0.int(0), try $0.int(1), try $0.optionalDate(2))
        } ?? (0, 0, nil)
        let lockedUntil = policy.numberLockedUntil(wrong: row.0, lastCheck: row.2).flatMap { $0 > now ? $0 : nil }
        return PINAttackState(wrongInWindow: row.0, distinctIdentities: row.1, lockedUntil: lockedUntil)
    }

    // MARK: Conversation snapshots

    static func saveConversation(_ db: SQLiteConnection, _ snapshot: ConversationSnapshot) throws {
        guard snapshot.expiresAt > snapshot.updatedAt else {
            throw TicketStoreError.invalid("conversation \(snapshot.key) expires (\(snapshot.expiresAt)) "
                + "before it was updated (\(snapshot.updatedAt))")
        }
        try db.run("""
            INSERT INTO conversations (network, key, format_version, state, updated_at, expires_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT (network, key) DO UPDATE SET format_version = ?3, state = ?4, updated_at = ?5,
                expires_at = ?6
            """, [SQLiteValue(snapshot.key.network), SQLiteValue(snapshot.key.key),
                  SQLiteValue(snapshot.formatVersion), .blob([UInt8](snapshot.state)),
                  SQLiteValue(snapshot.updatedAt), SQLiteValue(snapshot.expiresAt)])
    }

    static func conversations(_ db: SQLiteConnection, unexpiredAt instant: Date) throws -> [ConversationSnapshot] {
        try db.query("""
            SELECT network, key, format_version, state, updated_at, expires_at FROM conversations
            WHERE expires_at > ? ORDER BY network, key
            """, [SQLiteValue(instant)]) { row in
            ConversationSnapshot(key: ConversationKey(network: try row.text(0), key: try row.text(1)),
                                 formatVersion: try row.int(2), state: Data(try row.blob(3)),
                                 updatedAt: try row.date(4), expiresAt: try row.date(5))
        }
    }

    static func deleteConversation(_ db: SQLiteConnection, _ key: ConversationKey) throws -> Bool {
        try db.run("DELETE FROM conversations WHERE network = ? AND key = ?",
                   [SQLiteValue(key.network), SQLiteValue(key.key)]) > 0
    }

    static func deleteExpiredConversations(_ db: SQLiteConnection, at instant: Date) throws -> Int {
        try db.run("DELETE FROM conversations WHERE expires_at <= ?", [SQLiteValue(instant)])
    }
}
