/// Whether a mem2mem encoder's coded unit is a random-access point, read from its own bytes, for
/// drivers that mark a buffer neither KEYFRAME nor PFRAME/BFRAME (vicodec's encoder marks none;
/// the access unit's flag in the coded ring is what the mux and the recorder cut on), and the
/// gateway's program thumbnail picks its keyframe from the received TS with it.
public enum CodedKeyframe {
    /// H.264 nal_unit_type of a coded slice of an IDR picture (ITU-T H.264 §7.4.1, Table 7-1).
    static let h264IDR: UInt8 = 5
    /// H.264 nal_unit_types of coded slices: the first one decides (Table 7-1: 1…5).
    static let h264Slices: ClosedRange<UInt8> = 1...5
    /// HEVC nal_unit_types of IRAP pictures, BLA_W_LP … CRA_NUT (ITU-T H.265 §7.4.2.2, Table 7-1).
    static let hevcIRAP: ClosedRange<UInt8> = 16...21
    /// HEVC VCL nal_unit_types (Table 7-1: 0…31): the first one decides.
    static let hevcSlices: ClosedRange<UInt8> = 0...31
    /// The FWHT frame header's flags word, big-endian, at this byte (the kernel's codec-fwht.h,
    /// struct fwht_cframe_hdr: magic1, magic2, version, width, height, flags, …).
    static let fwhtFlagsOffset = 20
    /// V4L2_FWHT_FL_I_FRAME (uapi linux/v4l2-controls.h): the frame is intra-coded.
    static let fwhtIntraFrame: UInt32 = 1 << 10

    /// Whether `unit` (Annex B for h264/hevc, one FWHT frame for fwht) starts a GOP.
    public static func isKeyframe(_ unit: UnsafeRawBufferPointer, codec: String) -> Bool {
        switch codec {
        case "fwht":
            guard unit.count >= fwhtFlagsOffset + 4 else { return false }
            let flags = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(unit[fwhtFlagsOffset + $1]) }
            return flags & fwhtIntraFrame != 0
        case "hevc":
            return firstSlice(unit, type: { ($0 >> 1) & 0x3F }, slices: hevcSlices).map(hevcIRAP.contains) ?? false
        default:
            return firstSlice(unit, type: { $0 & 0x1F }, slices: h264Slices) == h264IDR
        }
    }

    /// The nal_unit_type of the first coded slice in an Annex B unit (§B.1: after 0x000001), nil if none.
    static func firstSlice(
        _ unit: UnsafeRawBufferPointer, type: (UInt8) -> UInt8, slices: ClosedRange<UInt8>
    ) -> UInt8? {
        // Int: indexes into one access unit held in memory.
        var i = 0
        while i + 3 < unit.count {
            if unit[i] == 0, unit[i + 1] == 0, unit[i + 2] == 1 {
                let t = type(unit[i + 3])
                if slices.contains(t) { return t }
                i += 3
            } else {
                i += 1
            }
        }
        return nil
    }
}
