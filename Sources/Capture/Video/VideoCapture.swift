#if canImport(Glibc)
import Glibc
#endif
import Config
import FrameRing
import MediaTime

/// vcap: a V4L2 device into the raw video ring, one copy per frame (kernel buffer → ring slot,
/// converted to I420 on the way; NV12 kept as NV12). Stamps each record with the driver's CLOCK_MONOTONIC buffer
/// timestamp; counts dropped frames from sequence gaps; feeds the "NO SIGNAL" slate when frames
/// stop for more than two periods (unplug, no signal) and while the device is gone, retrying it
/// every second; the first live frame after a loss carries a discontinuity, so the encoder starts
/// it with an IDR.
public final class VideoCapture {
    /// Frames missing for this many periods mean the signal is lost (issue: "more than two").
    static let lossPeriods: Int64 = 2
    /// Reopen attempts while the device is gone.
    static let retryInterval: Int64 = MediaTime.nanosecondsPerSecond
    /// Kernel buffers: enough to ride out an encoder-side hiccup without the driver dropping.
    static let kernelBuffers = 4
    /// The largest geometry a source change may bring (slots are sized for it).
    static let maxSourceBytes = 1920 * 1080 * 3 / 2

    let config: SourceSection
    let request: CaptureRequest
    let device: String
    let writer: RingWriter
    let slate: TestPattern
    /// The ring's pixel layout (live frames and slate alike).
    let codec: RingCodec
    let log = Log(stage: "vcap")

    /// Counters for the box's status (frames = live frames; dropped = sequence gaps + corrupt).
    public var statistics = StageStatistics(path: nil)
    /// Called when the signal is lost (false) or back (true): the INPUT_SIGNAL event.
    public var onSignal: (Bool) -> Void = { _ in }
    /// Kernel buffer timestamp → record published, ns.
    public private(set) var latency = LatencyHistogram()
    public private(set) var liveFrames: Int64 = 0
    public private(set) var slateFrames: Int64 = 0
    public private(set) var droppedFrames: Int64 = 0

    private var signalPresent: Bool? = nil
    /// PTS of the newest record (live or slate): slate frames never go back before it.
    private var lastPTS = Int64.min

    public init(config: SourceSection, instance: String) throws {
        self.config = config
        device = config.videoDevice ?? "/dev/video0"
        request = CaptureRequest(
            fourcc: FourCC.byConfigName[config.pixelFormat] ?? .yuyv, width: Int(config.width), height: Int(config.height),
            fps: config.fps)
        codec = FrameConverter.ringCodec(for: request.fourcc)
        slate = TestPattern(width: Int(config.width), height: Int(config.height), layout: codec == .nv12 ? .nv12 : .i420)
        writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.rawVideo), kind: .rawVideo, slotCount: Track.rawVideoSlots,
            slotBytes: UInt32(max(slate.frameBytes, Self.maxSourceBytes)))
        writer.setFormat(format(width: Int(config.width), height: Int(config.height), fps: config.fps))
    }

    func format(width: Int, height: Int, fps: FrameRate) -> TrackFormat {
        TrackFormat(
            codec: codec, width: UInt32(width), height: UInt32(height), fpsNumerator: UInt32(fps.numerator),
            fpsDenominator: UInt32(fps.denominator))
    }

    /// Opens the device and checks it can deliver exactly the request.
    /// - Throws: `UnsupportedFormat` (fatal: retrying cannot help) or `V4L2Error`.
    func open() throws -> (V4L2Device, FrameConverter) {
        let dev = try V4L2Device(path: device)
        if let input = config.videoInput { try dev.selectInput(Int(input)) }
        let offered = dev.formats()
        _ = try FormatNegotiation.choose(request, from: offered, device: "\(device) (\(dev.card))")
        let got = try dev.setFormat(request)
        guard got.fourcc == request.fourcc, got.width == request.width, got.height == request.height else {
            throw UnsupportedFormat(
                device: "\(device) (\(dev.card))", request: request,
                reason: "the driver answered \(got.fourcc.configName) \(got.width)x\(got.height)", offered: offered)
        }
        if !got.fps.isClose(to: request.fps) {
            log.warning("\(device): asked \(request.fps) fps, the driver runs \(got.fps) fps")
        }
        try dev.startStreaming(count: Self.kernelBuffers)
        let converter = FrameConverter(fourcc: got.fourcc, width: got.width, height: got.height, bytesPerLine: got.bytesPerLine, fd: dev.fd)
        log.info("\(device) (\(dev.driver) \(dev.card)): \(got.fourcc.configName) \(got.width)x\(got.height)@\(got.fps), \(Self.kernelBuffers) mmap buffers, \(got.bytesPerLine) bytes per line")
        return (dev, converter)
    }

    /// Runs until a stop is requested. Throws only for what retrying cannot fix (format).
    public func run() throws {
        RealtimePriority.apply(RealtimePriority.capture, log: log)
        let period = config.fps.frameDuration
        var nextSlate = MonotonicClock.now()
        // Slate while the device is away: until `until`, at the nominal frame rate.
        func slate(until end: Int64) {
            while !StopRequest.isRequested && MonotonicClock.now() < end {
                nextSlate = publishSlate(due: nextSlate, period: period)
                MonotonicClock.sleep(until: min(nextSlate, end))
            }
        }
        while !StopRequest.isRequested {
            let opened: (device: V4L2Device, converter: FrameConverter)
            do {
                opened = try open()
            } catch let e as V4L2Error where e.isDeviceGone || e.code == EBUSY {
                setSignal(false, reason: e.description)
                slate(until: MonotonicClock.now() + Self.retryInterval)
                continue
            }
            let gone = stream(opened.device, converter: opened.converter, period: period, nextSlate: &nextSlate)
            if gone {
                // Unplugged (ENODEV): the slate at once, then a reopen every second.
                nextSlate = MonotonicClock.now()
                slate(until: MonotonicClock.now() + Self.retryInterval)
            }
        }
    }

    /// Streams from an open device until it fails; returns whether it went away.
    private func stream(_ dev: V4L2Device, converter: FrameConverter, period: Int64, nextSlate: inout Int64) -> Bool {
        defer { dev.stopStreaming() }
        var lastSequence: UInt32? = nil
        var lastLive = MonotonicClock.now()  // when the newest live frame arrived (or streaming began)
        var discontinuity = true
        while !StopRequest.isRequested {
            let now = MonotonicClock.now()
            // Wait for a frame until the signal counts as lost (two periods), then at the slate's pace.
            let lossAt = lastLive + Self.lossPeriods * period + 2 * MediaTime.millisecond
            let wait = signalPresent == false ? max(nextSlate, now + MediaTime.millisecond) - now : lossAt - now
            let frame: V4L2Device.Frame?
            do {
                frame = try dev.dequeue(timeoutNs: max(wait, MediaTime.millisecond))
            } catch {
                log.warning("\(error)")
                setSignal(false, reason: error.description)
                if error.isDeviceGone { nextSlate = publishSlate(due: MonotonicClock.now(), period: period) }
                return error.isDeviceGone
            }
            guard let frame else {
                if MonotonicClock.now() - lastLive > Self.lossPeriods * period {
                    if signalPresent != false { nextSlate = MonotonicClock.now() }
                    setSignal(false, reason: "no frame for \(Self.lossPeriods) frame periods")
                    nextSlate = publishSlate(due: nextSlate, period: period)
                    discontinuity = true
                }
                writer.beat()
                statistics.tick(extra: statusExtra())
                continue
            }
            if let last = lastSequence, frame.sequence &- last > 1 {
                droppedFrames += Int64(frame.sequence &- last &- 1)
                statistics.dropped += UInt64(frame.sequence &- last &- 1)
            }
            lastSequence = frame.sequence
            publishLive(frame, from: dev, converter: converter, discontinuity: discontinuity)
            discontinuity = false
            lastLive = MonotonicClock.now()
            setSignal(true, reason: "frames arrive")
            do { try dev.requeue(frame.index) } catch {
                log.warning("\(error)")
                setSignal(false, reason: error.description)
                return error.isDeviceGone
            }
            statistics.tick(extra: statusExtra())
        }
        return false
    }

    private func publishLive(_ frame: V4L2Device.Frame, from dev: V4L2Device, converter: FrameConverter, discontinuity: Bool) {
        let buffer = dev.buffers[frame.index]
        let source = UnsafeRawBufferPointer(rebasing: buffer[0..<min(frame.bytesUsed, buffer.count)])
        var ok = true
        writer.publish(
            RecordInfo(
                flags: discontinuity ? [.discontinuity] : [], pts: frame.timestamp, captureTime: frame.timestamp,
                width: UInt32(converter.width), height: UInt32(converter.height), aux0: codec.rawValue,
                stageTime: MonotonicClock.now())
        ) { out in
            guard !frame.error, let n = converter.convert(source, into: out) else {
                ok = false
                return 0
            }
            return n
        }
        if ok {
            lastPTS = frame.timestamp
            liveFrames += 1
            statistics.count(bytes: converter.frameBytes)
            latency.record(MonotonicClock.now() - frame.timestamp)
        } else {
            droppedFrames += 1
            statistics.dropped += 1
        }
    }

    /// Publishes slate frames due up to now; returns the next due time.
    private func publishSlate(due: Int64, period: Int64) -> Int64 {
        var due = due
        let now = MonotonicClock.now()
        if now - due > 4 * period { due = now }  // after a stall, no burst of old frames
        // Drivers may stamp a frame's nominal end (vivid), a little ahead of now: stay after it.
        if lastPTS != Int64.min && due <= lastPTS { due = lastPTS + period }
        while due <= now {
            let tc = TestPattern.timecode(wallClock: MonotonicClock.wallNow(), fps: config.fps)
            let index = liveFrames + slateFrames  // the burnt-in counter continues across live and slate
            writer.publish(
                RecordInfo(
                    flags: [.substitute], pts: due, captureTime: due, width: UInt32(slate.width), height: UInt32(slate.height),
                    aux0: codec.rawValue, stageTime: MonotonicClock.now())
            ) { out in
                slate.render(frame: index, timecode: tc, slate: true, into: out)
                return slate.frameBytes
            }
            slateFrames += 1
            lastPTS = due
            due += period
        }
        statistics.tick(extra: statusExtra())
        return due
    }

    private func setSignal(_ present: Bool, reason: String) {
        guard signalPresent != present else { return }
        let first = signalPresent == nil
        signalPresent = present
        if present {
            log.notice("\(device): signal present")
        } else {
            log.warning("\(device): signal lost (\(reason)); sending the NO SIGNAL slate")
        }
        if !(first && present) { onSignal(present) }
    }

    private func statusExtra() -> String {
        "\"signal\":\"\(signalPresent == true ? "present" : "lost")\",\"type\":\"capture\",\"device\":\"\(device)\","
            + "\"width\":\(config.width),\"height\":\(config.height),\"fpsNominal\":\"\(config.fps)\","
            + "\"slateFrames\":\(slateFrames),\"latencyP50Us\":\(latency.quantile(0.5) / 1000),\"latencyP99Us\":\(latency.quantile(0.99) / 1000)"
    }
}
