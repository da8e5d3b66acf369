/// A V4L2 pixel format code: four ASCII characters packed little endian, the first in the low byte
/// (videodev2.h `v4l2_fourcc(a, b, c, d)`). Capture's formats and the mem2mem encoder's raw and
/// coded formats are all of this type.
public struct FourCC: Hashable, Sendable, CustomStringConvertible {
    /// The code as V4L2 stores it (`v4l2_fmtdesc.pixelformat`, `v4l2_pix_format.pixelformat`).
    public let rawValue: UInt32

    /// From the 32-bit value V4L2 reports.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// From its characters, e.g. "YUYV"; a shorter code is padded with spaces ("Y10" is "Y10 ",
    /// as videodev2.h spells such codes), a longer one keeps its first four bytes.
    public init(_ code: String) {
        var bytes = Array(code.utf8.prefix(4))
        while bytes.count < 4 { bytes.append(UInt8(ascii: " ")) }
        var value: UInt32 = 0
        for (i, b) in bytes.enumerated() { value |= UInt32(b) << (8 * UInt32(i)) }
        rawValue = value
    }

    /// The four characters, trailing spaces removed ("Y10 " reads "Y10"); a byte that is not
    /// printable ASCII reads as its hex value (`<0x00>`), so a garbled code stays visible in logs.
    public var description: String {
        var text = ""
        for i in 0..<4 {
            let b = UInt8(truncatingIfNeeded: rawValue >> (8 * UInt32(i)))
            text += (0x20...0x7E).contains(b) ? String(UnicodeScalar(b)) : "<0x\(String(b, radix: 16))>"
        }
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }

    /// V4L2_PIX_FMT_YUYV: packed 4:2:2, Y0 U Y1 V.
    public static let yuyv = FourCC("YUYV")
    /// V4L2_PIX_FMT_NV12: 4:2:0, a Y plane then interleaved CbCr.
    public static let nv12 = FourCC("NV12")
    /// V4L2_PIX_FMT_YUV420 ("YU12"): planar 4:2:0, Y then Cb then Cr (I420).
    public static let yuv420 = FourCC("YU12")
    /// V4L2_PIX_FMT_MJPEG: Motion JPEG.
    public static let mjpeg = FourCC("MJPG")
    /// V4L2_PIX_FMT_JPEG: JPEG frames.
    public static let jpeg = FourCC("JPEG")
    /// V4L2_PIX_FMT_H264: H.264 elementary stream (Annex B).
    public static let h264 = FourCC("H264")
    /// V4L2_PIX_FMT_HEVC: H.265 elementary stream (Annex B).
    public static let hevc = FourCC("HEVC")
    /// V4L2_PIX_FMT_FWHT: vicodec's Fast Walsh-Hadamard Transform codec.
    public static let fwht = FourCC("FWHT")
}
