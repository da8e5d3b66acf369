import Config
import FEC
import FrameRing
import MediaTime
import RTP
import Runtime

import struct MPEGTS.ContinuityCounter

#if canImport(Glibc)
import Glibc
#endif

/// A gateway `udp://` (raw TS) or `rtp://` (MP2T, RFC 2250) input, unicast or multicast (`iface=`,
/// SSM `source=`). RTP goes through a `RecoveryBuffer`: SMPTE 2022-1 FEC from the column and row
/// streams (port + 2, + 4) when `fec=2022-1`, SMPTE 2022-7 merge with a second path when `dup=`.
/// The TS, in order, goes into the TS ring, each datagram stamped with its release time as send
/// deadline, so any output relays it. Counts losses, recoveries and TS continuity errors.
public final class RTPInput {
    let url: MediaURL
    let options: RTPOptions
    let instance: String
    let log = Log(stage: "recv")
    /// Counters written once a second by `run` (`recv.json` when the stage sets the path first):
    /// frames = TS ring records, dropped = RTP packets lost for good.
    public var statistics = StageStatistics(path: nil)
    /// A gap left after the stream stalls this long is given up (the sender stopped).
    static let stallNs: Int64 = 200 * MediaTime.millisecond
    /// Reordering tolerated on a plain RTP input (packets).
    static let reorderPackets = 4
    /// Default 2022-7 skew window between the two paths.
    static let defaultSkewMs: Int64 = 50

    private var continuity = ContinuityCounter()
    /// TS continuity_counter errors in what went into the ring (ISO/IEC 13818-1 §2.4.3.3).
    public private(set) var ccErrors: UInt64 = 0
    /// Datagrams of a raw `udp://` input (RTP inputs count in their RecoveryBuffer).
    public private(set) var rawDatagrams: UInt64 = 0
    private var rtp: Bool { url.scheme == "rtp" }

    /// An input for `url` (`udp://` or `rtp://`) writing the TS ring of `instance`; throws a
    /// ConfigError naming `source.url` for invalid options.
    public init(url: MediaURL, instance: String) throws {
        self.url = url
        self.options = try RTPOptions.parse(url, path: "source.url")
        self.instance = instance
    }

    enum Role { case media, column, row }

    /// Receives on the calling thread until a stop is requested (StopRequest); throws when the
    /// TS ring or a socket cannot be set up.
    public func run() throws {
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.transportStream), kind: .transportStream,
            slotCount: Track.tsSlots, slotBytes: Track.tsSlotBytes)
        writer.setFormat(TrackFormat(codec: .mpegts))
        let source = url.option("source")
        let iface = url.option("iface")
        var sockets: [(UDPReceiver, Role)] = [
            (try UDPReceiver(host: url.host, port: url.port, source: source, interface: iface), .media)
        ]
        var endpoints = [(url.host, url.port)]
        if let d = options.duplicate { endpoints.append((d.host, d.port)) }
        if let d = options.duplicate {
            sockets.append((try UDPReceiver(host: d.host, port: d.port, source: source, interface: iface), .media))
        }
        if options.fec != nil {
            for (host, port) in endpoints {
                sockets.append(
                    (
                        try UDPReceiver(
                            host: host, port: port + FECParameters.columnPortOffset, source: source, interface: iface),
                        .column
                    ))
                sockets.append(
                    (
                        try UDPReceiver(
                            host: host, port: port + FECParameters.rowPortOffset, source: source, interface: iface),
                        .row
                    ))
            }
        }
        let holdPackets = options.fec.map { 2 * $0.matrix } ?? Self.reorderPackets
        let holdNs = (options.latencyMs ?? (options.duplicate != nil ? Self.defaultSkewMs : 0)) * MediaTime.millisecond
        var buffer = RecoveryBuffer(holdPackets: holdPackets, holdNs: holdNs)
        log.info(
            "\(url.scheme.uppercased()) input on \(endpoints.map { "\($0.0.isEmpty ? "*" : $0.0):\($0.1)" }.joined(separator: " + "))"
                + "\(options.fec.map { ", FEC \($0)" } ?? "")\(options.duplicate != nil ? ", 2022-7 merge" : "")"
                + ", hold \(holdPackets) packets / \(holdNs / MediaTime.millisecond) ms")

        var fds = sockets.map { pollfd(fd: $0.0.fd, events: Int16(POLLIN), revents: 0) }
        var packet = [UInt8](repeating: 0, count: 2048)
        var lastArrival = MonotonicClock.now()
        var discontinuity = true
        var lastLog = MonotonicClock.now()

        func publish(_ payload: UnsafeRawBufferPointer) {
            let usable = payload.count / 188 * 188
            guard usable > 0, usable <= Int(Track.tsSlotBytes) else { return }
            ccErrors &+= UInt64(continuity.check(packets: UnsafeRawBufferPointer(rebasing: payload[0..<usable])))
            let now = MonotonicClock.now()
            _ = try? writer.publish(
                RecordInfo(
                    flags: discontinuity ? .discontinuity : [], pts: now, captureTime: now, aux0: UInt32(usable / 188)),
                bytes: UnsafeRawBufferPointer(rebasing: payload[0..<usable]))
            discontinuity = false
            statistics.count(bytes: usable)
        }

        while !StopRequest.isRequested {
            let ready = poll(&fds, nfds_t(fds.count), 10)
            let now = MonotonicClock.now()
            if ready > 0 {
                for (k, p) in fds.enumerated() where p.revents & Int16(POLLIN) != 0 {
                    while true {
                        let n = recv(p.fd, &packet, packet.count, Int32(MSG_DONTWAIT))
                        guard n > 0 else { break }
                        lastArrival = now
                        packet.withUnsafeBytes { raw in
                            let datagram = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                            guard rtp else {
                                rawDatagrams &+= 1
                                return publish(datagram)
                            }
                            guard let (h, range) = try? RTPHeader.parse(datagram) else {
                                statistics.dropped &+= 1
                                return
                            }
                            switch sockets[k].1 {
                            case .media:
                                buffer.insert(
                                    header: h, payload: UnsafeRawBufferPointer(rebasing: datagram[range]), arrival: now)
                            case .column, .row:
                                try? buffer.insertFEC(UnsafeRawBufferPointer(rebasing: datagram[range]), arrival: now)
                            }
                        }
                    }
                }
            }
            if rtp {
                buffer.release(now: now, force: now - lastArrival > Self.stallNs) { _, payload in publish(payload) }
            }
            writer.beat()
            statistics.dropped = buffer.statistics.lost
            statistics.tick(extra: statusExtra(buffer.statistics))
            if now - lastLog > 10 * MediaTime.nanosecondsPerSecond {
                lastLog = now
                let s = buffer.statistics
                log.info(
                    "received \(received(s)) (duplicates \(s.duplicates)), FEC \(s.fecPackets), recovered \(s.recovered), lost \(s.lost), CC errors \(ccErrors)"
                )
            }
        }
        let s = buffer.statistics
        log.notice(
            "stopped: received \(received(s)) (duplicates \(s.duplicates)), FEC \(s.fecPackets), recovered \(s.recovered), lost \(s.lost), CC errors \(ccErrors)"
        )
    }

    /// Datagrams received: RTP packets on the media path(s), or raw UDP datagrams.
    private func received(_ s: RecoveryBuffer.Statistics) -> UInt64 { rtp ? UInt64(s.received) : rawDatagrams }

    private func statusExtra(_ s: RecoveryBuffer.Statistics) -> String {
        "\"type\":\"gateway\",\"url\":\"\(url.scheme)://\(url.host):\(url.port)\",\"received\":\(received(s)),"
            + "\"duplicates\":\(s.duplicates),\"late\":\(s.late),\"fecPackets\":\(s.fecPackets),\"recovered\":\(s.recovered),"
            + "\"lost\":\(s.lost),\"ccErrors\":\(ccErrors)"
    }
}
