import CMallocCounter
import MediaTime
import Testing

@testable import MPEGTS

/// Continuity the way TR 101 290 1.4 counts it (and Tests/chaos.py): per PID, a payload packet
/// increments the CC, an adaptation-only one repeats it, one duplicate is allowed; a packet whose
/// discontinuity_indicator is set may jump (and starts the count afresh). Null packets are skipped.
/// ContinuityCounter's rule, written out apart so TSResume is not checked with code it shares.
struct ContinuityChecker {
    var last = [Int](repeating: -1, count: 8192)
    /// Per PID: the last payload packet repeated its predecessor (a second repeat is an error).
    var repeated = [Bool](repeating: false, count: 8192)
    var errors: [(index: Int, pid: UInt16)] = []
    var flagged = 0
    var packets = 0

    mutating func feed(_ bytes: [UInt8]) {
        var i = 0
        while i + 188 <= bytes.count {
            let p = Array(bytes[i..<(i + 188)])
            i += 188
            packets += 1
            let pid = UInt16(p[1] & 0x1F) << 8 | UInt16(p[2])
            if pid == PID.null { continue }
            let cc = Int(p[3] & 0x0F)
            let hasPayload = p[3] & 0x10 != 0
            let flag = p[3] & 0x20 != 0 && p[4] > 0 && p[5] & 0x80 != 0
            let previous = last[Int(pid)]
            if previous >= 0 {
                let expected = hasPayload ? (previous + 1) & 15 : previous
                let duplicate = hasPayload && cc == previous && !repeated[Int(pid)]
                if hasPayload { repeated[Int(pid)] = duplicate }
                if cc != expected && !duplicate {
                    if flag { flagged += 1 } else { errors.append((packets - 1, pid)) }
                }
            } else if flag {
                flagged += 1
            }
            if hasPayload || previous < 0 || flag { last[Int(pid)] = cc }
        }
    }
}

/// Hand-built packets.
enum Packet {
    static func header(pid: UInt16, start: Bool, afc: UInt8, cc: UInt8) -> [UInt8] {
        [0x47, (start ? 0x40 : 0) | UInt8(pid >> 8), UInt8(pid & 0xFF), afc << 4 | (cc & 0x0F)]
    }
    /// A one-section PSI packet (pointer_field 0) with stuffing: what the mux sends.
    static func psi(pid: UInt16, section: [UInt8], cc: UInt8) -> [UInt8] {
        var p = header(pid: pid, start: true, afc: 1, cc: cc) + [0] + section
        p += [UInt8](repeating: 0xFF, count: 188 - p.count)
        return p
    }
    /// A PES payload packet filling all 184 bytes.
    static func full(pid: UInt16, start: Bool, cc: UInt8, fill: UInt8 = 0xAB) -> [UInt8] {
        var p = header(pid: pid, start: start, afc: 1, cc: cc)
        if start { p += [0, 0, 1, 0xC0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1] }
        p += [UInt8](repeating: fill, count: 188 - p.count)
        return p
    }
    /// A packet with an adaptation field of `afLength` (flags byte `flags`, then stuffing) and payload.
    static func withAF(pid: UInt16, start: Bool, cc: UInt8, afLength: UInt8, flags: UInt8, payload: [UInt8] = [])
        -> [UInt8]
    {
        var p = header(pid: pid, start: start, afc: 3, cc: cc) + [afLength]
        if afLength > 0 { p += [flags] + [UInt8](repeating: 0xFF, count: Int(afLength) - 1) }
        p += payload
        p += [UInt8](repeating: 0xAB, count: 188 - p.count)
        return p
    }
    static func null() -> [UInt8] { [0x47, 0x1F, 0xFF, 0x10] + [UInt8](repeating: 0xFF, count: 184) }
    static func pid(_ p: ArraySlice<UInt8>) -> UInt16 {
        UInt16(p[p.startIndex + 1] & 0x1F) << 8 | UInt16(p[p.startIndex + 2])
    }
}

let patSection = PSISection.pat(transportStreamID: 1, programNumber: 1, pmtPID: 0x1000, version: 0)
let pmtSection = PSISection.pmt(
    programNumber: 1, pcrPID: 0x100,
    streams: [ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x101, codec: .aac)], version: 0)

func packets(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
    stride(from: 0, to: bytes.count, by: 188).map { bytes[$0..<($0 + 188)] }
}

func discontinuityFlag(_ p: ArraySlice<UInt8>) -> Bool {
    let b = Array(p)
    return b[3] & 0x20 != 0 && b[4] > 0 && b[5] & 0x80 != 0
}

@Suite("TS resume after a restart")
struct TSResumeTests {
    /// Runs `chunks` through a fresh resume (restarted first when `restart`); returns what is sent.
    static func run(_ resume: inout TSResume, _ chunks: [[UInt8]]) -> [[UInt8]] {
        var sent: [[UInt8]] = []
        for var c in chunks {
            let keep = c.withUnsafeMutableBytes { resume.process($0) }
            if keep { sent.append(c) }
        }
        return sent
    }

    @Test("Holds every chunk until one with a PAT; packets before the PAT in it become null packets")
    func holdsUntilPAT() {
        var r = TSResume()
        let before = Packet.full(pid: 0x100, start: false, cc: 3) + Packet.full(pid: 0x101, start: false, cc: 7)
        let opening =
            Packet.full(pid: 0x100, start: false, cc: 4) + Packet.psi(pid: 0, section: patSection, cc: 9)
            + Packet.psi(pid: 0x1000, section: pmtSection, cc: 2)
        let sent = Self.run(&r, [before, opening])
        #expect(r.heldChunks == 1)
        #expect(sent.count == 1 && sent[0].count == opening.count, "chunk size kept")
        let p = packets(sent[0])
        #expect(Packet.pid(p[0]) == PID.null && Array(p[0]) == Packet.null())
        #expect(Packet.pid(p[1]) == PID.pat && discontinuityFlag(p[1]))
        #expect(Packet.pid(p[2]) == 0x1000 && discontinuityFlag(p[2]))
        #expect(r.pmtPID == 0x1000 && r.videoPID == 0x100 && r.pmtSeen)
    }

    @Test(
        "PAT/PMT without adaptation field: a 2-byte one (length 1, discontinuity_indicator) is inserted, the section intact, CC kept"
    )
    func psiGetsAdaptationField() {
        var r = TSResume()
        let pat = Packet.psi(pid: 0, section: patSection, cc: 9)
        let pmt = Packet.psi(pid: 0x1000, section: pmtSection, cc: 2)
        let sent = Self.run(&r, [pat + pmt])
        let p = packets(sent[0])
        for (out, original) in zip(p, [pat, pmt]) {
            let o = Array(out)
            #expect(Array(o[0..<3]) == Array(original[0..<3]))
            #expect(o[3] == 0x30 | (original[3] & 0x0F), "adaptation_field_control 11, CC unchanged")
            #expect(o[4] == 1 && o[5] == 0x80)
            #expect(Array(o[6..<188]) == Array(original[4..<186]), "payload moved by 2, only stuffing lost")
            #expect(original[186] == 0xFF && original[187] == 0xFF)
        }
        // The analyzer still reads the tables.
        var a = TSAnalyzer()
        a.feed(sent[0])
        #expect(a.streams.map(\.pid) == [0x100, 0x101])
    }

    @Test("A PSI packet with an adaptation field already (the mux's after its restart) gets the flag set in it")
    func psiWithAdaptationField() {
        var r = TSResume()
        var pat = Packet.header(pid: 0, start: true, afc: 3, cc: 0) + [1, 0x00, 0] + patSection
        pat += [UInt8](repeating: 0xFF, count: 188 - pat.count)
        let sent = Self.run(&r, [pat])
        let o = packets(sent[0])[0]
        #expect(discontinuityFlag(o) && Array(o[6...]) == Array(pat[6...]))
    }

    @Test(
        "A table packet whose section runs into the next packet, or that continues one, cannot take an adaptation field: null until the next"
    )
    func longSectionIsDropped() {
        var r = TSResume()
        // SDT (PID 0x11) whose section_length claims more than this packet holds.
        var sdt = Packet.header(pid: 0x11, start: true, afc: 1, cc: 5) + [0, 0x42, 0xF1, 0x00]
        sdt += [UInt8](repeating: 0x33, count: 188 - sdt.count)
        let sdt2 = Packet.psi(pid: 0x11, section: [0x42, 0xF0, 0x0C] + [UInt8](repeating: 0x01, count: 12), cc: 6)
        let pat = Packet.psi(pid: 0, section: patSection, cc: 0)
        let sent = Self.run(&r, [pat + sdt + sdt2])
        let p = packets(sent[0])
        #expect(Packet.pid(p[1]) == PID.null)
        #expect(Packet.pid(p[2]) == 0x11 && discontinuityFlag(p[2]))
    }

    @Test(
        "Video waits for its random access point (with adaptation field: flag set there); audio without adaptation field is nulled until a packet that has one"
    )
    func videoAndAudio() {
        var r = TSResume()
        let tables =
            Packet.psi(pid: 0, section: patSection, cc: 1) + Packet.psi(pid: 0x1000, section: pmtSection, cc: 1)
        let midGOP = Packet.full(pid: 0x100, start: false, cc: 3)  // before the keyframe: dropped
        let pcrOnly =
            Packet.header(pid: 0x100, start: false, afc: 2, cc: 3) + [183, 0x10] + [UInt8](repeating: 0xFF, count: 182)
        let audio1 = Packet.full(pid: 0x101, start: true, cc: 8)  // full payload: cannot be flagged
        let audio2 = Packet.full(pid: 0x101, start: false, cc: 9)
        let audio3 = Packet.withAF(pid: 0x101, start: false, cc: 10, afLength: 20, flags: 0)  // the PES's stuffed tail
        let key = Packet.withAF(pid: 0x100, start: true, cc: 4, afLength: 7, flags: 0x50)  // RAI + PCR
        let after = Packet.full(pid: 0x100, start: false, cc: 5)
        let audio4 = Packet.full(pid: 0x101, start: true, cc: 11)
        let sent = Self.run(&r, [tables + midGOP + pcrOnly + audio1 + audio2 + audio3, key + after + audio4])
        let p = sent.flatMap(packets)
        #expect(p.count == 10)
        #expect(Packet.pid(p[2]) == PID.null && Packet.pid(p[3]) == PID.null, "video before its keyframe")
        #expect(Packet.pid(p[4]) == PID.null && Packet.pid(p[5]) == PID.null, "audio without adaptation field")
        #expect(
            Array(p[6])
                == {
                    var a = audio3
                    a[5] |= 0x80
                    return a
                }())
        #expect(
            Array(p[7])
                == {
                    var a = key
                    a[5] |= 0x80
                    return a
                }(), "flag added, RAI and PCR kept")
        #expect(Array(p[8]) == after && Array(p[9]) == audio4, "later packets untouched")
        #expect(r.videoStarted && r.nulledPackets == 4)
    }

    @Test("The video's random access point is also found in a PES start without the indicator (H.264 IDR/SPS)")
    func randomAccessByNAL() {
        var r = TSResume()
        let tables =
            Packet.psi(pid: 0, section: patSection, cc: 1) + Packet.psi(pid: 0x1000, section: pmtSection, cc: 1)
        let pes: [UInt8] = [0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]
        let pFrame = Packet.withAF(
            pid: 0x100, start: true, cc: 2, afLength: 1, flags: 0,
            payload: pes + [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41])
        let idr = Packet.withAF(
            pid: 0x100, start: true, cc: 3, afLength: 1, flags: 0,
            payload: pes + [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0x42])
        let sent = Self.run(&r, [tables + pFrame + idr])
        let p = packets(sent[0])
        #expect(Packet.pid(p[2]) == PID.null)
        #expect(Packet.pid(p[3]) == 0x100 && discontinuityFlag(p[3]))
    }

    @Test(
        "Elementary streams before the PMT are nulled; a packet with an adaptation field of length 0 cannot carry the flag"
    )
    func beforePMTAndEmptyAF() {
        var r = TSResume()
        let pat = Packet.psi(pid: 0, section: patSection, cc: 1)
        let audioEarly = Packet.withAF(pid: 0x101, start: true, cc: 1, afLength: 5, flags: 0)
        let pmt = Packet.psi(pid: 0x1000, section: pmtSection, cc: 1)
        let emptyAF = Packet.withAF(pid: 0x101, start: false, cc: 2, afLength: 0, flags: 0)
        let audio = Packet.withAF(pid: 0x101, start: false, cc: 3, afLength: 2, flags: 0)
        let sent = Self.run(&r, [pat + audioEarly + pmt + emptyAF + audio + Packet.null()])
        let p = packets(sent[0])
        #expect(Packet.pid(p[1]) == PID.null && Packet.pid(p[3]) == PID.null)
        #expect(discontinuityFlag(p[4]))
        #expect(Array(p[5]) == Packet.null(), "null packets untouched")
    }

    // MARK: with the mux

    /// 4 s of CBR mux output (380 chunks/s): 25 fps H.264 (keyframe every 25), AAC every 21.33 ms, as chunks.
    static func muxChunks(seconds: Int64 = 4) -> [[UInt8]] {
        var c = MuxConfiguration(streams: [
            ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x101, codec: .aac),
        ])
        c.mode = .cbr(muxrate: 4_000_000)
        c.serviceName = "Studio 1"
        c.providerName = "Rill"
        let mux = TSMux(configuration: c)
        let ms = MediaTime.millisecond
        let start: Int64 = 1_000_000 * ms
        var chunks: [[UInt8]] = []
        var t = start
        var audioNext = start
        var n: Int64 = 0
        while t < start + seconds * 1000 * ms {
            let key = n % 25 == 0
            let au = videoAU(size: key ? 30_000 : 6_000, keyframe: key)
            _ = au.withUnsafeBytes {
                mux.enqueue(
                    stream: 0, payload: $0, ptsNs: t, dtsNs: t, captureNs: t, keyframe: key, discontinuity: false,
                    now: t)
            }
            while audioNext <= t {
                let adts = [UInt8](repeating: 0x11, count: 380)
                _ = adts.withUnsafeBytes {
                    mux.enqueue(
                        stream: 1, payload: $0, ptsNs: audioNext, dtsNs: audioNext, captureNs: audioNext,
                        keyframe: true, discontinuity: false, now: t)
                }
                audioNext += 21_333_333
            }
            var s = t
            while s < t + 40 * ms {
                mux.produce(now: s, until: s + 4 * ms) { chunk, _ in chunks.append(Array(chunk)) }
                s += 2 * ms
            }
            t += 40 * ms
            n += 1
        }
        return chunks
    }

    static let muxOutput = muxChunks()

    @Test(
        "Cut anywhere in a real mux stream: the receiver sees CC jumps only where flagged, video resumes at a keyframe, every PID's first packet is flagged, chunk sizes kept",
        arguments: [40, 150, 333, 517, 777, 1001])
    func spliceMuxStream(cut: Int) {
        let chunks = Self.muxOutput
        #expect(chunks.count > 1500)
        // The receiver got chunks [0, 100), the sender died, its restart reads from `cut`.
        var checker = ContinuityChecker()
        for c in chunks[0..<100] { checker.feed(c) }
        #expect(checker.errors.isEmpty, "the mux's own output is continuous")
        var withoutResume = ContinuityChecker()
        for c in chunks[0..<100] { withoutResume.feed(c) }
        for c in chunks[cut...] { withoutResume.feed(c) }
        #expect(!withoutResume.errors.isEmpty, "the cut alone makes CC errors (the impairment)")

        var r = TSResume()
        var sent: [[UInt8]] = []
        for var c in chunks[cut...] {
            let size = c.count
            if c.withUnsafeMutableBytes({ r.process($0) }) {
                #expect(c.count == size)
                sent.append(c)
            }
        }
        let firstSent = sent.flatMap(packets)
        for c in sent { checker.feed(c) }
        #expect(checker.errors.isEmpty, "unflagged CC errors: \(checker.errors.prefix(5))")
        #expect(checker.flagged >= 3, "PAT, PMT, video flagged (\(checker.flagged))")
        // The first packet of every PID after the splice carries the flag; video starts at a keyframe.
        var seen = Set<UInt16>()
        for p in firstSent {
            let pid = Packet.pid(p)
            if pid == PID.null || seen.contains(pid) { continue }
            seen.insert(pid)
            #expect(discontinuityFlag(p), "PID \(pid)'s first packet")
            if pid == 0x100 { #expect(Array(p)[5] & 0x40 != 0, "video's first packet is a random access point") }
            if pid != PID.pat && pid != 0x11 { #expect(seen.contains(PID.pat), "PID \(pid) before the PAT") }
        }
        #expect(seen.isSuperset(of: [PID.pat, 0x100, 0x101]))
        // Only the opening chunk's start and packets up to each PID's start were nulled: bounded.
        #expect(r.nulledPackets < 2000, "\(r.nulledPackets) nulled")
        // The rest passes untouched: the tail of both is the same.
        #expect(sent.last == chunks.last)
    }

    @Test("restart() starts over: held until the next PAT, flags again")
    func restartAgain() {
        let chunks = Self.muxOutput
        var r = TSResume()
        var sent: [[UInt8]] = []
        var checker = ContinuityChecker()
        sent += Self.run(&r, Array(chunks[0..<300]))
        r.restart()
        sent += Self.run(&r, Array(chunks[700...]))
        for c in sent { checker.feed(c) }
        #expect(checker.errors.isEmpty, "\(checker.errors.prefix(5))")
        #expect(r.restarts == 1 && r.heldChunks > 0)
    }

    @Test("No allocation per chunk once running")
    func noAllocation() {
        var r = TSResume()
        r.restart()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: TS.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        for c in Self.muxOutput[501..<1500] where c.count == TS.chunkSize {
            c.withUnsafeBytes { buffer.copyMemory(from: $0) }
            let before = rill_malloc_count_thread()
            _ = r.process(buffer)
            total += Int(rill_malloc_count_thread() - before)
        }
        #expect(total == 0)
        #expect(!r.waitingForPAT && r.videoStarted)
    }
}
