import Foundation

/// Per-channel peak and RMS in dBFS and EBU R128 momentary and short-term loudness in LUFS
/// (ITU-R BS.1770-4, EBU Tech 3341), from interleaved 48 kHz samples, in 100 ms blocks.
public struct LoudnessMeter: Sendable {
    /// EBU Tech 3341 ("EBU Mode"): the meters update at least 10 times a second; one block is 100 ms.
    public static let blockMilliseconds = 100
    /// EBU Tech 3341: momentary loudness integrates 400 ms (4 blocks)…
    static let momentaryBlocks = 4
    /// …and short-term loudness 3 s (30 blocks).
    static let shortTermBlocks = 30
    /// BS.1770-4 §Annex 1 eq. (2): L_K = −0.691 + 10 log10 Σ G_i z_i.
    static let loudnessOffset = -0.691
    /// BS.1770-4 Annex 1, gating of blocks: the absolute threshold Γa, −70 LKFS. A window quieter than
    /// this reads as no signal (a K-weighting filter ringing out after silence reaches −1000 and below).
    static let absoluteGate = -70.0
    /// BS.1770-4 Annex 1 Table 3: the weight of the left and right surround channels (L, R, C: 1.0).
    static let surroundWeight = 1.41

    /// One finished block's sums per channel.
    struct Block {
        var weighted: [Double]  // Σ (K-weighted x)²
        var plain: [Double]  // Σ x²
        var peak: [Double]  // max |x|
    }

    /// Interleaved channels per frame.
    public let channels: Int
    let weights: [Double]
    let blockFrames: Int
    var filters: [KWeighting]
    var current: Block
    var filled = 0  // frames in `current`
    var blocks: [Block] = []  // the last `shortTermBlocks`, oldest first

    /// A meter of `channels` at `sampleRate` (48 000 only: Tables 1 and 2 are given for it), nil otherwise.
    public init?(channels: Int, sampleRate: Int) {
        guard sampleRate == KWeighting.sampleRate, channels >= 1 else { return nil }
        self.channels = channels
        weights = Self.channelWeights(channels)
        blockFrames = sampleRate * Self.blockMilliseconds / 1000
        filters = Array(repeating: KWeighting(), count: channels)
        current = Block(
            weighted: Array(repeating: 0, count: channels), plain: Array(repeating: 0, count: channels),
            peak: Array(repeating: 0, count: channels))
    }

    /// G_i of BS.1770-4 Table 3. Six channels are taken in the order of ITU-R BS.775 / SMPTE ST 2036-2
    /// (L R C LFE Ls Rs): the LFE is not measured, the surrounds weigh 1.41. Any other count: 1.0 each.
    static func channelWeights(_ channels: Int) -> [Double] {
        guard channels == 6 else { return Array(repeating: 1.0, count: channels) }
        return [1.0, 1.0, 1.0, 0.0, surroundWeight, surroundWeight]
    }

    /// Feeds `frames` interleaved frames of samples in −1…1; returns whether a block was completed.
    @discardableResult
    public mutating func feed(frames: Int, sample: (_ frame: Int, _ channel: Int) -> Double) -> Bool {
        var completed = false
        for f in 0..<frames {
            for c in 0..<channels {
                let x = sample(f, c)
                let k = filters[c].process(x)
                current.weighted[c] += k * k
                current.plain[c] += x * x
                current.peak[c] = max(current.peak[c], abs(x))
            }
            filled += 1
            if filled == blockFrames {
                blocks.append(current)
                if blocks.count > Self.shortTermBlocks { blocks.removeFirst() }
                for c in 0..<channels { (current.weighted[c], current.plain[c], current.peak[c]) = (0, 0, 0) }
                filled = 0
                completed = true
            }
        }
        return completed
    }

    /// What the meter reads after the last complete block.
    public var reading: LevelReading {
        let recent = blocks.suffix(Self.momentaryBlocks)
        let n = Double(recent.count * blockFrames)
        let meters = (0..<channels).map { c in
            LevelReading.Channel(
                peakDBFS: Self.decibels(amplitude: blocks.last?.peak[c] ?? 0),
                rmsDBFS: recent.isEmpty ? nil : Self.decibels(power: recent.reduce(0) { $0 + $1.plain[c] } / n))
        }
        return LevelReading(
            channels: meters,
            momentaryLUFS: blocks.count >= Self.momentaryBlocks
                ? loudness(of: blocks.suffix(Self.momentaryBlocks)) : nil,
            shortTermLUFS: blocks.count >= Self.shortTermBlocks
                ? loudness(of: blocks.suffix(Self.shortTermBlocks)) : nil)
    }

    func loudness(of window: ArraySlice<Block>) -> Double? {
        let n = Double(window.count * blockFrames)
        let sum = (0..<channels).reduce(0.0) { s, c in s + weights[c] * window.reduce(0) { $0 + $1.weighted[c] } / n }
        guard sum > 0 else { return nil }
        let l = Self.loudnessOffset + 10 * log10(sum)
        return l >= Self.absoluteGate ? l : nil
    }

    /// 20 log10(amplitude) re full scale; nil for digital silence.
    static func decibels(amplitude a: Double) -> Double? { a > 0 ? 20 * log10(a) : nil }
    /// 10 log10(mean square) re full scale; nil for digital silence.
    static func decibels(power p: Double) -> Double? { p > 0 ? 10 * log10(p) : nil }
}

/// A reading of the meters: nil where there is no signal (digital silence) or not yet a full window.
public struct LevelReading: Sendable, Equatable {
    /// One channel's meters.
    public struct Channel: Sendable, Equatable {
        /// Sample peak of the last 100 ms block, dBFS.
        public var peakDBFS: Double?
        /// RMS over the last 400 ms, dBFS (a full-scale sine reads −3.01).
        public var rmsDBFS: Double?
    }
    /// One meter per channel, in the ring's channel order.
    public var channels: [Channel]
    /// EBU R128 momentary loudness (400 ms), LUFS; nil below −70 LUFS.
    public var momentaryLUFS: Double?
    /// EBU R128 short-term loudness (3 s), LUFS.
    public var shortTermLUFS: Double?
}
