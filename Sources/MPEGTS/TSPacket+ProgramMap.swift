extension TSPacket {
    /// One entry of a PMT's elementary stream loop (ISO/IEC 13818-1 §2.4.4.8, Table 2-33).
    public struct ElementaryStream: Sendable, Equatable {
        /// stream_type (Table 2-34): 0x1B H.264, 0x24 H.265, 0x0F AAC…
        public var streamType: UInt8
        /// elementary_PID.
        public var pid: UInt16
    }

    /// Bytes of a PMT section before its program_info loop: the long-form header (8), PCR_PID (2),
    /// program_info_length (2) (§2.4.4.8).
    static let pmtFixedHeader = 12
    /// Bytes of one elementary stream entry before its descriptors: stream_type (1), elementary_PID (2),
    /// ES_info_length (2) (§2.4.4.8).
    static let pmtEntryHeader = 5

    /// The elementary streams of the PMT section this packet starts, in PMT order, when it starts
    /// one that ends in this packet and whose CRC_32 checks (§2.4.4.10); nil otherwise (a
    /// continuation, a multi-packet section, a corrupt one). Descriptor lengths that run past the
    /// section end the loop there. Allocates the returned array.
    public var programMapStreams: [ElementaryStream]? {
        guard let (start, end) = section(tableID: TableID.pmt), start + Self.pmtFixedHeader <= end else { return nil }
        let p = bytes
        let crcEnd = end + Self.crcSize
        guard crcEnd <= TS.packetSize, CRC32MPEG2.checksum(p[start..<crcEnd]) == 0 else { return nil }
        let programInfoLength = Int(p[start + 10] & 0x0F) << 8 | Int(p[start + 11])
        var i = start + Self.pmtFixedHeader + programInfoLength
        var streams: [ElementaryStream] = []
        while i + Self.pmtEntryHeader <= end {
            let pid = UInt16(p[i + 1] & Self.pidHighMask) << 8 | UInt16(p[i + 2])
            streams.append(ElementaryStream(streamType: p[i], pid: pid))
            i += Self.pmtEntryHeader + (Int(p[i + 3] & 0x0F) << 8 | Int(p[i + 4]))
        }
        return streams
    }
}
