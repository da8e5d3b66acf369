/// A fixed-memory latency histogram in ns with log-linear buckets (≈ 3 % resolution from 100 ns to
/// 100 s); records without allocating, so it can sit on a per-packet path.
public struct LatencyHistogram: Sendable {
    private static let subBuckets = 32
    private static let octaves = 40
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
        counts = [UInt64](repeating: 0, count: Self.subBuckets * Self.octaves)
    }

    private static func bucket(_ v: Int64) -> Int {
        let x = UInt64(Swift.max(v, 0))
        if x < UInt64(subBuckets) { return Int(x) }
        let octave = 63 - x.leadingZeroBitCount - 4  // top 5 bits select the sub-bucket
        let sub = Int((x >> UInt64(octave)) & UInt64(subBuckets - 1))
        return Swift.min((octave + 1) * subBuckets + sub, subBuckets * octaves - 1)
    }

    private static func lowerBound(ofBucket b: Int) -> Int64 {
        if b < subBuckets { return Int64(b) }
        let octave = b / subBuckets - 1
        let sub = b % subBuckets
        return Int64(subBuckets + sub) << Int64(octave)
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
        let target = UInt64((Double(count) * q).rounded(.up))
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += c
            if seen >= Swift.max(target, 1) { return Swift.min(Self.lowerBound(ofBucket: i), max) }
        }
        return max
    }

    /// Forgets every value.
    public mutating func reset() {
        for i in counts.indices { counts[i] = 0 }
        count = 0; max = 0; min = .max; sum = 0
    }
}
