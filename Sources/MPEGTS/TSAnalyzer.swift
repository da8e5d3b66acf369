import MediaTime

/// A small TR 101 290 (priority 1 and 2) checker and demuxer for received transport streams: sync,
/// continuity counters, PAT/PMT presence and repetition, PCR repetition and accuracy against byte
/// position, PTS per stream. TSDuck is not in Debian 12, so this is what tests and `rill probe`
/// use beside ffprobe and tshark. Accepts any bytes; never traps on malformed input.
public struct TSAnalyzer: Sendable {
    /// One PCR seen: where (packet index) and its value (27 MHz), and when it arrived (ns, or nil).
    public struct PCRSample: Sendable {
        /// 0-based index of the packet carrying it, counting every packet fed.
        public var packetIndex: Int64
        /// program_clock_reference, 27 MHz ticks (base × 300 + extension, ISO/IEC 13818-1 §2.4.3.5).
        public var pcr27: Int64
        /// Arrival time of its datagram, ns (CLOCK_MONOTONIC); nil for a file.
        public var arrivalNs: Int64?
        /// The packet's discontinuity_indicator was set.
        public var discontinuity: Bool
    }

    /// A stream the PMT announced.
    public struct Stream: Sendable, Equatable {
        /// The elementary stream's PID.
        public var pid: UInt16
        /// stream_type from the PMT (0x1B H.264, 0x0F AAC in ADTS, 0x06 PES private data).
        public var streamType: UInt8
        /// format_identifier of its registration_descriptor (e.g. "BSSD" for SMPTE 302M), if any.
        public var registration: String?
    }

    /// Packets seen (including those with sync errors).
    public private(set) var packets: Int64 = 0
    /// Packets whose first byte was not 0x47 (TR 101 290 1.2).
    public private(set) var syncErrors: Int64 = 0
    /// Continuity counter errors (TR 101 290 1.4), all PIDs.
    public private(set) var continuityErrors: Int64 = 0
    /// Continuity errors per PID.
    public private(set) var continuityErrorsByPID: [UInt16: Int64] = [:]
    /// Packets per PID.
    public private(set) var packetsByPID: [UInt16: Int64] = [:]
    /// Transport errors (TEI set, TR 101 290 2.1).
    public private(set) var transportErrors: Int64 = 0
    /// CRC errors in PAT/PMT/SDT sections (TR 101 290 2.2).
    public private(set) var crcErrors: Int64 = 0
    /// PMT PID from the PAT, if seen.
    public private(set) var pmtPID: UInt16?
    /// PCR PID from the PMT, if seen.
    public private(set) var pcrPID: UInt16?
    /// Streams from the PMT.
    public private(set) var streams: [Stream] = []
    /// Service and provider names from the SDT.
    public private(set) var serviceName: String?
    /// provider_name of the SDT's service_descriptor (EN 300 468 §6.2.33), if seen.
    public private(set) var providerName: String?
    /// Every PCR on the PCR PID.
    public private(set) var pcrs: [PCRSample] = []
    /// Where a section was seen: packet index and arrival time (ns) when known.
    public struct SectionSighting: Sendable {
        /// 0-based index of the packet that started the section.
        public var packetIndex: Int64
        /// Arrival time of its datagram, ns (CLOCK_MONOTONIC); nil for a file.
        public var arrivalNs: Int64?
    }
    /// PAT and PMT sections seen.
    public private(set) var patPackets: [SectionSighting] = []
    /// PMT sections seen (on `pmtPID`).
    public private(set) var pmtPackets: [SectionSighting] = []
    /// PTS values (90 kHz, 33-bit) per PID, in arrival order.
    public private(set) var pts: [UInt16: [UInt64]] = [:]
    /// Random-access (keyframe) PES starts per PID.
    public private(set) var randomAccessPoints: [UInt16: Int64] = [:]
    /// Packets with discontinuity_indicator set.
    public private(set) var discontinuities: Int64 = 0

    /// The continuity_counter rule (ISO/IEC 13818-1 §2.4.3.3) the gateway inputs also use.
    private var continuity = ContinuityCounter()

    /// An empty analyzer.
    public init() {}

    /// Feeds whole 188-byte packets (a trailing partial packet is ignored). `arrivalNs` stamps all
    /// of them (datagram arrival time), or nil for a file.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, arrivalNs: Int64? = nil) {
        var off = 0
        while off + TS.packetSize <= bytes.count {
            packet(UnsafeRawBufferPointer(rebasing: bytes[off..<(off + TS.packetSize)]), arrivalNs: arrivalNs)
            off += TS.packetSize
        }
    }

    /// Feeds a byte array.
    public mutating func feed(_ bytes: [UInt8], arrivalNs: Int64? = nil) {
        bytes.withUnsafeBytes { feed($0, arrivalNs: arrivalNs) }
    }

    private mutating func packet(_ p: UnsafeRawBufferPointer, arrivalNs: Int64?) {
        let index = packets
        packets += 1
        guard let packet = TSPacket(p) else {
            syncErrors += 1
            return
        }
        if packet.transportError { transportErrors += 1 }
        let pid = packet.pid
        packetsByPID[pid, default: 0] += 1
        if pid == PID.null { return }

        let discontinuity = packet.discontinuityIndicator
        if discontinuity { discontinuities += 1 }
        if packet.randomAccessIndicator { randomAccessPoints[pid, default: 0] += 1 }
        if pid == pcrPID, let pcr27 = packet.pcr27 {
            pcrs.append(
                PCRSample(packetIndex: index, pcr27: pcr27, arrivalNs: arrivalNs, discontinuity: discontinuity))
        }
        if continuity.check(packet) == .error {
            continuityErrors += 1
            continuityErrorsByPID[pid, default: 0] += 1
        }
        guard packet.payloadUnitStart, packet.payloadOffset != nil else { return }
        if pid == PID.pat || pid == pmtPID || pid == PID.sdt {
            section(packet, pid: pid, sighting: SectionSighting(packetIndex: index, arrivalNs: arrivalNs))
        } else if streams.contains(where: { $0.pid == pid }) {
            pesStart(packet.payload, pid: pid)
        }
    }

    private mutating func section(_ packet: TSPacket, pid: UInt16, sighting: SectionSighting) {
        let payload = packet.bytes
        guard let start = packet.sectionOffset, start + 3 <= payload.count else { return }
        let tableID = payload[start]
        let length = Int(payload[start + 1] & 0x0F) << 8 | Int(payload[start + 2])
        guard length >= 9, start + 3 + length <= payload.count else { return }  // multi-packet sections: not needed
        let s = UnsafeRawBufferPointer(rebasing: payload[start..<(start + 3 + length)])
        guard CRC32MPEG2.checksum(s) == 0 else {
            crcErrors += 1
            return
        }
        let body = UnsafeRawBufferPointer(rebasing: s[8..<(s.count - 4)])
        switch (pid, tableID) {
        case (PID.pat, TableID.pat):
            patPackets.append(sighting)
            var i = 0
            while i + 4 <= body.count {
                let program = UInt16(body[i]) << 8 | UInt16(body[i + 1])
                let mapPID = UInt16(body[i + 2] & 0x1F) << 8 | UInt16(body[i + 3])
                if program != 0 { pmtPID = mapPID }
                i += 4
            }
        case (_, TableID.pmt) where pid == pmtPID:
            pmtPackets.append(sighting)
            parsePMT(body)
        case (PID.sdt, TableID.sdtActual):
            parseSDT(body)
        default:
            break
        }
    }

    private mutating func parsePMT(_ b: UnsafeRawBufferPointer) {
        guard b.count >= 4 else { return }
        pcrPID = UInt16(b[0] & 0x1F) << 8 | UInt16(b[1])
        let programInfo = Int(b[2] & 0x0F) << 8 | Int(b[3])
        var i = 4 + programInfo
        var found: [Stream] = []
        while i + 5 <= b.count {
            let type = b[i]
            let pid = UInt16(b[i + 1] & 0x1F) << 8 | UInt16(b[i + 2])
            let infoLength = Int(b[i + 3] & 0x0F) << 8 | Int(b[i + 4])
            var registration: String? = nil
            var d = i + 5
            let end = min(i + 5 + infoLength, b.count)
            while d + 2 <= end {
                let tag = b[d]
                let len = Int(b[d + 1])
                if tag == 0x05, len >= 4, d + 6 <= end {
                    registration = String(
                        decoding: UnsafeRawBufferPointer(rebasing: b[(d + 2)..<(d + 6)]), as: UTF8.self)
                }
                d += 2 + len
            }
            found.append(Stream(pid: pid, streamType: type, registration: registration))
            i += 5 + infoLength
        }
        streams = found
    }

    private mutating func parseSDT(_ b: UnsafeRawBufferPointer) {
        var i = 3  // original_network_id, reserved
        while i + 5 <= b.count {
            let loop = Int(b[i + 3] & 0x0F) << 8 | Int(b[i + 4])
            var d = i + 5
            let end = min(d + loop, b.count)
            while d + 2 <= end {
                let tag = b[d]
                let len = Int(b[d + 1])
                if tag == 0x48, d + 2 + len <= end, len >= 3 {
                    let pl = Int(b[d + 3])
                    if d + 4 + pl < end {
                        providerName = String(
                            decoding: UnsafeRawBufferPointer(rebasing: b[(d + 4)..<(d + 4 + pl)]), as: UTF8.self)
                        let sl = Int(b[d + 4 + pl])
                        let s0 = d + 5 + pl
                        if s0 + sl <= end {
                            serviceName = String(
                                decoding: UnsafeRawBufferPointer(rebasing: b[s0..<(s0 + sl)]), as: UTF8.self)
                        }
                    }
                }
                d += 2 + len
            }
            i += 5 + loop
        }
    }

    private mutating func pesStart(_ p: UnsafeRawBufferPointer, pid: UInt16) {
        guard p.count >= 14, p[0] == 0, p[1] == 0, p[2] == 1 else { return }
        let flags = p[7]
        if flags & 0x80 != 0 { pts[pid, default: []].append(PESHeader.readTimestamp(p, at: 9)) }
    }

    // MARK: - Measurements

    /// Longest gap between consecutive PCRs, ns of PCR time (TR 101 290 2.3a), ignoring gaps
    /// across a discontinuity.
    public var maxPCRInterval: Int64 {
        var worst: Int64 = 0
        for (a, b) in zip(pcrs, pcrs.dropFirst()) where !b.discontinuity {
            worst = max(worst, MediaTime.nanoseconds(fromTicks27M: b.pcr27 - a.pcr27))
        }
        return worst
    }

    /// The PCR clock interpolated at packet `index` (27 MHz), from the surrounding PCRs.
    public func pcrTime(atPacket index: Int64) -> Int64? {
        guard pcrs.count >= 2 else { return nil }
        var lo = 0
        var hi = pcrs.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if pcrs[mid].packetIndex <= index { lo = mid } else { hi = mid }
        }
        let a = pcrs[lo]
        let b = pcrs[hi]
        guard b.packetIndex != a.packetIndex else { return a.pcr27 }
        return a.pcr27 + (b.pcr27 - a.pcr27) * (index - a.packetIndex) / (b.packetIndex - a.packetIndex)
    }

    /// Longest interval between consecutive sections, ns: by arrival time when the packets were
    /// stamped (what a receiver sees, TR 101 290 measures in real time), else by the PCR clock
    /// interpolated at their byte positions (exact for CBR files).
    public func maxInterval(ofPackets sightings: [SectionSighting]) -> Int64 {
        var worst: Int64 = 0
        for (a, b) in zip(sightings, sightings.dropFirst()) {
            if let ta = a.arrivalNs, let tb = b.arrivalNs {
                worst = max(worst, tb - ta)
                continue
            }
            guard let ta = pcrTime(atPacket: a.packetIndex), let tb = pcrTime(atPacket: b.packetIndex) else { continue }
            worst = max(worst, MediaTime.nanoseconds(fromTicks27M: tb - ta))
        }
        return worst
    }

    /// CBR check (TR 101 290 2.4 PCR_accuracy): the largest deviation, ns, of any PCR from the line
    /// through the first and last PCR against byte position. At constant rate this is the PCR error.
    public var pcrAccuracyError: Int64 {
        guard let first = pcrs.first, let last = pcrs.last, last.packetIndex > first.packetIndex else { return 0 }
        let dp = Double(last.packetIndex - first.packetIndex)
        let dv = Double(last.pcr27 - first.pcr27)
        var worst = 0.0
        for s in pcrs {
            let expected = Double(first.pcr27) + dv * Double(s.packetIndex - first.packetIndex) / dp
            worst = max(worst, abs(Double(s.pcr27) - expected))
        }
        return Int64(worst * 1000 / 27)
    }

    /// The transport rate implied by the PCRs, bits/s.
    public var pcrBitrate: Double {
        guard let first = pcrs.first, let last = pcrs.last, last.pcr27 > first.pcr27 else { return 0 }
        let bits = Double(last.packetIndex - first.packetIndex) * Double(TS.packetSize * 8)
        return bits * Double(MediaTime.systemClockHz) / Double(last.pcr27 - first.pcr27)
    }

    /// PCR against arrival time: for each PCR with an arrival stamp, (arrival − first arrival) −
    /// (PCR − first PCR) in ns, i.e. how far the network delivery strayed from the stream's clock.
    public var pcrArrivalDeviations: [Int64] {
        let stamped = pcrs.filter { $0.arrivalNs != nil }
        guard let first = stamped.first else { return [] }
        return stamped.map {
            ($0.arrivalNs! - first.arrivalNs!) - MediaTime.nanoseconds(fromTicks27M: $0.pcr27 - first.pcr27)
        }
    }
}
