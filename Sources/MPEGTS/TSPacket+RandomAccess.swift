extension TSPacket {
    /// H.264 nal_unit_type (ISO/IEC 14496-10 Table 7-1): 5 IDR slice, 7 SPS.
    static let h264IDR: UInt8 = 5
    static let h264SPS: UInt8 = 7
    /// H.265 nal_unit_type (ITU-T H.265 Table 7-1): 16…21 IRAP, 32/33 VPS/SPS.
    static let hevcFirstIRAP: UInt8 = 16
    static let hevcLastIRAP: UInt8 = 21
    static let hevcVPS: UInt8 = 32
    static let hevcSPS: UInt8 = 33
    /// PES header bytes up to and including PES_header_data_length (§2.4.3.6): packet_start_code_prefix
    /// (3), stream_id, PES_packet_length (2), two flag bytes, PES_header_data_length.
    static let pesFixedHeader = 9

    /// Whether this video packet starts a random access point: random_access_indicator (§2.4.3.5);
    /// or, for H.264/H.265, a PES start whose first NAL units (in this packet) include an IDR/SPS or
    /// IRAP/VPS/SPS (streams from muxes that do not set the indicator); or, for other video (MPEG-1/2,
    /// MPEG-4 Visual), any PES start. TSResume uses it as is; the clean starts of the SRT listener
    /// output and the gateway input and the recorder's cut points (`RandomAccess` in Transport) use
    /// it for H.264/H.265 and the indicator alone for other video.
    public func isRandomAccessPoint(streamType: UInt8) -> Bool {
        if randomAccessIndicator { return true }
        guard payloadUnitStart, let start = payloadOffset else { return false }
        let p = bytes
        guard start + Self.pesFixedHeader <= TS.packetSize, p[start] == 0, p[start + 1] == 0, p[start + 2] == 1 else {
            return false
        }
        guard StreamType.hasNALRandomAccess(streamType) else { return true }
        let hevc = streamType == StreamType.hevc
        var i = start + Self.pesFixedHeader + Int(p[start + Self.pesFixedHeader - 1])
        while i + 3 < TS.packetSize {
            guard p[i] == 0, p[i + 1] == 0, p[i + 2] == 1 else {
                i += 1
                continue
            }
            let header = p[i + 3]
            if hevc {
                let type = (header >> 1) & 0x3F
                if (type >= Self.hevcFirstIRAP && type <= Self.hevcLastIRAP) || type == Self.hevcVPS
                    || type == Self.hevcSPS
                {
                    return true
                }
            } else {
                let type = header & 0x1F
                if type == Self.h264IDR || type == Self.h264SPS { return true }
            }
            i += 3
        }
        return false
    }
}
