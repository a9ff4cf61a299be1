import Desk
import Foundation

// The instance lease and fenced page claims on PostgreSQL (issue 10; see
// `LeaseStore`). Expiry is decided by the **server's clock**
// (`clock_timestamp()`, the real time even inside a long transaction), so
// instances on machines with skewed clocks agree; the caller's `now` is not
// used. Times are seconds since 2001-01-01 UTC like every other column.
//
// Atomicity: an acquisition is one `INSERT … ON CONFLICT DO UPDATE … WHERE`
// on the lease row (PostgreSQL locks the row, and a racing insert of a new
// name waits for the first one and then sees its row), so two instances
// never both get it. A claim reads the lease row `FOR SHARE` and the pages
// `FOR UPDATE` in the store thread's write transaction: an acquisition
// (which updates the row) waits until the claim has committed, so every
// claim is ordered before or after a change of holder, never across it.
extension PostgresOperations {
    /// The server's time in the store's unit (seconds since 2001-01-01 UTC).
    static let serverNow = "(EXTRACT(EPOCH FROM clock_timestamp())::double precision - 978307200)"

    static let leaseColumns = "name, holder, token, acquired_at, expires_at, takeovers"

    static func readLease(_ row: PGRow) throws -> LeaseGrant {
        LeaseGrant(name: try row.text(0), holder: try row.text(1), token: FencingToken(rawValue: try row.int64(2)),
                   expiresAt: try row.date(4), acquiredAt: try row.date(3), takeovers: try row.int64(5))
    }

    static func lease(_ db: PGConnection, _ name: String) throws -> LeaseGrant? {
        try db.queryFirst("SELECT \(leaseColumns) FROM leases WHERE name = $1", [try .checked(name)], readLease)
    }

    static func acquireLease(_ db: PGConnection, _ name: String, holder: String, ttl: TimeInterval) throws
        -> LeaseGrant? {
        guard !name.isEmpty, !holder.isEmpty, ttl > 0 else {
            throw TicketStoreError.invalid("a lease needs a name, a holder and a positive TTL")
        }
        return try db.queryFirst("""
            WITH t AS (SELECT \(serverNow) AS now)
            INSERT INTO leases AS l (name, holder, token, acquired_at, expires_at, takeovers)
            SELECT $1, $2, 1, t.now, t.now + $3::double precision, 0 FROM t
            ON CONFLICT (name) DO UPDATE SET
                holder = EXCLUDED.holder, token = l.token + 1, acquired_at = EXCLUDED.acquired_at,
                expires_at = EXCLUDED.expires_at,
                takeovers = l.takeovers + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END
            WHERE l.holder = EXCLUDED.holder OR l.expires_at <= EXCLUDED.acquired_at
            RETURNING \(leaseColumns)
            """, [try .checked(name), try .checked(holder), PGValue.text(String(ttl))], readLease)
    }

    static func renewLease(_ db: PGConnection, _ name: String, token: FencingToken, ttl: TimeInterval) throws
        -> LeaseGrant? {
        guard ttl > 0 else { throw TicketStoreError.invalid("a lease needs a positive TTL") }
        return try db.queryFirst("""
            UPDATE leases SET expires_at = \(serverNow) + $3::double precision
            WHERE name = $1 AND token = $2
            RETURNING \(leaseColumns)
            """, [try .checked(name), PGValue(token.rawValue), PGValue.text(String(ttl))], readLease)
    }

    static func releaseLease(_ db: PGConnection, _ name: String, token: FencingToken) throws -> Bool {
        try db.run("UPDATE leases SET expires_at = LEAST(expires_at, \(serverNow)) WHERE name = $1 AND token = $2",
                   [try .checked(name), PGValue(token.rawValue)]).affected > 0
    }

    static func claimPages(_ db: PGConnection, _ ids: [PageID], lease name: String, token: FencingToken) throws
        -> [PageID: PageClaim] {
        let valid = try db.queryFirst("""
            SELECT token = $2 AND expires_at > \(serverNow) FROM leases WHERE name = $1 FOR SHARE
            """, [try .checked(name), PGValue(token.rawValue)]) { try $0.bool(0) } ?? false
        var claims: [PageID: PageClaim] = [:]
        for id in ids {
            guard let (sent, cancelled, claimedBy) = try db.queryFirst("""
                SELECT sent_at IS NOT NULL, cancelled_at IS NOT NULL, COALESCE(claimed_token, 0)
                FROM pages WHERE id = $1 FOR UPDATE
                """, [PGValue(id.rawValue)], { row in (try row.bool(0), try row.bool(1), try row.int64(2)) })
            else { throw TicketStoreError.pageNotFound(id) }
            if !valid || claimedBy > token.rawValue {
                claims[id] = .fenced
            } else if sent || cancelled {
                claims[id] = .notPending
            } else {
                claims[id] = .claimed
            }
        }
        guard valid else { return claims }
        for (id, claim) in claims where claim == .claimed {
            try db.run("UPDATE pages SET claimed_token = $1, claimed_at = \(serverNow) WHERE id = $2",
                       [PGValue(token.rawValue), PGValue(id.rawValue)])
        }
        return claims
    }
}
