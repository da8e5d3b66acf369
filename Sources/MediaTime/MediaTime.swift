/// Rill's one clock: every timestamp in the box is `Int64` nanoseconds of `CLOCK_MONOTONIC`
/// (DESIGN.md, principle 3). 90 kHz PTS/DTS and 27 MHz PCR are derived from it at the mux.
///
/// `Int64` and not `Int` because ARMv7 boards have a 32-bit `Int`; `Int64` ns wrap after 292 years.
public enum MediaTime {
    /// Nanoseconds per second.
    public static let nanosecondsPerSecond: Int64 = 1_000_000_000
    /// One millisecond in ns.
    public static let millisecond: Int64 = 1_000_000
    /// One microsecond in ns.
    public static let microsecond: Int64 = 1_000
    /// PTS/DTS clock, ISO/IEC 13818-1 §2.4.3.7 (system clock / 300).
    public static let ptsClockHz: Int64 = 90_000
    /// System clock frequency for PCR, ISO/IEC 13818-1 §2.4.2.1.
    public static let systemClockHz: Int64 = 27_000_000
    /// PTS/DTS are 33-bit fields, ISO/IEC 13818-1 §2.4.3.7.
    public static let ptsModulus: Int64 = 1 << 33

    /// ns → 90 kHz ticks (rounded down), without overflow for any non-negative `Int64` ns.
    @inlinable
    public static func ticks90k(fromNanoseconds ns: Int64) -> Int64 {
        let (q, r) = ns.quotientAndRemainder(dividingBy: 100_000)  // 1 tick = 100000/9 ns
        return q * 9 + (r * 9) / 100_000
    }

    /// 90 kHz ticks → ns (rounded down).
    @inlinable
    public static func nanoseconds(fromTicks90k ticks: Int64) -> Int64 {
        let (q, r) = ticks.quotientAndRemainder(dividingBy: 9)
        return q * 100_000 + (r * 100_000) / 9
    }

    /// ns → 27 MHz ticks (rounded down).
    @inlinable
    public static func ticks27M(fromNanoseconds ns: Int64) -> Int64 {
        let (q, r) = ns.quotientAndRemainder(dividingBy: 1_000)  // 1000 ns = 27 ticks
        return q * 27 + (r * 27) / 1_000
    }

    /// 27 MHz ticks → ns (rounded down).
    @inlinable
    public static func nanoseconds(fromTicks27M ticks: Int64) -> Int64 {
        let (q, r) = ticks.quotientAndRemainder(dividingBy: 27)
        return q * 1_000 + (r * 1_000) / 27
    }

    /// A 33-bit PTS/DTS value for `ns` (wraps every ≈ 26.5 h, as the field does).
    @inlinable
    public static func pts33(fromNanoseconds ns: Int64) -> UInt64 {
        UInt64(ticks90k(fromNanoseconds: ns) & (ptsModulus - 1))
    }
}

/// An exact rational step accumulator: adds `numerator / denominator` per step with no drift,
/// e.g. 188·8·27 000 000 / muxrate 27 MHz ticks per TS packet. Used where a rounding error per
/// packet would grow without bound over a year of uptime.
public struct ExactStepper: Sendable {
    /// Whole units accumulated.
    public private(set) var whole: Int64
    private var remainder: Int64
    private let stepWhole: Int64
    private let stepRemainder: Int64
    private let denominator: Int64

    /// Starts at `start` and advances by `numerator / denominator` per `advance()`.
    public init(start: Int64, numerator: Int64, denominator: Int64) {
        precondition(denominator > 0)
        self.whole = start
        self.remainder = 0
        self.stepWhole = numerator / denominator
        self.stepRemainder = numerator % denominator
        self.denominator = denominator
    }

    /// Adds one step.
    @inlinable
    public mutating func advance() {
        advanceInternal()
    }

    @usableFromInline
    mutating func advanceInternal() {
        whole += stepWhole
        remainder += stepRemainder
        if remainder >= denominator {
            remainder -= denominator
            whole += 1
        }
    }
}

/// Frame rate as a rational number of frames per second.
public struct FrameRate: Sendable, Hashable, CustomStringConvertible {
    /// Frames …
    public var numerator: Int64
    /// … per this many seconds.
    public var denominator: Int64

    /// `numerator / denominator` frames per second.
    public init(_ numerator: Int64, _ denominator: Int64 = 1) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The start of frame `index` relative to frame 0, in ns, exactly (no accumulated rounding).
    @inlinable
    public func nanoseconds(ofFrame index: Int64) -> Int64 {
        let (q, r) = index.quotientAndRemainder(dividingBy: numerator)
        return q * denominator * MediaTime.nanosecondsPerSecond
            + r * denominator * MediaTime.nanosecondsPerSecond / numerator
    }

    /// One frame period in ns (rounded down).
    public var frameDuration: Int64 { denominator * MediaTime.nanosecondsPerSecond / numerator }

    /// "N" for an integer rate, "N/D" otherwise (e.g. "30000/1001").
    public var description: String {
        denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)"
    }
}

/// A sample-exact audio timeline: the time of sample `n` at `sampleRate`, in ns.
@inlinable
public func nanoseconds(ofSample index: Int64, sampleRate: Int64) -> Int64 {
    let (q, r) = index.quotientAndRemainder(dividingBy: sampleRate)
    return q * MediaTime.nanosecondsPerSecond + r * MediaTime.nanosecondsPerSecond / sampleRate
}
