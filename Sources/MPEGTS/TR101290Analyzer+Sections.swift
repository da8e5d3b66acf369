import MediaTime

/// One PID's PSI/SI section being collected across packets (ISO/IEC 13818-1 §2.4.4): the CRC_32
/// runs over every byte as it arrives; the first `capacity` bytes are kept for parsing. No
/// allocation after `init`.
struct SectionAssembler {
    /// Bytes kept: a PSI section is at most 1024 bytes (section_length ≤ 1021, §2.4.4.4 ff).
    static let capacity = 1024
    private(set) var buffer = [UInt8](repeating: 0, count: capacity)
    private(set) var active = false
    private(set) var length = 0
    private(set) var total = 0  // 3 + section_length once known
    private(set) var crc: UInt32 = 0

    /// Drops a partial section (a lost packet, a new section start).
    mutating func abort() { active = false }

    /// Starts a new section.
    mutating func start() {
        active = true
        length = 0
        total = 0
        crc = CRC32MPEG2.initial
    }

    /// Takes bytes of the section; returns how many it used (the rest follows the section's end).
    /// The section is complete when `active` turns false after a call that used bytes.
    mutating func take(_ bytes: UnsafeRawBufferPointer) -> Int {
        var used = 0
        while used < bytes.count, active {
            let b = bytes[used]
            if length < Self.capacity { buffer[length] = b }
            length += 1
            used += 1
            crc = CRC32MPEG2.update(crc, byte: b)
            if length == 3 { total = 3 + (Int(buffer[1] & 0x0F) << 8 | Int(buffer[2])) }
            if total > 0, length == total { active = false }
        }
        return used
    }

    /// section_syntax_indicator set (long form, with CRC_32), or a TOT (short form with CRC_32).
    var hasCRC: Bool { buffer[1] & 0x80 != 0 || buffer[0] == TR101290Analyzer.totTableID }
}

extension TR101290Analyzer {
    /// PIDs of the fixed-PID tables: PAT, CAT, NIT, SDT/BAT, EIT, TDT/TOT (ISO/IEC 13818-1 Table 2-3,
    /// EN 300 468 §5.1.3); their assemblers come first.
    static let siPIDs: [UInt16] = [0x0000, 0x0001, 0x0010, 0x0011, 0x0012, 0x0014]
    static let fixedAssemblers = 6
    /// table_ids (EN 300 468 Table 2): CAT, NIT actual, SDT actual, EIT p/f actual, TDT, TOT.
    static let catTableID: UInt8 = 0x01
    static let nitActualTableID: UInt8 = 0x40
    static let eitPFActualTableID: UInt8 = 0x4E
    static let tdtTableID: UInt8 = 0x70
    static let totTableID: UInt8 = 0x73
    /// 3.2 maximum intervals of NIT, SDT, EIT p/f, TDT (the order of `siLastNs`).
    static let siMaxIntervals: [Int64] = [
        TR101290.maxNITInterval, TR101290.maxSDTInterval, TR101290.maxEITInterval, TR101290.maxTDTInterval,
    ]
    static let siTablePIDs: [Int] = [0x0010, 0x0011, 0x0012, 0x0014]

    /// A packet's payload on a section PID: finishes the pending section, then every section the
    /// pointer_field (§2.4.4.2) starts, until stuffing (0xFF) or the end of the packet.
    mutating func sectionPayload(_ p: TSPacket, pid: Int, slot: Int) {
        let payload = p.payload
        guard !payload.isEmpty else { return }
        guard p.payloadUnitStart else {
            if assemblers[slot].active { _ = feedSection(payload, pid: pid, slot: slot) }
            return
        }
        let start = 1 + Int(payload[0])
        if assemblers[slot].active {
            _ = feedSection(
                UnsafeRawBufferPointer(rebasing: payload[1..<min(start, payload.count)]), pid: pid, slot: slot)
        }
        assemblers[slot].abort()
        var i = start
        while i < payload.count, payload[i] != 0xFF {
            assemblers[slot].start()
            i += feedSection(UnsafeRawBufferPointer(rebasing: payload[i...]), pid: pid, slot: slot)
            if assemblers[slot].active { break }  // continues in the next packet
        }
    }

    private mutating func feedSection(_ bytes: UnsafeRawBufferPointer, pid: Int, slot: Int) -> Int {
        let used = assemblers[slot].take(bytes)
        if !assemblers[slot].active, assemblers[slot].total > 0, assemblers[slot].length == assemblers[slot].total {
            completeSection(pid: pid, slot: slot)
        }
        return used
    }

    /// A whole section: 2.2 CRC, then what its PID and table_id mean for 1.3.a, 1.5, 2.6, 3.2.
    private mutating func completeSection(pid: Int, slot: Int) {
        let a = assemblers[slot]
        guard a.total >= 3 else { return }
        if a.hasCRC, a.crc != 0 || a.total < 3 + PSI.minimumLongSection {
            record(.crcError, pid: pid)
            return
        }
        let tableID = a.buffer[0]
        let sectionNumber = a.hasCRC && a.total > 6 ? a.buffer[6] : 0
        switch slot {
        case 0:
            if tableID == TableID.pat {
                if timeValid { patLastNs = now }
                parsePAT(a)
            } else {
                record(.patError2, pid: pid)
            }
        case 1:
            if tableID == Self.catTableID { catSeen = true } else { record(.catError, pid: pid) }
        case 2: if tableID == Self.nitActualTableID { siSection(0, sectionNumber: sectionNumber) }
        case 3: if tableID == TableID.sdtActual { siSection(1, sectionNumber: sectionNumber) }
        case 4: if tableID == Self.eitPFActualTableID { siSection(2, sectionNumber: sectionNumber) }
        case 5: if tableID == Self.tdtTableID { siSection(3, sectionNumber: sectionNumber) }
        default:
            let program = slot - Self.fixedAssemblers
            guard program < programCount, tableID == TableID.pmt else { return }
            if timeValid { programPMTLastNs[program] = now }
            parsePMT(a, program: program)
        }
    }

    /// 3.2: sections 0 of an SI table closer than 25 ms; the maximum is checked by `siTimers`.
    private mutating func siSection(_ table: Int, sectionNumber: UInt8) {
        guard timeValid, sectionNumber == 0 else { return }
        if let last = siLastNs[table], now - last < TR101290.minSIInterval {
            record(.siRepetitionError, pid: Self.siTablePIDs[table])
        }
        siLastNs[table] = now
    }

    private static func sectionCRC(_ a: SectionAssembler) -> UInt32 {
        let e = min(a.total, SectionAssembler.capacity)
        guard e >= 4 else { return 0 }
        return UInt32(a.buffer[e - 4]) << 24 | UInt32(a.buffer[e - 3]) << 16 | UInt32(a.buffer[e - 2]) << 8
            | UInt32(a.buffer[e - 1])
    }

    /// The PAT's programmes (§2.4.4.3): each program_map_PID gets an assembler and a PMT timer.
    private mutating func parsePAT(_ a: SectionAssembler) {
        let crc = Self.sectionCRC(a)
        guard crc != patCRC else { return }
        patCRC = crc
        for p in 0..<programCount {
            let pmt = Int(programPMTPID[p])
            assemblerOfPID[pmt] = -1
            pidFlags[pmt] &= ~Self.pmtBit
            setStreams(program: p, from: a, range: 0..<0)
            if pcrTrackers[p].pid >= 0 { pidFlags[pcrTrackers[p].pid] &= ~Self.pcrBit }
            pcrTrackers[p].reset(pid: -1)
        }
        programCount = 0
        var i = PSI.longHeader
        let end = min(a.total, SectionAssembler.capacity) - PSI.crcSize
        while i + 4 <= end, programCount < Self.maxPrograms {
            let number = UInt16(a.buffer[i]) << 8 | UInt16(a.buffer[i + 1])
            let pid = Int(a.buffer[i + 2] & 0x1F) << 8 | Int(a.buffer[i + 3])
            i += 4
            guard number != 0, assemblerOfPID[pid] < 0, pid != Int(PID.null) else { continue }
            let p = programCount
            programCount += 1
            programPMTPID[p] = UInt16(pid)
            programPMTLastNs[p] = now
            programPMTCRC[p] = nil
            assemblerOfPID[pid] = Int8(Self.fixedAssemblers + p)
            assemblers[Self.fixedAssemblers + p].abort()
            pidFlags[pid] |= Self.pmtBit
        }
    }

    /// The PMT's PCR_PID and elementary streams (§2.4.4.8).
    private mutating func parsePMT(_ a: SectionAssembler, program p: Int) {
        let crc = Self.sectionCRC(a)
        guard crc != programPMTCRC[p], a.total >= PSI.longHeader + 4 + PSI.crcSize else { return }
        programPMTCRC[p] = crc
        let b = a.buffer
        let pcrPID = Int(b[8] & 0x1F) << 8 | Int(b[9])
        let infoLength = Int(b[10] & 0x0F) << 8 | Int(b[11])
        let end = min(a.total, SectionAssembler.capacity) - PSI.crcSize
        setStreams(program: p, from: a, range: min(PSI.longHeader + 4 + infoLength, end)..<end)
        if pcrTrackers[p].pid != pcrPID {
            if pcrTrackers[p].pid >= 0 { pidFlags[pcrTrackers[p].pid] &= ~Self.pcrBit }
            pcrTrackers[p].reset(pid: pcrPID == Int(PID.null) ? -1 : pcrPID)
            if pcrPID != Int(PID.null) { pidFlags[pcrPID] |= Self.pcrBit }
        }
        if p == 0, !arrivalTiming, pcrPID != Int(PID.null) { clock.pid = pcrPID }
    }

    /// Replaces programme `p`'s elementary streams with the ES loop in `range` of the section: a
    /// newly referenced PID starts its 1.6 timer now; one no longer referenced loses its checks.
    private mutating func setStreams(program p: Int, from a: SectionAssembler, range: Range<Int>) {
        var count = 0
        var i = range.lowerBound
        while i + 5 <= range.upperBound, count < Self.maxStreamsPerProgram {
            let pid = Int(a.buffer[i + 1] & 0x1F) << 8 | Int(a.buffer[i + 2])
            i += 5 + (Int(a.buffer[i + 3] & 0x0F) << 8 | Int(a.buffer[i + 4]))
            guard pid != Int(PID.null) else { continue }
            scratchStreams[count] = UInt16(pid)
            count += 1
            if pidFlags[pid] & Self.elementaryBit == 0 {
                pidFlags[pid] |= Self.elementaryBit
                if timeValid { lastSeenNs[pid] = max(lastSeenNs[pid], now) }
            }
        }
        let base = p * Self.maxStreamsPerProgram
        for o in 0..<programStreamCount[p] {
            let pid = programStreams[base + o]
            var kept = false
            for k in 0..<count where scratchStreams[k] == pid { kept = true }
            if !kept { pidFlags[Int(pid)] &= ~(Self.elementaryBit | Self.ptsArmedBit) }
        }
        for k in 0..<count { programStreams[base + k] = scratchStreams[k] }
        programStreamCount[p] = count
    }

    /// A PCR: drives the stream clock (file timing), then 2.3.a, 2.3.b, 2.4 on a programme's PCR PID.
    mutating func pcrSeen(_ pcr: Int64, pid: Int, position: Int64, flagged: Bool, flags: UInt8) {
        if !arrivalTiming {
            if clock.pid < 0 { clock.pid = pid }
            if pid == clock.pid {
                clock.pcr(pcr, position: position, flagged: flagged)
                if let t = clock.time(at: position) { setTime(t) }
            }
        }
        guard flags & Self.pcrBit != 0 else { return }
        for p in 0..<programCount where pcrTrackers[p].pid == pid {
            let v = pcrTrackers[p].pcr(
                pcr, position: position, now: now, flagged: flagged, losses: losses,
                maxInterval: configuration.maxPCRInterval)
            if v.repetition { record(.pcrRepetitionError, pid: pid) }
            if v.discontinuity { record(.pcrDiscontinuityIndicatorError, pid: pid) }
            if v.accuracy { record(.pcrAccuracyError, pid: pid) }
        }
    }
}

/// Section layout numbers (ISO/IEC 13818-1 §2.4.4.3 ff).
enum PSI {
    /// table_id … last_section_number of a long-form section.
    static let longHeader = 8
    /// CRC_32 at the end of a long-form section.
    static let crcSize = 4
    /// The least section_length of a long-form section: 5 header bytes after it plus CRC_32.
    static let minimumLongSection = 9
}
