import Testing

@testable import Capture

/// The planar copies of FrameConverter against synthetic buffers with driver line padding.
@Suite("Frame converter")
struct FrameConverterTests {
    /// A 4x4 frame whose bytes name their plane and position, each line padded to `stride`.
    static func padded(width: Int, height: Int, stride: Int, chromaRows: Int, chromaStride: Int, chromaPlanes: Int)
        -> [UInt8]
    {
        var out: [UInt8] = []
        for y in 0..<height {
            out += (0..<width).map { UInt8(y * 16 + $0) } + [UInt8](repeating: 0xEE, count: stride - width)
        }
        for p in 0..<chromaPlanes {
            for y in 0..<chromaRows {
                let row = chromaStride - (stride - width) / (chromaPlanes == 2 ? 2 : 1)
                out += (0..<row).map { UInt8(0x80 + p * 0x20 + y * 8 + $0) }
                out += [UInt8](repeating: 0xEE, count: chromaStride - row)
            }
        }
        return out
    }

    @Test("YUYV through libv4lconvert (no device: offline device ops) → I420 with line padding dropped")
    func yuyv() {
        // 4x2, lines padded to 12 bytes; both lines carry the same chroma so 4:2:0 subsampling is exact.
        let line: [UInt8] = [10, 100, 20, 200, 30, 110, 40, 210, 0xEE, 0xEE, 0xEE, 0xEE]
        let second: [UInt8] = [50, 100, 60, 200, 70, 110, 80, 210, 0xEE, 0xEE, 0xEE, 0xEE]
        let c = FrameConverter(fourcc: .yuyv, width: 4, height: 2, bytesPerLine: 12, fd: -1)
        var dst = [UInt8](repeating: 0, count: c.frameBytes)
        let n = (line + second).withUnsafeBytes { s in dst.withUnsafeMutableBytes { c.convert(s, into: $0) } }
        #expect(n == 12)
        #expect(Array(dst[0..<8]) == [10, 20, 30, 40, 50, 60, 70, 80], "luma \(dst)")
        #expect(Array(dst[8..<10]) == [100, 110] && Array(dst[10..<12]) == [200, 210], "chroma \(dst)")
    }

    @Test("NV12 keeps its interleaved chroma (ring codec nv12) and drops the padding")
    func nv12() {
        #expect(FrameConverter.ringCodec(for: .nv12) == .nv12)
        #expect(FrameConverter.ringCodec(for: .yuyv) == .i420)
        let c = FrameConverter(fourcc: .nv12, width: 4, height: 4, bytesPerLine: 8, fd: -1)
        let src = Self.padded(width: 4, height: 4, stride: 8, chromaRows: 2, chromaStride: 8, chromaPlanes: 1)
        var dst = [UInt8](repeating: 0, count: c.frameBytes)
        let n = src.withUnsafeBytes { s in dst.withUnsafeMutableBytes { c.convert(s, into: $0) } }
        #expect(n == 24)
        #expect(Array(dst[0..<4]) == [0, 1, 2, 3] && Array(dst[12..<16]) == [48, 49, 50, 51])
        #expect(Array(dst[16..<24]) == [0x80, 0x81, 0x82, 0x83, 0x88, 0x89, 0x8A, 0x8B])
        #expect(!dst.contains(0xEE))
    }

    @Test("YUV420 copies three planes row by row; a short buffer is refused")
    func yuv420() {
        let c = FrameConverter(fourcc: .yuv420, width: 4, height: 4, bytesPerLine: 6, fd: -1)
        let src = Self.padded(width: 4, height: 4, stride: 6, chromaRows: 2, chromaStride: 3, chromaPlanes: 2)
        var dst = [UInt8](repeating: 0, count: c.frameBytes)
        let n = src.withUnsafeBytes { s in dst.withUnsafeMutableBytes { c.convert(s, into: $0) } }
        #expect(n == 24)
        #expect(Array(dst[16..<20]) == [0x80, 0x81, 0x88, 0x89] && Array(dst[20..<24]) == [0xA0, 0xA1, 0xA8, 0xA9])
        let short = src.withUnsafeBytes { s in
            dst.withUnsafeMutableBytes { c.convert(UnsafeRawBufferPointer(rebasing: s[0..<10]), into: $0) }
        }
        #expect(short == nil)
    }
}
