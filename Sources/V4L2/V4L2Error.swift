#if canImport(Glibc)
import Glibc
#endif

/// A V4L2 call that failed: the device node, the call (an ioctl's name, with the queue where it
/// has one, or the step such as "open" or "mmap CAPTURE buffer 2") and the kernel's errno.
public struct V4L2Error: Error, CustomStringConvertible, Sendable {
    /// The device node (`/dev/video0`).
    public var device: String
    /// The call that failed (`VIDIOC_DQBUF CAPTURE`, `open`).
    public var operation: String
    /// The errno.
    public var code: Int32

    /// The error of `operation` on `device` with errno `code`.
    public init(device: String, operation: String, code: Int32) {
        self.device = device
        self.operation = operation
        self.code = code
    }

    /// The device went away (unplugged, a driver unbound, vivid's "Disconnect", its node removed):
    /// close it and reopen later.
    public var isDeviceGone: Bool { code == ENODEV || code == ENXIO || code == ENOENT || code == EIO }

    /// A mem2mem CAPTURE queue has handed out its last buffer after a drain (V4L2 stateful encoder
    /// interface, dev-encoder.rst "Drain": VIDIOC_DQBUF then fails with EPIPE until a restart).
    public var isDrained: Bool { code == EPIPE }

    /// "device: operation: strerror (errno N)".
    public var description: String { "\(device): \(operation): \(String(cString: strerror(code))) (errno \(code))" }
}

/// Runs `call` (a system call returning -1 with `errno` set on failure) again while it fails with
/// EINTR (a signal arrived first: POSIX, "Interrupted function call"), and returns 0 once it
/// succeeds or the errno of its first other failure.
@inline(__always)
public func retryingOnInterrupt(_ call: () -> Int32) -> Int32 {
    while true {
        if call() >= 0 { return 0 }
        let e = errno
        if e != EINTR { return e }
    }
}
