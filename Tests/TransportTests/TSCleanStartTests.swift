import Testing

@testable import Transport

/// The gateway input's per-connection clean start, on hand-made packets (no peers needed).
@Suite("TS clean start")
struct TSCleanStartTests {
    static let pmtPID: UInt16 = 0x1000
    static let videoPID: UInt16 = 0x100
    static let audioPID: UInt16 = 0x101

    /// One 188-byte packet: header, optional adaptation field with flags, then payload bytes.
    static func packet(pid: UInt16, start: Bool, cc: UInt8 = 0, adaptationFlags: UInt8? = nil, payload: [UInt8] = [])
        -> [UInt8]
    {
        var p = [UInt8](repeating: 0xFF, count: 188)
        p[0] = 0x47
        p[1] = (start ? 0x40 : 0) | UInt8(pid >> 8)
        p[2] = UInt8(pid & 0xFF)
        var i = 4
        if let flags = adaptationFlags {
            p[3] = 0x30 | cc
            p[4] = 1
            p[5] = flags
            i = 6
        } else {
            p[3] = 0x10 | cc
        }
        for (k, b) in payload.enumerated() where i + k < 188 { p[i + k] = b }
        return p
    }

    static let pat = packet(
        pid: 0, start: true, payload: [0, 0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xF0, 0x00, 0, 0, 0, 0])
    /// PMT: PCR PID = video, H.264 on 0x100, AAC (0x0F) on 0x101.
    static let pmt = packet(
        pid: pmtPID, start: true,
        payload: [
            0, 0x02, 0xB0, 23, 0, 1, 0xC1, 0, 0, 0xE1, 0x00, 0xF0, 0x00,
            0x1B, 0xE1, 0x00, 0xF0, 0x00, 0x0F, 0xE1, 0x01, 0xF0, 0x00, 0, 0, 0, 0,
        ])
    /// A video PES start: PES header (no optional fields) then an H.264 NAL of `nalType`.
    static func videoStart(nalType: UInt8, rai: Bool = false) -> [UInt8] {
        packet(
            pid: videoPID, start: true, adaptationFlags: rai ? 0x40 : 0x00,
            payload: [0, 0, 1, 0xE0, 0, 0, 0x80, 0x00, 0, 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, nalType])
    }

    func run(_ packets: [[UInt8]], gate: inout TSCleanStart) -> [[UInt8]] {
        let input = packets.flatMap { $0 }
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count + 2 * 188, alignment: 16)
        defer { out.deallocate() }
        let n = input.withUnsafeBytes { gate.filter($0, into: out) }
        return stride(from: 0, to: n, by: 188).map { Array(out[$0..<($0 + 188)]) }
    }

    func pid(_ p: [UInt8]) -> UInt16 { UInt16(p[1] & 0x1F) << 8 | UInt16(p[2]) }

    @Test("mid-GOP start: nothing before PAT, PMT and the IDR; audio from its next PES start")
    func midGOP() {
        var gate = TSCleanStart()
        let before = [
            Self.packet(pid: Self.videoPID, start: false), Self.videoStart(nalType: 1), Self.pat,
            Self.packet(pid: Self.audioPID, start: true), Self.pmt, Self.videoStart(nalType: 1),
            Self.packet(pid: Self.videoPID, start: false),
        ]
        #expect(run(before, gate: &gate).isEmpty)
        #expect(gate.state == .waitingForRandomAccess && gate.videoPID == Self.videoPID)
        let idr = Self.videoStart(nalType: 5)
        let after = [
            Self.packet(pid: Self.audioPID, start: false), idr, Self.packet(pid: Self.audioPID, start: false),
            Self.packet(pid: Self.audioPID, start: true, cc: 1), Self.packet(pid: Self.videoPID, start: false),
        ]
        let out = run(after, gate: &gate)
        #expect(out.map(pid) == [0, Self.pmtPID, Self.videoPID, Self.audioPID, Self.videoPID])
        #expect(out[0] == Self.pat && out[1] == Self.pmt && out[2] == idr)
        // The PES start before the PMT is not known as video yet.
        #expect(gate.skippedVideoUnits == 1 && gate.passesEverything)
    }

    @Test(
        "random_access_indicator opens the gate; an H.264 non-IDR slice does not",
        arguments: [(UInt8(1), false, false), (1, true, true), (5, false, true), (7, false, true)])
    func randomAccess(nal: UInt8, rai: Bool, opens: Bool) {
        var gate = TSCleanStart()
        _ = run([Self.pat, Self.pmt], gate: &gate)
        let out = run([Self.videoStart(nalType: nal, rai: rai)], gate: &gate)
        #expect((gate.state == .open) == opens)
        #expect(out.count == (opens ? 3 : 0))
    }

    @Test("reset: the next connection waits for PAT again")
    func reset() {
        var gate = TSCleanStart()
        _ = run([Self.pat, Self.pmt, Self.videoStart(nalType: 5)], gate: &gate)
        #expect(gate.state == .open)
        gate.reset()
        #expect(run([Self.videoStart(nalType: 5)], gate: &gate).isEmpty && gate.state == .waitingForPAT)
    }

    @Test("RandomAccess.containsKeyframe (the SRT listener output's client start) sees the RAI flag only on its PID")
    func keyframeCheck() {
        let chunk = [
            Self.packet(pid: 0x200, start: true, adaptationFlags: 0x40), Self.videoStart(nalType: 1, rai: true),
        ].flatMap { $0 }
        chunk.withUnsafeBytes {
            #expect(RandomAccess.containsKeyframe($0, pid: Self.videoPID))
            #expect(!RandomAccess.containsKeyframe($0, pid: 0x300))
        }
    }
}
