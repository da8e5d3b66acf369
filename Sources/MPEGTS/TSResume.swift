/// What a sender runs its outgoing TS through after it (re)starts reading the mux's output in the
/// middle (a restarted send stage, a reader overrun, a restarted mux), so that a receiver that saw
/// the stream before resumes cleanly:
///  1. nothing is sent before the clean point, the next PAT (the mux sends PAT and PMT before
///     every IDR and every `psiInterval`); packets before it in that chunk become null packets;
///  2. elementary streams wait for the PMT, and the video stream for its next random access point
///     (random_access_indicator, or an H.264 IDR/SPS or H.265 IRAP/VPS/SPS NAL unit in the PES
///     start), its packets before that becoming null packets;
///  3. the first packet sent on each PID carries discontinuity_indicator = 1 (ISO/IEC 13818-1
///     §2.4.3.5), so its continuity_counter jump is not a TR 101 290 1.4 Continuity_count_error:
///     set in the adaptation field when there is one (length ≥ 1); a PSI packet without one whose
///     sections end with ≥ 2 stuffing bytes gets a 2-byte adaptation field (its payload moves 2
///     bytes, 2 stuffing bytes fall off); any other packet (full PES payload) becomes a null packet
///     and the PID's next packet is tried.
/// Packets are rewritten in place and chunks keep their size, so a CBR stream keeps its rate and
/// timing. Null packets (PID 0x1FFF) pass untouched. No allocation after `init`.
public struct TSResume: Sendable {
    /// PIDs below this are PAT, CAT, TSDT and (DVB, EN 300 468 §5.1.3) SI tables: sections, not PES.
    static let firstNonTablePID: UInt16 = 0x0020
    /// Stuffing after the last section of a packet, and the table_id that marks it (§2.4.4.2).
    static let stuffingByte: UInt8 = 0xFF
    /// Bytes of the adaptation field a PSI packet gets: adaptation_field_length (1) and the flags.
    static let insertedAdaptationField = 2

    /// Waiting for the PAT that opens the stream.
    public private(set) var waitingForPAT = true
    /// program_map_PID of the first program of the PAT seen since the restart.
    public private(set) var pmtPID: UInt16? = nil
    /// Whether a PMT was read since the restart (elementary streams wait for it).
    public private(set) var pmtSeen = false
    /// The PMT's first video stream, which waits for its random access point.
    public private(set) var videoPID: UInt16? = nil
    private var videoStreamType: UInt8 = 0
    /// Whether the video has reached its random access point since the restart.
    public private(set) var videoStarted = false
    /// Per PID: its first packet since the restart was sent, flagged.
    private var flagged = [Bool](repeating: false, count: 8192)
    /// Whole chunks held back, and packets replaced by null packets, since `init`.
    public private(set) var heldChunks: Int64 = 0
    /// Packets replaced by null packets since `init`.
    public private(set) var nulledPackets: Int64 = 0
    /// Restarts since `init` (the first start not counted).
    public private(set) var restarts: Int64 = 0

    /// A resume gate waiting for its first PAT.
    public init() {}

    /// Starts over: after the reader lost chunks, the ring's writer restarted, or a new receiver.
    public mutating func restart() {
        restarts &+= 1
        waitingForPAT = true
        pmtPID = nil
        pmtSeen = false
        videoPID = nil
        videoStreamType = 0
        videoStarted = false
        flagged.withUnsafeMutableBufferPointer { $0.update(repeating: false) }
    }

    /// Rewrites `chunk` (whole 188-byte packets) in place; false when the whole chunk is to be held
    /// back (not sent): the clean point has not come yet.
    public mutating func process(_ chunk: UnsafeMutableRawBufferPointer) -> Bool {
        let size = TS.packetSize
        var start = 0
        if waitingForPAT {
            var k = 0
            while k + size <= chunk.count {
                let p = UnsafeRawBufferPointer(rebasing: chunk[k..<(k + size)])
                if let packet = TSPacket(p), packet.pid == PID.pat, packet.payloadUnitStart { break }
                k += size
            }
            guard k + size <= chunk.count else {
                heldChunks &+= 1
                return false
            }
            var i = 0
            while i < k {
                Self.makeNull(UnsafeMutableRawBufferPointer(rebasing: chunk[i..<(i + size)]))
                nulledPackets &+= 1
                i += size
            }
            waitingForPAT = false
            start = k
        }
        var i = start
        while i + size <= chunk.count {
            packet(UnsafeMutableRawBufferPointer(rebasing: chunk[i..<(i + size)]))
            i += size
        }
        return true
    }

    private mutating func packet(_ p: UnsafeMutableRawBufferPointer) {
        guard let view = TSPacket(UnsafeRawBufferPointer(p)) else { return }
        let pid = view.pid
        if pid == PID.null { return }
        if pid == PID.pat {
            if let program = view.firstProgramMapPID { pmtPID = program }
        }
        var isPMT = false  // no Optional ==: generic (allocating) in debug builds
        if let m = pmtPID, m == pid { isPMT = true }
        if isPMT { readPMT(view) }
        let table = pid < Self.firstNonTablePID || isPMT
        if !table {
            guard pmtSeen else { return drop(p) }
            if !videoStarted, let video = videoPID, pid == video {
                guard view.isRandomAccessPoint(streamType: videoStreamType) else {
                    return drop(p)
                }
                videoStarted = true
            }
        }
        if flagged[Int(pid)] { return }
        if Self.setDiscontinuity(p, view, table: table) {
            flagged[Int(pid)] = true
        } else {
            drop(p)
        }
    }

    private mutating func drop(_ p: UnsafeMutableRawBufferPointer) {
        Self.makeNull(p)
        nulledPackets &+= 1
    }

    // MARK: packet level

    /// A null packet (§2.4.3.3 PID 0x1FFF, payload only, stuffing).
    static func makeNull(_ p: UnsafeMutableRawBufferPointer) {
        p[0] = TS.syncByte
        p[1] = UInt8(PID.null >> 8)
        p[2] = UInt8(PID.null & 0xFF)
        p[3] = TSPacket.payloadBit
        var i = TS.headerSize
        while i < TS.packetSize {
            p[i] = stuffingByte
            i += 1
        }
    }

    /// Sets discontinuity_indicator in place; false when the packet cannot carry it (no adaptation
    /// field or one of length 0, and not a table packet with 2 stuffing bytes to spare).
    static func setDiscontinuity(_ p: UnsafeMutableRawBufferPointer, _ view: TSPacket, table: Bool) -> Bool {
        if view.hasAdaptationField {
            guard view.adaptationFieldLength >= 1 else { return false }
            p[5] |= TSPacket.discontinuityIndicatorBit
            return true
        }
        guard table, view.hasPayload, let stuffing = stuffingStart(view),
            stuffing <= TS.packetSize - insertedAdaptationField
        else { return false }
        // Move header-less payload [4, 186) to [6, 188): the 2 bytes that fall off are stuffing.
        let base = p.baseAddress!
        (base + TS.headerSize + insertedAdaptationField).copyMemory(
            from: base + TS.headerSize, byteCount: TS.packetSize - TS.headerSize - insertedAdaptationField)
        p[4] = 1
        p[5] = TSPacket.discontinuityIndicatorBit
        p[3] |= TSPacket.adaptationFieldBit
        return true
    }

    /// Where the stuffing after the last section of a payload-only table packet starts (§2.4.4.2:
    /// pointer_field, then sections, then 0xFF to the end), or nil when a section runs past the
    /// packet or the packet does not start one (a continuation: its end is not known here).
    static func stuffingStart(_ view: TSPacket) -> Int? {
        guard var i = view.sectionOffset else { return nil }
        let p = view.bytes
        while i < TS.packetSize {
            if p[i] == stuffingByte { break }
            guard i + 3 <= TS.packetSize else { return nil }
            i += 3 + (Int(p[i + 1] & 0x0F) << 8 | Int(p[i + 2]))
        }
        guard i <= TS.packetSize else { return nil }
        var k = i
        while k < TS.packetSize {
            if p[k] != stuffingByte { return nil }
            k += 1
        }
        return i
    }

    /// The PMT's first video stream (§2.4.4.8); a PMT that changes the video PID starts it over.
    private mutating func readPMT(_ view: TSPacket) {
        guard let (start, end) = view.section(tableID: TableID.pmt), start + 12 <= end else { return }
        let p = view.bytes
        let programInfoLength = Int(p[start + 10] & 0x0F) << 8 | Int(p[start + 11])
        var i = start + 12 + programInfoLength
        var video: UInt16? = nil
        var type: UInt8 = 0
        while i + 5 <= end {
            let t = p[i]
            if StreamType.isVideo(t) {
                video = UInt16(p[i + 1] & 0x1F) << 8 | UInt16(p[i + 2])
                type = t
                break
            }
            i += 5 + (Int(p[i + 3] & 0x0F) << 8 | Int(p[i + 4]))
        }
        var changed = false
        if let v = video, let old = videoPID {
            changed = v != old
        } else {
            changed = (video == nil) != (videoPID == nil)
        }
        if !pmtSeen || changed {
            videoPID = video
            videoStreamType = type
            videoStarted = false
        }
        pmtSeen = true
    }
}
