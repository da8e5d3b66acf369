import MediaTime
import Testing

@Suite("MediaTime conversions")
struct MediaTimeTests {
    @Test("ns ↔ 90 kHz ↔ 27 MHz", arguments: [Int64(0), 1_000, 20_000_000, 1_000_000_000, 86_400_000_000_000, 3_000_000_000_000_000])
    func conversions(ns: Int64) {
        #expect(MediaTime.ticks90k(fromNanoseconds: ns) == Int64((Double(ns) * 9e-5).rounded(.down)) || ns > 1 << 52)
        #expect(MediaTime.ticks27M(fromNanoseconds: ns) == ns / 1000 * 27 + ns % 1000 * 27 / 1000)
        let t = MediaTime.ticks27M(fromNanoseconds: ns)
        #expect(abs(MediaTime.nanoseconds(fromTicks27M: t) - ns) <= 37)
        #expect(MediaTime.ticks27M(fromNanoseconds: 1_000_000_000) == MediaTime.systemClockHz)
        #expect(MediaTime.ticks90k(fromNanoseconds: 1_000_000_000) == MediaTime.ptsClockHz)
    }

    @Test("exact stepper has no drift over a year of packets")
    func stepper() {
        var s = ExactStepper(start: 0, numerator: 188 * 8 * 27_000_000, denominator: 6_000_000)
        let packets: Int64 = 3_989_361  // ≈ 1000 s at 6 Mb/s
        for _ in 0..<packets { s.advance() }
        #expect(s.whole == packets * 188 * 8 * 27_000_000 / 6_000_000)
    }

    @Test("frame times are exact for 30000/1001")
    func frameRate() {
        let r = FrameRate(30000, 1001)
        #expect(r.nanoseconds(ofFrame: 30000) == 1001 * 1_000_000_000)
    }
}

@Suite("Latency histogram")
struct HistogramTests {
    @Test("quantiles within one bucket (6.25 %) of the truth")
    func quantiles() {
        var h = LatencyHistogram()
        for v in 1...100_000 { h.record(Int64(v) * 100) }  // 100 ns … 10 ms, uniform
        for (q, truth) in [(0.5, 5_000_000.0), (0.99, 9_900_000.0), (0.01, 100_000.0)] {
            let got = Double(h.quantile(q))
            #expect(abs(got - truth) / truth < 0.0625, "q\(q): \(got) vs \(truth)")
        }
        #expect(h.max == 10_000_000 && h.min == 100 && h.count == 100_000)
    }

    @Test("a single value is reported exactly")
    func single() {
        var h = LatencyHistogram()
        h.record(6_171_000)
        #expect(h.quantile(0.5) == 6_171_000 && h.quantile(0.99) == 6_171_000)
    }
}
