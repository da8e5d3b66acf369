// rill-bench: in-process benchmarks whose figures go into the README's performance table.
// `rill-bench mux` — ns and heap allocations per TS packet of the native mux in steady state.
// `rill-bench tr101290` — the TR 101 290 analyzer's ns per packet, core share at 20 Mb/s, allocations.
// Cross-process figures (ring wake latency, chain latency, pacing, FFmpeg side by side) come from
// Tests/bench/*.sh, which drive the release `rill` binary.
import CMallocCounter
import MPEGTS
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

func benchMux(mode: MuxRateMode, label: String, seconds: Int64) {
    var c = MuxConfiguration(streams: [ProgramStream(pid: 0x100, codec: .h264), ProgramStream(pid: 0x101, codec: .aac)])
    c.mode = mode
    let mux = TSMux(configuration: c)
    // 4 Mb/s of 50 fps video (10 kB AUs, 100 kB IDR every second) and 128 kb/s AAC.
    let video = [UInt8](repeating: 0x41, count: 10_000)
    let idr = [UInt8](repeating: 0x65, count: 100_000)
    let audio = [UInt8](repeating: 0x21, count: 342)
    var sinkBytes = 0
    func run(_ frames: Int64) {
        var t: Int64 = 1_000 * MediaTime.nanosecondsPerSecond
        var audioNext = t
        for n in 0..<frames {
            let au = n % 50 == 0 ? idr : video
            _ = au.withUnsafeBytes {
                mux.enqueue(
                    stream: 0, payload: $0, ptsNs: t, dtsNs: t, captureNs: t, keyframe: n % 50 == 0,
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
            while s < t + 20 * MediaTime.millisecond {
                mux.produce(now: s, until: s + 4 * MediaTime.millisecond) { chunk, _ in sinkBytes &+= chunk.count }
                s += 2 * MediaTime.millisecond
            }
            t += 20 * MediaTime.millisecond
        }
    }
    run(100)  // warm up: queues reach their working size
    let packets0 = mux.statistics.packets
    let mallocs0 = rill_malloc_count()
    let start = MonotonicClock.now()
    run(seconds * 50)
    let elapsed = MonotonicClock.now() - start
    let packets = mux.statistics.packets - packets0
    let mallocs = rill_malloc_count() - mallocs0
    let perPacket = Double(elapsed) / Double(packets)
    print(
        "mux \(label): \(packets) packets of \(seconds) s of 4 Mb/s + 128 kb/s, \(fixed(perPacket, 1)) ns/packet, \(mallocs) allocations in steady state (\(fixed(Double(mallocs) / Double(packets), 4)) per packet)"
    )
}

/// `v` with `digits` decimals (no Foundation here).
func fixed(_ v: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (v * scale).rounded() / scale
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}

/// The calling thread's CPU time, ns (CLOCK_THREAD_CPUTIME_ID): what a bench's work cost.
func threadCPUNow() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Int64(t.tv_sec) * MediaTime.nanosecondsPerSecond + Int64(t.tv_nsec)
}

let args = CommandLine.arguments.dropFirst()
switch args.first {
case "mux":
    benchMux(mode: .vbr, label: "VBR", seconds: 60)
    benchMux(mode: .cbr(muxrate: 6_000_000), label: "CBR 6 Mb/s", seconds: 60)
    // The interposer is live: the process as a whole did allocate (set-up, warm-up, printing).
    print("allocations in the whole process (interposer check): \(rill_malloc_count())")
case "tr101290":
    benchTR101290(seconds: 60)
case "capture":
    benchCapture(frames: 300)
case "rtpfec":
    let a = Array(args.dropFirst())
    benchRTPFEC(
        path: a.first ?? "", columns: a.count > 1 ? Int(a[1]) ?? 10 : 10, rows: a.count > 2 ? Int(a[2]) ?? 10 : 10)
case "fecrate":
    benchFECRecovery()
case "levels":
    benchLevels(channels: 2, seconds: 600)
    benchLevels(channels: 8, seconds: 600)
    benchThumbnail(pictures: 200)
default:
    print("usage: rill-bench mux | tr101290 | capture | rtpfec FILE [L D] | fecrate | levels")
}
