import Desk
import Foundation

// The instance lease and fenced page claims (issue 10; see `LeaseStore`).
// Each function runs inside the store thread's `BEGIN IMMEDIATE`
// transaction: SQLite's write lock is held from the first read of the lease
// row to the commit, so two processes on one file can never both see the
// lease free, and a claim's lease check and its page writes are one step.
// Expiry is decided by the caller's `now` (there is no server clock; the
// instances sharing the file share the machine's clock).
extension SQLiteOperations {
    static func readLease(_ db: SQLiteConnection, _ name: String) throws -> LeaseGrant? {
        try db.queryFirst("""
            SELECT name, holder, token, acquired_at, expires_at, takeovers FROM leases WHERE name = ?
            """, [SQLiteValue(name)]) { row in
            LeaseGrant(name: try row.text(0), holder: try row.text(1), token: FencingToken(rawValue: try row.int64(2)),
                       expiresAt: try row.date(4), acquiredAt: try row.date(3), takeovers: try row.int64(5))
        }
    }

    static func acquireLease(_ db: SQLiteConnection, _ name: String, holder: String, ttl: TimeInterval, now: Date)
        throws -> LeaseGrant? {
        guard !name.isEmpty, !holder.isEmpty, ttl > 0 else {
            throw TicketStoreError.invalid("a lease needs a name, a holder and a positive TTL")
        }
        let expires = now.addingTimeInterval(ttl)
        guard let current = try readLease(db, name) else {
            try db.run("""
                INSERT INTO leases (name, holder, token, acquired_at, expires_at, takeovers) VALUES (?, ?, 1, ?, ?, 0)
                """, [SQLiteValue(name), SQLiteValue(holder), SQLiteValue(now), SQLiteValue(expires)])
            return LeaseGrant(name: name, holder: holder, token: FencingToken(rawValue: 1), expiresAt: expires,
                              acquiredAt: now)
        }
        guard current.holder == holder || current.expiresAt <= now else { return nil }
        let takeovers = current.takeovers + (current.holder == holder ? 0 : 1)
        let token = FencingToken(rawValue: current.token.rawValue + 1)
        try db.run("""
            UPDATE leases SET holder = ?, token = ?, acquired_at = ?, expires_at = ?, takeovers = ? WHERE name = ?
            """, [SQLiteValue(holder), SQLiteValue(token.rawValue), SQLiteValue(now), SQLiteValue(expires),
                  SQLiteValue(takeovers), SQLiteValue(name)])
        return LeaseGrant(name: name, holder: holder, token: token, expiresAt: expires, acquiredAt: now,
                          takeovers: takeovers)
    }

    static func renewLease(_ db: SQLiteConnection, _ name: String, token: FencingToken, ttl: TimeInterval, now: Date)
        throws -> LeaseGrant? {
        guard ttl > 0 else { throw TicketStoreError.invalid("a lease needs a positive TTL") }
        guard var current = try readLease(db, name), current.token == token else { return nil }
        current.expiresAt = now.addingTimeInterval(ttl)
        try db.run("UPDATE leases SET expires_at = ? WHERE name = ? AND token = ?",
                   [SQLiteValue(current.expiresAt), SQLiteValue(name), SQLiteValue(token.rawValue)])
        return current
    }

    static func releaseLease(_ db: SQLiteConnection, _ name: String, token: FencingToken, now: Date) throws -> Bool {
        try db.run("UPDATE leases SET expires_at = MIN(expires_at, ?) WHERE name = ? AND token = ?",
                   [SQLiteValue(now), SQLiteValue(name), SQLiteValue(token.rawValue)]) > 0
    }

    static func claimPages(_ db: SQLiteConnection, _ ids: [PageID], lease name: String, token: FencingToken,
                           now: Date) throws -> [PageID: PageClaim] {
        var claims: [PageID: PageClaim] = [:]
        let lease = try readLease(db, name)
        let valid = lease.map { $0.token == token && $0.expiresAt > now } ?? false
        for id in ids {
            guard let (sent, cancelled, claimedBy) = try db.queryFirst(
                "SELECT sent_at IS NOT NULL, cancelled_at IS NOT NULL, claimed_token FROM pages WHERE id = ?",
                [SQLiteValue(id.rawValue)], { row in (try row.int64(0) != 0, try row.int64(1) != 0, try row.optionalInt64(2)) })
            else { throw TicketStoreError.pageNotFound(id) }
            if !valid || (claimedBy ?? 0) > token.rawValue {
                claims[id] = .fenced
            } else if sent || cancelled {
                claims[id] = .notPending
            } else {
                claims[id] = .claimed
            }
        }
        guard valid, claims.values.contains(.claimed) else { return claims }
        for (id, claim) in claims where claim == .claimed {
            try db.run("UPDATE pages SET claimed_token = ?, claimed_at = ? WHERE id = ?",
                       [SQLiteValue(token.rawValue), SQLiteValue(now), SQLiteValue(id.rawValue)])
        }
        return claims
    }
}
