import Config
import FrameRing
import MediaTime
import Runtime
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// vcap: a V4L2 device into the raw video ring, one copy per frame (kernel buffer → ring slot,
/// converted to I420 on the way; NV12 kept as NV12). Stamps each record with the driver's CLOCK_MONOTONIC buffer
/// timestamp; counts dropped frames from sequence gaps; feeds the "NO SIGNAL" slate when frames
/// stop for more than two periods (unplug, no signal) and while the device is gone, retrying it
/// every second; the first live frame after a loss carries a discontinuity, so the encoder starts
/// it with an IDR. HDMI/SDI receivers (inputs with DV timings) set the raster: vcap follows the
/// timings the receiver detects, and a source change (V4L2_EVENT_SOURCE_CHANGE) stops, re-detects
/// and restarts streaming, the new geometry reaching the ring as a format change.
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
    /// What vcap asks of the device: the config's, or a receiver's detected timings.
    private(set) var request: CaptureRequest
    let device: String
    let writer: RingWriter
    /// The NO SIGNAL frame, at the current geometry.
    private(set) var slate: TestPattern
    /// The ring's pixel layout (live frames and slate alike).
    let codec: RingCodec
    let log = Log(stage: "vcap")

    /// Counters for the box's status (frames = live frames; dropped = sequence gaps + corrupt).
    public var statistics = StageStatistics(path: nil)
    /// Called when the signal is lost (false) or back (true): the INPUT_SIGNAL event.
    public var onSignal: (Bool) -> Void = { _ in }
    /// Kernel buffer timestamp → record published, ns.
    public private(set) var latency = LatencyHistogram()
    /// Frames captured from the device and written to the ring.
    public private(set) var liveFrames: Int64 = 0
    /// NO SIGNAL slate frames written while the device delivered none.
    public private(set) var slateFrames: Int64 = 0
    /// Frames lost: gaps in the driver's sequence numbers plus frames that could not be converted.
    public private(set) var droppedFrames: Int64 = 0

    private var signalPresent: Bool? = nil
    /// The geometry and rate in the ring's format; a change flags the next record.
    private var ringGeometry: (width: Int, height: Int, fps: FrameRate)
    private var formatChanged = false
    /// PTS of the newest record (live or slate): slate frames never go back before it.
    private var lastPTS = Int64.min

    /// Opens the raw video ring of `instance` for `config` (`source.video.*`); the device opens in `run()`.
    public init(config: SourceSection, instance: String) throws {
        self.config = config
        device = config.videoDevice ?? "/dev/video0"
        request = CaptureRequest(
            fourcc: FourCC.byConfigName[config.pixelFormat] ?? .yuyv, width: Int(config.width),
            height: Int(config.height),
            fps: config.fps)
        codec = FrameConverter.ringCodec(for: request.fourcc)
        slate = TestPattern(
            width: Int(config.width), height: Int(config.height), layout: codec == .nv12 ? .nv12 : .i420)
        writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.rawVideo), kind: .rawVideo,
            slotCount: Track.rawVideoSlots,
            slotBytes: UInt32(max(slate.frameBytes, Self.maxSourceBytes)))
        ringGeometry = (Int(config.width), Int(config.height), config.fps)
        writer.setFormat(format(width: Int(config.width), height: Int(config.height), fps: config.fps))
    }

    /// Sets the ring's format (and the slate) to a new geometry; the next record carries the change.
    private func adopt(width: Int, height: Int, fps: FrameRate) {
        guard ringGeometry != (width, height, fps) else { return }
        log.notice(
            "\(device): format change \(ringGeometry.width)x\(ringGeometry.height)@\(ringGeometry.fps) → \(width)x\(height)@\(fps)"
        )
        ringGeometry = (width, height, fps)
        writer.setFormat(format(width: width, height: height, fps: fps))
        slate = TestPattern(width: width, height: height, layout: codec == .nv12 ? .nv12 : .i420)
        formatChanged = true
    }

    func format(width: Int, height: Int, fps: FrameRate) -> TrackFormat {
        TrackFormat(
            codec: codec, width: UInt32(width), height: UInt32(height), fpsNumerator: UInt32(fps.numerator),
            fpsDenominator: UInt32(fps.denominator))
    }

    /// Opens the device and checks it can deliver exactly the request: the config's raster at the
    /// config's rate, except that a DV receiver's detected rate always wins (vcap converts no frame
    /// rates) and so does its detected raster when the driver cannot scale to the config's.
    /// - Throws: `UnsupportedFormat` (fatal: retrying cannot help) or `V4L2Error`.
    func open() throws -> (CaptureDevice, FrameConverter) {
        let dev = try CaptureDevice(path: device)
        if let input = config.videoInput { try dev.selectInput(Int(input)) }
        _ = dev.subscribeSourceChange()
        let configured = CaptureRequest(
            fourcc: request.fourcc, width: Int(config.width), height: Int(config.height), fps: config.fps)
        var want = configured
        let detected = dev.lockDetectedTimings()
        if let d = detected { want.fps = d.fps }
        let offered = dev.formats()
        var got = try dev.setFormat(want)
        if let d = detected, (got.width, got.height) != (want.width, want.height) {
            guard d.width * d.height * 3 / 2 <= Self.maxSourceBytes else {
                throw V4L2Error(
                    device: device, operation: "the source's \(d.width)x\(d.height) exceeds the ring's 1920x1080 slots",
                    code: ERANGE)
            }
            log.notice(
                "\(device): the receiver cannot scale its \(d.width)x\(d.height) to \(want.width)x\(want.height); following the source"
            )
            want = CaptureRequest(fourcc: want.fourcc, width: d.width, height: d.height, fps: d.fps)
            got = try dev.setFormat(want)
        }
        _ = try FormatNegotiation.choose(want, from: offered, device: "\(device) (\(dev.card))")
        guard got.fourcc == want.fourcc, got.width == want.width, got.height == want.height else {
            throw UnsupportedFormat(
                device: "\(device) (\(dev.card))", request: want,
                reason: "the driver answered \(got.fourcc.configName) \(got.width)x\(got.height)", offered: offered)
        }
        if want != configured { log.notice("\(device): capturing \(want.summary) (config: \(configured.summary))") }
        request = want
        if !got.fps.isClose(to: request.fps) {
            log.warning("\(device): asked \(request.fps) fps, the driver runs \(got.fps) fps")
        }
        try dev.startStreaming(count: Self.kernelBuffers)
        adopt(width: got.width, height: got.height, fps: request.fps)
        let converter = FrameConverter(
            fourcc: got.fourcc, width: got.width, height: got.height, bytesPerLine: got.bytesPerLine, fd: dev.fd)
        log.info(
            "\(device) (\(dev.driver) \(dev.card)): \(got.fourcc.configName) \(got.width)x\(got.height)@\(got.fps), \(Self.kernelBuffers) mmap buffers, \(got.bytesPerLine) bytes per line"
        )
        return (dev, converter)
    }

    /// Runs until a stop is requested. Throws only for what retrying cannot fix (format).
    public func run() throws {
        RealtimePriority.apply(RealtimePriority.capture, log: log)
        var period: Int64 { request.fps.frameDuration }
        var nextSlate = MonotonicClock.now()
        // Slate while the device is away: until `until`, at the nominal frame rate.
        func slate(until end: Int64) {
            while !StopRequest.isRequested && MonotonicClock.now() < end {
                nextSlate = publishSlate(due: nextSlate, period: period)
                MonotonicClock.sleep(until: min(nextSlate, end))
            }
        }
        while !StopRequest.isRequested {
            let opened: (device: CaptureDevice, converter: FrameConverter)
            do {
                opened = try open()
            } catch let e as V4L2Error where e.isDeviceGone || e.code == EBUSY || e.code == ERANGE {
                setSignal(false, reason: e.description)
                slate(until: MonotonicClock.now() + Self.retryInterval)
                continue
            }
            switch stream(opened.device, converter: opened.converter, period: period, nextSlate: &nextSlate) {
            case .gone:
                // Unplugged (ENODEV): the slate at once, then a reopen every second.
                nextSlate = MonotonicClock.now()
                slate(until: MonotonicClock.now() + Self.retryInterval)
            case .sourceChange:
                log.notice("\(device): source change; re-detecting the input")
            case .stopped:
                break
            }
        }
    }

    enum StreamEnd { case stopped, gone, sourceChange }

    /// Streams from an open device until it fails, goes away or its source changes.
    private func stream(_ dev: CaptureDevice, converter: FrameConverter, period: Int64, nextSlate: inout Int64)
        -> StreamEnd
    {
        defer { dev.stopStreaming() }
        var lastSequence: UInt32? = nil
        var lastLive = MonotonicClock.now()  // when the newest live frame arrived (or streaming began)
        var discontinuity = true
        while !StopRequest.isRequested {
            let now = MonotonicClock.now()
            // Wait for a frame until the signal counts as lost (two periods), then at the slate's pace.
            let lossAt = lastLive + Self.lossPeriods * period + 2 * MediaTime.millisecond
            let wait = signalPresent == false ? max(nextSlate, now + MediaTime.millisecond) - now : lossAt - now
            let waited: CaptureDevice.Wait
            do {
                waited = try dev.dequeue(timeoutNs: max(wait, MediaTime.millisecond))
            } catch {
                log.warning("\(error)")
                setSignal(false, reason: error.description)
                if error.isDeviceGone { nextSlate = publishSlate(due: MonotonicClock.now(), period: period) }
                return error.isDeviceGone ? .gone : .stopped
            }
            if case .sourceChange = waited { return .sourceChange }
            guard case .frame(let frame) = waited else {
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
            publishLive(frame, from: dev, converter: converter, discontinuity: discontinuity || formatChanged)
            discontinuity = false
            lastLive = MonotonicClock.now()
            setSignal(true, reason: "frames arrive")
            do { try dev.requeue(frame.index) } catch {
                log.warning("\(error)")
                setSignal(false, reason: error.description)
                return error.isDeviceGone ? .gone : .stopped
            }
            statistics.tick(extra: statusExtra())
        }
        return .stopped
    }

    private func publishLive(
        _ frame: CaptureDevice.Frame, from dev: CaptureDevice, converter: FrameConverter, discontinuity: Bool
    ) {
        let buffer = dev.buffers[frame.index]
        let source = UnsafeRawBufferPointer(rebasing: buffer[0..<min(frame.bytesUsed, buffer.count)])
        var ok = true
        writer.publish(
            RecordInfo(
                flags: discontinuity ? (formatChanged ? [.discontinuity, .formatChange] : [.discontinuity]) : [],
                pts: frame.timestamp, captureTime: frame.timestamp,
                width: UInt32(converter.width), height: UInt32(converter.height), aux0: codec.rawValue,
                stageTime: MonotonicClock.now()), log: log
        ) { out in
            guard !frame.error, let n = converter.convert(source, into: out) else {
                ok = false
                return 0
            }
            return n
        }
        if ok {
            formatChanged = false
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
            let flags: RecordFlags = formatChanged ? [.substitute, .discontinuity, .formatChange] : [.substitute]
            formatChanged = false
            writer.publish(
                RecordInfo(
                    flags: flags, pts: due, captureTime: due, width: UInt32(slate.width), height: UInt32(slate.height),
                    aux0: codec.rawValue, stageTime: MonotonicClock.now()), log: log
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
            + "\"width\":\(ringGeometry.width),\"height\":\(ringGeometry.height),\"fpsNominal\":\"\(ringGeometry.fps)\","
            + "\"slateFrames\":\(slateFrames),\"latencyP50Us\":\(latency.quantile(0.5) / 1000),\"latencyP99Us\":\(latency.quantile(0.99) / 1000)"
    }
}
