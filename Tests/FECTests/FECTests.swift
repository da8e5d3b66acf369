import FEC
import RTP
import Testing

@Suite("SMPTE 2022-1 FEC")
struct FECTests {
    /// Media packets: 1316-byte payloads whose bytes name the packet, timestamps that vary.
    static func media(_ count: Int, firstSeq: UInt16 = 65_500) -> [(RTPHeader, [UInt8])] {
        (0..<count).map { i in
            let h = RTPHeader(sequenceNumber: firstSeq &+ UInt16(i), timestamp: UInt32(i) * 3003, ssrc: 0x1234)
            return (h, (0..<1316).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i &* 13) })
        }
    }

    /// Sends `count` packets through the encoder, drops `lost` (indices), feeds the rest and the
    /// FEC to a RecoveryBuffer; returns what came out and its statistics.
    static func run(_ p: FECParameters, count: Int, lost: Set<Int>) -> (
        out: [UInt16: [UInt8]], stats: RecoveryBuffer.Statistics
    ) {
        var enc = FECEncoder(parameters: p)
        var rb = RecoveryBuffer(holdPackets: 2 * p.matrix, holdNs: 0)
        var out: [UInt16: [UInt8]] = [:]
        for (i, (h, payload)) in media(count).enumerated() {
            var fec: [[UInt8]] = []
            payload.withUnsafeBytes { enc.add(header: h, payload: $0) { _, pkt in fec.append(Array(pkt)) } }
            if !lost.contains(i) { payload.withUnsafeBytes { _ = rb.insert(header: h, payload: $0, arrival: 0) } }
            for f in fec {
                f.withUnsafeBytes {
                    try? rb.insertFEC(UnsafeRawBufferPointer(rebasing: $0[RTPHeader.size...]), arrival: 0)
                }
            }
            rb.release(now: 0) { h, p in out[h.sequenceNumber] = Array(p) }
        }
        rb.release(now: 0, force: true) { h, p in out[h.sequenceNumber] = Array(p) }
        return (out, rb.statistics)
    }

    @Test("limits: L×D ≤ 100, D 4–20, L 4–20 with row FEC; the error names the option")
    func limits() throws {
        #expect(throws: FECParameterError.self) { try FECParameters(columns: 20, rows: 10, rowFEC: true) }
        #expect((try? FECParameters(columns: 3, rows: 4, rowFEC: true)) == nil)
        #expect((try? FECParameters(columns: 3, rows: 4, rowFEC: false)) != nil)
        do {
            _ = try FECParameters(columns: 8, rows: 2, rowFEC: true)
            Issue.record("D = 2 accepted")
        } catch { #expect(error.option == "rows") }
        _ = try FECParameters(columns: 10, rows: 10, rowFEC: true)
    }

    @Test("header fields survive write and parse; a non-XOR type is refused")
    func header() throws {
        let h = FECHeader(
            snBase: 0xBEEF, lengthRecovery: 0x0524, ptRecovery: 33, tsRecovery: 0xDEADBEEF, isRow: false, offset: 8,
            count: 4)
        var b = [UInt8](repeating: 0, count: 16)
        b.withUnsafeMutableBytes { h.write(into: $0) }
        #expect(b[4] == 0x80 | 33 && b[12] == 0 && b[13] == 8 && b[14] == 4)
        #expect(try b.withUnsafeBytes { try FECHeader.parse($0) } == h)
        b[12] = 1 << 3
        #expect(throws: FECError.unsupportedType(1)) { try b.withUnsafeBytes { try FECHeader.parse($0) } }
    }

    @Test("a burst of L consecutive losses is rebuilt by the columns, byte for byte, across the 16-bit wrap")
    func burst() throws {
        let p = try FECParameters(columns: 8, rows: 4, rowFEC: false)
        // Packets 34…41 carry sequence numbers 65534, 65535, 0, 1, …, 5: the burst straddles the
        // wrap (two before it, six after) and spans two rows of the second matrix.
        let burst = 34..<42
        let sent = Self.media(320)
        let lostSeqs = burst.map { sent[$0].0.sequenceNumber }
        try #require(
            lostSeqs.contains(65_535) && lostSeqs.contains(0) && lostSeqs.first! > lostSeqs.last!, "\(lostSeqs)")
        let (out, stats) = Self.run(p, count: 320, lost: Set(burst))
        #expect(stats.recovered == 8 && stats.lost == 0, "\(stats)")
        for i in burst {
            #expect(out[sent[i].0.sequenceNumber] == sent[i].1, "packet \(i) (seq \(sent[i].0.sequenceNumber))")
        }
        // Every other packet came through as well.
        #expect(out.count == 320)
    }

    @Test("level B iterates: a loss only a rebuilt packet unlocks is rebuilt; the 2×2 square stays lost")
    func iterate() throws {
        let p = try FECParameters(columns: 5, rows: 5, rowFEC: true)
        // Column 1 holds 6 and 11: only after row 2 rebuilds 11 can column 1 rebuild 6.
        let (out, stats) = Self.run(p, count: 100, lost: [6, 7, 11])
        #expect(stats.recovered == 3 && stats.lost == 0, "\(stats)")
        #expect(out[Self.media(100)[6].0.sequenceNumber] == Self.media(100)[6].1, "packet 6")
        // Two rows × two columns: no group has a single loss — 2-D parity's known blind spot.
        let (_, square) = Self.run(p, count: 100, lost: [6, 7, 11, 12])
        #expect(square.recovered == 0 && square.lost == 4, "\(square)")
        // Level A on the same matrix rebuilds a column burst but not two losses in one column.
        let a = try FECParameters(columns: 5, rows: 5, rowFEC: false)
        let (_, columnOnly) = Self.run(a, count: 100, lost: [6, 11])
        #expect(columnOnly.recovered == 0 && columnOnly.lost == 2, "\(columnOnly)")
    }

    @Test("a sender that restarts with a lower sequence base is followed after 100 late packets")
    func senderRestart() {
        var rb = RecoveryBuffer(holdPackets: 8, holdNs: 0)
        var out: [UInt16] = []
        for (h, p) in Self.media(300, firstSeq: 30_000) + Self.media(300, firstSeq: 20_000) {
            p.withUnsafeBytes { _ = rb.insert(header: h, payload: $0, arrival: 0) }
            rb.release(now: 0) { h, _ in out.append(h.sequenceNumber) }
        }
        #expect(out.count == 300 + 201, "\(out.count) released")  // 99 dropped, the 100th starts the new stream
        #expect(out.last == 20_299)
    }

    @Test("duplicates (2022-7: the same packets twice) are dropped, order is kept")
    func merge() {
        var rb = RecoveryBuffer(holdPackets: 8, holdNs: 0)
        var seqs: [UInt16] = []
        let m = Self.media(50)
        for (h, p) in m + m.shuffled() {
            p.withUnsafeBytes { _ = rb.insert(header: h, payload: $0, arrival: 0) }
            rb.release(now: 0) { h, _ in seqs.append(h.sequenceNumber) }
        }
        #expect(seqs == m.map { $0.0.sequenceNumber })
        #expect(rb.statistics.duplicates + rb.statistics.late == 50)
    }
}
