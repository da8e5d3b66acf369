import Synchronization

/// Slows down password guessing (the page's login, HTTP Basic, the password change): per key — a
/// client address, or a browser that logged in before (its device cookie) — the first
/// `freeFailures` wrong passwords cost nothing; after that each further attempt must wait
/// 2^(n − free) seconds (at most `maximumDelaySeconds`) after the last failure, or is refused with
/// 429 and `Retry-After` without checking the password. An attempt is booked as a failure before
/// the password is checked (`begin`), so parallel guesses cannot all slip through, and a right
/// password clears the key. OWASP's authentication guidance: throttle per source, never lock the
/// account; device cookies keep an operator behind the same NAT as an attacker out of the
/// attacker's throttle.
public final class LoginThrottle: Sendable {
    /// Wrong passwords from one address before any delay (typos).
    public static let freeFailures = 5
    /// The longest wait between attempts.
    public static let maximumDelaySeconds: Int64 = 60
    /// Addresses remembered; the one that failed longest ago is forgotten past this.
    public static let capacity = 1024

    struct Record {
        var failures: Int
        var lastFailure: Int64
    }

    private let records = Mutex<[String: Record]>([:])

    /// An empty throttle.
    public init() {}

    /// Seconds `address` must still wait before its next attempt at `now` (0: go ahead).
    public func wait(_ address: String, now: Int64) -> Int64 {
        records.withLock { Self.wait($0[address], now: now) }
    }

    static func wait(_ record: Record?, now: Int64) -> Int64 {
        guard let r = record else { return 0 }
        let due = r.lastFailure + delay(failures: r.failures) * 1_000_000_000
        return due > now ? (due - now + 999_999_999) / 1_000_000_000 : 0
    }

    /// An attempt by `key` at `now`: the seconds it must still wait (refuse it), or 0 after booking
    /// it as a failure (a right password then calls `succeeded`).
    public func begin(_ key: String, now: Int64) -> Int64 {
        records.withLock { all -> Int64 in
            let w = Self.wait(all[key], now: now)
            if w == 0 { Self.book(&all, key, now: now) }
            return w
        }
    }

    /// `begin` for a request from `address` with device cookie `device` (see `key`): the key to
    /// pass to `succeeded` when the password is right, or the 429 to answer when it must wait.
    func admit(device: String?, address: String, now: Int64) throws(Problem) -> String {
        let key = key(device: device, address: address)
        let wait = begin(key, now: now)
        guard wait == 0 else { throw Self.refusal(wait) }
        return key
    }

    /// Wrong passwords in a row from `key`.
    public func failures(_ key: String) -> Int { records.withLock { $0[key]?.failures ?? 0 } }

    /// Browsers that logged in (device cookie values), newest last.
    private let devices = Mutex<[String]>([])
    /// Device cookies remembered (the oldest is forgotten past this).
    public static let deviceCapacity = 256

    /// A new device cookie value for a browser that just logged in.
    public func trustDevice() -> String {
        let id = SessionStore.randomToken()
        devices.withLock { d in
            d.append(id)
            if d.count > Self.deviceCapacity { d.removeFirst(d.count - Self.deviceCapacity) }
        }
        return id
    }

    /// The throttle key of a request: its device cookie if known, else its address.
    public func key(device: String?, address: String) -> String {
        if let device, device.utf8.count == 2 * SessionStore.tokenBytes,
            devices.withLock({ $0.contains(device) })
        {
            return "device:" + device
        }
        return "address:" + address
    }

    /// Records a wrong password from `address` at `now`; returns the failures in a row.
    @discardableResult
    public func failed(_ address: String, now: Int64) -> Int {
        records.withLock { Self.book(&$0, address, now: now) }
    }

    /// Counts a failure of `key` in `all` (forgetting the longest-quiet key when full).
    @discardableResult
    static func book(_ all: inout [String: Record], _ key: String, now: Int64) -> Int {
        var r = all[key] ?? Record(failures: 0, lastFailure: now)
        r.failures += 1
        r.lastFailure = now
        if all[key] == nil, all.count >= capacity,
            let oldest = all.min(by: { $0.value.lastFailure < $1.value.lastFailure })
        {
            all.removeValue(forKey: oldest.key)
        }
        all[key] = r
        return r.failures
    }

    /// A right password from `address`: its failures are forgotten.
    public func succeeded(_ address: String) { _ = records.withLock { $0.removeValue(forKey: address) } }

    /// The 429 for a client that must wait `seconds`, with `Retry-After`.
    static func refusal(_ seconds: Int64) -> Problem {
        var p = Problem(.tooManyRequests, "too many wrong passwords: try again in \(seconds) s")
        p.headers[.retryAfter] = "\(seconds)"
        return p
    }

    /// The wait after `failures` wrong passwords in a row.
    static func delay(failures: Int) -> Int64 {
        guard failures > freeFailures else { return 0 }
        let exponent = min(failures - freeFailures - 1, 6)  // 2^6 = 64 > the maximum already
        return min(Int64(1) << Int64(exponent), maximumDelaySeconds)
    }
}
