import ArgumentParser
import FrameRing
import MediaTime
import Runtime

#if canImport(Glibc)
import Glibc
#endif

/// `rill ring write|read`: a standalone writer and reader of a ring, for diagnostics, the
/// multi-process ring tests and the wake-latency benchmark. Each event is one JSON line.
struct RingWrite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write", abstract: "Write numbered test records into a ring.")

    @Option(name: .long, help: "shm name, e.g. /rill.test.x") var name: String
    @Option(name: .long, help: "Records to write (0 = until stopped).") var records: Int64 = 0
    @Option(name: .long, help: "Records per second (0 = as fast as possible).") var rate: Double = 1000
    @Option(name: .long, help: "Payload bytes per record.") var bytes: Int = 64
    @Option(name: .long, help: "Slots.") var slots: UInt32 = 64
    @Option(name: .long, help: "Start numbering at.") var first: Int64 = 0

    func run() throws {
        StopRequest.install()
        let w = try RingWriter(name: name, kind: .rawVideo, slotCount: slots, slotBytes: UInt32(max(bytes, 16)))
        print("{\"event\":\"ready\",\"pid\":\(getpid()),\"generation\":\(w.ring.generation)}")
        fflushStdout()
        // A frame's worth of source data, copied into every slot as a capture daemon would.
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 16), alignment: 64)
        defer { source.deallocate() }
        for k in 0..<source.count { source[k] = UInt8(truncatingIfNeeded: k) }
        let start = MonotonicClock.now()
        var i: Int64 = 0
        while !StopRequest.isRequested && (records == 0 || i < records) {
            if rate > 0 { MonotonicClock.sleep(until: start + Int64(Double(i) * 1e9 / rate)) }
            let now = MonotonicClock.now()
            // Payload: the record number then the send time, so readers can check order and wake latency.
            try w.publish(RecordInfo(pts: now, captureTime: now)) { out in
                if bytes > 16 {
                    (out.baseAddress! + 16).copyMemory(from: source.baseAddress! + 16, byteCount: bytes - 16)
                }
                out.storeBytes(of: first + i, toByteOffset: 0, as: Int64.self)
                out.storeBytes(of: now, toByteOffset: 8, as: Int64.self)
                return bytes
            }
            i += 1
        }
        let elapsed = MonotonicClock.now() - start
        print("{\"event\":\"done\",\"written\":\(i),\"elapsedNs\":\(elapsed)}")
    }
}

struct RingRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read", abstract: "Read a ring and print each event as JSON.")

    @Option(name: .long, help: "shm name") var name: String
    @Option(name: .long, help: "Stop after this many records (0 = until stopped).") var records: Int64 = 0
    @Option(name: .long, help: "Sleep this many ms per record (a slow reader).") var slowMs: Int = 0
    @Option(name: .long, help: "Print only a summary, not every record.") var quiet = false
    @Option(name: .long, help: "Give up after this many seconds.") var seconds: Double = 30
    @Option(name: .long, help: "Start at the oldest record still in the ring, or the next one published.")
    var start: String = "oldest"
    @Option(
        name: .long,
        help: "Write every record's payload to this file (a coded ring's elementary stream, a raw ring's frames).")
    var payloadTo: String?

    func run() throws {
        StopRequest.install()
        var sink: UnsafeMutablePointer<FILE>? = nil
        if let path = payloadTo {
            guard let f = fopen(path, "w") else {
                print("{\"event\":\"error\",\"message\":\"\(path): \(String(cString: strerror(errno)))\"}")
                throw ExitCode(3)
            }
            sink = f
        }
        defer { if let f = sink { fclose(f) } }  // error paths only: the normal end checks fclose below
        let reader: RingReader
        do {
            reader = try RingReader(name: name, start: start == "next" ? .next : .oldest)
        } catch {
            print("{\"event\":\"error\",\"message\":\"\(error)\"}")
            throw ExitCode(3)
        }
        print("{\"event\":\"ready\",\"pid\":\(getpid())}")
        fflushStdout()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 16)
        defer { buffer.deallocate() }
        let end = MonotonicClock.now() + Int64(seconds * 1e9)
        var got: Int64 = 0
        var lost: UInt64 = 0
        var outOfOrder = 0
        var last: Int64? = nil
        var first: Int64? = nil
        var wake = LatencyHistogram()
        var lastRecordAt = MonotonicClock.now()
        var firstRecordAt: Int64 = 0
        var bytes: Int64 = 0
        while !StopRequest.isRequested && (records == 0 || got < records) && MonotonicClock.now() < end {
            switch reader.next(into: buffer, timeout: 50 * MediaTime.millisecond) {
            case .record(let info):
                let now = MonotonicClock.now()
                let n = buffer.load(fromByteOffset: 0, as: Int64.self)
                let sent = buffer.load(fromByteOffset: 8, as: Int64.self)
                // Any bytes may stand there (a coded or raw ring): wrapping arithmetic, never a trap.
                if let l = last, n != l &+ 1, lost == 0 { outOfOrder += 1 }
                last = n
                if first == nil {
                    first = n
                    firstRecordAt = now
                }
                bytes += Int64(info.length)
                got += 1
                lastRecordAt = now
                if slowMs == 0 && payloadTo == nil { wake.record(now &- sent) }
                if let f = sink, info.length > 0, fwrite(buffer.baseAddress!, 1, info.length, f) != info.length {
                    print("{\"event\":\"error\",\"message\":\"\(payloadTo ?? ""): short write\"}")
                    throw ExitCode(3)
                }
                if !quiet {
                    // n and the wake latency mean something only for `rill ring write`'s records.
                    print(
                        "{\"event\":\"record\",\"n\":\(n),\"index\":\(info.index),\"length\":\(info.length),\"pts\":\(info.pts),\"keyframe\":\(info.flags.contains(.keyframe)),\"width\":\(info.width),\"height\":\(info.height)}"
                    )
                }
                if slowMs > 0 { MonotonicClock.sleep(until: now + Int64(slowMs) * MediaTime.millisecond) }
            case .lost(let n):
                lost += n
                print("{\"event\":\"lost\",\"count\":\(n)}")
            case .writerGone:
                let ms = (MonotonicClock.now() - lastRecordAt) / MediaTime.millisecond
                print("{\"event\":\"writerGone\",\"msSinceLastRecord\":\(ms)}")
            case .writerRestarted(let g):
                print("{\"event\":\"writerRestarted\",\"generation\":\(g)}")
                last = nil
            case .timeout:
                break
            }
            fflushStdout()
        }
        if let f = sink {
            sink = nil
            guard fclose(f) == 0 else {
                print("{\"event\":\"error\",\"message\":\"\(payloadTo ?? ""): \(String(cString: strerror(errno)))\"}")
                throw ExitCode(3)
            }
        }
        print(
            "{\"event\":\"summary\",\"first\":\(first ?? -1),\"records\":\(got),\"lost\":\(lost),\"outOfOrder\":\(outOfOrder),\"wakeP50Ns\":\(wake.quantile(0.5)),\"wakeP99Ns\":\(wake.quantile(0.99)),\"wakeMaxNs\":\(wake.max),\"bytes\":\(bytes),\"elapsedNs\":\(lastRecordAt - firstRecordAt)}"
        )
    }
}

func fflushStdout() { fflush(nil) }
