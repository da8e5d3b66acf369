import Capture
import FrameRing
import MediaTime
import Runtime
import V4L2

#if canImport(Glibc)
import Glibc
#endif

/// vcap's per-frame work for one 1080p30 YUYV stream, without a device: the kernel buffer (here a
/// YUYV frame in memory) converted by libv4lconvert straight into a ring slot and published, the
/// one copy vcap makes. Reports CPU time per frame and the share of one core at 30 frames/s.
func benchCapture(frames: Int) {
    let (w, h) = (1920, 1080)
    var yuyv = [UInt8](repeating: 0, count: w * h * 2)
    for i in stride(from: 0, to: yuyv.count, by: 4) {  // a ramp, so the conversion has work to do
        yuyv[i] = UInt8(truncatingIfNeeded: i >> 4)
        yuyv[i + 1] = 0x60
        yuyv[i + 2] = UInt8(truncatingIfNeeded: i >> 5)
        yuyv[i + 3] = 0xA0
    }
    let converter = FrameConverter(fourcc: .yuyv, width: w, height: h, bytesPerLine: w * 2, fd: -1)
    let name = "rill.bench-capture-\(getpid())"
    guard
        let writer = try? RingWriter(name: name, kind: .rawVideo, slotCount: 8, slotBytes: UInt32(converter.frameBytes))
    else {
        print("capture: cannot create the ring")
        return
    }
    defer { SharedRing.unlink(name: name) }
    var perFrame: [Int64] = []
    perFrame.reserveCapacity(frames)
    var failed = 0
    yuyv.withUnsafeBytes { src in
        for i in 0..<(frames + 10) {
            let start = threadCPUNow()
            _ = writer.publish(
                RecordInfo(pts: Int64(i), captureTime: MonotonicClock.now(), width: UInt32(w), height: UInt32(h)),
                log: Log(stage: "bench")
            ) { slot in
                guard let n = converter.convert(src, into: slot) else {
                    failed += 1
                    return 0
                }
                return n
            }
            if i >= 10 { perFrame.append(threadCPUNow() - start) }  // the first frames warm caches up
        }
    }
    perFrame.sort()
    let mean = Double(perFrame.reduce(0, +)) / Double(perFrame.count)
    let p99 = perFrame[perFrame.count * 99 / 100]
    print(
        "capture 1920x1080 YUYV → I420 ring slot (libv4lconvert, 1 copy): CPU \(fixed(mean / 1e6, 2)) ms/frame mean, "
            + "p99 \(fixed(Double(p99) / 1e6, 2)) ms; at 30 frames/s \(fixed(mean * 30 / 1e7, 1)) % of one core"
            + (failed > 0 ? "; \(failed) conversions FAILED" : ""))
}
