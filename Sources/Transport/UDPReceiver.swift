import Config
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// A UDP receive socket bound to a port, joined to a multicast group when given one (ASM, or SSM
/// with a source). Owns the descriptor.
public final class UDPReceiver {
    /// The socket's file descriptor, closed in deinit.
    public let fd: Int32

    /// Binds `port` (on the group address when multicast, else on `host` or any), joins the group.
    public init(host: String, port: UInt16, source: String? = nil, interface: String? = nil) throws {
        fd = socket(AF_INET, Int32(Glibc.SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", "udp") }
        do {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var size: Int32 = 8 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            let group = IPv4Address(host.isEmpty ? "0.0.0.0" : host)
            guard let group else { throw SystemError("inet_pton", host, errno: EINVAL) }
            var a = UDPSocket.socketAddress(group, port)
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard rc == 0 else { throw SystemError("bind", "\(host):\(port)") }
            if group.isMulticast {
                let ifaceAddr = interface.flatMap(IPv4Address.init)?.value ?? 0
                if let source, let src = IPv4Address(source) {
                    var m = ip_mreq_source()
                    m.imr_multiaddr.s_addr = group.value.bigEndian
                    m.imr_sourceaddr.s_addr = src.value.bigEndian
                    m.imr_interface.s_addr = ifaceAddr.bigEndian
                    guard
                        setsockopt(
                            fd, Int32(IPPROTO_IP), IP_ADD_SOURCE_MEMBERSHIP, &m,
                            socklen_t(MemoryLayout<ip_mreq_source>.size)) == 0
                    else {
                        throw SystemError("setsockopt", "IP_ADD_SOURCE_MEMBERSHIP \(host) from \(source)")
                    }
                } else {
                    var m = ip_mreq()
                    m.imr_multiaddr.s_addr = group.value.bigEndian
                    m.imr_interface.s_addr = ifaceAddr.bigEndian
                    guard
                        setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreq>.size))
                            == 0
                    else {
                        throw SystemError("setsockopt", "IP_ADD_MEMBERSHIP \(host)")
                    }
                }
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Receives one datagram into `buffer`, waiting at most `timeoutMs`; returns the byte count,
    /// 0 on timeout.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws -> Int {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, timeoutMs)
        if r == 0 { return 0 }
        if r < 0 {
            if errno == EINTR { return 0 }
            throw SystemError("poll", "udp")
        }
        let n = recv(fd, buffer.baseAddress, buffer.count, 0)
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return 0 }
            throw SystemError("recv", "udp")
        }
        return n
    }
}
