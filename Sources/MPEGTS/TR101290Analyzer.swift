import MediaTime

/// A continuous ETSI TR 101 290 V1.4.1 §5.2 monitor for one transport stream: priority 1 (1.1–1.6),
/// priority 2 (2.1–2.6) and, where the stream carries the tables, priority 3 (3.2 SI repetition for
/// SDT/NIT/EIT p/f/TDT, 3.4 Unreferenced_PID). Each indicator keeps a count, the times of its first
/// and last error and an alarm raised on an error and cleared after a quiet time; raise/clear
/// transitions queue for `drainTransitions(_:)`.
///
/// Time: `feed(_:arrivalNs:)` with the datagram's arrival time (network input), or `feed(_:)` for
/// a file, whose time is the stream's own (PCRs and byte position), so a file is analysed as fast
/// as it reads. Packets must be 188-byte aligned (datagrams, files cut at packet boundaries).
///
/// Cost: per-PID state in fixed 8192-entry tables allocated in `init` (about 200 KB); no
/// allocation per packet. Accepts any bytes and packet order; never traps on input. One thread at a time.
public struct TR101290Analyzer: Sendable {
    /// Per-PID flag bits in `pidFlags`.
    static let elementaryBit: UInt8 = 0x01
    static let pmtBit: UInt8 = 0x02
    static let pcrBit: UInt8 = 0x04
    static let seenBit: UInt8 = 0x08
    static let unreferencedReportedBit: UInt8 = 0x10
    static let ptsArmedBit: UInt8 = 0x20
    /// Programs followed (PMT PIDs of the PAT), and elementary PIDs per programme.
    static let maxPrograms = 16
    static let maxStreamsPerProgram = 32
    /// How often (analyzer time) the timers are swept: 10 ms.
    static let sweepInterval: Int64 = 10 * MediaTime.millisecond
    /// Queued transitions kept before `drainTransitions` (more are counted in `droppedTransitions`).
    static let transitionCapacity = 64

    /// The settings.
    public let configuration: Configuration
    /// Packets fed (including those with a bad sync byte).
    public private(set) var packets: Int64 = 0
    /// Whether the stream is in sync (1.1: acquired after 5 good sync bytes, lost after 2 bad).
    public private(set) var inSync = false
    /// Transitions lost because nobody drained them.
    public private(set) var droppedTransitions: Int64 = 0
    /// The PCR PID of the first programme, when a PMT gave it.
    public var pcrPID: UInt16? { pcrTrackers[0].pid >= 0 ? UInt16(pcrTrackers[0].pid) : nil }
    /// Whether 2.4 applies to the first programme's PCR PID (CBR) or not (VBR).
    public var pcrAccuracyApplicability: PCRAccuracyApplicability { pcrTrackers[0].applicability }

    var statuses: [IndicatorStatus]
    var transitions: [AlarmTransition]
    var continuity = ContinuityCounter()
    var pidFlags: [UInt8]
    var lastSeenNs: [Int64]
    var firstSeenNs: [Int64]
    var lastPTSNs: [Int64]
    /// Section assemblers: 0 PAT, 1 CAT, 2 NIT, 3 SDT, 4 EIT, 5 TDT, then one per programme's PMT PID.
    var assemblers: [SectionAssembler]
    var assemblerOfPID: [Int8]
    var pcrTrackers: [PCRTracker]
    var clock = StreamClock()
    var arrivalTiming = false
    var now: Int64 = 0
    var timeValid = false
    var nextSweep: Int64 = 0
    var losses: Int64 = 0
    var goodRun = 0
    var badRun = 0
    // Programmes (from the PAT) and their streams (from each PMT).
    var programCount = 0
    var programPMTPID: [UInt16]
    var programPMTLastNs: [Int64]
    var programPMTCRC: [UInt32?]
    var scratchStreams: [UInt16]
    var programStreams: [UInt16]
    var programStreamCount: [Int]
    var patLastNs: Int64 = 0
    var patCRC: UInt32?
    var catSeen = false
    /// 3.2: per SI table (NIT, SDT, EIT p/f, TDT): last section time, or nil before the first.
    var siLastNs: [Int64?] = [nil, nil, nil, nil]

    /// An analyzer that has seen nothing.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        statuses = [IndicatorStatus](repeating: IndicatorStatus(), count: Indicator.allCases.count)
        transitions = []
        transitions.reserveCapacity(Self.transitionCapacity)
        let pids = ContinuityCounter.pidCount
        pidFlags = [UInt8](repeating: 0, count: pids)
        lastSeenNs = [Int64](repeating: 0, count: pids)
        firstSeenNs = [Int64](repeating: 0, count: pids)
        lastPTSNs = [Int64](repeating: 0, count: pids)
        assemblers = (0..<(Self.fixedAssemblers + Self.maxPrograms)).map { _ in SectionAssembler() }
        assemblerOfPID = [Int8](repeating: -1, count: pids)
        for (i, pid) in Self.siPIDs.enumerated() { assemblerOfPID[Int(pid)] = Int8(i) }
        pcrTrackers = [PCRTracker](repeating: PCRTracker(), count: Self.maxPrograms)
        programPMTPID = [UInt16](repeating: 0, count: Self.maxPrograms)
        programPMTLastNs = [Int64](repeating: 0, count: Self.maxPrograms)
        programPMTCRC = [UInt32?](repeating: nil, count: Self.maxPrograms)
        scratchStreams = [UInt16](repeating: 0, count: Self.maxStreamsPerProgram)
        programStreams = [UInt16](repeating: 0, count: Self.maxPrograms * Self.maxStreamsPerProgram)
        programStreamCount = [Int](repeating: 0, count: Self.maxPrograms)
    }

    /// The status of one indicator.
    public func status(_ indicator: Indicator) -> IndicatorStatus { statuses[indicator.rawValue] }

    /// The analyzer's clock, ns (arrival time, or stream time for a file); nil before it started.
    public var timeNs: Int64? { timeValid ? now : nil }

    /// Feeds whole 188-byte packets (a trailing partial packet is ignored). `arrivalNs`: when the
    /// datagram arrived (ns, any monotonic clock) for network input; nil for a file (stream time).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, arrivalNs: Int64? = nil) {
        if let arrivalNs {
            arrivalTiming = true
            setTime(arrivalNs)
        }
        var offset = 0
        while offset + TS.packetSize <= bytes.count {
            packet(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + TS.packetSize)]))
            offset += TS.packetSize
        }
    }

    /// Lets time pass without packets (network input that went quiet): timers (1.3, 1.5, 1.6,
    /// 3.2) fire and alarms clear. `nowNs` on the clock given to `feed(_:arrivalNs:)`.
    public mutating func advance(toNs nowNs: Int64) {
        arrivalTiming = true
        setTime(nowNs)
        sweepIfDue()
    }

    /// Hands each queued alarm transition to `body`, oldest first, and empties the queue.
    public mutating func drainTransitions(_ body: (AlarmTransition) -> Void) {
        for t in transitions { body(t) }
        transitions.removeAll(keepingCapacity: true)
    }

    mutating func setTime(_ t: Int64) {
        if !timeValid {
            timeValid = true
            now = t
            armTimers()
        } else if t > now {
            now = t
        }
    }

    /// Starts every timer at `now` (the first moment the clock is known).
    private mutating func armTimers() {
        patLastNs = now
        for p in 0..<programCount { programPMTLastNs[p] = now }
        for i in 0..<lastSeenNs.count where pidFlags[i] & Self.elementaryBit != 0 { lastSeenNs[i] = now }
        nextSweep = now + Self.sweepInterval
    }

    private mutating func packet(_ raw: UnsafeRawBufferPointer) {
        let position = packets * Int64(TS.packetSize)
        packets += 1
        if !arrivalTiming, let t = clock.time(at: position) { setTime(t) }
        guard raw[0] == TS.syncByte, let p = TSPacket(raw) else {
            syncByte(good: false)
            sweepIfDue()
            return
        }
        syncByte(good: true)
        let pid = Int(p.pid)
        if p.transportError { record(.transportError, pid: pid) }
        if pid == Int(PID.null) {
            sweepIfDue()
            return
        }
        let flags = pidFlags[pid]
        if timeValid { lastSeenNs[pid] = now }
        if continuity.check(p) == .error {
            losses += 1
            if assemblerOfPID[pid] >= 0 { assemblers[Int(assemblerOfPID[pid])].abort() }
            record(.continuityCountError, pid: pid)
        }
        let scrambled = raw[3] & 0xC0 != 0
        if scrambled { scrambling(pid: pid, flags: flags) }
        if p.hasAdaptationField, let pcr = p.pcr27 {
            pcrSeen(pcr, pid: pid, position: position, flagged: p.discontinuityIndicator, flags: flags)
        }
        let slot = Int(assemblerOfPID[pid])
        if slot >= 0, !scrambled {
            sectionPayload(p, pid: pid, slot: slot)
        } else if flags & Self.elementaryBit != 0 {
            if p.payloadUnitStart, !scrambled { pesStart(p.payload, pid: pid) }
        } else if pid >= Int(PID.firstUser), flags & (Self.pmtBit | Self.pcrBit) == 0, timeValid {
            unreferenced(pid: pid, flags: flags)
        }
        sweepIfDue()
    }

    /// 1.1 and 1.2: the sync hysteresis.
    private mutating func syncByte(good: Bool) {
        if good {
            badRun = 0
            goodRun += 1
            if !inSync, goodRun >= TR101290.syncAcquireCount { inSync = true }
            return
        }
        losses += 1
        goodRun = 0
        badRun += 1
        record(.syncByteError, pid: nil)
        if inSync, badRun >= TR101290.syncLossCount {
            inSync = false
            record(.tsSyncLoss, pid: nil)
        }
    }

    /// transport_scrambling_control ≠ 00: never allowed on PAT and PMT PIDs (1.3, 1.5), and needs a CAT (2.6).
    private mutating func scrambling(pid: Int, flags: UInt8) {
        if pid == Int(PID.pat) {
            record(.patError, pid: pid)
            record(.patError2, pid: pid)
        }
        if flags & Self.pmtBit != 0 {
            record(.pmtError, pid: pid)
            record(.pmtError2, pid: pid)
        }
        if !catSeen { record(.catError, pid: pid) }
    }

    /// 3.4: a PID no PMT refers to, 0.5 s after it first occurred.
    private mutating func unreferenced(pid: Int, flags: UInt8) {
        if flags & Self.seenBit == 0 {
            pidFlags[pid] = flags | Self.seenBit
            firstSeenNs[pid] = now
        } else if flags & Self.unreferencedReportedBit == 0, now - firstSeenNs[pid] > TR101290.maxUnreferencedTime {
            pidFlags[pid] = flags | Self.unreferencedReportedBit
            record(.unreferencedPID, pid: pid)
        }
    }

    /// 2.5: the PES header a packet starts (ISO/IEC 13818-1 §2.4.3.6): PTS_DTS_flags.
    private mutating func pesStart(_ p: UnsafeRawBufferPointer, pid: Int) {
        guard p.count >= 9, p[0] == 0, p[1] == 0, p[2] == 1, timeValid else { return }
        let streamID = p[3]
        // program_stream_map, padding, private_stream_2, ECM, EMM, directory, DSM-CC, H.222.1 E:
        // no PTS (§2.4.3.7).
        if streamID == 0xBC || streamID == 0xBE || streamID == 0xBF || streamID == 0xF0 || streamID == 0xF1
            || streamID == 0xFF || streamID == 0xF2 || streamID == 0xF8
        {
            return
        }
        let hasPTS = p[7] & 0x80 != 0
        let flags = pidFlags[pid]
        if flags & Self.ptsArmedBit != 0, now - lastPTSNs[pid] > TR101290.maxPTSInterval {
            record(.ptsError, pid: pid)
            lastPTSNs[pid] = now  // re-armed: the next error after another 700 ms
        }
        if hasPTS {
            lastPTSNs[pid] = now
            pidFlags[pid] = flags | Self.ptsArmedBit
        }
    }

    /// Counts an error of `indicator` now and raises its alarm.
    mutating func record(_ indicator: Indicator, pid: Int?) {
        let i = indicator.rawValue
        let t = timeValid ? now : 0
        statuses[i].count += 1
        if statuses[i].firstNs == nil { statuses[i].firstNs = t }
        statuses[i].lastNs = t
        statuses[i].lastPID = pid.map { UInt16(truncatingIfNeeded: $0) }
        if !statuses[i].alarm {
            statuses[i].alarm = true
            queue(
                AlarmTransition(
                    indicator: indicator, raised: true, atNs: t, pid: statuses[i].lastPID, count: statuses[i].count))
        }
    }

    mutating func queue(_ t: AlarmTransition) {
        if transitions.count < Self.transitionCapacity { transitions.append(t) } else { droppedTransitions += 1 }
    }
}
