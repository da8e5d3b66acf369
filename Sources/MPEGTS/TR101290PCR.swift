import MediaTime

/// PCR arithmetic shared by the TR 101 290 analyzer's PCR checks and its stream clock.
enum PCRMath {
    /// The PCR wraps at 2^33 × 300 ticks of 27 MHz (ISO/IEC 13818-1 §2.4.3.5), about 26.5 h.
    static let modulus: Int64 = (Int64(1) << 33) * TS.pcrExtensionModulus
    /// PCR(i+1) − PCR(i) in ticks, across the wrap, as a signed step (−modulus/2 … modulus/2).
    @inline(__always) static func step(from a: Int64, to b: Int64) -> Int64 {
        var d = (b - a) % modulus
        if d < 0 { d += modulus }
        return d > modulus / 2 ? d - modulus : d
    }
    /// `ns` in 27 MHz ticks.
    @inline(__always) static func ticks(ns: Int64) -> Int64 {
        ns * MediaTime.systemClockHz / MediaTime.nanosecondsPerSecond
    }
}

/// The checks on one PCR PID: 2.3.a repetition, 2.3.b discontinuity, 2.4 accuracy (TR 101 290
/// §5.2.2). Positions are byte offsets in the stream (Int64). No allocation.
struct PCRTracker {
    /// Intervals per CBR/VBR verdict.
    static let window = 32
    /// More deviating intervals than this in a window make the stream VBR.
    static let vbrVotes = 8
    /// An interval whose byte rate differs from the long-term one by more than this fraction deviates.
    static let rateTolerance = 0.01
    /// Baseline (27 MHz ticks) the long-term rate needs before 2.4 is judged: 0.5 s.
    static let minBaseline: Int64 = MediaTime.systemClockHz / 2
    /// A PCR PID silent this long (analyzer clock, ns) counts as 2.3.a before its next PCR arrives (the
    /// ISO/IEC 13818-1 §2.7.2 bound; the 40 ms check itself uses the PCR values, immune to jitter).
    static let silenceLimit: Int64 = 100 * MediaTime.millisecond

    var pid = -1
    private(set) var started = false
    private var last: Int64 = 0  // raw PCR
    private var lastExtended: Int64 = 0  // unwrapped
    private var lastPosition: Int64 = 0
    private var lossMark: Int64 = 0
    /// Analyzer time after which silence is a 2.3.a error.
    var silenceDeadline: Int64 = 0
    /// The current gap was already counted by the silence check.
    var gapCounted = false
    // 2.4: the long-term line (anchor → last good PCR) and the last good PCR.
    private var anchored = false
    private var anchorExtended: Int64 = 0
    private var anchorPosition: Int64 = 0
    private var goodExtended: Int64 = 0
    private var goodPosition: Int64 = 0
    private var intervals = 0
    private var deviating = 0
    private(set) var applicability = TR101290Analyzer.PCRAccuracyApplicability.unknown

    /// What one PCR showed.
    struct Verdict {
        var repetition = false
        var discontinuity = false
        var accuracy = false
    }

    /// Forgets everything (a new PID).
    mutating func reset(pid: Int) {
        self = PCRTracker()
        self.pid = pid
    }

    /// One PCR: `pcr` (27 MHz), at byte `position`, analyzer time `now`; `flagged` is the packet's
    /// discontinuity_indicator; `losses` counts CC and sync errors so far (a loss since the last
    /// PCR makes byte positions unreliable: 2.4 restarts its line).
    mutating func pcr(
        _ pcr: Int64, position: Int64, now: Int64, flagged: Bool, losses: Int64, maxInterval: Int64
    ) -> Verdict {
        var v = Verdict()
        defer {
            last = pcr
            lastPosition = position
            lossMark = losses
            silenceDeadline = now + Self.silenceLimit
            gapCounted = false
        }
        guard started else {
            started = true
            lastExtended = pcr
            anchored = false
            return v
        }
        let step = PCRMath.step(from: last, to: pcr)
        lastExtended += step
        if flagged {
            anchored = false
            return v
        }
        if step < 0 || step > PCRMath.ticks(ns: TR101290.maxPCRDiscontinuity) {
            v.discontinuity = true
            anchored = false
            return v
        }
        if step > PCRMath.ticks(ns: maxInterval), !gapCounted { v.repetition = true }
        if losses != lossMark || position <= lastPosition {
            anchored = false
            return v
        }
        v.accuracy = accuracy(step: step, position: position)
        return v
    }

    /// 2.4: the PCR against the last good one advanced by the bytes since at the long-term rate.
    private mutating func accuracy(step: Int64, position: Int64) -> Bool {
        let extended = lastExtended
        guard anchored, goodPosition > anchorPosition else {
            if !anchored {
                anchored = true
                anchorExtended = extended
                anchorPosition = position
            }
            goodExtended = extended
            goodPosition = position
            return false
        }
        let slope = Double(goodExtended - anchorExtended) / Double(goodPosition - anchorPosition)
        let local = Double(step) / Double(position - lastPosition)
        if slope > 0, abs(local / slope - 1) > Self.rateTolerance { deviating += 1 }
        intervals += 1
        if intervals == Self.window {
            let was = applicability
            applicability = deviating > Self.vbrVotes ? .vbr : (was == .vbr ? .unknown : .cbr)
            intervals = 0
            deviating = 0
            if applicability == .cbr, was != .cbr {  // a fresh line for the constant rate
                anchorExtended = extended
                anchorPosition = position
            }
        }
        guard applicability == .cbr, goodExtended - anchorExtended >= Self.minBaseline else {
            goodExtended = extended
            goodPosition = position
            return false
        }
        let expected = Double(goodExtended) + slope * Double(position - goodPosition)
        let errorNs = (Double(extended) - expected) * 1e9 / Double(MediaTime.systemClockHz)
        if abs(errorNs) > Double(TR101290.pcrAccuracy) { return true }
        goodExtended = extended
        goodPosition = position
        return false
    }
}

/// Stream time for a file: ns since the first PCR of the clock PID, following the PCRs and, between
/// them (and across jumps and discontinuities), the byte position at the rate of the last interval.
/// Never goes back. No allocation.
struct StreamClock {
    /// The PID whose PCRs drive it (-1: the first PID that carries one).
    var pid = -1
    private(set) var started = false
    private var last: Int64 = 0
    private var lastPosition: Int64 = 0
    private var lastNs: Int64 = 0
    private var nsPerByte = 0.0
    private var returned: Int64 = 0
    /// The longest stretch, ns, the clock extrapolates from bytes.
    static let maxExtrapolation = 1e17

    /// The time at byte `position`, or nil before the first PCR.
    mutating func time(at position: Int64) -> Int64? {
        guard started else { return nil }
        // Clamped (10^17 ns, three years) so that no byte count and rate can overflow the conversion.
        let t = lastNs + Int64(min(Double(position - lastPosition) * nsPerByte, Self.maxExtrapolation))
        if t > returned { returned = t }
        return returned
    }

    /// A PCR of the clock PID at byte `position`.
    mutating func pcr(_ pcr: Int64, position: Int64, flagged: Bool) {
        defer {
            last = pcr
            lastPosition = position
        }
        guard started else {
            started = true
            return
        }
        let step = PCRMath.step(from: last, to: pcr)
        if flagged || step < 0 || step > PCRMath.ticks(ns: TR101290.maxPCRDiscontinuity) {
            lastNs = time(at: position) ?? lastNs
            return
        }
        let stepNs = MediaTime.nanoseconds(fromTicks27M: step)
        if position > lastPosition { nsPerByte = Double(stepNs) / Double(position - lastPosition) }
        lastNs += stepNs
    }
}
