import Config
import FrameRing
import MediaTime
import Runtime

import struct MPEGTS.TSResume

#if canImport(Glibc)
import Glibc
#endif

/// A `file://` output: the TS ring written to files named from a template, rotated by duration
/// (`split=` seconds) or size (`maxsize=` MB) at the next video random access point, each new file
/// starting with the latest PAT and PMT so it plays from its first byte. A full disk or an
/// unwritable path closes the file (RECORDING_END), logs the reason and retries every 5 s; being
/// its own process, it never stops the other outputs.
public final class FileRecorder {
    let output: OutputSection
    let template: String
    let instance: String
    let serviceName: String
    let statsPath: String?
    let events: (any TransportEventSink)?
    let log: Log
    let splitNs: Int64?
    let maxBytes: Int64?
    /// How often a failed recording tries again.
    static let retryNs: Int64 = 5 * MediaTime.nanosecondsPerSecond
    /// A keyframe this close before the split time starts the next file (chunks are stamped with
    /// their send deadline, a little ahead of or behind the frames they carry).
    static let splitToleranceNs: Int64 = 100 * MediaTime.millisecond
    /// A cut waits at most this long for a random access point (audio-only or odd streams).
    static let cutGraceNs: Int64 = 10 * MediaTime.nanosecondsPerSecond

    public private(set) var statistics = OutputStatistics()
    private var cuts = TSCutPoints()
    private var fd: Int32 = -1
    private var path = ""
    private var firstPTS: Int64 = 0
    private var lastPTS: Int64 = 0
    private var fileBytes: Int64 = 0
    private var retryAt: Int64 = 0
    /// The cut is due (time or size reached); it happens at the next random access point.
    private var cutDueSince: Int64? = nil

    public init(
        output: OutputSection, instance: String, serviceName: String, statsPath: String?,
        events: (any TransportEventSink)?
    ) {
        self.output = output
        template = output.recordPath ?? "/tmp/rill-$output-$datetime.ts"
        self.instance = instance
        self.serviceName = serviceName
        self.statsPath = statsPath
        self.events = events
        log = Log(stage: "send-\(output.id)")
        splitNs = output.url.option("split").flatMap(Int64.init).map { $0 * MediaTime.nanosecondsPerSecond }
        maxBytes = output.url.option("maxsize").flatMap(Int64.init).map { $0 << 20 }
    }

    public func run() throws {
        guard
            let reader = try RingReader.waitingOpen(
                name: SharedRing.name(instance: instance, track: Track.transportStream), start: .next, log: log)
        else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        var statsFile = StatisticsFile(path: statsPath, id: output.id)
        // After lost chunks or a restarted mux the file goes on at the next PAT and video keyframe,
        // each PID's first packet flagged discontinuous (a new file starts at one anyway).
        var resume = TSResume()
        while !StopRequest.isRequested {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                guard resume.process(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<info.length])) else { break }
                write(UnsafeRawBufferPointer(rebasing: buffer[0..<info.length]), pts: info.pts)
            case .lost(let n):
                statistics.lostChunks &+= n
                log.warning("fell behind: \(n) chunks lost in \(path)")
                resume.restart()
            case .writerRestarted:
                resume.restart()
            case .writerGone, .timeout:
                break
            }
            statsFile.write(statistics, state: fd >= 0 ? "recording" : "waiting", extra: currentFile)
        }
        close(reason: "stopped")
    }

    /// One TS chunk: cut where due, open where needed, write.
    private func write(_ chunk: UnsafeRawBufferPointer, pts: Int64) {
        var start = 0
        var i = 0
        while i + 188 <= chunk.count {
            let packet = UnsafeRawBufferPointer(rebasing: chunk[i..<(i + 188)])
            let randomAccess = cuts.observe(packet)
            // A keyframe that lands on the split time cuts there, not a GOP later.
            if fd >= 0, cutDueSince == nil, randomAccess, let splitNs, pts - firstPTS >= splitNs - Self.splitToleranceNs
            {
                cutDueSince = pts
            }
            if fd >= 0, let since = cutDueSince, randomAccess || pts - since > Self.cutGraceNs || cuts.videoPID == nil {
                append(UnsafeRawBufferPointer(rebasing: chunk[start..<i]), pts: pts)
                start = i
                close(reason: "split")
            }
            if fd < 0 && (randomAccess || cuts.videoPID == nil && cuts.pmt != nil) {
                append(UnsafeRawBufferPointer(rebasing: chunk[start..<i]), pts: pts)  // nothing: no file
                start = i
                open(pts: pts)
            }
            i += 188
        }
        append(UnsafeRawBufferPointer(rebasing: chunk[start...]), pts: pts)
        if fd >= 0, cutDueSince == nil {
            if let splitNs, pts - firstPTS >= splitNs { cutDueSince = pts }
            if let maxBytes, fileBytes >= maxBytes { cutDueSince = pts }
        }
    }

    /// The file being written, for the status (the page's recording card): path, bytes, seconds.
    private var currentFile: String {
        guard fd >= 0 else { return "" }
        var name = ""
        JSON.quoteForStats(path, into: &name)
        let ms = (lastPTS - firstPTS) / MediaTime.millisecond
        return "\"file\":\(name),\"fileBytes\":\(fileBytes),\"fileSeconds\":\(Double(ms) / 1000)"
    }

    private func open(pts: Int64) {
        let now = MonotonicClock.now()
        guard now >= retryAt else { return }
        path = RecordingName.expand(
            template, output: output.id, service: serviceName,
            epochSeconds: MonotonicClock.wallNow() / MediaTime.nanosecondsPerSecond)
        let dir = "/" + path.split(separator: "/").dropLast().joined(separator: "/")
        try? AtomicFile.makeDirectories(dir)
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            fail("cannot open \(path): \(String(cString: strerror(errno)))")
            return
        }
        firstPTS = pts
        lastPTS = pts
        fileBytes = 0
        cutDueSince = nil
        log.notice("recording to \(path)")
        // The new file starts with the program's tables, then the random access point.
        if let pat = cuts.pat { pat.withUnsafeBytes { append($0, pts: pts) } }
        if let pmt = cuts.pmt { pmt.withUnsafeBytes { append($0, pts: pts) } }
    }

    private func append(_ bytes: UnsafeRawBufferPointer, pts: Int64) {
        guard fd >= 0, bytes.count > 0 else { return }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                statistics.sendErrors &+= 1
                close(reason: "write failed: \(reason)")
                fail("writing \(path): \(reason)")
                return
            }
            done += n
        }
        fileBytes += Int64(bytes.count)
        lastPTS = pts
        statistics.bytes &+= UInt64(bytes.count)
        statistics.packets &+= UInt64(bytes.count / 188)
    }

    private func fail(_ message: String) {
        log.error("\(message); retrying in 5 s, other outputs unaffected")
        retryAt = MonotonicClock.now() + Self.retryNs
    }

    /// Closes the current file (fsync first: a recording is worth keeping) and posts RECORDING_END.
    private func close(reason: String) {
        guard fd >= 0 else { return }
        _ = fdatasync(fd)
        _ = Glibc.close(fd)
        fd = -1
        cutDueSince = nil
        let durationMs = Int64((Double(lastPTS - firstPTS) / 1e9 * 1000).rounded())
        let duration = String(Double(durationMs) / 1000)
        log.notice("closed \(path) (\(reason)): \(duration) s, \(fileBytes) bytes")
        events?.recordingEnded(output: output.id, path: path, durationMs: durationMs, bytes: fileBytes)
    }
}
