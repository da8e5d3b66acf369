#if canImport(Glibc)
import Glibc
#endif
import CSRT
import Config
import Events
import FrameRing
import MediaTime

/// A gateway `srt://` input: listener (one publisher at a time; `accept=` filters stream ids as
/// MistServer does) or caller (reconnecting with backoff). Whatever TS arrives is written, as
/// received, into the TS ring, each message stamped with its arrival time as send deadline, so
/// every output (RTP multicast + SDP, SRT, …) relays it.
public final class SRTInput: @unchecked Sendable {
    // Invariant: run() owns everything; the listen callback only reads `settings`.
    let settings: SRTSettings
    let instance: String
    let log = Log(stage: "recv")
    public private(set) var messages: UInt64 = 0
    let events: StageEvents?

    public init(url: MediaURL, instance: String, events: StageEvents? = nil) throws {
        settings = try SRTSettings.parse(url, path: "source.url")
        self.instance = instance
        self.events = events
    }

    /// The accept list, then the SRT_ACCEPT handlers (the seed's PUSH_REWRITE: a publisher's token).
    func admits(peer: String, streamID: String) -> Bool {
        guard settings.admits(streamID: streamID) else {
            log.warning("rejected publisher \(peer): streamid \"\(streamID)\" is not accepted")
            return false
        }
        guard let events, events.hasAcceptHandler(output: nil) else { return true }
        if case .reject(let why) = events.decideAccept(output: nil, peer: peer, streamID: streamID) {
            log.warning("rejected publisher \(peer): SRT_ACCEPT: \(why)")
            return false
        }
        return true
    }

    public func run() throws {
        srt_startup()
        defer { srt_cleanup() }
        RealtimePriority.apply(RealtimePriority.capture, log: log)
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.transportStream), kind: .transportStream,
            slotCount: Track.tsSlots, slotBytes: Track.tsSlotBytes)
        writer.setFormat(TrackFormat(codec: .mpegts))
        var backoff = MediaTime.nanosecondsPerSecond
        while !StopRequest.isRequested {
            guard let socket = try connectOrAccept(writer: writer) else {
                StopRequest.sleep(backoff, tick: writer.beat)
                backoff = min(backoff * 2, 10 * MediaTime.nanosecondsPerSecond)
                continue
            }
            backoff = MediaTime.nanosecondsPerSecond
            receive(from: socket, into: writer)
            log.warning("input connection ended")
        }
    }

    /// A connected socket, or nil after a logged failure.
    private func connectOrAccept(writer: RingWriter) throws -> SRTSocket? {
        let socket = try SRTSocket(settings: settings)
        switch settings.mode {
        case .caller, .rendezvous:
            guard try socket.connect(settings) else {
                log.warning("\(SRTError.last("connect \(settings.host):\(settings.port)", socket: socket.handle))")
                return nil
            }
            log.notice("connected to \(settings.host):\(settings.port)")
            return socket
        case .listener:
            let local = try resolveIPv4(settings.host, settings.port)
            guard withSockaddr(local, { srt_bind(socket.handle, $0, $1) }) != SRT_ERROR else {
                throw SRTError.last("bind :\(settings.port)")
            }
            if settings.accept != nil || events?.hasAcceptHandler(output: nil) == true {
                srt_listen_callback(socket.handle, { opaque, ns, _, peer, streamid in
                    let me = Unmanaged<SRTInput>.fromOpaque(opaque!).takeUnretainedValue()
                    if me.admits(peer: describe(peer), streamID: streamid.map { String(cString: $0) } ?? "") { return 0 }
                    srt_setrejectreason(ns, SRT_REJX_FORBIDDEN)
                    return -1
                }, Unmanaged.passUnretained(self).toOpaque())
            }
            guard srt_listen(socket.handle, 1) != SRT_ERROR else { throw SRTError.last("listen :\(settings.port)") }
            log.notice("listening for a publisher on :\(settings.port)")
            // Wait for a publisher without blocking a stop: poll the listener with a short timeout.
            var rcvsyn = false
            _ = srt_setsockflag(socket.handle, SRTO_RCVSYN, &rcvsyn, Int32(MemoryLayout<Bool>.size))
            while !StopRequest.isRequested {
                var addr = sockaddr_in()
                var len = Int32(MemoryLayout<sockaddr_in>.size)
                let ns = withUnsafeMutablePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { srt_accept(socket.handle, $0, &len) }
                }
                if ns != SRT_INVALID_SOCK {
                    let client = SRTSocket(accepted: ns)
                    var syn = true
                    _ = srt_setsockflag(client.handle, SRTO_RCVSYN, &syn, Int32(MemoryLayout<Bool>.size))
                    let peer = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { describe($0) } }
                    log.notice("publisher \(peer) connected\(client.streamID.isEmpty ? "" : " (streamid \"\(client.streamID)\")")")
                    return client
                }
                writer.beat()
                MonotonicClock.sleep(until: MonotonicClock.now() + 20 * MediaTime.millisecond)
            }
            return nil
        }
    }

    private func receive(from socket: SRTSocket, into writer: RingWriter) {
        var timeout: Int32 = 200  // ms: SRTO_RCVTIMEO, so a stop or a dead peer is noticed
        _ = srt_setsockflag(socket.handle, SRTO_RCVTIMEO, &timeout, 4)
        var buffer = [CChar](repeating: 0, count: 1500)
        var discontinuity = true
        while !StopRequest.isRequested {
            let n = srt_recvmsg(socket.handle, &buffer, Int32(buffer.count))
            if n == SRT_ERROR {
                if srt_getlasterror(nil) == SRT_ETIMEOUT.rawValue {
                    writer.beat()
                    continue
                }
                log.warning("\(SRTError.last("receive"))")
                return
            }
            guard n > 0 else { continue }
            // Whole TS packets only (a 1316-byte message holds 7); anything else is dropped.
            let usable = Int(n) / 188 * 188
            guard usable > 0, usable <= Int(Track.tsSlotBytes) else { continue }
            let now = MonotonicClock.now()
            buffer.withUnsafeBytes {
                try? writer.publish(
                    RecordInfo(flags: discontinuity ? .discontinuity : [], pts: now, captureTime: now, aux0: UInt32(usable / 188)),
                    bytes: UnsafeRawBufferPointer(rebasing: $0[0..<usable]))
            }
            discontinuity = false
            messages &+= 1
        }
    }
}
