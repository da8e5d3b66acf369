import MediaTime

/// Numbers from ISO/IEC 13818-1 (MPEG-2 Systems), ETSI EN 300 468 (DVB SI) and ETSI TR 101 290.
public enum TS {
    /// Transport packet size, ISO/IEC 13818-1 §2.4.3.2.
    public static let packetSize = 188
    /// Header bytes before adaptation field or payload, §2.4.3.2.
    public static let headerSize = 4
    /// sync_byte, §2.4.3.3.
    public static let syncByte: UInt8 = 0x47
    /// Packets per RTP/UDP datagram: 7 × 188 = 1316 bytes fits a 1500-byte MTU with IP/UDP/RTP
    /// headers (RFC 2250 §2, SMPTE 2022-2).
    public static let packetsPerDatagram = 7
    /// Bytes of one 7-packet chunk.
    public static let chunkSize = packetsPerDatagram * packetSize

    /// Maximum PCR interval for DVB, ETSI TR 101 290 §5.2.2 PCR_repetition_error (ISO allows 100 ms).
    public static let maxPCRInterval: Int64 = 40 * MediaTime.millisecond
    /// PAT/PMT repetition recommended for DVB/ATSC (TR 101 290 P1 allows 500 ms; 100 ms is the
    /// common receiver expectation, e.g. FFmpeg `pat_period`, libmpegts, GStreamer).
    public static let recommendedPSIInterval: Int64 = 100 * MediaTime.millisecond
    /// SDT repetition, ETSI EN 300 468 / TR 101 290 §5.2.3 (≤ 2 s).
    public static let maxSDTInterval: Int64 = 2_000 * MediaTime.millisecond
    /// PCR accuracy bound, TR 101 290 §5.2.2 PCR_accuracy_error.
    public static let pcrAccuracy: Int64 = 500  // ns
    /// PCR = base × 300 + extension, §2.4.3.5.
    public static let pcrExtensionModulus: Int64 = 300
}

/// Well-known PIDs, ISO/IEC 13818-1 Table 2-3 and EN 300 468 §5.1.3.
public enum PID {
    /// Program association table.
    public static let pat: UInt16 = 0x0000
    /// Service description table (DVB).
    public static let sdt: UInt16 = 0x0011
    /// Null packets.
    public static let null: UInt16 = 0x1FFF
    /// Lowest PID free for PMT and elementary streams in DVB (0x0020; 0x10–0x1F are DVB SI).
    public static let firstUser: UInt16 = 0x0020
    /// Highest PID a stream may use (0x1FFF is null).
    public static let lastUser: UInt16 = 0x1FFE
}

/// table_id values, ISO/IEC 13818-1 Table 2-31 and EN 300 468 Table 2.
public enum TableID {
    /// program_association_section.
    public static let pat: UInt8 = 0x00
    /// TS_program_map_section.
    public static let pmt: UInt8 = 0x02
    /// service_description_section, actual transport stream.
    public static let sdtActual: UInt8 = 0x42
}

/// stream_type values, ISO/IEC 13818-1 Table 2-34.
public enum StreamType {
    /// ISO/IEC 11172-2 (MPEG-1) video.
    public static let mpeg1Video: UInt8 = 0x01
    /// ITU-T H.262 / ISO/IEC 13818-2 (MPEG-2) video.
    public static let mpeg2Video: UInt8 = 0x02
    /// ISO/IEC 14496-2 (MPEG-4 Visual).
    public static let mpeg4Visual: UInt8 = 0x10
    /// MPEG-1 audio (Layer II).
    public static let mpeg1Audio: UInt8 = 0x03
    /// PES private data: 302M, Opus (identified by a registration descriptor).
    public static let privatePES: UInt8 = 0x06
    /// ISO/IEC 13818-7 AAC with ADTS.
    public static let aacADTS: UInt8 = 0x0F
    /// H.264 / AVC, ITU-T H.222.0 Amd 3.
    public static let h264: UInt8 = 0x1B
    /// H.265 / HEVC.
    public static let hevc: UInt8 = 0x24

    /// Whether `streamType` is video: MPEG-1/2 video, MPEG-4 Visual, H.264, H.265 — every video
    /// type the project knows (the recorder's cut points, the clean starts, TSResume). Plain
    /// comparisons, no generic `contains`: unspecialized (debug) builds allocate there.
    public static func isVideo(_ streamType: UInt8) -> Bool {
        streamType == mpeg1Video || streamType == mpeg2Video || streamType == mpeg4Visual || streamType == h264
            || streamType == hevc
    }

    /// Whether the video's own NAL unit types mark its random access points (H.264 IDR/SPS,
    /// H.265 IRAP/VPS/SPS), which `TSPacket.isRandomAccessPoint` looks for beside random_access_indicator.
    public static func hasNALRandomAccess(_ streamType: UInt8) -> Bool { streamType == h264 || streamType == hevc }
}

/// PES stream_id values, ISO/IEC 13818-1 Table 2-22.
public enum StreamID {
    /// private_stream_1 (302M LPCM, Opus).
    public static let privateStream1: UInt8 = 0xBD
    /// First MPEG audio stream (0xC0–0xDF).
    public static let audio: UInt8 = 0xC0
    /// First video stream (0xE0–0xEF).
    public static let video: UInt8 = 0xE0
}

/// The codecs the mux knows how to carry.
public enum TSCodec: String, Sendable, CaseIterable {
    case h264, hevc, aac, mp2, opus, s302m

    /// stream_type for the PMT.
    public var streamType: UInt8 {
        switch self {
        case .h264: StreamType.h264
        case .hevc: StreamType.hevc
        case .aac: StreamType.aacADTS
        case .mp2: StreamType.mpeg1Audio
        case .opus, .s302m: StreamType.privatePES
        }
    }

    /// PES stream_id.
    public var streamID: UInt8 {
        switch self {
        case .h264, .hevc: StreamID.video
        case .aac, .mp2: StreamID.audio
        case .opus, .s302m: StreamID.privateStream1
        }
    }

    /// Whether this is a video codec (PES_packet_length may be 0, ISO/IEC 13818-1 §2.4.3.7).
    public var isVideo: Bool { self == .h264 || self == .hevc }

    /// The format_identifier of the registration descriptor (tag 5) that identifies a private
    /// stream: "BSSD" for SMPTE 302M (SMPTE 302M §7.3), "Opus" for Opus (ETSI TS 102 366 Annex …).
    public var registration: [UInt8]? {
        switch self {
        case .s302m: Array("BSSD".utf8)
        case .opus: Array("Opus".utf8)
        default: nil
        }
    }
}
