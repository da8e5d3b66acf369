import CRillShims

/// The rings of one box instance and their geometry. One definition so every stage agrees.
public enum Track {
    /// Raw video from the source (capture daemon or test source).
    public static let rawVideo = "video.raw"
    /// Raw audio, interleaved PCM.
    public static let rawAudio = "audio.raw"
    /// Coded video access units.
    public static let codedVideo = "video.coded"
    /// Coded audio frames.
    public static let codedAudio = "audio.coded"
    /// The muxed transport stream, 7-packet chunks with send deadlines.
    public static let transportStream = "ts"

    /// Slots of the raw video ring (any source): 8 frames of slack for the encoder (160 ms at 50 fps).
    public static let rawVideoSlots: UInt32 = 8
    /// Slots of the raw audio ring (any source): 256 records ≈ 2.5 s of 10 ms periods.
    public static let rawAudioSlots: UInt32 = 256

    /// Slots of the TS ring: 4096 chunks ≈ 7 s at 6 Mb/s, enough for any output to catch up.
    public static let tsSlots: UInt32 = 4096
    /// One TS chunk: 7 × 188 bytes.
    public static let tsSlotBytes: UInt32 = 1316
}

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
