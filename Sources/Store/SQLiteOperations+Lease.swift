import Desk
import Foundation
import StoreCore

// The instance lease (issue 10; see `LeaseStore`) on SQLite. Each function
// runs inside the store thread's `BEGIN IMMEDIATE` transaction: SQLite's
// write lock is held from the first read of the lease row to the commit, so
// two processes on one file can never both see the lease free. Expiry is
// decided by the caller's `now` (there is no server clock; the instances
// sharing the file share the machine's clock). Page claims are shared
// (`StoreDatabase.claimPages`).
extension SQLiteConnection {
    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) throws -> LeaseGrant? {
        guard !name.isEmpty, !holder.isEmpty, ttl > 0 else {
            throw TicketStoreError.invalid("a lease needs a name, a holder and a positive TTL")
        }
        let expires = now.addingTimeInterval(ttl)
        guard let current = try lease(name) else {
            try run("""
                INSERT INTO leases (name, holder, token, acquired_at, expires_at, takeovers) VALUES (?, ?, 1, ?, ?, 0)
                """, [SQLiteValue(name), SQLiteValue(holder), SQLiteValue(now), SQLiteValue(expires)] as [SQLiteValue])
            return LeaseGrant(name: name, holder: holder, token: FencingToken(rawValue: 1), expiresAt: expires,
                              acquiredAt: now)
        }
        guard current.holder == holder || current.expiresAt <= now else { return nil }
        let takeovers = current.takeovers + (current.holder == holder ? 0 : 1)
        let token = FencingToken(rawValue: current.token.rawValue + 1)
        try run("""
            UPDATE leases SET holder = ?, token = ?, acquired_at = ?, expires_at = ?, takeovers = ? WHERE name = ?
            """, [SQLiteValue(holder), SQLiteValue(token.rawValue), SQLiteValue(now), SQLiteValue(expires),
                  SQLiteValue(takeovers), SQLiteValue(name)] as [SQLiteValue])
        return LeaseGrant(name: name, holder: holder, token: token, expiresAt: expires, acquiredAt: now,
                          takeovers: takeovers)
    }

    public func renewLease(_ name: String, token: FencingToken, ttl: TimeInterval, now: Date) throws -> LeaseGrant? {
        guard ttl > 0 else { throw TicketStoreError.invalid("a lease needs a positive TTL") }
        guard var current = try lease(name), current.token == token else { return nil }
        current.expiresAt = now.addingTimeInterval(ttl)
        try run("UPDATE leases SET expires_at = ? WHERE name = ? AND token = ?",
                [SQLiteValue(current.expiresAt), SQLiteValue(name), SQLiteValue(token.rawValue)] as [SQLiteValue])
        return current
    }

    public func releaseLease(_ name: String, token: FencingToken, now: Date) throws -> Bool {
        try run("UPDATE leases SET expires_at = MIN(expires_at, ?) WHERE name = ? AND token = ?",
                [SQLiteValue(now), SQLiteValue(name), SQLiteValue(token.rawValue)] as [SQLiteValue]) > 0
    }
}
