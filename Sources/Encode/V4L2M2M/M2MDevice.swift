import CV4L2

#if canImport(Glibc)
import Glibc
#endif

/// A V4L2 call on a mem2mem device that failed: the device, the step, the kernel's errno.
public struct M2MError: Error, CustomStringConvertible, Sendable {
    /// The device node (`/dev/video11`).
    public var device: String
    /// The step that failed (the ioctl or what it was for).
    public var operation: String
    /// The errno.
    public var code: Int32

    /// The CAPTURE queue has handed out its last buffer after a drain (V4L2 stateful encoder
    /// interface, "Drain": DQBUF then fails with EPIPE until the encoder is restarted).
    public var isDrained: Bool { code == EPIPE }
    /// The device went away (a USB encoder unplugged, a driver unbound).
    public var isDeviceGone: Bool { code == ENODEV || code == ENXIO || code == EIO }

    /// "device: operation: strerror (errno N)".
    public var description: String { "\(device): \(operation): \(String(cString: strerror(code))) (errno \(code))" }
}

/// One buffer queue of a mem2mem device: OUTPUT takes raw frames in, CAPTURE gives coded data
/// out (the kernel's naming, seen from the application). mmap buffers of one plane each, through
/// the single- or the multi-planar API, whichever the driver implements (vicodec: either, by
/// module parameter; Raspberry Pi's bcm2835-codec: multi-planar).
struct M2MQueue {
    let type: UInt32
    /// The mapped kernel buffers, by index.
    var buffers: [UnsafeMutableRawBufferPointer] = []

    var name: String {
        switch type {
        case V4L2_BUF_TYPE_VIDEO_OUTPUT.rawValue, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE.rawValue: "OUTPUT"
        default: "CAPTURE"
        }
    }
}

/// A dequeued buffer.
struct M2MBuffer {
    var index: Int
    var bytesUsed: Int
    var flags: UInt32
    var timestamp: timeval
}

/// The queue plumbing of a V4L2 mem2mem node (open, formats, controls, buffers, streaming,
/// commands); `V4L2M2MEncoder` gives it encoder semantics. Non-blocking fd: waits go through poll.
final class M2MDevice {
    let path: String
    let fd: Int32
    let multiplanar: Bool
    let driver: String
    var output: M2MQueue
    var capture: M2MQueue

    init(path: String) throws(M2MError) {
        self.path = path
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw M2MError(device: path, operation: "open", code: errno) }
        var cap = v4l2_capability()
        guard rill_ioctl(fd, RILL_VIDIOC_QUERYCAP, &cap) >= 0 else {
            let e = errno
            close(fd)
            throw M2MError(device: path, operation: "VIDIOC_QUERYCAP", code: e)
        }
        driver = withUnsafeBytes(of: &cap.driver) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let caps = cap.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities
        if caps & UInt32(V4L2_CAP_VIDEO_M2M_MPLANE) != 0 {
            multiplanar = true
            output = M2MQueue(type: V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE.rawValue)
            capture = M2MQueue(type: V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE.rawValue)
        } else if caps & UInt32(V4L2_CAP_VIDEO_M2M) != 0 {
            multiplanar = false
            output = M2MQueue(type: V4L2_BUF_TYPE_VIDEO_OUTPUT.rawValue)
            capture = M2MQueue(type: V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        } else {
            close(fd)
            throw M2MError(device: path, operation: "not a mem2mem device (driver \(driver))", code: ENOTTY)
        }
    }

    deinit {
        unmap(&output)
        unmap(&capture)
        close(fd)
    }

    /// An ioctl, retried on EINTR.
    func ioctl<T>(_ request: UInt, _ arg: inout T, _ name: @autoclosure () -> String) throws(M2MError) {
        while withUnsafeMutableBytes(of: &arg, { rill_ioctl(fd, request, $0.baseAddress) }) < 0 {
            let e = errno
            if e != EINTR { throw M2MError(device: path, operation: name(), code: e) }
        }
    }

    /// What S_FMT settled on for a queue.
    struct Format {
        var fourcc: UInt32
        var width: Int
        var height: Int
        var bytesPerLine: Int
        var sizeImage: Int
    }

    /// VIDIOC_S_FMT on one queue (one plane); `sizeImage` 0 lets the driver choose.
    func setFormat(_ queue: M2MQueue, fourcc: UInt32, width: Int, height: Int, sizeImage: Int = 0) throws(M2MError)
        -> Format
    {
        var f = v4l2_format()
        f.type = queue.type
        if multiplanar {
            f.fmt.pix_mp.width = UInt32(width)
            f.fmt.pix_mp.height = UInt32(height)
            f.fmt.pix_mp.pixelformat = fourcc
            f.fmt.pix_mp.field = V4L2_FIELD_NONE.rawValue
            f.fmt.pix_mp.num_planes = 1
            f.fmt.pix_mp.plane_fmt.0.sizeimage = UInt32(sizeImage)
        } else {
            f.fmt.pix.width = UInt32(width)
            f.fmt.pix.height = UInt32(height)
            f.fmt.pix.pixelformat = fourcc
            f.fmt.pix.field = V4L2_FIELD_NONE.rawValue
            f.fmt.pix.sizeimage = UInt32(sizeImage)
        }
        try ioctl(RILL_VIDIOC_S_FMT, &f, "VIDIOC_S_FMT \(queue.name)")
        if multiplanar {
            let p = f.fmt.pix_mp
            guard p.num_planes == 1 else {
                throw M2MError(
                    device: path, operation: "\(queue.name) format needs \(p.num_planes) planes (one supported)",
                    code: EINVAL)
            }
            return Format(
                fourcc: p.pixelformat, width: Int(p.width), height: Int(p.height),
                bytesPerLine: Int(p.plane_fmt.0.bytesperline), sizeImage: Int(p.plane_fmt.0.sizeimage))
        }
        let p = f.fmt.pix
        return Format(
            fourcc: p.pixelformat, width: Int(p.width), height: Int(p.height), bytesPerLine: Int(p.bytesperline),
            sizeImage: Int(p.sizeimage))
    }

    /// The frame rate on the OUTPUT queue (VIDIOC_S_PARM); false if the driver has no such notion.
    func setFrameRate(numerator: Int64, denominator: Int64) -> Bool {
        var p = v4l2_streamparm()
        p.type = output.type
        p.parm.output.timeperframe = v4l2_fract(numerator: UInt32(denominator), denominator: UInt32(numerator))
        return rill_ioctl(fd, RILL_VIDIOC_S_PARM, &p) >= 0
    }

    /// One control through VIDIOC_S_EXT_CTRLS; returns errno (0 = set).
    func setControl(_ id: UInt32, _ value: Int32) -> Int32 {
        var c = v4l2_ext_control()
        c.id = id
        c.value = value
        return withUnsafeMutablePointer(to: &c) { p in
            var s = v4l2_ext_controls()
            s.which = UInt32(V4L2_CTRL_WHICH_CUR_VAL)
            s.count = 1
            s.controls = p
            return rill_ioctl(fd, RILL_VIDIOC_S_EXT_CTRLS, &s) < 0 ? errno : 0
        }
    }

    /// Requests `count` mmap buffers on a queue and maps them.
    func allocate(_ queue: inout M2MQueue, count: Int) throws(M2MError) {
        var req = v4l2_requestbuffers()
        req.count = UInt32(count)
        req.type = queue.type
        req.memory = V4L2_MEMORY_MMAP.rawValue
        try ioctl(RILL_VIDIOC_REQBUFS, &req, "VIDIOC_REQBUFS \(queue.name)")
        for i in 0..<Int(req.count) {
            var plane = v4l2_plane()
            var b = buffer(queue, index: i, plane: &plane)
            try withPlane(&b, &plane) { (b: inout v4l2_buffer) throws(M2MError) in
                try ioctl(RILL_VIDIOC_QUERYBUF, &b, "VIDIOC_QUERYBUF \(queue.name) \(i)")
            }
            let (offset, length) =
                multiplanar ? (Int64(plane.m.mem_offset), Int(plane.length)) : (Int64(b.m.offset), Int(b.length))
            guard let p = v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset), p != MAP_FAILED else {
                throw M2MError(device: path, operation: "mmap \(queue.name) buffer \(i)", code: errno)
            }
            queue.buffers.append(UnsafeMutableRawBufferPointer(start: p, count: length))
        }
    }

    /// Hands a buffer to the driver (`bytesUsed` of payload; the timestamp travels to the coded
    /// buffer, V4L2_BUF_FLAG_TIMESTAMP_COPY).
    func enqueue(_ queue: M2MQueue, index: Int, bytesUsed: Int, timestamp: timeval = timeval()) throws(M2MError) {
        var plane = v4l2_plane()
        var b = buffer(queue, index: index, plane: &plane)
        b.timestamp = timestamp
        if multiplanar { plane.bytesused = UInt32(bytesUsed) } else { b.bytesused = UInt32(bytesUsed) }
        try withPlane(&b, &plane) { (b: inout v4l2_buffer) throws(M2MError) in
            try ioctl(RILL_VIDIOC_QBUF, &b, "VIDIOC_QBUF \(queue.name) \(index)")
        }
    }

    /// Takes back a buffer the driver is done with; nil if none is ready (EAGAIN).
    func dequeue(_ queue: M2MQueue) throws(M2MError) -> M2MBuffer? {
        var plane = v4l2_plane()
        var b = buffer(queue, index: 0, plane: &plane)
        let rc = withPlane(&b, &plane) { (b: inout v4l2_buffer) -> Int32 in
            while true {
                if rill_ioctl(fd, RILL_VIDIOC_DQBUF, &b) >= 0 { return 0 }
                if errno != EINTR { return errno }
            }
        }
        if rc == EAGAIN { return nil }
        if rc != 0 { throw M2MError(device: path, operation: "VIDIOC_DQBUF \(queue.name)", code: rc) }
        return M2MBuffer(
            index: Int(b.index), bytesUsed: Int(multiplanar ? plane.bytesused : b.bytesused), flags: b.flags,
            timestamp: b.timestamp)
    }

    func streamOn(_ queue: M2MQueue) throws(M2MError) {
        var type = Int32(bitPattern: queue.type)
        try ioctl(RILL_VIDIOC_STREAMON, &type, "VIDIOC_STREAMON \(queue.name)")
    }

    /// Stops a queue; every buffer returns to the application (errors ignored: the device may be gone).
    func streamOff(_ queue: M2MQueue) {
        var type = Int32(bitPattern: queue.type)
        _ = rill_ioctl(fd, RILL_VIDIOC_STREAMOFF, &type)
    }

    /// VIDIOC_ENCODER_CMD (V4L2_ENC_CMD_STOP starts a drain, _START resumes after one).
    func encoderCommand(_ command: Int32) throws(M2MError) {
        var c = v4l2_encoder_cmd()
        c.cmd = UInt32(command)
        try ioctl(
            RILL_VIDIOC_ENCODER_CMD, &c, command == V4L2_ENC_CMD_STOP ? "V4L2_ENC_CMD_STOP" : "V4L2_ENC_CMD_START")
    }

    /// Waits up to `timeoutMs` for `events` (POLLIN: a coded buffer; POLLOUT: a free raw buffer).
    func wait(for events: Int16, timeoutMs: Int32) throws(M2MError) -> Int16 {
        var p = pollfd(fd: fd, events: events, revents: 0)
        let rc = poll(&p, 1, timeoutMs)
        if rc < 0 && errno != EINTR { throw M2MError(device: path, operation: "poll", code: errno) }
        return rc > 0 ? p.revents : 0
    }

    private func buffer(_ queue: M2MQueue, index: Int, plane: inout v4l2_plane) -> v4l2_buffer {
        var b = v4l2_buffer()
        b.type = queue.type
        b.memory = V4L2_MEMORY_MMAP.rawValue
        b.index = UInt32(index)
        if multiplanar { b.length = 1 }
        return b
    }

    /// Runs `body` with the buffer's plane array pointing at `plane` (multi-planar API).
    private func withPlane<R, E: Error>(
        _ b: inout v4l2_buffer, _ plane: inout v4l2_plane, _ body: (inout v4l2_buffer) throws(E) -> R
    ) throws(E) -> R {
        guard multiplanar else { return try body(&b) }
        return try withUnsafeMutablePointer(to: &plane) { (p: UnsafeMutablePointer<v4l2_plane>) throws(E) -> R in
            b.m.planes = p
            defer { b.m.planes = nil }
            return try body(&b)
        }
    }

    private func unmap(_ queue: inout M2MQueue) {
        for b in queue.buffers { v4l2_munmap(b.baseAddress, b.count) }
        queue.buffers = []
    }

    /// Unmaps and frees a queue's buffers (after STREAMOFF).
    func release(_ queue: inout M2MQueue) {
        unmap(&queue)
        var req = v4l2_requestbuffers()
        req.type = queue.type
        req.memory = V4L2_MEMORY_MMAP.rawValue
        _ = rill_ioctl(fd, RILL_VIDIOC_REQBUFS, &req)
    }
}
