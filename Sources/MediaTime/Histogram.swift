/// A fixed-memory latency histogram in ns with log-linear buckets: exact below 32 ns, then 16
/// buckets per power of two (≤ 6.25 % wide); records without allocating, so it can sit on a
/// per-packet path. Quantiles report the bucket's midpoint, clipped to the observed min/max.
public struct LatencyHistogram: Sendable {
    private static let linear = 32
    private static let perOctave = 16
    private static let bucketCount = linear + 60 * perOctave
    private var counts: [UInt64]
    /// Number of values recorded.
    public private(set) var count: UInt64 = 0
    /// Largest value recorded, ns.
    public private(set) var max: Int64 = 0
    /// Smallest value recorded, ns.
    public private(set) var min: Int64 = .max
    /// Sum of values, ns (for the mean).
    public private(set) var sum: Int64 = 0

    /// An empty histogram.
    public init() {
        counts = [UInt64](repeating: 0, count: Self.bucketCount)
    }

    static func bucket(_ v: Int64) -> Int {
        let x = UInt64(Swift.max(v, 0))
        if x < UInt64(linear) { return Int(x) }
        let highest = 63 - x.leadingZeroBitCount  // ≥ 5
        let shift = highest - 4
        let top = Int(x >> UInt64(shift))  // 16…31: the leading bit and the next four
        return Swift.min(linear + (shift - 1) * perOctave + (top - 16), bucketCount - 1)
    }

    /// [lower, upper) of bucket `b`, ns.
    static func range(ofBucket b: Int) -> (Int64, Int64) {
        if b < linear { return (Int64(b), Int64(b) + 1) }
        let k = b - linear
        let shift = k / perOctave + 1
        let top = Int64(k % perOctave + 16)
        return (top << Int64(shift), (top + 1) << Int64(shift))
    }

    /// The non-empty buckets as (midpoint ns, count), ascending: the histogram's export form.
    public var nonEmptyBuckets: [(ns: Int64, count: UInt64)] {
        counts.indices.compactMap { i in
            guard counts[i] > 0 else { return nil }
            let (lo, hi) = Self.range(ofBucket: i)
            return ((lo + hi) / 2, counts[i])
        }
    }

    /// Records one value in ns (negative values count as 0).
    public mutating func record(_ ns: Int64) {
        counts[Self.bucket(ns)] &+= 1
        count &+= 1
        sum &+= ns
        if ns > max { max = ns }
        if ns < min { min = ns }
    }

    /// Adds all of `other`'s values.
    public mutating func merge(_ other: LatencyHistogram) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
        count &+= other.count
        sum &+= other.sum
        max = Swift.max(max, other.max)
        min = Swift.min(min, other.min)
    }

    /// The value at quantile `q` (0…1), ns, to bucket resolution.
    public func quantile(_ q: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let target = Swift.max(UInt64((Double(count) * q).rounded(.up)), 1)
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += c
            if seen >= target {
                let (lo, hi) = Self.range(ofBucket: i)
                return Swift.min(Swift.max((lo + hi) / 2, min), max)
            }
        }
        return max
    }

    /// Forgets every value.
    public mutating func reset() {
        for i in counts.indices { counts[i] = 0 }
        count = 0
        max = 0
        min = .max
        sum = 0
    }
}
