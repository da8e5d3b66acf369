import CRillShims
import Config
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket for one output destination, set up for multicast when the destination
/// is a group: TTL, outgoing interface, loopback on (so local receivers work), optional source
/// address (for SSM receivers) and TOS/DSCP. Owns the descriptor.
public final class UDPSocket {
    /// The file descriptor.
    public let fd: Int32
    /// The destination.
    public let destination: IPv4Address
    /// The destination UDP port (the URL's port + `portOffset`).
    public let port: UInt16
    /// The destination as a sockaddr_in (for sendmmsg's msg_name).
    public private(set) var address = sockaddr_in()

    /// Opens a socket to `host:port` with the URL's options (ttl, iface, source, tos).
    public init(url: MediaURL, portOffset: UInt16 = 0) throws {
        guard let dest = IPv4Address(url.host) else {
            throw SystemError("inet_pton", url.host, errno: EINVAL)
        }
        destination = dest
        port = url.port &+ portOffset
        fd = socket(AF_INET, Int32(Glibc.SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", "udp") }
        do {
            try setOption(SOL_SOCKET, SO_SNDBUF, Int32(4 << 20), "SO_SNDBUF")
            if let tos = url.option("tos").flatMap(Int32.init) {
                try setOption(Int32(IPPROTO_IP), IP_TOS, tos, "IP_TOS")
            }
            if dest.isMulticast {
                let ttl = url.option("ttl").flatMap(Int32.init) ?? 1
                try setOption(Int32(IPPROTO_IP), IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL")
                try setOption(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, 1, "IP_MULTICAST_LOOP")
                if let iface = url.option("iface") { try setInterface(iface) }
            } else if let ttl = url.option("ttl").flatMap(Int32.init) {
                try setOption(Int32(IPPROTO_IP), IP_TTL, ttl, "IP_TTL")
            }
            if let source = url.option("source"), let src = IPv4Address(source) {
                var a = Self.socketAddress(src, 0)
                let rc = withUnsafePointer(to: &a) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard rc == 0 else { throw SystemError("bind", source) }
            }
            // Not connect()ed: a connected UDP socket reports ICMP port-unreachable as ECONNREFUSED
            // on the next send; a broadcast sender must not care whether anyone listens.
            address = Self.socketAddress(dest, port)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    static func socketAddress(_ a: IPv4Address, _ port: UInt16) -> sockaddr_in {
        var s = sockaddr_in()
        s.sin_family = sa_family_t(AF_INET)
        s.sin_port = port.bigEndian
        s.sin_addr.s_addr = a.value.bigEndian
        return s
    }

    private func setOption(_ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemError("setsockopt", label)
        }
    }

    /// IP_MULTICAST_IF by interface name (ip_mreqn with the index) or by local address.
    private func setInterface(_ iface: String) throws {
        var m = ip_mreqn()
        if let a = IPv4Address(iface) {
            m.imr_address.s_addr = a.value.bigEndian
        } else {
            let index = if_nametoindex(iface)
            guard index > 0 else { throw SystemError("if_nametoindex", iface) }
            m.imr_ifindex = Int32(index)
        }
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &m, socklen_t(MemoryLayout<ip_mreqn>.size)) == 0 else {
            throw SystemError("setsockopt", "IP_MULTICAST_IF \(iface)")
        }
    }

    /// Sends `count` datagrams to the destination with one sendmmsg(2); returns the number sent or -1.
    public func send(_ datagrams: UnsafePointer<rill_datagram>, count: Int) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                rill_sendmmsg(fd, datagrams, UInt32(count), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The local address the kernel would use toward the destination (for the SDP origin line).
    public var localAddress: IPv4Address? {
        // A throw-away connected socket asks the routing table without sending anything.
        let probe = socket(AF_INET, Int32(Glibc.SOCK_DGRAM.rawValue), 0)
        guard probe >= 0 else { return nil }
        defer { close(probe) }
        var d = address
        let rc0 = withUnsafePointer(to: &d) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc0 == 0 else { return nil }
        let fd = probe
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        var v = IPv4Address("0.0.0.0")!
        v.value = UInt32(bigEndian: a.sin_addr.s_addr)
        return v
    }
}
