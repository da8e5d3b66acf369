import CV4L2
import MediaTime
import Runtime
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// One V4L2 video capture node opened through libv4l2 (conversion disabled: vcap converts itself,
/// straight from the kernel's buffer into the ring). Single-planar capture and mmap streaming on
/// the shared device core (`VideoDevice`); this type adds what capture asks of a node.
final class CaptureDevice {
    /// The node: descriptor, ioctls, buffers.
    let node: VideoDevice
    /// The capture queue and its mapped buffers.
    private var queue = BufferQueue(type: V4L2_BUF_TYPE_VIDEO_CAPTURE)

    /// The device node (`/dev/video0`).
    var path: String { node.path }
    /// The descriptor (libv4lconvert asks it about quirks).
    var fd: Int32 { node.fd }
    /// Driver, card and bus from VIDIOC_QUERYCAP.
    var driver: String { node.driver }
    var card: String { node.card }
    var bus: String { node.bus }
    /// The kernel's buffers, mapped, by index.
    var buffers: [UnsafeMutableRawBufferPointer] { queue.buffers }

    init(path: String) throws(V4L2Error) {
        node = try VideoDevice(path: path, access: .libv4l2)
        guard node.has(V4L2_CAP_VIDEO_CAPTURE), node.has(V4L2_CAP_STREAMING) else {
            throw V4L2Error(
                device: path, operation: "not a single-planar streaming capture device (\(node.driver))", code: ENOTTY)
        }
    }

    private func ioctl<T>(_ request: UInt, _ arg: inout T, _ name: String) throws(V4L2Error) {
        try node.ioctl(request, &arg, name)
    }

    private func tryIoctl<T>(_ request: UInt, _ arg: inout T) -> Bool { node.tryIoctl(request, &arg) }

    // MARK: Enumeration (VIDIOC_ENUM_FMT, _FRAMESIZES, _FRAMEINTERVALS)

    /// The capture formats the device itself offers, with sizes and rates.
    func formats() -> [OfferedFormat] {
        var result: [OfferedFormat] = []
        var desc = v4l2_fmtdesc()
        desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        while tryIoctl(RILL_VIDIOC_ENUM_FMT, &desc) {
            if desc.flags & UInt32(V4L2_FMT_FLAG_EMULATED) == 0 {
                let fourcc = FourCC(rawValue: desc.pixelformat)
                result.append(
                    OfferedFormat(
                        fourcc: fourcc, description: VideoDevice.string(&desc.description),
                        compressed: desc.flags & UInt32(V4L2_FMT_FLAG_COMPRESSED) != 0, sizes: sizes(of: fourcc)))
            }
            desc.index += 1
        }
        return result
    }

    private func sizes(of fourcc: FourCC) -> [OfferedSize] {
        var out: [OfferedSize] = []
        var e = v4l2_frmsizeenum()
        e.pixel_format = fourcc.rawValue
        while tryIoctl(RILL_VIDIOC_ENUM_FRAMESIZES, &e) {
            if e.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                let w = Int(e.discrete.width)
                let h = Int(e.discrete.height)
                out.append(OfferedSize(width: w, height: h, rates: rates(of: fourcc, width: w, height: h)))
            } else {
                let s = e.stepwise
                out.append(
                    OfferedSize(
                        width: Int(s.min_width)...Int(s.max_width), stepWidth: Int(s.step_width),
                        height: Int(s.min_height)...Int(s.max_height), stepHeight: Int(s.step_height),
                        rates: rates(of: fourcc, width: Int(s.max_width), height: Int(s.max_height))))
                break  // stepwise/continuous: one entry only (V4L2 spec, VIDIOC_ENUM_FRAMESIZES)
            }
            e.index += 1
        }
        return out
    }

    private func rates(of fourcc: FourCC, width: Int, height: Int) -> OfferedRates {
        var e = v4l2_frmivalenum()
        e.pixel_format = fourcc.rawValue
        e.width = UInt32(width)
        e.height = UInt32(height)
        var list: [FrameRate] = []
        while tryIoctl(RILL_VIDIOC_ENUM_FRAMEINTERVALS, &e) {
            if e.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue {
                // An interval is seconds per frame: the rate is its inverse.
                list.append(FrameRate(Int64(e.discrete.denominator), Int64(max(e.discrete.numerator, 1))))
            } else {
                let lo = e.stepwise.max
                let hi = e.stepwise.min  // longest interval = lowest rate
                return .range(
                    FrameRate(Int64(lo.denominator), Int64(max(lo.numerator, 1))),
                    FrameRate(Int64(hi.denominator), Int64(max(hi.numerator, 1))))
            }
            e.index += 1
        }
        return list.isEmpty ? .unknown : .discrete(list)
    }

    /// Inputs (VIDIOC_ENUMINPUT) by name.
    func inputs() -> [String] {
        var input = v4l2_input()
        var names: [String] = []
        while tryIoctl(RILL_VIDIOC_ENUMINPUT, &input) {
            names.append(VideoDevice.string(&input.name))
            input.index += 1
        }
        return names
    }

    // MARK: Format and streaming

    /// What VIDIOC_S_FMT/S_PARM settled on.
    struct Negotiated {
        var fourcc: FourCC
        var width: Int
        var height: Int
        var bytesPerLine: Int
        var fps: FrameRate
    }

    func selectInput(_ index: Int) throws(V4L2Error) {
        var i = Int32(index)
        try ioctl(RILL_VIDIOC_S_INPUT, &i, "VIDIOC_S_INPUT \(index)")
    }

    /// Sets the format and rate; the caller checks the driver kept them.
    func setFormat(_ request: CaptureRequest) throws(V4L2Error) -> Negotiated {
        var f = v4l2_format()
        f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        f.fmt.pix.width = UInt32(request.width)
        f.fmt.pix.height = UInt32(request.height)
        f.fmt.pix.pixelformat = request.fourcc.rawValue
        f.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try ioctl(RILL_VIDIOC_S_FMT, &f, "VIDIOC_S_FMT")
        var p = v4l2_streamparm()
        p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        p.parm.capture.timeperframe = v4l2_fract(
            numerator: UInt32(request.fps.denominator), denominator: UInt32(request.fps.numerator))
        var fps = request.fps
        if tryIoctl(RILL_VIDIOC_S_PARM, &p), p.parm.capture.timeperframe.numerator > 0 {
            fps = FrameRate(
                Int64(p.parm.capture.timeperframe.denominator), Int64(p.parm.capture.timeperframe.numerator))
        }
        return Negotiated(
            fourcc: FourCC(rawValue: f.fmt.pix.pixelformat), width: Int(f.fmt.pix.width), height: Int(f.fmt.pix.height),
            bytesPerLine: Int(f.fmt.pix.bytesperline), fps: fps)
    }

    /// Requests and maps `count` mmap buffers, queues them and starts streaming.
    /// On a failure after the mapping, the buffers are unmapped again (the caller retries).
    func startStreaming(count: Int) throws(V4L2Error) {
        try node.allocate(&queue, count: count)
        do {
            for i in queue.buffers.indices { try node.enqueue(queue, index: i) }
            try node.streamOn(queue)
        } catch {
            stopStreaming()
            throw error
        }
    }

    /// Stops streaming and unmaps (errors ignored: the device may be gone).
    func stopStreaming() {
        node.streamOff(queue)
        node.release(&queue)
    }

    /// A dequeued buffer: index, bytes used, kernel timestamp (CLOCK_MONOTONIC ns), sequence.
    struct Frame {
        var index: Int
        var bytesUsed: Int
        var timestamp: Int64
        var sequence: UInt32
        var error: Bool
    }

    // MARK: Source changes (HDMI/SDI receivers)

    /// Asks for V4L2_EVENT_SOURCE_CHANGE (a receiver's input resolution or rate changed); false if
    /// the driver has no such event (webcams).
    func subscribeSourceChange() -> Bool {
        var sub = v4l2_event_subscription()
        sub.type = UInt32(V4L2_EVENT_SOURCE_CHANGE)
        return tryIoctl(RILL_VIDIOC_SUBSCRIBE_EVENT, &sub)
    }

    /// The timings a DV receiver detects on its input (VIDIOC_QUERY_DV_TIMINGS), applied to it
    /// (VIDIOC_S_DV_TIMINGS, only possible while not streaming); nil for inputs without DV timings
    /// or without a locked signal.
    func lockDetectedTimings() -> (width: Int, height: Int, fps: FrameRate)? {
        var t = v4l2_dv_timings()
        guard tryIoctl(RILL_VIDIOC_QUERY_DV_TIMINGS, &t), t.type == V4L2_DV_BT_656_1120 else { return nil }
        _ = tryIoctl(RILL_VIDIOC_S_DV_TIMINGS, &t)
        let bt = t.bt
        let totalWidth = Int64(bt.width + bt.hfrontporch + bt.hsync + bt.hbackporch)
        var totalHeight = Int64(bt.height + bt.vfrontporch + bt.vsync + bt.vbackporch)
        if bt.interlaced != 0 { totalHeight += Int64(bt.il_vfrontporch + bt.il_vsync + bt.il_vbackporch) }
        guard totalWidth > 0, totalHeight > 0, bt.pixelclock > 0 else { return nil }
        var fps = FrameRate.nearestBroadcast(Double(bt.pixelclock) / Double(totalWidth * totalHeight))
        if bt.interlaced != 0 { fps = FrameRate(fps.numerator, fps.denominator * 2) }  // frames, not fields
        return (Int(bt.width), Int(bt.height), fps)
    }

    /// What one wait on the device brought.
    enum Wait {
        case frame(Frame)
        case timeout
        /// V4L2_EVENT_SOURCE_CHANGE: stop, re-detect, restart.
        case sourceChange
    }

    /// Waits up to `timeoutNs` for a frame or a source change event.
    func dequeue(timeoutNs: Int64) throws(V4L2Error) -> Wait {
        let revents = try node.wait(
            for: Int16(POLLIN | POLLPRI), timeoutMs: Int32(max(1, timeoutNs / MediaTime.millisecond)))
        if revents == 0 { return .timeout }
        if revents & Int16(POLLPRI) != 0 {
            var event = v4l2_event()
            if tryIoctl(RILL_VIDIOC_DQEVENT, &event), event.type == UInt32(V4L2_EVENT_SOURCE_CHANGE) {
                return .sourceChange
            }
        }
        if revents & Int16(POLLERR | POLLHUP) != 0 && revents & Int16(POLLIN) == 0 {
            throw V4L2Error(device: path, operation: "poll", code: ENODEV)
        }
        guard let b = try node.dequeue(queue) else { return .timeout }
        // Timestamps are CLOCK_MONOTONIC when the driver says so (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC,
        // every current driver); otherwise the dequeue time stands in.
        let monotonic = b.flags & UInt32(V4L2_BUF_FLAG_TIMESTAMP_MASK) == UInt32(V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
        let ts =
            monotonic
            ? Int64(b.timestamp.tv_sec) * MediaTime.nanosecondsPerSecond + Int64(b.timestamp.tv_usec) * 1000
            : MonotonicClock.now()
        return .frame(
            Frame(
                index: b.index, bytesUsed: b.bytesUsed, timestamp: ts, sequence: b.sequence,
                error: b.flags & UInt32(V4L2_BUF_FLAG_ERROR) != 0))
    }

    /// Gives a buffer back to the driver.
    func requeue(_ index: Int) throws(V4L2Error) { try node.enqueue(queue, index: index) }
}
