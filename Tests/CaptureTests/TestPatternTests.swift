import Capture
import Testing

@Suite("Test pattern")
struct TestPatternTests {
    /// The chroma samples (Cb, Cr) of 4:2:0 position (`x`, `y`) in chroma coordinates.
    static func chroma(_ frame: [UInt8], _ p: TestPattern, x: Int, y: Int) -> (UInt8, UInt8) {
        let luma = p.width * p.height
        switch p.layout {
        case .i420:
            let cw = p.width / 2
            return (frame[luma + y * cw + x], frame[luma + cw * (p.height / 2) + y * cw + x])
        case .nv12:
            return (frame[luma + y * p.width + 2 * x], frame[luma + y * p.width + 2 * x + 1])
        }
    }

    static func render(_ p: TestPattern, slate: Bool) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: p.frameBytes)
        frame.withUnsafeMutableBytes { p.render(frame: 7, timecode: "10:00:00:00", slate: slate, into: $0) }
        return frame
    }

    @Test(
        "the bars carry BT.709 colour; the NO SIGNAL slate is grey: neutral chroma (128) over the whole bars area",
        arguments: [TestPattern.Layout.i420, .nv12])
    func slateIsGrey(layout: TestPattern.Layout) {
        let p = TestPattern(width: 320, height: 180, layout: layout)
        let bars = Self.render(p, slate: false)
        let slate = Self.render(p, slate: true)
        let rows = p.height * 2 / 3 / 2  // chroma rows of the bars area
        var coloured = 0
        for y in 0..<rows {
            for x in 0..<(p.width / 2) {
                let (cb, cr) = Self.chroma(bars, p, x: x, y: y)
                if cb != 128 || cr != 128 { coloured += 1 }
                let (sb, sr) = Self.chroma(slate, p, x: x, y: y)
                #expect(sb == 128 && sr == 128, "slate chroma at \(x),\(y): \(sb),\(sr)")
                if sb != 128 || sr != 128 { return }
            }
        }
        // Six of the seven bars are coloured (white is not).
        #expect(coloured > rows * (p.width / 2) * 5 / 7, "\(coloured) coloured chroma samples in the bars")
        // The slate's field is dark grey luma 64.
        #expect(slate[10 * p.width + 10] == 64)
    }
}
