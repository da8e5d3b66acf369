import Synchronization

/// The page's login sessions; logout and a password change end them. A session is a random
/// 256-bit id in an `HttpOnly` cookie and a second random 256-bit CSRF token the page sends in `X-CSRF-Token` on every request that changes
/// something (OWASP's synchronizer token pattern). Sessions expire after `idleSeconds` without a
/// request and after `lifetimeSeconds` in any case; the oldest goes when `capacity` are open.
/// Time is passed in (monotonic nanoseconds), so tests need no clock. rilld keeps them in a file
/// (`SessionFile`) so that a restart of the box does not log out the page on a monitor wall.
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
        /// A session as saved (`restore` takes it back).
        public init(id: String, csrf: String, created: Int64, lastUsed: Int64) {
            self.id = id
            self.csrf = csrf
            self.created = created
            self.lastUsed = lastUsed
        }

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
    /// Called after every open and close with the sessions then open, under the store's lock so
    /// calls come in order (rilld saves them, so a restart of the box does not log the page out).
    private let changed: (@Sendable ([Session]) -> Void)?

    /// An empty store; `changed` hears of every change.
    public init(changed: (@Sendable ([Session]) -> Void)? = nil) { self.changed = changed }

    /// Takes back `saved` sessions (a restarted box), each as if used `now`; expired ones and ones
    /// from the future (another boot's clock) are dropped.
    public func restore(_ saved: [Session], now: Int64) {
        let kept = saved.filter {
            $0.created <= now && $0.id.utf8.count == 2 * Self.tokenBytes && $0.csrf.utf8.count == 2 * Self.tokenBytes
        }.map {
            Session(id: $0.id, csrf: $0.csrf, created: $0.created, lastUsed: now)
        }.filter { $0.secondsLeft(now: now) > 0 }
        sessions.withLock { all in
            for s in kept.suffix(Self.capacity) { all[s.id] = s }
        }
    }

    /// Opens a session at `now`.
    public func open(now: Int64) -> Session {
        let s = Session(id: Self.randomToken(), csrf: Self.randomToken(), created: now, lastUsed: now)
        sessions.withLock { all in
            all = all.filter { $0.value.secondsLeft(now: now) > 0 }
            while all.count >= Self.capacity, let oldest = all.values.min(by: { $0.created < $1.created }) {
                all.removeValue(forKey: oldest.id)
            }
            all[s.id] = s
            changed?(Array(all.values))
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
    public func close(_ id: String) {
        sessions.withLock { all in
            guard all.removeValue(forKey: id) != nil else { return }
            changed?(Array(all.values))
        }
    }

    /// Ends every session (the admin password changed).
    public func closeAll() {
        sessions.withLock { all in
            all.removeAll()
            changed?(all.map(\.value))
        }
    }

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

    /// `tokenBytes` random bytes from the system's CSPRNG, as lowercase hex.
    static func randomToken() -> String { RandomHex.make(bytes: tokenBytes) }
}
