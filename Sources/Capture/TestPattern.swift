import MediaTime

/// Renders the test source's frames: 75 % colour bars (ITU-R BT.709 limited-range values), a
/// moving box, the burnt-in time-of-day timecode and frame counter; or the "NO SIGNAL" slate.
/// The bars are rendered once; each frame copies them and draws the moving parts.
public struct TestPattern: Sendable {
    /// Pixel layouts the pattern can produce.
    public enum Layout: String, Sendable { case i420 = "I420", nv12 = "NV12" }

    /// Frame width, pixels.
    public let width: Int
    /// Frame height, pixels.
    public let height: Int
    /// I420 or NV12.
    public let layout: Layout
    /// Bytes of one frame (4:2:0: 1.5 bytes per pixel).
    public var frameBytes: Int { width * height * 3 / 2 }
    private let background: [UInt8]

    /// BT.709 75 % bars, 8-bit limited range (Y, Cb, Cr): white, yellow, cyan, green, magenta, red, blue.
    static let bars: [(UInt8, UInt8, UInt8)] = [
        (180, 128, 128), (168, 44, 136), (145, 147, 44), (133, 63, 52), (63, 193, 204), (51, 109, 212), (28, 212, 120),
    ]

    /// A pattern for `width`×`height` (even) in `layout`.
    public init(width: Int, height: Int, layout: Layout) {
        self.width = width
        self.height = height
        self.layout = layout
        var bg = [UInt8](repeating: 0, count: width * height * 3 / 2)
        let barsHeight = height * 2 / 3
        let cw = width / 2
        let ch = height / 2
        for y in 0..<height {
            for x in 0..<width {
                let bar = min(x * Self.bars.count / width, Self.bars.count - 1)
                bg[y * width + x] = y < barsHeight ? Self.bars[bar].0 : 16  // black below the bars
            }
        }
        for y in 0..<ch {
            for x in 0..<cw {
                let bar = min(x * 2 * Self.bars.count / width, Self.bars.count - 1)
                let (u, v) = y * 2 < barsHeight ? (Self.bars[bar].1, Self.bars[bar].2) : (128, 128)
                switch layout {
                case .i420:
                    bg[width * height + y * cw + x] = u
                    bg[width * height + cw * ch + y * cw + x] = v
                case .nv12:
                    bg[width * height + y * width + 2 * x] = u
                    bg[width * height + y * width + 2 * x + 1] = v
                }
            }
        }
        background = bg
    }

    /// Text scale so the timecode is about 1/20 of the picture height.
    var scale: Int { max(1, height / 20 / BitmapFont.height) }

    /// Renders frame `index` into `out` (≥ `frameBytes`).
    /// - Parameters:
    ///   - timecode: "HH:MM:SS:FF" to burn in.
    ///   - slate: draw "NO SIGNAL" over a grey field instead of the moving parts.
    public func render(
        frame index: Int64, timecode: String, slate: Bool = false, into out: UnsafeMutableRawBufferPointer
    ) {
        background.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: frameBytes) }
        let y = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let s = scale
        let barsHeight = height * 2 / 3
        if slate {
            BitmapFont.fill(
                y, stride: width, planeWidth: width, planeHeight: height, x: 0, y: 0, w: width, h: barsHeight, value: 64
            )
            // Grey means neutral chroma too (128 in both planes), or the bars' colours would tint it.
            let chroma = y + width * height
            let rows = (barsHeight + 1) / 2
            switch layout {
            case .i420:
                let cw = width / 2
                let ch = height / 2
                for plane in [chroma, chroma + cw * ch] {
                    BitmapFont.fill(
                        plane, stride: cw, planeWidth: cw, planeHeight: ch, x: 0, y: 0, w: cw, h: rows, value: 128)
                }
            case .nv12:
                BitmapFont.fill(
                    chroma, stride: width, planeWidth: width, planeHeight: height / 2, x: 0, y: 0, w: width, h: rows,
                    value: 128)
            }
            let text = "NO SIGNAL"
            let big = s * 2
            BitmapFont.draw(
                text, into: y, stride: width, planeWidth: width, planeHeight: height,
                x: (width - BitmapFont.textWidth(text.count, scale: big)) / 2, y: barsHeight / 2 - 4 * big,
                scale: big, luma: 235, background: 16)
        } else {
            // A box crossing the picture once every 4 s at 50 fps (any rate: by frame index).
            let box = max(8, height / 10) & ~1
            let travel = max(1, width - box)
            let period = Int64(travel * 2)
            let phase = Int(index * Int64(max(1, width / 200)) % period)
            let bx = phase < travel ? phase : Int(period) - phase
            BitmapFont.fill(
                y, stride: width, planeWidth: width, planeHeight: height,
                x: bx, y: barsHeight + s, w: box, h: box, value: 235)
        }
        let counter = String(index)
        let padded = String(repeating: "0", count: max(0, 9 - counter.count)) + counter
        let textY = height - (BitmapFont.height + 3) * s
        BitmapFont.draw(
            timecode, into: y, stride: width, planeWidth: width, planeHeight: height,
            x: 2 * s, y: textY, scale: s, luma: 235, background: 16)
        BitmapFont.draw(
            padded, into: y, stride: width, planeWidth: width, planeHeight: height,
            x: width - BitmapFont.textWidth(9, scale: s) - 2 * s, y: textY, scale: s, luma: 235, background: 16)
    }

    /// "HH:MM:SS:FF" for a wall-clock time in ns since the epoch (UTC) at `fps` (FF = frame within the second).
    public static func timecode(wallClock ns: Int64, fps: FrameRate) -> String {
        let secondsOfDay = (ns / MediaTime.nanosecondsPerSecond) % 86_400
        let sub = ns % MediaTime.nanosecondsPerSecond
        let frame = sub * fps.numerator / (fps.denominator * MediaTime.nanosecondsPerSecond)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60)):\(two(frame))"
    }
}
