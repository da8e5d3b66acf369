import CTurboJPEG

/// A small JPEG of a raw 4:2:0 picture (I420, or NV12 as NV12 devices deliver it): scaled down by
/// area averaging, expanded from video range to JPEG's full range, then compressed by libturbojpeg
/// from planar YUV (no RGB round trip).
public enum Thumbnail {
    /// `?width=` bounds, pixels (the 64…1920), and the width when none is asked.
    public static let widthRange: ClosedRange<Int> = 64...1920
    /// The width when none is asked, pixels.
    public static let defaultWidth = 320
    /// JPEG quality (libjpeg's 1…100 scale): enough to judge a picture, small enough for 1/s.
    static let quality: Int32 = 80

    /// Why a thumbnail could not be made.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, naming the size or the library call.
        public var description: String
    }

    /// The largest side a picture may claim: sizes come from shared-memory headers, so they are
    /// bounded before any arithmetic (8192² × 3/2 stays inside a 32-bit Int).
    static let maxSide = 8192

    /// The thumbnail's size for a `width`×`height` picture asked at `target` wide: never scaled up,
    /// the aspect ratio kept, both sides even (≥ 2).
    static func outputSize(width: Int, height: Int, target: Int) -> (width: Int, height: Int) {
        let w = max(2, min(target, width) & ~1)
        return (w, max(2, (height * w / width) & ~1))
    }

    /// The JPEG of `frame` (`width`×`height`, even sizes) at `outputSize(…, target: targetWidth)`;
    /// `fullRange`: the samples are already 0…255 (a decoder's JPEG-range output), else video range.
    public static func jpeg(
        frame: UnsafeRawBufferPointer, width: Int, height: Int, nv12: Bool, targetWidth: Int, fullRange: Bool = false
    ) throws(Failure) -> [UInt8] {
        // Int: both sides bounded by maxSide first, so the products fit 32 bits.
        guard (2...maxSide).contains(width), (2...maxSide).contains(height), width % 2 == 0, height % 2 == 0,
            frame.count >= width * height * 3 / 2
        else {
            throw Failure(description: "a \(width)x\(height) picture in \(frame.count) bytes is no 4:2:0 frame")
        }
        let (w, h) = outputSize(width: width, height: height, target: targetWidth)
        let planes = scale(
            frame: frame, width: width, height: height, nv12: nv12, to: w, h, expandRange: !fullRange)
        guard let handle = tjInitCompress() else { throw Failure(description: "libturbojpeg: no compressor") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = planes.y.withUnsafeBufferPointer { y in
            planes.u.withUnsafeBufferPointer { u in
                planes.v.withUnsafeBufferPointer { v in
                    var sources: [UnsafePointer<UInt8>?] = [y.baseAddress, u.baseAddress, v.baseAddress]
                    var strides: [Int32] = [Int32(w), Int32(w / 2), Int32(w / 2)]
                    return tjCompressFromYUVPlanes(
                        handle, &sources, Int32(w), &strides, Int32(h), Int32(TJSAMP_420.rawValue), &buffer, &size,
                        quality, Int32(TJFLAG_FASTDCT))
                }
            }
        }
        defer { tjFree(buffer) }
        guard rc == 0, let buffer else {
            throw Failure(description: "libturbojpeg: \(tjGetErrorStr2(handle).map { String(cString: $0) } ?? "error")")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// Video range (ITU-R BT.601/BT.709 8-bit coding: luma 16…235, chroma 16…240 about 128) to the
    /// full range JFIF assumes (0…255), as lookup tables. The matrix is kept: JFIF decoders use
    /// BT.601's, so a BT.709 source shows a slight hue shift, acceptable for a confidence picture.
    static let fullRangeLuma: [UInt8] = (0...255).map { UInt8(clamping: ((Int($0) - 16) * 255 + 109) / 219) }
    static let fullRangeChroma: [UInt8] = (0...255).map {
        let c = Int($0) - 128
        return UInt8(clamping: 128 + (c * 255 + (c < 0 ? -112 : 112)) / 224)
    }

    /// The picture's three planes at `w`×`h` in full range: each output sample the mean of the
    /// source samples its area covers (a box filter; at least one).
    static func scale(
        frame: UnsafeRawBufferPointer, width: Int, height: Int, nv12: Bool, to w: Int, _ h: Int,
        expandRange: Bool = true
    ) -> (y: [UInt8], u: [UInt8], v: [UInt8]) {
        let luma = frame.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let chroma = luma + width * height
        let y = box(width: w, height: h, sourceWidth: width, sourceHeight: height) { x, r in luma[r * width + x] }
        let (cw, ch, scw, sch) = (w / 2, h / 2, width / 2, height / 2)
        let u: [UInt8]
        let v: [UInt8]
        if nv12 {  // interleaved CbCr rows of `width` bytes
            u = box(width: cw, height: ch, sourceWidth: scw, sourceHeight: sch) { x, r in chroma[r * width + 2 * x] }
            v = box(width: cw, height: ch, sourceWidth: scw, sourceHeight: sch) { x, r in
                chroma[r * width + 2 * x + 1]
            }
        } else {
            let cr = chroma + scw * sch
            u = box(width: cw, height: ch, sourceWidth: scw, sourceHeight: sch) { x, r in chroma[r * scw + x] }
            v = box(width: cw, height: ch, sourceWidth: scw, sourceHeight: sch) { x, r in cr[r * scw + x] }
        }
        guard expandRange else { return (y, u, v) }
        return (
            y.map { fullRangeLuma[Int($0)] }, u.map { fullRangeChroma[Int($0)] }, v.map { fullRangeChroma[Int($0)] }
        )
    }

    /// One plane scaled down with a box filter; `sample(x, row)` reads the source.
    static func box(
        width w: Int, height h: Int, sourceWidth sw: Int, sourceHeight sh: Int, sample: (Int, Int) -> UInt8
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: w * h)
        for oy in 0..<h {
            let r0 = oy * sh / h
            let r1 = max(r0 + 1, (oy + 1) * sh / h)
            for ox in 0..<w {
                let x0 = ox * sw / w
                let x1 = max(x0 + 1, (ox + 1) * sw / w)
                var sum = 0
                for r in r0..<r1 { for x in x0..<x1 { sum += Int(sample(x, r)) } }
                let n = (r1 - r0) * (x1 - x0)
                out[oy * w + ox] = UInt8((sum + n / 2) / n)
            }
        }
        return out
    }
}
