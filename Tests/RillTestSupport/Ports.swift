import Foundation

/// The transport of a port a test asks the kernel for, or waits on.
public enum PortTransport: Sendable {
    /// SOCK_STREAM: the HTTP API.
    case tcp
    /// SOCK_DGRAM: SRT, RIST, RTP and raw UDP.
    case udp
}

/// A port on 127.0.0.1 that the kernel assigned (bind to port 0, read back with getsockname) and
/// that is released again for a box or peer to bind a moment later. It cannot be a port anything
/// on the host holds when it is asked for (a soak run, a box, a parallel test); tests that need
/// several fixed ports or multicast use a `NetworkNamespace` instead.
public func kernelAssignedPort(_ transport: PortTransport) throws -> Int {
    let type = transport == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
    let fd = socket(AF_INET, type, 0)
    guard fd >= 0 else { throw TestEnvironmentError("socket(\(transport)): errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let result = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
            bind(fd, p, length) == 0 ? getsockname(fd, p, &length) : -1
        }
    }
    guard result == 0, addr.sin_port != 0 else {
        throw TestEnvironmentError("bind(127.0.0.1:0, \(transport)): errno \(errno)")
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
