import CV4L2

#if canImport(Glibc)
import Glibc
#endif

/// One buffer queue of a device with its mmap'd buffers: a capture node's CAPTURE queue, or a
/// mem2mem node's OUTPUT (raw frames in) and CAPTURE (coded data out) queues. Buffers have one
/// plane each, through the single- or the multi-planar API as the queue's type says.
public struct BufferQueue {
    /// The `v4l2_buf_type` (V4L2_BUF_TYPE_VIDEO_CAPTURE, _OUTPUT, _CAPTURE_MPLANE, _OUTPUT_MPLANE).
    public let type: UInt32
    /// The mapped kernel buffers, by index (filled by `VideoDevice.allocate`).
    public internal(set) var buffers: [UnsafeMutableRawBufferPointer] = []

    /// A queue of `type` without buffers.
    public init(type: v4l2_buf_type) { self.type = type.rawValue }

    /// Whether the queue uses the multi-planar API (videodev2.h V4L2_TYPE_IS_MULTIPLANAR).
    public var isMultiplanar: Bool {
        type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE.rawValue || type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE.rawValue
    }

    /// "OUTPUT" or "CAPTURE" (the kernel's naming, seen from the application), for messages.
    public var name: String {
        type == V4L2_BUF_TYPE_VIDEO_OUTPUT.rawValue || type == V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE.rawValue
            ? "OUTPUT" : "CAPTURE"
    }
}

/// A buffer taken back from the driver (VIDIOC_DQBUF).
public struct DequeuedBuffer {
    /// Its index in the queue.
    public var index: Int
    /// Bytes of payload (the plane's `bytesused` on a multi-planar queue).
    public var bytesUsed: Int
    /// V4L2_BUF_FLAG_* bits.
    public var flags: UInt32
    /// The driver's timestamp (capture: when the frame was taken; mem2mem: copied from the raw buffer).
    public var timestamp: timeval
    /// The driver's frame counter (gaps are frames the driver dropped).
    public var sequence: UInt32
}

extension VideoDevice {
    /// Requests `count` mmap buffers on `queue` (VIDIOC_REQBUFS; the driver may grant another
    /// count), then VIDIOC_QUERYBUF and maps each one.
    public func allocate(_ queue: inout BufferQueue, count: Int) throws(V4L2Error) {
        var req = v4l2_requestbuffers()
        req.count = UInt32(count)
        req.type = queue.type
        req.memory = V4L2_MEMORY_MMAP.rawValue
        try ioctl(RILL_VIDIOC_REQBUFS, &req, "VIDIOC_REQBUFS \(queue.name)")
        for i in 0..<Int(req.count) {
            var plane = v4l2_plane()
            var b = buffer(queue, index: i)
            try withPlane(queue, &b, &plane) { (b: inout v4l2_buffer) throws(V4L2Error) in
                try ioctl(RILL_VIDIOC_QUERYBUF, &b, "VIDIOC_QUERYBUF \(queue.name) \(i)")
            }
            let (offset, length) =
                queue.isMultiplanar
                ? (Int64(plane.m.mem_offset), Int(plane.length)) : (Int64(b.m.offset), Int(b.length))
            guard let p = v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset), p != MAP_FAILED else {
                throw V4L2Error(device: path, operation: "mmap \(queue.name) buffer \(i)", code: errno)
            }
            queue.buffers.append(UnsafeMutableRawBufferPointer(start: p, count: length))
        }
    }

    /// Unmaps `queue`'s buffers and frees them (VIDIOC_REQBUFS with count 0, after STREAMOFF);
    /// errors are ignored: the device may be gone.
    public func release(_ queue: inout BufferQueue) {
        for b in queue.buffers { _ = v4l2_munmap(b.baseAddress, b.count) }
        queue.buffers = []
        var req = v4l2_requestbuffers()
        req.type = queue.type
        req.memory = V4L2_MEMORY_MMAP.rawValue
        _ = tryIoctl(RILL_VIDIOC_REQBUFS, &req)
    }

    /// Hands buffer `index` to the driver (VIDIOC_QBUF) with `bytesUsed` of payload (0 for an
    /// empty buffer to fill) and `timestamp` (a mem2mem driver copies it to the result).
    public func enqueue(_ queue: BufferQueue, index: Int, bytesUsed: Int = 0, timestamp: timeval = timeval())
        throws(V4L2Error)
    {
        var plane = v4l2_plane()
        var b = buffer(queue, index: index)
        b.timestamp = timestamp
        if queue.isMultiplanar { plane.bytesused = UInt32(bytesUsed) } else { b.bytesused = UInt32(bytesUsed) }
        try withPlane(queue, &b, &plane) { (b: inout v4l2_buffer) throws(V4L2Error) in
            try ioctl(RILL_VIDIOC_QBUF, &b, "VIDIOC_QBUF \(queue.name) \(index)")
        }
    }

    /// Takes back a buffer the driver is done with (VIDIOC_DQBUF); nil if none is ready (EAGAIN).
    public func dequeue(_ queue: BufferQueue) throws(V4L2Error) -> DequeuedBuffer? {
        var plane = v4l2_plane()
        var b = buffer(queue, index: 0)
        let e = withPlane(queue, &b, &plane) { (b: inout v4l2_buffer) -> Int32 in call(RILL_VIDIOC_DQBUF, &b) }
        if e == EAGAIN { return nil }
        if e != 0 { throw V4L2Error(device: path, operation: "VIDIOC_DQBUF \(queue.name)", code: e) }
        return DequeuedBuffer(
            index: Int(b.index), bytesUsed: Int(queue.isMultiplanar ? plane.bytesused : b.bytesused), flags: b.flags,
            timestamp: b.timestamp, sequence: b.sequence)
    }

    /// Starts `queue` (VIDIOC_STREAMON).
    public func streamOn(_ queue: BufferQueue) throws(V4L2Error) {
        var type = Int32(bitPattern: queue.type)
        try ioctl(RILL_VIDIOC_STREAMON, &type, "VIDIOC_STREAMON \(queue.name)")
    }

    /// Stops `queue` (VIDIOC_STREAMOFF): every buffer returns to the application. Errors are
    /// ignored: the device may be gone.
    public func streamOff(_ queue: BufferQueue) {
        var type = Int32(bitPattern: queue.type)
        _ = tryIoctl(RILL_VIDIOC_STREAMOFF, &type)
    }

    private func buffer(_ queue: BufferQueue, index: Int) -> v4l2_buffer {
        var b = v4l2_buffer()
        b.type = queue.type
        b.memory = V4L2_MEMORY_MMAP.rawValue
        b.index = UInt32(index)
        if queue.isMultiplanar { b.length = 1 }  // planes in the array
        return b
    }

    /// Runs `body` with the buffer's plane array pointing at `plane` (multi-planar API).
    private func withPlane<R, E: Error>(
        _ queue: BufferQueue, _ b: inout v4l2_buffer, _ plane: inout v4l2_plane,
        _ body: (inout v4l2_buffer) throws(E) -> R
    ) throws(E) -> R {
        guard queue.isMultiplanar else { return try body(&b) }
        return try withUnsafeMutablePointer(to: &plane) { (p: UnsafeMutablePointer<v4l2_plane>) throws(E) -> R in
            b.m.planes = p
            defer { b.m.planes = nil }
            return try body(&b)
        }
    }
}
