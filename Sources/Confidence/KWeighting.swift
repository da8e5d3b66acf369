/// One second-order IIR section in direct form II transposed (a0 = 1).
struct Biquad: Sendable {
    let b0, b1, b2, a1, a2: Double
    private var z1 = 0.0
    private var z2 = 0.0

    init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        (self.b0, self.b1, self.b2, self.a1, self.a2) = (b0, b1, b2, a1, a2)
    }

    mutating func process(_ x: Double) -> Double {
        let y = b0 * x + z1
        z1 = b1 * x - a1 * y + z2
        z2 = b2 * x - a2 * y
        return y
    }
}

/// The K-weighting of ITU-R BS.1770-4 Annex 1 at 48 kHz: the pre-filter (a high shelf for the
/// acoustic effect of the head, §Annex 1 Table 1) then the RLB high-pass (Table 2).
struct KWeighting: Sendable {
    /// The sample rate the coefficients of Tables 1 and 2 are given for.
    static let sampleRate = 48_000

    /// BS.1770-4 Annex 1, Table 1: the stage 1 pre-filter.
    static let preFilter = Biquad(
        b0: 1.535_124_859_586_97, b1: -2.691_696_189_406_38, b2: 1.198_392_810_852_85,
        a1: -1.690_659_293_182_41, a2: 0.732_480_774_215_85)
    /// BS.1770-4 Annex 1, Table 2: the stage 2 RLB weighting curve (a high-pass).
    static let rlbFilter = Biquad(
        b0: 1.0, b1: -2.0, b2: 1.0, a1: -1.990_047_454_833_98, a2: 0.990_072_250_366_21)

    private var stage1 = KWeighting.preFilter
    private var stage2 = KWeighting.rlbFilter

    /// A filter at rest.
    init() {}

    /// The next K-weighted sample.
    mutating func process(_ x: Double) -> Double { stage2.process(stage1.process(x)) }
}
