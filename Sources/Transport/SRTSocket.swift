#if canImport(Glibc)
import Glibc
#endif
import CSRT
import Config
import FrameRing

/// An SRT failure: what we were doing, libsrt's message, and the rejection reason when the peer
/// refused the connection (wrong passphrase, stream id not accepted, …).
public struct SRTError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var message: String
    public var rejectReason: Int32?

    public var description: String {
        if let r = rejectReason, r != 0 { return "\(operation): \(message); rejected: \(String(cString: srt_rejectreason_str(r)))" }
        return "\(operation): \(message)"
    }

    static func last(_ operation: String, socket: SRTSOCKET? = nil) -> SRTError {
        SRTError(
            operation: operation, message: String(cString: srt_getlasterror_str()),
            rejectReason: socket.map { srt_getrejectreason($0) })
    }
}

/// Statistics of one SRT connection, from srt_bstats (libsrt SRT_TRACEBSTATS).
public struct SRTConnectionStatistics: Sendable {
    public var peer = ""
    public var streamID = ""
    public var rttMs = 0.0
    public var sendRateMbps = 0.0
    public var packetsSent: Int64 = 0
    public var packetsLost: Int64 = 0
    public var packetsRetransmitted: Int64 = 0
    public var packetsDropped: Int64 = 0
    public var sendBufferPackets: Int64 = 0
    public var latencyMs: Int64 = 0
    public var bytesSent: Int64 = 0
    /// TS chunks this client skipped because its send buffer was full (slow client).
    public var skippedChunks: Int64 = 0

    var json: String {
        func q(_ s: String) -> String { var o = ""; JSON.quoteForStats(s, into: &o); return o }
        return "{\"peer\":\(q(peer)),\"streamid\":\(q(streamID)),\"rttMs\":\(rttMs),\"sendRateMbps\":\(sendRateMbps),"
            + "\"packetsSent\":\(packetsSent),\"packetsLost\":\(packetsLost),\"packetsRetransmitted\":\(packetsRetransmitted),"
            + "\"packetsDropped\":\(packetsDropped),\"sendBufferPackets\":\(sendBufferPackets),\"latencyMs\":\(latencyMs),"
            + "\"bytesSent\":\(bytesSent),\"skippedChunks\":\(skippedChunks)}"
    }
}

extension JSON {
    /// A JSON string literal of `s` (for the stats files).
    public static func quoteForStats(_ s: String, into out: inout String) { out += JSON.string(s).serialized }
}

/// One SRT socket; closes it on deinit. Options are applied before connect/bind ("pre" options).
/// `@unchecked Sendable`: handed to exactly one thread that sends on it; libsrt calls on one
/// socket from the stats thread (srt_bstats) are thread-safe in libsrt.
final class SRTSocket: @unchecked Sendable {
    let handle: SRTSOCKET

    init(settings: SRTSettings) throws {
        handle = srt_create_socket()
        guard handle != SRT_INVALID_SOCK else { throw SRTError.last("srt_create_socket") }
        do {
            try apply(settings)
        } catch {
            srt_close(handle)
            throw error
        }
    }

    init(accepted: SRTSOCKET) { handle = accepted }

    deinit { srt_close(handle) }

    /// libsrt option ids for Rill's option names.
    static let ids: [String: SRT_SOCKOPT] = [
        "latency": SRTO_LATENCY, "rcvlatency": SRTO_RCVLATENCY, "peerlatency": SRTO_PEERLATENCY,
        "passphrase": SRTO_PASSPHRASE, "pbkeylen": SRTO_PBKEYLEN, "streamid": SRTO_STREAMID,
        "packetfilter": SRTO_PACKETFILTER, "maxbw": SRTO_MAXBW, "inputbw": SRTO_INPUTBW, "oheadbw": SRTO_OHEADBW,
        "payloadsize": SRTO_PAYLOADSIZE, "tlpktdrop": SRTO_TLPKTDROP, "conntimeo": SRTO_CONNTIMEO,
        "peeridletimeo": SRTO_PEERIDLETIMEO, "linger": SRTO_LINGER, "ipttl": SRTO_IPTTL, "iptos": SRTO_IPTOS,
        "retransmitalgo": SRTO_RETRANSMITALGO,
    ]

    /// Rill's default retransmission algorithm: 0 answers every loss report, the periodic ones
    /// included, so a packet whose retransmission is lost again gets another try about every
    /// (RTT + 4·RTTVar)/2 instead of once per RTT. libsrt 1.5 defaults to 1 (reduced), which
    /// saves a little bandwidth but leaves fewer tries inside a 4 × RTT latency at 5 % loss each
    /// way — the contribution case. `?retransmitalgo=1` restores libsrt's default.
    static let defaultRetransmitAlgorithm: Int32 = 0
    static let int64Options: Set<String> = ["maxbw", "inputbw"]
    static let stringOptions: Set<String> = ["passphrase", "streamid", "packetfilter"]

    private func apply(_ settings: SRTSettings) throws {
        var live = SRTT_LIVE
        try set(SRTO_TRANSTYPE, &live, MemoryLayout<SRT_TRANSTYPE>.size, "transtype")
        var algorithm = Self.defaultRetransmitAlgorithm
        try set(SRTO_RETRANSMITALGO, &algorithm, 4, "retransmitalgo")
        for (name, value) in settings.options {
            guard let id = Self.ids[name] else { continue }
            if Self.stringOptions.contains(name) {
                var bytes = Array(value.utf8)
                try set(id, &bytes, bytes.count, name)
            } else if Self.int64Options.contains(name) {
                var v = Int64(value) ?? 0
                try set(id, &v, 8, name)
            } else if name == "linger" {
                var l = linger(l_onoff: (Int32(value) ?? 0) > 0 ? 1 : 0, l_linger: Int32(value) ?? 0)
                try set(id, &l, MemoryLayout<linger>.size, name)
            } else if name == "tlpktdrop" {
                var b = ["1", "true", "yes", "on"].contains(value.lowercased())
                try set(id, &b, MemoryLayout<Bool>.size, name)
            } else {
                var v = Int32(value) ?? 0
                try set(id, &v, 4, name)
            }
        }
    }

    func set(_ id: SRT_SOCKOPT, _ value: UnsafeRawPointer, _ size: Int, _ name: String) throws {
        guard srt_setsockflag(handle, id, value, Int32(size)) != SRT_ERROR else { throw SRTError.last("option \(name)") }
    }

    /// Sends without blocking when `nonBlocking` (then a full send buffer returns false, not an error).
    func setNonBlockingSend() {
        var no = false
        _ = srt_setsockflag(handle, SRTO_SNDSYN, &no, Int32(MemoryLayout<Bool>.size))
    }

    func statistics() -> SRTConnectionStatistics {
        var perf = SRT_TRACEBSTATS()
        var s = SRTConnectionStatistics()
        guard srt_bstats(handle, &perf, 0) != SRT_ERROR else { return s }
        s.rttMs = perf.msRTT
        s.sendRateMbps = perf.mbpsSendRate
        s.packetsSent = perf.pktSentTotal
        s.packetsLost = Int64(perf.pktSndLossTotal)
        s.packetsRetransmitted = Int64(perf.pktRetransTotal)
        s.packetsDropped = Int64(perf.pktSndDropTotal)
        s.sendBufferPackets = Int64(perf.pktSndBuf)
        s.latencyMs = Int64(perf.msSndTsbPdDelay)
        s.bytesSent = Int64(perf.byteSentTotal)
        return s
    }

    /// srt_connect (caller) or srt_rendezvous (binding `settings.localPort`, default the remote
    /// port) to the settings' remote host; returns false after a failure (see SRTError.last).
    func connect(_ settings: SRTSettings) throws -> Bool {
        let remote = try resolveIPv4(settings.host, settings.port)
        let rc = withSockaddr(remote) { addr, len in
            if settings.mode == .rendezvous {
                let local = (try? resolveIPv4("", settings.localPort ?? settings.port)) ?? sockaddr_in()
                return withSockaddr(local) { srt_rendezvous(handle, $0, $1, addr, len) }
            }
            return srt_connect(handle, addr, len)
        }
        return rc != SRT_ERROR
    }

    /// ACK packets received so far (srt_bstats pktRecvACKTotal).
    var acknowledgements: Int64 {
        var perf = SRT_TRACEBSTATS()
        guard srt_bstats(handle, &perf, 0) != SRT_ERROR else { return -1 }
        return Int64(perf.pktRecvACKTotal)
    }

    var streamID: String {
        var buf = [CChar](repeating: 0, count: 600)
        var len = Int32(buf.count)
        guard srt_getsockflag(handle, SRTO_STREAMID, &buf, &len) != SRT_ERROR else { return "" }
        return String(decoding: buf.prefix(Int(len)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Resolves `host` (name or IPv4) and `port` to a sockaddr_in; empty host = INADDR_ANY.
func resolveIPv4(_ host: String, _ port: UInt16) throws -> sockaddr_in {
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_port = port.bigEndian
    if host.isEmpty { return a }
    if let v4 = IPv4Address(host) {
        a.sin_addr.s_addr = v4.value.bigEndian
        return a
    }
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(Glibc.SOCK_DGRAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>? = nil
    let rc = getaddrinfo(host, nil, &hints, &result)
    guard rc == 0, let r = result, let sa = r.pointee.ai_addr else {
        throw SRTError(operation: "resolve \(host)", message: String(cString: gai_strerror(rc)), rejectReason: nil)
    }
    defer { freeaddrinfo(result) }
    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { a.sin_addr = $0.pointee.sin_addr }
    return a
}

func withSockaddr<T>(_ a: sockaddr_in, _ body: (UnsafePointer<sockaddr>, Int32) -> T) -> T {
    var copy = a
    return withUnsafePointer(to: &copy) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, Int32(MemoryLayout<sockaddr_in>.size)) }
    }
}

func describe(_ a: UnsafePointer<sockaddr>?) -> String {
    guard let a, a.pointee.sa_family == sa_family_t(AF_INET) else { return "?" }
    return a.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
        let v = UInt32(bigEndian: $0.pointee.sin_addr.s_addr)
        return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF):\(UInt16(bigEndian: $0.pointee.sin_port))"
    }
}
