import FrameRing
import MediaTime
import Runtime
import Synchronization

/// Meters the raw audio ring of an instance on a thread of its own in rilld, beside the media path
/// (a reader of the ring never holds up its writer), and keeps the latest reading for the API.
public final class LevelMonitor: Sendable {
    /// The latest reading with the capture time of the last sample it includes.
    public struct Snapshot: Sendable {
        public var reading: LevelReading
        public var sampleRate: Int
        /// Capture time (CLOCK_MONOTONIC, ns) of the record that completed the reading's last block.
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
    private let latest = Mutex<Snapshot?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<StageThread?>(nil)

    /// A monitor of `instance`'s raw audio ring; `start()` runs it.
    public init(instance: String) {
        ringName = SharedRing.name(instance: instance, track: Track.rawAudio)
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

    /// Stops the thread and waits for it (≤ one read timeout).
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        let t = thread.withLock { t in
            defer { t = nil }
            return t
        }
        t?.join()
    }

    private var stopped: Bool { stopping.load(ordering: .relaxed) }

    private func run() {
        var announced = false
        while !stopped {
            guard let reader = try? RingReader(name: ringName, start: .newest) else {
                MonotonicClock.sleep(until: MonotonicClock.now() + 500 * MediaTime.millisecond)
                continue
            }
            if !announced {
                log.info("metering \(ringName)")
                announced = true
            }
            meter(reader)
        }
    }

    /// Meters until the writer has been gone for `reopenAfter`, restarts, or a stop.
    private func meter(_ reader: RingReader) {
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
            MonotonicClock.sleep(until: MonotonicClock.now() + Self.reopenAfter)
            return
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 16)
        defer { buffer.deallocate() }
        var goneSince: Int64? = nil
        while !stopped {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                goneSince = nil
                let frames = min(Int(info.aux0), info.length / (bytesPerSample * channels))
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
