import CV4L2

#if canImport(Glibc)
import Glibc
#endif

/// One open V4L2 device node, shared by capture (vcap, `rill devices`) and the mem2mem encoder:
/// open and VIDIOC_QUERYCAP, ioctls retried on EINTR with errors that name the device and the
/// call, poll; buffer queues in `VideoDevice+Buffers.swift`. It owns the descriptor and closes it.
/// Non-blocking: waits go through `wait(for:timeoutMs:)`. One thread at a time.
public final class VideoDevice {
    /// How the node's calls reach the kernel.
    public enum Access: Sendable {
        /// Through libv4l2 (`v4l2_fd_open` with V4L2_DISABLE_CONVERSION: its plugins and quirks,
        /// no emulated formats), as capture devices are used.
        case libv4l2
        /// Straight to the kernel (mem2mem encoders: nothing for libv4l2 to do there).
        case kernel
    }

    /// The device node (`/dev/video0`).
    public let path: String
    /// The descriptor (for libv4lconvert's quirk look-ups; this object closes it).
    public let fd: Int32
    /// How calls reach the kernel.
    public let access: Access
    /// `v4l2_capability.driver` ("vivid", "uvcvideo", "bcm2835-codec").
    public let driver: String
    /// `v4l2_capability.card`.
    public let card: String
    /// `v4l2_capability.bus_info`.
    public let bus: String
    /// The node's capabilities (`device_caps` where the driver reports them, else `capabilities`;
    /// V4L2_CAP_* bits).
    public let capabilities: UInt32

    /// Opens `path` read-write, non-blocking, close-on-exec, and asks it VIDIOC_QUERYCAP.
    public init(path: String, access: Access) throws(V4L2Error) {
        let raw = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard raw >= 0 else { throw V4L2Error(device: path, operation: "open", code: errno) }
        if access == .libv4l2 && v4l2_fd_open(raw, Int32(V4L2_DISABLE_CONVERSION)) < 0 {
            let e = errno
            Glibc.close(raw)
            throw V4L2Error(device: path, operation: "v4l2_fd_open", code: e)
        }
        var cap = v4l2_capability()
        let e = retryingOnInterrupt {
            access == .libv4l2
                ? rill_v4l2_ioctl(raw, RILL_VIDIOC_QUERYCAP, &cap) : rill_ioctl(raw, RILL_VIDIOC_QUERYCAP, &cap)
        }
        guard e == 0 else {
            Self.close(raw, access)
            throw V4L2Error(device: path, operation: "VIDIOC_QUERYCAP", code: e)
        }
        self.path = path
        self.access = access
        fd = raw
        driver = Self.string(&cap.driver)
        card = Self.string(&cap.card)
        bus = Self.string(&cap.bus_info)
        capabilities = cap.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities
    }

    deinit { Self.close(fd, access) }

    private static func close(_ fd: Int32, _ access: Access) {
        if access == .libv4l2 { _ = v4l2_close(fd) } else { _ = Glibc.close(fd) }
    }

    /// Whether the node has every capability bit of `bits` (V4L2_CAP_*).
    public func has(_ bits: Int32) -> Bool { capabilities & UInt32(bits) == UInt32(bits) }

    /// A NUL-terminated C string in a fixed array of the V4L2 UAPI (a tuple in Swift).
    public static func string<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// One ioctl, retried on EINTR; returns 0 or the errno. `T` is a plain C struct of the V4L2
    /// UAPI (no references), passed by address.
    public func call<T>(_ request: UInt, _ arg: inout T) -> Int32 {
        withUnsafeMutableBytes(of: &arg) { p in
            retryingOnInterrupt {
                access == .libv4l2
                    ? rill_v4l2_ioctl(fd, request, p.baseAddress) : rill_ioctl(fd, request, p.baseAddress)
            }
        }
    }

    /// One ioctl, retried on EINTR; throws naming the device and `name` (the ioctl, e.g. "VIDIOC_S_FMT").
    public func ioctl<T>(_ request: UInt, _ arg: inout T, _ name: @autoclosure () -> String) throws(V4L2Error) {
        let e = call(request, &arg)
        if e != 0 { throw V4L2Error(device: path, operation: name(), code: e) }
    }

    /// Whether an ioctl succeeds (enumerations end with EINVAL; optional settings may be refused).
    public func tryIoctl<T>(_ request: UInt, _ arg: inout T) -> Bool { call(request, &arg) == 0 }

    /// Waits up to `timeoutMs` for `events` (POLLIN: a filled buffer, POLLOUT: a free OUTPUT
    /// buffer, POLLPRI: an event); returns what happened (0 on timeout or a signal).
    public func wait(for events: Int16, timeoutMs: Int32) throws(V4L2Error) -> Int16 {
        var p = pollfd(fd: fd, events: events, revents: 0)
        let rc = poll(&p, 1, timeoutMs)
        if rc < 0 && errno != EINTR { throw V4L2Error(device: path, operation: "poll", code: errno) }
        return rc > 0 ? p.revents : 0
    }
}
