import Capture
import Testing

/// The drift estimator against a simulated sound card: a crystal off by a known ppm, period
/// timestamps with scheduling jitter, as snd_pcm_htimestamp would report them.
@Suite("Audio clock drift estimator")
struct DriftEstimatorTests {
    /// A deterministic pseudo-random jitter source (xorshift), so the test cannot flake.
    struct Jitter {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next(maxNs: Int64) -> Int64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int64(state % UInt64(2 * maxNs + 1)) - maxNs
        }
    }

    @Test(
        "follows a card running at +150 ppm / −80 ppm to within 100 µs over 10 minutes", arguments: [150.0, -80.0, 0.0])
    func tracksDrift(ppm: Double) {
        var e = DriftEstimator(nominalRate: 48_000)
        var jitter = Jitter()
        let trueRate = 48_000 * (1 + ppm / 1e6)
        let start: Int64 = 5_000_000_000_000
        func trueTime(_ sample: Int64) -> Int64 { start + Int64((Double(sample) / trueRate * 1e9).rounded()) }
        var worst: Int64 = 0
        let period: Int64 = 480
        for p in 1...(10 * 60 * 100) {  // 10 min of 10 ms periods
            let sample = Int64(p) * period
            e.add(sample: sample, time: trueTime(sample) + jitter.next(maxNs: 300_000))  // ±300 µs
            if p > 200 {  // after the first two seconds
                let next = sample + period
                worst = max(worst, abs(e.time(ofSample: next) - trueTime(next)))
            }
        }
        #expect(worst < 100_000, "worst error \(worst / 1000) µs")
        #expect(abs(e.ppm - ppm) < 5, "estimated \(e.ppm) ppm, true \(ppm)")
    }

    @Test("consecutive periods get monotonic, nearly nominal timestamps despite jitter")
    func smooth() {
        var e = DriftEstimator(nominalRate: 48_000)
        var jitter = Jitter()
        var last: Int64? = nil
        for p in 1...3000 {
            let sample = Int64(p) * 480
            e.add(sample: sample, time: Int64(p) * 10_000_000 + jitter.next(maxNs: 500_000))
            let t = e.time(ofSample: sample)
            if let last, p > 200 {
                let step = t - last
                #expect(abs(step - 10_000_000) < 50_000, "period \(p): step \(step) ns")
            }
            last = t
        }
    }

    @Test("an absurd slope is clamped and a reset forgets the old timeline")
    func clampAndReset() {
        var e = DriftEstimator(nominalRate: 48_000)
        for p in 1...500 { e.add(sample: Int64(p) * 480, time: Int64(p) * 20_000_000) }  // claims 24 kHz
        #expect(abs(e.ppm) <= DriftEstimator.maxDeviationPPM + 1)
        e.reset()
        #expect(e.count == 0)
        e.add(sample: 0, time: 42)
        #expect(e.time(ofSample: 48_000) == 42 + 1_000_000_000)
    }
}
