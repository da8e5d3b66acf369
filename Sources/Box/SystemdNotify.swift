import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: datagrams to `$NOTIFY_SOCKET` (`READY=1`, `WATCHDOG=1`,
/// `STATUS=…`, `STOPPING=1`). A no-op when not started by systemd.
public final class SystemdNotify: @unchecked Sendable {
    // Invariant: fd and address are set once in init; `lastWatchdog` only by the supervisor thread.
    private let fd: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// Half of `WATCHDOG_USEC` (systemd's advice), nil without a watchdog.
    public let watchdogInterval: Int64?
    private var lastWatchdog: Int64 = 0

    /// Reads `$NOTIFY_SOCKET` (a leading `@`: abstract namespace) and `WATCHDOG_USEC` (µs);
    /// without the socket every call is a no-op.
    public init() {
        guard let p = getenv("NOTIFY_SOCKET") else {
            fd = -1
            watchdogInterval = nil
            return
        }
        var path = Array(String(cString: p).utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.prefix(capacity - 1).enumerated() { raw[i] = b }
        }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + min(path.count, capacity - 1))
        if let w = getenv("WATCHDOG_USEC"), let us = Int64(String(cString: w)), us > 0 {
            watchdogInterval = us * 1000 / 2
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether systemd listens.
    public var isActive: Bool { fd >= 0 }

    /// Sends `state` (e.g. "READY=1\nSTATUS=streaming").
    public func send(_ state: String) {
        guard fd >= 0 else { return }
        let bytes = Array(state.utf8)
        _ = bytes.withUnsafeBytes { buf in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
    }

    /// Pets the watchdog when half its period has passed (call from the supervisor loop: if the
    /// loop hangs, systemd restarts the box).
    public func watchdogTick() {
        guard let interval = watchdogInterval else { return }
        let now = MonotonicClock.now()
        if now - lastWatchdog >= interval {
            send("WATCHDOG=1")
            lastWatchdog = now
        }
    }
}
