import Synchronization

/// The page's login sessions, in memory only (a box restart logs everybody out, as a password
/// change or logout does). A session is a random 256-bit id in an `HttpOnly` cookie and a second
/// random 256-bit CSRF token the page sends in `X-CSRF-Token` on every request that changes
/// something (OWASP's synchronizer token pattern). Sessions expire after `idleSeconds` without a
/// request and after `lifetimeSeconds` in any case; the oldest goes when `capacity` are open.
/// Time is passed in (monotonic nanoseconds), so tests need no clock.
public final class SessionStore: Sendable {
    /// Idle time after which a session ends. The page polls status every second, so an open page
    /// never idles; a closed laptop does.
    public static let idleSeconds: Int64 = 3600
    /// Longest life of a session, however busy: a monitor wall logs in again twice a day.
    public static let lifetimeSeconds: Int64 = 12 * 3600
    /// Sessions kept at once (operators, monitor walls, phones); the oldest ends past this.
    public static let capacity = 64
    /// Bytes of randomness in a session id and in a CSRF token (hex: twice as many characters).
    public static let tokenBytes = 32

    /// One session: its CSRF token and when it expires.
    public struct Session: Sendable, Equatable {
        /// The cookie's value.
        public let id: String
        /// The token state-changing requests carry in `X-CSRF-Token`.
        public let csrf: String
        /// When it was made (monotonic ns).
        public let created: Int64
        /// The last request that used it (monotonic ns).
        public var lastUsed: Int64

        /// Seconds until it expires, from `now`.
        public func secondsLeft(now: Int64) -> Int64 {
            let idleEnd = lastUsed + SessionStore.idleSeconds * 1_000_000_000
            let lifeEnd = created + SessionStore.lifetimeSeconds * 1_000_000_000
            return max(0, (min(idleEnd, lifeEnd) - now) / 1_000_000_000)
        }
    }

    private let sessions = Mutex<[String: Session]>([:])

    /// An empty store.
    public init() {}

    /// Opens a session at `now`.
    public func open(now: Int64) -> Session {
        let s = Session(id: Self.randomToken(), csrf: Self.randomToken(), created: now, lastUsed: now)
        sessions.withLock { all in
            all = all.filter { $0.value.secondsLeft(now: now) > 0 }
            while all.count >= Self.capacity, let oldest = all.values.min(by: { $0.created < $1.created }) {
                all.removeValue(forKey: oldest.id)
            }
            all[s.id] = s
        }
        return s
    }

    /// The live session with cookie value `id` at `now` (marking it used), or nil: unknown,
    /// expired (then also forgotten) or malformed.
    public func session(_ id: String, now: Int64) -> Session? {
        guard id.utf8.count == 2 * Self.tokenBytes else { return nil }
        return sessions.withLock { all -> Session? in
            guard var s = all[id] else { return nil }
            guard s.secondsLeft(now: now) > 0 else {
                all.removeValue(forKey: id)
                return nil
            }
            s.lastUsed = now
            all[id] = s
            return s
        }
    }

    /// Ends the session `id` (logout).
    public func close(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    /// Ends every session (the admin password changed).
    public func closeAll() { sessions.withLock { $0.removeAll() } }

    /// Sessions open now (expired ones not yet swept included).
    public var count: Int { sessions.withLock { $0.count } }

    /// Compares two secrets in time independent of where they differ (a token check must not
    /// tell an attacker how many leading characters were right).
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// `tokenBytes` random bytes from the system's CSPRNG (getrandom), as lowercase hex.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(2 * tokenBytes)
        for _ in 0..<tokenBytes {
            let b = UInt8.random(in: 0...255, using: &g)
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
