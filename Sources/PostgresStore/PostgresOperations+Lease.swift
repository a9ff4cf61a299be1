import Desk
import Foundation
import StoreCore

// The instance lease on PostgreSQL (issue 10; see `LeaseStore`). Expiry is
// decided by the **server's clock** (`clock_timestamp()`, the real time even
// inside a long transaction), so instances on machines with skewed clocks
// agree; the caller's `now` is not used. Times are seconds since 2001-01-01
// UTC like every other column.
//
// Atomicity: an acquisition is one `INSERT … ON CONFLICT DO UPDATE … WHERE`
// on the lease row (PostgreSQL locks the row, and a racing insert of a new
// name waits for the first one and then sees its row), so two instances
// never both get it. A claim (shared, `StoreDatabase.claimPages`) reads the
// lease row `FOR SHARE` and the pages `FOR UPDATE` in the store thread's
// write transaction: an acquisition (which updates the row) waits until the
// claim has committed, so every claim is ordered before or after a change of
// holder, never across it.
extension PGConnection {
    /// The server's time in the store's unit (seconds since 2001-01-01 UTC).
    /// `date_part` computes the epoch in `double precision` directly (exact:
    /// the microseconds fit a double, and one division rounds correctly);
    /// `EXTRACT` goes through `numeric` since PostgreSQL 14, ~4,500 backend
    /// instructions per use, twice in a creation that claims its pages.
    static let serverNow = "(date_part('epoch', clock_timestamp()) - 978307200)"

    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now _: Date) throws -> LeaseGrant? {
        guard !name.isEmpty, !holder.isEmpty, ttl > 0 else {
            throw TicketStoreError.invalid("a lease needs a name, a holder and a positive TTL")
        }
        return try queryFirst("""
            WITH t AS (SELECT \(Self.serverNow) AS now)
            INSERT INTO leases AS l (name, holder, token, acquired_at, expires_at, takeovers)
            SELECT $1, $2, 1, t.now, t.now + $3::double precision, 0 FROM t
            ON CONFLICT (name) DO UPDATE SET
                holder = EXCLUDED.holder, token = l.token + 1, acquired_at = EXCLUDED.acquired_at,
                expires_at = EXCLUDED.expires_at,
                takeovers = l.takeovers + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END
            WHERE l.holder = EXCLUDED.holder OR l.expires_at <= EXCLUDED.acquired_at
            RETURNING \(StoreRows.leaseColumnList)
            """, [try .checked(name), try .checked(holder), PGValue.text(String(ttl))], StoreRows.lease)
    }

    public func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now _: Date) throws -> LeaseGrant? {
        guard ttl > 0 else { throw TicketStoreError.invalid("a lease needs a positive TTL") }
        return try queryFirst("""
            UPDATE leases SET expires_at = \(Self.serverNow) + $3::double precision
            WHERE name = $1 AND token = $2
            RETURNING \(StoreRows.leaseColumnList)
            """, [try .checked(name), PGValue(token.rawValue), PGValue.text(String(ttl))], StoreRows.lease)
    }

    public func releaseLease(_ name: String, token: FencingToken, now _: Date) throws -> Bool {
        try run("UPDATE leases SET expires_at = LEAST(expires_at, \(Self.serverNow)) WHERE name = $1 AND token = $2",
                [try .checked(name), PGValue(token.rawValue)] as [PGValue]).affected > 0
    }
}
