import CRillShims
import Config
import FEC
import FrameRing
import MediaTime
import RTP
import Runtime

import struct MPEGTS.TSResume

#if canImport(Glibc)
import Glibc
#endif

/// An RTP (RFC 2250, PT 33) or raw UDP output: a dedicated thread reads the TS ring and sends
/// each 7-packet chunk at its deadline (`clock_nanosleep` absolute, then `sendmmsg` of every chunk
/// already due). Falls behind ⇒ skips ahead (counted), never blocks the mux. RTP may add SMPTE
/// 2022-1 FEC (column stream on port + 2, row stream on + 4) and SMPTE 2022-7 duplication (`dup=`:
/// the same packets, one sequence space, to a second destination, with its own FEC streams).
public final class PacedSender: @unchecked Sendable {
    // Invariant: all state belongs to the thread running `run()`; `statistics` is copied out by it.
    let output: OutputSection
    let instance: String
    let statsPath: String?
    let log: Log
    /// Chunks sent in one sendmmsg when several are due.
    static let maxBatch = 16
    /// A chunk this close to its deadline is sent with the current batch.
    static let batchWindow: Int64 = 100 * MediaTime.microsecond

    public private(set) var statistics = OutputStatistics()

    public init(output: OutputSection, instance: String, statsPath: String?) {
        self.output = output
        self.instance = instance
        self.statsPath = statsPath
        self.log = Log(stage: "send-\(output.id)")
    }

    /// Sends until a stop is requested.
    public func run() throws {
        RealtimePriority.apply(RealtimePriority.sender, log: log)
        let socket = try UDPSocket(url: output.url)
        let rtp = output.url.scheme == "rtp"
        let options = try RTPOptions.parse(output.url, path: "outputs.\(output.id).url")
        var paths = [socket]
        if let d = options.duplicate {
            let second = MediaURL(
                scheme: output.url.scheme, host: d.host, port: d.port,
                options: output.url.options.filter { $0.0 != "dup" })
            paths.append(try UDPSocket(url: second))
        }
        var fec = options.fec.map { FECEncoder(parameters: $0) }
        // Per path: the column and (level B) row FEC sockets.
        let fecSockets: [(column: UDPSocket, row: UDPSocket?)] =
            try options.fec.map { p in
                try paths.map { path in
                    let url = MediaURL(
                        scheme: "rtp", host: path.destination.description, port: path.port,
                        options: output.url.options.filter { $0.0 != "dup" })
                    return (
                        try UDPSocket(url: url, portOffset: FECParameters.columnPortOffset),
                        p.rowFEC ? try UDPSocket(url: url, portOffset: FECParameters.rowPortOffset) : nil
                    )
                }
            } ?? []
        for p in paths {
            log.info(
                "\(rtp ? "RTP" : "UDP") to \(p.destination):\(p.port)\(p.destination.isMulticast ? " (multicast)" : "")\(options.fec.map { ", FEC \($0) on ports +2\($0.rowFEC ? "/+4" : "")" } ?? "")"
            )
        }
        guard
            let reader = try RingReader.waitingOpen(
                name: SharedRing.name(instance: instance, track: Track.transportStream), start: .next, log: log)
        else { return }

        let header = rtp ? RTPHeader.size : 0
        let slot = Int(reader.ring.slotBytes)
        let buffers = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.maxBatch * (header + slot), alignment: 64)
        defer { buffers.deallocate() }
        var deadlines = [Int64](repeating: 0, count: Self.maxBatch)
        var captures = [Int64](repeating: 0, count: Self.maxBatch)
        var readies = [Int64](repeating: 0, count: Self.maxBatch)
        var headers = [RTPHeader](repeating: RTPHeader(), count: Self.maxBatch)  // as written, for FEC
        var datagrams = [rill_datagram](repeating: rill_datagram(), count: Self.maxBatch)
        var rtpHeader = RTPHeader(
            sequenceNumber: UInt16.random(in: 0...UInt16.max),
            ssrc: output.url.option("ssrc").flatMap(UInt32.init) ?? UInt32.random(in: 1...UInt32.max))
        var held = false  // buffers[0] holds a chunk read earlier but not yet due
        var statsFile = StatisticsFile(path: statsPath, id: output.id)
        // A (re)started or overrun reader resumes at the next PAT and video keyframe, each PID's
        // first packet flagged discontinuous: the receiver saw the stream before.
        var resume = TSResume()

        func slotBuffer(_ i: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(rebasing: buffers[(i * (header + slot))..<((i + 1) * (header + slot))])
        }
        /// Reads one record into batch slot i; returns false when nothing was there.
        func read(_ i: Int, timeout: Int64) -> Bool {
            let b = slotBuffer(i)
            switch reader.next(into: UnsafeMutableRawBufferPointer(rebasing: b[header...]), timeout: timeout) {
            case .record(let info):
                guard resume.process(UnsafeMutableRawBufferPointer(rebasing: b[header..<(header + info.length)])) else {
                    return false
                }
                deadlines[i] = info.pts
                captures[i] = info.captureTime
                readies[i] = info.stageTime
                datagrams[i] = rill_datagram(base: b.baseAddress!, len: UInt32(header + info.length))
                return true
            case .lost(let n):
                statistics.lostChunks &+= n
                resume.restart()
                log.warning("fell behind the mux: \(n) chunks skipped")
            case .writerGone:
                log.warning("mux stopped")
            case .writerRestarted(let g):
                resume.restart()
                log.notice("mux restarted (generation \(g))")
            case .timeout:
                break
            }
            return false
        }

        while !StopRequest.isRequested {
            if !held, !read(0, timeout: 100 * MediaTime.millisecond) {
                statsFile.write(statistics, state: "running")
                continue
            }
            held = false
            _ = rill_sleep_until(deadlines[0], nil)
            var count = 1
            // Everything else already due goes in the same sendmmsg; an early one waits in slot 0.
            var early = false
            while count < Self.maxBatch, read(count, timeout: 0) {
                if deadlines[count] > MonotonicClock.now() + Self.batchWindow {
                    early = true
                    break
                }
                count += 1
            }
            sendBatch(count: count, rtp: rtp, header: &rtpHeader)
            if early {
                moveSlot(count, to: 0)
                held = true
            }
            statsFile.write(statistics, state: "running")
        }
        statsFile.write(statistics, state: "stopped", force: true)

        func moveSlot(_ from: Int, to: Int) {
            let src = slotBuffer(from)
            let dst = slotBuffer(to)
            dst.copyMemory(from: UnsafeRawBufferPointer(src))
            deadlines[to] = deadlines[from]
            captures[to] = captures[from]
            readies[to] = readies[from]
            datagrams[to] = rill_datagram(base: dst.baseAddress!, len: datagrams[from].len)
        }

        func protect(count: Int) {
            for i in 0..<count {
                let payload = UnsafeRawBufferPointer(slotBuffer(i))[RTPHeader.size..<Int(datagrams[i].len)]
                fec!.add(header: headers[i], payload: UnsafeRawBufferPointer(rebasing: payload)) { stream, packet in
                    self.sendFEC(stream, packet, sockets: fecSockets)
                }
            }
        }

        func sendBatch(count: Int, rtp: Bool, header rtpHeader: inout RTPHeader) {
            if rtp {
                for i in 0..<count {
                    rtpHeader.timestamp = UInt32(truncatingIfNeeded: MediaTime.ticks90k(fromNanoseconds: deadlines[i]))
                    rtpHeader.write(into: slotBuffer(i))
                    headers[i] = rtpHeader
                    rtpHeader.sequenceNumber &+= 1
                }
            }
            // sendmmsg may send fewer than asked (socket buffer full): send the rest. Every path
            // gets the same datagrams; the first path's result is what the statistics count.
            var sent = 0
            var failure: Int32? = nil  // errno of the first failed sendmmsg, before the FEC sends can overwrite it
            for (k, path) in paths.enumerated() {
                var done = 0
                while done < count {
                    let n = datagrams.withUnsafeBufferPointer { path.send($0.baseAddress! + done, count: count - done) }
                    if n <= 0 {
                        if failure == nil { failure = n == 0 ? EAGAIN : errno }
                        break
                    }
                    done += Int(n)
                }
                if k == 0 { sent = done }
            }
            if fec != nil { protect(count: count) }
            let now = MonotonicClock.now()
            if let failure {
                statistics.sendErrors &+= 1
                if statistics.sendErrors == 1 || statistics.sendErrors % 1000 == 0 {
                    log.warning("sendmmsg: \(String(cString: strerror(failure))) (\(statistics.sendErrors) errors)")
                }
            }
            for i in 0..<sent {
                statistics.datagrams &+= 1
                let payload = Int(datagrams[i].len) - header
                statistics.packets &+= UInt64(payload / 188)
                statistics.bytes &+= UInt64(datagrams[i].len)
                statistics.pacing.record(now - deadlines[i])
                if captures[i] > 0 { statistics.latency.record(now - captures[i]) }
                if readies[i] > 0 { statistics.encodedToWire.record(now - readies[i]) }
            }
        }
    }

    /// Feeds the batch's media packets to the FEC encoder and sends what it emits on every path.
    private func sendFEC(
        _ stream: FECEncoder.Stream, _ packet: UnsafeRawBufferPointer, sockets: [(column: UDPSocket, row: UDPSocket?)]
    ) {
        var d = rill_datagram(base: UnsafeMutableRawPointer(mutating: packet.baseAddress!), len: UInt32(packet.count))
        for s in sockets {
            let target = stream == .column ? s.column : s.row
            if let target, target.send(&d, count: 1) != 1 { statistics.sendErrors &+= 1 }
        }
    }
}
