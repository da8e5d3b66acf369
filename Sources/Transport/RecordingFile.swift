#if canImport(Glibc)
import Glibc
#endif

/// The TS facts a recording needs to cut files that play from their first byte: the latest PAT
/// and PMT packets (repeated at the head of each new file) and the video PID, whose packets with
/// random_access_indicator mark where a new file may start (ISO/IEC 13818-1 §2.4.3.5).
struct TSCutPoints {
    private(set) var pat: [UInt8]? = nil
    private(set) var pmt: [UInt8]? = nil
    private var pmtPID: Int? = nil
    private(set) var videoPID: Int? = nil
    /// Stream types that are video (MPEG-2, H.264, HEVC: ISO/IEC 13818-1 Table 2-34).
    static let videoStreamTypes: Set<UInt8> = [0x01, 0x02, 0x1B, 0x24]

    /// Learns from one 188-byte packet; returns whether it is a video random access point.
    mutating func observe(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 188, p[0] == 0x47 else { return false }
        let pid = Int(p[1] & 0x1F) << 8 | Int(p[2])
        let start = p[1] & 0x40 != 0
        let afc = (p[3] >> 4) & 0x3
        var payload = 4
        if afc & 0x2 != 0 { payload += 1 + Int(p[4]) }
        if pid == 0 && start {
            pat = Array(p[0..<188])
            if let section = Self.section(p, payload), section.count >= 12 {
                // program loop after the 8-byte header: program_number 16, PID 13 (first program ≠ 0)
                var i = 8
                while i + 4 <= section.count - 4 {
                    let program = Int(section[i]) << 8 | Int(section[i + 1])
                    if program != 0 {
                        pmtPID = Int(section[i + 2] & 0x1F) << 8 | Int(section[i + 3])
                        break
                    }
                    i += 4
                }
            }
        } else if pid == pmtPID && start {
            pmt = Array(p[0..<188])
            if let s = Self.section(p, payload), s.count >= 12 {
                let infoLength = Int(s[10] & 0x0F) << 8 | Int(s[11])
                var i = 12 + infoLength
                while i + 5 <= s.count - 4 {
                    let type = s[i]
                    let es = Int(s[i + 1] & 0x1F) << 8 | Int(s[i + 2])
                    if Self.videoStreamTypes.contains(type) {
                        videoPID = es
                        break
                    }
                    i += 5 + (Int(s[i + 3] & 0x0F) << 8 | Int(s[i + 4]))
                }
            }
        }
        guard pid == videoPID, start, afc & 0x2 != 0, p[4] > 0 else { return false }
        return p[5] & 0x40 != 0
    }

    /// The PSI section starting in this packet (pointer_field honoured), if it fits in it.
    private static func section(_ p: UnsafeRawBufferPointer, _ payload: Int) -> [UInt8]? {
        guard payload < 188 else { return nil }
        let start = payload + 1 + Int(p[payload])
        guard start + 3 <= 188 else { return nil }
        let length = Int(p[start + 1] & 0x0F) << 8 | Int(p[start + 2])
        guard start + 3 + length <= 188 else { return nil }
        return Array(p[start..<(start + 3 + length)])
    }
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
