import CMallocCounter
import MediaTime
import Testing

@testable import MPEGTS

/// Drives a mux with synthetic access units and checks what comes out with the analyzer.
struct MuxHarness {
    var mux: TSMux
    var analyzer = TSAnalyzer()
    var chunks: [TSChunkInfo] = []
    var bytes: [UInt8] = []

    init(_ config: MuxConfiguration) { mux = TSMux(configuration: config) }

    mutating func produce(now: Int64, until: Int64) {
        var collected: [([UInt8], TSChunkInfo)] = []
        mux.produce(now: now, until: until) { chunk, info in collected.append((Array(chunk), info)) }
        for (chunk, info) in collected {
            bytes += chunk
            chunks.append(info)
            // Stamp arrival as the send deadline: what a receiver behind a perfect pacer sees.
            analyzer.feed(chunk, arrivalNs: info.deadline)
        }
    }
}

func videoAU(size: Int, keyframe: Bool) -> [UInt8] {
    var b: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0]
    if keyframe { b += [0, 0, 0, 1, 0x67, 0x42] }
    b += [0, 0, 0, 1, keyframe ? 0x65 : 0x41]
    b += [UInt8](repeating: 0xAB, count: max(0, size - b.count))
    return b
}

@Suite("TS mux")
struct MuxTests {
    static let ms = MediaTime.millisecond
    static let start: Int64 = 1_000_000 * MediaTime.millisecond  // 1000 s of uptime

    func config(_ mode: MuxRateMode) -> MuxConfiguration {
        var c = MuxConfiguration(streams: [
            ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x101, codec: .aac),
        ])
        c.mode = mode
        c.serviceName = "Studio 1"
        c.providerName = "Rill"
        return c
    }

    /// Feeds 2 s of 50 fps video (20 KB AUs) and 21.33 ms audio frames in real-time order.
    func run(_ mode: MuxRateMode, seconds: Int64 = 2) -> MuxHarness {
        var h = MuxHarness(config(mode))
        let frame = 20 * Self.ms
        var t = Self.start
        var audioNext = Self.start
        var n: Int64 = 0
        while t < Self.start + seconds * 1000 * Self.ms {
            let au = videoAU(size: 20_000, keyframe: n % 50 == 0)
            _ = au.withUnsafeBytes {
                h.mux.enqueue(
                    stream: 0, payload: $0, ptsNs: t, dtsNs: t, captureNs: t, keyframe: n % 50 == 0,
                    discontinuity: false, now: t)
            }
            while audioNext <= t {
                let adts = [UInt8](repeating: 0x11, count: 380)
                _ = adts.withUnsafeBytes {
                    h.mux.enqueue(
                        stream: 1, payload: $0, ptsNs: audioNext, dtsNs: audioNext, captureNs: audioNext,
                        keyframe: true, discontinuity: false, now: t)
                }
                audioNext += 21_333_333
            }
            // Mux in 2 ms steps over the frame period.
            var s = t
            while s < t + frame {
                h.produce(now: s, until: s + 4 * Self.ms)
                s += 2 * Self.ms
            }
            t += frame
            n += 1
        }
        return h
    }

    @Test("VBR: PAT/PMT/SDT, PCR ≤ 40 ms, no CC errors, PTS continuous")
    func vbr() {
        let h = run(.vbr)
        let a = h.analyzer
        #expect(a.syncErrors == 0)
        #expect(a.continuityErrors == 0)
        #expect(a.crcErrors == 0)
        #expect(a.pmtPID == 0x1000)
        #expect(a.pcrPID == 0x100)
        #expect(a.streams.map(\.streamType) == [StreamType.h264, StreamType.aacADTS])
        #expect(a.serviceName == "Studio 1")
        #expect(a.providerName == "Rill")
        #expect(a.pcrs.count > 50)
        #expect(a.maxPCRInterval <= TS.maxPCRInterval, "max PCR interval \(a.maxPCRInterval)")
        #expect(a.maxInterval(ofPackets: a.patPackets) <= TS.recommendedPSIInterval)
        let pts = a.pts[0x100] ?? []
        #expect(pts.count == 100)
        for (x, y) in zip(pts, pts.dropFirst()) { #expect(y - x == 1800) }  // 20 ms at 90 kHz
        #expect(a.randomAccessPoints[0x100] == 2)
    }

    @Test("CBR: constant rate with nulls, PCR exact against byte position")
    func cbr() {
        let rate: Int64 = 12_000_000
        let h = run(.cbr(muxrate: rate))
        let a = h.analyzer
        #expect(a.continuityErrors == 0)
        #expect(a.packetsByPID[PID.null, default: 0] > 0)
        #expect(a.maxPCRInterval <= TS.maxPCRInterval)
        #expect(a.pcrAccuracyError <= TS.pcrAccuracy, "PCR accuracy error \(a.pcrAccuracyError) ns")
        #expect(abs(a.pcrBitrate - Double(rate)) < 1, "PCR bitrate \(a.pcrBitrate)")
        // Every chunk is 7 packets and deadlines advance by exactly 7 packet times (±1 ns rounding).
        #expect(h.chunks.allSatisfy { $0.packetCount == 7 })
        let step = Double(7 * 188 * 8) * 1e9 / Double(rate)
        for (x, y) in zip(h.chunks, h.chunks.dropFirst()) {
            #expect(abs(Double(y.deadline - x.deadline) - step) <= 1.0)
        }
        #expect((a.pts[0x100] ?? []).count >= 98)
    }

    @Test("302M carries the BSSD registration descriptor")
    func s302mRegistration() {
        var c = MuxConfiguration(streams: [
            ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x102, codec: .s302m),
        ])
        c.mode = .vbr
        var h = MuxHarness(c)
        h.produce(now: Self.start, until: Self.start)
        #expect(h.analyzer.streams.last?.registration == "BSSD")
        #expect(h.analyzer.streams.last?.streamType == StreamType.privatePES)
    }

    @Test("steady state allocates nothing per packet")
    func noAllocationGrowth() {
        // Counts this thread's heap allocations (CMallocCounter interposes malloc & co.) while the
        // mux turns 10 s of 50 fps video with an IDR every second and AAC into 8 Mb/s CBR, after a
        // 2 s warm-up in which the queues reach their working size. Inputs are prepared beforehand
        // and the sink only adds up bytes, so every allocation counted is the mux's.
        let mux = TSMux(configuration: config(.cbr(muxrate: 8_000_000)))
        let video = videoAU(size: 20_000, keyframe: false)
        let idr = videoAU(size: 100_000, keyframe: true)
        let audio = [UInt8](repeating: 0x11, count: 380)
        var sinkBytes = 0
        var t = Self.start
        var audioNext = Self.start
        var n: Int64 = 0
        func run(seconds: Int64) {
            // A while loop: `for _ in 0..<n` over Int64 iterates through a generic IndexingIterator,
            // which itself allocates once per turn in a debug build.
            let end = n + seconds * 50
            while n < end {
                let keyframe = n % 50 == 0
                _ = (keyframe ? idr : video).withUnsafeBytes {
                    mux.enqueue(
                        stream: 0, payload: $0, ptsNs: t, dtsNs: t, captureNs: t, keyframe: keyframe,
                        discontinuity: false, now: t)
                }
                while audioNext <= t {
                    _ = audio.withUnsafeBytes {
                        mux.enqueue(
                            stream: 1, payload: $0, ptsNs: audioNext, dtsNs: audioNext, captureNs: audioNext,
                            keyframe: true, discontinuity: false, now: t)
                    }
                    audioNext += 21_333_333
                }
                var s = t
                while s < t + 20 * Self.ms {
                    mux.produce(now: s, until: s + 4 * Self.ms) { chunk, _ in sinkBytes &+= chunk.count }
                    s += 2 * Self.ms
                }
                t += 20 * Self.ms
                n += 1
            }
        }
        run(seconds: 2)
        let packets0 = mux.statistics.packets
        let mallocs0 = rill_malloc_count_thread()
        run(seconds: 10)
        let mallocs = rill_malloc_count_thread() - mallocs0
        let packets = mux.statistics.packets - packets0
        #expect(packets >= 10 * 8_000_000 / (188 * 8) - 100, "\(packets) packets")  // ≈ 53 191 at 8 Mb/s
        #expect(sinkBytes >= Int(packets) * 188)
        #expect(mux.statistics.droppedAccessUnits == 0)
        #expect(mallocs == 0, "\(mallocs) allocations over \(packets) packets in steady state")
        // The counter is live on this thread: one array is one allocation.
        let before = rill_malloc_count_thread()
        let probe = [UInt8](repeating: 1, count: 4096)
        #expect(rill_malloc_count_thread() > before && probe.count == 4096)
    }

    @Test("PES header round-trips PTS and DTS", arguments: [UInt64(0), 1, 0x1_FFFF_FFFF, 123_456_789])
    func pesTimestamps(pts: UInt64) {
        var buf = [UInt8](repeating: 0, count: PESHeader.maxSize)
        let n = buf.withUnsafeMutableBytes {
            PESHeader.write(
                into: $0, streamID: 0xE0, payloadLength: 100, unbounded: true, pts: pts, dts: (pts &+ 7) & 0x1_FFFF_FFFF
            )
        }
        #expect(n == 19)
        buf.withUnsafeBytes {
            #expect(PESHeader.readTimestamp($0, at: 9) == pts)
            #expect(PESHeader.readTimestamp($0, at: 14) == (pts &+ 7) & 0x1_FFFF_FFFF)
        }
    }

    @Test("CRC-32/MPEG-2 check value")
    func crc() {
        #expect(CRC32MPEG2.checksum(Array("123456789".utf8)) == 0x0376_E6E7)
    }
}

@Suite("PSI edge cases")
struct PSIEdgeTests {
    @Test("long and non-ASCII names fit the SDT packet; PSI flags a discontinuity at start")
    func longNames() {
        var c = MuxConfiguration(streams: [ProgramStream(pid: 0x100, codec: .h264)])
        c.serviceName = String(repeating: "Ü", count: 64)
        c.providerName = String(repeating: "p", count: 200)
        var h = MuxHarness(c)
        h.produce(now: MuxTests.start, until: MuxTests.start)
        #expect(h.analyzer.crcErrors == 0)
        #expect(h.analyzer.providerName?.count == 64)
        #expect(h.analyzer.serviceName?.hasPrefix("\u{15}Ü") == true)
        #expect(h.analyzer.discontinuities >= 3)  // PAT, PMT, SDT first packets
    }
}
