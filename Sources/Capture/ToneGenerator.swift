#if canImport(Glibc)
import Glibc
#endif

/// A sine tone as interleaved signed 16-bit PCM, phase-continuous across calls.
public struct ToneGenerator: Sendable {
    /// Tone frequency, Hz.
    public let frequency: Double
    /// Sample rate, Hz.
    public let sampleRate: Double
    /// Channels, all carrying the same tone.
    public let channels: Int
    private let amplitude: Double
    private var phase: Double = 0

    /// `level` in dBFS (e.g. −20).
    public init(frequency: Double, level: Double, sampleRate: Int, channels: Int) {
        self.frequency = frequency
        self.sampleRate = Double(sampleRate)
        self.channels = channels
        self.amplitude = 32767 * pow(10, level / 20)
    }

    /// Writes `frames` sample frames (all channels the same tone) into `out`; returns bytes written.
    public mutating func render(frames: Int, into out: UnsafeMutableRawBufferPointer) -> Int {
        let samples = out.baseAddress!.assumingMemoryBound(to: Int16.self)
        let step = 2 * Double.pi * frequency / sampleRate
        for f in 0..<frames {
            let v = Int16(clamping: Int((sin(phase) * amplitude).rounded()))
            for c in 0..<channels { samples[f * channels + c] = v }
            phase += step
            if phase >= 2 * Double.pi { phase -= 2 * Double.pi }
        }
        return frames * channels * 2
    }
}
