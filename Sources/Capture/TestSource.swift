import Config
import FrameRing
import MediaTime
import Runtime

/// The built-in test source (the seed's "videogen", native): colour bars with a moving box,
/// burnt-in time-of-day timecode and frame counter, and a tone, written in real time to the raw
/// video and audio rings, stamped on CLOCK_MONOTONIC. Runs on the calling thread until a stop is
/// requested.
public final class TestSource {
    /// Audio is written in 10 ms records (480 frames at 48 kHz).
    public static let audioPeriod: Int64 = 10 * MediaTime.millisecond

    let config: SourceSection
    let video: RingWriter
    let audio: RingWriter
    let pattern: TestPattern
    var tone: ToneGenerator
    let audioFrames: Int

    /// Counters for the box's status (frames = video frames).
    public var statistics = StageStatistics(path: nil)

    /// Opens the raw video and audio rings of `instance` for `config` (`source.*`) and sets their formats.
    public init(config: SourceSection, instance: String) throws {
        self.config = config
        let layout: TestPattern.Layout = config.pixelFormat == "NV12" ? .nv12 : .i420
        pattern = TestPattern(width: Int(config.width), height: Int(config.height), layout: layout)
        audioFrames = Int(config.sampleRate * Self.audioPeriod / MediaTime.nanosecondsPerSecond)
        video = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.rawVideo), kind: .rawVideo,
            slotCount: Track.rawVideoSlots,
            slotBytes: UInt32(pattern.frameBytes))
        audio = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.rawAudio), kind: .rawAudio,
            slotCount: Track.rawAudioSlots,
            slotBytes: UInt32(audioFrames * Int(config.channels) * 2))
        tone = ToneGenerator(
            frequency: config.toneFrequency, level: config.toneLevel, sampleRate: Int(config.sampleRate),
            channels: Int(config.channels))
        video.setFormat(
            TrackFormat(
                codec: layout == .nv12 ? .nv12 : .i420, width: UInt32(config.width), height: UInt32(config.height),
                fpsNumerator: UInt32(config.fps.numerator), fpsDenominator: UInt32(config.fps.denominator)))
        audio.setFormat(
            TrackFormat(
                codec: .pcmS16, sampleRate: UInt32(config.sampleRate), channels: UInt32(config.channels),
                bitsPerSample: 16))
    }

    /// Frames and audio records written.
    public private(set) var framesWritten: Int64 = 0
    /// Audio records (10 ms each) written.
    public private(set) var audioRecordsWritten: Int64 = 0

    /// Generates in real time until a stop is requested or `frameLimit` frames were written.
    public func run(frameLimit: Int64? = nil) {
        RealtimePriority.apply(RealtimePriority.capture, log: Log(stage: "testsrc"))
        let start = MonotonicClock.now()
        let wallStart = MonotonicClock.wallNow()
        let codec: RingCodec = pattern.layout == .nv12 ? .nv12 : .i420
        var frame: Int64 = 0
        var audioIndex: Int64 = 0
        while !StopRequest.isRequested {
            if let frameLimit, frame >= frameLimit { break }
            let videoDue = start + config.fps.nanoseconds(ofFrame: frame)
            let audioDue = start + nanoseconds(ofSample: audioIndex * Int64(audioFrames), sampleRate: config.sampleRate)
            let due = min(videoDue, audioDue)
            MonotonicClock.sleep(until: due)
            if StopRequest.isRequested { break }
            if audioDue <= videoDue {
                let captured = MonotonicClock.now()
                audio.publish(
                    RecordInfo(pts: audioDue, captureTime: captured, aux0: UInt32(audioFrames)),
                    log: Log(stage: "testsrc")
                ) { out in
                    tone.render(frames: audioFrames, into: out)
                }
                audioIndex += 1
                audioRecordsWritten += 1
            } else {
                let tc = TestPattern.timecode(wallClock: wallStart + (videoDue - start), fps: config.fps)
                // A lost signal (`source.video.signal`) is the NO SIGNAL slate, flagged as a
                // substitute as vcap flags its slate, with the counter running on.
                let slate = config.signalLost
                video.publish(
                    RecordInfo(
                        flags: slate ? [.substitute] : [], pts: videoDue, captureTime: MonotonicClock.now(),
                        width: UInt32(config.width), height: UInt32(config.height), aux0: codec.rawValue),
                    log: Log(stage: "testsrc")
                ) { out in
                    pattern.render(frame: frame, timecode: tc, slate: slate, into: out)
                    return pattern.frameBytes
                }
                frame += 1
                framesWritten += 1
                statistics.count(bytes: pattern.frameBytes)
                statistics.tick(
                    extra:
                        "\"signal\":\"\(config.signalLost ? "lost" : "present")\",\"width\":\(config.width),\"height\":\(config.height),\"fpsNominal\":\"\(config.fps)\",\"type\":\"testsrc\""
                )
            }
        }
    }
}
