import CV4L2
import MediaTime
import Runtime
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// A V4L2 mem2mem hardware encoder through the kernel's stateful encoder interface
/// (Documentation/userspace-api/media/v4l/dev-encoder.rst): coded format on CAPTURE, raw format
/// on OUTPUT, rate and controls, mmap buffers on both queues, STREAMON; raw frames in, coded
/// buffers out with the raw buffer's timestamp copied; V4L2_ENC_CMD_STOP drains until the buffer
/// flagged LAST, V4L2_ENC_CMD_START resumes. The H.264 encoder of ARM boards (Raspberry Pi's
/// /dev/video11, bcm2835-codec) and, in the virtual board, vicodec (FWHT) use the same path.
///
/// One copy per frame: ring slot → the driver's OUTPUT buffer. Timestamps are a frame index
/// (the "cookie"), mapped back to the frame's PTS and capture time when its coded buffer returns.
public final class V4L2M2MEncoder: VideoEncoder {
    /// What to open and how to encode (from `encoders.video` and the ring's frame format).
    public struct Settings: Sendable {
        /// `encoders.video.device`: the mem2mem encoder node (`/dev/video11`).
        public var device: String
        /// "h264", "hevc" or "fwht" (vicodec; not muxable, for checking a board's plumbing).
        public var codec: String
        /// Frame width, pixels (the ring's).
        public var width: Int
        /// Frame height, pixels (the ring's).
        public var height: Int
        /// Frame rate (VIDIOC_S_PARM on OUTPUT).
        public var fps: FrameRate
        /// The raw frames are NV12 (else I420, V4L2 "YU12").
        public var nv12: Bool
        /// `encoders.video.bitrate`, b/s (V4L2_CID_MPEG_VIDEO_BITRATE).
        public var bitrate: Int64
        /// `encoders.video.keyint`: GOP length, frames (V4L2_CID_MPEG_VIDEO_GOP_SIZE, H.264 I-period).
        public var gop: Int64
        /// H.264 profile name ("baseline", "main", "high"), nil to leave the driver's default.
        public var profile: String?
        /// Constant rather than variable bitrate (V4L2_CID_MPEG_VIDEO_BITRATE_MODE).
        public var cbr: Bool
        /// Buffers per queue: enough for the driver's pipeline without adding latency.
        public var buffers = 4

        /// Settings for `device`; `profile` nil keeps the driver's default.
        public init(
            device: String, codec: String, width: Int, height: Int, fps: FrameRate, nv12: Bool = false,
            bitrate: Int64, gop: Int64, profile: String? = nil, cbr: Bool = false
        ) {
            self.device = device
            self.codec = codec
            self.width = width
            self.height = height
            self.fps = fps
            self.nv12 = nv12
            self.bitrate = bitrate
            self.gop = gop
            self.profile = profile
            self.cbr = cbr
        }
    }

    /// Coded pixel formats by config name (videodev2.h V4L2_PIX_FMT_*).
    public static let codedFormats: [String: FourCC] = ["h264": .h264, "hevc": .hevc, "fwht": .fwht]
    /// How long a drain may take before the device is declared stuck.
    static let drainTimeoutNs: Int64 = 2 * MediaTime.nanosecondsPerSecond
    /// How long to wait for a free OUTPUT buffer before the device is declared stuck.
    static let stallTimeoutMs: Int32 = 1000
    /// H.264 access unit delimiter (ITU-T H.264 §7.3.2.4, nal_unit_type 9, primary_pic_type 7:
    /// any slice type), which TS carriage expects before every access unit (ETSI TS 101 154 §5.14).
    static let accessUnitDelimiter: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0]

    let settings: Settings
    let device: M2MDevice
    let raw: M2MDevice.Format
    /// The driver's name (VIDIOC_QUERYCAP `driver`, e.g. "bcm2835-codec", "vicodec").
    public let driver: String
    /// Whether the device uses the multi-planar API (V4L2_CAP_VIDEO_M2M_MPLANE).
    public var multiplanar: Bool { device.multiplanar }
    /// Controls the driver refused (name: errno text), for the log and the check command.
    public private(set) var refusedControls: [String] = []

    private var freeOutputs: [Int] = []
    private var inFlight: Int32 = 0
    private var frameIndex: Int64 = 0
    private var times = [(pts: Int64, capture: Int64)](repeating: (0, 0), count: 256)
    private var keyframeRequested = false
    private var scratch: [UInt8] = []
    /// A drain completed (LAST seen); the next frame restarts the encoder.
    public private(set) var drained = false
    private var closed = false

    /// Raw frames queued to the driver.
    public private(set) var framesIn: Int64 = 0
    /// Coded access units handed to `output`.
    public private(set) var accessUnits: Int64 = 0
    /// Of those, keyframes (V4L2_BUF_FLAG_KEYFRAME, or the unit's header where the driver sets no type flag).
    public private(set) var keyframes: Int64 = 0
    /// Coded buffers the driver flagged V4L2_BUF_FLAG_ERROR (dropped).
    public private(set) var corruptBuffers: Int64 = 0
    /// Completed drains (V4L2_ENC_CMD_STOP until LAST).
    public private(set) var drains: Int64 = 0
    /// Always empty: the parameter sets come in-band with every keyframe (REPEAT_SEQ_HEADER).
    public let headers: [UInt8] = []
    /// Frames queued to the driver whose coded buffer has not come back yet.
    public var delayedFrames: Int32 { inFlight }

    /// Opens `settings.device`: formats, rate, controls, buffers, STREAMON (dev-encoder.rst "Initialization");
    /// throws `EncoderError.rejected` naming the field when the device cannot encode as configured.
    public init(settings: Settings) throws {
        self.settings = settings
        guard let coded = Self.codedFormats[settings.codec] else {
            throw EncoderError.rejected(
                field: "encoders.video.codec", reason: "\(settings.codec) is not a mem2mem codec (h264, hevc, fwht)")
        }
        let dev = try M2MDevice(path: settings.device)
        device = dev
        driver = dev.driver
        // 1. The coded format on CAPTURE first: it decides which raw formats OUTPUT offers.
        let c = try dev.setFormat(dev.capture, fourcc: coded, width: settings.width, height: settings.height)
        guard c.fourcc == coded else {
            throw EncoderError.rejected(
                field: "encoders.video.codec",
                reason: "\(settings.device) (\(driver)) does not encode \(settings.codec)")
        }
        // 2. The raw format on OUTPUT: the ring's layout, at the ring's size.
        let want: FourCC = settings.nv12 ? .nv12 : .yuv420
        raw = try dev.setFormat(dev.output, fourcc: want, width: settings.width, height: settings.height)
        guard raw.fourcc == want, raw.width == settings.width, raw.height >= settings.height,
            raw.bytesPerLine >= settings.width
        else {
            throw EncoderError.rejected(
                field: "encoders.video",
                reason: "\(settings.device) (\(driver)) cannot take \(settings.nv12 ? "NV12" : "I420") "
                    + "\(settings.width)x\(settings.height) (it offers \(raw.fourcc) \(raw.width)x\(raw.height))"
            )
        }
        // 3. Rate and controls; a driver without a control keeps its default (logged).
        _ = dev.setFrameRate(numerator: settings.fps.numerator, denominator: settings.fps.denominator)
        applyControls()
        // 4. Buffers and streaming; every CAPTURE buffer goes to the driver at once.
        try dev.node.allocate(&dev.capture, count: settings.buffers)
        try dev.node.allocate(&dev.output, count: settings.buffers)
        for i in dev.capture.buffers.indices { try dev.node.enqueue(dev.capture, index: i) }
        try dev.node.streamOn(dev.output)
        try dev.node.streamOn(dev.capture)
        freeOutputs = Array(dev.output.buffers.indices)
    }

    deinit { close() }

    private func applyControls() {
        var controls: [(String, UInt32, Int32)] = [
            ("gop", UInt32(V4L2_CID_MPEG_VIDEO_GOP_SIZE), Int32(clamping: settings.gop))
        ]
        if settings.codec != "fwht" {
            controls += [
                ("bitrate", UInt32(V4L2_CID_MPEG_VIDEO_BITRATE), Int32(clamping: settings.bitrate)),
                (
                    "bitrate mode", UInt32(V4L2_CID_MPEG_VIDEO_BITRATE_MODE),
                    Int32(
                        settings.cbr
                            ? V4L2_MPEG_VIDEO_BITRATE_MODE_CBR.rawValue : V4L2_MPEG_VIDEO_BITRATE_MODE_VBR.rawValue)
                ),
                // Parameter sets on every IDR, so a receiver can join at any keyframe.
                ("repeat sequence header", UInt32(V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER), 1),
            ]
        }
        if settings.codec == "h264" {
            controls.append(("h264 i-period", UInt32(V4L2_CID_MPEG_VIDEO_H264_I_PERIOD), Int32(clamping: settings.gop)))
            let profiles: [String: UInt32] = [
                "baseline": V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE.rawValue,
                "main": V4L2_MPEG_VIDEO_H264_PROFILE_MAIN.rawValue, "high": V4L2_MPEG_VIDEO_H264_PROFILE_HIGH.rawValue,
            ]
            if let p = settings.profile, let v = profiles[p] {
                controls.append(("h264 profile", UInt32(V4L2_CID_MPEG_VIDEO_H264_PROFILE), Int32(v)))
            }
        }
        for (name, id, value) in controls {
            let e = device.setControl(id, value)
            if e != 0 { refusedControls.append("\(name)=\(value): \(String(cString: strerror(e)))") }
        }
    }

    /// Asks the driver for a keyframe with the next frame (V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME).
    public func forceKeyframe() { keyframeRequested = true }

    /// Copies `frame` into a free OUTPUT buffer and queues it; calls `output` with every coded buffer
    /// that returns within half a frame period (`ptsNs`, `captureNs`: ns, CLOCK_MONOTONIC).
    public func encode(
        frame: UnsafeRawBufferPointer, ptsNs: Int64, captureNs: Int64, output: (VideoAccessUnit) throws -> Void
    ) throws {
        guard !closed else { throw V4L2Error(device: settings.device, operation: "encode after close", code: EBADF) }
        if drained { try restart() }
        let index = try takeOutputBuffer(output)
        copy(frame, into: device.output.buffers[index])
        if keyframeRequested {
            keyframeRequested = false
            if device.setControl(UInt32(V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME), 1) != 0 && frameIndex > 0 {
                refusedControls.append("force key frame")
            }
        }
        let cookie = frameIndex
        frameIndex += 1
        times[Int(cookie % Int64(times.count))] = (ptsNs, captureNs)
        // timeval fields are Int on this platform (32-bit on ARMv7): the cookie wraps after
        // 2^31 s of frames, never in practice; only its low 8 bits index `times`.
        let ts = timeval(tv_sec: Int(cookie / 1_000_000), tv_usec: Int(cookie % 1_000_000))
        try device.node.enqueue(device.output, index: index, bytesUsed: raw.sizeImage, timestamp: ts)
        inFlight += 1
        framesIn += 1
        // Wait up to half a frame period for this frame's coded buffer: low latency without
        // stalling a pipelined encoder for more than its share of a period.
        try collect(untilNs: MonotonicClock.now() + settings.fps.frameDuration / 2, output: output)
    }

    /// Drains: V4L2_ENC_CMD_STOP, then coded buffers until the one flagged LAST (or EPIPE).
    public func flush(output: (VideoAccessUnit) throws -> Void) throws {
        guard !closed, !drained, framesIn > 0 else { return }
        try device.encoderCommand(V4L2_ENC_CMD_STOP)
        let deadline = MonotonicClock.now() + Self.drainTimeoutNs
        while !drained {
            do {
                if let b = try device.node.dequeue(device.capture) {
                    try handle(b, output: output)
                    continue
                }
            } catch let e as V4L2Error where e.isDrained {
                drained = true
                break
            }
            guard MonotonicClock.now() < deadline else {
                throw V4L2Error(device: settings.device, operation: "drain: no LAST buffer within 2 s", code: ETIMEDOUT)
            }
            _ = try device.node.wait(for: Int16(POLLIN), timeoutMs: 100)
        }
        reclaimOutputs()
        drains += 1
        inFlight = 0
    }

    /// Resumes after a drain: V4L2_ENC_CMD_START, then STREAMOFF/STREAMON of CAPTURE, which
    /// dev-encoder.rst also allows and which clears the queue's "last buffer dequeued" state.
    /// Both, because a driver may rely on either: vicodec in Linux 6.1 clears that state on START
    /// only while still stopped, after the shared m2m helper has already un-stopped it, so after
    /// START alone every DQBUF keeps failing with EPIPE. The next frame is a keyframe.
    private func restart() throws {
        try device.encoderCommand(V4L2_ENC_CMD_START)
        device.node.streamOff(device.capture)
        for i in device.capture.buffers.indices { try device.node.enqueue(device.capture, index: i) }
        try device.node.streamOn(device.capture)
        drained = false
    }

    /// Stops both queues and frees the buffers; later calls throw instead of touching the device.
    public func close() {
        guard !closed else { return }
        closed = true
        device.node.streamOff(device.output)
        device.node.streamOff(device.capture)
        device.node.release(&device.output)
        device.node.release(&device.capture)
    }

    /// Tries a dequeue on a stopped queue: the driver's refusal, as the caller sees it (for the
    /// check command's closed-queue test).
    public func probeClosedQueue() -> String {
        do {
            _ = try device.node.dequeue(device.capture)
            return "dequeue succeeded"
        } catch {
            return "\(error)"
        }
    }

    // MARK: Buffers

    private func takeOutputBuffer(_ output: (VideoAccessUnit) throws -> Void) throws -> Int {
        var waited: Int32 = 0
        while true {
            reclaimOutputs()
            if let i = freeOutputs.popLast() { return i }
            guard waited < Self.stallTimeoutMs else {
                throw V4L2Error(
                    device: settings.device, operation: "no raw buffer back within 1 s (encoder stalled)",
                    code: ETIMEDOUT)
            }
            _ = try device.node.wait(for: Int16(POLLOUT | POLLIN), timeoutMs: 20)
            waited += 20
            try collect(untilNs: 0, output: output)
        }
    }

    private func reclaimOutputs() {
        while let b = try? device.node.dequeue(device.output) { freeOutputs.append(b.index) }
    }

    /// Hands out every coded buffer that is ready, waiting until `untilNs` while frames are in flight.
    private func collect(untilNs: Int64, output: (VideoAccessUnit) throws -> Void) throws {
        while true {
            if let b = try device.node.dequeue(device.capture) {
                try handle(b, output: output)
                continue
            }
            let left = untilNs - MonotonicClock.now()
            guard inFlight > 0, left > 0 else { return }
            _ = try device.node.wait(for: Int16(POLLIN), timeoutMs: Int32(max(1, left / MediaTime.millisecond)))
        }
    }

    private func handle(_ b: DequeuedBuffer, output: (VideoAccessUnit) throws -> Void) throws {
        defer { if !closed { try? device.node.enqueue(device.capture, index: b.index) } }
        if b.flags & UInt32(V4L2_BUF_FLAG_LAST) != 0 { drained = true }
        if b.flags & UInt32(V4L2_BUF_FLAG_ERROR) != 0 {
            corruptBuffers += 1
            return
        }
        guard b.bytesUsed > 0 else { return }
        inFlight = max(0, inFlight - 1)
        let cookie = Int64(b.timestamp.tv_sec) * 1_000_000 + Int64(b.timestamp.tv_usec)
        let t = times[Int(cookie % Int64(times.count))]
        let coded = UnsafeRawBufferPointer(rebasing: device.capture.buffers[b.index][0..<b.bytesUsed])
        // The driver's frame-type flag when it sets one; the unit's own header when it sets none.
        let typed = b.flags & UInt32(V4L2_BUF_FLAG_KEYFRAME | V4L2_BUF_FLAG_PFRAME | V4L2_BUF_FLAG_BFRAME) != 0
        let keyframe =
            typed
            ? b.flags & UInt32(V4L2_BUF_FLAG_KEYFRAME) != 0 : CodedKeyframe.isKeyframe(coded, codec: settings.codec)
        accessUnits += 1
        if keyframe { keyframes += 1 }
        // Hardware encoders emit no B-frames at these settings: DTS = PTS.
        if settings.codec == "h264" && !Self.startsWithDelimiter(coded) {
            scratch.removeAll(keepingCapacity: true)
            scratch += Self.accessUnitDelimiter
            scratch += coded
            try scratch.withUnsafeBytes {
                try output(
                    VideoAccessUnit(bytes: $0, ptsNs: t.pts, dtsNs: t.pts, captureNs: t.capture, keyframe: keyframe))
            }
        } else {
            try output(
                VideoAccessUnit(bytes: coded, ptsNs: t.pts, dtsNs: t.pts, captureNs: t.capture, keyframe: keyframe))
        }
    }

    /// Whether an Annex B access unit begins with an AUD (nal_unit_type 9).
    static func startsWithDelimiter(_ au: UnsafeRawBufferPointer) -> Bool {
        if au.count >= 5, au[0] == 0, au[1] == 0, au[2] == 0, au[3] == 1 { return au[4] & 0x1F == 9 }
        if au.count >= 4, au[0] == 0, au[1] == 0, au[2] == 1 { return au[3] & 0x1F == 9 }
        return false
    }

    /// Ring frame (tightly packed) → driver buffer (its line pitch and plane offsets).
    private func copy(_ frame: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer) {
        let w = settings.width
        let h = settings.height
        let pitch = raw.bytesPerLine
        guard let src = frame.baseAddress, let dst = buffer.baseAddress else { return }
        if pitch == w && raw.height == h {
            dst.copyMemory(from: src, byteCount: min(frame.count, buffer.count, w * h * 3 / 2))
            return
        }
        func rows(_ from: Int, _ to: Int, width: Int, count: Int, srcPitch: Int, dstPitch: Int) {
            for r in 0..<count
            where to + r * dstPitch + width <= buffer.count && from + r * srcPitch + width <= frame.count {
                (dst + to + r * dstPitch).copyMemory(from: src + from + r * srcPitch, byteCount: width)
            }
        }
        let lumaDst = pitch * raw.height
        rows(0, 0, width: w, count: h, srcPitch: w, dstPitch: pitch)
        if settings.nv12 {
            rows(w * h, lumaDst, width: w, count: h / 2, srcPitch: w, dstPitch: pitch)
        } else {
            let chromaDst = (pitch / 2) * (raw.height / 2)
            rows(w * h, lumaDst, width: w / 2, count: h / 2, srcPitch: w / 2, dstPitch: pitch / 2)
            rows(w * h * 5 / 4, lumaDst + chromaDst, width: w / 2, count: h / 2, srcPitch: w / 2, dstPitch: pitch / 2)
        }
    }
}
