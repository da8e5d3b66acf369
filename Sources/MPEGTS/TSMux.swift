import MediaTime

/// The native transport stream multiplexer (ISO/IEC 13818-1): PAT, PMT, SDT, PES for each stream,
/// PCR on the PCR PID, continuity counters, CBR with null packets or VBR. It hands 7-packet chunks
/// with a send deadline to a sink. Single-threaded; nothing allocates per packet.
public final class TSMux {
    /// The configuration the mux was built with.
    public let configuration: MuxConfiguration
    /// Counters since start.
    public private(set) var statistics = MuxStatistics()

    private let queues: [ElementaryStreamQueue]
    private let pcrQueue: Int?  // index of the queue on the PCR PID, if any
    private var psiPackets: [[UInt8]]  // PAT, PMT, SDT as complete 188-byte packets
    private var psiContinuity: [UInt8] = [0, 0, 0]
    /// The first packet of each PSI PID after (re)start flags discontinuity_indicator, so a
    /// receiver that saw a previous mux instance does not count a continuity error.
    private var psiSignalDiscontinuity = [true, true, true]
    private var psiPending: [Int] = []  // indices into psiPackets still to send this round
    private var nextPSI: Int64 = .min
    private var nextSDT: Int64 = .min
    private var lastPCR: Int64 = .min
    private var pcrContinuity: UInt8 = 0  // CC of the PCR-only packets when the PCR PID has no queue
    private var pcrSignalDiscontinuity = true

    private let chunk: UnsafeMutableRawBufferPointer
    private var chunkPackets = 0
    private var chunkDeadline: Int64 = 0
    private var chunkCapture: Int64 = 0
    private var chunkReady: Int64 = 0

    // CBR schedule: packet i leaves at time(i) and carries PCR pcr(i).
    private var packetTime: ExactStepper?
    private var packetPCR: ExactStepper?
    /// 27 MHz ticks from the start of a packet to the byte holding the last bit of the PCR base
    /// (byte 10), §2.4.2.2: the PCR tells when *that* byte arrives.
    private var pcrByteOffset27M: Int64 = 0
    private static let maxLag: Int64 = 200 * MediaTime.millisecond

    /// A mux for `configuration`.
    public init(configuration: MuxConfiguration) {
        self.configuration = configuration
        queues = configuration.streams.map {
            ElementaryStreamQueue(stream: $0, capacityBytes: configuration.queueBytes, capacityUnits: 512)
        }
        pcrQueue = configuration.streams.firstIndex { $0.pid == configuration.pcrPID }
        chunk = .allocate(byteCount: TS.chunkSize, alignment: 16)
        psiPackets = []
        psiPackets = [
            Self.psiPacket(
                pid: PID.pat,
                section: PSISection.pat(
                    transportStreamID: configuration.transportStreamID, programNumber: configuration.programNumber,
                    pmtPID: configuration.pmtPID, version: configuration.tableVersion)),
            Self.psiPacket(
                pid: configuration.pmtPID,
                section: PSISection.pmt(
                    programNumber: configuration.programNumber, pcrPID: configuration.pcrPID,
                    streams: configuration.streams, version: configuration.tableVersion)),
            Self.psiPacket(
                pid: PID.sdt,
                section: PSISection.sdt(
                    transportStreamID: configuration.transportStreamID,
                    originalNetworkID: configuration.originalNetworkID, serviceID: configuration.programNumber,
                    providerName: configuration.providerName, serviceName: configuration.serviceName,
                    version: configuration.tableVersion)),
        ]
        psiPending.reserveCapacity(3)
    }

    deinit { chunk.deallocate() }

    /// A PSI section in one TS packet: pointer_field 0, the section, 0xFF stuffing (§2.4.4.1).
    static func psiPacket(pid: UInt16, section: [UInt8]) -> [UInt8] {
        // The builders keep every section ≤ 181 bytes: pointer_field + section + a 2-byte
        // adaptation field (discontinuity after a restart) fit one packet.
        precondition(section.count <= TS.packetSize - TS.headerSize - 3, "PSI section must fit one packet")
        var p: [UInt8] = [TS.syncByte, 0x40 | UInt8(pid >> 8), UInt8(pid & 0xFF), 0x10, 0x00]
        p += section
        p += [UInt8](repeating: 0xFF, count: TS.packetSize - p.count)
        return p
    }

    /// Queues one access unit of stream `index` (order of `configuration.streams`).
    /// - Parameters:
    ///   - payload: the ES bytes (H.264 Annex B with AUD, ADTS frame, 302M payload, …).
    ///   - ptsNs, dtsNs: presentation/decode time, CLOCK_MONOTONIC ns (the mux adds `delay`).
    ///   - captureNs: when its media was captured, for latency measurement.
    ///   - readyNs: when it left its encoder (0 if unknown), to measure latency outside the encoder.
    ///   - now: the current time, to count late units.
    /// - Returns: false when the unit was dropped (queue full).
    @discardableResult
    public func enqueue(
        stream index: Int, payload: UnsafeRawBufferPointer, ptsNs: Int64, dtsNs: Int64, captureNs: Int64,
        readyNs: Int64 = 0, keyframe: Bool, discontinuity: Bool, now: Int64
    ) -> Bool {
        let q = queues[index]
        if dtsNs + configuration.delay < now { statistics.lateAccessUnits &+= 1 }
        if discontinuity { q.signalDiscontinuity = true }
        var ok = true
        if q.stream.codec == .h264, !Self.startsWithAUD(payload) {
            // ITU-T H.264 §7.4.1.2.3 / ISO/IEC 13818-1 §2.14: an AU in TS starts with an AUD.
            withUnsafeBytes(of: Self.h264AUD) { aud in
                ok = q.enqueue(
                    payload, prefix: UnsafeRawBufferPointer(rebasing: aud[0..<6]), ptsNs: ptsNs, dtsNs: dtsNs,
                    captureNs: captureNs, readyNs: readyNs, keyframe: keyframe, discontinuity: discontinuity,
                    delay: configuration.delay)
            }
        } else {
            ok = q.enqueue(
                payload, prefix: nil, ptsNs: ptsNs, dtsNs: dtsNs, captureNs: captureNs, readyNs: readyNs,
                keyframe: keyframe,
                discontinuity: discontinuity, delay: configuration.delay)
        }
        if !ok { statistics.droppedAccessUnits &+= 1 }
        return ok
    }

    private static let h264AUD: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 1, 0x09, 0xF0)

    private static func startsWithAUD(_ p: UnsafeRawBufferPointer) -> Bool {
        if p.count >= 5, p[0] == 0, p[1] == 0, p[2] == 0, p[3] == 1 { return p[4] & 0x1F == 9 }
        if p.count >= 4, p[0] == 0, p[1] == 0, p[2] == 1 { return p[3] & 0x1F == 9 }
        return false
    }

    /// Whether any stream has data waiting.
    public var hasPendingData: Bool { queues.contains { !$0.isEmpty } }

    /// The next time the mux must run even without new data (PSI, PCR, or the next CBR packet), ns.
    public var nextWakeup: Int64 {
        if let packetTime { return packetTime.whole }
        return min(nextPSI, lastPCR == .min ? .min : lastPCR + configuration.pcrInterval)
    }

    /// Produces packets. CBR: every packet whose send time is ≤ `until` (call with now + lead).
    /// VBR: everything pending, stamped `now`, flushing a final partial chunk.
    public func produce(now: Int64, until: Int64, sink: (UnsafeRawBufferPointer, TSChunkInfo) -> Void) {
        switch configuration.mode {
        case .cbr(let muxrate):
            produceCBR(muxrate: muxrate, now: now, until: until, sink: sink)
        case .vbr:
            produceVBR(now: now, sink: sink)
        }
    }

    private func produceVBR(now: Int64, sink: (UnsafeRawBufferPointer, TSChunkInfo) -> Void) {
        while writePacket(at: now, pcr27: MediaTime.ticks27M(fromNanoseconds: now), allowNull: false) {
            if chunkPackets == TS.packetsPerDatagram { flush(sink) }
        }
        if chunkPackets > 0 { flush(sink) }
    }

    private func produceCBR(
        muxrate: Int64, now: Int64, until: Int64, sink: (UnsafeRawBufferPointer, TSChunkInfo) -> Void
    ) {
        let bitsPerPacket = Int64(TS.packetSize * 8)
        if packetTime == nil || packetTime!.whole < now - Self.maxLag {
            if packetTime != nil {
                statistics.scheduleResets &+= 1
                pcrSignalDiscontinuity = true
            }
            // Start on a fresh chunk boundary; both steppers are exact rationals (no drift).
            chunkPackets = 0
            packetTime = ExactStepper(
                start: now, numerator: bitsPerPacket * MediaTime.nanosecondsPerSecond, denominator: muxrate)
            packetPCR = ExactStepper(
                start: MediaTime.ticks27M(fromNanoseconds: now), numerator: bitsPerPacket * MediaTime.systemClockHz,
                denominator: muxrate)
            pcrByteOffset27M = (10 * 8 * MediaTime.systemClockHz + muxrate / 2) / muxrate
        }
        while packetTime!.whole <= until {
            let t = packetTime!.whole
            _ = writePacket(at: t, pcr27: packetPCR!.whole + pcrByteOffset27M, allowNull: true)
            packetTime!.advance()
            packetPCR!.advance()
            if chunkPackets == TS.packetsPerDatagram { flush(sink) }
        }
    }

    private func flush(_ sink: (UnsafeRawBufferPointer, TSChunkInfo) -> Void) {
        let info = TSChunkInfo(
            deadline: chunkDeadline, captureTime: chunkCapture, readyTime: chunkReady, packetCount: chunkPackets)
        sink(UnsafeRawBufferPointer(rebasing: chunk[0..<(chunkPackets * TS.packetSize)]), info)
        chunkPackets = 0
    }

    /// Writes the next packet (PSI, PCR, ES data or null) for send time `t` into the chunk.
    /// Returns false when there was nothing to write and nulls are not allowed.
    private func writePacket(at t: Int64, pcr27: Int64, allowNull: Bool) -> Bool {
        if chunkPackets == 0 {
            chunkDeadline = t
            chunkCapture = 0
            chunkReady = 0
        }
        let packet = UnsafeMutableRawBufferPointer(
            rebasing: chunk[(chunkPackets * TS.packetSize)..<((chunkPackets + 1) * TS.packetSize)])

        if t >= nextPSI {
            psiPending.removeAll(keepingCapacity: true)
            psiPending.append(0)
            psiPending.append(1)
            if t >= nextSDT {
                psiPending.append(2)
                nextSDT = (nextSDT == .min ? t : nextSDT) + configuration.sdtInterval
                if nextSDT < t { nextSDT = t + configuration.sdtInterval }
            }
            nextPSI = (nextPSI == .min ? t : nextPSI) + configuration.psiInterval
            if nextPSI < t { nextPSI = t + configuration.psiInterval }
        }
        let pcrDue = lastPCR == .min || t - lastPCR >= configuration.pcrInterval
        // The stream whose head access unit decodes first goes next.
        // Index loops and direct subscripts, not enumerated()/removeFirst(): unspecialized (debug)
        // builds call those through the stdlib's generic read coroutines, which malloc their frames
        // — two allocations per packet that the allocation test counts.
        var best: Int? = nil
        for i in 0..<queues.count where !queues[i].isEmpty {
            if let b = best, queues[b].headUnit.dtsNs <= queues[i].headUnit.dtsNs { continue }
            best = i
        }
        // PAT/PMT right before every video keyframe: a receiver joining there (a new SRT client,
        // a recording split) can start decoding at once.
        if psiPending.isEmpty, let b = best, queues[b].stream.codec.isVideo, queues[b].sentOfHead == 0,
            queues[b].headUnit.keyframe, queues[b].psiSentBeforeUnit != queues[b].headUnit.offset
        {
            queues[b].psiSentBeforeUnit = queues[b].headUnit.offset
            psiPending.append(0)
            psiPending.append(1)
            nextPSI = t + configuration.psiInterval
        }
        // PSI first: a receiver needs PAT/PMT before the PES they describe; a PCR waits ≤ 3 packets.
        if !psiPending.isEmpty {
            let which = psiPending[0]
            psiPending.remove(at: 0)
            writePSI(which, into: packet)
            return finishPacket()
        }

        if pcrDue {
            lastPCR = t
            statistics.pcrs &+= 1
            if let b = best, b == pcrQueue {
                writeES(queues[b], into: packet, pcr27: pcr27)
            } else {
                writePCROnly(into: packet, pcr27: pcr27)
            }
            return finishPacket()
        }
        if let b = best {
            writeES(queues[b], into: packet, pcr27: nil)
            return finishPacket()
        }
        guard allowNull else { return false }
        writeNull(into: packet)
        statistics.nullPackets &+= 1
        return finishPacket()
    }

    private func finishPacket() -> Bool {
        chunkPackets += 1
        statistics.packets &+= 1
        return true
    }

    private func writePSI(_ which: Int, into packet: UnsafeMutableRawBufferPointer) {
        psiPackets[which].withUnsafeBytes { template in
            if psiSignalDiscontinuity[which] {
                // Header, a 2-byte adaptation field (length 1, discontinuity_indicator), then the
                // template's payload; the section is short, so only trailing stuffing is lost.
                packet.baseAddress!.copyMemory(from: template.baseAddress!, byteCount: TS.headerSize)
                packet[4] = 1
                packet[5] = 0x80
                (packet.baseAddress! + 6).copyMemory(
                    from: template.baseAddress! + TS.headerSize, byteCount: TS.packetSize - TS.headerSize - 2)
            } else {
                packet.copyMemory(from: template)
            }
        }
        let afc: UInt8 = psiSignalDiscontinuity[which] ? 0x30 : 0x10
        psiSignalDiscontinuity[which] = false
        packet[3] = afc | psiContinuity[which]
        psiContinuity[which] = (psiContinuity[which] + 1) & 0x0F
    }

    private func writeNull(into packet: UnsafeMutableRawBufferPointer) {
        packet[0] = TS.syncByte
        packet[1] = 0x1F
        packet[2] = 0xFF
        packet[3] = 0x10
        for i in 4..<TS.packetSize { packet[i] = 0xFF }
    }

    /// Writes the 6-byte PCR field at `i`: 33-bit base, 6 reserved bits, 9-bit extension (§2.4.3.5).
    private func writePCR(_ pcr27: Int64, into p: UnsafeMutableRawBufferPointer, at i: Int) {
        let base = UInt64(pcr27 / TS.pcrExtensionModulus) & 0x1_FFFF_FFFF
        let ext = UInt64(pcr27 % TS.pcrExtensionModulus)
        p[i] = UInt8(truncatingIfNeeded: base >> 25)
        p[i + 1] = UInt8(truncatingIfNeeded: base >> 17)
        p[i + 2] = UInt8(truncatingIfNeeded: base >> 9)
        p[i + 3] = UInt8(truncatingIfNeeded: base >> 1)
        p[i + 4] = UInt8(truncatingIfNeeded: (base & 1) << 7) | 0x7E | UInt8(truncatingIfNeeded: ext >> 8)
        p[i + 5] = UInt8(truncatingIfNeeded: ext & 0xFF)
    }

    /// A packet with only an adaptation field carrying the PCR (adaptation_field_control '10';
    /// the continuity counter does not advance, §2.4.3.3).
    private func writePCROnly(into p: UnsafeMutableRawBufferPointer, pcr27: Int64) {
        let pid = configuration.pcrPID
        let cc: UInt8
        if let i = pcrQueue {
            cc = (queues[i].continuityCounter &+ 15) & 0x0F  // repeat the last CC sent
        } else {
            cc = pcrContinuity
        }
        p[0] = TS.syncByte
        p[1] = UInt8(pid >> 8)
        p[2] = UInt8(pid & 0xFF)
        p[3] = 0x20 | cc
        p[4] = 183
        var flags: UInt8 = 0x10
        if pcrSignalDiscontinuity {
            flags |= 0x80
            pcrSignalDiscontinuity = false
        }
        p[5] = flags
        writePCR(pcr27, into: p, at: 6)
        for i in 12..<TS.packetSize { p[i] = 0xFF }
    }

    /// The next packet of `q`'s head access unit, with PCR, random_access_indicator and
    /// discontinuity_indicator in the adaptation field where due, stuffed when the unit ends.
    private func writeES(_ q: ElementaryStreamQueue, into p: UnsafeMutableRawBufferPointer, pcr27: Int64?) {
        let unit = q.headUnit
        let start = q.sentOfHead == 0
        if start, chunkCapture == 0 || unit.captureNs < chunkCapture {
            chunkCapture = unit.captureNs
            chunkReady = unit.readyNs
        }
        var afFlags: UInt8 = 0
        if q.signalDiscontinuity || (pcr27 != nil && pcrSignalDiscontinuity) {
            afFlags |= 0x80
            q.signalDiscontinuity = false
            if pcr27 != nil { pcrSignalDiscontinuity = false }
        }
        if start && unit.keyframe { afFlags |= 0x40 }  // random_access_indicator
        if pcr27 != nil { afFlags |= 0x10 }
        let needsAF = afFlags != 0
        let afFixed = needsAF ? 2 + (pcr27 != nil ? 6 : 0) : 0  // length byte + flags (+ PCR)
        let room = TS.packetSize - TS.headerSize - afFixed
        let remaining = q.remainingOfHead
        let payload = min(room, remaining)
        let afTotal = TS.packetSize - TS.headerSize - payload  // 0 when no AF at all
        let pid = q.stream.pid
        p[0] = TS.syncByte
        p[1] = (start ? 0x40 : 0) | UInt8(pid >> 8)
        p[2] = UInt8(pid & 0xFF)
        p[3] = (afTotal > 0 ? 0x30 : 0x10) | q.continuityCounter
        q.continuityCounter = (q.continuityCounter + 1) & 0x0F
        if afTotal > 0 {
            p[4] = UInt8(afTotal - 1)  // adaptation_field_length
            if afTotal > 1 {
                p[5] = afFlags
                var i = 6
                if let pcr27 {
                    writePCR(pcr27, into: p, at: i)
                    i += 6
                }
                while i < TS.headerSize + afTotal {
                    p[i] = 0xFF
                    i += 1
                }
            }
        }
        let out = UnsafeMutableRawBufferPointer(rebasing: p[(TS.headerSize + afTotal)...])
        _ = q.take(into: out, max: payload)
    }
}
