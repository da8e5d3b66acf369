import FrameRing
import MPEGTS
import MediaTime
import Runtime

extension ThumbnailSource {
    /// How long a gateway's program request reads new chunks at most once the ring's backlog is read.
    static let tsPoll: Int64 = 100 * MediaTime.millisecond

    /// A gateway's program picture: the newest keyframe of the first video stream in the TS ring
    /// `ring` (what the `recv` stage received), or of the TS arriving within `keyframeWait`, decoded;
    /// the last one found before when there is none (its capture time tells how old it is). The
    /// capture time is the arrival time of the chunk its PES started in.
    func makeProgram(fromTS ring: String, width: Int) throws(Unavailable) -> Picture {
        let reader: RingReader
        do { reader = try RingReader(name: ring, start: .oldest) } catch {
            throw Unavailable(description: "no received TS: \(error) (the gateway input has not started)")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(reader.ring.slotBytes), alignment: 64)
        defer { buffer.deallocate() }
        var finder = TSKeyframeFinder()
        /// One ring event into the finder; false when the ring has nothing more now (or its writer is gone).
        func read(timeout: Int64) -> Bool {
            switch reader.next(into: buffer, timeout: timeout) {
            case .record(let info):
                // The length is the writer's, bounded by the slot we read into.
                let n = min(Int(info.length), buffer.count)
                finder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), arrival: info.captureTime)
                return true
            case .lost, .writerRestarted:
                finder.discontinuity()
                return true
            case .timeout, .writerGone:
                return false
            }
        }
        // Everything the ring holds (no waiting once caught up), keeping the newest keyframe…
        while read(timeout: 0) {}
        // …or the next one to come, unless the PMT says there is no video to wait for.
        let end = MonotonicClock.now() + Self.keyframeWait
        while finder.newest == nil, Self.mayWait(finder.video), MonotonicClock.now() < end {
            _ = read(timeout: Self.tsPoll)
        }
        if let reason = Self.noVideo(finder.video) {
            lastTSKeyframe.withLock { $0 = nil }
            throw Unavailable(description: "\(ring): \(reason)")
        }
        if let k = finder.newest { lastTSKeyframe.withLock { $0 = k } }
        guard let key = lastTSKeyframe.withLock({ $0 }) else {
            let waited = "\(Self.keyframeWait / MediaTime.millisecond) ms"
            if case .unknown = finder.video {
                throw Unavailable(description: "\(ring): no PAT/PMT in the received TS within \(waited)")
            }
            throw Unavailable(description: "\(ring): no keyframe in the received video within \(waited)")
        }
        return try Self.picture(
            decoding: key.bytes, hevc: key.streamType == StreamType.hevc, width: width, captureTime: key.arrival,
            ring: ring)
    }

    /// Whether a keyframe may still come: the PMT is not known yet or names decodable video.
    static func mayWait(_ video: TSKeyframeFinder.Video) -> Bool {
        switch video {
        case .unknown, .stream: true
        case .none, .unsupported: false
        }
    }

    /// Why the PMT's video cannot give a picture (503 reason), nil when it can.
    static func noVideo(_ video: TSKeyframeFinder.Video) -> String? {
        switch video {
        case .unknown, .stream:
            return nil
        case .none(let types):
            let list = types.isEmpty ? "none" : types.map(hex).joined(separator: ", ")
            return "no video stream in the received TS (PMT stream types: \(list))"
        case .unsupported(let type, let pid):
            return "the received video (PID \(pid), stream type \(hex(type))) is not decoded here: only H.264 "
                + "(stream type \(hex(StreamType.h264))) and H.265 (\(hex(StreamType.hevc)))"
        }
    }

    /// `0x1B`.
    static func hex(_ v: UInt8) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" + digits : digits)
    }
}
