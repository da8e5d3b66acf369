/// The one continuity_counter rule (ISO/IEC 13818-1 §2.4.3.3; TR 101 290 1.4 Continuity_count_error),
/// used by the gateway inputs, the analyzer (`rill probe`) and the tests:
///  - per PID, the counter increments (mod 16) with each packet that carries a payload
///    (adaptation_field_control 01 or 11);
///  - a packet without payload (10, adaptation field only) does not increment it: it repeats the
///    last value;
///  - a payload packet may be sent twice in a row (a duplicate, same counter), not three times;
///  - a packet with discontinuity_indicator set (§2.4.3.5) may jump and starts the count afresh,
///    as does the first packet of a PID (or after `reset()`);
///  - null packets (PID 0x1FFF) and packets with the reserved adaptation_field_control 00 (which
///    decoders discard) are not counted.
/// After an error the counter follows the value received. State is a fixed 8192-entry table (one
/// byte per PID) allocated in `init`: checking allocates nothing. One instance per stream, used by
/// one thread at a time.
public struct ContinuityCounter: Sendable {
    /// What one packet was, for the rule above.
    public enum Verdict: Sendable, Equatable {
        /// The counter followed (payload: previous + 1; adaptation field only: previous).
        case inOrder
        /// The first packet of its PID since `init`/`reset()`: nothing to compare with.
        case first
        /// A payload packet repeating the previous counter, the one duplicate allowed.
        case duplicate
        /// discontinuity_indicator set: the counter may jump (and did or did not).
        case discontinuity
        /// Null packet or adaptation_field_control 00: not counted.
        case exempt
        /// A Continuity_count_error (TR 101 290 1.4): lost, reordered or thrice-sent packets.
        case error
    }

    /// Number of PIDs (13 bits), the size of the per-PID table.
    public static let pidCount = 8192
    /// continuity_counter is 4 bits: it wraps at 16 (§2.4.3.3).
    public static let modulus: UInt8 = 16
    /// Per-PID state bits: a counter was seen; the last payload packet was a duplicate.
    private static let seenBit: UInt8 = 0x80
    private static let duplicateBit: UInt8 = 0x40

    /// Per PID: `seenBit`, `duplicateBit`, the last continuity_counter in the low 4 bits.
    private var state: [UInt8]
    /// Continuity_count_errors since `init` (not cleared by `reset()`).
    public private(set) var errors: Int64 = 0

    /// A checker that has seen no packet.
    public init() { state = [UInt8](repeating: 0, count: Self.pidCount) }

    /// Forgets every PID's counter (a new connection or source); keeps `errors`.
    public mutating func reset() {
        state.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Checks one packet and records its counter.
    public mutating func check(_ packet: TSPacket) -> Verdict {
        let pid = Int(packet.pid)
        guard pid != Int(PID.null), packet.adaptationFieldControl != 0 else { return .exempt }
        let cc = packet.continuityCounter
        let previous = state[pid]
        let verdict: Verdict
        if packet.discontinuityIndicator {
            verdict = .discontinuity
        } else if previous & Self.seenBit == 0 {
            verdict = .first
        } else {
            let last = previous & TSPacket.continuityCounterMask
            if !packet.hasPayload {
                verdict = cc == last ? .inOrder : .error
            } else if cc == (last + 1) % Self.modulus {
                verdict = .inOrder
            } else if cc == last, previous & Self.duplicateBit == 0 {
                verdict = .duplicate
            } else {
                verdict = .error
            }
        }
        switch verdict {
        case .duplicate: state[pid] = Self.seenBit | Self.duplicateBit | cc
        case .inOrder where !packet.hasPayload: break  // keeps a pending duplicate's mark
        default: state[pid] = Self.seenBit | cc
        }
        if verdict == .error { errors &+= 1 }
        return verdict
    }

    /// Checks the whole 188-byte packets of `ts` (a trailing partial packet and packets without
    /// the sync byte are skipped); returns the errors among them.
    public mutating func check(packets ts: UnsafeRawBufferPointer) -> Int {
        var found = 0
        var offset = 0
        while offset + TS.packetSize <= ts.count {
            if let packet = TSPacket(UnsafeRawBufferPointer(rebasing: ts[offset..<(offset + TS.packetSize)])),
                check(packet) == .error
            {
                found += 1
            }
            offset += TS.packetSize
        }
        return found
    }
}
