import CRillShims

/// Reads CLOCK_MONOTONIC: the one clock of the box (DESIGN.md, principle 3).
public enum MonotonicClock {
    /// Now, in ns of CLOCK_MONOTONIC.
    @inline(__always)
    public static func now() -> Int64 { rill_monotonic_ns() }
    /// Wall clock (CLOCK_REALTIME) in ns, for file names and burnt-in time of day only.
    public static func wallNow() -> Int64 { rill_realtime_ns() }
    /// Sleeps until `deadline` (CLOCK_MONOTONIC ns, absolute).
    public static func sleep(until deadline: Int64) { _ = rill_sleep_until(deadline, nil) }
}
