import CSRT
import Config
import FrameRing
import MediaTime
import Runtime

import enum MPEGTS.TS
import struct MPEGTS.TSResume

#if canImport(Glibc)
import Glibc
#endif

/// An `srt://` output (libsrt, live mode): caller (reconnects forever with backoff 1 s → 10 s),
/// listener (any number of clients, each fed from the TS ring by its own thread with a
/// non-blocking send, so a stalled client skips ahead without delaying the others), or
/// rendezvous. Chunks leave at their deadlines; SRT's TSBPD keeps that timing at the receiver.
/// `@unchecked Sendable`: the client table and counters are only touched under `lock`.
public final class SRTOutput: @unchecked Sendable {
    let output: OutputSection
    let settings: SRTSettings
    let instance: String
    let statsPath: String?
    let log: Log
    /// The video PID (unused by the sending itself: `TSResume` reads the video PID from the PMT).
    let videoPID: UInt16
    let lock = Doorbell()
    private var clients: [Int32: (socket: SRTSocket, stats: SRTConnectionStatistics)] = [:]
    private var connects = 0
    private var rejected = 0
    /// TS packets and bytes handed to libsrt since the stage started, summed over all clients (a
    /// listener with N clients counts the stream N times; per-client counts are in `peers`).
    private var packetsSent: Int64 = 0
    private var bytesSent: Int64 = 0
    /// Names given by SRT_ACCEPT handlers, by accepted socket (the listen callback sees the socket first).
    private var names: [Int32: String] = [:]
    let events: (any TransportEventSink)?
    static let minBackoff: Int64 = MediaTime.nanosecondsPerSecond
    static let maxBackoff: Int64 = 10 * MediaTime.nanosecondsPerSecond

    /// Callers notice a vanished receiver after this long unless `peeridletimeo` says otherwise
    /// (libsrt's 5 s default would keep a restarted receiver waiting; with data flowing the
    /// receiver ACKs every 10 ms, so 1.5 s of silence means it is gone).
    static let callerPeerIdleTimeout = "1500"
    /// No ACK for this long while sending ⇒ the peer is gone (see `stream`).
    static let ackTimeout: Int64 = 1_000 * MediaTime.millisecond

    public init(
        output: OutputSection, instance: String, statsPath: String?, videoPID: UInt16,
        events: (any TransportEventSink)? = nil
    ) throws {
        self.videoPID = videoPID
        self.events = events
        self.output = output
        var settings = try SRTSettings.parse(output.url, path: "outputs[\(output.id)].url")
        if settings.mode != .listener, settings.option("peeridletimeo") == nil {
            settings.options.append(("peeridletimeo", Self.callerPeerIdleTimeout))
        }
        self.settings = settings
        self.instance = instance
        self.statsPath = statsPath
        self.log = Log(stage: "send-\(output.id)")
    }

    /// Runs until a stop is requested.
    public func run() throws {
        SRTLibrary.startup()  // libsrt's warnings (e.g. a wrong passphrase on a listener) go to our log
        defer { srt_cleanup() }
        RealtimePriority.apply(RealtimePriority.sender, log: log)
        let statsThread = StageThread(name: "srt-stats") { [self] in
            while !StopRequest.isRequested {
                writeStats(state: "running")
                MonotonicClock.sleep(until: MonotonicClock.now() + MediaTime.nanosecondsPerSecond)
            }
        }
        switch settings.mode {
        case .caller, .rendezvous: try runConnecting()
        case .listener: try runListener()
        }
        statsThread.join()
        writeStats(state: "stopped")
    }

    // MARK: caller and rendezvous

    private func runConnecting() throws {
        var backoff = Self.minBackoff
        while !StopRequest.isRequested {
            let socket = try SRTSocket(settings: settings)
            if try !socket.connect(settings) {
                let e = SRTError.last(
                    "\(settings.mode.rawValue) \(settings.host):\(settings.port)", socket: socket.handle)
                log.warning("\(e); retrying in \(backoff / MediaTime.millisecond) ms")
                StopRequest.sleep(backoff)
                backoff = min(backoff * 2, Self.maxBackoff)
                continue
            }
            backoff = Self.minBackoff
            let peer = "\(settings.host):\(settings.port)"
            log.notice("connected to \(peer) (\(settings.mode.rawValue))")
            let streamID = settings.option("streamid") ?? ""
            register(socket, peer: peer, streamID: streamID)
            events?.outputConnected(output: output.id, peer: peer, streamID: streamID)
            stream(socket, blocking: true)
            unregister(socket)
            events?.outputDisconnected(output: output.id, peer: peer, streamID: streamID)
            log.warning("connection to \(peer) ended; reconnecting")
        }
    }

    // MARK: listener

    private func runListener() throws {
        let listener = try SRTSocket(settings: settings)
        let local = try resolveIPv4(settings.host, settings.port)
        guard withSockaddr(local, { srt_bind(listener.handle, $0, $1) }) != SRT_ERROR else {
            throw SRTError.last("bind \(settings.host.isEmpty ? "*" : settings.host):\(settings.port)")
        }
        if settings.accept != nil || events?.hasAcceptHandler(output: output.id) == true {
            let opaque = Unmanaged.passUnretained(self).toOpaque()
            srt_listen_callback(
                listener.handle,
                { opaque, ns, _, peer, streamid in
                    let me = Unmanaged<SRTOutput>.fromOpaque(opaque!).takeUnretainedValue()
                    return me.admit(ns, peer: describe(peer), streamID: streamid.map { String(cString: $0) } ?? "")
                }, opaque)
        }
        guard srt_listen(listener.handle, 64) != SRT_ERROR else { throw SRTError.last("listen :\(settings.port)") }
        log.notice("listening on \(settings.host.isEmpty ? "*" : settings.host):\(settings.port)")
        // srt_accept blocks; closing the listener from the stop watcher wakes it.
        let watcher = StageThread(name: "srt-stop") { [listener] in
            while !StopRequest.isRequested {
                MonotonicClock.sleep(until: MonotonicClock.now() + 50 * MediaTime.millisecond)
            }
            srt_close(listener.handle)
        }
        var threads: [StageThread] = []
        while !StopRequest.isRequested {
            var addr = sockaddr_in()
            var len = Int32(MemoryLayout<sockaddr_in>.size)
            let ns = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { srt_accept(listener.handle, $0, &len) }
            }
            if ns == SRT_INVALID_SOCK {
                if StopRequest.isRequested || srt_getsockstate(listener.handle).rawValue >= SRTS_BROKEN.rawValue {
                    break
                }
                log.warning("\(SRTError.last("accept"))")
                continue
            }
            let client = SRTSocket(accepted: ns)
            let peer = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { describe($0) }
            }
            let streamID = lock.withLock { names.removeValue(forKey: ns) } ?? client.streamID
            log.notice("client \(peer) connected\(streamID.isEmpty ? "" : " (streamid \"\(streamID)\")")")
            register(client, peer: peer, streamID: streamID)
            events?.outputConnected(output: output.id, peer: peer, streamID: streamID)
            threads.append(
                StageThread(name: "srt-client") { [self] in
                    stream(client, blocking: false)
                    unregister(client)
                    log.notice("client \(peer) disconnected")
                    events?.outputDisconnected(output: output.id, peer: peer, streamID: streamID)
                })
        }
        watcher.join()
        for t in threads { t.join() }
    }

    /// The listen callback: a connection must pass the `accept` list (plain stream id or its
    /// `#!::r=…` resource) and then the blocking SRT_ACCEPT handlers, which may name it; a refused
    /// one gets SRT_REJX_FORBIDDEN (403).
    func admit(_ socket: SRTSOCKET, peer: String, streamID: String) -> Int32 {
        var reason = "streamid \"\(streamID)\" is not accepted"
        if settings.admits(streamID: streamID) {
            guard let events, events.hasAcceptHandler(output: output.id) else { return 0 }
            switch events.decideAccept(output: output.id, peer: peer, streamID: streamID) {
            case .accept(let name):
                if let name { lock.withLock { names[socket] = name } }
                return 0
            case .reject(let why):
                reason = "SRT_ACCEPT: \(why)"
            }
        }
        lock.withLock { rejected += 1 }
        log.warning("rejected \(peer): \(reason)")
        srt_setrejectreason(socket, SRT_REJX_FORBIDDEN)  // 1403, access-control.md
        return -1
    }

    // MARK: sending

    /// Feeds one connection from the TS ring until it fails or a stop is requested.
    private func stream(_ socket: SRTSocket, blocking: Bool) {
        if !blocking { socket.setNonBlockingSend() }
        let opened: RingReader?
        do {
            opened = try RingReader.waitingOpen(
                name: SharedRing.name(instance: instance, track: Track.transportStream), start: .next, log: log)
        } catch {
            // Not silent: a connection that gets no TS would otherwise look like a stalled stream.
            log.error("cannot read the TS ring: \(error); closing this connection")
            return
        }
        guard let reader = opened else { return }
        let payload = Int(settings.option("payloadsize") ?? "1316") ?? 1316
        let slot = Int(reader.ring.slotBytes)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: slot, alignment: 16)
        defer { buffer.deallocate() }
        // Every connection, and a client that fell behind or lost a chunk to a full send buffer,
        // (re)starts at a clean point: the next PAT, the video from its keyframe, and each PID's
        // first packet flagged discontinuous (the receiver may have seen the stream before).
        var resume = TSResume()
        var skipped = false
        // A receiver that vanished (killed, restarted) stops ACKing long before libsrt declares the
        // connection broken (≈ 5 s in libsrt 1.5): with data flowing, ACKs come every 10 ms.
        var lastAcks: Int64 = -1
        var lastAckChange = MonotonicClock.now()
        var lastAckCheck = lastAckChange
        while !StopRequest.isRequested {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                guard resume.process(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<info.length])) else { continue }
                MonotonicClock.sleep(until: info.pts)  // absolute: returns at once when already due
                if !send(
                    socket, UnsafeRawBufferPointer(rebasing: buffer[0..<info.length]), payload: payload,
                    skipped: &skipped)
                {
                    return
                }
                if skipped {
                    skipped = false
                    resume.restart()
                }
                let now = MonotonicClock.now()
                if now - lastAckCheck >= 200 * MediaTime.millisecond {
                    lastAckCheck = now
                    let acks = socket.acknowledgements
                    if acks != lastAcks {
                        lastAcks = acks
                        lastAckChange = now
                    } else if now - lastAckChange >= Self.ackTimeout {
                        log.warning(
                            "no ACK from the peer for \(Self.ackTimeout / MediaTime.millisecond) ms while sending: peer gone"
                        )
                        return
                    }
                }
            case .lost(let n):
                resume.restart()
                log.warning("fell behind the mux: \(n) chunks skipped")
            case .writerRestarted:
                resume.restart()
                if srt_getsockstate(socket.handle).rawValue > SRTS_CONNECTED.rawValue { return }
            case .writerGone, .timeout:
                if srt_getsockstate(socket.handle).rawValue > SRTS_CONNECTED.rawValue { return }
            }
        }
    }

    /// Sends one chunk in `payload`-sized messages; false when the connection failed. A full send
    /// buffer (slow client, non-blocking socket) skips the chunk (or its rest), counts it and sets `skipped`.
    private func send(_ socket: SRTSocket, _ chunk: UnsafeRawBufferPointer, payload: Int, skipped: inout Bool) -> Bool {
        var offset = 0
        while offset < chunk.count {
            let n = min(payload, chunk.count - offset)
            let p = chunk.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
            if srt_sendmsg2(socket.handle, p, Int32(n), nil) == SRT_ERROR {
                if srt_getlasterror(nil) == SRT_EASYNCSND.rawValue {
                    lock.withLock { clients[socket.handle]?.stats.skippedChunks += 1 }
                    skipped = true
                    return true
                }
                log.warning("\(SRTError.last("send"))")
                return false
            }
            offset += n
            lock.withLock {
                packetsSent += Int64(n / TS.packetSize)
                bytesSent += Int64(n)
            }
        }
        return true
    }

    private func register(_ socket: SRTSocket, peer: String, streamID: String) {
        var s = SRTConnectionStatistics()
        s.peer = peer
        s.streamID = streamID
        lock.withLock {
            clients[socket.handle] = (socket, s)
            connects += 1
        }
    }

    private func unregister(_ socket: SRTSocket) {
        lock.withLock { _ = clients.removeValue(forKey: socket.handle) }
    }

    /// Statistics of every connection, as JSON (also what `rill` exposes as the output's status).
    func statisticsJSON(state: String) -> String {
        lock.withLock {
            let peers = clients.values.map { c -> String in
                var s = c.socket.statistics()
                s.peer = c.stats.peer
                s.streamID = c.stats.streamID
                s.skippedChunks = c.stats.skippedChunks
                return s.json
            }
            return
                "{\"id\":\(JSON.string(output.id).serialized),\"state\":\"\(state)\",\"mode\":\"\(settings.mode.rawValue)\","
                + "\"connects\":\(connects),\"rejected\":\(rejected),\"packets\":\(packetsSent),\"bytes\":\(bytesSent),"
                + "\"peers\":[\(peers.joined(separator: ","))]}\n"
        }
    }

    private func writeStats(state: String) {
        guard let statsPath else { return }
        try? AtomicFile.write(statisticsJSON(state: state), to: statsPath, durable: false)
    }
}

/// The SRT access-control stream id (Haivision access-control.md): `#!::key=value,…` with keys
/// r (resource), u (user), m (mode), s (session), h (host), t (type); anything else is a plain string.
public struct StreamID: Sendable {
    public var raw: String
    public var fields: [String: String] = [:]

    public init(_ raw: String) {
        self.raw = raw
        guard raw.hasPrefix("#!::") else { return }
        for pair in raw.dropFirst(4).split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
    }

    /// r=…: the resource name (or nil for a plain string).
    public var resource: String? { fields["r"] }
    /// u=…: the user.
    public var user: String? { fields["u"] }
    /// m=…: request, publish or bidirectional.
    public var mode: String? { fields["m"] }
}

extension SRTSettings {
    /// Whether a connection with `streamID` may proceed: no `accept` list, or the stream id (plain)
    /// or its `#!::r=` resource is on it.
    func admits(streamID: String) -> Bool {
        guard let accept else { return true }
        if accept.contains(streamID) { return true }
        return StreamID(streamID).resource.map(accept.contains) ?? false
    }
}
