/// RTP fixed header, RFC 3550 §5.1, as used for MPEG-2 TS (RFC 2250 §2).
public struct RTPHeader: Sendable, Equatable {
    /// Fixed header size without CSRCs.
    public static let size = 12
    /// RTP version 2.
    public static let version: UInt8 = 2
    /// Static payload type 33 = MP2T/90000, RFC 3551 Table 5.
    public static let mp2tPayloadType: UInt8 = 33

    /// The marker bit M (RFC 3550 §5.1).
    public var marker = false
    /// PT, 7 bits (33: MP2T).
    public var payloadType: UInt8 = mp2tPayloadType
    /// Sequence number: +1 per packet, wrapping at 2^16 (RFC 3550 §5.1).
    public var sequenceNumber: UInt16 = 0
    /// 90 kHz for MP2T: target transmission time of the first byte (RFC 2250 §2).
    public var timestamp: UInt32 = 0
    /// Synchronisation source identifier (RFC 3550 §5.1).
    public var ssrc: UInt32 = 0
    /// CSRC count (parsed only).
    public var csrcCount: UInt8 = 0
    /// Extension present (parsed only).
    public var hasExtension = false
    /// Padding present (parsed only).
    public var hasPadding = false

    /// A header to write; the defaults are PT 33, sequence number, timestamp and SSRC 0.
    public init(
        marker: Bool = false, payloadType: UInt8 = mp2tPayloadType, sequenceNumber: UInt16 = 0, timestamp: UInt32 = 0,
        ssrc: UInt32 = 0
    ) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
    }

    /// Writes the 12-byte header into `out`.
    @inlinable
    public func write(into out: UnsafeMutableRawBufferPointer) {
        out[0] = Self.version << 6
        out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7F)
        out[2] = UInt8(sequenceNumber >> 8)
        out[3] = UInt8(sequenceNumber & 0xFF)
        out[4] = UInt8(timestamp >> 24)
        out[5] = UInt8((timestamp >> 16) & 0xFF)
        out[6] = UInt8((timestamp >> 8) & 0xFF)
        out[7] = UInt8(timestamp & 0xFF)
        out[8] = UInt8(ssrc >> 24)
        out[9] = UInt8((ssrc >> 16) & 0xFF)
        out[10] = UInt8((ssrc >> 8) & 0xFF)
        out[11] = UInt8(ssrc & 0xFF)
    }
}

/// Why an RTP packet was rejected.
public enum RTPError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooShort(Int)
    case badVersion(UInt8)
    case headerOverrun(needed: Int, have: Int)
    case badPadding

    /// What was wrong, with the sizes or version found.
    public var description: String {
        switch self {
        case .tooShort(let n): "RTP packet of \(n) bytes is shorter than the 12-byte header"
        case .badVersion(let v): "RTP version \(v), expected 2"
        case .headerOverrun(let need, let have): "RTP header needs \(need) bytes, packet has \(have)"
        case .badPadding: "RTP padding length exceeds the payload"
        }
    }
}

extension RTPHeader {
    /// Parses a packet: the header and the payload range (CSRCs, extension and padding skipped).
    public static func parse(_ p: UnsafeRawBufferPointer) throws(RTPError) -> (header: RTPHeader, payload: Range<Int>) {
        guard p.count >= size else { throw .tooShort(p.count) }
        let v = p[0] >> 6
        guard v == version else { throw .badVersion(v) }
        var h = RTPHeader()
        h.hasPadding = p[0] & 0x20 != 0
        h.hasExtension = p[0] & 0x10 != 0
        h.csrcCount = p[0] & 0x0F
        h.marker = p[1] & 0x80 != 0
        h.payloadType = p[1] & 0x7F
        h.sequenceNumber = UInt16(p[2]) << 8 | UInt16(p[3])
        h.timestamp = UInt32(p[4]) << 24 | UInt32(p[5]) << 16 | UInt32(p[6]) << 8 | UInt32(p[7])
        h.ssrc = UInt32(p[8]) << 24 | UInt32(p[9]) << 16 | UInt32(p[10]) << 8 | UInt32(p[11])
        var start = size + 4 * Int(h.csrcCount)
        guard start <= p.count else { throw .headerOverrun(needed: start, have: p.count) }
        if h.hasExtension {  // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in words
            guard start + 4 <= p.count else { throw .headerOverrun(needed: start + 4, have: p.count) }
            let words = Int(p[start + 2]) << 8 | Int(p[start + 3])
            start += 4 + 4 * words
            guard start <= p.count else { throw .headerOverrun(needed: start, have: p.count) }
        }
        var end = p.count
        if h.hasPadding {
            let pad = Int(p[p.count - 1])
            guard pad >= 1, end - pad >= start else { throw .badPadding }
            end -= pad
        }
        return (h, start..<end)
    }
}
