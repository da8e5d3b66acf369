import CMallocCounter
import Testing

@testable import MPEGTS

/// The zero-copy packet view on hand-built packets: every field at a value that a wrong mask,
/// shift or offset would misread.
@Suite("TS packet view (ISO/IEC 13818-1 §2.4.3.2–§2.4.3.5, §2.4.4.2)")
struct TSPacketTests {
    /// Header with every bit chosen: TEI, PUSI, PID 0x1ABC (13 bits, high bits set), AFC, CC 13.
    static func header(pid: UInt16 = 0x1ABC, tei: Bool = false, pusi: Bool = false, afc: UInt8, cc: UInt8 = 13)
        -> [UInt8]
    {
        var p = [UInt8](repeating: 0xFF, count: 188)
        p[0] = 0x47
        p[1] = (tei ? 0x80 : 0) | (pusi ? 0x40 : 0) | UInt8(pid >> 8)
        p[2] = UInt8(pid & 0xFF)
        p[3] = 0xC0 | afc << 4 | cc  // transport_scrambling_control 11: must not leak into AFC
        return p
    }

    func view<R>(_ bytes: [UInt8], _ body: (TSPacket) -> R) -> R {
        bytes.withUnsafeBytes { body(TSPacket($0)!) }
    }

    @Test("Header fields: PID, TEI, PUSI, continuity_counter, adaptation_field_control")
    func headerFields() {
        view(Self.header(tei: true, pusi: true, afc: 1)) { p in
            #expect(p.pid == 0x1ABC)
            #expect(p.transportError && p.payloadUnitStart)
            #expect(p.continuityCounter == 13)
            #expect(p.adaptationFieldControl == 1 && p.hasPayload && !p.hasAdaptationField)
            #expect(p.payloadOffset == 4 && p.payload.count == 184)
            #expect(p.adaptationFieldLength == 0 && p.adaptationFlags == 0)
        }
        view(Self.header(pid: 0x0011, afc: 1, cc: 0)) { p in
            #expect(p.pid == 0x11 && !p.transportError && !p.payloadUnitStart && p.continuityCounter == 0)
        }
    }

    @Test("Adaptation field: discontinuity and random access flags, PCR, payload after it")
    func adaptationField() {
        var b = Self.header(afc: 3)
        // PCR base 0x1_2345_6789 (33 bits), extension 0x155 (9 bits).
        let base: Int64 = 0x1_2345_6789
        let ext: Int64 = 0x155
        b[4] = 7
        b[5] = 0x80 | 0x40 | 0x10
        b[6] = UInt8(base >> 25 & 0xFF)
        b[7] = UInt8(base >> 17 & 0xFF)
        b[8] = UInt8(base >> 9 & 0xFF)
        b[9] = UInt8(base >> 1 & 0xFF)
        b[10] = UInt8(base & 1) << 7 | 0x7E | UInt8(ext >> 8)
        b[11] = UInt8(ext & 0xFF)
        view(b) { p in
            #expect(p.hasAdaptationField && p.hasPayload && p.adaptationFieldLength == 7)
            #expect(p.discontinuityIndicator && p.randomAccessIndicator)
            #expect(p.pcr27 == base * 300 + ext)
            #expect(p.payloadOffset == 12 && p.payload.count == 176)
        }
        b[5] = 0x40  // random access only, PCR_flag clear
        view(b) { p in
            #expect(!p.discontinuityIndicator && p.randomAccessIndicator && p.pcr27 == nil)
        }
    }

    @Test("An empty adaptation field (length 0) has no flags, whatever the next byte holds")
    func emptyAdaptationField() {
        var b = Self.header(afc: 3)
        b[4] = 0
        b[5] = 0xC0  // payload byte, not flags
        view(b) { p in
            #expect(p.adaptationFlags == 0 && !p.discontinuityIndicator && !p.randomAccessIndicator)
            #expect(p.payloadOffset == 5)
        }
    }

    @Test("Adaptation-only (10) and reserved (00) packets have no payload; an overlong field never traps")
    func noPayload() {
        var b = Self.header(afc: 2)
        b[4] = 183
        b[5] = 0x80
        view(b) { p in
            #expect(p.adaptationFieldControl == 2 && !p.hasPayload && p.payloadOffset == nil && p.payload.isEmpty)
            #expect(p.discontinuityIndicator)
        }
        view(Self.header(afc: 0)) { p in
            #expect(p.adaptationFieldControl == 0 && !p.hasPayload && p.payloadOffset == nil)
        }
        var long = Self.header(afc: 3)
        long[4] = 200  // past the packet
        long[5] = 0xD0
        view(long) { p in
            #expect(p.adaptationFlags == 0 && p.pcr27 == nil && p.payloadOffset == nil && p.sectionOffset == nil)
        }
    }

    @Test("A PSI section starts after the pointer_field; PAT's program_map_PID read from it")
    func pointerField() {
        var b = Self.header(pid: 0, pusi: true, afc: 1, cc: 0)
        // pointer_field 3 (the tail of a previous section), then a PAT: program 0 (NIT) then program 1 → 0x1000.
        let pat: [UInt8] = [
            0x00, 0xB0, 17, 0x00, 0x01, 0xC1, 0, 0, 0x00, 0x00, 0xE0, 0x10, 0x00, 0x01, 0xF0, 0x00, 1, 2, 3, 4,
        ]
        b[4] = 3
        b[5] = 0xAA
        b[6] = 0xBB
        b[7] = 0xCC
        for (k, v) in pat.enumerated() { b[8 + k] = v }
        view(b) { p in
            #expect(p.sectionOffset == 8)
            let s = p.section(tableID: TableID.pat)
            #expect(s?.start == 8 && s?.end == 8 + 3 + 17 - 4)
            #expect(p.section(tableID: TableID.pmt) == nil)
            #expect(p.firstProgramMapPID == 0x1000)
        }
        b[1] &= ~0x40  // no payload_unit_start_indicator: a continuation, no section starts here
        view(b) { p in
            #expect(p.sectionOffset == nil && p.firstProgramMapPID == nil)
        }
        var over = Self.header(pid: 0, pusi: true, afc: 1, cc: 0)
        over[4] = 183  // pointer_field past the packet
        view(over) { p in #expect(p.sectionOffset == nil) }
    }

    @Test("No view of a buffer without the sync byte or shorter than a packet")
    func invalid() {
        var b = Self.header(afc: 1)
        b[0] = 0x48
        #expect(b.withUnsafeBytes { TSPacket($0) } == nil)
        let short = Array(Self.header(afc: 1)[0..<187])
        #expect(short.withUnsafeBytes { TSPacket($0) } == nil)
        let long = Self.header(afc: 1) + [0x47]
        #expect(long.withUnsafeBytes { TSPacket($0)?.bytes.count } == 188)
    }

    @Test("Video stream types: every one the project knows, and no audio or private type", arguments: 0...255)
    func videoStreamTypes(_ t: Int) {
        let video: Set<Int> = [0x01, 0x02, 0x10, 0x1B, 0x24]
        #expect(StreamType.isVideo(UInt8(t)) == video.contains(t))
    }

    @Test("Reading every field allocates nothing")
    func noAllocation() {
        let b = Self.header(pusi: true, afc: 3)
        var sum = 0
        let before = rill_malloc_count_thread()
        b.withUnsafeBytes { raw in
            for _ in 0..<1000 {
                guard let p = TSPacket(raw) else { continue }
                sum &+= Int(p.pid) &+ Int(p.continuityCounter) &+ Int(p.adaptationFlags) &+ (p.payloadOffset ?? 0)
                sum &+= p.sectionOffset ?? 0
                sum &+= Int(p.pcr27 ?? 0) &+ p.payload.count &+ (p.isRandomAccessPoint(streamType: 0x1B) ? 1 : 0)
            }
        }
        #expect(rill_malloc_count_thread() - before == 0)
        #expect(sum != 0)
    }
}
