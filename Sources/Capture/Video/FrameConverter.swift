import CTurboJPEG
import CV4L2
import FrameRing
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// Turns one captured buffer into the ring's 4:2:0 layout in a single pass, straight from the
/// kernel's mmap'd buffer into the ring slot (the one copy per frame): YUYV through libv4lconvert
/// and MJPEG through libturbojpeg to I420; YUV420 (I420) and NV12 (which x264 takes as it is) by
/// rows, dropping the driver's line padding.
public final class FrameConverter {
    let fourcc: FourCC
    let width: Int
    let height: Int
    let bytesPerLine: Int
    /// Bytes of one 4:2:0 output frame.
    public var frameBytes: Int { width * height * 3 / 2 }
    /// The ring's pixel layout for a device format: NV12 stays NV12, everything else becomes I420.
    static func ringCodec(for fourcc: FourCC) -> RingCodec { fourcc == .nv12 ? .nv12 : .i420 }

    private var v4lconvert: OpaquePointer?
    private var jpeg: tjhandle?
    private var chromaScratch: [UInt8] = []

    /// `fd`: the capture device (libv4lconvert asks it about quirks); -1 without one (benchmarks).
    public init(fourcc: FourCC, width: Int, height: Int, bytesPerLine: Int, fd: Int32) {
        self.fourcc = fourcc
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        if fourcc == .yuyv { v4lconvert = fd >= 0 ? v4lconvert_create(fd) : rill_v4lconvert_create_offline() }
        if fourcc == .mjpeg || fourcc == .jpeg { jpeg = tjInitDecompress() }
    }

    deinit {
        if let v4lconvert { v4lconvert_destroy(v4lconvert) }
        if let jpeg { tjDestroy(jpeg) }
    }

    /// Converts `source` (bytes used of one buffer) into `out`; nil when the frame is unusable
    /// (short, corrupt JPEG) and must be counted as dropped.
    public func convert(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard out.count >= frameBytes else { return nil }
        switch fourcc {
        case .yuyv: return convertYUYV(source, into: out)
        case .yuv420: return copyPlanar(source, into: out, chromaRows: height / 2, chromaRowBytes: width / 2, planes: 2)
        case .nv12: return copyPlanar(source, into: out, chromaRows: height / 2, chromaRowBytes: width, planes: 1)
        case .mjpeg, .jpeg: return decodeJPEG(source, into: out)
        default: return nil
        }
    }

    private func convertYUYV(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let v4lconvert, source.count >= bytesPerLine * height else { return nil }
        var src = v4l2_format()
        src.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        src.fmt.pix.width = UInt32(width)
        src.fmt.pix.height = UInt32(height)
        src.fmt.pix.pixelformat = fourcc.rawValue
        src.fmt.pix.bytesperline = UInt32(bytesPerLine)
        src.fmt.pix.sizeimage = UInt32(bytesPerLine * height)
        src.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        var dst = src
        dst.fmt.pix.pixelformat = FourCC.yuv420.rawValue
        dst.fmt.pix.bytesperline = UInt32(width)
        dst.fmt.pix.sizeimage = UInt32(frameBytes)
        let n = v4lconvert_convert(
            v4lconvert, &src, &dst,
            UnsafeMutablePointer(mutating: source.baseAddress!.assumingMemoryBound(to: UInt8.self)),
            Int32(bytesPerLine * height),
            out.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(frameBytes))
        return n == Int32(frameBytes) ? frameBytes : nil
    }

    /// Y rows of `bytesPerLine`, then chroma rows (V4L2 single-planar: chroma lines have the
    /// luma stride scaled like the chroma width).
    private func copyPlanar(
        _ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, chromaRows: Int, chromaRowBytes: Int,
        planes: Int
    ) -> Int? {
        let chromaStride = planes == 2 ? bytesPerLine / 2 : bytesPerLine
        guard source.count >= bytesPerLine * height + chromaStride * chromaRows * planes else { return nil }
        var s = source.baseAddress!
        var d = out.baseAddress!
        if bytesPerLine == width && chromaStride == chromaRowBytes {
            d.copyMemory(from: s, byteCount: frameBytes)
            return frameBytes
        }
        for _ in 0..<height {
            d.copyMemory(from: s, byteCount: width)
            s += bytesPerLine
            d += width
        }
        for _ in 0..<(chromaRows * planes) {
            d.copyMemory(from: s, byteCount: chromaRowBytes)
            s += chromaStride
            d += chromaRowBytes
        }
        return frameBytes
    }

    /// MJPEG: 4:2:0 decodes straight into the I420 planes; 4:2:2 (most UVC cameras) decodes luma
    /// in place and chroma into a scratch buffer, keeping every other chroma row.
    private func decodeJPEG(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let jpeg, source.count > 4 else { return nil }
        let data = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var w: Int32 = 0
        var h: Int32 = 0
        var sub: Int32 = 0
        var colorspace: Int32 = 0
        guard tjDecompressHeader3(jpeg, data, UInt(source.count), &w, &h, &sub, &colorspace) == 0,
            Int(w) == width, Int(h) == height
        else { return nil }
        let y = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let u = y + width * height
        let v = u + width * height / 4
        let flags = Int32(TJFLAG_FASTDCT)
        switch Int32(sub) {
        case Int32(TJSAMP_420.rawValue):
            var planes: [UnsafeMutablePointer<UInt8>?] = [y, u, v]
            var strides: [Int32] = [Int32(width), Int32(width / 2), Int32(width / 2)]
            return tjDecompressToYUVPlanes(jpeg, data, UInt(source.count), &planes, w, &strides, h, flags) == 0
                ? frameBytes : nil
        case Int32(TJSAMP_422.rawValue):
            let cw = width / 2
            if chromaScratch.count < cw * height * 2 { chromaScratch = [UInt8](repeating: 0, count: cw * height * 2) }
            return chromaScratch.withUnsafeMutableBufferPointer { scratch -> Int? in
                let su = scratch.baseAddress!
                let sv = su + cw * height
                var planes: [UnsafeMutablePointer<UInt8>?] = [y, su, sv]
                var strides: [Int32] = [Int32(width), Int32(cw), Int32(cw)]
                guard tjDecompressToYUVPlanes(jpeg, data, UInt(source.count), &planes, w, &strides, h, flags) == 0
                else { return nil }
                for row in 0..<(height / 2) {
                    (u + row * cw).update(from: su + 2 * row * cw, count: cw)
                    (v + row * cw).update(from: sv + 2 * row * cw, count: cw)
                }
                return frameBytes
            }
        default:
            return nil
        }
    }
}
