/// One elementary stream of the program as the PMT describes it.
public struct ProgramStream: Sendable, Equatable {
    /// The stream's PID (0x0020…0x1FFE).
    public var pid: UInt16
    /// What the stream carries.
    public var codec: TSCodec
    /// ISO 639-2 language code for audio ("eng"), or nil.
    public var language: String?

    /// A stream on `pid` carrying `codec`.
    public init(pid: UInt16, codec: TSCodec, language: String? = nil) {
        self.pid = pid
        self.codec = codec
        self.language = language
    }
}

/// Builders for the PSI/SI sections the mux repeats, each returned with its CRC_32.
public enum PSISection {
    /// Descriptor tags, ISO/IEC 13818-1 Table 2-45 and EN 300 468 Table 12.
    static let registrationDescriptorTag: UInt8 = 0x05
    static let languageDescriptorTag: UInt8 = 0x0A
    static let serviceDescriptorTag: UInt8 = 0x48
    /// service_type 0x01 digital television, EN 300 468 Table 87.
    static let digitalTelevisionService: UInt8 = 0x01
    /// running_status 4 "running", EN 300 468 Table 6.
    static let running: UInt8 = 4

    /// program_association_section, ISO/IEC 13818-1 §2.4.4.3, with one program.
    public static func pat(transportStreamID: UInt16, programNumber: UInt16, pmtPID: UInt16, version: UInt8) -> [UInt8]
    {
        var body: [UInt8] = []
        body.append16(programNumber)
        body.append16(0xE000 | pmtPID)
        return longSection(tableID: TableID.pat, idExtension: transportStreamID, version: version, body: body)
    }

    /// TS_program_map_section, ISO/IEC 13818-1 §2.4.4.8.
    public static func pmt(programNumber: UInt16, pcrPID: UInt16, streams: [ProgramStream], version: UInt8) -> [UInt8] {
        var body: [UInt8] = []
        body.append16(0xE000 | pcrPID)
        body.append16(0xF000)  // program_info_length 0
        for s in streams {
            var info: [UInt8] = []
            if let reg = s.codec.registration {
                info += [registrationDescriptorTag, UInt8(reg.count)] + reg
            }
            if let lang = s.language, lang.utf8.count == 3 {
                info += [languageDescriptorTag, 4] + Array(lang.utf8) + [0]  // audio_type 0 undefined
            }
            body.append(s.codec.streamType)
            body.append16(0xE000 | s.pid)
            body.append16(0xF000 | UInt16(info.count))
            body += info
        }
        return longSection(tableID: TableID.pmt, idExtension: programNumber, version: version, body: body)
    }

    /// service_description_section (actual TS), ETSI EN 300 468 §5.2.3, with one service and its
    /// service_descriptor (§6.2.33). Names are truncated to fit the 8-bit length fields.
    public static func sdt(
        transportStreamID: UInt16, originalNetworkID: UInt16, serviceID: UInt16,
        providerName: String, serviceName: String, version: UInt8
    ) -> [UInt8] {
        // Both names must fit one packet with a 2-byte adaptation field: 181 bytes of section, 25 of
        // which are the SDT's fixed fields, leaving 156 for the two names.
        let provider = dvbText(providerName, maxBytes: 64)
        let service = dvbText(serviceName, maxBytes: 156 - provider.count)
        var descriptor: [UInt8] = [serviceDescriptorTag, UInt8(3 + provider.count + service.count)]
        descriptor.append(digitalTelevisionService)
        descriptor.append(UInt8(provider.count))
        descriptor += provider
        descriptor.append(UInt8(service.count))
        descriptor += service
        var body: [UInt8] = []
        body.append16(originalNetworkID)
        body.append(0xFF)  // reserved_future_use
        body.append16(serviceID)
        body.append(0xFC)  // reserved 6 | EIT_schedule 0 | EIT_present_following 0
        body.append16(UInt16(running) << 13 | UInt16(descriptor.count))  // free_CA_mode 0
        body += descriptor
        return longSection(tableID: TableID.sdtActual, idExtension: transportStreamID, version: version, body: body)
    }

    /// A name as DVB text (ETSI EN 300 468 Annex A): ASCII as is; anything else UTF-8 behind the
    /// 0x15 character-table selector. Truncated on a character boundary to `maxBytes`.
    static func dvbText(_ s: String, maxBytes: Int) -> [UInt8] {
        let ascii = s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        var out: [UInt8] = ascii ? [] : [0x15]
        for ch in s {
            let bytes = Array(String(ch).utf8)
            if out.count + bytes.count > maxBytes { break }
            out += bytes
        }
        return out == [0x15] ? [] : out
    }

    /// A section with section_syntax_indicator 1: header, `body`, CRC_32 (§2.4.4.10 / Annex A).
    static func longSection(tableID: UInt8, idExtension: UInt16, version: UInt8, body: [UInt8]) -> [UInt8] {
        let sectionLength = 5 + body.count + 4
        var s: [UInt8] = [tableID]
        // section_syntax_indicator 1, '0' (private_indicator; 1 for SDT per EN 300 468), reserved 11
        let privateBit: UInt16 = tableID == TableID.sdtActual ? 0x4000 : 0
        s.append16(0x8000 | privateBit | 0x3000 | UInt16(sectionLength))
        s.append16(idExtension)
        s.append(0xC0 | (version & 0x1F) << 1 | 1)  // current_next_indicator 1
        s.append(0)  // section_number
        s.append(0)  // last_section_number
        s += body
        let crc = CRC32MPEG2.checksum(s)
        s.append16(UInt16(crc >> 16))
        s.append16(UInt16(crc & 0xFFFF))
        return s
    }
}

extension Array where Element == UInt8 {
    @inlinable
    mutating func append16(_ v: UInt16) {
        append(UInt8(v >> 8))
        append(UInt8(v & 0xFF))
    }
}
