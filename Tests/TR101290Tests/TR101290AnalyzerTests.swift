import CMallocCounter
import MPEGTS
import MediaTime
import Testing

/// Rill's own mux as a stream source: `seconds` of 50 fps H.264-like video (12 kB AUs, an IDR of
/// 40 kB each second) and AAC, as (chunk, send deadline) pairs.
func muxStream(_ mode: MuxRateMode, seconds: Int64) -> [([UInt8], Int64)] {
    var c = MuxConfiguration(streams: [ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x101, codec: .aac)])
    c.mode = mode
    c.serviceName = "Studio 1"
    let mux = TSMux(configuration: c)
    let ms = MediaTime.millisecond
    var out: [([UInt8], Int64)] = []
    var t: Int64 = 1_000_000 * ms
    let end = t + seconds * 1_000 * ms
    var audioNext = t
    var n: Int64 = 0
    while t < end {
        let key = n % 50 == 0
        var au: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, key ? 0x65 : 0x41]
        au += [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: key ? 40_000 : 12_000)
        _ = au.withUnsafeBytes {
            mux.enqueue(
                stream: 0, payload: $0, ptsNs: t, dtsNs: t, captureNs: t, keyframe: key, discontinuity: false, now: t)
        }
        while audioNext <= t {
            let adts = [UInt8](repeating: 0x11, count: 380)
            _ = adts.withUnsafeBytes {
                mux.enqueue(
                    stream: 1, payload: $0, ptsNs: audioNext, dtsNs: audioNext, captureNs: audioNext, keyframe: true,
                    discontinuity: false, now: t)
            }
            audioNext += 21_333_333
        }
        var s = t
        while s < t + 20 * ms {
            mux.produce(now: s, until: s + 4 * ms) { chunk, info in out.append((Array(chunk), info.deadline)) }
            s += 2 * ms
        }
        t += 20 * ms
        n += 1
    }
    return out
}

/// One 188-byte packet: PID, counter, payload only, filled with 0xFF.
func packet(pid: UInt16, cc: UInt8, sync: UInt8 = 0x47) -> [UInt8] {
    var p = [UInt8](repeating: 0xFF, count: 188)
    p[0] = sync
    p[1] = UInt8(pid >> 8)
    p[2] = UInt8(pid & 0xFF)
    p[3] = 0x10 | (cc & 0x0F)
    return p
}

@Suite("TR 101 290 analyzer")
struct TR101290AnalyzerTests {
    static let ms = MediaTime.millisecond

    static func errors(_ a: TR101290Analyzer) -> [String: Int64] {
        var found: [String: Int64] = [:]
        for i in TR101290Analyzer.Indicator.allCases where a.status(i).count > 0 { found[i.clause] = a.status(i).count }
        return found
    }

    @Test("Rill's mux, CBR and VBR, as sent (arrival = send deadline) and as a file: no error; 2.4 applies to CBR only")
    func rillMux() {
        for (mode, applicability) in [
            (MuxRateMode.cbr(muxrate: 6_000_000), TR101290Analyzer.PCRAccuracyApplicability.cbr), (.vbr, .vbr),
        ] {
            let chunks = muxStream(mode, seconds: 6)
            var network = TR101290Analyzer()
            var file = TR101290Analyzer()
            for (chunk, deadline) in chunks {
                chunk.withUnsafeBytes {
                    network.feed($0, arrivalNs: deadline)
                    file.feed($0)
                }
            }
            #expect(Self.errors(network) == [:], "\(mode) network: \(Self.errors(network))")
            #expect(Self.errors(file) == [:], "\(mode) file: \(Self.errors(file))")
            #expect(network.pcrAccuracyApplicability == applicability, "\(mode)")
            #expect(network.pcrPID == 0x100)
            // The file clock follows the PCRs: about 6 s went by.
            #expect(abs((file.timeNs ?? 0) - 6_000 * Self.ms) < 200 * Self.ms, "\(file.timeNs ?? -1)")
        }
    }

    /// Rill's CBR stream with the PCRs of three packets, a second apart from 2 s on, moved by `ticks` (27 MHz).
    static func restamped(ticks: Int64) -> [([UInt8], Int64)] {
        var chunks = muxStream(.cbr(muxrate: 6_000_000), seconds: 6)
        let first = chunks[0].1
        var next = first + 2_000 * ms
        for c in chunks.indices where chunks[c].1 >= next {
            for offset in stride(from: 0, to: chunks[c].0.count, by: 188) {
                let pcr: Int64? = chunks[c].0.withUnsafeBytes {
                    TSPacket(UnsafeRawBufferPointer(rebasing: $0[offset...]))?.pcr27
                }
                guard let pcr, chunks[c].1 >= next else { continue }
                let v = pcr + ticks
                let base = v / 300
                let ext = v % 300
                chunks[c].0[offset + 6] = UInt8(truncatingIfNeeded: base >> 25)
                chunks[c].0[offset + 7] = UInt8(truncatingIfNeeded: base >> 17)
                chunks[c].0[offset + 8] = UInt8(truncatingIfNeeded: base >> 9)
                chunks[c].0[offset + 9] = UInt8(truncatingIfNeeded: base >> 1)
                chunks[c].0[offset + 10] = UInt8(truncatingIfNeeded: (base & 1) << 7 | 0x7E | ext >> 8)
                chunks[c].0[offset + 11] = UInt8(truncatingIfNeeded: ext)
                next += 1_000 * ms
            }
            if next > first + 4_000 * ms { break }
        }
        return chunks
    }

    @Test("2.4 on Rill's CBR stream: three PCRs re-stamped by 1 µs are three PCR_accuracy_errors; by 300 ns, none")
    func pcrAccuracyRestamp() {
        let clean = muxStream(.cbr(muxrate: 6_000_000), seconds: 6)
        for (ticks, expected) in [(Int64(27), ["2.4": Int64(3)]), (8, [:])] {
            let chunks = Self.restamped(ticks: ticks)
            // The re-stamp happened: three packets differ from the (deterministic) clean stream.
            var changed = 0
            for c in chunks.indices {
                for o in stride(from: 0, to: chunks[c].0.count, by: 188)
                where chunks[c].0[o..<(o + 188)] != clean[c].0[o..<(o + 188)] {
                    changed += 1
                }
            }
            #expect(changed == 3 && chunks.count == clean.count)
            var a = TR101290Analyzer()
            for (chunk, deadline) in chunks { chunk.withUnsafeBytes { a.feed($0, arrivalNs: deadline) } }
            #expect(a.pcrAccuracyApplicability == .cbr)
            #expect(Self.errors(a) == expected, "re-stamped by \(ticks) ticks: \(Self.errors(a))")
        }
    }

    @Test("1.1/1.2: one corrupted sync byte is a Sync_byte_error; two in a row lose sync once; 5 good ones regain it")
    func syncHysteresis() {
        var a = TR101290Analyzer()
        var cc: UInt8 = 0
        func feed(_ bad: Bool) {
            packet(pid: 0x1FFF, cc: cc, sync: bad ? 0x46 : 0x47).withUnsafeBytes { a.feed($0, arrivalNs: 0) }
            cc &+= 1
        }
        for _ in 0..<10 { feed(false) }
        #expect(a.inSync)
        feed(true)
        for _ in 0..<10 { feed(false) }
        #expect(Self.errors(a) == ["1.2": 1] && a.inSync)
        for _ in 0..<3 { feed(true) }
        #expect(Self.errors(a) == ["1.2": 4, "1.1": 1] && !a.inSync)
        for _ in 0..<4 { feed(false) }
        #expect(!a.inSync)
        feed(false)
        #expect(a.inSync)
    }

    @Test(
        "An alarm is raised once for a burst of 1.4 errors and cleared after the quiet time; the next error raises it again"
    )
    func alarmTransitions() {
        var config = TR101290Analyzer.Configuration()
        config.alarmQuietTime = 2_000 * Self.ms
        var a = TR101290Analyzer(configuration: config)
        var transitions: [TR101290Analyzer.AlarmTransition] = []
        // Null-PID-free private PID with a counter that skips every 10th packet, for 1 s.
        var cc: UInt8 = 0
        for n in 0..<1_000 {
            if n % 10 == 9 { cc &+= 1 }  // one lost
            packet(pid: 0x1FF0, cc: cc).withUnsafeBytes { a.feed($0, arrivalNs: Int64(n) * Self.ms) }
            cc &+= 1
        }
        a.drainTransitions { transitions.append($0) }
        #expect(a.status(.continuityCountError).count == 100)
        #expect(transitions.filter { $0.indicator == .continuityCountError }.map(\.raised) == [true])
        #expect(a.status(.continuityCountError).alarm)
        a.advance(toNs: 2_500 * Self.ms)
        transitions = []
        a.drainTransitions { transitions.append($0) }
        #expect(!transitions.contains { $0.indicator == .continuityCountError }, "cleared too early: \(transitions)")
        a.advance(toNs: 3_100 * Self.ms)
        a.drainTransitions { transitions.append($0) }
        let cc14 = transitions.filter { $0.indicator == .continuityCountError }
        #expect(cc14.count == 1 && cc14.first?.raised == false && cc14.first?.count == 100, "\(cc14)")
        #expect(!a.status(.continuityCountError).alarm)
        // The PAT never came: 1.3 at 0.51 s while packets came, then at each advance more than
        // 0.5 s after the last (2.5 s, 3.1 s); its alarm stays up.
        #expect(a.status(.patError).count == 3 && a.status(.patError).alarm, "\(a.status(.patError))")
        // A new loss raises the alarm again.
        packet(pid: 0x1FF0, cc: cc &+ 3).withUnsafeBytes { a.feed($0, arrivalNs: 3_200 * Self.ms) }
        transitions = []
        a.drainTransitions { transitions.append($0) }
        #expect(
            transitions.filter { $0.indicator == .continuityCountError }.map(\.raised) == [true]
                && a.status(.continuityCountError).count == 101, "\(transitions)")
    }

    @Test("Steady state: no heap allocation per packet (network and file timing)")
    func noAllocation() {
        let chunks = muxStream(.cbr(muxrate: 6_000_000), seconds: 8)
        let warm = chunks.count / 4
        for arrival in [true, false] {
            var a = TR101290Analyzer()
            for (chunk, deadline) in chunks[..<warm] {
                chunk.withUnsafeBytes { a.feed($0, arrivalNs: arrival ? deadline : nil) }
            }
            var transitions = 0
            a.drainTransitions { _ in transitions += 1 }
            let before = rill_malloc_count_thread()
            for k in warm..<chunks.count {  // by index: iterating a slice allocates in debug builds
                chunks[k].0.withUnsafeBytes { a.feed($0, arrivalNs: arrival ? chunks[k].1 : nil) }
            }
            let mallocs = rill_malloc_count_thread() - before
            #expect(mallocs == 0, "\(mallocs) allocations over \(a.packets) packets (arrival timing: \(arrival))")
            #expect(a.packets > 20_000)
        }
    }

    @Test("Any bytes, in any order: no trap, counts stay consistent")
    func garbage() {
        var rng = SystemRandomNumberGenerator()
        var a = TR101290Analyzer()
        for n in 0..<2_000 {
            var p = (0..<188).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if n % 3 != 0 { p[0] = 0x47 }
            if n % 5 == 0 {
                p[1] &= 0x1F
                p[2] = UInt8.random(in: 0...0x14, using: &rng)
            }
            p.withUnsafeBytes { a.feed($0, arrivalNs: n % 7 == 0 ? nil : Int64(n) * Self.ms) }
        }
        #expect(a.packets == 2_000)
        #expect(a.status(.syncByteError).count >= 600)
    }
}

@Suite("TR 101 290 packet alignment")
struct TR101290AlignmentTests {
    @Test("A stream cut mid-packet: the first offset where five sync bytes line up; none in non-TS bytes")
    func alignment() {
        var ts: [UInt8] = []
        for n in 0..<8 { ts += packet(pid: 0x100, cc: UInt8(n)) }
        // Payload bytes that look like a sync byte before the real boundary.
        ts[161] = 0x47
        let cut = Array(ts[(188 - 37)...])
        #expect(cut.withUnsafeBytes { TR101290Analyzer.packetAlignment(of: $0) } == 37)
        #expect(ts.withUnsafeBytes { TR101290Analyzer.packetAlignment(of: $0) } == 0)
        let text = [UInt8](repeating: 0x20, count: 2_000)
        #expect(text.withUnsafeBytes { TR101290Analyzer.packetAlignment(of: $0) } == nil)
    }
}
