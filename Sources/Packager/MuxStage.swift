import Config
import FrameRing
import MPEGTS
import MediaTime
import Runtime

/// The mux stage: coded video and audio rings → native TS mux → TS ring of 7-packet chunks with
/// send deadlines (DESIGN.md: mux once, send many). One reader thread per input ring hands access
/// units to the mux thread, which also runs the CBR/PCR/PSI clock.
public final class MuxStage: @unchecked Sendable {
    // Invariant: `pending` is only touched under `bell`'s lock; everything else belongs to the mux thread.
    struct Pending {
        var stream: Int
        var bytes: [UInt8]
        var info: RecordInfo
    }

    let config: RillConfig
    let instance: String
    let log = Log(stage: "mux")
    let bell = Doorbell()
    var pending: [Pending] = []
    /// How far ahead of its send time a CBR packet is muxed: covers the mux thread's wake-up jitter.
    static let cbrLead: Int64 = 4 * MediaTime.millisecond
    /// CBR batch period: the mux wakes this often and muxes what is due.
    static let cbrTick: Int64 = 2 * MediaTime.millisecond

    /// Counters for the box's status (frames = TS packets).
    public var statistics = StageStatistics(path: nil)

    /// A mux stage for `config`'s program, on the rings of `instance`.
    public init(config: RillConfig, instance: String) {
        self.config = config
        self.instance = instance
    }

    /// The mux configuration for `config`.
    public static func muxConfiguration(_ config: RillConfig) -> MuxConfiguration {
        let audioCodec: TSCodec = TSCodec(rawValue: config.encoders.audio.codec) ?? .aac
        var m = MuxConfiguration(streams: [
            ProgramStream(pid: UInt16(config.program.videoPID), codec: .h264),
            ProgramStream(pid: UInt16(config.program.audioPID), codec: audioCodec),
        ])
        m.transportStreamID = UInt16(config.program.transportStreamID)
        m.programNumber = UInt16(config.program.programNumber)
        m.pmtPID = UInt16(config.program.pmtPID)
        m.serviceName = config.program.serviceName
        m.providerName = config.program.providerName
        m.pcrInterval = config.program.pcrInterval * MediaTime.millisecond
        m.psiInterval = config.program.psiInterval * MediaTime.millisecond
        m.delay = config.muxDelay
        if config.program.mode == "cbr", let rate = config.program.muxrate { m.mode = .cbr(muxrate: rate) }
        return m
    }

    /// Muxes on the calling thread until a stop is requested (StopRequest), with one reader thread
    /// per coded ring; throws when the TS ring cannot be created.
    public func run() throws {
        RealtimePriority.apply(RealtimePriority.mux, log: log)
        let muxConfig = Self.muxConfiguration(config)
        let mux = TSMux(configuration: muxConfig)
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.transportStream), kind: .transportStream,
            slotCount: Track.tsSlots, slotBytes: Track.tsSlotBytes)
        writer.setFormat(TrackFormat(codec: .mpegts, bitrate: UInt32(config.program.muxrate ?? 0)))
        log.info(
            "\(config.program.mode.uppercased()) \(config.program.muxrate.map { "\($0) b/s " } ?? "")delay \(muxConfig.delay / MediaTime.millisecond) ms, PCR every \(config.program.pcrInterval) ms on PID \(muxConfig.pcrPID)"
        )

        let readers = [(0, Track.codedVideo), (1, Track.codedAudio)].map { stream, track in
            StageThread(name: "mux-\(track)") { [self] in self.readLoop(stream: stream, track: track) }
        }

        let cbr = muxConfig.mode != .vbr
        var batch: [Pending] = []
        var lastReport = MonotonicClock.now()
        while !StopRequest.isRequested {
            batch.removeAll(keepingCapacity: true)
            bell.withLock { swap(&batch, &pending) }
            let now = MonotonicClock.now()
            for p in batch {
                // A unit the mux cannot queue is counted in its statistics (droppedAccessUnits).
                _ = p.bytes.withUnsafeBytes {
                    mux.enqueue(
                        stream: p.stream, payload: $0, ptsNs: p.info.pts, dtsNs: p.info.dts,
                        captureNs: p.info.captureTime,
                        readyNs: p.info.stageTime, keyframe: p.info.flags.contains(.keyframe),
                        discontinuity: p.info.flags.contains(.discontinuity),
                        now: now)
                }
            }
            mux.produce(now: now, until: now + (cbr ? Self.cbrLead : 0)) { chunk, info in
                writer.publish(
                    RecordInfo(
                        length: chunk.count, pts: info.deadline, captureTime: info.captureTime,
                        aux0: UInt32(info.packetCount), stageTime: info.readyTime), log: log
                ) { out in
                    out.baseAddress!.copyMemory(from: chunk.baseAddress!, byteCount: chunk.count)
                    return chunk.count
                }
            }
            writer.beat()
            let s = mux.statistics
            statistics.frames = s.packets
            statistics.bytes = s.packets &* 188
            statistics.dropped = s.droppedAccessUnits
            statistics.tick(
                extra:
                    "\"mode\":\"\(cbr ? "cbr" : "vbr")\",\"muxrate\":\(self.config.program.muxrate ?? 0),\"nullPackets\":\(s.nullPackets),"
                    + "\"pcrIntervalMs\":\(self.config.program.pcrInterval),\"lateAccessUnits\":\(s.lateAccessUnits)")
            if now - lastReport >= 10 * MediaTime.nanosecondsPerSecond {
                let s = mux.statistics
                log.info(
                    "packets \(s.packets) null \(s.nullPackets) pcr \(s.pcrs) late AUs \(s.lateAccessUnits) dropped AUs \(s.droppedAccessUnits)"
                )
                lastReport = now
            }
            let next = cbr ? now + Self.cbrTick : min(max(mux.nextWakeup, now), now + 100 * MediaTime.millisecond)
            bell.wait(until: next)
        }
        for r in readers { r.join() }
    }

    private func readLoop(stream: Int, track: String) {
        let name = SharedRing.name(instance: instance, track: track)
        RealtimePriority.apply(RealtimePriority.mux, log: nil)  // the mux thread already logged a refusal
        let opened: RingReader?
        do { opened = try RingReader.waitingOpen(name: name, start: .next, log: log) } catch {
            // Without this stream the programme is broken: stop, and the supervisor restarts the mux.
            log.error("\(error)")
            StopRequest.request()
            return
        }
        guard let reader = opened else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 16)
        defer { buffer.deallocate() }
        var restarted = false
        var refused: RingCodec? = nil
        // The video ring's codec, read (a seqlock read that copies the format) once per encoder
        // process: the encoder sets it before its first unit, so .none means "read it again".
        var codec = RingCodec.none
        while !StopRequest.isRequested {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(var info):
                // The PMT declares H.264 video: units of another codec (vicodec's FWHT test codec)
                // are dropped, never sent under a stream_type that misdescribes them.
                if stream == 0 && codec == .none { codec = reader.ring.format.codec }
                if stream == 0 && codec != .h264 && codec != .none {
                    if refused != codec {
                        log.error("\(track): \(codec) cannot be carried as the programme's H.264 video; dropped")
                    }
                    refused = codec
                    restarted = true
                    continue
                }
                refused = nil
                if restarted {
                    info.flags.insert(.discontinuity)
                    restarted = false
                }
                let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<info.length]))
                bell.withLock { pending.append(Pending(stream: stream, bytes: bytes, info: info)) }
                bell.ring()
            case .lost(let n):
                log.warning("\(track): \(n) access units lost (mux fell behind)")
                restarted = true
            case .writerGone:
                log.warning("\(track): encoder stopped")
            case .writerRestarted(let g):
                log.notice("\(track): encoder restarted (generation \(g)), next unit flagged discontinuous")
                restarted = true
                codec = .none  // a new encoder process: its codec is read at its first unit
            case .timeout:
                break
            }
        }
    }
}
