import CRIST
import CRillShims
import Config
import FrameRing
import MediaTime
import Runtime

import struct MPEGTS.ContinuityCounter
import struct MPEGTS.TSResume

#if canImport(Glibc)
import Glibc
#endif

/// A `rist://` output through librist: the TS ring's chunks written at their deadlines to a RIST
/// sender (Simple or Main profile, caller or listener), which retransmits what the receiver
/// NACKs within its buffer. Statistics (RTT, retransmitted, sent) go to the output's stats file.
public final class RISTOutput {
    let output: OutputSection
    let instance: String
    let statsPath: String?
    let log: Log
    public private(set) var statistics = OutputStatistics()

    public init(output: OutputSection, instance: String, statsPath: String?) {
        self.output = output
        self.instance = instance
        self.statsPath = statsPath
        log = Log(stage: "send-\(output.id)")
    }

    public func run() throws {
        let settings = try RISTSettings.parse(output.urlText, path: "outputs.\(output.id).url")
        let link = try RISTContext(.sender, settings: settings, log: log)
        try link.start()
        log.info(
            "RIST \(settings.profile.rawValue) profile \(settings.listener ? "listening on" : "to") \(settings.libristURL)"
        )
        guard
            let reader = try RingReader.waitingOpen(
                name: SharedRing.name(instance: instance, track: Track.transportStream), start: .next, log: log)
        else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        var statsFile = StatisticsFile(path: statsPath, id: output.id)
        // Resumes at the next PAT and video keyframe, each PID's first packet flagged discontinuous.
        var resume = TSResume()
        while !StopRequest.isRequested {
            switch reader.next(into: buffer, timeout: 100 * MediaTime.millisecond) {
            case .record(let info):
                guard resume.process(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<info.length])) else { break }
                _ = rill_sleep_until(info.pts, nil)
                var block = rist_data_block()
                block.payload = UnsafeRawPointer(buffer.baseAddress!)
                block.payload_len = info.length
                let n = rist_sender_data_write(link.ctx, &block)
                if n < 0 {
                    statistics.sendErrors &+= 1
                } else {
                    statistics.datagrams &+= 1
                    statistics.packets &+= UInt64(info.length / 188)
                    statistics.bytes &+= UInt64(info.length)
                    let now = MonotonicClock.now()
                    statistics.pacing.record(now - info.pts)
                    if info.captureTime > 0 { statistics.latency.record(now - info.captureTime) }
                }
            case .lost(let n):
                statistics.lostChunks &+= n
                resume.restart()
            case .writerRestarted:
                resume.restart()
            case .writerGone, .timeout:
                break
            }
            statsFile.write(statistics, state: "running", extra: "\"rist\":{\(link.statusExtra())}")
        }
    }
}

/// A gateway `rist://` input through librist: whatever TS the peer sends goes into the TS ring,
/// its continuity counters checked as the other gateway inputs check them.
public final class RISTInput {
    let url: String
    let instance: String
    let log = Log(stage: "recv")
    public var statistics = StageStatistics(path: nil)
    /// TS continuity_counter errors in what went into the ring (ISO/IEC 13818-1 §2.4.3.3).
    public private(set) var ccErrors: UInt64 = 0
    private var continuity = ContinuityCounter()

    public init(urlText: String, instance: String) {
        self.url = urlText
        self.instance = instance
    }

    public func run() throws {
        let settings = try RISTSettings.parse(url, path: "source.url")
        let writer = try RingWriter(
            name: SharedRing.name(instance: instance, track: Track.transportStream), kind: .transportStream,
            slotCount: Track.tsSlots, slotBytes: Track.tsSlotBytes)
        writer.setFormat(TrackFormat(codec: .mpegts))
        let link = try RISTContext(.receiver, settings: settings, log: log)
        try link.start()
        log.info(
            "RIST \(settings.profile.rawValue) profile input \(settings.listener ? "listening on" : "from") \(settings.libristURL), buffer \(settings.bufferMs) ms"
        )
        var discontinuity = true
        while !StopRequest.isRequested {
            var block: UnsafeMutablePointer<rist_data_block>? = nil
            let n = rist_receiver_data_read2(link.ctx, &block, 100)
            if n > 0, let b = block {
                let length = b.pointee.payload_len / 188 * 188
                if length > 0, length <= Int(Track.tsSlotBytes), let payload = b.pointee.payload {
                    let now = MonotonicClock.now()
                    let bytes = UnsafeRawBufferPointer(start: payload, count: length)
                    ccErrors &+= UInt64(continuity.check(packets: bytes))
                    _ = try? writer.publish(
                        RecordInfo(
                            flags: discontinuity ? .discontinuity : [], pts: now, captureTime: now,
                            aux0: UInt32(length / 188)),
                        bytes: bytes)
                    discontinuity = false
                    statistics.count(bytes: length)
                }
                rist_receiver_data_block_free2(&block)
            }
            writer.beat()
            statistics.tick(
                extra: "\"type\":\"gateway\",\"url\":\"rist\",\"ccErrors\":\(ccErrors),\(link.statusExtra())")
        }
    }
}
