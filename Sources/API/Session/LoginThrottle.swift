import Synchronization

/// Slows down password guessing at the login: per client address, the first `freeFailures`
/// wrong passwords cost nothing; after that each further attempt must wait 2^(n − free) seconds
/// (at most `maximumDelaySeconds`) after the last failure, or is refused with 429 and
/// `Retry-After` without checking the password. A right password clears the address. OWASP's
/// authentication guidance: throttle per source, do not lock the account (an attacker must not be
/// able to lock the operator out).
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
        records.withLock { all in
            guard let r = all[address] else { return 0 }
            let due = r.lastFailure + Self.delay(failures: r.failures) * 1_000_000_000
            return due > now ? (due - now + 999_999_999) / 1_000_000_000 : 0
        }
    }

    /// Records a wrong password from `address` at `now`; returns the failures in a row.
    @discardableResult
    public func failed(_ address: String, now: Int64) -> Int {
        records.withLock { all in
            var r = all[address] ?? Record(failures: 0, lastFailure: now)
            r.failures += 1
            r.lastFailure = now
            if all[address] == nil, all.count >= Self.capacity,
                let oldest = all.min(by: { $0.value.lastFailure < $1.value.lastFailure })
            {
                all.removeValue(forKey: oldest.key)
            }
            all[address] = r
            return r.failures
        }
    }

    /// A right password from `address`: its failures are forgotten.
    public func succeeded(_ address: String) { _ = records.withLock { $0.removeValue(forKey: address) } }

    /// The wait after `failures` wrong passwords in a row.
    static func delay(failures: Int) -> Int64 {
        guard failures > freeFailures else { return 0 }
        let exponent = min(failures - freeFailures - 1, 6)  // 2^6 = 64 > the maximum already
        return min(Int64(1) << Int64(exponent), maximumDelaySeconds)
    }
}
