/// The audio sample clock against CLOCK_MONOTONIC. A capture card's crystal is never exactly
/// 48 kHz (±100 ppm is common: 6 ms per minute), so stamping audio by counting samples would
/// drift away from the video's kernel timestamps. Each period gives one observation — sample
/// index `n` was at the hardware pointer at monotonic time `t` (ALSA's htimestamp) — and a
/// least-squares line through the last `window` observations maps any sample index to its
/// monotonic time. The line averages out scheduling jitter of the timestamps (hundreds of µs)
/// while following the clock's slow drift, so audio stays locked to video indefinitely.
public struct DriftEstimator: Sendable {
    /// Samples per second the device claims.
    public let nominalRate: Double
    /// Observations kept: 10 s at 10 ms periods.
    public let window: Int
    /// A fitted rate further than this from nominal is not a clock error but a bug or a jump;
    /// the slope is clamped (1000 ppm = 0.1 %).
    public static let maxDeviationPPM = 1000.0

    private var indices: [Int64] = []
    private var times: [Int64] = []
    private var head = 0
    private var slope: Double  // ns per sample
    private var x0: Int64 = 0  // reference point of the fitted line
    private var y0: Double = 0

    /// An estimator starting at `nominalRate` samples/s, fitting the last `window` (≥ 2) observations.
    public init(nominalRate: Double, window: Int = 1000) {
        self.nominalRate = nominalRate
        self.window = max(2, window)
        slope = 1e9 / nominalRate
    }

    /// Observations so far (up to `window`).
    public var count: Int { indices.count }

    /// The measured clock error, parts per million (+: the device runs fast).
    public var ppm: Double { (1e9 / slope / nominalRate - 1) * 1e6 }

    /// Forgets everything (device reopened: a new sample timeline).
    public mutating func reset() {
        indices.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        head = 0
        slope = 1e9 / nominalRate
    }

    /// Adds the observation "sample `index` at monotonic `time` ns" and refits.
    public mutating func add(sample index: Int64, time: Int64) {
        if indices.count < window {
            indices.append(index)
            times.append(time)
        } else {
            indices[head] = index
            times[head] = time
            head = (head + 1) % window
        }
        fit()
    }

    /// The monotonic time of sample `index`, ns.
    public func time(ofSample index: Int64) -> Int64 {
        guard !indices.isEmpty else { return 0 }
        return Int64((y0 + Double(index - x0) * slope).rounded())
    }

    private mutating func fit() {
        let n = indices.count
        // Centre on the newest observation so Doubles keep ns precision over days of samples.
        let refX = indices[(head + n - 1) % n]
        let refY = times[(head + n - 1) % n]
        var sx = 0.0
        var sy = 0.0
        for i in 0..<n {
            sx += Double(indices[i] - refX)
            sy += Double(times[i] - refY)
        }
        let mx = sx / Double(n)
        let my = sy / Double(n)
        var sxx = 0.0
        var sxy = 0.0
        for i in 0..<n {
            let dx = Double(indices[i] - refX) - mx
            sxx += dx * dx
            sxy += dx * (Double(times[i] - refY) - my)
        }
        let nominal = 1e9 / nominalRate
        // Fewer than a second of observations: keep the nominal slope, fit only the offset.
        if n >= 2 && sxx > 0 && Double(indices.max()! - indices.min()!) >= nominalRate {
            let limit = nominal * Self.maxDeviationPPM / 1e6
            slope = min(max(sxy / sxx, nominal - limit), nominal + limit)
        }
        x0 = refX
        y0 = Double(refY) + my - mx * slope
    }
}
