import Foundation
import RillTestSupport
import Testing

@testable import Confidence

/// The thumbnail's scaler (unit) and its JPEG as FFmpeg decodes it (peer).
@Suite("Thumbnail scaler")
struct ThumbnailScaleTests {
    @Test("video range → full range: 16 → 0, 235 → 255, chroma 16/128/240 → 0/128/255")
    func range() {
        #expect(Thumbnail.fullRangeLuma[16] == 0 && Thumbnail.fullRangeLuma[235] == 255)
        #expect(Thumbnail.fullRangeLuma[0] == 0 && Thumbnail.fullRangeLuma[255] == 255, "clamped")
        #expect(Thumbnail.fullRangeChroma[16] == 0 && Thumbnail.fullRangeChroma[128] == 128)
        #expect(Thumbnail.fullRangeChroma[240] == 255)
    }

    @Test("a box filter: each output sample is the rounded mean of the samples its area covers")
    func boxFilter() {
        // 4×2 → 2×1: means of the left and right 2×2 blocks.
        let source: [UInt8] = [10, 20, 100, 101, 30, 40, 102, 104]
        let out = Thumbnail.box(width: 2, height: 1, sourceWidth: 4, sourceHeight: 2) { x, r in source[r * 4 + x] }
        #expect(out == [25, 102])
        // 3 → 2 columns: floor bounds, each output covers at least one sample.
        let row: [UInt8] = [0, 90, 200]
        #expect(Thumbnail.box(width: 2, height: 1, sourceWidth: 3, sourceHeight: 1) { x, _ in row[x] } == [0, 145])
    }

    @Test("sizes: never scaled up, aspect kept, both sides even; a short buffer is refused naming the size")
    func sizes() throws {
        #expect(Thumbnail.outputSize(width: 640, height: 360, target: 1920) == (640, 360))
        #expect(Thumbnail.outputSize(width: 1920, height: 1080, target: 321) == (320, 180))
        #expect(Thumbnail.outputSize(width: 720, height: 576, target: 100) == (100, 80))
        #expect(Thumbnail.outputSize(width: 1280, height: 720, target: 64) == (64, 36))
        let frame = [UInt8](repeating: 128, count: 640 * 360 * 3 / 2)
        let whole = try frame.withUnsafeBytes { f throws(Thumbnail.Failure) in
            try Thumbnail.jpeg(frame: f, width: 640, height: 360, nv12: false, targetWidth: 1920)
        }
        #expect(!whole.isEmpty)
        let short = #expect(throws: Thumbnail.Failure.self) {
            try frame.withUnsafeBytes { f throws(Thumbnail.Failure) in
                try Thumbnail.jpeg(
                    frame: UnsafeRawBufferPointer(rebasing: f[0..<1000]), width: 640, height: 360, nv12: false,
                    targetWidth: 320)
            }
        }
        #expect(short?.description.contains("640x360 picture in 1000 bytes") == true, "\(String(describing: short))")
        // A hostile header's sizes are refused before any arithmetic.
        let huge = #expect(throws: Thumbnail.Failure.self) {
            try frame.withUnsafeBytes { f throws(Thumbnail.Failure) in
                try Thumbnail.jpeg(frame: f, width: Int(UInt32.max), height: 1 << 30, nv12: false, targetWidth: 320)
            }
        }
        #expect(huge != nil)
        let p = frame.withUnsafeBytes {
            Thumbnail.scale(frame: $0, width: 640, height: 360, nv12: true, to: 100, 56)
        }
        #expect(p.y.count == 100 * 56 && p.u.count == 50 * 28 && p.v.count == 50 * 28)
    }
}

@Suite("Thumbnail JPEG against FFmpeg", .tags(.peer))
struct ThumbnailJPEGTests {
    /// A 640×360 picture: left half white, right half black; chroma blue-ish on the left (U high).
    static func picture(nv12: Bool) -> [UInt8] {
        let (w, h) = (640, 360)
        var f = [UInt8](repeating: 0, count: w * h * 3 / 2)
        for r in 0..<h { for x in 0..<w { f[r * w + x] = x < w / 2 ? 235 : 16 } }
        for r in 0..<(h / 2) {
            for x in 0..<(w / 2) {
                let (u, v): (UInt8, UInt8) = x < w / 4 ? (200, 128) : (128, 128)
                if nv12 {
                    f[w * h + r * w + 2 * x] = u
                    f[w * h + r * w + 2 * x + 1] = v
                } else {
                    f[w * h + r * (w / 2) + x] = u
                    f[w * h * 5 / 4 + r * (w / 2) + x] = v
                }
            }
        }
        return f
    }

    @Test(
        "I420 and NV12 at width 320: ffmpeg decodes 320x180 with the halves' luma and the left's chroma",
        arguments: [false, true])
    func decodes(nv12: Bool) throws {
        let frame = Self.picture(nv12: nv12)
        let jpeg = try frame.withUnsafeBytes {
            try Thumbnail.jpeg(frame: $0, width: 640, height: 360, nv12: nv12, targetWidth: 320)
        }
        let dir = makeTemporaryDirectory("thumb")
        try Data(jpeg).write(to: URL(fileURLWithPath: "\(dir)/t.jpg"))
        let streams = try ffprobeStreams("\(dir)/t.jpg")
        #expect(streams.first?.width == 320 && streams.first?.height == 180, "\(streams)")
        let r = try runProcess([
            "ffmpeg", "-v", "error", "-i", "\(dir)/t.jpg", "-f", "rawvideo", "-pix_fmt", "yuvj444p", "-y",
            "\(dir)/t.yuv",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let yuv = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/t.yuv")))
        try #require(yuv.count == 320 * 180 * 3)
        let at = { (plane: Int, x: Int, y: Int) in Int(yuv[plane * 320 * 180 + y * 320 + x]) }
        // As stored (yuvj444p): video range expanded to JPEG's full range, 235 → 255, 16 → 0, Cb 200 → 210.
        #expect(
            abs(at(0, 40, 90) - 255) <= 4 && abs(at(0, 280, 90) - 0) <= 4, "luma \(at(0, 40, 90)) \(at(0, 280, 90))")
        #expect(
            abs(at(1, 40, 90) - 210) <= 4 && abs(at(1, 200, 90) - 128) <= 4, "Cb \(at(1, 40, 90)) \(at(1, 200, 90))")
        #expect(abs(at(2, 40, 90) - 128) <= 4, "Cr \(at(2, 40, 90))")
    }
}
