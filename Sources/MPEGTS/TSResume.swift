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
    /// adaptation_field_control bits (§2.4.3.2, Table 2-5).
    static let adaptationFieldBit: UInt8 = 0x20
    static let payloadBit: UInt8 = 0x10
    /// Adaptation field flag bits (§2.4.3.4): discontinuity_indicator, random_access_indicator.
    static let discontinuityIndicator: UInt8 = 0x80
    static let randomAccessIndicator: UInt8 = 0x40
    /// payload_unit_start_indicator (§2.4.3.2).
    static let unitStartBit: UInt8 = 0x40
    /// PIDs below this are PAT, CAT, TSDT and (DVB, EN 300 468 §5.1.3) SI tables: sections, not PES.
    static let firstNonTablePID: UInt16 = 0x0020
    /// Stuffing after the last section of a packet, and the table_id that marks it (§2.4.4.2).
    static let stuffingByte: UInt8 = 0xFF
    /// Bytes of the adaptation field a PSI packet gets: adaptation_field_length (1) and the flags.
    static let insertedAdaptationField = 2
    /// PMT stream_type values of video (ISO/IEC 13818-1 Table 2-34): MPEG-1/2 video, MPEG-4
    /// Visual, H.264, H.265.
    static let mpeg1Video: UInt8 = 0x01
    static let mpeg2Video: UInt8 = 0x02
    static let mpeg4Visual: UInt8 = 0x10
    /// Plain comparisons, no generic `contains`: unspecialized (debug) builds allocate there.
    public static func isVideo(_ t: UInt8) -> Bool {
        t == mpeg1Video || t == mpeg2Video || t == mpeg4Visual || t == StreamType.h264 || t == StreamType.hevc
    }
    /// H.264 nal_unit_type (ISO/IEC 14496-10 Table 7-1): 5 IDR slice, 7 SPS.
    static let h264IDR: UInt8 = 5
    static let h264SPS: UInt8 = 7
    /// H.265 nal_unit_type (ITU-T H.265 Table 7-1): 16…21 IRAP, 32/33 VPS/SPS.
    static let hevcFirstIRAP: UInt8 = 16
    static let hevcLastIRAP: UInt8 = 21
    static let hevcVPS: UInt8 = 32
    static let hevcSPS: UInt8 = 33

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
                let p = UnsafeMutableRawBufferPointer(rebasing: chunk[k..<(k + size)])
                if p[0] == TS.syncByte, Self.pid(p) == PID.pat, p[1] & Self.unitStartBit != 0 { break }
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
        guard p[0] == TS.syncByte else { return }
        let pid = Self.pid(p)
        if pid == PID.null { return }
        if pid == PID.pat {
            if let program = Self.firstProgramMapPID(UnsafeRawBufferPointer(p)) { pmtPID = program }
        }
        var isPMT = false  // no Optional ==: generic (allocating) in debug builds
        if let m = pmtPID, m == pid { isPMT = true }
        if isPMT { readPMT(UnsafeRawBufferPointer(p)) }
        let table = pid < Self.firstNonTablePID || isPMT
        if !table {
            guard pmtSeen else { return drop(p) }
            if !videoStarted, let video = videoPID, pid == video {
                guard Self.isRandomAccess(UnsafeRawBufferPointer(p), streamType: videoStreamType) else {
                    return drop(p)
                }
                videoStarted = true
            }
        }
        if flagged[Int(pid)] { return }
        if Self.setDiscontinuity(p, table: table) {
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

    @inline(__always) static func pid(_ p: UnsafeMutableRawBufferPointer) -> UInt16 {
        UInt16(p[1] & 0x1F) << 8 | UInt16(p[2])
    }
    @inline(__always) static func pid(_ p: UnsafeRawBufferPointer) -> UInt16 { UInt16(p[1] & 0x1F) << 8 | UInt16(p[2]) }

    /// A null packet (§2.4.3.3 PID 0x1FFF, payload only, stuffing).
    static func makeNull(_ p: UnsafeMutableRawBufferPointer) {
        p[0] = TS.syncByte
        p[1] = UInt8(PID.null >> 8)
        p[2] = UInt8(PID.null & 0xFF)
        p[3] = payloadBit
        var i = TS.headerSize
        while i < TS.packetSize {
            p[i] = stuffingByte
            i += 1
        }
    }

    /// Sets discontinuity_indicator in place; false when the packet cannot carry it (no adaptation
    /// field or one of length 0, and not a table packet with 2 stuffing bytes to spare).
    static func setDiscontinuity(_ p: UnsafeMutableRawBufferPointer, table: Bool) -> Bool {
        if p[3] & adaptationFieldBit != 0 {
            guard p[4] >= 1 else { return false }
            p[5] |= discontinuityIndicator
            return true
        }
        guard table, p[3] & payloadBit != 0,
            let stuffing = stuffingStart(UnsafeRawBufferPointer(p)),
            stuffing <= TS.packetSize - insertedAdaptationField
        else { return false }
        // Move header-less payload [4, 186) to [6, 188): the 2 bytes that fall off are stuffing.
        let base = p.baseAddress!
        (base + TS.headerSize + insertedAdaptationField).copyMemory(
            from: base + TS.headerSize, byteCount: TS.packetSize - TS.headerSize - insertedAdaptationField)
        p[4] = 1
        p[5] = discontinuityIndicator
        p[3] |= adaptationFieldBit
        return true
    }

    /// Where the stuffing after the last section of a payload-only table packet starts (§2.4.4.2:
    /// pointer_field, then sections, then 0xFF to the end), or nil when a section runs past the
    /// packet or the packet does not start one (a continuation: its end is not known here).
    static func stuffingStart(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p[1] & unitStartBit != 0 else { return nil }
        var i = TS.headerSize + 1 + Int(p[TS.headerSize])
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

    /// Offset of the payload, or nil when there is none (§2.4.3.2 adaptation_field_control).
    public static func payloadOffset(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p[3] & payloadBit != 0 else { return nil }
        guard p[3] & adaptationFieldBit != 0 else { return TS.headerSize }
        let offset = TS.headerSize + 1 + Int(p[4])
        return offset < TS.packetSize ? offset : nil
    }

    /// The first section of a packet that starts one, as (start, end without CRC_32), when it has
    /// `tableID` and fits in the packet.
    public static func section(_ p: UnsafeRawBufferPointer, tableID: UInt8) -> (start: Int, end: Int)? {
        guard p[1] & unitStartBit != 0, let payload = payloadOffset(p) else { return nil }
        let start = payload + 1 + Int(p[payload])
        guard start + 8 <= TS.packetSize, p[start] == tableID else { return nil }
        let length = Int(p[start + 1] & 0x0F) << 8 | Int(p[start + 2])
        let end = start + 3 + length - 4
        guard length >= 9, end <= TS.packetSize else { return nil }
        return (start, end)
    }

    /// program_map_PID of the first program (program_number ≠ 0) of a PAT section (§2.4.4.3).
    public static func firstProgramMapPID(_ p: UnsafeRawBufferPointer) -> UInt16? {
        guard let (start, end) = section(p, tableID: TableID.pat) else { return nil }
        var i = start + 8
        while i + 4 <= end {
            let program = UInt16(p[i]) << 8 | UInt16(p[i + 1])
            if program != 0 { return UInt16(p[i + 2] & 0x1F) << 8 | UInt16(p[i + 3]) }
            i += 4
        }
        return nil
    }

    /// The PMT's first video stream (§2.4.4.8); a PMT that changes the video PID starts it over.
    private mutating func readPMT(_ p: UnsafeRawBufferPointer) {
        guard let (start, end) = Self.section(p, tableID: TableID.pmt), start + 12 <= end else { return }
        let programInfoLength = Int(p[start + 10] & 0x0F) << 8 | Int(p[start + 11])
        var i = start + 12 + programInfoLength
        var video: UInt16? = nil
        var type: UInt8 = 0
        while i + 5 <= end {
            let t = p[i]
            if Self.isVideo(t) {
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

    /// Whether a video packet starts a random access point: random_access_indicator (§2.4.3.5), or
    /// a PES start whose first NAL units (in this packet) include an H.264 IDR/SPS or H.265
    /// IRAP/VPS/SPS (streams from other muxes that do not set the indicator), or for other video
    /// any PES start.
    public static func isRandomAccess(_ p: UnsafeRawBufferPointer, streamType: UInt8) -> Bool {
        if p[3] & adaptationFieldBit != 0, p[4] > 0, p[5] & randomAccessIndicator != 0 { return true }
        guard p[1] & unitStartBit != 0, let start = payloadOffset(p) else { return false }
        // PES header (§2.4.3.6): 00 00 01, stream_id, length (2), flags (2), PES_header_data_length.
        guard start + 9 <= TS.packetSize, p[start] == 0, p[start + 1] == 0, p[start + 2] == 1 else { return false }
        // Other video (MPEG-1/2, MPEG-4 Visual) without the indicator: any PES start.
        guard streamType == StreamType.h264 || streamType == StreamType.hevc else { return true }
        var i = start + 9 + Int(p[start + 8])
        while i + 3 < TS.packetSize {
            guard p[i] == 0, p[i + 1] == 0, p[i + 2] == 1 else {
                i += 1
                continue
            }
            let header = p[i + 3]
            if streamType == StreamType.h264 {
                let type = header & 0x1F
                if type == h264IDR || type == h264SPS { return true }
            } else if streamType == StreamType.hevc {
                let type = (header >> 1) & 0x3F
                if (type >= hevcFirstIRAP && type <= hevcLastIRAP) || type == hevcVPS || type == hevcSPS { return true }
            }
            i += 3
        }
        return false
    }
}
