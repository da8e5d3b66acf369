import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// Stages tell the supervisor about their events over a Unix datagram socket in the instance's
/// run directory (`events.sock`). Sending never blocks: when the supervisor is busy or gone the
/// event is dropped and counted, so a stage's timing never depends on event handling.
public final class EventChannel: @unchecked Sendable {
    /// Largest datagram, bytes.
    public static let maxDatagram = Event.maxDatagram
    /// The socket's path for an instance directory.
    public static func path(instanceDirectory: String) -> String { instanceDirectory + "/events.sock" }

    private let fd: Int32
    private let path: String
    private let bound: Bool

    /// A sending end (stages).
    public init(sendingTo path: String) {
        fd = socket(
            AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        self.path = path
        bound = false
    }

    /// The receiving end (the supervisor): binds `path`, replacing a stale socket.
    public init(receivingAt path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", path) }
        self.path = path
        bound = true
        unlink(path)
        var addr = try Self.address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = SystemError("bind", path)
            close(fd)
            throw e
        }
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        close(fd)
        if bound { unlink(path) }
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError("socket path", path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return addr
    }

    /// Sends `event` without waiting; false when it was dropped.
    @discardableResult
    public func send(_ event: Event) -> Bool {
        guard fd >= 0, var addr = try? Self.address(path) else { return false }
        let d = event.datagram
        guard d.count <= Self.maxDatagram else { return false }
        let n = d.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(
                        fd, buf.baseAddress, buf.count, Int32(MSG_DONTWAIT), $0,
                        socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return n == d.count
    }

    /// Waits up to `timeoutMs` for one event; nil on timeout or a datagram that is not an event.
    public func receive(timeoutMs: Int32) -> Event? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeoutMs) == 1 else { return nil }
        var buf = [UInt8](repeating: 0, count: Self.maxDatagram + 1)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard n > 0 else { return nil }
        return Event.parse(datagram: Array(buf[0..<n]))
    }
}
