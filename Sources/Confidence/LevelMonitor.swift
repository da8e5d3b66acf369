import FrameRing
import MediaTime
import Runtime
import Synchronization

/// Meters the raw audio ring of an instance on a thread of its own in rilld, beside the media path
/// (a reader of the ring never holds up its writer), and keeps the latest reading for the API.
/// `snapshot`, `start` and `stop` may be called from any thread.
public final class LevelMonitor: Sendable {
    /// The latest reading with the capture time of the last sample it includes.
    public struct Snapshot: Sendable {
        /// The meters after the last complete 100 ms block.
        public var reading: LevelReading
        /// The ring's sample rate, Hz.
        public var sampleRate: Int
        /// Capture time (CLOCK_MONOTONIC, ns) of the first sample of the record that completed the
        /// reading's last block.
        public var captureTime: Int64
        /// When the reading was made (CLOCK_MONOTONIC, ns).
        public var madeAt: Int64
    }

    /// A reading older than this is no reading: the source stopped (or the monitor fell behind).
    public static let staleAfter: Int64 = MediaTime.nanosecondsPerSecond
    /// How long a writer may be gone before the ring is opened afresh (a new format, a new source).
    static let reopenAfter: Int64 = 2 * MediaTime.nanosecondsPerSecond

    let ringName: String
    let log = Log(stage: "levels")
    let settings: @Sendable () -> AudioAlarms.Settings
    let alarm: @Sendable (AudioAlarms.Change) -> Void
    private let latest = Mutex<Snapshot?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<StageThread?>(nil)

    /// A monitor of `instance`'s raw audio ring; `start()` runs it. Each reading is checked
    /// against the thresholds `settings` gives at that moment (a config change applies at once),
    /// and every alarm change goes to `alarm`.
    public init(
        instance: String, settings: @escaping @Sendable () -> AudioAlarms.Settings,
        alarm: @escaping @Sendable (AudioAlarms.Change) -> Void
    ) {
        ringName = SharedRing.name(instance: instance, track: Track.rawAudio)
        self.settings = settings
        self.alarm = alarm
    }

    /// The latest reading, or nil when there is none younger than `staleAfter`.
    public var snapshot: Snapshot? {
        latest.withLock { s in
            guard let s, MonotonicClock.now() - s.madeAt <= Self.staleAfter else { return nil }
            return s
        }
    }

    /// Starts the metering thread.
    public func start() {
        thread.withLock { t in
            guard t == nil else { return }
            t = StageThread(name: "levels") { [self] in run() }
        }
    }

    /// Stops the thread and waits for it (≤ 100 ms: every wait of the thread is sliced that fine).
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        let t = thread.withLock { t in
            defer { t = nil }
            return t
        }
        t?.join()
    }

    private var stopped: Bool { stopping.load(ordering: .relaxed) }

    /// Sleeps `ns` in slices of 100 ms or less, returning early on a stop.
    private func pause(_ ns: Int64) {
        let end = MonotonicClock.now() + ns
        while !stopped, MonotonicClock.now() < end {
            MonotonicClock.sleep(until: min(end, MonotonicClock.now() + 100 * MediaTime.millisecond))
        }
    }

    private func run() {
        var announced = false
        var alarms = AudioAlarms()  // kept across reopenings: a source restart is no new silence
        while !stopped {
            guard let reader = try? RingReader(name: ringName, start: .newest) else {
                pause(500 * MediaTime.millisecond)
                continue
            }
            if !announced {
                log.info("metering \(ringName)")
                announced = true
            }
            meter(reader, alarms: &alarms)
        }
    }

    /// Meters until the writer has been gone for `reopenAfter`, restarts, or a stop.
    private func meter(_ reader: RingReader, alarms: inout AudioAlarms) {
        var format = reader.ring.format
        while format.sampleRate == 0 && !stopped {
            MonotonicClock.sleep(until: MonotonicClock.now() + 50 * MediaTime.millisecond)
            format = reader.ring.format
        }
        let channels = Int(format.channels)
        let bytesPerSample = format.codec == .pcmS32 ? 4 : 2
        guard format.codec == .pcmS16 || format.codec == .pcmS32,
            var meter = LoudnessMeter(channels: channels, sampleRate: Int(format.sampleRate))
        else {
            log.warning("\(ringName): \(format.codec) \(format.sampleRate) Hz \(channels) ch cannot be metered")
            pause(Self.reopenAfter)
            return
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 16)
        defer { buffer.deallocate() }
        var goneSince: Int64? = nil
        while !stopped {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                goneSince = nil
                // aux0 is the writer's frame count; compared as UInt32 so a corrupt one cannot trap.
                let frames = Int(min(info.aux0, UInt32(info.length / (bytesPerSample * channels))))
                let done: Bool
                if bytesPerSample == 4 {
                    let s = buffer.baseAddress!.assumingMemoryBound(to: Int32.self)
                    done = meter.feed(frames: frames) { f, c in Double(s[f * channels + c]) / 2_147_483_648 }
                } else {
                    let s = buffer.baseAddress!.assumingMemoryBound(to: Int16.self)
                    done = meter.feed(frames: frames) { f, c in Double(s[f * channels + c]) / 32_768 }
                }
                if done {
                    let snapshot = Snapshot(
                        reading: meter.reading, sampleRate: Int(format.sampleRate), captureTime: info.captureTime,
                        madeAt: MonotonicClock.now())
                    latest.withLock { $0 = snapshot }
                    for change in alarms.update(snapshot.reading, settings: settings()) { alarm(change) }
                }
            case .writerGone:
                let now = MonotonicClock.now()
                goneSince = goneSince ?? now
                if now - goneSince! >= Self.reopenAfter { return }
            case .writerRestarted:
                return  // the format may have changed: open afresh
            case .lost, .timeout:
                if let g = goneSince, MonotonicClock.now() - g >= Self.reopenAfter { return }
            }
        }
    }
}
