import Foundation
import Testing

@testable import Confidence

/// The meters against signals whose readings are known: EBU Tech 3341's minimum-requirement cases
/// and plain arithmetic for peak and RMS.
@Suite("Level and loudness meter")
struct LoudnessMeterTests {
    /// Feeds `seconds` of a sine of `frequency` Hz at `dBFS` peak to `channels` (others silent).
    static func sine(
        _ meter: inout LoudnessMeter, dBFS: Double, frequency: Double = 1000, seconds: Double, channels: Set<Int>
    ) {
        let a = pow(10, dBFS / 20)
        let frames = Int(seconds * 48_000)
        meter.feed(frames: frames) { f, c in
            channels.contains(c) ? a * sin(2 * .pi * frequency * Double(f) / 48_000) : 0
        }
    }

    @Test("EBU Tech 3341 cases 1 and 2: a stereo 1 kHz sine at −23 / −33 dBFS reads −23.0 / −33.0 LUFS ± 0.1")
    func ebuMinimumRequirements() throws {
        for level in [-23.0, -33.0] {
            var m = try #require(LoudnessMeter(channels: 2, sampleRate: 48_000))
            Self.sine(&m, dBFS: level, seconds: 5, channels: [0, 1])
            let r = m.reading
            let momentary = try #require(r.momentaryLUFS)
            let shortTerm = try #require(r.shortTermLUFS)
            #expect(abs(momentary - level) <= 0.1, "M \(momentary) for \(level)")
            #expect(abs(shortTerm - level) <= 0.1, "S \(shortTerm) for \(level)")
        }
    }

    @Test("the test source's tone, −20 dBFS in both channels: peak −20.0, RMS −23.0 dBFS per channel")
    func peakAndRMS() throws {
        var m = try #require(LoudnessMeter(channels: 2, sampleRate: 48_000))
        Self.sine(&m, dBFS: -20, seconds: 1, channels: [0, 1])
        for c in m.reading.channels {
            #expect(abs((c.peakDBFS ?? 0) + 20) < 0.01, "\(c)")
            #expect(abs((c.rmsDBFS ?? 0) + 23.01) < 0.01, "\(c)")
        }
    }

    @Test("digital silence reads nil (no −∞ in JSON); a window not yet full has no loudness")
    func silenceAndWarmUp() throws {
        var m = try #require(LoudnessMeter(channels: 2, sampleRate: 48_000))
        #expect(m.reading.momentaryLUFS == nil && m.reading.channels.allSatisfy { $0.peakDBFS == nil })
        Self.sine(&m, dBFS: -20, seconds: 0.3, channels: [0])
        #expect(m.reading.momentaryLUFS == nil, "400 ms window after 300 ms")
        #expect(m.reading.channels[0].peakDBFS != nil, "the peak meter moves from the first block")
        Self.sine(&m, dBFS: -20, seconds: 0.2, channels: [0])
        #expect(m.reading.momentaryLUFS != nil)
        #expect(m.reading.shortTermLUFS == nil, "3 s window after 0.5 s")
        #expect(m.reading.channels[1].peakDBFS == nil && m.reading.channels[1].rmsDBFS == nil)
        m.feed(frames: 48_000) { _, _ in 0 }
        #expect(m.reading.momentaryLUFS == nil, "after 1 s of silence")
    }

    @Test("the 5.1 weights: LFE not measured, surrounds +1.5 dB (G = 1.41)")
    func surroundWeights() throws {
        func momentary(_ channel: Int) throws -> Double {
            var m = try #require(LoudnessMeter(channels: 6, sampleRate: 48_000))
            Self.sine(&m, dBFS: -20, seconds: 1, channels: [channel])
            return try #require(m.reading.momentaryLUFS)
        }
        let front = try momentary(0)
        #expect(abs(try momentary(2) - front) < 0.01)
        #expect(abs(try momentary(4) - front - 10 * log10(1.41)) < 0.01)
        var lfe = try #require(LoudnessMeter(channels: 6, sampleRate: 48_000))
        Self.sine(&lfe, dBFS: -20, frequency: 60, seconds: 1, channels: [3])
        #expect(lfe.reading.momentaryLUFS == nil, "LFE alone")
        #expect(lfe.reading.channels[3].peakDBFS != nil, "its peak meter still moves")
    }

    @Test("only 48 kHz (the rate BS.1770-4's coefficients are given for)")
    func sampleRates() {
        #expect(LoudnessMeter(channels: 2, sampleRate: 44_100) == nil)
        #expect(LoudnessMeter(channels: 0, sampleRate: 48_000) == nil)
    }
}
