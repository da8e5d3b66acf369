import FEC
import RTP

/// 2022-1 recovery measured against its expected figures: random loss hitting media and FEC
/// packets alike (0.5, 1, 2 %), and bursts of L consecutive media packets, through the encoder and
/// the RecoveryBuffer that inputs use. Reports the residual loss (media packets still missing).
func benchFECRecovery() {
    struct Rng {  // SplitMix64: reproducible runs
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }
    func run(l: Int, d: Int, rowFEC: Bool, packets: Int, drop: (Int, Bool) -> Bool) -> (lost: Int, dropped: Int) {
        var enc = FECEncoder(parameters: try! FECParameters(columns: l, rows: d, rowFEC: rowFEC))
        var rb = RecoveryBuffer(holdPackets: 2 * l * d, holdNs: 0)
        let payload = [UInt8](repeating: 0x47, count: 1316)
        var dropped = 0
        var fecIndex = 0
        for i in 0..<packets {
            let h = RTPHeader(
                sequenceNumber: UInt16(truncatingIfNeeded: i), timestamp: UInt32(truncatingIfNeeded: i * 900))
            payload.withUnsafeBytes { p in
                var fec: [[UInt8]] = []
                enc.add(header: h, payload: p) { _, pkt in fec.append(Array(pkt[RTPHeader.size...])) }
                if drop(i, false) { dropped += 1 } else { _ = rb.insert(header: h, payload: p, arrival: 0) }
                for f in fec {
                    fecIndex += 1
                    if !drop(fecIndex, true) { f.withUnsafeBytes { try? rb.insertFEC($0, arrival: 0) } }
                }
            }
            rb.release(now: 0) { _, _ in }
        }
        rb.release(now: 0, force: true) { _, _ in }
        return (Int(rb.statistics.lost), dropped)
    }
    let (l, d) = (10, 10)
    let n = 1_000_000
    print("2022-1 \(l)×\(d), \(n) media packets per case; loss hits media and FEC packets alike")
    for p in [0.005, 0.01, 0.02] {
        for rowFEC in [false, true] {
            var rng = Rng(state: 42)
            let r = run(l: l, d: d, rowFEC: rowFEC, packets: n) { _, _ in rng.next() < p }
            // Column only: a lost packet stays lost if its column's FEC packet or another of its
            // D − 1 neighbours is lost too.
            let bound =
                rowFEC
                // Level B without iterating: lost if its column and its row both hold another loss.
                ? p * (1 - pow1(1 - p, d)) * (1 - pow1(1 - p, l))
                : p * (1 - pow1(1 - p, d))
            let residual = Double(r.lost) / Double(n)
            print(
                "  \(p * 100) % random, level \(rowFEC ? "B" : "A"): \(r.dropped) dropped, \(r.lost) lost after FEC = "
                    + "\(fmt(residual * 100)) % residual (\(fmt(100 * (1 - Double(r.lost) / Double(max(r.dropped, 1))))) % recovered); "
                    + "expected ≈ \(fmt(bound * 100)) %\(rowFEC ? " (one pass; iterating does better)" : "")")
        }
    }
    // Bursts of L consecutive media packets, one per 10 matrices; FEC packets untouched.
    let r = run(l: l, d: d, rowFEC: false, packets: n) { i, isFEC in !isFEC && i % (10 * l * d) < l }
    print("  bursts of \(l) (one per 10 matrices), level A: \(r.dropped) dropped, \(r.lost) lost after FEC (bound: 0)")
}

private func pow1(_ x: Double, _ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * x } }
private func fmt(_ v: Double) -> String { fixed(v, 4) }
