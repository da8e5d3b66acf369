/// PES packet headers, ISO/IEC 13818-1 §2.4.3.6–2.4.3.7.
public enum PESHeader {
    /// Longest header this mux writes: 9 fixed bytes + PTS + DTS.
    public static let maxSize = 19

    /// Writes a PES header for one access unit into `out` and returns its length.
    /// - Parameters:
    ///   - streamID: PES stream_id.
    ///   - payloadLength: bytes of ES data that follow; PES_packet_length is set to 0 ("unbounded",
    ///     allowed for video only, §2.4.3.7) when `unbounded` is true or the length does not fit.
    ///   - pts: 33-bit PTS (90 kHz).
    ///   - dts: 33-bit DTS, written only when it differs from `pts` (PTS_DTS_flags '11').
    @inlinable
    public static func write(
        into out: UnsafeMutableRawBufferPointer, streamID: UInt8, payloadLength: Int, unbounded: Bool,
        pts: UInt64, dts: UInt64?
    ) -> Int {
        let hasDTS = dts != nil && dts != pts
        let headerDataLength = hasDTS ? 10 : 5
        out[0] = 0
        out[1] = 0
        out[2] = 1
        out[3] = streamID
        let pesLength = 3 + headerDataLength + payloadLength
        let lengthField = (unbounded || pesLength > 0xFFFF) ? 0 : pesLength
        out[4] = UInt8(lengthField >> 8)
        out[5] = UInt8(lengthField & 0xFF)
        out[6] = 0x84  // '10' marker, not scrambled, no priority, data_alignment_indicator 1
        out[7] = hasDTS ? 0xC0 : 0x80
        out[8] = UInt8(headerDataLength)
        writeTimestamp(into: out, at: 9, prefix: hasDTS ? 0x3 : 0x2, value: pts)
        if hasDTS, let dts { writeTimestamp(into: out, at: 14, prefix: 0x1, value: dts) }
        return 9 + headerDataLength
    }

    /// The 5-byte PTS/DTS field: 4-bit prefix, 33 bits split 3/15/15 with marker bits (§2.4.3.7).
    @inlinable
    static func writeTimestamp(into out: UnsafeMutableRawBufferPointer, at i: Int, prefix: UInt8, value: UInt64) {
        let v = value & 0x1_FFFF_FFFF
        out[i] = prefix << 4 | UInt8((v >> 29) & 0x0E) | 1
        out[i + 1] = UInt8((v >> 22) & 0xFF)
        out[i + 2] = UInt8((v >> 14) & 0xFE) | 1
        out[i + 3] = UInt8((v >> 7) & 0xFF)
        out[i + 4] = UInt8((v << 1) & 0xFE) | 1
    }

    /// Reads a 5-byte PTS/DTS field.
    @inlinable
    public static func readTimestamp(_ b: UnsafeRawBufferPointer, at i: Int) -> UInt64 {
        (UInt64(b[i] & 0x0E) << 29) | (UInt64(b[i + 1]) << 22) | (UInt64(b[i + 2] & 0xFE) << 14)
            | (UInt64(b[i + 3]) << 7) | (UInt64(b[i + 4]) >> 1)
    }
}
