import enum MPEGTS.StreamType
import struct MPEGTS.TSPacket

/// Random access points in a TS (ISO/IEC 13818-1 §2.4.3.5 random_access_indicator, or the video
/// elementary stream's own: H.264 IDR/SPS, H.265 IRAP/VPS/SPS), shared by the SRT listener
/// output's per-client start and the gateway input's per-connection start.
enum RandomAccess {
    static let packetSize = 188

    /// Whether a chunk of whole TS packets holds the start of a video keyframe: a packet on `pid`
    /// with random_access_indicator set.
    static func containsKeyframe(_ chunk: UnsafeRawBufferPointer, pid: UInt16) -> Bool {
        var i = 0
        while i + packetSize <= chunk.count {
            if let p = TSPacket(UnsafeRawBufferPointer(rebasing: chunk[i..<(i + packetSize)])), p.pid == pid,
                isRandomAccess(p, streamType: nil)
            {
                return true
            }
            i += packetSize
        }
        return false
    }

    /// Whether one video packet starts a random access point: random_access_indicator in its
    /// adaptation field, or (when the stream type is H.264 or H.265) a PES whose first bytes carry an
    /// IDR/SPS or IRAP/VPS/SPS NAL unit — `TSPacket.isRandomAccessPoint`, the rule every clean start
    /// shares; other or unknown stream types: the indicator only.
    static func isRandomAccess(_ p: TSPacket, streamType: UInt8?) -> Bool {
        guard let streamType, StreamType.hasNALRandomAccess(streamType) else { return p.randomAccessIndicator }
        return p.isRandomAccessPoint(streamType: streamType)
    }
}

/// Holds back a TS that starts anywhere (a publisher that connects mid-GOP) until a clean point:
/// the latest PAT and PMT, then the video random access point, then every other elementary stream
/// from its next PES start. Packets of a PID the PMT does not list pass once the gate is open.
/// One per connection; `reset()` for the next. No allocation after `init`.
struct TSCleanStart {
    enum State: Equatable { case waitingForPAT, waitingForPMT, waitingForRandomAccess, open }
    private(set) var state = State.waitingForPAT
    private(set) var pmtPID: UInt16 = 0
    private(set) var videoPID: UInt16? = nil
    private var videoStreamType: UInt8? = nil
    /// Packets held back before the gate opened, and how many of them started a video PES.
    private(set) var skippedPackets: Int64 = 0
    private(set) var skippedVideoUnits: Int64 = 0
    /// The last PAT and PMT packets seen while waiting: sent in front of the random access point.
    private var pat = [UInt8](repeating: 0, count: RandomAccess.packetSize)
    private var pmt = [UInt8](repeating: 0, count: RandomAccess.packetSize)
    /// Per PID: listed in the PMT (elementary stream) and not yet at a PES start.
    private var pending = [Bool](repeating: false, count: 8192)
    private var pendingCount = 0
    /// PAT table_id and program_association_section fields (§2.4.4.3), PMT table_id (§2.4.4.8).
    static let patPID: UInt16 = 0
    static let pmtTableID: UInt8 = 0x02

    mutating func reset() { self = TSCleanStart() }

    /// Whether every packet passes unchanged from now on (the gate is open and every elementary
    /// stream has started), so the caller can skip `filter`.
    var passesEverything: Bool { state == .open && pendingCount == 0 }

    /// Filters `chunk` (whole packets) into `out` (capacity ≥ chunk.count + 2 packets) and returns
    /// the bytes written: nothing before the clean point, then PAT, PMT, the random access point
    /// and what follows it, minus packets of streams still waiting for their PES start.
    mutating func filter(_ chunk: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        var i = 0
        let size = RandomAccess.packetSize
        while i + size <= chunk.count {
            let p = UnsafeRawBufferPointer(rebasing: chunk[i..<(i + size)])
            i += size
            guard let packet = TSPacket(p) else { continue }
            let pid = packet.pid
            if state != .open {
                if pid == Self.patPID, let program = packet.firstProgramMapPID {
                    pat.withUnsafeMutableBytes { $0.copyMemory(from: p) }
                    if state == .waitingForPAT || program != pmtPID {
                        pmtPID = program
                        state = .waitingForPMT
                    }
                } else if state != .waitingForPAT, pid == pmtPID, parsePMT(packet) {
                    pmt.withUnsafeMutableBytes { $0.copyMemory(from: p) }
                    state = videoPID == nil ? .open : .waitingForRandomAccess
                    if state == .open {  // no video: start at the PMT
                        written += emitTables(into: out, at: written)
                        continue
                    }
                } else if state == .waitingForRandomAccess, let video = videoPID, pid == video,
                    RandomAccess.isRandomAccess(packet, streamType: videoStreamType)
                {
                    state = .open
                    written += emitTables(into: out, at: written)
                    pending[Int(video)] = false
                    pendingCount -= 1
                    UnsafeMutableRawBufferPointer(rebasing: out[written..<(written + size)]).copyMemory(from: p)
                    written += size
                    continue
                }
                skippedPackets += 1
                if let video = videoPID, pid == video, packet.payloadUnitStart { skippedVideoUnits += 1 }
                continue
            }
            if pending[Int(pid)] {
                guard packet.payloadUnitStart || packet.payloadOffset == nil else { continue }
                if packet.payloadOffset != nil {
                    pending[Int(pid)] = false
                    pendingCount -= 1
                }
            }
            UnsafeMutableRawBufferPointer(rebasing: out[written..<(written + size)]).copyMemory(from: p)
            written += size
        }
        return written
    }

    private func emitTables(into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let size = RandomAccess.packetSize
        pat.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + size)]).copyMemory(from: $0)
        }
        pmt.withUnsafeBytes {
            UnsafeMutableRawBufferPointer(rebasing: out[(offset + size)..<(offset + 2 * size)]).copyMemory(from: $0)
        }
        return 2 * size
    }

    /// Reads the elementary streams of a one-packet PMT section: the first video PID and every
    /// elementary PID (pending until its PES start). False when the packet holds no whole PMT.
    private mutating func parsePMT(_ packet: TSPacket) -> Bool {
        guard let (start, end) = packet.section(tableID: Self.pmtTableID), start + 12 <= end else { return false }
        let p = packet.bytes
        for k in pending.indices where pending[k] { pending[k] = false }
        pendingCount = 0
        videoPID = nil
        videoStreamType = nil
        let programInfoLength = Int(p[start + 10] & 0x0F) << 8 | Int(p[start + 11])
        var i = start + 12 + programInfoLength
        while i + 5 <= end {
            let type = p[i]
            let pid = UInt16(p[i + 1] & 0x1F) << 8 | UInt16(p[i + 2])
            let infoLength = Int(p[i + 3] & 0x0F) << 8 | Int(p[i + 4])
            if videoPID == nil, StreamType.isVideo(type) {
                videoPID = pid
                videoStreamType = type
            }
            if !pending[Int(pid)] {
                pending[Int(pid)] = true
                pendingCount += 1
            }
            i += 5 + infoLength
        }
        return true
    }
}
