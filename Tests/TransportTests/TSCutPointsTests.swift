import Testing

@testable import Transport

/// The recorder's cut points (where a new file may start) on hand-made packets.
@Suite("Recording cut points")
struct TSCutPointsTests {
    typealias P = TSCleanStartTests

    /// The PMT of TSCleanStartTests with its video stream_type replaced (byte 17: pointer_field at
    /// 4, section header 12 bytes, then the first stream's stream_type).
    static func pmt(videoStreamType: UInt8) -> [UInt8] {
        var p = P.pmt
        #expect(p[17] == 0x1B)
        p[17] = videoStreamType
        return p
    }

    func observe(_ cuts: inout TSCutPoints, _ packet: [UInt8]) -> Bool {
        packet.withUnsafeBytes { cuts.observe($0) }
    }

    @Test(
        "Every video stream_type the project knows gives the recorder its video PID",
        arguments: [UInt8(0x01), 0x02, 0x10, 0x1B, 0x24])
    func videoTypes(_ type: UInt8) {
        var cuts = TSCutPoints()
        _ = observe(&cuts, P.pat)
        _ = observe(&cuts, Self.pmt(videoStreamType: type))
        #expect(cuts.videoPID == P.videoPID)
        #expect(cuts.pat == P.pat && cuts.pmt == Self.pmt(videoStreamType: type))
        #expect(observe(&cuts, P.videoStart(nalType: 1, rai: true)), "random_access_indicator on a PES start")
    }

    @Test("No video PID from an audio-only PMT (stream_type 0x0F only)")
    func audioOnly() {
        var cuts = TSCutPoints()
        _ = observe(&cuts, P.pat)
        _ = observe(&cuts, Self.pmt(videoStreamType: 0x0F))
        #expect(cuts.videoPID == nil && cuts.pmt != nil)
    }

    @Test("H.264 cut points: RAI or an IDR/SPS in the PES start; not other frames, other PIDs or mid-PES packets")
    func h264() {
        var cuts = TSCutPoints()
        _ = observe(&cuts, P.pat)
        _ = observe(&cuts, P.pmt)
        #expect(observe(&cuts, P.videoStart(nalType: 5)), "IDR without the indicator (a foreign mux)")
        #expect(observe(&cuts, P.videoStart(nalType: 7)), "SPS")
        #expect(!observe(&cuts, P.videoStart(nalType: 1)), "non-IDR slice")
        #expect(!observe(&cuts, P.packet(pid: P.videoPID, start: false, adaptationFlags: 0x40)), "no PES start")
        #expect(!observe(&cuts, P.packet(pid: P.audioPID, start: true, adaptationFlags: 0x40)), "audio")
    }
}
