import Config
import FrameRing
import MediaTime
import Runtime

/// The video encoder stage: raw video ring → x264 or the board's mem2mem encoder → coded video ring.
/// A hardware encoder that fails at run time (unplugged, stalled) is closed and reopened a second
/// later; the frames in between are dropped and the mux resumes at the next IDR.
public final class VideoEncodeStage {
    let config: VideoEncoderSection
    let instance: String
    let cbr: Bool
    let log = Log(stage: "encode-video")

    /// Access units written since start.
    public private(set) var accessUnits: Int64 = 0

    /// Counters for the box's status (frames, bytes, rates; queue = frames inside x264).
    public var statistics = StageStatistics(path: nil)

    /// A stage for `config` (`encoders.video`) on the rings of `instance`; `cbr`: encode at a constant
    /// bitrate for a CBR mux (`program.mode` "cbr").
    public init(config: VideoEncoderSection, instance: String, cbr: Bool) {
        self.config = config
        self.instance = instance
        self.cbr = cbr
    }

    /// Runs until a stop is requested.
    public func run() throws {
        guard
            let reader = try RingReader.waitingOpen(
                name: SharedRing.name(instance: instance, track: Track.rawVideo), start: .newest, log: log)
        else { return }
        let slotBytes = UInt32(max(1 << 20, Int(config.effectiveMaxrate / 8 * 2)))
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.codedVideo), kind: .codedVideo, slotCount: 64,
            slotBytes: slotBytes)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        var encoder: (any VideoEncoder)? = nil
        var geometry = (0, 0)
        var retryAt = Int64.min

        var droppedOne = false
        func publish(_ au: VideoAccessUnit) throws {
            do {
                var flags: RecordFlags = au.keyframe ? .keyframe : []
                if droppedOne { flags.insert(.discontinuity) }  // the mux then waits for the forced IDR
                try writer.publish(
                    RecordInfo(
                        length: au.bytes.count, flags: flags, pts: au.ptsNs, dts: au.dtsNs,
                        captureTime: au.captureNs, stageTime: MonotonicClock.now()), bytes: au.bytes)
                droppedOne = false
                accessUnits += 1
                statistics.count(bytes: au.bytes.count)
            } catch RingError.recordTooLarge(_, let length, let slot) {
                // Dropped, not fatal: the mux waits for the next IDR (an upstream discontinuity).
                statistics.dropped += 1
                log.error("access unit of \(length) bytes exceeds the coded ring's \(slot)-byte slots; dropped")
                encoder?.forceKeyframe()
                droppedOne = true
            }
        }

        while !StopRequest.isRequested {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                let w = Int(info.width)
                let h = Int(info.height)
                // A new geometry or rate (a receiver's source change) means a new encoder.
                if encoder == nil || geometry != (w, h) || info.flags.contains(.formatChange) {
                    guard MonotonicClock.now() >= retryAt else { continue }
                    let f = reader.ring.format
                    let fps = FrameRate(Int64(max(f.fpsNumerator, 1)), Int64(max(f.fpsDenominator, 1)))
                    try? encoder?.flush(output: publish)
                    encoder = nil
                    do {
                        encoder = try open(width: w, height: h, fps: fps, nv12: info.aux0 == RingCodec.nv12.rawValue)
                    } catch let e as M2MError {
                        log.error("\(e); retrying in 1 s")
                        retryAt = MonotonicClock.now() + MediaTime.nanosecondsPerSecond
                        droppedOne = true
                        continue
                    }
                    geometry = (w, h)
                    writer.setFormat(
                        TrackFormat(
                            codec: config.codec == "fwht" ? .fwht : .h264, width: UInt32(w), height: UInt32(h),
                            fpsNumerator: f.fpsNumerator,
                            fpsDenominator: f.fpsDenominator, bitrate: UInt32(config.bitrate), config: encoder!.headers)
                    )
                }
                guard info.length >= w * h * 3 / 2 else {
                    log.warning("short frame of \(info.length) bytes for \(w)x\(h), skipped")
                    continue
                }
                if info.flags.contains(.discontinuity) { encoder?.forceKeyframe() }
                do {
                    try encoder!.encode(
                        frame: UnsafeRawBufferPointer(rebasing: buffer[0..<info.length]), ptsNs: info.pts,
                        captureNs: info.captureTime, output: publish)
                } catch let e as M2MError {
                    // The hardware encoder failed under us: drop it, reopen in a second, resume at an IDR.
                    log.error("\(e); reopening in 1 s")
                    statistics.dropped += 1
                    encoder = nil
                    droppedOne = true
                    retryAt = MonotonicClock.now() + MediaTime.nanosecondsPerSecond
                }
            case .lost(let n):
                log.warning("fell behind the source: \(n) frames lost")
            case .writerGone:
                log.warning("video source stopped")
            case .writerRestarted(let g):
                log.notice("video source restarted (generation \(g))")
                encoder?.forceKeyframe()
            case .timeout:
                break
            }
            writer.beat()
            statistics.tick(
                extra:
                    "\"queue\":\(encoder?.delayedFrames ?? 0),\"codec\":\"\(self.config.codec)\","
                    + "\"backend\":\"\(self.config.backend)\",\"targetBitrate\":\(self.config.bitrate)")
        }
        try encoder?.flush(output: publish)
    }

    /// The configured backend for this geometry.
    private func open(width w: Int, height h: Int, fps: FrameRate, nv12: Bool) throws -> any VideoEncoder {
        if config.backend == "v4l2m2m" {
            let e = try V4L2M2MEncoder(
                settings: .init(
                    device: config.device, codec: config.codec, width: w, height: h, fps: fps, nv12: nv12,
                    bitrate: config.bitrate, gop: config.keyint, profile: config.profile, cbr: cbr))
            log.info(
                "\(config.device) (\(e.driver), mem2mem\(e.multiplanar ? " mplane" : "")) \(w)x\(h)@\(fps) \(config.bitrate) b/s keyint \(config.keyint)"
            )
            if !e.refusedControls.isEmpty {
                log.warning("the driver kept its defaults for: \(e.refusedControls.joined(separator: "; "))")
            }
            return e
        }
        let e = try X264Encoder(config: config, width: w, height: h, fps: fps, nv12: nv12, cbr: cbr)
        log.info(
            "x264 \(w)x\(h)@\(fps) \(config.bitrate) b/s keyint \(config.keyint) \(config.preset)/\(config.tune ?? "-") \(cbr ? "CBR nal-hrd" : "VBV")"
        )
        return e
    }
}
