import Core
import Foundation
import Synchronization

/// Who may use the HTTP endpoint. Without a token (the default) it is
/// bound to loopback only and everyone there may read it. With a token
/// (`http.auth: { token: { env: "…" } }`) it may listen on any address and
/// every request but `/login`, `/static/…` needs either `Authorization:
/// Bearer <token>` or the session cookie the login form sets (`HttpOnly`,
/// `SameSite=Strict`; the cookie holds a random session id, never the
/// token). Tokens are compared in constant time.
///
/// Sessions live in this process (12 hours, at most 256; the oldest goes
/// first): after a restart or on another instance, log in again.
public final class HTTPAccess: Sendable {
    /// The session cookie's name.
    public static let cookieName = "switchboard_session"
    static let sessionLifetime: TimeInterval = 12 * 3600
    static let maxSessions = 256

    private let token: [UInt8]?
    private let clock: any WallClock
    private let sessions = Mutex<[String: Date]>([:])

    /// `token` nil or empty: no token needed (loopback only).
    public init(token: String?, clock: any WallClock = SystemClock()) {
        self.token = token.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.clock = clock
    }

    /// Whether requests need the token.
    public var requiresToken: Bool { token != nil }

    /// Whether `request` may be answered: always without a token; with one,
    /// when it carries the right bearer token or a live session cookie.
    public func authorizes(_ request: HTTPRequest) -> Bool {
        guard let token else { return true }
        if let authorization = request.header("Authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].caseInsensitiveCompare("Bearer") == .orderedSame {
                return Self.constantTimeEquals(Array(parts[1].trimmingCharacters(in: .whitespaces).utf8), token)
            }
            return false
        }
        guard let session = Self.cookie(Self.cookieName, in: request) else { return false }
        let now = clock.date
        return sessions.withLock { table in
            guard let expiry = table[session] else { return false }
            if expiry <= now {
                table[session] = nil
                return false
            }
            return true
        }
    }

    /// Checks a token typed into the login form; on success returns the
    /// `Set-Cookie` value of a new session.
    public func logIn(with attempt: String) -> String? {
        guard let token, Self.constantTimeEquals(Array(attempt.utf8), token) else { return nil }
        var random = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(format: "%016llx", random.next() as UInt64) }.joined()
        let now = clock.date
        sessions.withLock { table in
            table = table.filter { $0.value > now }
            while table.count >= Self.maxSessions, let oldest = table.min(by: { $0.value < $1.value }) {
                table[oldest.key] = nil
            }
            table[id] = now.addingTimeInterval(Self.sessionLifetime)
        }
        return "\(Self.cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(Self.sessionLifetime))"
    }

    /// Compares in time that depends only on the lengths, not on where
    /// the first difference is.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        let count = max(a.count, b.count)
        for index in 0..<count {
            let x = index < a.count ? a[index] : 0, y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }

    /// The value of cookie `name` (RFC 6265 section 5.4 `Cookie` header).
    static func cookie(_ name: String, in request: HTTPRequest) -> String? {
        for header in request.headers where header.name.caseInsensitiveCompare("Cookie") == .orderedSame {
            for pair in header.value.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// The value of `name` in an `application/x-www-form-urlencoded` body
    /// (`+` is a space, `%XX` a byte).
    static func formValue(_ name: String, in body: [UInt8]) -> String? {
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
