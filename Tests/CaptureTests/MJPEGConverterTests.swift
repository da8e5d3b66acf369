import Foundation
import Testing

@testable import Capture

/// FrameConverter's MJPEG path (libturbojpeg straight into the ring's I420 planes) against JPEGs
/// made by a real encoder: 64x32, four vertical colour bars 16 pixels wide with known full-range
/// Y'CbCr values, encoded once by ffmpeg from a yuvj444p picture of the bars (`-pix_fmt yuvj422p`
/// as most UVC cameras send, and yuvj420p; `-q:v 1`) and kept here in base64.
@Suite("MJPEG converter")
struct MJPEGConverterTests {
    /// (Y, Cb, Cr) of each bar, left to right.
    static let bars: [(y: Int, cb: Int, cr: Int)] = [(180, 128, 128), (162, 44, 142), (131, 156, 44), (112, 72, 58)]
    static let width = 64
    static let height = 32
    /// Error allowed per sample: JPEG's quantisation at `-q:v 1` and the fast IDCT ring by up to 7
    /// at the bars' edges; a swapped or misplaced plane is off by 14 to 112 somewhere.
    static let tolerance = 10

    static let jpeg422 = Data(
        base64Encoded:
            "/9j//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgCAgICAgICAgICAgMDAwMDAwMDAwMDAwMDAwMEBAQDAwMDAwMDBAQEBAQEBAQEBAQEBAUFBQYGBQUHBwcICAr/xABZAAEBAQEAAAAAAAAAAAAAAAAABQYHAQEBAQEAAAAAAAAAAAAAAAAABwQGEAEAAAAAAAAAAAAAAAAAAAAAEQACAgIDAQAAAAAAAAAAAAACAQCycjNzsTIx/8AAEQgAIABAAwEiAAISAAMSAP/aAAwDAQACEQMRAD8A2gAfg8S6g/B4l1C+wvsmgJYt65VeFvXKrzaes8CrB6zwKsgALctC4lSFoXEqSPnsPMrQew8ytJgCWn7PIu4P2eRdzavkL5OiAO3PweJdQfg8S6lGX2F9k0BLFvXKrwt65VebT1ngVYPWeBVkABbloXEqQtC4lSR89h5laD2HmVpMAS0/Z5F3B+zyLubV8hfJ/9k="
    )!
    static let jpeg420 = Data(
        base64Encoded:
            "/9j//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgCAgICAgICAgICAgMDAwMDAwMDAwMDAwMDAwMEBAQDAwMDAwMDBAQEBAQEBAQEBAQEBAUFBQYGBQUHBwcICAr/xABbAAEBAQEAAAAAAAAAAAAAAAAABQYHAQEBAQEBAAAAAAAAAAAAAAAHBAEABhABAAAAAAAAAAAAAAAAAAAAABEAAgEEAwEAAAAAAAAAAAAAAAIBc3IzsrExMkP/wAARCAAgAEADASIAAhEAAxEA/9oADAMBAAIRAxEAPwDaAMfw9rcHR2TQBbGeKsblr43sbUgAG74RSjQH2yPe20kwAWv7e5uS2OjogD2z+HtbgRo7JoAtjPFWNy18b2NqQADd8IpRoD7ZHvbaSYALX9vc3JbHR//Z"
    )!

    @Test("4:2:2 and 4:2:0 JPEGs decode to the bars in I420: Y, then Cb, then Cr, every row", arguments: [422, 420])
    func decodesBars(subsampling: Int) throws {
        let (w, h) = (Self.width, Self.height)
        let c = FrameConverter(fourcc: .mjpeg, width: w, height: h, bytesPerLine: 0, fd: -1)
        var out = [UInt8](repeating: 0, count: c.frameBytes)
        let jpeg = subsampling == 422 ? Self.jpeg422 : Self.jpeg420
        let n = jpeg.withUnsafeBytes { s in out.withUnsafeMutableBytes { c.convert(s, into: $0) } }
        #expect(n == w * h * 3 / 2)
        var worst = 0
        for row in 0..<h {
            for x in 0..<w {
                worst = max(worst, abs(Int(out[row * w + x]) - Self.bars[x / 16].y))
            }
        }
        let cw = w / 2
        for row in 0..<(h / 2) {
            for x in 0..<cw {
                let bar = Self.bars[x / 8]
                worst = max(worst, abs(Int(out[w * h + row * cw + x]) - bar.cb))
                worst = max(worst, abs(Int(out[w * h * 5 / 4 + row * cw + x]) - bar.cr))
            }
        }
        #expect(worst <= Self.tolerance, "largest error \(worst) over Y, Cb and Cr")
    }

    @Test("a JPEG of another size, or a corrupt one, is refused (the frame counts as dropped)")
    func refusals() {
        let other = FrameConverter(fourcc: .mjpeg, width: 32, height: 32, bytesPerLine: 0, fd: -1)
        var out = [UInt8](repeating: 0, count: other.frameBytes)
        #expect(Self.jpeg422.withUnsafeBytes { s in out.withUnsafeMutableBytes { other.convert(s, into: $0) } } == nil)
        let c = FrameConverter(fourcc: .mjpeg, width: Self.width, height: Self.height, bytesPerLine: 0, fd: -1)
        var full = [UInt8](repeating: 0, count: c.frameBytes)
        let truncated = Array(Self.jpeg420.prefix(40))
        #expect(truncated.withUnsafeBytes { s in full.withUnsafeMutableBytes { c.convert(s, into: $0) } } == nil)
    }
}
