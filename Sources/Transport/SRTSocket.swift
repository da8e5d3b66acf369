import CSRT
import Config
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// An SRT failure: what we were doing, libsrt's message, and the rejection reason when the peer
/// refused the connection (wrong passphrase, stream id not accepted, …).
public struct SRTError: Error, CustomStringConvertible, Sendable {
    /// What was being done, with its address (`listen :9000`, `caller host:port`, `send`).
    public var operation: String
    /// libsrt's text for the last error (srt_getlasterror_str).
    public var message: String
    /// The socket's rejection reason (srt_getrejectreason: SRT_REJ_*, SRT_REJX_*); nil without a
    /// socket, 0 (SRT_REJ_UNKNOWN) is not shown.
    public var rejectReason: Int32?

    /// `operation: message`, then the rejection reason in words when there is one.
    public var description: String {
        if let r = rejectReason, r != 0 { return "\(operation): \(message); rejected: \(Self.rejectReasonText(r))" }
        return "\(operation): \(message)"
    }

    /// libsrt's text for its own codes (SRT_REJ_*, e.g. "Password required or unexpected"), the
    /// access-control.md name for the predefined server codes (SRT_REJX_*, 1000…1999), the number
    /// for application codes.
    static func rejectReasonText(_ code: Int32) -> String {
        if code < SRT_REJC_PREDEFINED { return "\(String(cString: srt_rejectreason_str(code))) (\(code))" }
        let names: [Int32: String] = [
            SRT_REJX_FALLBACK: "unspecified", SRT_REJX_BAD_REQUEST: "bad request",
            SRT_REJX_UNAUTHORIZED: "unauthorized",
            SRT_REJX_OVERLOAD: "overloaded", SRT_REJX_FORBIDDEN: "forbidden (stream id not accepted)",
            SRT_REJX_NOTFOUND: "resource not found", SRT_REJX_BAD_MODE: "mode not supported",
            SRT_REJX_UNACCEPTABLE: "unacceptable parameters", SRT_REJX_CONFLICT: "resource in use",
            SRT_REJX_LOCKED: "resource locked", SRT_REJX_ISE: "internal server error", SRT_REJX_DOWN: "service down",
        ]
        return "\(names[code] ?? (code < SRT_REJC_USERDEFINED ? "server code" : "application code")) (\(code))"
    }

    static func last(_ operation: String, socket: SRTSOCKET? = nil) -> SRTError {
        SRTError(
            operation: operation, message: String(cString: srt_getlasterror_str()),
            rejectReason: socket.map { srt_getrejectreason($0) })
    }
}

/// Statistics of one SRT connection, from srt_bstats (libsrt SRT_TRACEBSTATS).
public struct SRTConnectionStatistics: Sendable {
    /// The receiver's address, `host:port`.
    public var peer = ""
    /// The connection's stream id (SRTO_STREAMID); empty when none.
    public var streamID = ""
    /// Round-trip time, ms (msRTT).
    public var rttMs = 0.0
    /// Send rate, Mb/s (mbpsSendRate).
    public var sendRateMbps = 0.0
    /// Data packets sent (pktSentTotal).
    public var packetsSent: Int64 = 0
    /// Packets the receiver reported lost (pktSndLossTotal).
    public var packetsLost: Int64 = 0
    /// Packets retransmitted (pktRetransTotal).
    public var packetsRetransmitted: Int64 = 0
    /// Packets dropped unsent, too late for their play time (pktSndDropTotal).
    public var packetsDropped: Int64 = 0
    /// Packets in the send buffer, not yet acknowledged (pktSndBuf).
    public var sendBufferPackets: Int64 = 0
    /// TSBPD latency of the sending side, ms (msSndTsbPdDelay).
    public var latencyMs: Int64 = 0
    /// Bytes sent (byteSentTotal).
    public var bytesSent: Int64 = 0
    /// TS chunks this client skipped because its send buffer was full (slow client).
    public var skippedChunks: Int64 = 0

    var json: String {
        func q(_ s: String) -> String {
            var o = ""
            JSON.quoteForStats(s, into: &o)
            return o
        }
        return "{\"peer\":\(q(peer)),\"streamid\":\(q(streamID)),\"rttMs\":\(rttMs),\"sendRateMbps\":\(sendRateMbps),"
            + "\"packetsSent\":\(packetsSent),\"packetsLost\":\(packetsLost),\"packetsRetransmitted\":\(packetsRetransmitted),"
            + "\"packetsDropped\":\(packetsDropped),\"sendBufferPackets\":\(sendBufferPackets),\"latencyMs\":\(latencyMs),"
            + "\"bytesSent\":\(bytesSent),\"skippedChunks\":\(skippedChunks)}"
    }
}

/// Statistics of an incoming SRT link (srt_bstats, receiver side), as the gateway input reports them.
public struct SRTReceiveStatistics: Sendable {
    /// Round-trip time, ms (msRTT).
    public var rttMs = 0.0
    /// Receive rate, Mb/s (mbpsRecvRate).
    public var receiveRateMbps = 0.0
    /// Data packets received (pktRecvTotal), retransmitted ones included.
    public var packetsReceived: Int64 = 0
    /// Packets found missing (pktRcvLossTotal).
    public var packetsLost: Int64 = 0
    /// Retransmitted packets received (pktRcvRetransTotal).
    public var packetsRetransmitted: Int64 = 0
    /// Missing packets given up at their play time (pktRcvDropTotal, too-late packet drop).
    public var packetsDropped: Int64 = 0
    /// Rebuilt by the packet filter (pktRcvFilterSupplyTotal, SRT FEC).
    public var packetsFilterRecovered: Int64 = 0
    /// Could not be decrypted (pktRcvUndecryptTotal).
    public var packetsUndecrypted: Int64 = 0
    /// Bytes received (byteRecvTotal).
    public var bytesReceived: Int64 = 0
    /// TSBPD latency of the receiving side, ms (msRcvTsbPdDelay).
    public var latencyMs: Int64 = 0

    /// Losses made good before their play time (retransmission or filter): lost − dropped.
    public var packetsRecovered: Int64 { max(0, packetsLost - packetsDropped) }

    /// Adds the counters of a finished connection (RTT, rate and latency are the latest's).
    mutating func accumulate(_ o: SRTReceiveStatistics) {
        packetsReceived += o.packetsReceived
        packetsLost += o.packetsLost
        packetsRetransmitted += o.packetsRetransmitted
        packetsDropped += o.packetsDropped
        packetsFilterRecovered += o.packetsFilterRecovered
        packetsUndecrypted += o.packetsUndecrypted
        bytesReceived += o.bytesReceived
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
    /// The latency (ms) used when the URL names none (libsrt's own default is 120 ms). A libsrt
    /// 1.5 receiver sends its first periodic loss report (NAK) up to 300 ms after a loss (UDT's
    /// minimum NAK interval, before its RTT-based interval takes over), so the first packet of a
    /// connection that is lost and whose immediate NAK or retransmission is lost too comes back
    /// only after ~300 ms: under a shorter latency the receiver drops it (pktRcvDrop, a CC error
    /// in the first second). Measured on loopback with 5 % loss each way, short connections:
    /// latency 120 ms ⇒ 6 of 36 dropped 1–4 packets, all in their first second, none later;
    /// latency 400 ms ⇒ 0 of 40. An explicit `latency=` (or rcvlatency/peerlatency) is kept.
    static let defaultLatencyMs: Int32 = 400
    static let latencyOptions: Set<String> = ["latency", "rcvlatency", "peerlatency"]
    static let int64Options: Set<String> = ["maxbw", "inputbw"]
    static let stringOptions: Set<String> = ["passphrase", "streamid", "packetfilter"]

    private func apply(_ settings: SRTSettings) throws {
        var live = SRTT_LIVE
        try set(SRTO_TRANSTYPE, &live, MemoryLayout<SRT_TRANSTYPE>.size, "transtype")
        var algorithm = Self.defaultRetransmitAlgorithm
        try set(SRTO_RETRANSMITALGO, &algorithm, 4, "retransmitalgo")
        if !settings.options.contains(where: { Self.latencyOptions.contains($0.0) }) {
            var latency = Self.defaultLatencyMs
            try set(SRTO_LATENCY, &latency, 4, "latency")
        }
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
        guard srt_setsockflag(handle, id, value, Int32(size)) != SRT_ERROR else {
            throw SRTError.last("option \(name)")
        }
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

    /// Receiver-side statistics of this connection (srt_bstats without clearing); nil once the
    /// socket is closed.
    func receiveStatistics() -> SRTReceiveStatistics? {
        var perf = SRT_TRACEBSTATS()
        var s = SRTReceiveStatistics()
        guard srt_bstats(handle, &perf, 0) != SRT_ERROR else { return nil }
        s.rttMs = perf.msRTT
        s.receiveRateMbps = perf.mbpsRecvRate
        s.packetsReceived = perf.pktRecvTotal
        s.packetsLost = Int64(perf.pktRcvLossTotal)
        // An interval counter, never cleared here (clear = 0): the total.
        s.packetsRetransmitted = Int64(perf.pktRcvRetrans)
        s.packetsDropped = Int64(perf.pktRcvDropTotal)
        s.packetsFilterRecovered = Int64(perf.pktRcvFilterSupplyTotal)
        s.packetsUndecrypted = Int64(perf.pktRcvUndecryptTotal)
        s.bytesReceived = Int64(truncatingIfNeeded: perf.byteRecvTotal)
        s.latencyMs = Int64(perf.msRcvTsbPdDelay)
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

/// libsrt's own log lines go to the journal as stage "libsrt" (warnings and errors: a wrong
/// passphrase, a refused handshake, …), except the ones that only say what we already handle.
enum SRTLibrary {
    /// libsrt log lines dropped, both about waits that ended with nothing, which Rill handles:
    /// "srt_accept: no pending connection available at the moment" is what a non-blocking accept
    /// with nobody knocking logs (as an error) — about 50 lines a second on an idle listener polled
    /// every 20 ms (Rill now waits with srt_epoll; the filter stays for any non-blocking accept);
    /// "readMessage(): nothing to read. Ignored isRcvDataReady() result?" is what libsrt 1.5.1
    /// logs on every SRTO_RCVTIMEO expiry of a receive (5 a second while a publisher is silent).
    static let suppressedMessages = ["no pending connection available", "nothing to read. Ignored isRcvDataReady"]

    /// srt_startup, and libsrt's logging (LOG_WARNING and worse) through `Log`.
    static func startup() {
        srt_startup()
        srt_setloglevel(4)  // LOG_WARNING
        srt_setloghandler(nil) { _, level, _, _, area, message in
            guard let message else { return }
            var text = String(cString: message)
            if SRTLibrary.suppressedMessages.contains(where: { text.contains($0) }) { return }
            while text.last == "\n" { text.removeLast() }
            let line = "\(area.map { String(cString: $0) } ?? ""): \(text)"
            if level <= 3 { srtLibraryLog.error(line) } else { srtLibraryLog.warning(line) }
        }
    }
}

private let srtLibraryLog = Log(stage: "libsrt")

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
