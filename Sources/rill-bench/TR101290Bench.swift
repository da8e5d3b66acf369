import CMallocCounter
import MPEGTS
import MediaTime

/// `rill-bench tr101290`: the TR 101 290 analyzer's cost on a 20 Mb/s CBR stream from the native
/// mux (18 Mb/s of 50 fps video, 128 kb/s AAC, null packets to the rate): thread CPU ns per packet,
/// the share of one core that is at 20 Mb/s, and heap allocations per packet in steady state, with
/// arrival timing (network input, 7-packet datagrams) and stream timing (a file).
func benchTR101290(seconds: Int64) {
    let muxrate: Int64 = 20_000_000
    var c = MuxConfiguration(streams: [ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x101, codec: .aac)])
    c.mode = .cbr(muxrate: muxrate)
    let mux = TSMux(configuration: c)
    let ms = MediaTime.millisecond
    var chunks: [[UInt8]] = []
    var deadlines: [Int64] = []
    let video = [UInt8](repeating: 0x41, count: 45_000)
    let audio = [UInt8](repeating: 0x21, count: 342)
    var t: Int64 = 1_000 * MediaTime.nanosecondsPerSecond
    var audioNext = t
    for n in 0..<(seconds * 50) {
        _ = video.withUnsafeBytes {
            mux.enqueue(
                stream: 0, payload: $0, ptsNs: t, dtsNs: t, captureNs: t, keyframe: n % 50 == 0, discontinuity: false,
                now: t)
        }
        while audioNext <= t {
            _ = audio.withUnsafeBytes {
                mux.enqueue(
                    stream: 1, payload: $0, ptsNs: audioNext, dtsNs: audioNext, captureNs: audioNext, keyframe: true,
                    discontinuity: false, now: t)
            }
            audioNext += 21_333_333
        }
        var s = t
        while s < t + 20 * ms {
            mux.produce(now: s, until: s + 4 * ms) { chunk, info in
                chunks.append(Array(chunk))
                deadlines.append(info.deadline)
            }
            s += 2 * ms
        }
        t += 20 * ms
    }
    let warm = chunks.count / 10
    for arrival in [true, false] {
        var a = TR101290Analyzer()
        for k in 0..<warm { chunks[k].withUnsafeBytes { a.feed($0, arrivalNs: arrival ? deadlines[k] : nil) } }
        let packets0 = a.packets
        let mallocs0 = rill_malloc_count_thread()
        let cpu0 = threadCPUNow()
        for k in warm..<chunks.count {
            chunks[k].withUnsafeBytes { a.feed($0, arrivalNs: arrival ? deadlines[k] : nil) }
        }
        let cpu = threadCPUNow() - cpu0
        let mallocs = rill_malloc_count_thread() - mallocs0
        let packets = a.packets - packets0
        let perPacket = Double(cpu) / Double(packets)
        let packetsPerSecond = Double(muxrate) / Double(TS.packetSize * 8)
        var errors: Int64 = 0
        for i in TR101290Analyzer.Indicator.allCases { errors += a.status(i).count }
        print(
            "tr101290 \(arrival ? "arrival timing" : "stream timing"): \(packets) packets of 20 Mb/s CBR, \(fixed(perPacket, 1)) ns/packet, \(fixed(perPacket * packetsPerSecond / 1e7, 3)) % of one core at 20 Mb/s, \(mallocs) allocations in steady state (\(fixed(Double(mallocs) / Double(packets), 4)) per packet), \(errors) TR 101 290 errors"
        )
    }
}
