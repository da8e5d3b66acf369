import CSRT
import Config
import FrameRing
import MediaTime
import Runtime

import struct MPEGTS.ContinuityCounter

#if canImport(Glibc)
import Glibc
#endif

/// A gateway `srt://` input: listener (one publisher at a time; `accept=` filters stream ids as
/// MistServer does) or caller (reconnecting with backoff). Each connection's TS is relayed from a
/// clean point (`TSCleanStart`: PAT, PMT, then the video random access point) into the TS ring,
/// each message stamped with its arrival time as send deadline, so every output (RTP multicast +
/// SDP, SRT, …) relays it. The link's srt_bstats figures go to the stage statistics (`recv.json`).
/// `@unchecked Sendable`: run() owns everything but `rejected`, which the listen callback (a
/// libsrt thread) counts under `lock`.
public final class SRTInput: @unchecked Sendable {
    let settings: SRTSettings
    let instance: String
    let log = Log(stage: "recv")
    /// Records published to the TS ring: one per SRT message, more for a message larger than a slot.
    public private(set) var messages: UInt64 = 0
    let events: (any TransportEventSink)?
    /// Written once a second while waiting and while receiving (set by the stage before `run`).
    public var statistics = StageStatistics(path: nil)
    /// How long one wait for a publisher (srt_epoll_uwait) or for a message (SRTO_RCVTIMEO) lasts
    /// before the loop beats the ring and checks for a stop (ms).
    static let waitMs: Int32 = 200
    static let minBackoff: Int64 = MediaTime.nanosecondsPerSecond
    static let maxBackoff: Int64 = 10 * MediaTime.nanosecondsPerSecond

    let lock = Doorbell()
    private var rejectedCount: Int64 = 0
    private var connects: Int64 = 0
    private var peer = ""
    private var streamID = ""
    private var connected = false
    /// Counters of finished connections, and the current connection's latest figures.
    private var past = SRTReceiveStatistics()
    private var link = SRTReceiveStatistics()
    /// The TS continuity_counter rule (ISO/IEC 13818-1 §2.4.3.3), per connection.
    private var continuity = ContinuityCounter()
    private var ccErrors: UInt64 = 0
    private var cleanStart = TSCleanStart()

    /// An input for `url` (`srt://`) writing the TS ring of `instance`, `events` holding the
    /// SRT_ACCEPT handlers; throws a ConfigError naming `source.url` for invalid options.
    public init(url: MediaURL, instance: String, events: (any TransportEventSink)? = nil) throws {
        settings = try SRTSettings.parse(url, path: "source.url")
        self.instance = instance
        self.events = events
    }

    /// The accept list, then the SRT_ACCEPT handlers (the seed's PUSH_REWRITE: a publisher's token).
    /// Called on a libsrt thread during the handshake; a refusal is logged with its reason.
    func admits(peer: String, streamID: String) -> Bool {
        var reason: String? = nil
        if !settings.admits(streamID: streamID) {
            reason =
                "streamid \"\(streamID)\" is not accepted (accept=\(settings.accept?.joined(separator: ",") ?? ""))"
        } else if let events, events.hasAcceptHandler(output: nil),
            case .reject(let why) = events.decideAccept(output: nil, peer: peer, streamID: streamID)
        {
            reason = "SRT_ACCEPT handler: \(why)"
        }
        guard let reason else { return true }
        lock.withLock { rejectedCount += 1 }
        log.warning("rejected publisher \(peer): \(reason); refused with SRT_REJX_FORBIDDEN (1403)")
        return false
    }

    /// Receives on the calling thread until a stop is requested (StopRequest), reconnecting with
    /// backoff (1 s doubling to 10 s); throws when the TS ring cannot be created or bind/listen fails.
    public func run() throws {
        SRTLibrary.startup()
        defer { srt_cleanup() }
        RealtimePriority.apply(RealtimePriority.capture, log: log)
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.transportStream), kind: .transportStream,
            slotCount: Track.tsSlots, slotBytes: Track.tsSlotBytes)
        writer.setFormat(TrackFormat(codec: .mpegts))
        var backoff = Self.minBackoff
        while !StopRequest.isRequested {
            guard let socket = try connectOrAccept(writer: writer, backoff: backoff) else {
                StopRequest.sleep(
                    backoff,
                    tick: {
                        writer.beat()
                        self.tickStatistics()
                    })
                backoff = min(backoff * 2, Self.maxBackoff)
                continue
            }
            backoff = Self.minBackoff
            receive(from: socket, into: writer)
            past.accumulate(link)
            let rtt = link.rttMs
            link = SRTReceiveStatistics()
            link.rttMs = rtt
            connected = false
            tickStatistics()
        }
        connected = false
        statistics.tick(extra: statusExtra())
    }

    /// A connected socket, or nil after a logged failure (caller) or a stop (listener).
    private func connectOrAccept(writer: RingWriter, backoff: Int64) throws -> SRTSocket? {
        let socket = try SRTSocket(settings: settings)
        switch settings.mode {
        case .caller, .rendezvous:
            guard try socket.connect(settings) else {
                // The reason libsrt gives (connection refused, timeout) and the peer's rejection
                // code (wrong passphrase, stream id refused: SRT_REJ_*/SRT_REJX_*).
                let e = SRTError.last(
                    "\(settings.mode.rawValue) \(settings.host):\(settings.port)", socket: socket.handle)
                log.warning("\(e); retrying in \(backoff / MediaTime.millisecond) ms")
                return nil
            }
            log.notice("connected to \(settings.host):\(settings.port)")
            began(peer: "\(settings.host):\(settings.port)", streamID: settings.option("streamid") ?? "")
            return socket
        case .listener:
            let local = try resolveIPv4(settings.host, settings.port)
            guard withSockaddr(local, { srt_bind(socket.handle, $0, $1) }) != SRT_ERROR else {
                throw SRTError.last("bind :\(settings.port)")
            }
            if settings.accept != nil || events?.hasAcceptHandler(output: nil) == true {
                srt_listen_callback(
                    socket.handle,
                    { opaque, ns, _, peer, streamid in
                        let me = Unmanaged<SRTInput>.fromOpaque(opaque!).takeUnretainedValue()
                        if me.admits(peer: describe(peer), streamID: streamid.map { String(cString: $0) } ?? "") {
                            return 0
                        }
                        srt_setrejectreason(ns, SRT_REJX_FORBIDDEN)  // 1403, access-control.md
                        return -1
                    }, Unmanaged.passUnretained(self).toOpaque())
            }
            guard srt_listen(socket.handle, 1) != SRT_ERROR else { throw SRTError.last("listen :\(settings.port)") }
            log.notice("listening for a publisher on :\(settings.port)")
            return acceptPublisher(socket, writer: writer)
        }
    }

    /// Waits for a publisher with srt_epoll (nothing is logged while nobody knocks: a
    /// non-blocking srt_accept polled in a loop made libsrt log an error on every try).
    private func acceptPublisher(_ listener: SRTSocket, writer: RingWriter) -> SRTSocket? {
        var nonBlocking = false
        _ = srt_setsockflag(listener.handle, SRTO_RCVSYN, &nonBlocking, Int32(MemoryLayout<Bool>.size))
        let eid = srt_epoll_create()
        guard eid >= 0 else {
            log.error("\(SRTError.last("srt_epoll_create"))")
            return nil
        }
        defer { srt_epoll_release(eid) }
        var events = Int32(bitPattern: SRT_EPOLL_IN.rawValue | SRT_EPOLL_ERR.rawValue)
        guard srt_epoll_add_usock(eid, listener.handle, &events) != SRT_ERROR else {
            log.error("\(SRTError.last("srt_epoll_add_usock"))")
            return nil
        }
        while !StopRequest.isRequested {
            var ready = SRT_EPOLL_EVENT()
            let n = srt_epoll_uwait(eid, &ready, 1, Int64(Self.waitMs))
            writer.beat()
            tickStatistics()
            guard n > 0 else {
                // Not a busy loop on an epoll error.
                if n < 0 { StopRequest.sleep(Int64(Self.waitMs) * MediaTime.millisecond) }
                continue
            }
            var addr = sockaddr_in()
            var len = Int32(MemoryLayout<sockaddr_in>.size)
            let ns = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { srt_accept(listener.handle, $0, &len) }
            }
            guard ns != SRT_INVALID_SOCK else {
                if srt_getlasterror(nil) != SRT_EASYNCRCV.rawValue { log.warning("\(SRTError.last("accept"))") }
                continue
            }
            let client = SRTSocket(accepted: ns)
            var blocking = true
            _ = srt_setsockflag(client.handle, SRTO_RCVSYN, &blocking, Int32(MemoryLayout<Bool>.size))
            let peer = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { describe($0) }
            }
            let id = client.streamID
            log.notice("publisher \(peer) connected\(id.isEmpty ? "" : " (streamid \"\(id)\")")")
            began(peer: peer, streamID: id)
            return client
        }
        return nil
    }

    private func began(peer: String, streamID: String) {
        self.peer = peer
        self.streamID = streamID
        connected = true
        connects += 1
        continuity.reset()
        cleanStart.reset()
    }

    private func receive(from socket: SRTSocket, into writer: RingWriter) {
        var timeout = Self.waitMs  // SRTO_RCVTIMEO, so a stop or a dead peer is noticed
        _ = srt_setsockflag(socket.handle, SRTO_RCVTIMEO, &timeout, 4)
        // A message holds at most 7 packets (1316 bytes); the clean start puts PAT and PMT in front.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 16)
        let filtered = UnsafeMutableRawBufferPointer.allocate(
            byteCount: 1500 + 2 * RandomAccess.packetSize, alignment: 16)
        defer {
            buffer.deallocate()
            filtered.deallocate()
        }
        var discontinuity = true
        var lastStats = MonotonicClock.now()
        while !StopRequest.isRequested {
            let now = MonotonicClock.now()
            if now - lastStats >= MediaTime.nanosecondsPerSecond {
                lastStats = now
                if let s = socket.receiveStatistics() { link = s }
            }
            tickStatistics()
            let n = srt_recvmsg(
                socket.handle, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count))
            if n == SRT_ERROR {
                if srt_getlasterror(nil) == SRT_ETIMEOUT.rawValue {
                    writer.beat()
                    continue
                }
                if let s = socket.receiveStatistics() { link = s }
                log.warning("connection with \(peer) ended: \(SRTError.last("receive")); \(summary)")
                return
            }
            // Whole TS packets only (a 1316-byte message holds 7); anything else is dropped.
            let usable = Int(n) / RandomAccess.packetSize * RandomAccess.packetSize
            guard usable > 0, usable <= buffer.count else { continue }
            var ts = UnsafeRawBufferPointer(rebasing: buffer[0..<usable])
            if !cleanStart.passesEverything {
                let wasOpen = cleanStart.state == .open
                let kept = cleanStart.filter(ts, into: filtered)
                if !wasOpen, cleanStart.state == .open {
                    log.notice(
                        "relaying from a clean point: PAT, PMT (PID \(cleanStart.pmtPID)), then "
                            + (cleanStart.videoPID.map { "a random access point on video PID \($0)" } ?? "no video")
                            + "; \(cleanStart.skippedPackets) packets (\(cleanStart.skippedVideoUnits) video PES starts) held back"
                    )
                }
                ts = UnsafeRawBufferPointer(rebasing: filtered[0..<kept])
            }
            var offset = 0
            while offset < ts.count {
                let piece = UnsafeRawBufferPointer(
                    rebasing: ts[offset..<min(ts.count, offset + Int(Track.tsSlotBytes))])
                offset += piece.count
                ccErrors &+= UInt64(continuity.check(packets: piece))
                let at = MonotonicClock.now()
                _ = try? writer.publish(
                    RecordInfo(
                        flags: discontinuity ? .discontinuity : [], pts: at, captureTime: at,
                        aux0: UInt32(piece.count / 188)),
                    bytes: piece)
                discontinuity = false
                statistics.count(bytes: piece.count)
                messages &+= 1
            }
        }
    }

    private var summary: String {
        let t = totals
        return "received \(t.packetsReceived) packets, lost \(t.packetsLost), retransmitted \(t.packetsRetransmitted), "
            + "dropped \(t.packetsDropped), CC errors \(ccErrors)"
    }

    /// All connections' counters so far.
    private var totals: SRTReceiveStatistics {
        var t = past
        t.accumulate(link)
        return t
    }

    private func tickStatistics() {
        statistics.dropped = UInt64(max(0, totals.packetsDropped))
        statistics.tick(extra: statusExtra())
    }

    /// The stats file's members beyond StageStatistics' own (`dropped` = SRT too-late drops).
    private func statusExtra() -> String {
        let t = totals
        func q(_ s: String) -> String { JSON.string(s).serialized }
        let rejected = lock.withLock { rejectedCount }
        return
            "\"type\":\"gateway\",\"url\":\(q("srt://\(settings.host):\(settings.port)")),\"mode\":\(q(settings.mode.rawValue)),"
            + "\"connected\":\(connected),\"peer\":\(q(peer)),\"streamid\":\(q(streamID)),\"connects\":\(connects),"
            + "\"rejected\":\(rejected),\"rttMs\":\(link.rttMs),\"receiveRateMbps\":\(link.receiveRateMbps),"
            + "\"latencyMs\":\(link.latencyMs),\"received\":\(t.packetsReceived),\"lost\":\(t.packetsLost),"
            + "\"retransmitted\":\(t.packetsRetransmitted),\"recovered\":\(t.packetsRecovered),"
            + "\"filterRecovered\":\(t.packetsFilterRecovered),\"undecrypted\":\(t.packetsUndecrypted),"
            + "\"bytesReceived\":\(t.bytesReceived),\"ccErrors\":\(ccErrors),\"messages\":\(messages)"
    }
}
