import Config
import FrameRing
import MediaTime
import Runtime

/// The audio encoder stage: raw audio ring (interleaved S16) → AAC / MP2 / 302M → coded audio ring.
/// Each coded frame's pts comes from the source record holding its first sample (that record's
/// pts plus the offset at the nominal rate), so a capture card's clock drift, already measured
/// by acap against CLOCK_MONOTONIC, carries through to the PTS instead of accumulating. A record
/// that does not follow its predecessor within 2 ms (gap, jump) restarts the timeline.
public final class AudioEncodeStage {
    let config: AudioEncoderSection
    let instance: String
    let log = Log(stage: "encode-audio")
    static let resyncThreshold: Int64 = 2 * MediaTime.millisecond

    /// Counters for the box's status.
    public var statistics = StageStatistics(path: nil)

    /// A stage for `config` (`encoders.audio`) on the rings of `instance`; the rings open in `run()`.
    public init(config: AudioEncoderSection, instance: String) {
        self.config = config
        self.instance = instance
    }

    /// Opens the raw audio ring (waiting for acap), the encoder and the coded ring, then encodes
    /// until a stop is requested.
    public func run() throws {
        guard
            let reader = try RingReader.waitingOpen(
                name: SharedRing.name(instance: instance, track: Track.rawAudio), start: .next, log: log)
        else { return }
        var format = reader.ring.format
        while format.sampleRate == 0 && !StopRequest.isRequested {
            MonotonicClock.sleep(until: MonotonicClock.now() + 10 * MediaTime.millisecond)
            format = reader.ring.format
        }
        let channels = Int(format.channels)
        let sampleRate = Int(format.sampleRate)
        let encoder: AudioEncoder
        let codec: RingCodec
        switch config.codec {
        case "s302m":
            encoder = S302MEncoder(channels: channels, bitsPerSample: Int(config.bitsPerSample))
            codec = .s302m
        default:
            encoder = try LibAVAudioEncoder(
                codec: config.codec, bitrate: config.bitrate, sampleRate: sampleRate, channels: channels)
            codec = config.codec == "mp2" ? .mp2 : .aac
        }
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.codedAudio), kind: .codedAudio, slotCount: 256,
            slotBytes: 65_536)
        writer.setFormat(
            TrackFormat(
                codec: codec, sampleRate: UInt32(sampleRate), channels: UInt32(channels),
                bitsPerSample: codec == .s302m ? UInt32(config.bitsPerSample) : 16,
                bitrate: UInt32(config.bitsPerSecond(channels: Int64(channels), sampleRate: Int64(sampleRate))),
                config: encoder.codecConfig))
        log.info("\(config.codec) \(channels) ch \(sampleRate) Hz, \(encoder.frameSize) samples per frame")

        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 16)
        defer { input.deallocate() }
        var block = [Int16](repeating: 0, count: encoder.frameSize * channels)
        var filled = 0  // sample frames in `block`
        var expectedNext: Int64? = nil  // pts the next record should have, ns
        var captureOffset: Int64 = 0
        var blockStart: Int64 = 0  // sample index of block[0] on the encoder's timeline
        // Where block starts sit in time: (sample index, pts) per block the encoder still holds.
        var blockTimes: [(sample: Int64, pts: Int64)] = []
        let ns = { (samples: Int64) in nanoseconds(ofSample: samples, sampleRate: Int64(sampleRate)) }

        while !StopRequest.isRequested {
            switch reader.next(into: input, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                let frames = min(Int(info.aux0), info.length / (2 * channels))
                if expectedNext == nil || abs(info.pts - expectedNext!) > Self.resyncThreshold
                    || info.flags.contains(.discontinuity)
                {
                    if let e = expectedNext {
                        log.notice("audio timeline restarted (jump of \((info.pts - e) / 1000) µs)")
                    }
                    captureOffset = info.captureTime - info.pts
                    filled = 0
                }
                expectedNext = info.pts + ns(Int64(frames))
                let samples = input.baseAddress!.assumingMemoryBound(to: Int16.self)
                var taken = 0
                while taken < frames {
                    let n = min(frames - taken, encoder.frameSize - filled)
                    if filled == 0 { blockTimes.append((blockStart, info.pts + ns(Int64(taken)))) }
                    block.withUnsafeMutableBufferPointer {
                        ($0.baseAddress! + filled * channels).update(
                            from: samples + taken * channels, count: n * channels)
                    }
                    filled += n
                    taken += n
                    if filled == encoder.frameSize {
                        try block.withUnsafeBufferPointer { pcm in
                            try encoder.encode(pcm.baseAddress!, firstSample: blockStart) { frame in
                                // The newest block start at or before the frame's first sample.
                                while blockTimes.count > 1 && blockTimes[1].sample <= frame.firstSample {
                                    blockTimes.removeFirst()
                                }
                                let base = blockTimes.first ?? (frame.firstSample, info.pts)
                                let pts = base.pts + ns(frame.firstSample - base.sample)
                                try writer.publish(
                                    RecordInfo(
                                        length: frame.bytes.count, flags: .keyframe, pts: pts,
                                        captureTime: pts + captureOffset,
                                        aux0: UInt32(encoder.frameSize), stageTime: MonotonicClock.now()),
                                    bytes: frame.bytes)
                                statistics.count(bytes: frame.bytes.count)
                            }
                        }
                        blockStart += Int64(encoder.frameSize)
                        filled = 0
                    }
                }
            case .lost(let n):
                log.warning("fell behind the source: \(n) audio records lost")
            case .writerGone:
                log.warning("audio source stopped")
            case .writerRestarted(let g):
                log.notice("audio source restarted (generation \(g))")
            case .timeout:
                break
            }
            writer.beat()
            statistics.tick(extra: "\"codec\":\"\(self.config.codec)\"")
        }
    }
}
