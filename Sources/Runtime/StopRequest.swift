import CRillShims

/// The process-wide stop request (SIGTERM/SIGINT), async-signal-safe.
public enum StopRequest {
    /// Installs the handlers (once, at start of a stage).
    public static func install() { rill_install_stop_handler() }
    /// Whether a stop was requested.
    public static var isRequested: Bool { rill_stop_is_requested() != 0 }
    /// Requests a stop from code (tests, fatal errors).
    public static func request() { rill_request_stop() }

    /// Sleeps `ns` (a reconnect backoff) in 50 ms steps, returning early on a stop request;
    /// `tick` runs at each step (e.g. a ring writer's heartbeat).
    public static func sleep(_ ns: Int64, tick: () -> Void = {}) {
        let end = MonotonicClock.now() + ns
        while !isRequested && MonotonicClock.now() < end {
            tick()
            MonotonicClock.sleep(until: min(end, MonotonicClock.now() + 50_000_000))
        }
    }
}
