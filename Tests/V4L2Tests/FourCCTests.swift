import Testing
import V4L2

/// FourCC against the codes videodev2.h defines (`v4l2_fourcc(a, b, c, d)` = a | b << 8 | c << 16 | d << 24).
@Suite("FourCC")
struct FourCCTests {
    /// Each constant with its character code and the value videodev2.h gives it.
    @Test(
        "constants carry videodev2.h's values",
        arguments: [
            (FourCC.yuyv, "YUYV", UInt32(0x5659_5559)), (FourCC.nv12, "NV12", 0x3231_564E),
            (FourCC.yuv420, "YU12", 0x3231_5559), (FourCC.mjpeg, "MJPG", 0x4750_4A4D),
            (FourCC.jpeg, "JPEG", 0x4745_504A), (FourCC.h264, "H264", 0x3436_3248),
            (FourCC.hevc, "HEVC", 0x4356_4548), (FourCC.fwht, "FWHT", 0x5448_5746),
        ])
    func constants(code: FourCC, text: String, value: UInt32) {
        #expect(code.rawValue == value, "\(text)")
        #expect(code.description == text)
        #expect(FourCC(text) == code)
        #expect(FourCC(rawValue: value) == code)
    }

    @Test("the first character is the low byte")
    func byteOrder() {
        let c = FourCC("ABCD")
        #expect(c.rawValue & 0xFF == UInt32(UInt8(ascii: "A")))
        #expect(c.rawValue >> 24 == UInt32(UInt8(ascii: "D")))
    }

    /// videodev2.h pads three-character codes with a space (V4L2_PIX_FMT_Y10 is 'Y','1','0',' ').
    @Test("space-padded codes: description drops the padding, and the short name reads back the same code")
    func padding() {
        let y10 = FourCC(rawValue: 0x2030_3159)
        #expect(y10.description == "Y10")
        #expect(FourCC("Y10") == y10)
        #expect(FourCC("Y10 ") == y10)
    }

    @Test(
        "round trip through the text for every printable code of a sample",
        arguments: ["RGB3", "BA81", "pRAA", "Y16 ", "GREY"])
    func roundTrip(text: String) {
        let c = FourCC(text)
        #expect(FourCC(c.description) == c)
        #expect(FourCC(rawValue: c.rawValue) == c)
    }

    @Test("a code with unprintable bytes names them instead of hiding them")
    func unprintable() {
        #expect(FourCC(rawValue: 0).description == "<0x0><0x0><0x0><0x0>")
        #expect(FourCC(rawValue: 0x0131_5559).description == "YU1<0x1>")
    }

    @Test("longer text keeps the first four characters")
    func longText() { #expect(FourCC("NV12M") == .nv12) }
}
