/// A 5×7 pixel font for burnt-in text (timecode, frame counter, "NO SIGNAL"), drawn by hand for
/// Rill. Each glyph is 7 rows of 5 bits, most significant bit leftmost.
enum BitmapFont {
    static let width = 5
    static let height = 7

    static let glyphs: [Character: [UInt8]] = [
        "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        "3": [0b11110, 0b00001, 0b00001, 0b01110, 0b00001, 0b00001, 0b11110],
        "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        ":": [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000],
        " ": [0, 0, 0, 0, 0, 0, 0],
        "A": [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "G": [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        "I": [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "L": [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        "N": [0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001, 0b10001],
        "O": [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "R": [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        "S": [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        "F": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
    ]

    /// Draws `text` into a luma plane at (x, y), each font pixel a `scale`×`scale` block of
    /// `luma`, on a box of `background` with a one-glyph-pixel margin. Clipped to the plane.
    static func draw(
        _ text: String, into plane: UnsafeMutablePointer<UInt8>, stride: Int, planeWidth: Int, planeHeight: Int,
        x: Int, y: Int, scale: Int, luma: UInt8, background: UInt8
    ) {
        let advance = (width + 1) * scale
        let boxW = text.count * advance + scale
        let boxH = (height + 2) * scale
        fill(
            plane, stride: stride, planeWidth: planeWidth, planeHeight: planeHeight, x: x - scale, y: y - scale,
            w: boxW + scale, h: boxH, value: background)
        var cx = x
        for ch in text {
            if let rows = glyphs[ch] {
                for (r, bits) in rows.enumerated() {
                    for c in 0..<width where bits & (1 << (width - 1 - c)) != 0 {
                        fill(
                            plane, stride: stride, planeWidth: planeWidth, planeHeight: planeHeight,
                            x: cx + c * scale, y: y + r * scale, w: scale, h: scale, value: luma)
                    }
                }
            }
            cx += advance
        }
    }

    /// Width in pixels of `count` glyphs at `scale`.
    static func textWidth(_ count: Int, scale: Int) -> Int { count * (width + 1) * scale }

    static func fill(
        _ plane: UnsafeMutablePointer<UInt8>, stride: Int, planeWidth: Int, planeHeight: Int, x: Int, y: Int, w: Int,
        h: Int,
        value: UInt8
    ) {
        let x0 = max(0, x)
        let x1 = min(planeWidth, x + w)
        let y0 = max(0, y)
        let y1 = min(planeHeight, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 { (plane + row * stride + x0).update(repeating: value, count: x1 - x0) }
    }
}
