import MPEGTS
import MediaTime
import Testing

@Suite("MediaTime conversions")
struct MediaTimeTests {
    @Test(
        "ns ↔ 90 kHz ↔ 27 MHz",
        arguments: [Int64(0), 1_000, 20_000_000, 1_000_000_000, 86_400_000_000_000, 3_000_000_000_000_000])
    func conversions(ns: Int64) {
        #expect(MediaTime.ticks90k(fromNanoseconds: ns) == Int64((Double(ns) * 9e-5).rounded(.down)) || ns > 1 << 52)
        #expect(MediaTime.ticks27M(fromNanoseconds: ns) == ns / 1000 * 27 + ns % 1000 * 27 / 1000)
        let t = MediaTime.ticks27M(fromNanoseconds: ns)
        #expect(abs(MediaTime.nanoseconds(fromTicks27M: t) - ns) <= 37)
        #expect(MediaTime.ticks27M(fromNanoseconds: 1_000_000_000) == MediaTime.systemClockHz)
        #expect(MediaTime.ticks90k(fromNanoseconds: 1_000_000_000) == MediaTime.ptsClockHz)
    }

    /// Muxrates (b/s) for the PCR stepper: 7 Mb/s (a period of 7 packets), 38.81 Mb/s (3881 packets)
    /// and ATSC's 19.392658 Mb/s (9 696 329 packets before the remainder comes back to 0).
    @Test("exact stepper has no drift over a year of packets", arguments: [Int64(7_000_000), 38_810_000, 19_392_658])
    func stepper(muxrate: Int64) {
        // 27 MHz ticks per TS packet = 188·8·27 000 000 / muxrate, as TSMux's PCR stepper.
        let num = Int64(188 * 8) * MediaTime.systemClockHz
        let den = muxrate
        func gcd(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? a : gcd(b, a % b) }
        let period = den / gcd(num, den)  // packets after which the stepper's remainder is 0 again
        let periodTicks = num / gcd(num, den)  // … having advanced exactly this many ticks
        /// floor(n · num / den) in 128-bit arithmetic: the truth the stepper must match.
        func exact(_ n: Int64) -> Int64 { den.dividingFullWidth(n.multipliedFullWidth(by: num)).quotient }
        /// The first packet index n with exact(n) ≥ t.
        func firstPacket(reaching t: Int64) -> Int64 {
            let (q, r) = num.dividingFullWidth(t.multipliedFullWidth(by: den))
            return q + (r > 0 ? 1 : 0)
        }
        // The clock jumped: a box up for 400 days starts the stepper there.
        let start = MediaTime.ticks27M(fromNanoseconds: 400 * 86_400 * MediaTime.nanosecondsPerSecond)
        func stepper(at k: Int64) -> ExactStepper {  // the state after k whole periods
            ExactStepper(start: start + k * periodTicks, numerator: num, denominator: den)
        }

        // 1. One whole period, stepped: every value exact, and exactly `periodTicks` at its end,
        //    with the remainder back to 0 (the next steps match a stepper freshly started there).
        //    So the state after k periods is `stepper(at: k)` for any k: a year can be jumped.
        var s = stepper(at: 0)
        var mismatches = 0
        for i in 1...period {
            s.advance()
            if s.whole != start + exact(i) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(s.whole == start + periodTicks)
        var fresh = stepper(at: 1)
        for _ in 0..<min(period, 10_000) {
            s.advance()
            fresh.advance()
            if s.whole != fresh.whole { mismatches += 1 }
        }
        #expect(mismatches == 0)

        // 2. A year (365.25 days) of packets: jump over its whole periods, step the rest.
        let yearTicks = Int64(31_557_600) * MediaTime.systemClockHz
        let packets = firstPacket(reaching: yearTicks)
        var y = stepper(at: packets / period)
        for _ in 0..<(packets % period) { y.advance() }
        #expect(y.whole == start + exact(packets))
        #expect(y.whole - start >= yearTicks && y.whole - start <= yearTicks + num / den + 1)

        // 3. The PCR (33-bit base × 300 + 9-bit extension, ISO/IEC 13818-1 §2.4.2.2) wraps every
        //    2³³·300 ticks ≈ 26.5 h: 330 or 331 times a year. Step across each wrap from the last
        //    period boundary before it (for ATSC's 9.7-million-packet period, the first wrap only)
        //    and check the fields the mux writes: one packet's worth forward, modulo the wrap.
        let modulus = MediaTime.ptsModulus * TS.pcrExtensionModulus
        let stepTicks = num / den
        var wrapsCrossed = 0
        var w = start / modulus + 1
        while w * modulus <= start + yearTicks && (period <= 10_000 || wrapsCrossed == 0) {
            let n = firstPacket(reaching: w * modulus - start)
            let k = (n - 1) / period
            var st = stepper(at: k)
            var i = k * period
            var previous = st.whole
            while i < n + 2 {
                st.advance()
                i += 1
                if st.whole != start + exact(i) { mismatches += 1 }
                let before = previous % modulus
                let after = st.whole % modulus
                let base = (st.whole / TS.pcrExtensionModulus) & (MediaTime.ptsModulus - 1)
                let ext = st.whole % TS.pcrExtensionModulus
                if base * TS.pcrExtensionModulus + ext != after { mismatches += 1 }
                let delta = (after - before + modulus) % modulus
                if delta != stepTicks && delta != stepTicks + 1 { mismatches += 1 }
                if i == n {
                    #expect(
                        after < before && base <= (stepTicks + 1) / TS.pcrExtensionModulus,
                        "wrap \(w): PCR \(before) → \(after)")
                    wrapsCrossed += 1
                }
                previous = st.whole
            }
            w += 1
        }
        #expect(mismatches == 0)
        #expect(wrapsCrossed >= (period <= 10_000 ? 330 : 1), "\(wrapsCrossed) PCR wraps crossed")
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
