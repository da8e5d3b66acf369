import CRillShims

/// Real-time scheduling for the threads that keep time (capture, mux, paced send): SCHED_FIFO so
/// that a busy encoder never delays a packet. Encoders stay at normal priority. Best effort: without
/// CAP_SYS_NICE or an RLIMIT_RTPRIO the thread keeps normal scheduling, and the caller logs it.
public enum RealtimePriority {
    /// Paced senders: the wire's clock.
    public static let sender: Int32 = 30
    /// The mux and its ring readers.
    public static let mux: Int32 = 20
    /// Capture (and the test source).
    public static let capture: Int32 = 20

    /// Makes the calling thread SCHED_FIFO at `priority`; returns false when not permitted.
    @discardableResult
    public static func apply(_ priority: Int32, log: Log?) -> Bool {
        let rc = rill_set_realtime(priority)
        if rc != 0 {
            log?.notice("real-time scheduling not permitted (error \(rc)); timing will suffer under CPU load")
            return false
        }
        return true
    }
}
