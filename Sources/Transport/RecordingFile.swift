import enum MPEGTS.PID
import enum MPEGTS.StreamType
import enum MPEGTS.TS
import struct MPEGTS.TSPacket
import enum MPEGTS.TableID

#if canImport(Glibc)
import Glibc
#endif

/// The TS facts a recording needs to cut files that play from their first byte: the latest PAT
/// and PMT packets (repeated at the head of each new file) and the video PID (the PMT's first
/// stream of a video stream_type, `StreamType.isVideo`), whose random access points starting a
/// PES mark where a new file may start: the clean starts' rule (`RandomAccess.isRandomAccess`:
/// random_access_indicator, ISO/IEC 13818-1 §2.4.3.5, or an H.264/H.265 IDR/IRAP NAL unit). The PAT/PMT copies are allocated once, then updated in place.
struct TSCutPoints {
    private(set) var pat: [UInt8]? = nil
    private(set) var pmt: [UInt8]? = nil
    private var pmtPID: UInt16? = nil
    private(set) var videoPID: UInt16? = nil
    private var videoStreamType: UInt8 = 0

    /// Learns from one 188-byte packet; returns whether it is a video random access point.
    mutating func observe(_ p: UnsafeRawBufferPointer) -> Bool {
        guard let packet = TSPacket(p) else { return false }
        let pid = packet.pid
        if pid == PID.pat, packet.payloadUnitStart {
            Self.keep(packet, in: &pat)
            if let program = packet.firstProgramMapPID { pmtPID = program }
        } else if let m = pmtPID, pid == m, packet.payloadUnitStart {
            Self.keep(packet, in: &pmt)
            readPMT(packet)
        }
        guard let video = videoPID, pid == video, packet.payloadUnitStart else { return false }
        return RandomAccess.isRandomAccess(packet, streamType: videoStreamType)
    }

    /// Copies the packet into `copy` (allocated on first use).
    private static func keep(_ packet: TSPacket, in copy: inout [UInt8]?) {
        if copy == nil { copy = [UInt8](repeating: 0, count: TS.packetSize) }
        copy!.withUnsafeMutableBytes { $0.copyMemory(from: packet.bytes) }
    }

    /// The first video stream of a PMT section that fits in the packet (§2.4.4.8).
    private mutating func readPMT(_ packet: TSPacket) {
        guard let (start, end) = packet.section(tableID: TableID.pmt), start + Self.pmtFixedBytes <= end else { return }
        let s = packet.bytes
        let infoLength = Int(s[start + 10] & 0x0F) << 8 | Int(s[start + 11])
        var i = start + Self.pmtFixedBytes + infoLength
        while i + Self.esEntryBytes <= end {
            let type = s[i]
            if StreamType.isVideo(type) {
                videoPID = UInt16(s[i + 1] & 0x1F) << 8 | UInt16(s[i + 2])
                videoStreamType = type
                return
            }
            i += Self.esEntryBytes + (Int(s[i + 3] & 0x0F) << 8 | Int(s[i + 4]))
        }
    }

    /// PMT bytes from table_id to the end of program_info_length, and of an elementary stream
    /// entry before its descriptors (stream_type, elementary_PID, ES_info_length): §2.4.4.8.
    static let pmtFixedBytes = 12
    static let esEntryBytes = 5
}

/// File names from a recording template: `$datetime` (UTC, 20261121-143000), `$date`
/// (20261121), `$time` (143000), `$output` (the output id), `$service` (the service name, made
/// safe for a file name).
enum RecordingName {
    static func expand(_ template: String, output: String, service: String, epochSeconds: Int64) -> String {
        var t = time_t(epochSeconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int) -> String {
            String(repeating: "0", count: max(0, n - String(v).count)) + String(v)
        }
        let date = pad(tm.tm_year + 1900, 4) + pad(tm.tm_mon + 1, 2) + pad(tm.tm_mday, 2)
        let clock = pad(tm.tm_hour, 2) + pad(tm.tm_min, 2) + pad(tm.tm_sec, 2)
        let safeService = String(service.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return template.replacingAll("$datetime", with: "\(date)-\(clock)").replacingAll("$date", with: date)
            .replacingAll("$time", with: clock).replacingAll("$output", with: output).replacingAll(
                "$service", with: safeService)
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation here).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
