import MediaTime

/// The supervisor's rules for one stage, as a value with no clock and no process of its own: every
/// call is given the monotonic time (ns), so the rules are tested with made-up clocks.
///
/// - A stage that exits is restarted after a backoff that starts at 0.25 s and doubles up to 8 s.
/// - A run of at least 30 s counts as good: the backoff and the failure count start over.
/// - After `maxFailures` short runs in a row the supervisor gives up ("failed" in the status)
///   until the config changes, the output is started through the API, or the box restarts.
/// - A stage whose ring heartbeat is older than 3 s (after a 5 s start-up grace) is hung and is
///   killed, then restarted like a crashed one.
///
/// Only the supervisor's loop thread mutates a policy.
public struct RestartPolicy: Sendable, Equatable {
    /// First restart delay, ns.
    public static let initialBackoff: Int64 = 250 * MediaTime.millisecond
    /// Largest restart delay, ns.
    public static let maxBackoff: Int64 = 8 * MediaTime.nanosecondsPerSecond
    /// A run at least this long (ns) resets the backoff and the failure count.
    public static let stableAfter: Int64 = 30 * MediaTime.nanosecondsPerSecond
    /// Short runs in a row before the supervisor stops trying.
    public static let maxFailures = 10
    /// A ring writer silent longer than this (ns) is hung.
    public static let heartbeatTimeout: Int64 = 3 * MediaTime.nanosecondsPerSecond
    /// Heartbeats are not judged during a stage's first seconds (encoder start-up), ns.
    public static let heartbeatGrace: Int64 = 5 * MediaTime.nanosecondsPerSecond

    /// What to do after a stage ended or could not start.
    public enum Decision: Sendable, Equatable {
        /// Start it again at monotonic time `at` (ns), `delay` ns from now.
        case restart(at: Int64, delay: Int64)
        /// Stop trying (`maxFailures` short runs in a row).
        case giveUp
    }

    /// The delay (ns) the next failure will wait.
    public private(set) var backoff: Int64 = Self.initialBackoff
    /// Short runs in a row so far.
    public private(set) var failuresInARow = 0

    /// A fresh policy (no failure yet).
    public init() {}

    /// A run that started at `startedAt` ended at `now` (both monotonic ns).
    public mutating func exited(startedAt: Int64, now: Int64) -> Decision {
        if now - startedAt >= Self.stableAfter { reset() }
        return failed(now: now)
    }

    /// A start that failed at `now` (spawn error), or a short run: counts one failure.
    public mutating func failed(now: Int64) -> Decision {
        failuresInARow += 1
        if failuresInARow >= Self.maxFailures { return .giveUp }
        let delay = backoff
        backoff = min(backoff * 2, Self.maxBackoff)
        return .restart(at: now + delay, delay: delay)
    }

    /// Forgets past failures (config change, start through the API, a good run).
    public mutating func reset() {
        backoff = Self.initialBackoff
        failuresInARow = 0
    }

    /// Whether a stage started at `startedAt` whose ring writer last beat at `lastHeartbeat` is
    /// hung at `now` (all monotonic ns).
    public static func isHung(now: Int64, startedAt: Int64, lastHeartbeat: Int64) -> Bool {
        now - startedAt > heartbeatGrace && now - lastHeartbeat > heartbeatTimeout
    }
}
