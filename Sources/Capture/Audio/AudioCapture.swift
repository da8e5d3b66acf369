import Config
import FrameRing
import MediaTime
import Runtime

/// acap: an ALSA capture PCM into the raw audio ring (interleaved S16, one record per period).
/// Each record's pts is the monotonic time of its first sample from the drift estimator, so the
/// audio timeline follows the same clock as the video's kernel timestamps. Overruns are recovered
/// and counted, and the lost span is filled with silence so the timeline keeps its length. With
/// no device configured, or while the device is gone (retried every second), it writes silence
/// at the nominal rate so the program keeps its audio track.
public final class AudioCapture {
    static let retryInterval: Int64 = MediaTime.nanosecondsPerSecond

    let config: SourceSection
    let writer: RingWriter
    let periodFrames: Int
    let channels: Int
    let rate: Int
    let log = Log(stage: "acap")

    /// Counters for the box's status.
    public var statistics = StageStatistics(path: nil)
    /// Overruns recovered (snd_pcm_recover after -EPIPE or -ESTRPIPE; the gap is filled with silence).
    public private(set) var xruns: Int64 = 0
    /// Silent frames (samples per channel) written: no device, device gone, or an overrun's gap.
    public private(set) var silenceFrames: Int64 = 0
    /// The sample clock fitted against CLOCK_MONOTONIC, which stamps each record.
    public private(set) var estimator: DriftEstimator
    /// Hardware timestamp → record published, ns.
    public private(set) var latency = LatencyHistogram()

    /// Opens the raw audio ring of `instance` for `config` (rate, channels, `source.audio.periodMs`);
    /// the device opens in `run()`.
    public init(config: SourceSection, instance: String) throws {
        self.config = config
        rate = Int(config.sampleRate)
        channels = Int(config.channels)
        periodFrames = rate * Int(config.audioPeriodMs) / 1000
        estimator = DriftEstimator(nominalRate: Double(rate))
        // Slots hold a few periods: an ALSA period may come out larger than asked.
        writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.rawAudio), kind: .rawAudio,
            slotCount: Track.rawAudioSlots,
            slotBytes: UInt32(periodFrames * 4 * channels * 2))
        writer.setFormat(
            TrackFormat(codec: .pcmS16, sampleRate: UInt32(rate), channels: UInt32(channels), bitsPerSample: 16))
    }

    /// Runs until a stop is requested.
    public func run() {
        RealtimePriority.apply(RealtimePriority.capture, log: log)
        var silenceFrom = MonotonicClock.now()
        while !StopRequest.isRequested {
            guard let name = config.audioDevice else {
                silenceFrom = writeSilence(from: silenceFrom, until: MonotonicClock.now() + Self.retryInterval)
                continue
            }
            let format = ALSADevice.SampleFormat(rawValue: config.audioFormat) ?? .s16
            let device: ALSADevice
            do {
                device = try ALSADevice(
                    name: name, format: format, channels: channels, rate: rate, periodMs: Int(config.audioPeriodMs))
            } catch {
                log.warning("\(error); silence until it opens (retry every second)")
                silenceFrom = writeSilence(from: silenceFrom, until: MonotonicClock.now() + Self.retryInterval)
                continue
            }
            log.info(
                "\(name): \(format.rawValue) \(channels) ch \(rate) Hz, period \(device.periodFrames) frames, buffer \(device.bufferFrames)"
            )
            capture(from: device)
            silenceFrom = estimator.count > 0 ? estimator.time(ofSample: timeline) : MonotonicClock.now()
        }
    }

    /// Sample index of the next record on the audio timeline (device samples + inserted silence).
    private var timeline: Int64 = 0

    private func capture(from device: ALSADevice) {
        let format = device.format
        estimator.reset()
        timeline = 0
        let frameBytes = format.bytes * channels
        let input = UnsafeMutableRawPointer.allocate(byteCount: device.periodFrames * 4 * frameBytes, alignment: 16)
        defer { input.deallocate() }
        var afterXrun = false
        var discontinuity = true
        while !StopRequest.isRequested {
            let result: ALSADevice.ReadResult
            do {
                result = try device.read(into: input, frames: device.periodFrames)
            } catch {
                log.warning("\(error); reopening (silence meanwhile)")
                return
            }
            switch result {
            case .xrun:
                xruns += 1
                statistics.dropped += 1
                log.warning("overrun \(xruns) on \(device.name): recovered, the gap is filled with silence")
                afterXrun = true
            case .frames(let n, let after, let time) where n > 0:
                let end = timeline + Int64(n)
                if afterXrun {
                    // An overrun before the first observation (start-up) left nothing on the timeline
                    // to fill; a fill computed later would insert the clock jitter as silence.
                    if estimator.count > 0 {
                        // Where the timeline expected the sample now at the hardware pointer, and where
                        // it is: the difference is what the overrun lost.
                        let expected = estimator.time(ofSample: end + Int64(after))
                        let lost = max(0, (time - expected) * Int64(rate) / MediaTime.nanosecondsPerSecond)
                        if lost > 0 { fillSilence(frames: lost) }
                        log.notice("overrun \(xruns): \(lost) frames of silence inserted")
                    }
                    afterXrun = false
                }
                estimator.add(sample: timeline + Int64(n) + Int64(after), time: time)
                publish(input, frames: n, format: format, hardwareTime: time, discontinuity: discontinuity)
                discontinuity = false
            default:
                break
            }
            writer.beat()
            statistics.tick(extra: statusExtra())
        }
    }

    /// Publishes `frames` captured samples (converted to S16) at the timeline's position.
    private func publish(
        _ input: UnsafeMutableRawPointer, frames: Int, format: ALSADevice.SampleFormat, hardwareTime: Int64,
        discontinuity: Bool
    ) {
        let pts = estimator.time(ofSample: timeline)
        let samples = frames * channels
        writer.publish(
            RecordInfo(
                flags: discontinuity ? [.discontinuity] : [], pts: pts, captureTime: pts, aux0: UInt32(frames),
                stageTime: MonotonicClock.now()),
            log: log
        ) { out in
            let dst = out.baseAddress!.assumingMemoryBound(to: Int16.self)
            let src = input.assumingMemoryBound(to: UInt8.self)
            switch format {
            case .s16:
                out.baseAddress!.copyMemory(from: input, byteCount: samples * 2)
            case .s24packed:  // 3 bytes little endian: keep the top 16 bits
                for i in 0..<samples {
                    dst[i] = Int16(bitPattern: UInt16(src[3 * i + 1]) | UInt16(src[3 * i + 2]) << 8)
                }
            case .s32:
                for i in 0..<samples {
                    dst[i] = Int16(bitPattern: UInt16(src[4 * i + 2]) | UInt16(src[4 * i + 3]) << 8)
                }
            }
            return samples * 2
        }
        timeline += Int64(frames)
        statistics.count(bytes: samples * 2)
        latency.record(MonotonicClock.now() - hardwareTime)
    }

    /// Inserts `frames` of silence on the timeline (after an overrun).
    private func fillSilence(frames: Int64) {
        var left = frames
        while left > 0 {
            let n = Int(min(left, Int64(periodFrames)))
            publishSilence(frames: n, pts: estimator.time(ofSample: timeline))
            timeline += Int64(n)
            left -= Int64(n)
        }
    }

    private func publishSilence(frames n: Int, pts: Int64) {
        writer.publish(
            RecordInfo(
                flags: [.substitute], pts: pts, captureTime: pts, aux0: UInt32(n), stageTime: MonotonicClock.now()),
            log: log
        ) { out in
            out.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: n * channels * 2)
            return n * channels * 2
        }
        silenceFrames += Int64(n)
    }

    /// Writes silence periods on the nominal clock, each when due, from `start` until `end`;
    /// returns where it stopped.
    private func writeSilence(from start: Int64, until end: Int64) -> Int64 {
        var t = start
        let period = nanoseconds(ofSample: Int64(periodFrames), sampleRate: Int64(rate))
        if MonotonicClock.now() - t > 4 * period { t = MonotonicClock.now() }
        while !StopRequest.isRequested && t + period <= end {
            MonotonicClock.sleep(until: t + period)
            publishSilence(frames: periodFrames, pts: t)
            t += period
            writer.beat()
            statistics.tick(extra: statusExtra())
        }
        return t
    }

    private func statusExtra() -> String {
        "\"type\":\"capture\",\"device\":\"\(config.audioDevice ?? "none")\",\"xruns\":\(xruns),\"silenceFrames\":\(silenceFrames),"
            + "\"clockPPM\":\((estimator.ppm * 10).rounded() / 10),\"latencyP50Us\":\(latency.quantile(0.5) / 1000),\"latencyP99Us\":\(latency.quantile(0.99) / 1000)"
    }
}
