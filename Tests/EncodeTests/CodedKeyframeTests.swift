import Testing

@testable import Encode

/// The keyframe test of a coded unit whose buffer carries no frame-type flag (vicodec's encoder):
/// the first slice decides for H.264 and HEVC, the header's I-frame bit for FWHT.
@Suite("Keyframes read from coded units")
struct CodedKeyframeTests {
    static func keyframe(_ bytes: [UInt8], _ codec: String) -> Bool {
        bytes.withUnsafeBytes { CodedKeyframe.isKeyframe($0, codec: codec) }
    }

    // Annex B NAL headers: AUD 0x09, SPS 0x67, PPS 0x68, SEI 0x06, IDR slice 0x65, non-IDR slice 0x41.
    static let aud: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0]
    static let parameterSets: [UInt8] = [0, 0, 0, 1, 0x67, 0x64, 0, 0x1F, 0, 0, 1, 0x68, 0xEE, 0x3C, 0x80]
    static let sei: [UInt8] = [0, 0, 1, 0x06, 0x05, 0x01, 0xFF, 0x80]

    @Test("H.264: an IDR slice after AUD, SPS, PPS and SEI is a keyframe; a non-IDR slice is not")
    func h264() {
        #expect(Self.keyframe(Self.aud + Self.parameterSets + Self.sei + [0, 0, 1, 0x65, 0x88, 0x84], "h264"))
        #expect(Self.keyframe([0, 0, 0, 1, 0x65, 0x88], "h264"))
        #expect(!Self.keyframe(Self.aud + [0, 0, 0, 1, 0x41, 0x9A, 0x00], "h264"))
        // Parameter sets alone are no picture; the first slice decides even if an IDR type follows.
        #expect(!Self.keyframe(Self.aud + Self.parameterSets, "h264"))
        #expect(!Self.keyframe([0, 0, 1, 0x41, 0x9A, 0, 0, 1, 0x65, 0x88], "h264"))
        #expect(!Self.keyframe([], "h264"))
        #expect(!Self.keyframe([0, 0, 1], "h264"))
    }

    @Test("HEVC: IDR_W_RADL, IDR_N_LP and CRA are keyframes; TRAIL_R is not")
    func hevc() {
        let vps: [UInt8] = [0, 0, 0, 1, 0x40, 0x01, 0x0C]  // nal_unit_type 32
        for type: UInt8 in [19, 20, 21] {
            #expect(Self.keyframe(vps + [0, 0, 1, type << 1, 0x01, 0xAF], "hevc"), "type \(type)")
        }
        #expect(!Self.keyframe(vps + [0, 0, 1, 1 << 1, 0x01, 0xD0], "hevc"))
        #expect(!Self.keyframe(vps, "hevc"))
    }

    /// An FWHT header (codec-fwht.h) with `flags`, big-endian at byte 20.
    static func fwht(flags: UInt32) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 44)
        for k in 0..<4 { h[20 + k] = UInt8(truncatingIfNeeded: flags >> (24 - 8 * UInt32(k))) }
        return h
    }

    @Test("FWHT: V4L2_FWHT_FL_I_FRAME (bit 10 of the header's flags) marks a keyframe")
    func fwht() {
        // YUV, 3 components, as vicodec writes them, with and without the I-frame bit.
        let base: UInt32 = 1 << 19 | 3 << 16
        #expect(Self.keyframe(Self.fwht(flags: base | 1 << 10), "fwht"))
        #expect(!Self.keyframe(Self.fwht(flags: base), "fwht"))
        #expect(!Self.keyframe(Self.fwht(flags: 0xFFFF_FBFF), "fwht"))
        #expect(!Self.keyframe(Array(Self.fwht(flags: 1 << 10).prefix(23)), "fwht"))
    }
}
