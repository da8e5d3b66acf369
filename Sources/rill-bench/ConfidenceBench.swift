import Confidence
import MediaTime

#if canImport(Glibc)
import Glibc
#endif

/// rilld's level monitor per second of audio, without a ring: 16-bit samples of the test tone
/// through the meters (K-weighting, peak, RMS) and a reading every 100 ms block, as the monitor
/// does. Reports CPU time per second of audio: the share of one core it costs.
func benchLevels(channels: Int, seconds: Int) {
    let rate = 48_000
    let block = rate / 10
    var samples = [Int16](repeating: 0, count: block * channels)
    for f in 0..<block {
        let v = Int16(3277 * sin(2 * Double.pi * 1000 * Double(f) / Double(rate)))  // −20 dBFS
        for c in 0..<channels { samples[f * channels + c] = v }
    }
    guard var meter = LoudnessMeter(channels: channels, sampleRate: rate) else { return }
    var readings = 0
    let start = threadCPUNow()
    samples.withUnsafeBufferPointer { s in
        for _ in 0..<(seconds * 10) {
            if meter.feed(frames: block, sample: { f, c in Double(s[f * channels + c]) / 32_768 }) {
                readings += meter.reading.momentaryLUFS == nil ? 0 : 1
            }
        }
    }
    let cpu = Double(threadCPUNow() - start) / 1e9
    print(
        "levels \(channels) ch 48 kHz, \(seconds) s of audio: CPU \(fixed(cpu * 1000 / Double(seconds), 2)) ms per second of audio = \(fixed(cpu / Double(seconds) * 100, 3)) % of one core (\(readings) readings)"
    )
}

/// The source thumbnail's work per picture, without a ring: a 1280×720 I420 frame of bars scaled
/// to 320 wide and compressed to JPEG, as rilld does at most once a second per width.
func benchThumbnail(pictures: Int) {
    let (w, h) = (1280, 720)
    var frame = [UInt8](repeating: 128, count: w * h * 3 / 2)
    for r in 0..<h { for x in 0..<w { frame[r * w + x] = UInt8(16 + (x * 7 / w) * 31) } }
    var bytes = 0
    let start = threadCPUNow()
    frame.withUnsafeBytes { f in
        for _ in 0..<pictures {
            bytes += (try? Thumbnail.jpeg(frame: f, width: w, height: h, nv12: false, targetWidth: 320))?.count ?? 0
        }
    }
    let ms = Double(threadCPUNow() - start) / 1e6 / Double(pictures)
    print(
        "thumbnail 1280x720 → 320x180 JPEG: CPU \(fixed(ms, 2)) ms per picture = \(fixed(ms / 10, 3)) % of one core at 1 a second (\(bytes / pictures) bytes)"
    )
}
