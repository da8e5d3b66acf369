/// A read-only view of one 188-byte transport packet (ISO/IEC 13818-1 §2.4.3.2): header fields,
/// the adaptation field's flags and PCR (§2.4.3.4), the payload and the PSI section a packet
/// starts (pointer_field, §2.4.4.2). Zero-copy and non-allocating: it borrows the caller's bytes,
/// which must outlive it. Every accessor checks the lengths it reads against the packet, so a
/// malformed packet (adaptation_field_length past the end) never traps; it reads as having no
/// adaptation flags or no payload. Any thread; the view is as thread-safe as the bytes under it.
public struct TSPacket {
    /// The packet's 188 bytes.
    public let bytes: UnsafeRawBufferPointer

    // MARK: header bits (§2.4.3.2, Table 2-2)

    /// transport_error_indicator, byte 1.
    public static let transportErrorBit: UInt8 = 0x80
    /// payload_unit_start_indicator, byte 1.
    public static let payloadUnitStartBit: UInt8 = 0x40
    /// The PID's high 5 bits in byte 1.
    public static let pidHighMask: UInt8 = 0x1F
    /// adaptation_field_control bit '1x' in byte 3: an adaptation field follows the header (Table 2-5).
    public static let adaptationFieldBit: UInt8 = 0x20
    /// adaptation_field_control bit 'x1' in byte 3: the packet carries a payload (Table 2-5).
    public static let payloadBit: UInt8 = 0x10
    /// continuity_counter, the low 4 bits of byte 3 (§2.4.3.3).
    public static let continuityCounterMask: UInt8 = 0x0F

    // MARK: adaptation field flags (§2.4.3.4, Table 2-6), the byte after adaptation_field_length

    /// discontinuity_indicator (§2.4.3.5).
    public static let discontinuityIndicatorBit: UInt8 = 0x80
    /// random_access_indicator (§2.4.3.5).
    public static let randomAccessIndicatorBit: UInt8 = 0x40
    /// PCR_flag: a 6-byte program_clock_reference follows the flags (§2.4.3.5).
    public static let pcrFlagBit: UInt8 = 0x10
    /// adaptation_field_length at least this when PCR_flag is set: flags (1) + PCR (6).
    public static let minimumPCRAdaptationFieldLength = 7

    /// A view of the first 188 bytes of `bytes`, or nil when there are fewer or the first is not
    /// the sync_byte 0x47 (§2.4.3.3; TR 101 290 1.2 Sync_byte_error).
    @inline(__always)
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= TS.packetSize, bytes[0] == TS.syncByte else { return nil }
        self.bytes = UnsafeRawBufferPointer(rebasing: bytes[0..<TS.packetSize])
    }

    /// 13-bit PID (§2.4.3.3).
    @inline(__always) public var pid: UInt16 { UInt16(bytes[1] & Self.pidHighMask) << 8 | UInt16(bytes[2]) }
    /// payload_unit_start_indicator: a PES packet or a PSI section starts in this packet (§2.4.3.3).
    @inline(__always) public var payloadUnitStart: Bool { bytes[1] & Self.payloadUnitStartBit != 0 }
    /// transport_error_indicator (TR 101 290 2.1 Transport_error).
    @inline(__always) public var transportError: Bool { bytes[1] & Self.transportErrorBit != 0 }
    /// continuity_counter, 0…15 (§2.4.3.3).
    @inline(__always) public var continuityCounter: UInt8 { bytes[3] & Self.continuityCounterMask }
    /// adaptation_field_control, 0…3 (Table 2-5): 01 payload only, 10 adaptation field only,
    /// 11 both, 00 reserved (decoders discard such packets).
    @inline(__always) public var adaptationFieldControl: UInt8 { (bytes[3] >> 4) & 0x03 }
    /// adaptation_field_control says an adaptation field is present.
    @inline(__always) public var hasAdaptationField: Bool { bytes[3] & Self.adaptationFieldBit != 0 }
    /// adaptation_field_control says a payload is present (the continuity_counter counts these).
    @inline(__always) public var hasPayload: Bool { bytes[3] & Self.payloadBit != 0 }

    /// adaptation_field_length in bytes (0 when there is no adaptation field).
    @inline(__always) public var adaptationFieldLength: Int { hasAdaptationField ? Int(bytes[4]) : 0 }

    /// The adaptation field's flags byte, 0 when there is none, it is empty (length 0), or its
    /// length runs past the packet.
    @inline(__always) public var adaptationFlags: UInt8 {
        let length = adaptationFieldLength
        guard length > 0, TS.headerSize + 1 + length <= TS.packetSize else { return 0 }
        return bytes[5]
    }
    /// discontinuity_indicator (§2.4.3.5): the continuity_counter (and the PCR) may jump here.
    @inline(__always) public var discontinuityIndicator: Bool { adaptationFlags & Self.discontinuityIndicatorBit != 0 }
    /// random_access_indicator (§2.4.3.5): the next PES starting on this PID is a random access point.
    @inline(__always) public var randomAccessIndicator: Bool { adaptationFlags & Self.randomAccessIndicatorBit != 0 }

    /// program_clock_reference in 27 MHz ticks (base × 300 + extension, §2.4.3.5), nil when the
    /// packet carries none.
    public var pcr27: Int64? {
        guard adaptationFlags & Self.pcrFlagBit != 0, adaptationFieldLength >= Self.minimumPCRAdaptationFieldLength
        else { return nil }
        let base =
            Int64(bytes[6]) << 25 | Int64(bytes[7]) << 17 | Int64(bytes[8]) << 9 | Int64(bytes[9]) << 1
            | Int64(bytes[10] >> 7)
        let extensionTicks = Int64(bytes[10] & 1) << 8 | Int64(bytes[11])
        return base * TS.pcrExtensionModulus + extensionTicks
    }

    /// Offset of the payload in the packet, or nil when there is none (adaptation_field_control,
    /// or an adaptation field that fills or overruns the packet).
    @inline(__always) public var payloadOffset: Int? {
        guard hasPayload else { return nil }
        guard hasAdaptationField else { return TS.headerSize }
        let offset = TS.headerSize + 1 + Int(bytes[4])
        return offset < TS.packetSize ? offset : nil
    }

    /// The payload bytes (empty when there is none).
    public var payload: UnsafeRawBufferPointer {
        guard let offset = payloadOffset else { return UnsafeRawBufferPointer(rebasing: bytes[0..<0]) }
        return UnsafeRawBufferPointer(rebasing: bytes[offset...])
    }

    /// Offset of the first PSI section starting in this packet: after the payload's pointer_field
    /// (§2.4.4.2), nil when the packet starts no section (no payload_unit_start_indicator) or the
    /// pointer runs past the packet.
    public var sectionOffset: Int? {
        guard payloadUnitStart, let payload = payloadOffset else { return nil }
        let start = payload + 1 + Int(bytes[payload])
        return start < TS.packetSize ? start : nil
    }

    /// The first section starting in this packet, as offsets (start of table_id, end before CRC_32),
    /// when its table_id is `tableID`, it is long enough for the long-form header (§2.4.4.1: 5 bytes
    /// after section_length, CRC_32) and it ends in this packet.
    public func section(tableID: UInt8) -> (start: Int, end: Int)? {
        guard let start = sectionOffset, start + Self.longSectionHeader <= TS.packetSize, bytes[start] == tableID
        else { return nil }
        let length = Int(bytes[start + 1] & 0x0F) << 8 | Int(bytes[start + 2])
        let end = start + 3 + length - Self.crcSize
        guard length >= Self.minimumSectionLength, end <= TS.packetSize else { return nil }
        return (start, end)
    }

    /// program_map_PID of the first program (program_number ≠ 0) of the PAT section this packet
    /// starts (§2.4.4.3), nil when it starts none that fits in it.
    public var firstProgramMapPID: UInt16? {
        guard let (start, end) = section(tableID: TableID.pat) else { return nil }
        var i = start + Self.longSectionHeader
        while i + 4 <= end {
            let program = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            if program != 0 { return UInt16(bytes[i + 2] & Self.pidHighMask) << 8 | UInt16(bytes[i + 3]) }
            i += 4
        }
        return nil
    }

    /// Bytes of a long-form section header: table_id … last_section_number (§2.4.4.3).
    static let longSectionHeader = 8
    /// CRC_32 at the end of a section.
    static let crcSize = 4
    /// The least section_length of a long-form section: 5 header bytes after it plus CRC_32.
    static let minimumSectionLength = 9
}
